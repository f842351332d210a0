//! Building the application: the database, the shared state and the router; then serving it.
use std::sync::Arc;

use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{middleware, Router};
use domain::activity_writer::ActivityWriter;
use domain::keys::token::TokenEnvironment;
use domain::keys::verifier::Verifier;
use domain::oauth::client_metadata::{FetchPolicy, Fetcher};
use domain::oauth::service::OAuthServer;
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};

use app::state::{AppState, SharedState};
use app::{shell, App};

use crate::config::Config;
use crate::metrics::{self, PrometheusMetrics};
use crate::{api, cross_site, guard, headers, health, mcp, oauth, panics};

/// Connects to the database, applies migrations and assembles the state every request shares.
pub async fn build_state(config: &Config) -> Result<AppState, String> {
    let db = domain::db::connect(&config.database_url).await.map_err(|err| format!("cannot open the database: {err}"))?;
    domain::db::migrate(&db).await.map_err(|err| format!("cannot apply migrations: {err}"))?;
    let activity = ActivityWriter::start(db.clone()).recording_disclosures(config.disclosures);
    let (verifier, metrics) = key_verification(config.token_environment, config.warm_path, &activity, &db);
    let oauth = OAuthServer::new(
        Fetcher::new(FetchPolicy { allow_loopback: config.oauth_loopback_clients }, config.oauth_test_authority.as_deref())
            .map_err(|err| format!("CAREGATE_OAUTH_TEST_CA: {err}"))?,
        &db,
    );
    Ok(AppState::new(SharedState {
        leptos_options: Arc::new(config.leptos.clone()),
        activity,
        password_attempts: Arc::new(domain::throttle::PasswordAttempts::for_database(&db)),
        db,
        secure_cookies: config.secure_cookies(),
        public_url: config.public_url.clone(),
        token_environment: config.token_environment,
        trusted_proxies: Arc::new(config.trusted_proxies.clone()),
        verifier,
        metrics,
        secret_key: config.secret_key.clone(),
        mailer: config.mailer.clone(),
        oauth: Arc::new(oauth),
    }))
}

/// What one server process keeps for itself to verify API keys — its verifier (bounded-staleness copies, attack
/// bounds, budgets shared through `db` on PostgreSQL) — and the metrics it reports to, which also read
/// `activity`'s counters. With PostgreSQL a task syncs the budgets every
/// [`domain::limits::BUDGET_SYNC_INTERVAL`] and sweeps ended counter windows, for as long as the verifier lives.
/// (Tests build a second pair to stand for another process on the same database.)
pub fn key_verification(
    environment: TokenEnvironment,
    warm_path: bool,
    activity: &ActivityWriter,
    db: &domain::db::DatabaseConnection,
) -> (Arc<Verifier>, Arc<PrometheusMetrics>) {
    let metrics = Arc::new(PrometheusMetrics::new(activity.stats.clone()));
    let verifier = Arc::new(Verifier::for_database(environment, warm_path, db).with_observer(metrics.clone()));
    if verifier.shares_budgets() {
        tokio::spawn(sync_limits(Arc::downgrade(&verifier), db.clone()));
    }
    (verifier, metrics)
}

/// Syncs the verifier's budgets with the deployment's and sweeps ended counter windows, until the verifier is
/// dropped. A failed sync is logged and retried on the next tick; meanwhile the process decides on the last
/// totals it read (the budget's overshoot bound then grows by the outage, which `/metrics`' logs show).
async fn sync_limits(verifier: std::sync::Weak<Verifier>, db: domain::db::DatabaseConnection) {
    let mut ticks = tokio::time::interval(domain::limits::BUDGET_SYNC_INTERVAL);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_sweep = std::time::Instant::now();
    loop {
        ticks.tick().await;
        let Some(verifier) = verifier.upgrade() else { return };
        if let Err(err) = verifier.sync_budgets().await {
            tracing::warn!(error = %err, "the key budgets could not be synced with the other processes");
        }
        if last_sweep.elapsed() >= domain::limits::SWEEP_INTERVAL {
            last_sweep = std::time::Instant::now();
            if let Err(err) = domain::limits::sweep(&db).await {
                tracing::warn!(error = %err, "ended limit windows could not be swept");
            }
        }
    }
}

/// The whole HTTP surface, as served: the router inside the layers every response passes (panics answered as
/// 500s, then the security headers). Tests drive it with `tower::ServiceExt::oneshot`, no socket needed.
pub type HttpApp = headers::SecurityHeaders<panics::CatchPanic<mcp::McpFirst<Router>>>;

/// Builds the [`HttpApp`].
///
/// The router has two parts: the bearer-authenticated API, MCP and OAuth endpoints, which carry no cookies and
/// serve no pages; and the app — pages, server functions, the disclosures download and the static files —
/// behind the layers that guard pages, the OAuth consent request and cookie-carrying calls from other sites.
/// Keeping the app's layers off the API's path saves every MCP call three pass-through middlewares; wrapping the
/// outer layers around the router once, rather than around each of its routes (`Router::layer`), saves every
/// request two boxed routes; and MCP calls reach their endpoint before the router ([`mcp::McpFirst`]).
pub fn build_app(state: AppState) -> HttpApp {
    let routes = generate_route_list(App);
    let leptos_options = (*state.leptos_options).clone();
    let context_state = state.clone();
    let app = Router::new()
        .route("/api/{*fn_name}", post(server_fn_handler))
        .route("/api/disclosures.csv", get(api::disclosures_csv))
        .leptos_routes_with_context(&state, routes, move || provide_context(context_state.clone()), move || shell(leptos_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), guard::page_guard))
        .layer(middleware::from_fn_with_state(state.clone(), oauth::authorization_request))
        .layer(middleware::from_fn_with_state(state.clone(), cross_site::refuse_cross_site));
    let endpoint = mcp::Endpoint::new(&state);
    let router = Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .merge(api::routes(&state, &endpoint))
        .merge(app)
        .with_state(state);
    tower::ServiceBuilder::new().layer(headers::SecurityHeadersLayer).layer(panics::CatchPanicLayer).service(mcp::McpFirst::new(endpoint, router))
}

/// `/metrics` on its own router, served only on `CAREGATE_METRICS_ADDR` (an internal address), never on the
/// public listener.
pub fn build_metrics_router(state: AppState) -> Router {
    Router::new().route("/metrics", get(metrics::render)).with_state(state)
}

async fn server_fn_handler(State(state): State<AppState>, request: Request<Body>) -> impl IntoResponse {
    handle_server_fns_with_context(move || provide_context(state.clone()), request).await
}

/// Serves until Ctrl-C or SIGTERM, finishing requests in flight.
pub async fn serve(config: Config) -> Result<(), String> {
    let state = build_state(&config).await?;
    let activity = state.activity.clone();
    let address = config.leptos.site_addr;
    let listener = tokio::net::TcpListener::bind(address).await.map_err(|err| format!("cannot listen on {address}: {err}"))?;
    if let Some(metrics_address) = config.metrics_addr {
        let metrics_listener =
            tokio::net::TcpListener::bind(metrics_address).await.map_err(|err| format!("cannot listen on {metrics_address} for /metrics: {err}"))?;
        let metrics_router = build_metrics_router(state.clone());
        tokio::spawn(async move {
            if let Err(err) = axum::serve(metrics_listener, metrics_router).await {
                tracing::error!(error = %err, "the /metrics listener stopped");
            }
        });
        tracing::info!("/metrics is served on http://{metrics_address}/metrics");
    }
    tokio::spawn(domain::sessions::purge_expired_periodically(state.db.clone()));
    tokio::spawn(domain::oauth::service::purge_expired_periodically(state.db.clone()));
    tokio::spawn(crate::reminders::remind_periodically(state.db.clone(), state.mailer.clone(), state.public_url.clone()));
    tokio::spawn(crate::retention::purge_periodically(state.db.clone()));
    if config.oauth_loopback_clients {
        tracing::warn!("CAREGATE_OAUTH_LOOPBACK_CLIENTS is set: OAuth client documents are fetched from loopback (tests only)");
    }
    tracing::info!("caregate is listening on http://{address} (public URL {})", config.public_url);
    let app = axum::ServiceExt::<Request<Body>>::into_make_service_with_connect_info::<std::net::SocketAddr>(build_app(state));
    let served = axum::serve(listener, app).with_graceful_shutdown(shutdown_signal()).await.map_err(|err| format!("server error: {err}"));
    activity.flush().await;
    served
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
