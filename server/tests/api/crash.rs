//! Crash safety: the real `caregate serve` is killed with SIGKILL in the middle of a burst of mints and
//! revokes (SQLite in WAL mode, and PostgreSQL). After a restart every key a client was told exists exists,
//! every revocation a client was told happened holds, and nothing is half-written.
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use app::api::keys::{ConfirmPassword, RevokeKey};
use app::model::MintedKey;
use domain::keys::principal::KeyAuthError;
use domain::keys::service::{self, Actor};
use domain::model::KeyFilter;
use leptos::server_fn::ServerFn;
use rand::Rng;
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{authenticate, backend_test, fresh_database, new_key, sign_in, ArgumentCodec, Backend};

/// The key that seals two-factor seeds, shared by every process of the deployment (required with PostgreSQL).
pub(crate) const TEST_SECRET_KEY: &str = "5ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2e75ec2";

/// A minimal HTTP/1.1 exchange over a fresh connection: status and body, or an I/O error once the server
/// is gone.
async fn exchange(port: u16, path: &str, headers: &[(&str, &str)], body: &str) -> std::io::Result<(u16, String, String)> {
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    let mut request = format!("POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    request.push_str(body);
    stream.write_all(request.as_bytes()).await?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await?;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").ok_or_else(|| std::io::Error::other("incomplete response"))?;
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).ok_or_else(|| std::io::Error::other("no status"))?;
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") { dechunk(body) } else { body.to_owned() };
    Ok((status, head.to_owned(), body))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(size) = usize::from_str_radix(size.trim(), 16) else { break };
        if size == 0 || rest.len() < size {
            break;
        }
        out.push_str(&rest[..size]);
        body = rest[size..].trim_start_matches("\r\n");
    }
    out
}

/// Calls the server function `F` on the server at `port` as the browser does, optionally with a session cookie.
async fn call<F>(port: u16, arguments: &F, cookie: Option<&str>) -> std::io::Result<(u16, String, String)>
where
    F: ServerFn + Serialize,
    F::Protocol: ArgumentCodec,
{
    let mut headers = vec![("Content-Type", <F::Protocol as ArgumentCodec>::CONTENT_TYPE), ("Accept", "application/json")];
    if let Some(cookie) = cookie {
        headers.push(("Cookie", cookie));
    }
    exchange(port, F::PATH, &headers, &<F::Protocol as ArgumentCodec>::encode(arguments)).await
}

/// A running `caregate serve` and its port; killed (and waited for) on drop.
pub(crate) struct Server(Child, pub(crate) u16);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `caregate serve` on `url` and waits until it is ready.
pub(crate) async fn start(url: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    // Owned by the returned `Server` (which kills and waits for it on drop), or killed below if it never
    // becomes ready.
    let mut child = Command::new(env!("CARGO_BIN_EXE_caregate"))
        .arg("serve")
        .env("DATABASE_URL", url)
        .env("CAREGATE_SECRET_KEY", TEST_SECRET_KEY)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("CAREGATE_PUBLIC_URL", format!("http://127.0.0.1:{port}"))
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start caregate serve");
    for _ in 0..200 {
        if let Ok(mut stream) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            let _ = stream.write_all(b"GET /readyz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await;
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer).await;
            if answer.starts_with("HTTP/1.1 200") {
                return Server(child, port);
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("caregate serve did not become ready");
}

/// Signs in and confirms the password; returns the session cookie.
async fn session(port: u16, email: &str) -> String {
    let (status, head, body) = call(port, &sign_in(email, domain::demo::DEMO_PASSWORD), None).await.unwrap();
    assert_eq!(status, 200, "{body}");
    let cookie = head.lines().find_map(|l| l.strip_prefix("set-cookie: caregate_session=")).unwrap().split(';').next().unwrap();
    let cookie = format!("caregate_session={cookie}");
    let confirm = ConfirmPassword { password: domain::demo::DEMO_PASSWORD.to_owned() };
    let (status, _, body) = call(port, &confirm, Some(&cookie)).await.unwrap();
    assert_eq!(status, 200, "{body}");
    cookie
}

#[derive(Default)]
struct Confirmed {
    /// (Key ID, token) of every mint answered 200.
    minted: Vec<(String, String)>,
    /// Key IDs of every revoke answered 200.
    revoked: Vec<String>,
}

/// Mints and revokes until the server stops answering.
async fn burst(port: u16, cookie: String, confirmed: Arc<Mutex<Confirmed>>) {
    for n in 0.. {
        let Ok((status, _, answer)) = call(port, &new_key(&format!("Burst {n}"), None, &["read:visits"]), Some(&cookie)).await else { return };
        assert_eq!(status, 200, "{answer}");
        let minted: MintedKey = serde_json::from_str(&answer).unwrap();
        let key_id = minted.key.key_id;
        confirmed.lock().unwrap().minted.push((key_id.clone(), minted.token.expose().to_owned()));
        let Ok((status, _, answer)) = call(port, &RevokeKey { key_id: key_id.clone() }, Some(&cookie)).await else { return };
        assert_eq!(status, 200, "{answer}");
        confirmed.lock().unwrap().revoked.push(key_id);
    }
}

backend_test!(a_server_killed_mid_burst_keeps_every_confirmed_key_and_revocation);
async fn a_server_killed_mid_burst_keeps_every_confirmed_key_and_revocation(backend: Backend) {
    let (url, _dir) = fresh_database(backend).await;
    let seeded = Command::new(env!("CARGO_BIN_EXE_caregate"))
        .args(["seed", "--demo"])
        .env("DATABASE_URL", &url)
        .env("CAREGATE_SECRET_KEY", TEST_SECRET_KEY)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(seeded.success());
    let mut server = start(&url).await;
    let port = server.1;
    let confirmed = Arc::new(Mutex::new(Confirmed::default()));
    let mut clients = Vec::new();
    for email in ["root@sunrise.test", "root@sunrise.test", "office@sunrise.test", "barbara@sunrise.test"] {
        let cookie = session(port, email).await;
        clients.push(tokio::spawn(burst(port, cookie, confirmed.clone())));
    }
    tokio::time::sleep(Duration::from_millis(rand::thread_rng().gen_range(1_500..2_500))).await;
    server.0.kill().expect("SIGKILL");
    server.0.wait().unwrap();
    for client in clients {
        client.await.unwrap();
    }
    let confirmed = std::mem::take(&mut *confirmed.lock().unwrap());
    assert!(confirmed.minted.len() >= 8, "the burst ran before the kill: {} mints", confirmed.minted.len());

    let restarted = start(&url).await;
    let db = domain::db::connect(&url).await.unwrap();
    let now = chrono::Utc::now();
    for (key_id, token) in &confirmed.minted {
        let revoked = confirmed.revoked.contains(key_id);
        match authenticate(&db, token, now).await {
            Ok(_) => assert!(!revoked, "confirmed revocation of {key_id} was lost"),
            Err(KeyAuthError::Revoked { .. }) => {}
            Err(other) => panic!("confirmed key {key_id} is missing or damaged: {other}"),
        }
    }
    let filter = KeyFilter { user_id: None, status: None, search: None, page: 1, per_page: 20 };
    let stored = service::list(&db, &Actor::Operator, filter, now).await.unwrap().total;
    let minted_events = domain::activity::count_for_action(&db, domain::model::Action::KeyMinted).await.unwrap();
    assert_eq!(minted_events, stored, "every stored key has its mint event and no event lacks its key");
    // The restarted server agrees: a confirmed revocation is refused, over HTTP.
    if let Some(key_id) = confirmed.revoked.first() {
        let token = &confirmed.minted.iter().find(|(id, _)| id == key_id).unwrap().1;
        let bearer = format!("Bearer {token}");
        let mcp =
            serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "whoami", "arguments": {} } }).to_string();
        let headers = [("Authorization", bearer.as_str()), ("Content-Type", "application/json"), ("Accept", "application/json, text/event-stream")];
        let (status, _, body) = exchange(restarted.1, "/api/mcp", &headers, &mcp).await.unwrap();
        assert_eq!(status, 401, "{body}");
        assert!(body.contains("revoked_key"), "{body}");
    }
    db.close().await.ok();
}
