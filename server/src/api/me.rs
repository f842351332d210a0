//! `GET /api/v1/me`: "is my key working?" — the caller's user, company and key.
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use domain::keys::principal::KeyPrincipal;

/// Who the key acts for and what it may do ([`KeyPrincipal::description`], the MCP `whoami` tool's answer too).
pub async fn me(Extension(principal): Extension<std::sync::Arc<KeyPrincipal>>) -> Response {
    Json(principal.description()).into_response()
}
