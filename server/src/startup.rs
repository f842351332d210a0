//! Building the application: the database, the shared state and the router; then serving it.
use axum::body::Body;
use axum::extract::State;
use axum::http::Request;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{middleware, Router};
use leptos::prelude::provide_context;
use leptos_axum::{generate_route_list, handle_server_fns_with_context, LeptosRoutes};

use app::state::AppState;
use app::{shell, App};

use crate::config::Config;
use crate::{api, cross_site, guard, headers, health, metrics};

/// Connects to the database, applies migrations and assembles the state every request shares.
pub async fn build_state(config: &Config) -> Result<AppState, String> {
    let db = domain::db::connect(&config.database_url).await.map_err(|err| format!("cannot open the database: {err}"))?;
    domain::db::migrate(&db).await.map_err(|err| format!("cannot apply migrations: {err}"))?;
    Ok(AppState {
        leptos_options: std::sync::Arc::new(config.leptos.clone()),
        activity: domain::activity_writer::ActivityWriter::start(db.clone()),
        password_attempts: Default::default(),
        db,
        secure_cookies: config.secure_cookies(),
        public_url: config.public_url.clone(),
        token_environment: config.token_environment,
        verifier: std::sync::Arc::new(domain::keys::verifier::Verifier::new(config.token_environment, config.warm_path)),
    })
}

/// The whole HTTP surface. Tests drive it with `tower::ServiceExt::oneshot`, no socket needed.
pub fn build_router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let leptos_options = (*state.leptos_options).clone();
    let context_state = state.clone();
    Router::new()
        .route("/healthz", get(health::live))
        .route("/readyz", get(health::ready))
        .route("/metrics", get(metrics::render))
        .merge(api::routes(&state))
        .route("/api/{*fn_name}", post(server_fn_handler))
        .leptos_routes_with_context(&state, routes, move || provide_context(context_state.clone()), move || shell(leptos_options.clone()))
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(middleware::from_fn_with_state(state.clone(), guard::page_guard))
        .layer(middleware::from_fn_with_state(state.clone(), cross_site::refuse_cross_site))
        .layer(middleware::from_fn(headers::security_headers))
        .with_state(state)
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
    tracing::info!("caregate is listening on http://{address} (public URL {})", config.public_url);
    let served = axum::serve(listener, build_router(state).into_make_service_with_connect_info::<std::net::SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .map_err(|err| format!("server error: {err}"));
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
