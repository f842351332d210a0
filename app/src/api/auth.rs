//! Who is calling: the session cookie, and `require_user()`, the one way server functions and the page guard
//! resolve the signed-in user.
use domain::activity::Origin;
use domain::sessions::{self, ActiveSession, SessionToken};
use domain::DomainError;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::model::CurrentUser;
use crate::state::{app_state, AppState};

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "caregate_session";

/// The session token in a request's `Cookie` headers, if any.
pub fn session_token(headers: &HeaderMap) -> Option<SessionToken> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == SESSION_COOKIE && !value.is_empty())
        .map(|(_, value)| SessionToken::from_cookie(value))
}

/// Resolves the session of a request from its headers; `None` when absent, expired or ended.
pub async fn resolve_session(state: &AppState, headers: &HeaderMap) -> Result<Option<ActiveSession>, DomainError> {
    match session_token(headers) {
        Some(token) => sessions::resolve(&state.db, &token).await,
        None => Ok(None),
    }
}

/// Where a request came from: the peer address and the `User-Agent`, for the activity feed and Last Used.
pub fn origin_from(headers: &HeaderMap, extensions: &http::Extensions) -> Origin {
    let ip = extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip().to_string());
    let user_agent = headers.get(http::header::USER_AGENT).and_then(|value| value.to_str().ok()).map(str::to_owned);
    Origin { ip, user_agent }
}

/// Where the current server-function request came from.
pub fn request_origin() -> Origin {
    use_context::<http::request::Parts>().map(|parts| origin_from(&parts.headers, &parts.extensions)).unwrap_or_default()
}

fn request_headers() -> HeaderMap {
    use_context::<http::request::Parts>().map(|parts| parts.headers).unwrap_or_default()
}

/// The current request's session token, or 401.
pub fn require_token() -> Result<SessionToken, DomainError> {
    session_token(&request_headers()).ok_or(DomainError::Unauthenticated)
}

/// The current request's session, or 401.
pub async fn require_session() -> Result<ActiveSession, DomainError> {
    resolve_session(&app_state(), &request_headers()).await?.ok_or(DomainError::Unauthenticated)
}

/// The signed-in user of the current request, or 401.
pub async fn require_user() -> Result<CurrentUser, DomainError> {
    Ok(require_session().await?.user)
}

/// Sets the session cookie: `HttpOnly`, `SameSite=Lax`, `Secure` behind https.
pub fn set_session_cookie(token: &SessionToken, secure: bool) {
    let max_age = sessions::SESSION_LIFETIME.num_seconds();
    let secure = if secure { "; Secure" } else { "" };
    append_set_cookie(&format!("{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", token.cookie_value()));
}

/// Removes the session cookie from the browser.
pub fn clear_session_cookie(secure: bool) {
    let secure = if secure { "; Secure" } else { "" };
    append_set_cookie(&format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"));
}

fn append_set_cookie(cookie: &str) {
    if let (Some(response), Ok(value)) = (use_context::<ResponseOptions>(), HeaderValue::from_str(cookie)) {
        response.append_header(SET_COOKIE, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("theme=dark; caregate_session=abc123; other=1"));
        assert_eq!(session_token(&headers).map(|t| t.cookie_value().to_owned()), Some("abc123".to_owned()));
    }

    #[test]
    fn an_empty_or_missing_session_cookie_is_no_session() {
        let mut headers = HeaderMap::new();
        assert!(session_token(&headers).is_none());
        headers.insert(COOKIE, HeaderValue::from_static("caregate_session="));
        assert!(session_token(&headers).is_none());
        headers.insert(COOKIE, HeaderValue::from_static("caregate_sessionx=abc"));
        assert!(session_token(&headers).is_none());
    }
}
