//! The real migrations apply on an empty database of each backend, and again without effect.
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{backend_test, spawn_empty_app, Backend};

backend_test!(migrations_apply_on_an_empty_database_and_are_idempotent);
async fn migrations_apply_on_an_empty_database_and_are_idempotent(backend: Backend) {
    let app = spawn_empty_app(backend).await;
    domain::db::migrate(&app.state.db).await.expect("a second run is a no-op");
    let backend = app.state.db.get_database_backend();
    for table in ["companies", "users", "sessions", "patients", "visits", "messages", "open_shifts"] {
        let row = app
            .state
            .db
            .query_one(Statement::from_string(backend, format!("SELECT COUNT(*) AS n FROM {table}")))
            .await
            .unwrap_or_else(|err| panic!("table {table}: {err}"));
        assert!(row.is_some(), "{table} answers");
    }
}

backend_test!(seeding_the_demo_twice_changes_nothing);
async fn seeding_the_demo_twice_changes_nothing(backend: Backend) {
    let app = spawn_empty_app(backend).await;
    assert_eq!(domain::demo::seed(&app.state.db).await.unwrap(), domain::demo::SeedOutcome::Created);
    let count = |db: sea_orm::DatabaseConnection| async move {
        let backend = db.get_database_backend();
        let row = db
            .query_one(Statement::from_string(backend, "SELECT (SELECT COUNT(*) FROM users) + (SELECT COUNT(*) FROM visits) AS n".to_owned()))
            .await
            .unwrap()
            .unwrap();
        row.try_get::<i64>("", "n").unwrap()
    };
    let before = count(app.state.db.clone()).await;
    assert!(before > 40, "the demo has users and visits");
    assert_eq!(domain::demo::seed(&app.state.db).await.unwrap(), domain::demo::SeedOutcome::AlreadyPresent);
    assert_eq!(count(app.state.db.clone()).await, before);
}
