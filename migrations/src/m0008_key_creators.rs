//! Who may create API keys in each company (Root Users only, office staff, or everyone), and whether creating
//! one needs two-factor authentication.
use sea_orm_migration::prelude::*;

use crate::m0001_tenancy::Companies;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0008_key_creators"
    }
}

#[derive(DeriveIden)]
struct KeyCreators;
#[derive(DeriveIden)]
struct KeysRequireTwoFactor;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut creators = ColumnDef::new(KeyCreators).string_len(16).not_null().default("everyone").to_owned();
        manager.alter_table(Table::alter().table(Companies::Table).add_column(&mut creators).to_owned()).await?;
        let mut two_factor = ColumnDef::new(KeysRequireTwoFactor).boolean().not_null().default(false).to_owned();
        manager.alter_table(Table::alter().table(Companies::Table).add_column(&mut two_factor).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Companies::Table).drop_column(KeysRequireTwoFactor).to_owned()).await?;
        manager.alter_table(Table::alter().table(Companies::Table).drop_column(KeyCreators).to_owned()).await
    }
}
