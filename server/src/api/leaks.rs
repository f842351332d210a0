//! `POST /api/v1/credentials/revoke`: the public endpoint where secret scanners (and anyone) report leaked
//! tokens, in GitHub's credential-revocation shape: `{"credentials": ["cg_live_…", …]}`, no authentication,
//! always `202 Accepted` with no per-token result. Malformed JSON is 400, more than
//! [`leaks::MAX_CREDENTIALS`] tokens 422, and each client address may report [`REPORTS_PER_HOUR`] times an hour
//! (429 with `Retry-After`). The revocation itself is [`domain::keys::leaks`]'.
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::Utc;
use domain::keys::leaks;
use domain::limits::{Attempt, Counter, Limit};
use http::StatusCode;
use serde_json::json;

use app::state::AppState;

use super::ApiError;

/// Reports one client address may send an hour: a scanner sends one per leak it finds, and each report may
/// cost argon2 work ([`leaks::MAX_ARGON2_PER_REPORT`]).
pub const REPORTS_PER_HOUR: u32 = 60;
/// The largest report body: 1000 tokens of at most 60 characters, quoted, with room for spacing.
const MAX_BODY_BYTES: usize = 128 * 1024;

/// Reports per client address in the current hour, for the whole deployment on PostgreSQL.
#[derive(Clone)]
pub struct ReportCounts(Arc<Counter>);

impl ReportCounts {
    pub fn for_database(db: &domain::db::DatabaseConnection) -> Self {
        let limit = Limit { scope: "leak-report", max: REPORTS_PER_HOUR, window: Duration::from_secs(60 * 60) };
        ReportCounts(Arc::new(Counter::for_database(limit, db)))
    }

    /// Counts a report from `ip`, or the seconds to wait when the address used up its hour.
    async fn spend(&self, ip: Option<&str>) -> Result<Result<(), u64>, domain::DomainError> {
        let name = domain::net::counting_name(ip.unwrap_or("unknown"));
        Ok(match self.0.attempt(&name).await? {
            Attempt::Counted(_) => Ok(()),
            Attempt::Over { retry_after } => Err(retry_after),
        })
    }
}

/// The report's body; other fields are ignored.
#[derive(serde::Deserialize)]
struct Report {
    credentials: Vec<String>,
}

/// The handler.
pub async fn revoke(State(state): State<AppState>, Extension(counts): Extension<ReportCounts>, request: Request) -> Result<Response, ApiError> {
    let origin = app::api::auth::origin_from(&state, request.headers(), request.extensions());
    let counted = counts.spend(origin.ip.as_deref()).await.map_err(|err| {
        let error = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "The report could not be counted; try again shortly");
        tracing::error!(trace_id = %error.trace_id, error = %err, "a leak report could not be counted");
        error
    })?;
    if let Err(retry_after) = counted {
        let mut error = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("At most {REPORTS_PER_HOUR} reports an hour; try again in {retry_after} seconds"),
        );
        error.retry_after = Some(retry_after);
        return Err(error);
    }
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "A report is at most 128 KiB"))?;
    let report: Report = serde_json::from_slice(&body)
        .map_err(|_| ApiError::new(StatusCode::BAD_REQUEST, "malformed_request", "Send {\"credentials\": [\"cg_live_…\", …]}"))?;
    if report.credentials.len() > leaks::MAX_CREDENTIALS {
        let message = format!("A report holds at most {} credentials", leaks::MAX_CREDENTIALS);
        return Err(ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "too_many_credentials", message));
    }
    match leaks::revoke_reported(&state.db, &state.mailer, &report.credentials, state.token_environment, &origin, Utc::now()).await {
        Ok(done) if done.revoked > 0 => tracing::info!(revoked = done.revoked, "tokens reported as leaked were revoked"),
        Ok(_) => {}
        Err(err) => {
            let error = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side");
            tracing::error!(trace_id = %error.trace_id, error = %err, "a leak report failed");
            return Err(error);
        }
    }
    Ok((StatusCode::ACCEPTED, Json(json!({}))).into_response())
}
