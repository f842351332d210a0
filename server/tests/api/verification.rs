//! The verification fast path: argon2id once per token per process, revocation still on the next request on
//! every process, and wrong secrets bounded without argon2 work.
use app::api::keys::{RevokeKey, UpdateKeyPolicy};
use app::model::{KeyFilter, KeyPolicy};
use domain::keys::verifier::MAX_FAILURES_PER_KEY;
use http::StatusCode;

use crate::helpers::{backend_test, forge_secret, TestApp};
use crate::metrics::metric;

/// The app's (cold, warm) verification counts, from its metrics.
fn checks(app: &TestApp) -> (u64, u64) {
    (metric(&app.state, "caregate_key_checks_total{path=\"cold\"}"), metric(&app.state, "caregate_key_checks_total{path=\"warm\"}"))
}

backend_test!(the_warm_path_skips_argon2_and_a_revoke_on_another_node_still_applies_on_the_next_request);
async fn the_warm_path_skips_argon2_and_a_revoke_on_another_node_still_applies_on_the_next_request(app: TestApp) {
    let node_b = app.another_node();
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let (key_id, token) = app.mint_ok(&cookie, "Busy key").await;
    for _ in 0..3 {
        assert_eq!(node_b.me(&token).await.status, StatusCode::OK);
    }
    assert_eq!(checks(&node_b), (1, 2), "one argon2 run, then warm");

    app.call(RevokeKey { key_id }, Some(&cookie)).await;
    let refused = node_b.me(&token).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "node B refuses the very next request");
    assert_eq!(refused.json()["code"], "revoked_key");
}

backend_test!(with_the_warm_path_off_every_request_runs_argon2);
async fn with_the_warm_path_off_every_request_runs_argon2(app: TestApp) {
    let mut state = app.state.to_shared();
    (state.verifier, state.metrics) = server::startup::key_verification(state.token_environment, false, &state.activity, &state.db);
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let (_, token) = app.mint_ok(&cookie, "Cold key").await;
    for _ in 0..3 {
        let result = state.verifier.authenticate(&state.db, &token, None, chrono::Utc::now()).await;
        assert!(result.is_ok());
    }
    assert_eq!(metric(&app::state::AppState::new(state), "caregate_key_checks_total{path=\"cold\"}"), 3);
}

backend_test!(malformed_tokens_and_unknown_key_ids_never_reach_argon2);
async fn malformed_tokens_and_unknown_key_ids_never_reach_argon2(app: TestApp) {
    for n in 0..40 {
        assert_eq!(app.me(&format!("cg_test_garbage{n}")).await.json()["code"], "malformed_key");
    }
    for _ in 0..20 {
        let (unknown, _) = domain::keys::token::Token::generate(domain::keys::token::TokenEnvironment::Test);
        assert_eq!(app.me(unknown.expose()).await.json()["code"], "invalid_key");
    }
    assert_eq!(checks(&app), (0, 0));
}

backend_test!(wrong_secrets_for_a_key_are_throttled_with_429_while_its_warm_owner_keeps_working);
async fn wrong_secrets_for_a_key_are_throttled_with_429_while_its_warm_owner_keeps_working(app: TestApp) {
    let cookie = app.login_for_keys("barbara@sunrise.test").await;
    let (_, token) = app.mint_ok(&cookie, "Target").await;
    assert_eq!(app.me(&token).await.status, StatusCode::OK, "the owner's client is warm");
    for _ in 0..MAX_FAILURES_PER_KEY {
        assert_eq!(app.me(&forge_secret(&token)).await.json()["code"], "invalid_key");
    }
    let throttled = app.me(&forge_secret(&token)).await;
    assert_eq!(throttled.status, StatusCode::TOO_MANY_REQUESTS, "{}", throttled.body);
    assert_eq!(throttled.json()["code"], "too_many_attempts");
    let retry_after: u64 = throttled.headers.get(http::header::RETRY_AFTER).unwrap().to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry_after));
    assert_eq!(checks(&app).0, 1 + u64::from(MAX_FAILURES_PER_KEY), "the throttled attempt cost no argon2 run");
    assert_eq!(app.me(&token).await.status, StatusCode::OK, "the warm owner is unaffected");

    let metrics = app.metrics().await;
    assert_eq!(metrics.status, StatusCode::OK);
    for line in [
        "caregate_key_verifications_total{code=\"ok\"} 2",
        "caregate_key_verifications_total{code=\"invalid_key\"} 10",
        "caregate_key_verifications_total{code=\"too_many_attempts\"} 1",
        "caregate_key_checks_total{path=\"warm\"} 1",
        "caregate_key_checks_total{path=\"cold\"} 11",
        "caregate_argon2_seconds_count 11",
    ] {
        assert!(metrics.body.contains(line), "missing {line:?} in\n{}", metrics.body);
    }
}

backend_test!(a_key_over_its_companys_request_budget_gets_429_with_retry_after);
async fn a_key_over_its_companys_request_budget_gets_429_with_retry_after(app: TestApp) {
    let root = app.login_for_keys("root@sunrise.test").await;
    let policy = KeyPolicy { requests_per_minute: 10, ..KeyPolicy::default() };
    assert_eq!(app.call(UpdateKeyPolicy { policy }, Some(&root)).await.status, StatusCode::OK);
    let (_, token) = app.mint_ok(&root, "Chatty").await;
    crate::helpers::clear_of_a_window_boundary(std::time::Duration::from_secs(60), std::time::Duration::from_secs(10)).await;
    for n in 0..10 {
        assert_eq!(app.me(&token).await.status, StatusCode::OK, "request {n}");
    }
    let limited = app.me(&token).await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "{}", limited.body);
    assert_eq!(limited.json()["code"], "rate_limited");
    assert!(limited.json()["message"].as_str().unwrap().contains("more than 10 requests"));
    assert!(limited.headers.contains_key(http::header::RETRY_AFTER));
}

backend_test!(a_busy_key_writes_last_used_once_per_interval);
async fn a_busy_key_writes_last_used_once_per_interval(app: TestApp) {
    use axum::body::Body;
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let (_, token) = app.mint_ok(&cookie, "Busy").await;
    for agent in ["first-client", "second-client", "third-client"] {
        let request =
            http::Request::get("/api/v1/me").header(http::header::AUTHORIZATION, format!("Bearer {token}")).header(http::header::USER_AGENT, agent);
        assert_eq!(app.send(request.body(Body::empty()).unwrap()).await.status, StatusCode::OK);
    }
    let keys = app.list_keys(&cookie, KeyFilter::default()).await;
    assert_eq!(keys.keys[0].last_used_client.as_deref(), Some("first-client"), "later requests within the minute write nothing");
    assert!(keys.keys[0].last_used_at.is_some());
}
