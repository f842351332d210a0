//! The API-key check of `/api/v1/me` (a layer) and `/api/mcp` (called by its endpoint): reads the key from `Authorization` (Bearer, or
//! Basic `account-number:key` for clients that only do Basic) — or an OAuth access token of a connection
//! (Bearer only, and only for `/api/mcp`, the resource it was issued for) — verifies it, checks
//! `X-Organization-Id`, records Last Used, and hands the [`KeyPrincipal`] to the handler through the request's
//! extensions. A 401 names the OAuth metadata (`WWW-Authenticate: Bearer resource_metadata=…`), so clients
//! without a key can start OAuth; a request with a working key never sees one.
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use chrono::Utc;
use domain::activity::Origin;
use domain::keys::principal::{self, Credential, KeyAuthError, KeyPrincipal};
use domain::keys::service;
use http::{header, HeaderMap, HeaderValue, StatusCode};
use std::time::Duration;

use app::state::AppState;

use super::ApiError;

/// The header a client may send to say which company it means (the key's own, or the request is refused): a
/// name built once, not parsed from text on every request.
static X_ORGANIZATION_ID: http::HeaderName = http::HeaderName::from_static("x-organization-id");

/// How the key was presented (a Bearer token borrowed from the header).
#[derive(Debug, PartialEq, Eq)]
enum Presented<'a> {
    Bearer(&'a str),
    /// `Basic base64(account:key)`: the account number must be the key's company's.
    Basic {
        account: String,
        key: String,
    },
}

/// Reads the `Authorization` header; `None` when absent, repeated (ambiguous) or of another scheme.
fn presented_key(headers: &HeaderMap) -> Option<Presented<'_>> {
    let mut values = headers.get_all(http::header::AUTHORIZATION).iter();
    let value = values.next()?.to_str().ok()?.trim();
    if values.next().is_some() {
        return None;
    }
    if let Some(token) = value.strip_prefix("Bearer ") {
        return Some(Presented::Bearer(token.trim()));
    }
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let (account, key) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some(Presented::Basic { account: account.trim().to_owned(), key: key.trim().to_owned() })
}

/// The `code` of a refusal, for responses and `/metrics`.
fn code_of(error: &KeyAuthError) -> &'static str {
    match error {
        KeyAuthError::Malformed(_) => "malformed_key",
        KeyAuthError::Invalid { .. } => "invalid_key",
        KeyAuthError::Expired { .. } => "expired_key",
        KeyAuthError::Revoked { .. } => "revoked_key",
        KeyAuthError::InactiveUser { .. } => "inactive_user",
        KeyAuthError::IpNotAllowed { .. } => "ip_not_allowed",
        KeyAuthError::TooManyAttempts { .. } => "too_many_attempts",
        KeyAuthError::RateLimited { .. } => "rate_limited",
        KeyAuthError::Internal(_) => "internal_error",
    }
}

fn refusal(error: &KeyAuthError) -> ApiError {
    match error {
        KeyAuthError::TooManyAttempts { retry_after } | KeyAuthError::RateLimited { retry_after, .. } => {
            let mut api_error = ApiError::new(StatusCode::TOO_MANY_REQUESTS, code_of(error), error.to_string());
            api_error.retry_after = Some(*retry_after);
            api_error
        }
        KeyAuthError::Internal(err) if err.is_unavailable() => {
            let api_error = ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", app::error::AppError::Unavailable.to_string());
            tracing::error!(trace_id = %api_error.trace_id, error = %err, "the database is unavailable");
            api_error
        }
        KeyAuthError::Internal(err) => {
            let api_error = ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal_error", "Something went wrong on our side");
            tracing::error!(trace_id = %api_error.trace_id, error = %err, "API key verification failed");
            api_error
        }
        KeyAuthError::Malformed(_) => ApiError::new(StatusCode::UNAUTHORIZED, "malformed_key", "The API key is malformed"),
        KeyAuthError::IpNotAllowed { .. } => ApiError::new(StatusCode::FORBIDDEN, code_of(error), error.to_string()),
        other => ApiError::new(StatusCode::UNAUTHORIZED, code_of(other), other.to_string()),
    }
}

/// The layer in front of `/api/v1/me`. On success the handler finds the [`KeyPrincipal`] (in an `Arc`) and the
/// [`Origin`] in the extensions.
pub async fn require_api_key(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match admit(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(refusal) => refusal,
    }
}

/// The key check itself, for the layer and for `/api/mcp`'s endpoint (which calls it directly, without a
/// middleware's boxed futures): the request back with the [`KeyPrincipal`] and the [`Origin`] in its extensions,
/// or the refusal to answer with. For `/api/mcp` it also refuses a connection's call outside its scopes.
pub(crate) async fn admit(state: &AppState, mut request: Request) -> Result<Request, Response> {
    let origin = app::api::auth::origin_from(state, request.headers(), request.extensions());
    let for_mcp = request.uri().path() == "/api/mcp";
    match authenticate(state, request.headers(), origin, for_mcp).await {
        Ok((principal, origin)) => {
            let extensions = request.extensions_mut();
            extensions.insert(principal);
            extensions.insert(origin);
            if for_mcp {
                return crate::mcp::refuse_missing_scope(&state.public_url, request).await;
            }
            Ok(request)
        }
        Err(error) => {
            let throttled = error.status == StatusCode::TOO_MANY_REQUESTS;
            Err(refuse_after_reading_body(request, throttled, error.into_response()).await)
        }
    }
}

/// How much of a refused request's body is read so that its connection stays usable, and for how long.
const REFUSED_BODY_BYTES: usize = 64 * 1024;
const REFUSED_BODY_TIME: Duration = Duration::from_secs(1);

/// A refusal reads the request's body to its end first (counted, not kept: up to [`REFUSED_BODY_BYTES`], for at
/// most [`REFUSED_BODY_TIME`]), so the client may send its next request on the same connection: answering with
/// the body unread makes the server close the connection, which a client that reuses it only sees as
/// "disconnected without a response". A body announced or found larger, a slower one, and any body of a
/// throttled client (whose refusal costs nothing) get `Connection: close` instead, said in the answer.
async fn refuse_after_reading_body(request: Request, throttled: bool, mut refusal: Response) -> Response {
    let announced = request.headers().get(header::CONTENT_LENGTH).and_then(|value| value.to_str().ok()?.parse::<usize>().ok());
    let drained = !throttled
        && announced.is_none_or(|length| length <= REFUSED_BODY_BYTES)
        && tokio::time::timeout(REFUSED_BODY_TIME, drain(request.into_body())).await.unwrap_or(false);
    if !drained {
        refusal.headers_mut().insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    refusal
}

/// Reads `body` to its end without keeping it: false past [`REFUSED_BODY_BYTES`] or on a broken body.
async fn drain(body: axum::body::Body) -> bool {
    use futures_util::StreamExt;
    let mut chunks = body.into_data_stream();
    let mut read = 0usize;
    while let Some(chunk) = chunks.next().await {
        let Ok(chunk) = chunk else { return false };
        read += chunk.len();
        if read > REFUSED_BODY_BYTES {
            return false;
        }
    }
    true
}

/// A 401 with the challenge that tells OAuth clients where to go.
fn unauthorized(state: &AppState, code: &'static str, message: &str, token_presented: bool) -> ApiError {
    let mut error = ApiError::new(StatusCode::UNAUTHORIZED, code, message);
    error.challenge = Some(crate::oauth::challenge(&state.public_url, token_presented));
    error
}

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    origin: Origin,
    for_mcp: bool,
) -> Result<(std::sync::Arc<KeyPrincipal>, Origin), ApiError> {
    let presented = presented_key(headers)
        .ok_or_else(|| unauthorized(state, "missing_key", "Send your API key as Authorization: Bearer <key>, or connect with OAuth", false))?;
    let (token, account) = match &presented {
        Presented::Bearer(token) => (*token, None),
        Presented::Basic { account, key } => (key.as_str(), Some(account.as_str())),
    };
    let now = Utc::now();
    let oauth = domain::oauth::token::is_oauth_token(token);
    if oauth && (account.is_some() || token.starts_with("cgrt_")) {
        state.metrics.key_verified("invalid_key");
        return Err(unauthorized(state, "invalid_key", "Send an OAuth access token as Authorization: Bearer <token>", true));
    }
    let verified = if oauth {
        state.verifier.authenticate_access_token(&state.db, token, origin.ip.as_deref(), now).await
    } else {
        state.verifier.authenticate(&state.db, token, origin.ip.as_deref(), now).await
    };
    let principal = match verified {
        Ok(principal) => principal,
        Err(error) => {
            state.metrics.key_verified(code_of(&error));
            principal::record_refusal(&state.activity, &error, &origin, now).await;
            let mut refused = refusal(&error);
            if refused.status == StatusCode::UNAUTHORIZED {
                refused.challenge = Some(crate::oauth::challenge(&state.public_url, true));
            }
            return Err(refused);
        }
    };
    if principal.credential == Credential::Connection && !for_mcp {
        state.metrics.key_verified("invalid_key");
        let message = format!("This access token is for {} only", domain::oauth::mcp_resource(&state.public_url));
        return Err(unauthorized(state, "invalid_key", &message, true));
    }
    if account.is_some_and(|account| account != principal.user.company_account.to_string()) {
        state.metrics.key_verified("invalid_key");
        return Err(ApiError::new(StatusCode::UNAUTHORIZED, "invalid_key", "Invalid access token provided"));
    }
    if let Some(organization) = headers.get(&X_ORGANIZATION_ID) {
        if organization.to_str().ok().map(str::trim) != Some(principal.user.company_id.to_string().as_str()) {
            state.metrics.key_verified("organization_mismatch");
            return Err(ApiError::new(StatusCode::FORBIDDEN, "organization_mismatch", "X-Organization-Id does not match the key's company"));
        }
    }
    state.metrics.key_verified("ok");
    domain::usage::count_request(&state.activity, &principal.key_id, &origin, now);
    if state.verifier.should_record_use(principal.key_id.as_str()) {
        if let Err(err) = service::record_use(&state.db, &principal.key_id, &origin, now).await {
            tracing::warn!(error = %err, key_id = %principal.key_id, "could not record the key's use");
        }
    }
    Ok((principal, origin))
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(http::header::AUTHORIZATION, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn bearer_and_basic_keys_are_read_and_other_schemes_are_not() {
        assert_eq!(presented_key(&headers("Bearer cg_test_x")), Some(Presented::Bearer("cg_test_x")));
        let basic = base64::engine::general_purpose::STANDARD.encode("12345678:cg_test_x");
        assert_eq!(
            presented_key(&headers(&format!("Basic {basic}"))),
            Some(Presented::Basic { account: "12345678".into(), key: "cg_test_x".into() })
        );
        assert_eq!(presented_key(&headers("Basic !!notbase64")), None);
        assert_eq!(presented_key(&headers("Token cg_test_x")), None);
        assert_eq!(presented_key(&HeaderMap::new()), None);
    }
}
