//! The HTTP API for API-key holders: authentication by key, JSON errors, and `GET /api/v1/me`.
mod error;
mod me;
mod principal;

use axum::routing::get;
use axum::Router;

use app::state::AppState;

pub use error::ApiError;

/// Routes under `/api/v1`.
pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/me", get(me::me))
}
