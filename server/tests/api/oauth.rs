//! OAuth 2.1 connections through the router: discovery, registration (DCR and metadata documents), the consent
//! server functions, the token endpoint, refresh rotation, revocation, and every attack the issue names.
use app::api::keys::RevokeKey;
use app::api::oauth::{DecideConsent, GetConsent};
use app::error::AppError;
use app::model::{ClientOrigin, ConsentDecision, KeyFilter, Scope};
use axum::body::Body;
use http::{Request, StatusCode};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::helpers::{backend_test, spawn_app_with, Backend, TestApp, TestResponse};

const REDIRECT: &str = "http://127.0.0.1:4555/callback";
const RESOURCE: &str = "http://127.0.0.1:3000/api/mcp";
const ISSUER: &str = "http://127.0.0.1:3000";

fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A PKCE pair: (verifier, S256 challenge).
fn pkce() -> (String, String) {
    let verifier = base64url(&rand::random::<[u8; 32]>());
    let challenge = base64url(&Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn query(pairs: &[(&str, &str)]) -> String {
    serde_urlencoded::to_string(pairs).unwrap()
}

fn param(url: &str, name: &str) -> Option<String> {
    let query = url.split_once('?')?.1;
    serde_urlencoded::from_str::<Vec<(String, String)>>(query).ok()?.into_iter().find(|(key, _)| key == name).map(|(_, value)| value)
}

async fn post_form(app: &TestApp, path: &str, pairs: &[(&str, &str)]) -> TestResponse {
    app.post_raw(path, "application/x-www-form-urlencoded", query(pairs), None).await
}

async fn register(app: &TestApp, redirect_uri: &str) -> String {
    let body = json!({ "client_name": "Test Assistant", "redirect_uris": [redirect_uri], "application_type": "native", "scope": "read:visits" });
    let response = app.post_raw("/oauth/register", "application/json", body.to_string(), None).await;
    assert_eq!(response.status, StatusCode::CREATED, "{}", response.body);
    let registered = response.json();
    assert_eq!(registered["token_endpoint_auth_method"], "none");
    assert_eq!(registered["redirect_uris"], json!([redirect_uri]));
    registered["client_id"].as_str().unwrap().to_owned()
}

/// `GET /oauth/authorize` with the usual parameters and `changes` applied (an empty value removes one).
async fn authorize(app: &TestApp, client_id: &str, challenge: &str, changes: &[(&str, &str)]) -> TestResponse {
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", REDIRECT),
        ("code_challenge", challenge),
        ("code_challenge_method", "S256"),
        ("state", "state-123"),
        ("scope", "read:visits read:schedule read:profile read:messages read:patients read:caregivers read:activity"),
        ("resource", RESOURCE),
    ];
    for (name, value) in changes {
        pairs.retain(|(existing, _)| existing != name);
        if !value.is_empty() {
            pairs.push((name, value));
        }
    }
    app.get(&format!("/oauth/authorize?{}", query(&pairs)), None).await
}

/// The consent page's `request` id that a valid authorization request leads to.
fn request_id(response: &TestResponse) -> String {
    assert_eq!(response.status, StatusCode::SEE_OTHER, "{}", response.body);
    let location = response.location().expect("a redirect");
    assert!(location.starts_with("/oauth/authorize?request="), "{location}");
    param(location, "request").unwrap()
}

/// The "Return to the app" link of a refusal page, unescaped.
fn back_to_app(page: &TestResponse) -> String {
    let start = page.body.find("id=\"back-to-app\" href=\"").expect("a link back to the app") + "id=\"back-to-app\" href=\"".len();
    let end = start + page.body[start..].find('"').unwrap();
    page.body[start..end].replace("&amp;", "&")
}

async fn allow(app: &TestApp, cookie: &str, request: &str, scopes: &[Scope]) -> String {
    let decision = ConsentDecision { allow: true, scopes: scopes.to_vec() };
    let answer = app.call(DecideConsent { request: request.to_owned(), decision }, Some(cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.output()
}

async fn exchange(app: &TestApp, client_id: &str, code: &str, verifier: &str) -> TestResponse {
    post_form(
        app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", REDIRECT),
            ("client_id", client_id),
            ("code_verifier", verifier),
            ("resource", RESOURCE),
        ],
    )
    .await
}

pub(crate) async fn refresh(app: &TestApp, client_id: &str, refresh_token: &str) -> TestResponse {
    post_form(
        app,
        "/oauth/token",
        &[("grant_type", "refresh_token"), ("refresh_token", refresh_token), ("client_id", client_id), ("resource", RESOURCE)],
    )
    .await
}

/// A whole dance for `email`, granting `scopes`: (client_id, token response).
pub(crate) async fn connect(app: &TestApp, email: &str, scopes: &[Scope]) -> (String, Value) {
    let client_id = register(app, REDIRECT).await;
    let (verifier, challenge) = pkce();
    let request = request_id(&authorize(app, &client_id, &challenge, &[]).await);
    let cookie = app.login_for_keys(email).await;
    let back = allow(app, &cookie, &request, scopes).await;
    assert!(back.starts_with(REDIRECT), "{back}");
    assert_eq!(param(&back, "state").as_deref(), Some("state-123"));
    assert_eq!(param(&back, "iss").as_deref(), Some(ISSUER));
    let response = exchange(app, &client_id, &param(&back, "code").unwrap(), &verifier).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    (client_id, response.json())
}

pub(crate) async fn mcp(app: &TestApp, access_token: &str, method: &str, params: Value) -> TestResponse {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }).to_string();
    app.mcp_post(Some(&format!("Bearer {access_token}")), body, &[]).await
}

fn text(value: &Value, name: &str) -> String {
    value[name].as_str().unwrap_or_default().to_owned()
}

backend_test!(metadata_tells_clients_where_to_sign_in);
async fn metadata_tells_clients_where_to_sign_in(app: TestApp) {
    for path in ["/.well-known/oauth-protected-resource/api/mcp", "/.well-known/oauth-protected-resource"] {
        let resource = app.get(path, None).await;
        assert_eq!(resource.status, StatusCode::OK, "{path}");
        let resource = resource.json();
        assert_eq!(resource["resource"], RESOURCE);
        assert_eq!(resource["authorization_servers"], json!([ISSUER]));
        assert_eq!(resource["bearer_methods_supported"], json!(["header"]));
        assert!(resource["scopes_supported"].as_array().unwrap().contains(&json!("read:patients")));
    }
    let server = app.get("/.well-known/oauth-authorization-server", None).await.json();
    assert_eq!(server["issuer"], ISSUER);
    assert_eq!(server["authorization_endpoint"], "http://127.0.0.1:3000/oauth/authorize");
    assert_eq!(server["token_endpoint"], "http://127.0.0.1:3000/oauth/token");
    assert_eq!(server["registration_endpoint"], "http://127.0.0.1:3000/oauth/register");
    assert_eq!(server["revocation_endpoint"], "http://127.0.0.1:3000/oauth/revoke");
    assert_eq!(server["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(server["client_id_metadata_document_supported"], true);
    assert_eq!(server["authorization_response_iss_parameter_supported"], true);
    let openid = app.get("/.well-known/openid-configuration", None).await;
    assert_eq!(openid.status, StatusCode::NOT_FOUND);
    assert!(openid.headers["content-type"].to_str().unwrap().starts_with("application/json"));

    let unauthenticated = app.mcp_post(None, json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }).to_string(), &[]).await;
    assert_eq!(unauthenticated.status, StatusCode::UNAUTHORIZED);
    let challenge = unauthenticated.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("resource_metadata=\"http://127.0.0.1:3000/.well-known/oauth-protected-resource/api/mcp\""), "{challenge}");
    assert!(challenge.contains("scope=\"read:visits"), "{challenge}");
}

backend_test!(a_caregiver_connects_an_app_that_reads_only_her_own_scopes);
async fn a_caregiver_connects_an_app_that_reads_only_her_own_scopes(app: TestApp) {
    let client_id = register(&app, REDIRECT).await;
    let (verifier, challenge) = pkce();
    let request = request_id(&authorize(&app, &client_id, &challenge, &[]).await);
    let cookie = app.login_for_keys("barbara@sunrise.test").await;
    let consent = app.call(GetConsent { request: request.clone() }, Some(&cookie)).await.output();
    assert_eq!(consent.client.client_name, "Test Assistant");
    assert_eq!(consent.client.origin, ClientOrigin::SelfRegistered);
    assert_eq!(consent.redirect_host, "127.0.0.1:4555");
    assert!(!consent.requested.contains(&Scope::ReadPatients), "a caregiver is never offered patients: {:?}", consent.requested);
    assert!(consent.expires_at.is_some());

    let back = allow(&app, &cookie, &request, &[Scope::ReadVisits, Scope::ReadPatients]).await;
    let tokens = exchange(&app, &client_id, &param(&back, "code").unwrap(), &verifier).await.json();
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 3600);
    assert_eq!(tokens["scope"], "read:visits", "read:patients is never granted to a caregiver");
    let access = text(&tokens, "access_token");
    assert!(access.starts_with("cgat_test_") && access.len() == 56, "{access}");
    assert!(text(&tokens, "refresh_token").starts_with("cgrt_test_"));

    let whoami = mcp(&app, &access, "tools/call", json!({ "name": "whoami", "arguments": {} })).await;
    assert_eq!(whoami.status, StatusCode::OK, "{}", whoami.body);
    assert_eq!(whoami.json()["result"]["structuredContent"]["user"]["email"], "barbara@sunrise.test");
    let listed = mcp(&app, &access, "tools/list", json!({})).await.json();
    let names: Vec<&str> = listed["result"]["tools"].as_array().unwrap().iter().map(|tool| tool["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"list_visits") && !names.contains(&"list_patients"), "{names:?}");

    let patients = mcp(&app, &access, "tools/call", json!({ "name": "list_patients", "arguments": {} })).await;
    assert_eq!(patients.status, StatusCode::FORBIDDEN, "{}", patients.body);
    let challenge = patients.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains("error=\"insufficient_scope\"") && challenge.contains("scope=\"read:patients\""), "{challenge}");

    let keys = app.list_keys(&cookie, KeyFilter::default()).await;
    let connection = keys.keys.iter().find(|key| key.connection.is_some()).expect("the connection is listed beside keys");
    assert_eq!(connection.connection.as_ref().unwrap().client_name, "Test Assistant");
    assert_eq!(connection.scopes, vec![Scope::ReadVisits]);
    assert!(connection.last_used_at.is_some(), "Last Used works for connections");
    let refused = app.me(&access).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "the token is bound to /api/mcp: {}", refused.body);
}

backend_test!(refresh_tokens_rotate_and_a_replayed_one_revokes_the_connection);
async fn refresh_tokens_rotate_and_a_replayed_one_revokes_the_connection(app: TestApp) {
    let (client_id, first) = connect(&app, "office@sunrise.test", &[Scope::ReadVisits]).await;
    let rotated = refresh(&app, &client_id, &text(&first, "refresh_token")).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    let second = rotated.json();
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    let access = text(&second, "access_token");
    assert_eq!(mcp(&app, &access, "tools/list", json!({})).await.status, StatusCode::OK);
    let earlier = mcp(&app, &text(&first, "access_token"), "tools/list", json!({})).await;
    assert_eq!(earlier.status, StatusCode::UNAUTHORIZED, "a rotation replaces the earlier access token: one working pair per connection");

    let replayed = refresh(&app, &client_id, &text(&first, "refresh_token")).await;
    assert_eq!(replayed.status, StatusCode::BAD_REQUEST);
    assert_eq!(replayed.json()["error"], "invalid_grant");
    let after = mcp(&app, &access, "tools/list", json!({})).await;
    assert_eq!(after.status, StatusCode::UNAUTHORIZED, "the whole grant is revoked: {}", after.body);
    assert_eq!(after.json()["code"], "revoked_key");
    assert_eq!(refresh(&app, &client_id, &text(&second, "refresh_token")).await.json()["error"], "invalid_grant");
}

backend_test!(revoking_the_connection_in_the_keys_list_stops_its_tokens_on_every_node);
async fn revoking_the_connection_in_the_keys_list_stops_its_tokens_on_every_node(app: TestApp) {
    let (client_id, tokens) = connect(&app, "barbara@sunrise.test", &[Scope::ReadVisits]).await;
    let access = text(&tokens, "access_token");
    let other = app.another_node();
    assert_eq!(mcp(&other, &access, "tools/list", json!({})).await.status, StatusCode::OK);
    let root = app.login("root@sunrise.test").await;
    let keys = app.list_keys(&root, KeyFilter::default()).await;
    let connection = keys.keys.iter().find(|key| key.connection.is_some()).expect("Root Users see every connection");
    let revoked = app.call(RevokeKey { key_id: connection.key_id.clone() }, Some(&root)).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    for node in [&app, &other] {
        let refused = mcp(node, &access, "tools/list", json!({})).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED);
        assert_eq!(refused.json()["code"], "revoked_key");
    }
    assert_eq!(refresh(&app, &client_id, &text(&tokens, "refresh_token")).await.json()["error"], "invalid_grant");
}

backend_test!(a_code_works_once_with_its_own_verifier_client_and_redirect_uri);
async fn a_code_works_once_with_its_own_verifier_client_and_redirect_uri(app: TestApp) {
    let client_id = register(&app, REDIRECT).await;
    let other_client = register(&app, REDIRECT).await;
    let (verifier, challenge) = pkce();
    let request = request_id(&authorize(&app, &client_id, &challenge, &[]).await);
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let code = param(&allow(&app, &cookie, &request, &[Scope::ReadVisits]).await, "code").unwrap();

    let (wrong_verifier, _) = pkce();
    assert_eq!(exchange(&app, &client_id, &code, &wrong_verifier).await.json()["error"], "invalid_grant");
    assert_eq!(exchange(&app, &other_client, &code, &verifier).await.json()["error"], "invalid_grant");
    let other_redirect = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", "http://127.0.0.1:4555/callbacK"),
            ("client_id", &client_id),
            ("code_verifier", &verifier),
        ],
    )
    .await;
    assert_eq!(other_redirect.json()["error"], "invalid_grant");
    let other_resource = post_form(
        &app,
        "/oauth/token",
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", REDIRECT),
            ("client_id", &client_id),
            ("code_verifier", &verifier),
            ("resource", "https://evil.example/api/mcp"),
        ],
    )
    .await;
    assert_eq!(other_resource.json()["error"], "invalid_target");

    let first = exchange(&app, &client_id, &code, &verifier).await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    let access = text(&first.json(), "access_token");
    let seen_in_a_log = exchange(&app, &client_id, &code, &wrong_verifier).await;
    assert_eq!(seen_in_a_log.json()["error"], "invalid_grant");
    assert_eq!(mcp(&app, &access, "tools/list", json!({})).await.status, StatusCode::OK, "a used code without its verifier revokes nothing");
    let again = exchange(&app, &client_id, &code, &verifier).await;
    assert_eq!(again.json()["error"], "invalid_grant");
    assert_eq!(mcp(&app, &access, "tools/list", json!({})).await.status, StatusCode::UNAUTHORIZED, "a reused code revokes what it made");
    let repeated = app.post_raw("/oauth/token", "application/x-www-form-urlencoded", "grant_type=authorization_code&code=a&code=b", None).await;
    assert_eq!(repeated.json()["error"], "invalid_request", "a parameter given twice is refused");
}

backend_test!(authorization_requests_that_cannot_be_trusted_are_refused);
async fn authorization_requests_that_cannot_be_trusted_are_refused(app: TestApp) {
    let client_id = register(&app, REDIRECT).await;
    let (_, challenge) = pkce();
    for redirect in ["http://127.0.0.1:4555/callback/", "http://127.0.0.1:4555/callbacK", "https://evil.example/callback"] {
        let refused = authorize(&app, &client_id, &challenge, &[("redirect_uri", redirect)]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{redirect}: never redirected");
        assert!(refused.location().is_none());
        assert!(refused.body.contains("is not a redirect URI"), "{}", refused.body);
    }
    assert!(
        authorize(&app, &client_id, &challenge, &[("redirect_uri", "http://127.0.0.1:9999/callback")]).await.status == StatusCode::SEE_OTHER,
        "RFC 8252: any loopback port"
    );
    let unknown = authorize(&app, "cgc_unknown", &challenge, &[]).await;
    assert_eq!(unknown.status, StatusCode::BAD_REQUEST);

    let plain = authorize(&app, &client_id, &challenge, &[("code_challenge_method", "plain")]).await;
    assert_eq!(plain.status, StatusCode::BAD_REQUEST);
    assert!(plain.location().is_none(), "never an automatic redirect: anyone can register a redirect URI");
    let back = back_to_app(&plain);
    assert!(back.starts_with(REDIRECT), "{back}");
    assert_eq!(param(&back, "error").as_deref(), Some("invalid_request"));
    assert_eq!(param(&back, "state").as_deref(), Some("state-123"));
    assert_eq!(param(&back, "iss").as_deref(), Some(ISSUER));
    let no_pkce = authorize(&app, &client_id, &challenge, &[("code_challenge", ""), ("code_challenge_method", "")]).await;
    assert_eq!(param(&back_to_app(&no_pkce), "error").as_deref(), Some("invalid_request"));
    let other_resource = authorize(&app, &client_id, &challenge, &[("resource", "https://evil.example/api/mcp")]).await;
    assert_eq!(param(&back_to_app(&other_resource), "error").as_deref(), Some("invalid_target"));
    let token_flow = authorize(&app, &client_id, &challenge, &[("response_type", "token")]).await;
    assert_eq!(param(&back_to_app(&token_flow), "error").as_deref(), Some("unsupported_response_type"));
}

backend_test!(the_consent_is_bound_to_its_person_and_obeys_the_key_policy);
async fn the_consent_is_bound_to_its_person_and_obeys_the_key_policy(app: TestApp) {
    let client_id = register(&app, REDIRECT).await;
    let (_, challenge) = pkce();
    let request = request_id(&authorize(&app, &client_id, &challenge, &[]).await);
    let signed_out = app.call(GetConsent { request: request.clone() }, None).await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED);

    let barbara = app.login("barbara@sunrise.test").await;
    assert_eq!(app.call(GetConsent { request: request.clone() }, Some(&barbara)).await.status, StatusCode::OK);
    let carl = app.login_for_keys("carl@sunrise.test").await;
    let taken = app.call(GetConsent { request: request.clone() }, Some(&carl)).await;
    assert_eq!(taken.status, StatusCode::NOT_FOUND, "the request belongs to whoever opened it first");
    let decision = ConsentDecision { allow: true, scopes: vec![Scope::ReadVisits] };
    let stolen = app.call(DecideConsent { request: request.clone(), decision: decision.clone() }, Some(&carl)).await;
    assert_eq!(stolen.status, StatusCode::NOT_FOUND);
    let unknown = app.call(DecideConsent { request: "no-such-request".to_owned(), decision: decision.clone() }, Some(&carl)).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND, "no decision without the pending request");

    let not_confirmed = app.call(DecideConsent { request: request.clone(), decision: decision.clone() }, Some(&barbara)).await;
    assert_eq!(not_confirmed.status, StatusCode::UNAUTHORIZED, "creating a connection needs a recent password or code");
    assert!(matches!(not_confirmed.error(), AppError::Unauthorized(message) if message.contains("confirm")));

    let cross_site = Request::post("/api/oauth/decide")
        .header("content-type", "application/json")
        .header("origin", "https://evil.example")
        .header("cookie", &barbara)
        .body(Body::from(json!({ "request": request, "decision": decision }).to_string()))
        .unwrap();
    assert_eq!(app.send(cross_site).await.status, StatusCode::FORBIDDEN, "a consent POST from another origin is refused");

    let page = app.get(&format!("/oauth/authorize?request={request}"), Some(&barbara)).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("frame-ancestors 'none'"));

    let denied =
        app.call(DecideConsent { request: request.clone(), decision: ConsentDecision { allow: false, scopes: vec![] } }, Some(&barbara)).await;
    let back = denied.output();
    assert_eq!(param(&back, "error").as_deref(), Some("access_denied"));
    assert_eq!(param(&back, "iss").as_deref(), Some(ISSUER));
    assert_eq!(app.call(GetConsent { request }, Some(&barbara)).await.status, StatusCode::NOT_FOUND, "a decided request is gone");
}

backend_test!(connections_follow_their_owner_and_the_company_policy);
async fn connections_follow_their_owner_and_the_company_policy(app: TestApp) {
    let (_, tokens) = connect(&app, "barbara@sunrise.test", &[Scope::ReadVisits]).await;
    let access = text(&tokens, "access_token");
    let root = app.login_for_keys("root@sunrise.test").await;
    let barbara = app.list_keys(&root, KeyFilter::default()).await.keys.into_iter().find(|key| key.connection.is_some()).unwrap().owner_id;
    let deactivated = app.call(app::api::people::DeactivatePerson { user_id: barbara }, Some(&root)).await;
    assert_eq!(deactivated.status, StatusCode::OK, "{}", deactivated.body);
    let refused = mcp(&app, &access, "tools/list", json!({})).await;
    assert_eq!(refused.json()["code"], "inactive_user");

    let mut policy = app.call(app::api::keys::GetKeySetup {}, Some(&root)).await.output().policy;
    policy.creators = app::model::KeyCreators::Root;
    assert_eq!(app.call(app::api::keys::UpdateKeyPolicy { policy }, Some(&root)).await.status, StatusCode::OK);
    let client_id = register(&app, REDIRECT).await;
    let (_, challenge) = pkce();
    let request = request_id(&authorize(&app, &client_id, &challenge, &[]).await);
    let carl = app.login_for_keys("carl@sunrise.test").await;
    let consent = app.call(GetConsent { request: request.clone() }, Some(&carl)).await.output();
    assert!(consent.refusal.is_some(), "the page says who may connect apps");
    let decision = ConsentDecision { allow: true, scopes: vec![Scope::ReadVisits] };
    assert_eq!(app.call(DecideConsent { request, decision }, Some(&carl)).await.status, StatusCode::FORBIDDEN);
}

backend_test!(the_revocation_endpoint_stops_a_token_and_a_refresh_token_stops_the_connection);
async fn the_revocation_endpoint_stops_a_token_and_a_refresh_token_stops_the_connection(app: TestApp) {
    let (client_id, tokens) = connect(&app, "office@sunrise.test", &[Scope::ReadVisits]).await;
    let access = text(&tokens, "access_token");
    assert_eq!(post_form(&app, "/oauth/revoke", &[("token", &access)]).await.status, StatusCode::OK);
    assert_eq!(mcp(&app, &access, "tools/list", json!({})).await.status, StatusCode::UNAUTHORIZED);
    let renewed = refresh(&app, &client_id, &text(&tokens, "refresh_token")).await.json();
    assert_eq!(mcp(&app, &text(&renewed, "access_token"), "tools/list", json!({})).await.status, StatusCode::OK);
    assert_eq!(post_form(&app, "/oauth/revoke", &[("token", &text(&renewed, "refresh_token"))]).await.status, StatusCode::OK);
    assert_eq!(mcp(&app, &text(&renewed, "access_token"), "tools/list", json!({})).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(post_form(&app, "/oauth/revoke", &[("token", "cgat_test_nonsense")]).await.status, StatusCode::OK, "unknown tokens learn nothing");
}

backend_test!(registrations_are_validated_and_bounded_per_address);
async fn registrations_are_validated_and_bounded_per_address(app: TestApp) {
    for redirect in ["http://evil.example/cb", "https://a.example/cb#x", "not a url"] {
        let body = json!({ "redirect_uris": [redirect] }).to_string();
        let refused = app.post_raw("/oauth/register", "application/json", body, None).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{redirect}");
        assert_eq!(refused.json()["error"], "invalid_redirect_uri");
    }
    assert_eq!(app.post_raw("/oauth/register", "application/json", "{nope", None).await.json()["error"], "invalid_client_metadata");
    let body = json!({ "redirect_uris": [REDIRECT] }).to_string();
    let mut statuses = Vec::new();
    for _ in 0..25 {
        let request = Request::post("/oauth/register").header("content-type", "application/json").body(Body::from(body.clone())).unwrap();
        statuses.push(app.send_from("203.0.113.9", request).await.status);
    }
    assert_eq!(statuses.iter().filter(|status| **status == StatusCode::CREATED).count(), 20);
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS));
}

/// Serves `document` at `http://127.0.0.1:<port>/client.json` for a few requests; returns the URL.
async fn serve_document(document: impl Fn(&str) -> String + Send + 'static) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}/client.json", listener.local_addr().unwrap().port());
    let body = document(&url);
    tokio::spawn(async move {
        for _ in 0..5 {
            let Ok((mut stream, _)) = listener.accept().await else { return };
            let mut request = vec![0u8; 4096];
            let _ = stream.read(&mut request).await;
            let response =
                format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}", body.len());
            let _ = stream.write_all(response.as_bytes()).await;
        }
    });
    url
}

backend_test!(a_client_metadata_document_on_loopback_is_fetched_when_tests_allow_it);
async fn a_client_metadata_document_on_loopback_is_fetched_when_tests_allow_it(app: TestApp) {
    let client_id =
        serve_document(|url| json!({ "client_id": url, "client_name": "Loopback Assistant", "redirect_uris": [REDIRECT] }).to_string()).await;
    let (verifier, challenge) = pkce();
    let request = request_id(&authorize(&app, &client_id, &challenge, &[]).await);
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let consent = app.call(GetConsent { request: request.clone() }, Some(&cookie)).await.output();
    assert_eq!(consent.client.client_name, "Loopback Assistant");
    assert_eq!(consent.client.origin, ClientOrigin::Verified { domain: "127.0.0.1".to_owned() });
    let back = allow(&app, &cookie, &request, &[Scope::ReadVisits]).await;
    let tokens = exchange(&app, &client_id, &param(&back, "code").unwrap(), &verifier).await;
    assert_eq!(tokens.status, StatusCode::OK, "{}", tokens.body);

    let lying = serve_document(|_| json!({ "client_id": "https://chatgpt.com/client.json", "redirect_uris": [REDIRECT] }).to_string()).await;
    let refused = authorize(&app, &lying, &challenge, &[]).await;
    assert_eq!(refused.status, StatusCode::BAD_REQUEST, "a document must name its own URL");
}

backend_test!(client_documents_on_private_loopback_or_metadata_addresses_are_never_fetched);
async fn client_documents_on_private_loopback_or_metadata_addresses_are_never_fetched(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.oauth_loopback_clients = false).await;
    let (_, challenge) = pkce();
    for client_id in [
        "https://127.0.0.1/client.json",
        "https://169.254.169.254/latest/client.json",
        "https://10.0.0.8/client.json",
        "https://[::1]/client.json",
        "http://127.0.0.1:4555/client.json",
    ] {
        let refused = authorize(&app, client_id, &challenge, &[]).await;
        assert_eq!(refused.status, StatusCode::BAD_REQUEST, "{client_id}");
        assert!(refused.location().is_none());
    }
}

backend_test!(two_exchanges_of_one_code_or_refresh_token_at_once_yield_one_pair);
async fn two_exchanges_of_one_code_or_refresh_token_at_once_yield_one_pair(app: TestApp) {
    let client_id = register(&app, REDIRECT).await;
    let (verifier, challenge) = pkce();
    let request = request_id(&authorize(&app, &client_id, &challenge, &[]).await);
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let code = param(&allow(&app, &cookie, &request, &[Scope::ReadVisits]).await, "code").unwrap();
    let (a, b) = tokio::join!(exchange(&app, &client_id, &code, &verifier), exchange(&app, &client_id, &code, &verifier));
    let winners = [&a, &b].iter().filter(|response| response.status == StatusCode::OK).count();
    assert!(winners <= 1, "a code works once even when raced: {} / {}", a.body, b.body);

    let (client_id, tokens) = connect(&app, "office@sunrise.test", &[Scope::ReadVisits]).await;
    let refresh_token = text(&tokens, "refresh_token");
    let (a, b) = tokio::join!(refresh(&app, &client_id, &refresh_token), refresh(&app, &client_id, &refresh_token));
    let pairs: Vec<Value> = [a, b].into_iter().filter(|response| response.status == StatusCode::OK).map(|response| response.json()).collect();
    assert!(pairs.len() <= 1, "one rotation per refresh token");
    if let Some(pair) = pairs.first() {
        let after = mcp(&app, &text(pair, "access_token"), "tools/list", json!({})).await;
        assert_eq!(after.status, StatusCode::UNAUTHORIZED, "the loser looked like a replay: the connection is revoked");
    }
}

backend_test!(authorization_requests_are_bounded_per_address);
async fn authorization_requests_are_bounded_per_address(app: TestApp) {
    let client_id = register(&app, REDIRECT).await;
    let (_, challenge) = pkce();
    let path = format!(
        "/oauth/authorize?{}",
        query(&[
            ("response_type", "code"),
            ("client_id", &client_id),
            ("redirect_uri", REDIRECT),
            ("code_challenge", &challenge),
            ("code_challenge_method", "S256")
        ])
    );
    let mut last = StatusCode::OK;
    for _ in 0..121 {
        last = app.send_from("[2001:db8:5::7]", Request::get(&path).body(Body::empty()).unwrap()).await.status;
    }
    assert_eq!(last, StatusCode::TOO_MANY_REQUESTS, "each request stores a pending row: 120 an hour per address");
    let neighbour = app.send_from("[2001:db8:5::8]", Request::get(&path).body(Body::empty()).unwrap()).await;
    assert_eq!(neighbour.status, StatusCode::TOO_MANY_REQUESTS, "an IPv6 /64 is one address");
    let elsewhere = app.send_from("203.0.113.50", Request::get(&path).body(Body::empty()).unwrap()).await;
    assert_eq!(elsewhere.status, StatusCode::SEE_OTHER);
}
