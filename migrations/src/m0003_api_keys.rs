//! API keys (Key ID in clear, secret as an argon2id hash), each company's key policy, and the activity feed.
use sea_orm_migration::prelude::*;

use crate::m0001_tenancy::{Companies, Users};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0003_api_keys"
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    KeyId,
    CompanyId,
    UserId,
    Label,
    SecretHash,
    Scopes,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    LastUsedAt,
    LastUsedIp,
    LastUsedClient,
}

#[derive(DeriveIden)]
enum ActivityEvents {
    Table,
    Id,
    CompanyId,
    ActorUserId,
    KeyId,
    Action,
    Target,
    Ip,
    UserAgent,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CompanyPolicy {
    KeyLifetimeDays,
    AllowNonExpiringKeys,
    MaxActiveKeysPerUser,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE takes a single change at a time.
        let policy_columns = [
            ColumnDef::new(CompanyPolicy::KeyLifetimeDays).integer().not_null().default(90).to_owned(),
            ColumnDef::new(CompanyPolicy::AllowNonExpiringKeys).boolean().not_null().default(false).to_owned(),
            ColumnDef::new(CompanyPolicy::MaxActiveKeysPerUser).integer().not_null().default(10).to_owned(),
        ];
        for mut column in policy_columns {
            manager.alter_table(Table::alter().table(Companies::Table).add_column(&mut column).to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ApiKeys::Table)
                    .col(ColumnDef::new(ApiKeys::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(ApiKeys::KeyId).string_len(8).not_null().unique_key())
                    .col(ColumnDef::new(ApiKeys::CompanyId).integer().not_null())
                    .col(ColumnDef::new(ApiKeys::UserId).integer().not_null())
                    .col(ColumnDef::new(ApiKeys::Label).string_len(400).not_null())
                    .col(ColumnDef::new(ApiKeys::SecretHash).string_len(255).not_null())
                    .col(ColumnDef::new(ApiKeys::Scopes).string_len(400).not_null())
                    .col(ColumnDef::new(ApiKeys::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(ApiKeys::ExpiresAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ApiKeys::RevokedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ApiKeys::LastUsedAt).timestamp_with_time_zone().null())
                    .col(ColumnDef::new(ApiKeys::LastUsedIp).string_len(64).null())
                    .col(ColumnDef::new(ApiKeys::LastUsedClient).string_len(200).null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiKeys::Table, ApiKeys::CompanyId)
                            .to(Companies::Table, Companies::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create().from(ApiKeys::Table, ApiKeys::UserId).to(Users::Table, Users::Id).on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_api_keys_company_created").table(ApiKeys::Table).col(ApiKeys::CompanyId).col(ApiKeys::CreatedAt).to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create().name("idx_api_keys_user_created").table(ApiKeys::Table).col(ApiKeys::UserId).col(ApiKeys::CreatedAt).to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ActivityEvents::Table)
                    .col(ColumnDef::new(ActivityEvents::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(ActivityEvents::CompanyId).integer().not_null())
                    .col(ColumnDef::new(ActivityEvents::ActorUserId).integer().null())
                    .col(ColumnDef::new(ActivityEvents::KeyId).string_len(8).null())
                    .col(ColumnDef::new(ActivityEvents::Action).string_len(64).not_null())
                    .col(ColumnDef::new(ActivityEvents::Target).string_len(400).not_null())
                    .col(ColumnDef::new(ActivityEvents::Ip).string_len(64).null())
                    .col(ColumnDef::new(ActivityEvents::UserAgent).string_len(400).null())
                    .col(ColumnDef::new(ActivityEvents::CreatedAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(ActivityEvents::Table, ActivityEvents::CompanyId)
                            .to(Companies::Table, Companies::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_activity_company_created")
                    .table(ActivityEvents::Table)
                    .col(ActivityEvents::CompanyId)
                    .col(ActivityEvents::CreatedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("idx_activity_actor_created")
                    .table(ActivityEvents::Table)
                    .col(ActivityEvents::ActorUserId)
                    .col(ActivityEvents::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(ActivityEvents::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(ApiKeys::Table).to_owned()).await?;
        for column in [
            CompanyPolicy::MaxActiveKeysPerUser.into_iden(),
            CompanyPolicy::AllowNonExpiringKeys.into_iden(),
            CompanyPolicy::KeyLifetimeDays.into_iden(),
        ] {
            manager.alter_table(Table::alter().table(Companies::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
