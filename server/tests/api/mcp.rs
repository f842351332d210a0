//! The MCP endpoint through the router: JSON-RPC over Streamable HTTP, authorised by API keys and scoped
//! to the owner's role.
use app::api::activity::ListActivity;
use app::api::keys::{MintKey, RevokeKey};
use app::model::{Action, ActivityFilter, ActivityView, KeyFilter, MintRequest};
use axum::body::Body;
use base64::Engine;
use http::{Request, StatusCode};
use serde_json::{json, Value};

use crate::helpers::{backend_test, TestApp, TestResponse};

async fn post(app: &TestApp, authorization: Option<&str>, body: Value, extra: &[(&str, &str)]) -> TestResponse {
    post_as(app, "2025-06-18", authorization, body, extra).await
}

async fn post_as(app: &TestApp, protocol_version: &str, authorization: Option<&str>, body: Value, extra: &[(&str, &str)]) -> TestResponse {
    let headers: Vec<(&str, &str)> = std::iter::once(("mcp-protocol-version", protocol_version)).chain(extra.iter().copied()).collect();
    app.mcp_post(authorization, body.to_string(), &headers).await
}

async fn rpc(app: &TestApp, token: &str, method: &str, params: Value) -> Value {
    let response = post(app, Some(&format!("Bearer {token}")), json!({ "jsonrpc": "2.0", "id": 1, "method": method, "params": params }), &[]).await;
    assert_eq!(response.status, StatusCode::OK, "{method}: {}", response.body);
    response.json()
}

async fn tool_names(app: &TestApp, token: &str) -> Vec<String> {
    let listed = rpc(app, token, "tools/list", json!({})).await;
    listed["result"]["tools"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap().to_owned()).collect()
}

async fn call(app: &TestApp, token: &str, tool: &str, arguments: Value) -> Value {
    rpc(app, token, "tools/call", json!({ "name": tool, "arguments": arguments })).await["result"].clone()
}

/// A key of `email`'s with `scopes`; none stands for every scope the role allows.
async fn key_for(app: &TestApp, email: &str, scopes: &[&str]) -> String {
    let cookie = app.login_for_keys(email).await;
    let scopes = if scopes.is_empty() { app.allowed_scopes(&cookie).await } else { scopes.iter().map(|scope| (*scope).to_owned()).collect() };
    let minted =
        app.call(MintKey { request: MintRequest { label: "MCP".to_owned(), expiry: None, scopes, allowed_ips: vec![] } }, Some(&cookie)).await;
    assert_eq!(minted.status, StatusCode::OK, "{}", minted.body);
    minted.output().token.expose().to_owned()
}

/// The activity feed of one Key ID, as a Root User of its company sees it.
async fn key_feed(app: &TestApp, root_cookie: &str, key_id: &str) -> Vec<ActivityView> {
    let filter = ActivityFilter { key_id: Some(key_id.to_owned()), ..ActivityFilter::default() };
    app.call(ListActivity { filter }, Some(root_cookie)).await.output().events
}

backend_test!(initialize_answers_current_protocol_versions_and_records_the_client);
async fn initialize_answers_current_protocol_versions_and_records_the_client(app: TestApp) {
    let token = key_for(&app, "barbara@sunrise.test", &[]).await;
    for version in ["2025-06-18", "2025-11-25"] {
        let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": version, "capabilities": {}, "clientInfo": { "name": "claude-code", "version": "2.1.0" }
        }});
        let response = post_as(&app, version, Some(&format!("Bearer {token}")), body, &[]).await;
        assert_eq!(response.status, StatusCode::OK, "{}", response.body);
        let init = response.json();
        assert_eq!(init["result"]["protocolVersion"], version, "{init}");
        assert_eq!(init["result"]["serverInfo"]["name"], "caregate");
        assert!(init["result"]["capabilities"]["tools"].is_object());
    }
    let cookie = app.login("barbara@sunrise.test").await;
    let keys = app.list_keys(&cookie, KeyFilter::default()).await;
    assert_eq!(keys.keys[0].last_used_client.as_deref(), Some("claude-code 2.1.0"));
}

backend_test!(tools_list_shows_only_what_the_keys_effective_scopes_allow);
async fn tools_list_shows_only_what_the_keys_effective_scopes_allow(app: TestApp) {
    let caregiver = key_for(&app, "barbara@sunrise.test", &[]).await;
    let root = key_for(&app, "root@sunrise.test", &[]).await;
    let narrow = key_for(&app, "office@sunrise.test", &["read:visits"]).await;
    assert_eq!(
        tool_names(&app, &caregiver).await,
        ["get_profile", "get_schedule", "get_visit", "list_messages", "list_open_shifts", "list_visits", "whoami"]
    );
    assert_eq!(tool_names(&app, &root).await.len(), 11);
    assert_eq!(tool_names(&app, &narrow).await, ["get_visit", "list_visits", "whoami"]);
    let listed = rpc(&app, &root, "tools/list", json!({})).await;
    for tool in listed["result"]["tools"].as_array().unwrap() {
        assert!(tool["description"].as_str().unwrap().len() > 20, "{tool}");
        assert_eq!(tool["inputSchema"]["type"], "object", "{tool}");
    }
}

backend_test!(a_caregiver_key_reads_only_her_own_rows_and_no_patients);
async fn a_caregiver_key_reads_only_her_own_rows_and_no_patients(app: TestApp) {
    let token = key_for(&app, "barbara@sunrise.test", &[]).await;
    let patients = call(&app, &token, "list_patients", json!({})).await;
    assert_eq!(patients["isError"], true, "{patients}");
    assert_eq!(patients["content"][0]["text"], "Insufficient scope. Required: read:patients");

    let visits = call(&app, &token, "list_visits", json!({})).await;
    assert_eq!(visits["isError"], false);
    let rows = visits["structuredContent"]["visits"].as_array().unwrap().clone();
    assert!(!rows.is_empty());
    assert!(rows.iter().all(|v| v["caregiver_name"] == "Barbara Lee"), "{visits}");
    assert!(visits["content"][0]["text"].as_str().unwrap().contains("Barbara Lee"), "a text rendering accompanies the structure");

    let office = key_for(&app, "office@sunrise.test", &[]).await;
    let all = call(&app, &office, "list_visits", json!({})).await;
    let carl_visit =
        all["structuredContent"]["visits"].as_array().unwrap().iter().find(|v| v["caregiver_name"] == "Carl Jensen").unwrap()["id"].clone();
    let denied = call(&app, &token, "get_visit", json!({ "id": carl_visit })).await;
    assert_eq!(denied["isError"], true);
    assert_eq!(denied["content"][0]["text"], "Visit not found");
    let own = call(&app, &token, "get_visit", json!({ "id": rows[0]["id"] })).await;
    assert_eq!(own["structuredContent"]["visit"]["caregiver_name"], "Barbara Lee");

    let schedule = call(&app, &token, "get_schedule", json!({})).await;
    assert!(schedule["structuredContent"]["visits"].as_array().unwrap().iter().all(|v| v["caregiver_name"] == "Barbara Lee"));
    let messages = call(&app, &token, "list_messages", json!({})).await;
    assert_eq!(messages["structuredContent"]["count"], 2);
    let whoami = call(&app, &token, "whoami", json!({})).await;
    assert_eq!(whoami["structuredContent"]["user"]["email"], "barbara@sunrise.test");
}

backend_test!(another_companys_key_sees_none_of_sunrises_rows);
async fn another_companys_key_sees_none_of_sunrises_rows(app: TestApp) {
    let sunrise = key_for(&app, "root@sunrise.test", &[]).await;
    let harbor = key_for(&app, "root@harbor.test", &[]).await;
    let sunrise_visit = call(&app, &sunrise, "list_visits", json!({})).await["structuredContent"]["visits"][0]["id"].clone();
    for tool in ["list_visits", "list_patients", "list_caregivers", "list_messages", "list_open_shifts", "list_activity"] {
        let result = call(&app, &harbor, tool, json!({})).await;
        let text = result.to_string();
        for sunrise_name in ["Margaret", "Barbara", "Carl", "Rosa", "Dorothy"] {
            assert!(!text.contains(sunrise_name), "{tool} leaks {sunrise_name}: {text}");
        }
    }
    let foreign = call(&app, &harbor, "get_visit", json!({ "id": sunrise_visit })).await;
    assert_eq!(foreign["content"][0]["text"], "Visit not found");
    let patients = call(&app, &harbor, "list_patients", json!({})).await;
    assert_eq!(patients["structuredContent"]["patients"][0]["name"], "Ingrid Larsen");
}

backend_test!(revoked_expired_and_deactivated_keys_are_refused_with_their_codes);
async fn revoked_expired_and_deactivated_keys_are_refused_with_their_codes(app: TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let (revoked_id, revoked) = app.mint_ok(&cookie, "revoke me").await;
    let (expired_id, expired) = app.mint_ok(&cookie, "expire me").await;
    assert_eq!(tool_names(&app, &revoked).await.len(), 9);
    app.call(RevokeKey { key_id: revoked_id.clone() }, Some(&cookie)).await;
    let backend = app.state.db.get_database_backend();
    let past = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    app.state
        .db
        .execute(Statement::from_sql_and_values(
            backend,
            if backend == sea_orm::DbBackend::Postgres {
                "UPDATE api_keys SET expires_at = $1::timestamptz WHERE key_id = $2"
            } else {
                "UPDATE api_keys SET expires_at = ? WHERE key_id = ?"
            },
            [past.into(), expired_id.clone().into()],
        ))
        .await
        .unwrap();
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} });
    for (token, code) in [(&revoked, "revoked_key"), (&expired, "expired_key")] {
        let response = post(&app, Some(&format!("Bearer {token}")), body.clone(), &[]).await;
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{code}: {}", response.body);
        assert_eq!(response.json()["code"], code);
    }
    let active = key_for(&app, "carl@sunrise.test", &[]).await;
    let carl = domain::accounts::find_user_by_email(&app.state.db, "carl@sunrise.test").await.unwrap();
    domain::accounts::set_active(&app.state.db, carl.id, false).await.unwrap();
    let response = post(&app, Some(&format!("Bearer {active}")), body.clone(), &[]).await;
    assert_eq!(response.json()["code"], "inactive_user");
    let (wrong, _) = domain::keys::token::Token::generate(domain::keys::token::TokenEnvironment::Test);
    let response = post(&app, Some(&format!("Bearer {}", wrong.expose())), body.clone(), &[]).await;
    assert_eq!(response.json()["code"], "invalid_key");
    assert_eq!(response.json()["message"], "Invalid access token provided");

    app.state.activity.flush().await;
    let root = app.login("root@sunrise.test").await;
    let feed = key_feed(&app, &root, &revoked_id).await;
    assert_eq!(feed[0].action, Action::KeyAuthFailed, "failed authentications are recorded with the Key ID: {feed:?}");
}

backend_test!(basic_auth_and_the_organization_header_are_checked);
async fn basic_auth_and_the_organization_header_are_checked(app: TestApp) {
    let token = key_for(&app, "barbara@sunrise.test", &[]).await;
    let user = domain::accounts::find_user_by_email(&app.state.db, "barbara@sunrise.test").await.unwrap();
    let me = domain::accounts::current_user(&app.state.db, user.id).await.unwrap().unwrap();
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} });
    let basic = |account: String| format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{account}:{token}")));
    assert_eq!(post(&app, Some(&basic(me.company_account.to_string())), body.clone(), &[]).await.status, StatusCode::OK);
    let wrong_account = post(&app, Some(&basic("11111111".into())), body.clone(), &[]).await;
    assert_eq!(wrong_account.status, StatusCode::UNAUTHORIZED);
    let bearer = format!("Bearer {token}");
    let right_org = post(&app, Some(&bearer), body.clone(), &[("x-organization-id", &me.company_id.to_string())]).await;
    assert_eq!(right_org.status, StatusCode::OK);
    let wrong_org = post(&app, Some(&bearer), body.clone(), &[("x-organization-id", "999999")]).await;
    assert_eq!(wrong_org.status, StatusCode::FORBIDDEN);
    assert_eq!(wrong_org.json()["code"], "organization_mismatch");
    let foreign_origin = post(&app, Some(&bearer), body.clone(), &[("origin", "https://evil.example")]).await;
    assert_eq!(foreign_origin.status, StatusCode::FORBIDDEN, "{}", foreign_origin.body);
    let own_origin = post(&app, Some(&bearer), body.clone(), &[("origin", "http://127.0.0.1:3000")]).await;
    assert_eq!(own_origin.status, StatusCode::OK);
}

backend_test!(tool_calls_are_on_the_activity_feed_attributed_to_the_owner);
async fn tool_calls_are_on_the_activity_feed_attributed_to_the_owner(app: TestApp) {
    let token = key_for(&app, "barbara@sunrise.test", &[]).await;
    call(&app, &token, "list_visits", json!({ "from": "2000-01-01", "to": "2100-01-01" })).await;
    call(&app, &token, "list_patients", json!({})).await;
    let key_id = &token[8..16];
    app.state.activity.flush().await;
    let root = app.login("root@sunrise.test").await;
    let events: Vec<(String, String, String)> = key_feed(&app, &root, key_id)
        .await
        .into_iter()
        .filter(|e| e.action == Action::KeyUsed)
        .map(|e| (e.actor_name.unwrap(), e.target, e.key_id.unwrap()))
        .collect();
    assert_eq!(
        events,
        vec![
            ("Barbara Lee".to_owned(), "MCP tool list_patients".to_owned(), key_id.to_owned()),
            ("Barbara Lee".to_owned(), "MCP tool list_visits".to_owned(), key_id.to_owned()),
        ]
    );
}

backend_test!(a_burst_of_the_same_tool_call_is_one_feed_entry_counting_the_calls);
async fn a_burst_of_the_same_tool_call_is_one_feed_entry_counting_the_calls(app: TestApp) {
    let token = key_for(&app, "barbara@sunrise.test", &[]).await;
    // Sent at once, as a busy client does: they reach the writer within one batch.
    futures_util::future::join_all((0..6).map(|_| call(&app, &token, "whoami", json!({})))).await;
    app.state.activity.flush().await;
    let root = app.login("root@sunrise.test").await;
    let bursts: Vec<u32> =
        key_feed(&app, &root, &token[8..16]).await.into_iter().filter(|e| e.target == "MCP tool whoami").map(|e| e.repeats).collect();
    assert_eq!(bursts.iter().sum::<u32>(), 6, "every call is counted: {bursts:?}");
    assert!(bursts.len() < 6, "calls within one batch share an entry: {bursts:?}");
}

backend_test!(paths_outside_caregates_oauth_metadata_answer_json_404_and_get_is_405);
async fn paths_outside_caregates_oauth_metadata_answer_json_404_and_get_is_405(app: TestApp) {
    for path in ["/.well-known/openid-configuration", "/.well-known/oauth-authorization-server/api/mcp", "/register", "/authorize", "/token"] {
        let response = app.get(path, None).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(response.json()["code"], "not_found", "{path} answers JSON, never the HTML app");
    }
    let token = key_for(&app, "office@sunrise.test", &[]).await;
    let get = app.send(Request::get("/api/mcp").header(http::header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap()).await;
    assert_eq!(get.status, StatusCode::METHOD_NOT_ALLOWED);
    let missing = post(&app, None, json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }), &[]).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert_eq!(missing.json()["code"], "missing_key");
    let with_key = post(&app, Some(&format!("Bearer {token}")), json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list" }), &[]).await;
    assert_eq!(with_key.status, StatusCode::OK, "a request with a working key never starts OAuth");
    assert!(with_key.headers.get("www-authenticate").is_none());
}

/// Writes `request` on `stream` (its body 50 ms after its head) and reads one HTTP/1.1 answer (its head and a `Content-Length` body): the status
/// and the head, or `None` when the server closed the connection instead of answering.
async fn exchange(stream: &mut tokio::net::TcpStream, request: &str) -> Option<(u16, String)> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The head first and the body a moment later, as a client streaming its body does: the answer may come first.
    let (head, body) = request.split_at(request.find("\r\n\r\n").map_or(request.len(), |end| end + 4));
    stream.write_all(head.as_bytes()).await.ok()?;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    stream.write_all(body.as_bytes()).await.ok()?;
    let mut received = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let text = String::from_utf8_lossy(&received).into_owned();
        if let Some(end) = text.find("\r\n\r\n") {
            let head = text[..end].to_ascii_lowercase();
            let length: usize = head.lines().find_map(|line| line.strip_prefix("content-length:")).map_or(0, |value| value.trim().parse().unwrap());
            if received.len() >= end + 4 + length {
                let status = head.split(' ').nth(1)?.parse().ok()?;
                return Some((status, head));
            }
        }
        let read = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut chunk)).await.ok()?.ok()?;
        if read == 0 {
            return None;
        }
        received.extend_from_slice(&chunk[..read]);
    }
}

backend_test!(a_refused_request_leaves_its_connection_usable_for_the_next_one);
async fn a_refused_request_leaves_its_connection_usable_for_the_next_one(app: TestApp) {
    let address = app.serve_on_loopback().await;
    let token = key_for(&app, "barbara@sunrise.test", &[]).await;
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} }).to_string();
    let post = |authorization: &str| {
        format!(
            "POST /api/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {authorization}\r\nAccept: application/json, text/event-stream\r\n\
             Content-Type: application/json\r\nMCP-Protocol-Version: 2025-06-18\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
    };

    let (status, head) =
        exchange(&mut stream, &post(&format!("Bearer {}", crate::helpers::forge_secret(&token)))).await.expect("an answer to the refused request");
    assert_eq!(status, 401);
    assert!(!head.contains("connection: close"), "the refusal keeps the connection: {head}");
    let (status, _) = exchange(&mut stream, &post(&format!("Bearer {token}"))).await.expect("the same connection answers the next request");
    assert_eq!(status, 200);

    // A body announced larger than a refusal reads is not read: the answer says the connection closes.
    let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
    let announced = "POST /api/mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer cg_test_nothing\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n";
    let (status, head) = exchange(&mut stream, announced).await.expect("an answer before the body");
    assert_eq!(status, 401);
    assert!(head.contains("connection: close"), "{head}");
}
