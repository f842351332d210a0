//! Who is calling: the session cookie, and `require_user()`, the one way server functions and the page guard
//! resolve the signed-in user.
use domain::activity::Origin;
use domain::sessions::{self, ActiveSession, SessionToken};
use domain::two_factor::ChallengeSecret;
use domain::DomainError;
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use crate::model::CurrentUser;
use crate::state::{app_state, AppState};

/// The session cookie's name over plain http (local runs).
pub const SESSION_COOKIE: &str = "caregate_session";
/// Its name behind https: the `__Host-` prefix makes browsers refuse it unless it is `Secure`, for `Path=/`
/// and without a `Domain`, so no sibling subdomain can set or overwrite it.
pub const SECURE_SESSION_COOKIE: &str = "__Host-caregate_session";

/// The session cookie's name for a deployment with or without https.
pub fn session_cookie_name(secure: bool) -> &'static str {
    if secure {
        SECURE_SESSION_COOKIE
    } else {
        SESSION_COOKIE
    }
}

/// The two-factor challenge cookie's name (a right password waiting for its code), with or without https.
pub fn challenge_cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-caregate_two_factor"
    } else {
        "caregate_two_factor"
    }
}

/// The session token in a request's `Cookie` headers, if any, under the deployment's cookie name.
pub fn session_token(headers: &HeaderMap, secure: bool) -> Option<SessionToken> {
    cookie(headers, session_cookie_name(secure)).map(SessionToken::from_cookie)
}

/// A non-empty cookie's value.
fn cookie<'a>(headers: &'a HeaderMap, cookie_name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, value)| *name == cookie_name && !value.is_empty())
        .map(|(_, value)| value)
}

/// Resolves the session of a request from its headers; `None` when absent, expired or ended.
pub async fn resolve_session(state: &AppState, headers: &HeaderMap) -> Result<Option<ActiveSession>, DomainError> {
    match session_token(headers, state.secure_cookies) {
        Some(token) => sessions::resolve(&state.db, &token).await,
        None => Ok(None),
    }
}

/// Where a request came from: the client's address (the TCP peer, or behind a trusted reverse proxy the
/// address it forwarded, see [`domain::net::TrustedProxies::client_ip`]) and the `User-Agent`, for the throttles,
/// the activity feed and Last Used. This is the one place a request's client address is decided.
pub fn origin_from(state: &AppState, headers: &HeaderMap, extensions: &http::Extensions) -> Origin {
    let peer = extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>().map(|info| info.0.ip());
    let ip = state.trusted_proxies.client_ip(peer, headers).map(domain::net::address_text);
    let user_agent = headers.get(http::header::USER_AGENT).and_then(|value| value.to_str().ok()).map(str::to_owned);
    Origin { ip, user_agent }
}

/// Where the current server-function request came from.
pub fn request_origin() -> Origin {
    use_context::<http::request::Parts>().map(|parts| origin_from(&app_state(), &parts.headers, &parts.extensions)).unwrap_or_default()
}

fn request_headers() -> HeaderMap {
    use_context::<http::request::Parts>().map(|parts| parts.headers).unwrap_or_default()
}

/// The current request's session token, or 401.
pub fn require_token() -> Result<SessionToken, DomainError> {
    session_token(&request_headers(), app_state().secure_cookies).ok_or(DomainError::Unauthenticated)
}

/// The current request's two-factor challenge, or 401 asking to sign in again.
pub fn require_challenge() -> Result<ChallengeSecret, DomainError> {
    let headers = request_headers();
    let value = cookie(&headers, challenge_cookie_name(app_state().secure_cookies)).ok_or(DomainError::Unauthenticated)?;
    Ok(ChallengeSecret::from_cookie(value))
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
    let name = session_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    append_set_cookie(&format!("{name}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{secure}", token.cookie_value()));
}

/// Sets the two-factor challenge cookie for as long as the challenge waits (`SameSite=Strict`: only this
/// site's own code page sends it back).
pub fn set_challenge_cookie(challenge: &ChallengeSecret, secure: bool) {
    let max_age = domain::two_factor::CHALLENGE_LIFETIME.num_seconds();
    let name = challenge_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    append_set_cookie(&format!("{name}={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}", challenge.cookie_value()));
}

/// Removes the challenge cookie.
pub fn clear_challenge_cookie(secure: bool) {
    let name = challenge_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    append_set_cookie(&format!("{name}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0{secure}"));
}

/// Removes the session cookie from the browser.
pub fn clear_session_cookie(secure: bool) {
    let name = session_cookie_name(secure);
    let secure = if secure { "; Secure" } else { "" };
    append_set_cookie(&format!("{name}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0{secure}"));
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
        assert_eq!(session_token(&headers, false).map(|t| t.cookie_value().to_owned()), Some("abc123".to_owned()));
        assert!(session_token(&headers, true).is_none(), "behind https only the __Host- cookie counts");
        headers.insert(COOKIE, HeaderValue::from_static("caregate_session=plain; __Host-caregate_session=hosted"));
        assert_eq!(session_token(&headers, true).map(|t| t.cookie_value().to_owned()), Some("hosted".to_owned()));
    }

    #[test]
    fn an_empty_or_missing_session_cookie_is_no_session() {
        let mut headers = HeaderMap::new();
        assert!(session_token(&headers, false).is_none());
        headers.insert(COOKIE, HeaderValue::from_static("caregate_session="));
        assert!(session_token(&headers, false).is_none());
        headers.insert(COOKIE, HeaderValue::from_static("caregate_sessionx=abc"));
        assert!(session_token(&headers, false).is_none());
    }
}
