//! The HTTP API for API-key holders: the key layer, JSON errors, `GET /api/v1/me` and the MCP route; and
//! plain JSON 404s where OAuth-probing MCP clients look for an authorization server.
mod error;
mod key_auth;
pub mod me;

use axum::routing::{any, get};
use axum::{middleware, Router};
use http::StatusCode;

use app::state::AppState;

pub use error::{new_trace_id, ApiError};

/// `/api/v1/*` and `/api/mcp` behind the API-key layer, and the OAuth discovery paths.
pub fn routes(state: &AppState) -> Router<AppState> {
    let keyed = Router::new()
        .route("/api/v1/me", get(me::me))
        .merge(crate::mcp::routes(state))
        .route_layer(middleware::from_fn_with_state(state.clone(), key_auth::require_api_key));
    let mut router = keyed.route("/.well-known/{*path}", any(no_oauth));
    for path in NO_OAUTH_PATHS {
        router = router.route(path, any(no_oauth));
    }
    router
}

/// Paths OAuth-capable MCP clients probe. caregate speaks no OAuth: they answer a JSON 404, never the HTML app
/// (which clients would take for an authorization server, ignoring the configured header).
pub const NO_OAUTH_PATHS: [&str; 3] = ["/register", "/authorize", "/token"];

async fn no_oauth() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "caregate uses API keys (Authorization: Bearer), not OAuth")
}
