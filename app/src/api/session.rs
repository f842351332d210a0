//! Signing in and out, and who is signed in.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{CurrentUser, Role};

/// Signs in with email and password, sets the session cookie and sends the browser on to `next` (when it
/// is one of the user's own pages) or to the user's home.
#[server(prefix = "/api", endpoint = "session/login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::api::auth::{set_challenge_cookie, set_session_cookie};
    use domain::sessions::{self, SignIn};

    let state = crate::state::app_state();
    let ip = crate::api::auth::request_origin().ip;
    let password = domain::password::Password::new(password);
    match sessions::sign_in(&state.db, &state.password_attempts, &email, password, ip.as_deref(), chrono::Utc::now()).await? {
        SignIn::Session(token, user) => {
            set_session_cookie(&token, state.secure_cookies);
            leptos_axum::redirect(&destination_after_login(next.as_deref(), user.role, &state.public_url));
        }
        SignIn::SecondFactor(challenge) => {
            set_challenge_cookie(&challenge, state.secure_cookies);
            leptos_axum::redirect(&code_page(next.as_deref()));
        }
    }
    Ok(())
}

/// Completes a sign-in with two-factor on: the code from the app (or a recovery code) for the challenge the
/// password step left in a cookie; then as [`login`].
#[server(prefix = "/api", endpoint = "session/code")]
pub async fn submit_sign_in_code(code: String, next: Option<String>) -> Result<(), AppError> {
    use crate::api::auth::{clear_challenge_cookie, require_challenge, set_session_cookie};

    let state = crate::state::app_state();
    let origin = crate::api::auth::request_origin();
    let challenge = require_challenge()?;
    let (token, user) =
        domain::sessions::complete_sign_in(&state.db, &state.secret_key, &state.password_attempts, &challenge, &code, &origin, chrono::Utc::now())
            .await?;
    clear_challenge_cookie(state.secure_cookies);
    set_session_cookie(&token, state.secure_cookies);
    leptos_axum::redirect(&destination_after_login(next.as_deref(), user.role, &state.public_url));
    Ok(())
}

/// The two-factor code page, keeping where the person was going.
pub fn code_page(next: Option<&str>) -> String {
    match next.filter(|next| !next.is_empty()) {
        Some(next) => format!("/login/code?next={}", encode_query_value(next)),
        None => "/login/code".to_owned(),
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters and `/`, for a value in a query string.
pub fn encode_query_value(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => char::from(byte).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Ends the session and sends the browser to the sign-in page.
#[server(prefix = "/api", endpoint = "session/logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::api::auth::{clear_session_cookie, require_token};

    let state = crate::state::app_state();
    if let Ok(token) = require_token() {
        domain::sessions::end(&state.db, &token).await?;
    }
    clear_session_cookie(state.secure_cookies);
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user, or 401.
#[server(prefix = "/api", endpoint = "session/me")]
pub async fn get_current_user() -> Result<CurrentUser, AppError> {
    Ok(crate::api::auth::require_user().await?)
}

/// Where to go after signing in: `next` if it names one of this server's pages (a path, or a URL of the public
/// origin) that the role may open, else the role's home. Anything a browser could read as another origin is
/// refused: `//host`, backslashes, control characters, white space and other non-ASCII (browsers drop tabs and newlines, so
/// `/<TAB>/evil.example` would become `//evil.example`), and percent-encoded separators, dots or controls.
/// What comes back is always a plain local path that is a valid `Location` header.
pub fn destination_after_login(next: Option<&str>, role: Role, public_url: &str) -> String {
    match next.and_then(|next| local_path(next, public_url)) {
        Some(path) if !path.starts_with("/login") && role.may_open(path.split(['?', '#']).next().unwrap_or(path)) => path.to_owned(),
        _ => role.home_path().to_owned(),
    }
}

/// `next` as a path on this server's public origin, if it is one and nothing in it could lead elsewhere.
fn local_path<'a>(next: &'a str, public_url: &str) -> Option<&'a str> {
    const MAX_LENGTH: usize = 2_000;
    let origin = public_url.trim_end_matches('/');
    let path = match next.strip_prefix(origin) {
        Some(rest) if !origin.is_empty() && rest.starts_with('/') => rest,
        _ => next,
    };
    let plain =
        path.len() <= MAX_LENGTH && path.starts_with('/') && !path.starts_with("//") && path.chars().all(|c| c.is_ascii_graphic() && c != '\\');
    (plain && !has_encoded_separator(path)).then_some(path)
}

/// Whether a `%XX` in `path` stands for a separator, a dot, a control character or a non-ASCII byte.
fn has_encoded_separator(path: &str) -> bool {
    let bytes = path.as_bytes();
    bytes.iter().enumerate().filter(|(_, byte)| **byte == b'%').any(|(at, _)| {
        let decoded = bytes.get(at + 1..at + 3).and_then(|hex| std::str::from_utf8(hex).ok()).and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match decoded {
            Some(byte) => !(0x20..0x7F).contains(&byte) || matches!(byte, b'/' | b'\\' | b'.' | b'%'),
            None => true,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "https://care.example.com";

    #[test]
    fn sign_in_returns_people_to_their_own_pages_only() {
        assert_eq!(destination_after_login(Some("/patients"), Role::Root, PUBLIC), "/patients");
        assert_eq!(destination_after_login(Some("/visits?week=2"), Role::User, PUBLIC), "/visits?week=2");
        assert_eq!(destination_after_login(Some("/settings?tab=api-keys%20x"), Role::User, PUBLIC), "/settings?tab=api-keys%20x");
        assert_eq!(destination_after_login(Some("/patients"), Role::Caregiver, PUBLIC), "/portal");
        assert_eq!(destination_after_login(Some("/portal/visits"), Role::Root, PUBLIC), "/");
        assert_eq!(destination_after_login(None, Role::Caregiver, PUBLIC), "/portal");
        assert_eq!(destination_after_login(Some("https://care.example.com/visits"), Role::Root, PUBLIC), "/visits", "a URL of our own origin");
    }

    #[test]
    fn sign_in_never_redirects_off_site() {
        for next in [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "evil",
            "/login",
            "/\t/evil.example",
            "/\n/evil.example",
            "/\r//evil.example",
            "/ /evil.example",
            "/\u{7f}",
            "/\u{85}/evil.example",
            "/%2F/evil.example",
            "/%2f%2fevil.example",
            "/%5cevil.example",
            "/%09/evil.example",
            "/%2e%2e/%2e%2e/x",
            "/é",
            "/%zz",
            "https://care.example.com.evil.example/visits",
            "https://care.example.com@evil.example/",
            "http://care.example.com/visits",
        ] {
            assert_eq!(destination_after_login(Some(next), Role::Root, PUBLIC), "/", "{next:?}");
        }
        assert_eq!(destination_after_login(Some(&format!("/{}", "a".repeat(3_000))), Role::Root, PUBLIC), "/", "overlong");
    }

    #[test]
    fn every_destination_is_a_valid_location_header() {
        for next in ["/\u{7f}", "/visits\u{0}", "/é", "/visits?q=ü"] {
            let destination = destination_after_login(Some(next), Role::Root, PUBLIC);
            assert!(http::HeaderValue::from_str(&destination).is_ok(), "{next:?} → {destination:?}");
        }
    }
}
