//! `ApiPrincipal`: the extractor that authenticates a request by its API key (`Authorization: Bearer …`),
//! records the key's use, and turns every refusal into an [`ApiError`].
use axum::extract::{ConnectInfo, FromRequestParts};
use chrono::Utc;
use domain::activity::Origin;
use domain::keys::service::{self, KeyAuthError, KeyPrincipal};
use http::request::Parts;
use http::StatusCode;

use app::state::AppState;

use super::ApiError;

/// The authenticated key and its owner.
pub struct ApiPrincipal(pub KeyPrincipal);

fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

impl FromRequestParts<AppState> for ApiPrincipal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let presented = bearer(parts)
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "missing_key", "Send your API key as Authorization: Bearer <key>"))?;
        let now = Utc::now();
        let principal = service::authenticate(&state.db, presented, state.token_environment, now).await.map_err(|err| match err {
            KeyAuthError::Malformed(_) => ApiError::new(StatusCode::UNAUTHORIZED, "malformed_key", "The API key is malformed"),
            KeyAuthError::Invalid { .. } => ApiError::new(StatusCode::UNAUTHORIZED, "invalid_key", err.to_string()),
            KeyAuthError::Expired { .. } => ApiError::new(StatusCode::UNAUTHORIZED, "expired_key", err.to_string()),
            KeyAuthError::Revoked { .. } => ApiError::new(StatusCode::UNAUTHORIZED, "revoked_key", err.to_string()),
            KeyAuthError::InactiveUser { .. } => ApiError::new(StatusCode::UNAUTHORIZED, "inactive_user", err.to_string()),
            KeyAuthError::Internal(err) => {
                let error = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side");
                tracing::error!(trace_id = %error.trace_id, error = %err, "API key verification failed");
                error
            }
        })?;
        let origin = Origin {
            ip: parts.extensions.get::<ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip().to_string()),
            user_agent: parts.headers.get(http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned),
        };
        if let Err(err) = service::record_use(&state.db, &principal.key_id, &origin, now).await {
            tracing::warn!(error = %err, key_id = %principal.key_id, "could not record the key's use");
        }
        Ok(ApiPrincipal(principal))
    }
}
