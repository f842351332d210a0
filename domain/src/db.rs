//! Opening the database (SQLite file by default, PostgreSQL by URL) and bringing its schema up to date.
use std::path::{Path, PathBuf};
use std::time::Duration;

use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectOptions, Database, DbBackend, DbErr};

/// The database handles the services pass along: the pool, anything that runs statements (the pool or a
/// transaction), and what can begin a transaction. Entities, rows and queries stay in the `store` modules.
pub use sea_orm::{ConnectionTrait, DatabaseConnection, TransactionTrait};

/// A case-insensitive "contains" pattern for `LOWER(column) LIKE …`: the text lower-cased, with `\`, `%` and `_`
/// escaped so that they match themselves.
pub(crate) fn contains_pattern(text: &str) -> sea_orm::sea_query::LikeExpr {
    let escaped = text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    sea_orm::sea_query::LikeExpr::new(format!("%{escaped}%")).escape('\\')
}

/// The database used when `DATABASE_URL` is unset: a SQLite file under `./data/`, created on first run.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://data/caregate.db?mode=rwc";

/// Opens a connection pool. For SQLite the file's folder is created and the journal switched to WAL, so
/// readers never wait for a writer and a crash mid-write leaves the last committed state.
pub async fn connect(url: &str) -> Result<DatabaseConnection, DbErr> {
    let is_sqlite = url.starts_with("sqlite:");
    if is_sqlite {
        ensure_sqlite_folder(url).map_err(|err| DbErr::Custom(format!("cannot create the database folder: {err}")))?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if is_sqlite { 4 } else { 8 })
        .min_connections(1)
        .connect_timeout(Duration::from_secs(5))
        .acquire_timeout(Duration::from_secs(5))
        // A ping per checkout doubles the round trips of a one-query request. A connection that broke
        // (PostgreSQL restarted) fails its next query, which answers 503, and the pool replaces it.
        .test_before_acquire(false)
        .sqlx_logging(false);
    let db = Database::connect(options).await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;").await?;
    }
    Ok(db)
}

/// Applies every pending migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// A cheap round trip, for `/readyz`.
pub async fn ping(db: &DatabaseConnection) -> Result<(), DbErr> {
    db.ping().await
}

/// The file of a SQLite database URL (`None` for other databases and in-memory SQLite).
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    let path = url.strip_prefix("sqlite:")?.trim_start_matches("//");
    let path = path.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn ensure_sqlite_folder(url: &str) -> std::io::Result<()> {
    match sqlite_file(url).as_deref().and_then(Path::parent) {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent),
        _ => Ok(()),
    }
}
