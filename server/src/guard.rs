//! The page guard: signed-out visitors go to `/login?next=…`, signed-in people opening the sign-in page or
//! the other layout's pages (or, for all but Root Users, the People page) go to their own home. Invitation
//! pages are open to anyone. Server functions check the session themselves.
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use http::Method;

use app::api::auth::resolve_session;
use app::api::session::encode_query_value;
use app::state::AppState;

/// Paths that are not pages: server functions, the HTTP API, assets and health checks.
fn is_page(path: &str) -> bool {
    const NOT_PAGES: [&str; 3] = ["/api/", "/pkg/", "/.well-known/"];
    let last_segment = path.rsplit('/').next().unwrap_or_default();
    !NOT_PAGES.iter().any(|prefix| path.starts_with(prefix))
        && !matches!(path, "/healthz" | "/readyz" | "/metrics")
        && !crate::api::NO_OAUTH_PATHS.contains(&path)
        && (!path.starts_with("/oauth/") || path == crate::oauth::AUTHORIZE_PATH)
        && !last_segment.contains('.')
}

/// Pages anyone may open, signed in or not: an invitation link is its own credential.
fn is_open_to_anyone(path: &str) -> bool {
    path.starts_with("/invite/")
}

pub async fn page_guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET || !is_page(request.uri().path()) || is_open_to_anyone(request.uri().path()) {
        return next.run(request).await;
    }
    let path = request.uri().path().to_owned();
    let session = match resolve_session(&state, request.headers()).await {
        Ok(session) => session,
        Err(err) => {
            tracing::error!(error = %err, "session lookup failed");
            return (http::StatusCode::SERVICE_UNAVAILABLE, app::error::AppError::Unavailable.to_string()).into_response();
        }
    };
    match session {
        None if is_sign_in(&path) => next.run(request).await,
        None => {
            let target = request.uri().path_and_query().map(|pq| pq.as_str()).unwrap_or("/");
            Redirect::to(&format!("/login?next={}", encode_query_value(target))).into_response()
        }
        Some(session) if is_sign_in(&path) || !session.user.role.may_open(&path) => Redirect::to(session.user.role.home_path()).into_response(),
        Some(_) => next.run(request).await,
    }
}

/// The sign-in pages (password, then the two-factor code): for signed-out visitors only.
fn is_sign_in(path: &str) -> bool {
    matches!(path, "/login" | "/login/code")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_told_apart_from_assets_and_apis() {
        for page in ["/", "/login", "/visits", "/portal", "/portal/schedule", "/nowhere", "/oauth/authorize"] {
            assert!(is_page(page), "{page}");
        }
        for other in [
            "/api/session/login",
            "/pkg/caregate.js",
            "/favicon.svg",
            "/healthz",
            "/readyz",
            "/metrics",
            "/.well-known/x",
            "/token",
            "/oauth/token",
            "/oauth/register",
        ] {
            assert!(!is_page(other), "{other}");
        }
    }

    #[test]
    fn the_return_path_is_encoded_for_a_query_string() {
        assert_eq!(encode_query_value("/visits?week=2&x=a b"), "/visits%3Fweek%3D2%26x%3Da%20b");
    }
}
