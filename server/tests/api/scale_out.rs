//! Scale-out: a change that takes access away holds on every server process before the call that made it
//! returns, although each process keeps what it read about a credential for up to
//! [`domain::keys::freshness::STALENESS`]. Node B verifies a credential right before node A changes it, and B's
//! very next request is refused — for revocation, expiry, deactivation, demotion, an allowlist, a lower budget,
//! a bulk revocation, a roll, a leak report and OAuth revocation. On PostgreSQL two real `caregate serve`
//! processes show the same, and a process whose database connection is cut stops accepting within the bound
//! (503) and recovers by itself.
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use app::api::keys::{RevokeAllKeys, RevokeKey, RollKey, SetKeyAllowlist, UpdateKeyPolicy};
use app::api::people::{DeactivatePerson, SetPersonRole};
use app::model::{KeyPolicy, RevokeAllOf, RollOverlap, Scope};
use axum::body::Body;
use chrono::Utc;
use domain::keys::freshness::STALENESS;
use domain::model::UserId;
use domain::Role;
use http::{Request, StatusCode};
use sea_orm::{ConnectionTrait, Statement};
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use crate::crash::{start, TEST_SECRET_KEY};
use crate::helpers::{backend_test, fresh_postgres, Backend, TestApp, TestResponse};

/// Node A (the app), node B (another process on the same database), and a key of `email`'s with every scope
/// their role allows, minted on A: (node B, `email`'s session on A, Key ID, token).
async fn two_nodes_and_a_key(app: &TestApp, email: &str) -> (TestApp, String, String, String) {
    let node_b = app.another_node();
    let cookie = app.login_for_keys(email).await;
    let (key_id, token) = app.mint_ok(&cookie, "Used on every node").await;
    (node_b, cookie, key_id, token)
}

/// Node B's request right before the change: it holds a fresh copy of what it read.
async fn warm(node_b: &TestApp, token: &str) {
    let answer = node_b.me(token).await;
    assert_eq!(answer.status, StatusCode::OK, "node B accepts the key before the change: {}", answer.body);
}

/// Asserts that a refusal answers `status` with `code`.
fn assert_refused(answer: &TestResponse, status: StatusCode, code: &str) {
    assert_eq!((answer.status, answer.json()["code"].as_str()), (status, Some(code)), "node B's very next request: {}", answer.body);
}

async fn id_of(app: &TestApp, email: &str) -> UserId {
    domain::accounts::find_user_by_email(&app.state.db, email).await.unwrap().id
}

/// `GET /api/v1/me` with `token` from the client address `peer`.
async fn me_from(node: &TestApp, peer: &str, token: &str) -> TestResponse {
    let request = Request::get("/api/v1/me").header(http::header::AUTHORIZATION, format!("Bearer {token}")).body(Body::empty()).unwrap();
    node.send_from(peer, request).await
}

/// Calls the MCP tool `tool` with `token`; the JSON-RPC result.
async fn tool(node: &TestApp, token: &str, tool: &str) -> Value {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": tool, "arguments": {} } });
    let answer = node.mcp_post(Some(&format!("Bearer {token}")), body.to_string(), &[]).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.json()["result"].clone()
}

backend_test!(a_key_revoked_on_one_node_is_refused_by_another_at_its_very_next_request);
async fn a_key_revoked_on_one_node_is_refused_by_another_at_its_very_next_request(app: TestApp) {
    let (node_b, cookie, key_id, token) = two_nodes_and_a_key(&app, "office@sunrise.test").await;
    warm(&node_b, &token).await;
    assert_eq!(app.call(RevokeKey { key_id }, Some(&cookie)).await.status, StatusCode::OK);
    assert_refused(&node_b.me(&token).await, StatusCode::UNAUTHORIZED, "revoked_key");
}

backend_test!(a_key_is_refused_by_a_warm_node_as_soon_as_its_expiry_passes);
async fn a_key_is_refused_by_a_warm_node_as_soon_as_its_expiry_passes(app: TestApp) {
    let (node_b, _, key_id, token) = two_nodes_and_a_key(&app, "office@sunrise.test").await;
    let expires_at = Utc::now() + chrono::Duration::seconds(2);
    let backend = app.state.db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE api_keys SET expires_at = $1 WHERE key_id = $2",
        _ => "UPDATE api_keys SET expires_at = ? WHERE key_id = ?",
    };
    app.state.db.execute(Statement::from_sql_and_values(backend, sql, [expires_at.into(), key_id.into()])).await.unwrap();
    warm(&node_b, &token).await;
    assert!(Utc::now() < expires_at, "node B verified the key before its expiry");
    tokio::time::sleep((expires_at - Utc::now()).to_std().unwrap_or_default()).await;
    assert_refused(&node_b.me(&token).await, StatusCode::UNAUTHORIZED, "expired_key");
}

backend_test!(deactivating_the_owner_on_one_node_stops_their_key_on_another_at_its_very_next_request);
async fn deactivating_the_owner_on_one_node_stops_their_key_on_another_at_its_very_next_request(app: TestApp) {
    let (node_b, _, _, token) = two_nodes_and_a_key(&app, "barbara@sunrise.test").await;
    let root = app.login("root@sunrise.test").await;
    let barbara = id_of(&app, "barbara@sunrise.test").await;
    warm(&node_b, &token).await;
    assert_eq!(app.call(DeactivatePerson { user_id: barbara }, Some(&root)).await.status, StatusCode::OK);
    assert_refused(&node_b.me(&token).await, StatusCode::UNAUTHORIZED, "inactive_user");
}

backend_test!(demoting_the_owner_on_one_node_takes_the_lost_scope_from_their_key_on_another_at_its_very_next_request);
async fn demoting_the_owner_on_one_node_takes_the_lost_scope_from_their_key_on_another_at_its_very_next_request(app: TestApp) {
    let (node_b, _, _, token) = two_nodes_and_a_key(&app, "office@sunrise.test").await;
    let root = app.login("root@sunrise.test").await;
    let office = id_of(&app, "office@sunrise.test").await;
    let patients = tool(&node_b, &token, "list_patients").await;
    assert_eq!(patients["isError"], false, "an office User's key reads patients: {patients}");
    assert_eq!(app.call(SetPersonRole { user_id: office, role: Role::Caregiver }, Some(&root)).await.status, StatusCode::OK);
    let refused = tool(&node_b, &token, "list_patients").await;
    assert_eq!(refused["isError"], true, "node B's very next call: {refused}");
    assert_eq!(refused["content"][0]["text"], "Insufficient scope. Required: read:patients");
}

backend_test!(an_allowlist_set_on_one_node_refuses_the_key_from_elsewhere_on_another_at_its_very_next_request);
async fn an_allowlist_set_on_one_node_refuses_the_key_from_elsewhere_on_another_at_its_very_next_request(app: TestApp) {
    let (node_b, cookie, key_id, token) = two_nodes_and_a_key(&app, "office@sunrise.test").await;
    let elsewhere = "203.0.113.9";
    assert_eq!(me_from(&node_b, elsewhere, &token).await.status, StatusCode::OK, "usable from anywhere at first");
    let allowlist = SetKeyAllowlist { key_id, allowed_ips: vec!["198.51.100.0/24".to_owned()] };
    assert_eq!(app.call(allowlist, Some(&cookie)).await.status, StatusCode::OK);
    assert_refused(&me_from(&node_b, elsewhere, &token).await, StatusCode::FORBIDDEN, "ip_not_allowed");
    assert_eq!(me_from(&node_b, "198.51.100.7", &token).await.status, StatusCode::OK, "from the listed network it still works");
}

backend_test!(a_budget_lowered_on_one_node_throttles_a_key_on_another_at_its_very_next_request);
async fn a_budget_lowered_on_one_node_throttles_a_key_on_another_at_its_very_next_request(app: TestApp) {
    let (node_b, _, _, token) = two_nodes_and_a_key(&app, "office@sunrise.test").await;
    let root = app.login("root@sunrise.test").await;
    let lowered = KeyPolicy { requests_per_minute: 10, ..KeyPolicy::default() };
    // Budgets count per minute of the clock: the requests and the check below fall in one.
    crate::helpers::clear_of_a_window_boundary(std::time::Duration::from_secs(60), std::time::Duration::from_secs(15)).await;
    for _ in 0..lowered.requests_per_minute {
        warm(&node_b, &token).await;
    }
    assert_eq!(app.call(UpdateKeyPolicy { policy: lowered }, Some(&root)).await.status, StatusCode::OK);
    assert_refused(&node_b.me(&token).await, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
}

backend_test!(revoking_every_key_of_a_person_on_one_node_refuses_them_on_another_at_their_very_next_request);
async fn revoking_every_key_of_a_person_on_one_node_refuses_them_on_another_at_their_very_next_request(app: TestApp) {
    let (node_b, _, _, token) = two_nodes_and_a_key(&app, "barbara@sunrise.test").await;
    let root = app.login("root@sunrise.test").await;
    let barbara = id_of(&app, "barbara@sunrise.test").await;
    warm(&node_b, &token).await;
    assert_eq!(app.call(RevokeAllKeys { of: RevokeAllOf::Person(barbara) }, Some(&root)).await.output(), 1);
    assert_refused(&node_b.me(&token).await, StatusCode::UNAUTHORIZED, "revoked_key");
}

backend_test!(a_key_rolled_now_on_one_node_is_refused_by_another_at_its_very_next_request);
async fn a_key_rolled_now_on_one_node_is_refused_by_another_at_its_very_next_request(app: TestApp) {
    let (node_b, cookie, key_id, token) = two_nodes_and_a_key(&app, "office@sunrise.test").await;
    warm(&node_b, &token).await;
    let rolled = app.call(RollKey { key_id, overlap: RollOverlap::Now }, Some(&cookie)).await.output();
    assert_refused(&node_b.me(&token).await, StatusCode::UNAUTHORIZED, "expired_key");
    assert_eq!(node_b.me(rolled.token.expose()).await.status, StatusCode::OK, "its successor works");
}

backend_test!(a_key_reported_as_leaked_on_one_node_is_refused_by_another_at_its_very_next_request);
async fn a_key_reported_as_leaked_on_one_node_is_refused_by_another_at_its_very_next_request(app: TestApp) {
    let (node_b, _, _, token) = two_nodes_and_a_key(&app, "office@sunrise.test").await;
    warm(&node_b, &token).await;
    let report = Request::post("/api/v1/credentials/revoke")
        .header("content-type", "application/json")
        .body(Body::from(json!({ "credentials": [token] }).to_string()))
        .unwrap();
    assert_eq!(app.send_from("198.51.100.23", report).await.status, StatusCode::ACCEPTED);
    assert_refused(&node_b.me(&token).await, StatusCode::UNAUTHORIZED, "revoked_key");
}

backend_test!(an_oauth_access_token_revoked_on_one_node_is_refused_by_another_at_its_very_next_request);
async fn an_oauth_access_token_revoked_on_one_node_is_refused_by_another_at_its_very_next_request(app: TestApp) {
    let node_b = app.another_node();
    let (_, tokens) = crate::oauth::connect(&app, "office@sunrise.test", &[Scope::ReadVisits]).await;
    let access = tokens["access_token"].as_str().unwrap();
    assert_eq!(crate::oauth::mcp(&node_b, access, "tools/list", json!({})).await.status, StatusCode::OK);
    let revoked = app.post_raw("/oauth/revoke", "application/x-www-form-urlencoded", format!("token={access}"), None).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_refused(&crate::oauth::mcp(&node_b, access, "tools/list", json!({})).await, StatusCode::UNAUTHORIZED, "revoked_key");
}

backend_test!(a_refresh_on_one_node_ends_the_earlier_access_token_on_another_before_it_answers);
async fn a_refresh_on_one_node_ends_the_earlier_access_token_on_another_before_it_answers(app: TestApp) {
    let node_b = app.another_node();
    let (client_id, tokens) = crate::oauth::connect(&app, "office@sunrise.test", &[Scope::ReadVisits]).await;
    let first = tokens["access_token"].as_str().unwrap();
    assert_eq!(crate::oauth::mcp(&node_b, first, "tools/list", json!({})).await.status, StatusCode::OK);
    let rotated = crate::oauth::refresh(&app, &client_id, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(rotated.status, StatusCode::OK, "{}", rotated.body);
    assert_eq!(crate::oauth::mcp(&node_b, first, "tools/list", json!({})).await.status, StatusCode::UNAUTHORIZED);

    // A replayed refresh token revokes the connection before the replay is answered.
    let second = rotated.json()["access_token"].as_str().unwrap().to_owned();
    assert_eq!(crate::oauth::mcp(&node_b, &second, "tools/list", json!({})).await.status, StatusCode::OK);
    let replayed = crate::oauth::refresh(&app, &client_id, tokens["refresh_token"].as_str().unwrap()).await;
    assert_eq!(replayed.json()["error"], "invalid_grant");
    assert_refused(&crate::oauth::mcp(&node_b, &second, "tools/list", json!({})).await, StatusCode::UNAUTHORIZED, "revoked_key");
}

/// A loopback TCP proxy in front of a database server, which the test can cut (every open connection is
/// closed and new ones are dropped at once) and restore. Stops with its connections on drop.
struct Proxy {
    port: u16,
    cut: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (cut, is_cut) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                if *is_cut.borrow() {
                    continue;
                }
                let mut is_cut = is_cut.clone();
                let upstream = upstream.clone();
                connections.spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = is_cut.wait_for(|cut| *cut) => {}
                    }
                });
            }
        });
        Proxy { port, cut, task }
    }

    fn cut(&self) {
        self.cut.send_replace(true);
    }

    fn restore(&self) {
        self.cut.send_replace(false);
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Runs the `caregate` command line on `url`; its standard output.
fn caregate(url: &str, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_caregate"))
        .args(args)
        .env("DATABASE_URL", url)
        .env("CAREGATE_SECRET_KEY", TEST_SECRET_KEY)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::inherit())
        .output()
        .expect("run caregate");
    assert!(output.status.success(), "caregate {args:?} failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A fresh key with every scope for the office User, minted at the command line: (Key ID, token).
fn mint(url: &str, label: &str) -> (String, String) {
    let token = caregate(url, &["keys", "mint", "--email", "office@sunrise.test", "--label", label, "--all-scopes"]).trim().to_owned();
    let parsed = domain::keys::token::parse(&token, domain::keys::token::TokenEnvironment::Test).expect("a test token");
    (parsed.key_id.to_string(), token)
}

/// The status of `GET /api/v1/me` with `token` on the server at `port`, over a fresh connection.
async fn me_status(port: u16, token: &str) -> u16 {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).await.expect("the server listens");
    let request = format!("GET /api/v1/me HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nAuthorization: Bearer {token}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer.split(' ').nth(1).and_then(|status| status.parse().ok()).unwrap_or_else(|| panic!("not an HTTP answer: {answer}"))
}

/// What a node may still answer after its database went away: its copies age out within [`STALENESS`], and a
/// request then waits for the failed read; this is the slack on top for a loaded machine.
const CUT_SLACK: Duration = Duration::from_millis(300);

#[tokio::test(flavor = "multi_thread")]
async fn two_server_processes_refuse_a_revoked_key_at_once_and_one_cut_off_from_the_database_fails_closed_and_recovers() {
    Backend::Postgres.run(two_processes).await;
}

async fn two_processes(_: Backend) {
    let url = fresh_postgres().await;
    caregate(&url, &["seed", "--demo"]);
    let (authority, database) = url.split_once('@').and_then(|(_, rest)| rest.split_once('/')).expect("postgres://user:pass@host:port/db");
    let proxy = Proxy::start(authority.to_owned()).await;
    let through_proxy = url.replace(&format!("@{authority}/{database}"), &format!("@127.0.0.1:{}/{database}", proxy.port));
    let node_a = start(&url).await;
    let node_b = start(&through_proxy).await;

    let (revoked_id, revoked) = mint(&url, "Revoked on the other process");
    assert_eq!(me_status(node_b.1, &revoked).await, 200, "node B accepts the key");
    caregate(&url, &["keys", "revoke", &revoked_id]);
    assert_eq!(me_status(node_b.1, &revoked).await, 401, "node B refuses it at its very next request after the revoke returned");
    assert_eq!(me_status(node_a.1, &revoked).await, 401);

    let (_, token) = mint(&url, "Used while the database is cut off");
    assert_eq!(me_status(node_b.1, &token).await, 200, "node B is warm");
    proxy.cut();
    let cut_at = Instant::now();
    let mut answers = Vec::new();
    while cut_at.elapsed() < Duration::from_secs(3) {
        let sent = cut_at.elapsed();
        answers.push((sent, me_status(node_b.1, &token).await));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let late: Vec<u16> = answers.iter().filter(|(sent, _)| *sent >= STALENESS + CUT_SLACK).map(|(_, status)| *status).collect();
    assert!(late.len() >= 2, "node B answered while cut off: {answers:?}");
    assert!(late.iter().all(|status| *status == 503), "node B fails closed with 503 once its copy is older than the bound: {answers:?}");
    assert_eq!(me_status(node_a.1, &token).await, 200, "node A, still connected, is unaffected");

    proxy.restore();
    let restored_at = Instant::now();
    loop {
        if me_status(node_b.1, &token).await == 200 {
            break;
        }
        assert!(restored_at.elapsed() < Duration::from_secs(10), "node B did not recover by itself within 10 s of the database coming back");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
