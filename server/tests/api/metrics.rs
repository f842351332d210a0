//! `/metrics`: exact numbers after known actions, one registry per app (process), and the separate listener of
//! `CAREGATE_METRICS_ADDR` on the real server.
use std::process::{Command, Stdio};
use std::time::Duration;

use app::state::AppState;
use axum::body::Body;
use domain::keys::verifier::MAX_FAILURES_PER_IP;
use http::{Request, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{backend_test, fresh_database, Backend, TestApp};

/// The value of the sample `name` (with its labels, as exposed) in `state`'s exposition; 0 when absent.
pub fn metric(state: &AppState, name: &str) -> u64 {
    let mut text = String::new();
    state.metrics.encode(&mut text).expect("the metrics encode");
    text.lines()
        .find_map(|line| line.strip_prefix(name)?.strip_prefix(' '))
        .map(|value| value.parse().unwrap_or_else(|_| panic!("{name} is not an integer in\n{text}")))
        .unwrap_or(0)
}

/// `GET /api/v1/me` with `token`, from the client address `peer`.
async fn me_from(app: &TestApp, peer: &str, token: &str) -> StatusCode {
    let request = Request::get("/api/v1/me").header(http::header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    app.send_from(peer, request).await.status
}

backend_test!(a_cold_and_a_warm_check_a_throttled_address_and_a_tool_call_give_exact_lines);
async fn a_cold_and_a_warm_check_a_throttled_address_and_a_tool_call_give_exact_lines(app: TestApp) {
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let (_, token) = app.mint_ok(&cookie, "Counted").await;

    assert_eq!(me_from(&app, "10.0.0.1", &token).await, StatusCode::OK, "cold: argon2 runs");
    let whoami = r#"{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"whoami","arguments":{}}}"#;
    let called = app.mcp_post(Some(&format!("Bearer {token}")), whoami, &[]).await;
    assert_eq!(called.status, StatusCode::OK, "warm, then one tool call: {}", called.body);
    // Unknown Key IDs cost no argon2 but count against the address, until it is refused outright.
    let unknown = || domain::keys::token::Token::generate(domain::keys::token::TokenEnvironment::Test).0;
    for _ in 0..MAX_FAILURES_PER_IP {
        assert_eq!(me_from(&app, "10.0.0.66", unknown().expose()).await, StatusCode::UNAUTHORIZED);
    }
    assert_eq!(me_from(&app, "10.0.0.66", unknown().expose()).await, StatusCode::TOO_MANY_REQUESTS, "the address is over its bound");
    app.state.activity.flush().await;

    let exposition = app.metrics().await;
    assert_eq!(exposition.status, StatusCode::OK);
    assert_eq!(exposition.headers[http::header::CONTENT_TYPE], "application/openmetrics-text; version=1.0.0; charset=utf-8");
    let lines: Vec<&str> = exposition.body.lines().collect();
    for line in [
        "caregate_key_verifications_total{code=\"ok\"} 2".to_owned(),
        format!("caregate_key_verifications_total{{code=\"invalid_key\"}} {MAX_FAILURES_PER_IP}"),
        "caregate_key_verifications_total{code=\"too_many_attempts\"} 1".to_owned(),
        "caregate_key_checks_total{path=\"warm\"} 1".to_owned(),
        "caregate_key_checks_total{path=\"cold\"} 1".to_owned(),
        "caregate_key_throttled_total 1".to_owned(),
        "caregate_argon2_seconds_count 1".to_owned(),
        "caregate_argon2_seconds_bucket{le=\"+Inf\"} 1".to_owned(),
        "caregate_mcp_tool_calls_total{tool=\"whoami\"} 1".to_owned(),
        "caregate_activity_events_total{result=\"written\"} 1".to_owned(),
        "caregate_activity_events_total{result=\"lost\"} 0".to_owned(),
        "caregate_activity_batches_total 1".to_owned(),
        "# EOF".to_owned(),
    ] {
        assert!(lines.contains(&line.as_str()), "missing {line:?} in\n{}", exposition.body);
    }
    assert_eq!(lines.iter().filter(|line| line.starts_with("caregate_mcp_tool_calls_total")).count(), 1, "only tools that were called");
}

backend_test!(every_process_reports_only_its_own_numbers);
async fn every_process_reports_only_its_own_numbers(app: TestApp) {
    let node_b = app.another_node();
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let (_, token) = app.mint_ok(&cookie, "Node B only").await;
    assert_eq!(node_b.me(&token).await.status, StatusCode::OK);
    assert_eq!(metric(&node_b.state, "caregate_key_verifications_total{code=\"ok\"}"), 1);
    assert_eq!(metric(&node_b.state, "caregate_key_checks_total{path=\"cold\"}"), 1);
    assert_eq!(metric(&app.state, "caregate_key_verifications_total{code=\"ok\"}"), 0, "node A saw nothing");
    assert_eq!(metric(&app.state, "caregate_key_checks_total{path=\"cold\"}"), 0);
}

/// `GET path` over a fresh connection: status and body.
async fn get(port: u16, path: &str) -> (u16, String) {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.expect("connect");
    stream.write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n").as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, answer)
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

backend_test!(the_real_server_serves_metrics_only_on_caregate_metrics_addr);
async fn the_real_server_serves_metrics_only_on_caregate_metrics_addr(backend: Backend) {
    let (url, _dir) = fresh_database(backend).await;
    let (port, metrics_port) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_caregate"))
        .arg("serve")
        .env("DATABASE_URL", &url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("CAREGATE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("CAREGATE_METRICS_ADDR", format!("127.0.0.1:{metrics_port}"))
        .env("CAREGATE_SECRET_KEY", "42".repeat(32))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start caregate serve");
    let mut ready = false;
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() && get(port, "/readyz").await.0 == 200 {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let internal = if ready { Some(get(metrics_port, "/metrics").await) } else { None };
    let public = if ready { Some(get(port, "/metrics").await.0) } else { None };
    let _ = child.kill();
    let _ = child.wait();
    let (status, answer) = internal.expect("caregate serve became ready");
    assert_eq!(status, 200, "{answer}");
    assert!(answer.to_ascii_lowercase().contains("content-type: application/openmetrics-text"), "{answer}");
    assert!(answer.contains("caregate_key_checks_total{path=\"cold\"} 0"), "{answer}");
    assert_eq!(public, Some(404), "never on the public listener");
}
