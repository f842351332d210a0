//! `activity_events.repeats`: how many identical events one row stands for. The batching writer stores a burst
//! of the same MCP tool call by the same key from the same address and client, within one batch (at most
//! 100 ms apart), as one row with its count, so a busy AI client costs the feed one row per batch, not one per
//! call. Every earlier row is one event.
use sea_orm_migration::prelude::*;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0014_activity_repeats"
    }
}

#[derive(DeriveIden)]
enum ActivityEvents {
    Table,
    Repeats,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ActivityEvents::Table)
                    .add_column(ColumnDef::new(ActivityEvents::Repeats).integer().not_null().default(1))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.alter_table(Table::alter().table(ActivityEvents::Table).drop_column(ActivityEvents::Repeats).to_owned()).await
    }
}
