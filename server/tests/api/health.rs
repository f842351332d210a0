//! `/healthz` answers without the database; `/readyz` reports whether the database answers.
use http::StatusCode;

use crate::helpers::{spawn_apps, spawn_empty_apps};

#[tokio::test(flavor = "multi_thread")]
async fn every_response_carries_the_security_headers() {
    for app in spawn_apps().await {
        let cookie = app.login("root@sunrise.test").await;
        let responses = [
            app.get("/", Some(&cookie)).await,
            app.get("/login", None).await,
            app.get("/patients", None).await,
            app.get("/healthz", None).await,
            app.get("/api/v1/me", None).await,
            app.get("/.well-known/oauth-authorization-server", None).await,
            app.call("session/me", &[], Some(&cookie)).await,
        ];
        for response in responses {
            assert_eq!(response.headers.get("x-content-type-options").unwrap(), "nosniff", "[{}]", app.backend);
            assert_eq!(response.headers.get("x-frame-options").unwrap(), "DENY");
            assert_eq!(response.headers.get("referrer-policy").unwrap(), "strict-origin-when-cross-origin");
            assert!(response.headers.get("content-security-policy").unwrap().to_str().unwrap().contains("frame-ancestors 'none'"));
        }
    }
}

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
