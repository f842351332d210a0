//! IP allowlists per key and rolled keys (the key that replaced a rolled one, and when the old one stops).
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0010_key_allowlists_and_rolls"
    }
}

#[derive(DeriveIden)]
enum ApiKeys {
    Table,
    /// Comma-separated IPs and CIDRs a key may be used from; `NULL` for anywhere.
    AllowedIps,
    /// The Key ID of the key that replaced this one in a roll; the old key's `expires_at` is when it stops.
    RolledTo,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // One column per statement: SQLite's ALTER TABLE adds one column at a time.
        let mut allowed = ColumnDef::new(ApiKeys::AllowedIps).text().null().to_owned();
        manager.alter_table(Table::alter().table(ApiKeys::Table).add_column(&mut allowed).to_owned()).await?;
        let mut rolled_to = ColumnDef::new(ApiKeys::RolledTo).string_len(16).null().to_owned();
        manager.alter_table(Table::alter().table(ApiKeys::Table).add_column(&mut rolled_to).to_owned()).await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(ApiKeys::Table).drop_column(ApiKeys::RolledTo).to_owned()).await?;
        manager.alter_table(Table::alter().table(ApiKeys::Table).drop_column(ApiKeys::AllowedIps).to_owned()).await
    }
}
