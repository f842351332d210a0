//! `/healthz` answers without the database; `/readyz` reports whether the database answers.
use app::api::session::GetCurrentUser;
use http::StatusCode;

use crate::helpers::{backend_test, spawn_empty_app, Backend, TestApp};

backend_test!(every_response_carries_the_security_headers);
async fn every_response_carries_the_security_headers(app: TestApp) {
    let cookie = app.login("root@sunrise.test").await;
    let responses = [
        app.get("/", Some(&cookie)).await,
        app.get("/login", None).await,
        app.get("/patients", None).await,
        app.get("/healthz", None).await,
        app.get("/api/v1/me", None).await,
        app.get("/.well-known/oauth-authorization-server", None).await,
        app.call(GetCurrentUser {}, Some(&cookie)).await.into(),
    ];
    for response in responses {
        assert_eq!(response.headers.get("x-content-type-options").unwrap(), "nosniff");
        assert_eq!(response.headers.get("x-frame-options").unwrap(), "DENY");
        assert_eq!(response.headers.get("referrer-policy").unwrap(), "strict-origin-when-cross-origin");
        assert!(response.headers.get("content-security-policy").unwrap().to_str().unwrap().contains("frame-ancestors 'none'"));
    }
}

backend_test!(health_checks_report_the_process_and_the_database);
async fn health_checks_report_the_process_and_the_database(backend: Backend) {
    let app = spawn_empty_app(backend).await;
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK);
    assert_eq!(app.get("/readyz", None).await.status, StatusCode::OK);
    app.state.db.clone().close().await.unwrap();
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK, "liveness ignores the database");
    let ready = app.get("/readyz", None).await;
    assert_eq!(ready.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(ready.json()["status"], "unavailable");
}

backend_test!(pages_allow_only_their_own_scripts_through_a_per_response_nonce);
async fn pages_allow_only_their_own_scripts_through_a_per_response_nonce(app: TestApp) {
    let cookie = app.login("root@sunrise.test").await;
    let first = app.get("/settings", Some(&cookie)).await;
    let second = app.get("/settings", Some(&cookie)).await;
    assert!(first.body.contains("script-src 'self' 'nonce-"), "the page declares its script policy");
    assert!(first.body.contains("'wasm-unsafe-eval'") && !first.body.contains("unsafe-inline"));
    let (nonce, all_carry) = script_nonce(&first.body);
    assert!(all_carry, "every script of the page carries the nonce");
    assert!(nonce.len() >= 16, "{nonce}");
    assert_ne!(nonce, script_nonce(&second.body).0, "a fresh nonce per response");
    let policy_at = first.body.find("Content-Security-Policy").unwrap();
    assert!(first.body.find("<script").is_none_or(|script_at| policy_at < script_at), "the policy comes before any script");
}

/// The nonce of a page's script policy, and whether every `<script>` of the page carries it.
fn script_nonce(page: &str) -> (String, bool) {
    let nonce = page.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect("a script policy with a nonce").to_owned();
    let scripts: Vec<&str> = page.split("<script").skip(1).map(|tag| tag.split('>').next().unwrap_or_default()).collect();
    let all_carry = !scripts.is_empty() && scripts.iter().all(|tag| tag.contains(&format!("nonce=\"{nonce}\"")));
    (nonce, all_carry)
}
