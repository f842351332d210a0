//! Hostile input: random `Authorization` headers, broken JSON-RPC, oversized and mistyped bodies, and labels
//! carrying markup or spoofing characters. Every answer is a clear 4xx or JSON-RPC error, promptly.
use std::time::Duration;

use app::model::KeyFilter;
use http::StatusCode;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use crate::helpers::{backend_test, TestApp, TestResponse};

/// Random header values: arbitrary visible bytes, scheme-like prefixes, and near-tokens with one change.
fn random_authorization(rng: &mut StdRng, real_token: &str) -> Vec<u8> {
    let length = rng.gen_range(0..120);
    let noise: Vec<u8> = (0..length)
        .map(|_| match rng.gen_range(0..10) {
            0 => b'\t',
            1 => rng.gen_range(0x80..=0xFF),
            _ => rng.gen_range(0x20..0x7F),
        })
        .collect();
    match rng.gen_range(0..6) {
        0 => noise,
        1 => [b"Bearer ".as_slice(), &noise].concat(),
        2 => [b"Basic ".as_slice(), &noise].concat(),
        3 => [b"Bearer cg_test_".as_slice(), &noise].concat(),
        4 => {
            let encoded = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &noise);
            format!("Basic {encoded}").into_bytes()
        }
        _ => {
            let mut near = format!("Bearer {real_token}").into_bytes();
            let at = rng.gen_range(7..near.len());
            near[at] = rng.gen_range(0x21..0x7F);
            if near == format!("Bearer {real_token}").into_bytes() {
                near.push(b'x');
            }
            near
        }
    }
}

async fn within_five_seconds(app: &TestApp, request: http::Request<axum::body::Body>) -> TestResponse {
    tokio::time::timeout(Duration::from_secs(5), app.send(request)).await.expect("answered without hanging")
}

backend_test!(thousands_of_random_authorization_headers_get_401_without_touching_the_database);
async fn thousands_of_random_authorization_headers_get_401_without_touching_the_database(app: TestApp) {
    let (_, token) = app.mint_ok(&app.login_for_keys("office@sunrise.test").await, "Fuzz").await;
    // With the pool closed, any database access would answer 503: every refusal below is decided before it.
    app.state.db.close_by_ref().await.unwrap();
    let mut rng = StdRng::seed_from_u64(0xCA7E);
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} }).to_string();
    let mut near_misses = 0;
    for case in 0..3_000 {
        let value = random_authorization(&mut rng, &token);
        let Ok(header) = http::HeaderValue::from_bytes(&value) else { continue };
        let mut request = http::Request::post("/api/mcp").header("host", "127.0.0.1:3000").header("content-type", "application/json");
        request = request.header("accept", "application/json, text/event-stream").header(http::header::AUTHORIZATION, header);
        let response = within_five_seconds(&app, request.body(body.clone().into()).unwrap()).await;
        let code = response.json()["code"].as_str().unwrap_or_default().to_owned();
        if code == "unavailable" {
            // Only a correctly formed token with a valid checksum may reach the database.
            near_misses += 1;
            assert!(
                String::from_utf8_lossy(&value).contains(&token[..16]),
                "case {case}: {:?} reached the database",
                String::from_utf8_lossy(&value)
            );
            continue;
        }
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "case {case}: {:?} → {}", String::from_utf8_lossy(&value), response.body);
        assert!(matches!(code.as_str(), "missing_key" | "malformed_key"), "case {case}: {code}");
    }
    assert!(near_misses < 30, "one-character changes are caught by the checksum: {near_misses} reached the database");
}

backend_test!(two_authorization_headers_are_refused_as_ambiguous);
async fn two_authorization_headers_are_refused_as_ambiguous(app: TestApp) {
    let (_, token) = app.mint_ok(&app.login_for_keys("office@sunrise.test").await, "Twice").await;
    let mut request = http::Request::post("/api/mcp").header("host", "127.0.0.1:3000").header("content-type", "application/json");
    request = request.header("accept", "application/json, text/event-stream");
    request = request.header("authorization", format!("Bearer {token}")).header("authorization", "Bearer cg_test_other");
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} }).to_string();
    let response = within_five_seconds(&app, request.body(body.into()).unwrap()).await;
    assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{}", response.body);
}

backend_test!(broken_json_rpc_unknown_methods_and_tools_get_errors_never_a_500);
async fn broken_json_rpc_unknown_methods_and_tools_get_errors_never_a_500(app: TestApp) {
    let (_, token) = app.mint_ok(&app.login_for_keys("office@sunrise.test").await, "Hostile").await;
    let bearer = format!("Bearer {token}");
    let bodies = [
        "{not json",
        "",
        "null",
        "[]",
        "{}",
        r#"{"jsonrpc":"1.0","id":1,"method":"tools/list"}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":5}"#,
        r#"{"jsonrpc":"2.0","id":{"nested":true},"method":"tools/list"}"#,
        r#"[{"jsonrpc":"2.0","id":1,"method":"tools/list"},{"jsonrpc":"2.0","id":2,"method":"tools/list"}]"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"get_visit","arguments":{"id":"not a number"}}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"list_visits","arguments":{"from":"yesterday"}}}"#,
        r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":{}}}"#,
    ];
    for body in bodies {
        let response = tokio::time::timeout(Duration::from_secs(5), app.mcp_post(Some(&bearer), body, &[])).await.expect("no hang");
        assert!(response.status.is_client_error() || response.status == StatusCode::OK, "{body:?} → {} {}", response.status, response.body);
        if response.status == StatusCode::OK {
            let json = response.json();
            assert!(json.get("error").is_some() || json["result"]["isError"] == true, "{body:?} must be refused: {json}");
        }
    }
    let unknown_method = app.mcp_post(Some(&bearer), r#"{"jsonrpc":"2.0","id":1,"method":"tools/destroy","params":{}}"#, &[]).await;
    assert_eq!(unknown_method.json()["error"]["code"], -32601, "{}", unknown_method.body);
    let unknown_tool =
        app.mcp_post(Some(&bearer), r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"drop_tables","arguments":{}}}"#, &[]).await;
    assert_eq!(unknown_tool.json()["error"]["code"], -32602, "{}", unknown_tool.body);
}

backend_test!(oversized_bodies_huge_headers_and_wrong_content_types_are_refused);
async fn oversized_bodies_huge_headers_and_wrong_content_types_are_refused(app: TestApp) {
    let (_, token) = app.mint_ok(&app.login_for_keys("office@sunrise.test").await, "Big").await;
    let bearer = format!("Bearer {token}");
    let padding = "x".repeat(2 * 1024 * 1024);
    let oversized = format!(r#"{{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{{"pad":"{padding}"}}}}"#);
    let response = app.mcp_post(Some(&bearer), oversized, &[]).await;
    assert_eq!(response.status, StatusCode::PAYLOAD_TOO_LARGE, "{}", &response.body[..response.body.len().min(200)]);

    let list = r#"{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}"#;
    let huge = "9".repeat(64 * 1024);
    let response = app.mcp_post(Some(&bearer), list, &[("x-organization-id", &huge)]).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN, "{}", response.body);

    for content_type in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"] {
        let response = app.mcp_post(Some(&bearer), list, &[("content-type", content_type)]).await;
        assert!(response.status.is_client_error(), "{content_type} → {} {}", response.status, response.body);
    }
    let response = app.mcp_post(Some(&bearer), list, &[("accept", "text/html")]).await;
    assert!(response.status.is_client_error(), "an Accept MCP cannot answer → {}", response.status);
}

backend_test!(labels_with_markup_are_stored_verbatim_and_rendered_as_text_and_spoofing_labels_are_refused);
async fn labels_with_markup_are_stored_verbatim_and_rendered_as_text_and_spoofing_labels_are_refused(app: TestApp) {
    let cookie = app.login_for_keys("root@sunrise.test").await;
    let markup = r#"<script>alert(1)</script><img src=x onerror=alert(2)>"#;
    let (key_id, _) = app.mint_ok(&cookie, markup).await;
    let listed = app.list_keys(&cookie, KeyFilter::default()).await;
    let stored = listed.keys.iter().find(|k| k.key_id == key_id).expect("listed");
    assert_eq!(stored.label, markup, "stored as typed");
    let page = app.get("/settings?tab=api-keys", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;"), "the label is on the page, escaped");
    assert!(!page.body.contains(markup) && !page.body.contains("<img src=x"), "never as markup");

    let long = "k".repeat(10_000);
    let response = app.mint(&cookie, &long).await;
    assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", &response.body[..response.body.len().min(200)]);
    assert!(response.error().to_string().contains("at most 100"));
    let spoof = app.mint(&cookie, "Claude\u{202E}txt.exe").await;
    assert_eq!(spoof.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", spoof.body);
    let rtl = app.mint(&cookie, "مفتاح العيادة").await;
    assert_eq!(rtl.status, StatusCode::OK, "{}", rtl.body);
}
