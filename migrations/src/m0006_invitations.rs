//! Invitations (a one-time link, stored only as its SHA-256, with which an invited person sets their password)
//! and each user's last sign-in.
use sea_orm_migration::prelude::*;

use crate::m0001_tenancy::{Companies, Users};

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0006_invitations"
    }
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    Id,
    TokenHash,
    CompanyId,
    UserId,
    InvitedBy,
    CreatedAt,
    ExpiresAt,
    AcceptedAt,
}

#[derive(DeriveIden)]
enum SignIn {
    LastSignInAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut column = ColumnDef::new(SignIn::LastSignInAt).timestamp_with_time_zone().null().to_owned();
        manager.alter_table(Table::alter().table(Users::Table).add_column(&mut column).to_owned()).await?;
        manager
            .create_table(
                Table::create()
                    .table(Invitations::Table)
                    .col(ColumnDef::new(Invitations::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(Invitations::TokenHash).string_len(64).not_null().unique_key())
                    .col(ColumnDef::new(Invitations::CompanyId).integer().not_null())
                    .col(ColumnDef::new(Invitations::UserId).integer().not_null())
                    .col(ColumnDef::new(Invitations::InvitedBy).integer().null())
                    .col(ColumnDef::new(Invitations::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Invitations::ExpiresAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(Invitations::AcceptedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::CompanyId)
                            .to(Companies::Table, Companies::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitations::Table, Invitations::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager.create_index(Index::create().name("idx_invitations_user").table(Invitations::Table).col(Invitations::UserId).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(Invitations::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(SignIn::LastSignInAt).to_owned()).await
    }
}
