//! `spawn_apps()`: one fresh, migrated and seeded app per database backend, driven without a socket.
use axum::body::Body;
use axum::Router;
use http::header::{CONTENT_TYPE, COOKIE, SET_COOKIE};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use sea_orm::{ConnectionTrait, Database};
use tower::ServiceExt;

use app::state::AppState;
use domain::keys::principal::{KeyAuthError, KeyPrincipal};
use domain::keys::token::TokenEnvironment;
use domain::keys::verifier::Verifier;
use server::config::Config;
use server::startup::{build_router, build_state};

/// The environment variable naming a PostgreSQL server (any database on it) for the PostgreSQL pass.
pub const POSTGRES_URL_VAR: &str = "CAREGATE_TEST_POSTGRES_URL";

#[derive(Clone)]
pub struct TestApp {
    pub backend: &'static str,
    pub state: AppState,
    router: Router,
    _dir: Option<std::sync::Arc<TempDir>>,
}

/// A response, read whole.
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }

    pub fn location(&self) -> Option<&str> {
        self.headers.get(http::header::LOCATION).and_then(|v| v.to_str().ok())
    }

    /// The `name=value` part of the session cookie this response sets.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .get_all(SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with("caregate_session=") || v.starts_with("__Host-caregate_session="))
            .map(|v| v.split(';').next().unwrap_or_default().to_owned())
    }
}

/// A scratch directory removed on drop.
pub struct TempDir(pub std::path::PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn unique_name() -> String {
    use rand::Rng;
    format!("caregate_test_{}", rand::thread_rng().gen_range(0..u64::MAX))
}

/// A fresh SQLite file in a scratch directory.
pub fn fresh_sqlite() -> (String, TempDir) {
    let dir = std::env::temp_dir().join(unique_name());
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let url = format!("sqlite://{}/caregate.db?mode=rwc", dir.display());
    (url, TempDir(dir))
}

/// A fresh, empty PostgreSQL database on the server named by [`POSTGRES_URL_VAR`], if set.
pub async fn fresh_postgres() -> Option<String> {
    let admin_url = std::env::var(POSTGRES_URL_VAR).ok().filter(|v| !v.is_empty())?;
    let name = unique_name();
    let admin = Database::connect(&admin_url).await.expect("connect to the PostgreSQL test server");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create a test database");
    admin.close().await.ok();
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).expect("a URL with a database path");
    Some(format!("{base}/{name}"))
}

/// One app per backend, each on a fresh database with migrations applied and the demo data seeded.
pub async fn spawn_apps() -> Vec<TestApp> {
    spawn_apps_with(|_| {}).await
}

/// [`spawn_apps`] with settings changed from the test defaults (a public https URL, trusted proxies…).
pub async fn spawn_apps_with(configure: impl Fn(&mut Config)) -> Vec<TestApp> {
    let mut apps = Vec::new();
    for app in spawn_empty_apps_with(&configure).await {
        domain::demo::seed(&app.state.db).await.expect("seed demo data");
        apps.push(app);
    }
    apps
}

/// One app per backend on a fresh, migrated, empty database.
pub async fn spawn_empty_apps() -> Vec<TestApp> {
    spawn_empty_apps_with(&|_| {}).await
}

async fn spawn_empty_apps_with(configure: &dyn Fn(&mut Config)) -> Vec<TestApp> {
    server::telemetry::init();
    let (sqlite_url, dir) = fresh_sqlite();
    let mut apps = vec![spawn("sqlite", sqlite_url, Some(dir), configure).await];
    if let Some(postgres_url) = fresh_postgres().await {
        apps.push(spawn("postgres", postgres_url, None, configure).await);
    }
    apps
}

async fn spawn(backend: &'static str, database_url: String, dir: Option<TempDir>, configure: &dyn Fn(&mut Config)) -> TestApp {
    let mut config = Config::for_tests(&database_url);
    configure(&mut config);
    let state = build_state(&config).await.expect("build state");
    TestApp { backend, router: build_router(state.clone()), state, _dir: dir.map(std::sync::Arc::new) }
}

impl TestApp {
    /// Sends `request` as if it arrived over TCP from `peer` (what `ConnectInfo` gives the real server).
    pub async fn send_from(&self, peer: &str, mut request: Request<Body>) -> TestResponse {
        let peer: std::net::SocketAddr = format!("{peer}:40000").parse().expect("an IPv4 peer address");
        request.extensions_mut().insert(axum::extract::ConnectInfo(peer));
        self.send(request).await
    }

    /// `GET /metrics` on the internal metrics listener's router (it is not on the public one).
    pub async fn metrics(&self) -> TestResponse {
        let response = server::startup::build_metrics_router(self.state.clone())
            .oneshot(Request::get("/metrics").body(Body::empty()).unwrap())
            .await
            .expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        let response = self.router.clone().oneshot(request).await.expect("router answers");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
    }

    /// `GET path`, optionally with a session cookie (`name=value`).
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Calls a server function the way the browser's fetch does (form-encoded arguments, JSON answer).
    pub async fn call(&self, endpoint: &str, args: &[(&str, &str)], cookie: Option<&str>) -> TestResponse {
        let body: String = args.iter().map(|(k, v)| format!("{}={}", urlencode(k), urlencode(v))).collect::<Vec<_>>().join("&");
        let mut request = Request::post(format!("/api/{endpoint}"))
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::ACCEPT, "application/json");
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        self.send(request.body(Body::from(body)).unwrap()).await
    }

    /// Another server process on the same database: its own router and its own key verifier (warm cache).
    pub fn another_node(&self) -> TestApp {
        let mut state = self.state.clone();
        state.verifier = std::sync::Arc::new(domain::keys::verifier::Verifier::new(state.token_environment, true));
        TestApp { backend: self.backend, router: build_router(state.clone()), state, _dir: self._dir.clone() }
    }

    /// `POST /api/mcp` as an MCP client sends it; `headers` replace the defaults of the same name.
    pub async fn mcp_post(&self, authorization: Option<&str>, body: impl Into<Body>, headers: &[(&str, &str)]) -> TestResponse {
        let mut request = Request::post("/api/mcp").body(body.into()).unwrap();
        let defaults = [
            ("host", "127.0.0.1:3000"),
            ("content-type", "application/json"),
            ("accept", "application/json, text/event-stream"),
            ("mcp-protocol-version", "2025-06-18"),
            ("user-agent", "mcp-test"),
        ];
        let authorization = authorization.map(|value| ("authorization", value));
        for (name, value) in defaults.into_iter().chain(authorization).chain(headers.iter().copied()) {
            let name = http::header::HeaderName::from_bytes(name.as_bytes()).unwrap();
            request.headers_mut().insert(name, http::HeaderValue::from_str(value).unwrap());
        }
        self.send(request).await
    }

    /// `GET /api/v1/me` with `Authorization: Bearer token`.
    pub async fn me(&self, token: &str) -> TestResponse {
        let request = Request::get("/api/v1/me").header(http::header::AUTHORIZATION, format!("Bearer {token}"));
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Calls a server function whose arguments travel as JSON (`{"request": …}`).
    pub async fn call_json(&self, endpoint: &str, args: serde_json::Value, cookie: Option<&str>) -> TestResponse {
        let mut request =
            Request::post(format!("/api/{endpoint}")).header(CONTENT_TYPE, "application/json").header(http::header::ACCEPT, "application/json");
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        self.send(request.body(Body::from(args.to_string())).unwrap()).await
    }

    /// Signs in and confirms the password, so the session may mint keys.
    pub async fn login_for_keys(&self, email: &str) -> String {
        let cookie = self.login(email).await;
        let confirmed = self.call("keys/confirm-password", &[("password", domain::demo::DEMO_PASSWORD)], Some(&cookie)).await;
        assert_eq!(confirmed.status, StatusCode::OK, "[{}] {}", self.backend, confirmed.body);
        cookie
    }

    /// Mints a key with `label`, the default expiry and every scope the caller's role allows; returns the whole
    /// answer.
    pub async fn mint(&self, cookie: &str, label: &str) -> TestResponse {
        let setup = self.call("keys/setup", &[], Some(cookie)).await;
        let scopes = if setup.status == StatusCode::OK { setup.json()["allowed_scopes"].clone() } else { serde_json::json!(["read:visits"]) };
        self.call_json("keys/mint", serde_json::json!({ "request": { "label": label, "expiry": null, "scopes": scopes } }), Some(cookie)).await
    }

    /// Mints a key and returns (Key ID, token).
    pub async fn mint_ok(&self, cookie: &str, label: &str) -> (String, String) {
        let response = self.mint(cookie, label).await;
        assert_eq!(response.status, StatusCode::OK, "[{}] mint: {}", self.backend, response.body);
        let json = response.json();
        (json["key"]["key_id"].as_str().unwrap().to_owned(), json["token"].as_str().unwrap().to_owned())
    }

    /// Lists keys with a filter (JSON), as the caller.
    pub async fn list_keys(&self, cookie: &str, filter: serde_json::Value) -> serde_json::Value {
        let mut full = serde_json::json!({ "user_id": null, "status": null, "search": null, "page": 1, "per_page": 20 });
        for (k, v) in filter.as_object().unwrap() {
            full[k] = v.clone();
        }
        let response = self.call_json("keys/list", serde_json::json!({ "filter": full }), Some(cookie)).await;
        assert_eq!(response.status, StatusCode::OK, "[{}] list: {}", self.backend, response.body);
        response.json()
    }

    /// Every text column of the key and activity tables, concatenated (to prove no token is stored).
    pub async fn stored_text(&self) -> String {
        use sea_orm::Statement;
        let backend = self.state.db.get_database_backend();
        let mut text = String::new();
        for (table, columns) in [
            ("api_keys", "key_id, label, secret_hash, scopes, last_used_ip, last_used_client"),
            ("activity_events", "key_id, action, target, ip, user_agent"),
        ] {
            let rows = self.state.db.query_all(Statement::from_string(backend, format!("SELECT {columns} FROM {table}"))).await.unwrap();
            for row in rows {
                for column in columns.split(", ") {
                    if let Ok(Some(value)) = row.try_get::<Option<String>>("", column) {
                        text.push_str(&value);
                        text.push('\n');
                    }
                }
            }
        }
        text
    }

    /// Signs in and returns the session cookie (`name=value`).
    pub async fn login(&self, email: &str) -> String {
        let response = self.call("session/login", &[("email", email), ("password", domain::demo::DEMO_PASSWORD)], None).await;
        assert_eq!(response.status, StatusCode::OK, "[{}] sign-in of {email}: {}", self.backend, response.body);
        response.session_cookie().expect("a session cookie")
    }
}

/// Verifies a presented token as a fresh server process does (argon2 every time, no client address).
pub async fn authenticate(db: &sea_orm::DatabaseConnection, token: &str, now: chrono::DateTime<chrono::Utc>) -> Result<KeyPrincipal, KeyAuthError> {
    Verifier::new(TokenEnvironment::Test, false).authenticate(db, token, None, now).await
}

/// The same Key ID with another random secret and a valid checksum: what an attacker who knows the format
/// and a Key ID can send.
pub fn forge_secret(token: &str) -> String {
    domain::keys::token::forge_secret(token)
}

pub fn urlencode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}
