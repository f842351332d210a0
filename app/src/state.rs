//! `AppState`: what server functions and the server's handlers share, provided to Leptos as context.
use axum::extract::FromRef;
use leptos::prelude::LeptosOptions;
use std::sync::Arc;

use domain::activity_writer::ActivityWriter;
use domain::db::DatabaseConnection;
use domain::keys::token::TokenEnvironment;
use domain::keys::verifier::{Verifier, VerifierObserver};
use domain::mail::Mailer;
use domain::net::TrustedProxies;
use domain::oauth::service::OAuthServer;
use domain::secret_box::SecretKey;
use domain::throttle::PasswordAttempts;

/// Built once at start-up by the server from its `Config`; what every request shares, behind one `Arc`, so the
/// clones each request's layers and extractors make cost a reference count, not a copy of every field.
#[derive(Clone)]
pub struct AppState(Arc<SharedState>);

impl std::ops::Deref for AppState {
    type Target = SharedState;

    fn deref(&self) -> &SharedState {
        &self.0
    }
}

impl AppState {
    pub fn new(shared: SharedState) -> Self {
        AppState(Arc::new(shared))
    }

    /// A copy of the fields, to build a state that differs in some (tests standing up another process).
    pub fn to_shared(&self) -> SharedState {
        (*self.0).clone()
    }
}

/// The fields of [`AppState`].
#[derive(Clone)]
pub struct SharedState {
    pub leptos_options: Arc<LeptosOptions>,
    pub db: DatabaseConnection,
    /// Whether cookies carry `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// The URL people and MCP clients use to reach this server, without a trailing slash.
    pub public_url: String,
    /// Whether this deployment mints `cg_live_` or `cg_test_` keys.
    pub token_environment: TokenEnvironment,
    /// Verifies API keys for the HTTP API and MCP (warm cache, attack bounds); reports to `metrics`.
    pub verifier: Arc<Verifier>,
    /// This process's counters for `/metrics`.
    pub metrics: Arc<dyn Metrics>,
    /// The process's bound on password guessing (sign-in, re-authentication, password change).
    pub password_attempts: Arc<PasswordAttempts>,
    /// The reverse proxies whose forwarding headers decide the client address (`CAREGATE_TRUSTED_PROXIES`).
    pub trusted_proxies: Arc<TrustedProxies>,
    /// Stores MCP tool calls and refused keys on the activity feed in batches, off the request path.
    pub activity: ActivityWriter,
    /// Seals two-factor seeds at rest (`CAREGATE_SECRET_KEY`).
    pub secret_key: Arc<SecretKey>,
    /// Sends e-mail (invitations) through `CAREGATE_SMTP_URL`, or logs that it would.
    pub mailer: Arc<Mailer>,
    /// This process's OAuth authorization server state: where client documents may come from, registration
    /// counts per address.
    pub oauth: Arc<OAuthServer>,
}

/// What the server counts for `/metrics`, as the state carries it. The server implements it with its exporter
/// (`server::metrics`); `app` cannot name the server's types, hence a trait. The key verifier reports to its
/// [`VerifierObserver`] part; the server's API-key layer and MCP endpoint to the rest.
pub trait Metrics: VerifierObserver {
    /// An API-key check answered by the API-key layer, by its outcome code (`ok`, `invalid_key`, …).
    fn key_verified(&self, code: &'static str);
    /// An MCP `tools/call` of a tool that exists.
    fn tool_called(&self, tool: &str);
    /// Appends the text exposition of every metric (OpenMetrics) to `out`.
    fn encode(&self, out: &mut String) -> std::fmt::Result;
}

impl AppState {
    /// The MCP endpoint's URL, as setup snippets show it.
    pub fn mcp_url(&self) -> String {
        format!("{}/api/mcp", self.public_url)
    }
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        (*state.leptos_options).clone()
    }
}

/// The state, inside a server function or a server-rendered component.
pub fn app_state() -> AppState {
    leptos::prelude::expect_context::<AppState>()
}
