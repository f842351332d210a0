//! `GET /api/v1/me` with an API key: who the key acts for, and each refusal as JSON with its code.
use app::api::keys::RevokeKey;
use app::model::KeyFilter;
use axum::body::Body;
use http::{Request, StatusCode};

use crate::helpers::{backend_test, TestApp, TestResponse};

async fn me(app: &TestApp, authorization: Option<&str>) -> TestResponse {
    let mut request = Request::get("/api/v1/me").header(http::header::USER_AGENT, "curl/8.5");
    if let Some(value) = authorization {
        request = request.header(http::header::AUTHORIZATION, value);
    }
    app.send(request.body(Body::empty()).unwrap()).await
}

backend_test!(a_key_answers_who_it_acts_for_and_records_its_use);
async fn a_key_answers_who_it_acts_for_and_records_its_use(app: TestApp) {
    let cookie = app.login_for_keys("barbara@sunrise.test").await;
    let (key_id, token) = app.mint_ok(&cookie, "curl check").await;
    let response = me(&app, Some(&format!("Bearer {token}"))).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let json = response.json();
    assert_eq!(json["user"]["email"], "barbara@sunrise.test");
    assert_eq!(json["user"]["role"], "caregiver");
    assert_eq!(json["company"]["name"], "Sunrise Home Care");
    assert_eq!(json["key"]["key_id"], key_id);
    assert_eq!(json["key"]["scopes"].as_array().unwrap().len(), 4);

    let listed = app.list_keys(&cookie, KeyFilter::default()).await;
    assert!(listed.keys[0].last_used_at.is_some(), "Last Used is set: {listed:?}");
    assert_eq!(listed.keys[0].last_used_client.as_deref(), Some("curl/8.5"));
}

backend_test!(refusals_are_json_with_a_code_a_trace_id_and_a_bearer_challenge);
async fn refusals_are_json_with_a_code_a_trace_id_and_a_bearer_challenge(app: TestApp) {
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let (key_id, token) = app.mint_ok(&cookie, "to revoke").await;
    let cases = [
        (None, "missing_key"),
        (Some("Token cg_test_abc".to_owned()), "missing_key"),
        (Some("Basic Zm9vOmJhcg==".to_owned()), "malformed_key"),
        (Some("Bearer cg_test_short".to_owned()), "malformed_key"),
        (Some(format!("Bearer {}{}", &token[..43], if token.ends_with('X') { 'Y' } else { 'X' })), "malformed_key"),
    ];
    for (header, code) in cases {
        let response = me(&app, header.as_deref()).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{header:?}");
        assert_eq!(response.json()["code"], code, "{header:?}");
        assert_eq!(response.json()["trace_id"].as_str().unwrap().len(), 16);
        let challenge = response.headers.get(http::header::WWW_AUTHENTICATE).unwrap().to_str().unwrap();
        assert!(challenge.starts_with("Bearer realm=\"caregate\", resource_metadata=\"http://127.0.0.1:3000/.well-known/"), "{challenge}");
        assert_eq!(challenge.ends_with("error=\"invalid_token\""), header.is_some() && code != "missing_key", "{header:?}: {challenge}");
    }
    app.call(RevokeKey { key_id }, Some(&cookie)).await;
    let revoked = me(&app, Some(&format!("Bearer {token}"))).await;
    assert_eq!(revoked.status, StatusCode::UNAUTHORIZED);
    assert_eq!(revoked.json()["code"], "revoked_key", "refused on the very next request");
    assert!(!revoked.body.contains(&token[16..38]), "the error never echoes the token");
}
