//! `/healthz` answers without the database; `/readyz` reports whether the database answers.
use http::StatusCode;

use crate::helpers::spawn_empty_apps;

#[tokio::test(flavor = "multi_thread")]
async fn health_checks_report_the_process_and_the_database() {
    for app in spawn_empty_apps().await {
        assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
        assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);
        app.state.db.clone().close().await.unwrap();
        assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK, "[{}] liveness ignores the database", app.backend);
        let ready = app.get("/readyz", None).await;
        assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE, "[{}]", app.backend);
        assert_eq!(ready.json()["status"], "unavailable");
    }
}
