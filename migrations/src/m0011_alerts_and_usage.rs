//! In-app alerts (expiry reminders, leaked keys), the claims that send each expiry reminder once, and per-key
//! usage counters (requests per day, tool calls per tool, the addresses and clients last seen).
use sea_orm_migration::prelude::*;

use crate::m0001_tenancy::{Companies, Users};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0011_alerts_and_usage"
    }
}

#[derive(DeriveIden)]
enum Alerts {
    Table,
    Id,
    CompanyId,
    UserId,
    Kind,
    KeyId,
    Message,
    CreatedAt,
    ReadAt,
}

/// One row per (key, reminder) once some process has taken it on: the primary key is the claim, so two
/// processes sharing the database cannot both send it.
#[derive(DeriveIden)]
enum KeyReminders {
    Table,
    ApiKeyId,
    Kind,
    ClaimedAt,
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    Id,
    KeyId,
}

/// Requests per key and UTC day, added to by the batching writer.
#[derive(DeriveIden)]
enum KeyUsageDays {
    Table,
    KeyId,
    Day,
    Requests,
}

/// MCP tool calls per key and tool.
#[derive(DeriveIden)]
enum KeyUsageTools {
    Table,
    KeyId,
    Tool,
    Calls,
}

/// Each (address, client) a key was used from, and when last.
#[derive(DeriveIden)]
enum KeyUsageSources {
    Table,
    KeyId,
    Ip,
    Client,
    LastSeenAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alerts::Table)
                    .col(ColumnDef::new(Alerts::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Alerts::CompanyId).integer().not_null())
                    .col(ColumnDef::new(Alerts::UserId).integer().not_null())
                    .col(ColumnDef::new(Alerts::Kind).string_len(40).not_null())
                    .col(ColumnDef::new(Alerts::KeyId).string_len(64).null())
                    .col(ColumnDef::new(Alerts::Message).string_len(400).not_null())
                    .col(ColumnDef::new(Alerts::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Alerts::ReadAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Alerts::Table, Alerts::CompanyId)
                            .to(Companies::Table, Companies::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create().from(Alerts::Table, Alerts::UserId).to(Users::Table, Users::Id).on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("idx_alerts_user").table(Alerts::Table).col(Alerts::UserId).col(Alerts::Id).to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(KeyReminders::Table)
                    .col(ColumnDef::new(KeyReminders::ApiKeyId).integer().not_null())
                    .col(ColumnDef::new(KeyReminders::Kind).string_len(40).not_null())
                    .col(ColumnDef::new(KeyReminders::ClaimedAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(KeyReminders::ApiKeyId).col(KeyReminders::Kind))
                    .foreign_key(
                        ForeignKey::create()
                            .from(KeyReminders::Table, KeyReminders::ApiKeyId)
                            .to(ApiKeys::Table, ApiKeys::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        let key_fk = |table: &str| {
            ForeignKey::create()
                .name(format!("fk_{table}_key"))
                .from(Alias::new(table), Alias::new("key_id"))
                .to(ApiKeys::Table, ApiKeys::KeyId)
                .on_delete(ForeignKeyAction::Cascade)
                .to_owned()
        };
        manager
            .create_table(
                Table::create()
                    .table(KeyUsageDays::Table)
                    .col(ColumnDef::new(KeyUsageDays::KeyId).string_len(8).not_null())
                    .col(ColumnDef::new(KeyUsageDays::Day).date().not_null())
                    .col(ColumnDef::new(KeyUsageDays::Requests).big_integer().not_null())
                    .primary_key(Index::create().col(KeyUsageDays::KeyId).col(KeyUsageDays::Day))
                    .foreign_key(&mut key_fk("key_usage_days"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(KeyUsageTools::Table)
                    .col(ColumnDef::new(KeyUsageTools::KeyId).string_len(8).not_null())
                    .col(ColumnDef::new(KeyUsageTools::Tool).string_len(64).not_null())
                    .col(ColumnDef::new(KeyUsageTools::Calls).big_integer().not_null())
                    .primary_key(Index::create().col(KeyUsageTools::KeyId).col(KeyUsageTools::Tool))
                    .foreign_key(&mut key_fk("key_usage_tools"))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(KeyUsageSources::Table)
                    .col(ColumnDef::new(KeyUsageSources::KeyId).string_len(8).not_null())
                    .col(ColumnDef::new(KeyUsageSources::Ip).string_len(64).not_null())
                    .col(ColumnDef::new(KeyUsageSources::Client).string_len(200).not_null())
                    .col(ColumnDef::new(KeyUsageSources::LastSeenAt).timestamp_with_time_zone().not_null())
                    .primary_key(Index::create().col(KeyUsageSources::KeyId).col(KeyUsageSources::Ip).col(KeyUsageSources::Client))
                    .foreign_key(&mut key_fk("key_usage_sources"))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in ["key_usage_sources", "key_usage_tools", "key_usage_days"] {
            manager.drop_table(Table::drop().table(Alias::new(table)).to_owned()).await?;
        }
        manager.drop_table(Table::drop().table(KeyReminders::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(Alerts::Table).to_owned()).await
    }
}
