//! The HTTP API for API-key holders: the key layer, JSON errors, `GET /api/v1/me` and the MCP route; the
//! accounting-of-disclosures CSV for signed-in people (`GET /api/disclosures.csv`, session cookie); the public
//! leak report (`POST /api/v1/credentials/revoke`, no key); the OAuth
//! authorization server's endpoints (`crate::oauth`); and plain JSON 404s at the other paths OAuth-probing
//! clients try (never the HTML app, which a client would take for something it is not).
mod disclosures;
mod error;
mod key_auth;
mod leaks;
pub mod me;

use axum::routing::{any, get, post};
use axum::{middleware, Extension, Router};
use http::StatusCode;

use app::state::AppState;

pub use disclosures::csv as disclosures_csv;
pub use error::{new_trace_id, ApiError};
pub(crate) use key_auth::admit;

/// `/api/v1/me` behind the API-key layer and `/api/mcp` behind the same check, and the OAuth discovery paths.
pub fn routes(state: &AppState, mcp: &crate::mcp::Endpoint) -> Router<AppState> {
    let keyed = Router::new()
        .route("/api/v1/me", get(me::me))
        .route_layer(middleware::from_fn_with_state(state.clone(), key_auth::require_api_key))
        // `/api/mcp` runs the same key check, called by its endpoint rather than layered (see `crate::mcp`).
        .merge(crate::mcp::routes(mcp));
    let leak_reports =
        Router::new().route("/api/v1/credentials/revoke", post(leaks::revoke)).layer(Extension(leaks::ReportCounts::for_database(&state.db)));
    let mut router = keyed.merge(leak_reports).merge(crate::oauth::routes()).route("/.well-known/{*path}", any(no_oauth));
    for path in NO_OAUTH_PATHS {
        router = router.route(path, any(no_oauth));
    }
    router
}

/// The default endpoint paths of clients that found no metadata (MCP 2025-03-26); caregate's endpoints are
/// under `/oauth/` and in its metadata, so these answer a JSON 404.
pub const NO_OAUTH_PATHS: [&str; 3] = ["/register", "/authorize", "/token"];

async fn no_oauth() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "Not here: see /.well-known/oauth-authorization-server for caregate's OAuth endpoints")
}
