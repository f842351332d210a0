//! Each user's notification preferences (email, SMS, push), shown on the caregiver portal's settings.
use sea_orm_migration::prelude::*;

use crate::m0001_tenancy::Users;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0004_notification_preferences"
    }
}

/// The new columns of `users`; the names are the columns' names.
#[derive(DeriveIden)]
#[allow(clippy::enum_variant_names)]
enum Preferences {
    NotifyEmail,
    NotifySms,
    NotifyPush,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            ColumnDef::new(Preferences::NotifyEmail).boolean().not_null().default(true).to_owned(),
            ColumnDef::new(Preferences::NotifySms).boolean().not_null().default(false).to_owned(),
            ColumnDef::new(Preferences::NotifyPush).boolean().not_null().default(true).to_owned(),
        ];
        for mut column in columns {
            manager.alter_table(Table::alter().table(Users::Table).add_column(&mut column).to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for column in [Preferences::NotifyPush.into_iden(), Preferences::NotifySms.into_iden(), Preferences::NotifyEmail.into_iden()] {
            manager.alter_table(Table::alter().table(Users::Table).drop_column(column).to_owned()).await?;
        }
        Ok(())
    }
}
