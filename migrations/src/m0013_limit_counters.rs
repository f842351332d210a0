//! Counters shared by every server process on PostgreSQL: the guessing bounds and rate limits, and the per-key
//! request budgets' running totals. A row per counted name and fixed window (`window_start`, Unix seconds);
//! `expires_at` lets a periodic sweep drop ended windows. On PostgreSQL the table is `UNLOGGED`: counts are
//! only worth their window, so they skip the write-ahead log (a crash of the database server empties them, which
//! at worst gives back one window's allowance). SQLite deployments are one process and count in memory; the
//! table exists there too so both schemas match.
use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

pub struct Migration;

impl MigrationName for Migration {
    fn name(&self) -> &str {
        "m0013_limit_counters"
    }
}

const COLUMNS: &str = "(name VARCHAR(80) NOT NULL PRIMARY KEY, window_start BIGINT NOT NULL, expires_at BIGINT NOT NULL, hits INTEGER NOT NULL)";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let table = match manager.get_database_backend() {
            DbBackend::Postgres => "CREATE UNLOGGED TABLE limit_counters",
            _ => "CREATE TABLE limit_counters",
        };
        let db = manager.get_connection();
        db.execute_unprepared(&format!("{table} {COLUMNS}")).await?;
        db.execute_unprepared("CREATE INDEX limit_counters_expires_at ON limit_counters (expires_at)").await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager.get_connection().execute_unprepared("DROP TABLE limit_counters").await?;
        Ok(())
    }
}
