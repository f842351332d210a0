//! `GET /api/disclosures.csv`: one patient's accounting of disclosures as a CSV download, for a signed-in
//! person (session cookie), with the visibility of the Disclosures panel (see [`domain::disclosures`]).
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDate, Utc};
use http::{header, HeaderMap};
use serde::Deserialize;

use app::api::auth::resolve_session;
use app::error::AppError;
use app::state::AppState;

#[derive(Debug, Deserialize)]
pub struct CsvQuery {
    pub patient_id: i32,
    /// First day (YYYY-MM-DD, UTC); default: as far back as the company keeps records.
    pub from: Option<NaiveDate>,
    /// Last day (YYYY-MM-DD, UTC), included; default: today.
    pub to: Option<NaiveDate>,
}

/// The CSV, or the error's status with its message as text (errors map to statuses once, in [`AppError`]).
pub async fn csv(State(state): State<AppState>, headers: HeaderMap, Query(query): Query<CsvQuery>) -> Response {
    match export(&state, &headers, &query).await {
        Ok(body) => {
            let disposition = format!("attachment; filename=\"disclosures-patient-{}.csv\"", query.patient_id);
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, disposition)], body).into_response()
        }
        Err(err) => (err.status(), err.to_string()).into_response(),
    }
}

async fn export(state: &AppState, headers: &HeaderMap, query: &CsvQuery) -> Result<String, AppError> {
    let session = resolve_session(state, headers).await?.ok_or(domain::DomainError::Unauthenticated)?;
    Ok(domain::disclosures::csv(&state.db, &session.user, query.patient_id, query.from, query.to, Utc::now()).await?)
}
