//! The test harness: one fresh, migrated app per test and database backend, driven without a socket, and typed
//! calls to the app's server functions.
//!
//! `backend_test!(a_sentence);` above `async fn a_sentence(app: TestApp) { … }` makes it two tests,
//! `a_sentence::sqlite` and `a_sentence::postgres`, each on a fresh database of its own: a failure names its
//! backend, and the two run in parallel. `(app: TestApp)` starts from the migrated demo data; `(backend: Backend)`
//! leaves the set-up to the test ([`spawn_app_with`] for other settings, [`spawn_empty_app`] without the demo
//! data, [`fresh_database`] for a database alone).
//!
//! PostgreSQL: `CAREGATE_TEST_POSTGRES_URL` names a server (any database on it; each test creates its own), as
//! `export CAREGATE_TEST_POSTGRES_URL="$(scripts/postgres.sh)"` does (`scripts/test.sh` starts it itself when
//! the variable is unset). Without it every `postgres` test fails and says so: a pass that never ran must not
//! look like one that passed. To leave PostgreSQL out on purpose, set `CAREGATE_TEST_BACKENDS=sqlite`; the
//! `postgres` tests then return at once with a printed note.
//!
//! Server functions are called by their type, `app.call(MintKey { request }, Some(&cookie))`, at their `PATH`
//! with their arguments encoded as their codec expects; the answer reads as the function's output
//! ([`Answer::output`]) or as its [`AppError`] ([`TestResponse::error`]). Tests that send deliberately broken
//! bytes build the request themselves ([`TestApp::post_raw`]).
use std::future::Future;
use std::marker::PhantomData;
use std::ops::Deref;

use axum::body::Body;
use http::header::{ACCEPT, CONTENT_TYPE, COOKIE, SET_COOKIE};
use http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use leptos::server_fn::codec::{Json, PostUrl};
use leptos::server_fn::{Http, ServerFn};
use sea_orm::{ConnectionTrait, Database};
use serde::de::DeserializeOwned;
use serde::Serialize;
use tower::ServiceExt;

use app::api::keys::{ConfirmPassword, GetKeySetup, ListKeys, MintKey};
use app::api::session::Login;
use app::error::AppError;
use app::model::{ExpiryChoice, KeyFilter, KeyPage, MintRequest, MintedKey};
use app::state::AppState;
use domain::keys::principal::{KeyAuthError, KeyPrincipal};
use domain::keys::token::TokenEnvironment;
use domain::keys::verifier::Verifier;
use server::config::Config;
use server::startup::{build_app, build_state};

/// The environment variable naming a PostgreSQL server (any database on it) for the `postgres` tests.
pub const POSTGRES_URL_VAR: &str = "CAREGATE_TEST_POSTGRES_URL";
/// How long one backend test may take: a test that waits forever fails with its name instead of holding up
/// the whole run.
const TEST_DEADLINE: std::time::Duration = std::time::Duration::from_secs(240);

/// The environment variable that narrows a run to some backends (`sqlite`, `postgres`, comma-separated); unset,
/// both run.
pub const BACKENDS_VAR: &str = "CAREGATE_TEST_BACKENDS";

/// Makes the `async fn` of the same name, defined right below, a test on each database backend: a module
/// `name` holding the tests `sqlite` and `postgres`. The function takes what it starts from ([`Given`]): a
/// [`TestApp`] with the demo data, or the [`Backend`] to set up itself. The function stays ordinary code, so
/// rustfmt and clippy see it; without this line it would be dead code, which clippy refuses.
macro_rules! backend_test {
    ($name:ident) => {
        mod $name {
            #[tokio::test(flavor = "multi_thread")]
            async fn sqlite() {
                $crate::helpers::Backend::Sqlite.run(super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread")]
            async fn postgres() {
                $crate::helpers::Backend::Postgres.run(super::$name).await;
            }
        }
    };
}
pub(crate) use backend_test;

/// What a backend test starts from, made for the backend it runs on.
pub trait Given: Sized {
    fn given(backend: Backend) -> impl Future<Output = Self>;
}

/// A fresh app with migrations applied and the demo data seeded.
impl Given for TestApp {
    fn given(backend: Backend) -> impl Future<Output = Self> {
        spawn_app(backend)
    }
}

/// Only the backend: the test sets up its own app ([`spawn_app_with`], [`spawn_empty_app`]) or database
/// ([`fresh_database`]).
impl Given for Backend {
    fn given(backend: Backend) -> impl Future<Output = Self> {
        std::future::ready(backend)
    }
}

/// A database backend the integration tests run on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }

    /// Runs `test` on this backend from what it is given, unless [`BACKENDS_VAR`] leaves the backend out (then
    /// it prints a note).
    pub async fn run<G: Given, F: Future<Output = ()>>(self, test: impl FnOnce(G) -> F) {
        if self.is_selected() {
            let run = async { test(G::given(self).await).await };
            if tokio::time::timeout(TEST_DEADLINE, run).await.is_err() {
                panic!("the test did not finish within {TEST_DEADLINE:?} on {}: something waits forever", self.name());
            }
        } else {
            println!("note: {BACKENDS_VAR} leaves out {}, so this test did not run on it", self.name());
        }
    }

    fn is_selected(self) -> bool {
        let Ok(chosen) = std::env::var(BACKENDS_VAR) else { return true };
        let names: Vec<&str> = chosen.split(',').map(str::trim).filter(|name| !name.is_empty()).collect();
        for name in &names {
            assert!(
                [Backend::Sqlite, Backend::Postgres].iter().any(|backend| backend.name() == *name),
                "{BACKENDS_VAR}={chosen:?} names an unknown backend {name:?}: use sqlite, postgres, or both separated by a comma"
            );
        }
        names.is_empty() || names.contains(&self.name())
    }
}

#[derive(Clone)]
pub struct TestApp {
    pub state: AppState,
    /// The database the app runs on.
    pub database_url: String,
    app: server::startup::HttpApp,
    _dir: Option<std::sync::Arc<TempDir>>,
}

/// A response, read whole.
pub struct TestResponse {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl TestResponse {
    /// The body as JSON, for the answers that are not a server function's (MCP, `/api/v1/me`, `/readyz`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| panic!("not JSON ({err}): {}", self.body))
    }

    /// A server function's refusal: the [`AppError`] in the body.
    pub fn error(&self) -> AppError {
        serde_json::from_str(&self.body).unwrap_or_else(|err| panic!("not an AppError ({err}): {} {}", self.status, self.body))
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

/// A server function's answer: the response, readable as the function's output `T`.
pub struct Answer<T> {
    response: TestResponse,
    output: PhantomData<fn() -> T>,
}

impl<T: DeserializeOwned> Answer<T> {
    /// The function's output, after checking that the call succeeded.
    pub fn output(&self) -> T {
        assert_eq!(self.status, StatusCode::OK, "the server function refused: {}", self.body);
        serde_json::from_str(&self.body).unwrap_or_else(|err| panic!("not the server function's output ({err}): {}", self.body))
    }
}

impl<T> Deref for Answer<T> {
    type Target = TestResponse;

    fn deref(&self) -> &TestResponse {
        &self.response
    }
}

impl<T> From<Answer<T>> for TestResponse {
    fn from(answer: Answer<T>) -> Self {
        answer.response
    }
}

impl<T> From<TestResponse> for Answer<T> {
    fn from(response: TestResponse) -> Self {
        Answer { response, output: PhantomData }
    }
}

/// How a server function's arguments travel: the input half of its protocol (all of caregate's answer JSON).
pub trait ArgumentCodec {
    const CONTENT_TYPE: &'static str;
    fn encode(arguments: &impl Serialize) -> String;
}

/// The default: a URL-encoded form, written by the same `serde_qs` the browser's client uses.
impl ArgumentCodec for Http<PostUrl, Json> {
    const CONTENT_TYPE: &'static str = "application/x-www-form-urlencoded";

    fn encode(arguments: &impl Serialize) -> String {
        serde_qs::to_string(arguments).expect("arguments encode as a form")
    }
}

/// `input = Json`.
impl ArgumentCodec for Http<Json, Json> {
    const CONTENT_TYPE: &'static str = "application/json";

    fn encode(arguments: &impl Serialize) -> String {
        serde_json::to_string(arguments).expect("arguments encode as JSON")
    }
}

/// The request a browser sends to call the server function `F` with `arguments`, with a session cookie
/// (`name=value`) if given.
pub fn server_fn_request<F>(arguments: &F, cookie: Option<&str>) -> Request<Body>
where
    F: ServerFn + Serialize,
    F::Protocol: ArgumentCodec,
{
    let mut request = Request::post(F::PATH).header(CONTENT_TYPE, <F::Protocol as ArgumentCodec>::CONTENT_TYPE).header(ACCEPT, "application/json");
    if let Some(cookie) = cookie {
        request = request.header(COOKIE, cookie);
    }
    request.body(Body::from(<F::Protocol as ArgumentCodec>::encode(arguments))).unwrap()
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

/// A fresh, empty PostgreSQL database on the server named by [`POSTGRES_URL_VAR`]; without that variable the
/// test fails, saying how to set it.
pub async fn fresh_postgres() -> String {
    let admin_url = std::env::var(POSTGRES_URL_VAR).ok().filter(|v| !v.is_empty()).unwrap_or_else(|| {
        panic!(
            "{POSTGRES_URL_VAR} is not set, so this PostgreSQL test cannot run. Name a PostgreSQL server, e.g. \
             `export {POSTGRES_URL_VAR}=\"$(scripts/postgres.sh)\"`, or leave PostgreSQL out on purpose with \
             `{BACKENDS_VAR}=sqlite`."
        )
    });
    let name = unique_name();
    let admin = Database::connect(&admin_url).await.expect("connect to the PostgreSQL test server");
    admin.execute_unprepared(&format!("CREATE DATABASE {name}")).await.expect("create a test database");
    admin.close().await.ok();
    let base = admin_url.rsplit_once('/').map(|(base, _)| base).expect("a URL with a database path");
    format!("{base}/{name}")
}

/// A fresh, empty database of `backend`: its URL, and for SQLite the scratch directory holding it.
pub async fn fresh_database(backend: Backend) -> (String, Option<TempDir>) {
    match backend {
        Backend::Sqlite => {
            let (url, dir) = fresh_sqlite();
            (url, Some(dir))
        }
        Backend::Postgres => (fresh_postgres().await, None),
    }
}

/// An app on a fresh database of `backend`, with migrations applied and the demo data seeded.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// [`spawn_app`] with settings changed from the test defaults (a public https URL, trusted proxies…).
pub async fn spawn_app_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    let app = spawn_empty_app_with(backend, configure).await;
    domain::demo::seed(&app.state.db).await.expect("seed demo data");
    app
}

/// An app on a fresh, migrated, empty database of `backend`.
pub async fn spawn_empty_app(backend: Backend) -> TestApp {
    spawn_empty_app_with(backend, |_| {}).await
}

async fn spawn_empty_app_with(backend: Backend, configure: impl FnOnce(&mut Config)) -> TestApp {
    server::telemetry::init();
    let (database_url, dir) = fresh_database(backend).await;
    let mut config = Config::for_tests(&database_url);
    configure(&mut config);
    let state = build_state(&config).await.expect("build state");
    TestApp { app: build_app(state.clone()), state, database_url, _dir: dir.map(std::sync::Arc::new) }
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
        read(response).await
    }

    /// Serves this app's router on a loopback port, as `caregate serve` does (with the peer address), until the
    /// test ends; returns the address.
    pub async fn serve_on_loopback(&self) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port");
        let address = listener.local_addr().expect("its address");
        let service = axum::ServiceExt::<Request<Body>>::into_make_service_with_connect_info::<std::net::SocketAddr>(self.app.clone());
        tokio::spawn(async move { axum::serve(listener, service).await });
        address
    }

    pub async fn send(&self, request: Request<Body>) -> TestResponse {
        read(self.app.clone().oneshot(request).await.expect("the app answers")).await
    }

    /// `GET path`, optionally with a session cookie (`name=value`).
    pub async fn get(&self, path: &str, cookie: Option<&str>) -> TestResponse {
        let mut request = Request::get(path);
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        self.send(request.body(Body::empty()).unwrap()).await
    }

    /// Calls the server function `F` with `arguments` the way the browser's fetch does, optionally with a
    /// session cookie (`name=value`).
    pub async fn call<F>(&self, arguments: F, cookie: Option<&str>) -> Answer<F::Output>
    where
        F: ServerFn + Serialize,
        F::Protocol: ArgumentCodec,
    {
        self.send(server_fn_request(&arguments, cookie)).await.into()
    }

    /// `POST path` with exactly `body` as `content_type` and JSON accepted: for bytes no well-behaved client
    /// sends.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: impl Into<Body>, cookie: Option<&str>) -> TestResponse {
        let mut request = Request::post(path).header(CONTENT_TYPE, content_type).header(ACCEPT, "application/json");
        if let Some(cookie) = cookie {
            request = request.header(COOKIE, cookie);
        }
        self.send(request.body(body.into()).unwrap()).await
    }

    /// Another server process on the same database: its own router, its own key verifier (warm cache, copies of
    /// key rows, counters) and its own password bound (in memory on SQLite, the shared table on PostgreSQL).
    pub fn another_node(&self) -> TestApp {
        let mut shared = self.state.to_shared();
        (shared.verifier, shared.metrics) = server::startup::key_verification(shared.token_environment, true, &shared.activity, &shared.db);
        shared.password_attempts = std::sync::Arc::new(domain::throttle::PasswordAttempts::for_database(&shared.db));
        let state = AppState::new(shared);
        TestApp { app: build_app(state.clone()), state, database_url: self.database_url.clone(), _dir: self._dir.clone() }
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

    /// Signs in and confirms the password, so the session may mint keys.
    pub async fn login_for_keys(&self, email: &str) -> String {
        let cookie = self.login(email).await;
        let confirmed = self.call(ConfirmPassword { password: domain::demo::DEMO_PASSWORD.to_owned() }, Some(&cookie)).await;
        assert_eq!(confirmed.status, StatusCode::OK, "{}", confirmed.body);
        cookie
    }

    /// Every scope the caller's role may grant, by name.
    pub async fn allowed_scopes(&self, cookie: &str) -> Vec<String> {
        let setup = self.call(GetKeySetup {}, Some(cookie)).await.output();
        setup.allowed_scopes.iter().map(|scope| scope.as_str().to_owned()).collect()
    }

    /// Mints a key with `label`, the default expiry and every scope the caller's role allows; returns the whole
    /// answer.
    pub async fn mint(&self, cookie: &str, label: &str) -> Answer<MintedKey> {
        let setup = self.call(GetKeySetup {}, Some(cookie)).await;
        let scopes = if setup.status == StatusCode::OK {
            setup.output().allowed_scopes.iter().map(|scope| scope.as_str().to_owned()).collect()
        } else {
            vec!["read:visits".to_owned()]
        };
        self.call(MintKey { request: MintRequest { label: label.to_owned(), expiry: None, scopes, allowed_ips: vec![] } }, Some(cookie)).await
    }

    /// Mints a key and returns (Key ID, token).
    pub async fn mint_ok(&self, cookie: &str, label: &str) -> (String, String) {
        let minted = self.mint(cookie, label).await.output();
        (minted.key.key_id, minted.token.expose().to_owned())
    }

    /// Lists keys with `filter`, as the caller.
    pub async fn list_keys(&self, cookie: &str, filter: KeyFilter) -> KeyPage {
        self.call(ListKeys { filter }, Some(cookie)).await.output()
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
        let response = self.call(sign_in(email, domain::demo::DEMO_PASSWORD), None).await;
        assert_eq!(response.status, StatusCode::OK, "sign-in of {email}: {}", response.body);
        response.session_cookie().expect("a session cookie")
    }
}

/// The sign-in form's arguments, without a page to return to.
pub fn sign_in(email: &str, password: &str) -> Login {
    Login { email: email.to_owned(), password: password.to_owned(), next: None }
}

async fn read(response: axum::response::Response) -> TestResponse {
    let status = response.status();
    let headers = response.headers().clone();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    TestResponse { status, headers, body: String::from_utf8_lossy(&bytes).into_owned() }
}

/// Verifies a presented token as a fresh server process does (argon2 every time, no client address).
pub async fn authenticate(
    db: &sea_orm::DatabaseConnection,
    token: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<std::sync::Arc<KeyPrincipal>, KeyAuthError> {
    Verifier::new(TokenEnvironment::Test, false).authenticate(db, token, None, now).await
}

/// The same Key ID with another random secret and a valid checksum: what an attacker who knows the format
/// and a Key ID can send.
pub fn forge_secret(token: &str) -> String {
    domain::keys::token::forge_secret(token)
}

/// The arguments of minting a key with `label`, `expiry` (`None`: the company's default) and `scopes` by name.
pub fn new_key(label: &str, expiry: Option<ExpiryChoice>, scopes: &[&str]) -> MintKey {
    MintKey {
        request: MintRequest {
            label: label.to_owned(),
            expiry,
            scopes: scopes.iter().map(|scope| (*scope).to_owned()).collect(),
            allowed_ips: vec![],
        },
    }
}

/// Waits, if needed, until the current fixed window of `length` (aligned on the clock, as the shared counters'
/// windows are) has at least `room` left, so a test's burst is counted in one window.
pub async fn clear_of_a_window_boundary(length: std::time::Duration, room: std::time::Duration) {
    let now = chrono::Utc::now().timestamp_millis() as u64;
    let left = length.as_millis() as u64 - now % length.as_millis() as u64;
    if left < room.as_millis() as u64 {
        tokio::time::sleep(std::time::Duration::from_millis(left + 50)).await;
    }
}
