//! Each company's request budget per API key and minute.
use sea_orm_migration::prelude::*;

use crate::m0001_tenancy::Companies;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0005_key_rate_limit"
    }
}

#[derive(DeriveIden)]
enum Budget {
    KeyRequestsPerMinute,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let mut column = ColumnDef::new(Budget::KeyRequestsPerMinute).integer().not_null().default(600).to_owned();
        manager.alter_table(Table::alter().table(Companies::Table).add_column(&mut column).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(Companies::Table).drop_column(Budget::KeyRequestsPerMinute).to_owned()).await
    }
}
