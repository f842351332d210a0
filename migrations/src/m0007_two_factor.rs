//! Two-factor authentication (TOTP): each user's seed, encrypted with the server's secret key, when it was
//! turned on and the last time step used (a code works once); single-use recovery codes, stored as SHA-256;
//! and the sign-in challenges that wait for a code after a right password, stored as the SHA-256 of their
//! cookie's secret.
use sea_orm_migration::prelude::*;

use crate::m0001_tenancy::Users;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0007_two_factor"
    }
}

/// The two-factor columns of `users` (each its own type: clippy refuses an enum whose variants share a prefix).
#[derive(DeriveIden)]
struct TotpSecret;
#[derive(DeriveIden)]
struct TotpEnabledAt;
#[derive(DeriveIden)]
struct TotpLastStep;

#[derive(DeriveIden)]
enum RecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    UsedAt,
}

#[derive(DeriveIden)]
enum SignInChallenges {
    Table,
    Id,
    UserId,
    CreatedAt,
    ExpiresAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE takes a single change at a time.
        let columns = [
            ColumnDef::new(TotpSecret).string_len(400).null().to_owned(),
            ColumnDef::new(TotpEnabledAt).timestamp_with_time_zone().null().to_owned(),
            ColumnDef::new(TotpLastStep).big_integer().null().to_owned(),
        ];
        for mut column in columns {
            manager.alter_table(Table::alter().table(Users::Table).add_column(&mut column).to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(RecoveryCodes::Table)
                    .col(ColumnDef::new(RecoveryCodes::Id).integer().not_null().auto_increment().primary_key())
                    .col(ColumnDef::new(RecoveryCodes::UserId).integer().not_null())
                    .col(ColumnDef::new(RecoveryCodes::CodeHash).string_len(64).not_null())
                    .col(ColumnDef::new(RecoveryCodes::UsedAt).timestamp_with_time_zone().null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(RecoveryCodes::Table, RecoveryCodes::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(Index::create().name("idx_recovery_codes_user").table(RecoveryCodes::Table).col(RecoveryCodes::UserId).to_owned())
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(SignInChallenges::Table)
                    .col(ColumnDef::new(SignInChallenges::Id).string_len(64).not_null().primary_key())
                    .col(ColumnDef::new(SignInChallenges::UserId).integer().not_null())
                    .col(ColumnDef::new(SignInChallenges::CreatedAt).timestamp_with_time_zone().not_null())
                    .col(ColumnDef::new(SignInChallenges::ExpiresAt).timestamp_with_time_zone().not_null())
                    .foreign_key(
                        ForeignKey::create()
                            .from(SignInChallenges::Table, SignInChallenges::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.drop_table(Table::drop().table(SignInChallenges::Table).to_owned()).await?;
        manager.drop_table(Table::drop().table(RecoveryCodes::Table).to_owned()).await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(TotpLastStep).to_owned()).await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(TotpEnabledAt).to_owned()).await?;
        manager.alter_table(Table::alter().table(Users::Table).drop_column(TotpSecret).to_owned()).await
    }
}
