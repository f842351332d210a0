//! `ApiError`: the one error type of the key-authenticated HTTP API, and the one place that maps it to a status.
use axum::response::{IntoResponse, Response};
use axum::Json;
use http::header::WWW_AUTHENTICATE;
use http::{HeaderValue, StatusCode};
use serde_json::json;

/// A refused API request. The `code`s are part of the interface.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Also written to the server log line for this request.
    pub trace_id: String,
    /// Seconds for `Retry-After` (429 answers).
    pub retry_after: Option<u64>,
    /// `WWW-Authenticate` of a 401 or 403 (else a 401 says `Bearer realm="caregate"`).
    pub challenge: Option<String>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError { status, code, message: message.into(), trace_id: new_trace_id(), retry_after: None, challenge: None }
    }
}

/// 16 hex characters, enough to find one request in the logs.
pub fn new_trace_id() -> String {
    use rand::RngCore;
    let mut bytes = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        tracing::info!(trace_id = %self.trace_id, code = self.code, status = self.status.as_u16(), "API request refused");
        let body = Json(json!({ "code": self.code, "message": self.message, "trace_id": self.trace_id }));
        let mut response = (self.status, body).into_response();
        if let Some(seconds) = self.retry_after.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
            response.headers_mut().insert(http::header::RETRY_AFTER, seconds);
        }
        match self.challenge.as_deref().and_then(|challenge| HeaderValue::from_str(challenge).ok()) {
            Some(challenge) => {
                response.headers_mut().insert(WWW_AUTHENTICATE, challenge);
            }
            None if self.status == StatusCode::UNAUTHORIZED => {
                response.headers_mut().insert(WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"caregate\""));
            }
            None => {}
        }
        response
    }
}
