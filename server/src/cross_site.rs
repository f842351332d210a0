//! Refuses cross-site calls of server functions: a browser on another site can make a signed-in person's
//! browser post a form to us. The `SameSite=Lax` session cookie already stays home on such posts; this check
//! refuses them outright, by the `Origin` the browser sends (it must be this server's own, as the request's
//! `Host` or the public URL names it) and by `Sec-Fetch-Site`. Requests without either header (non-browser
//! clients) pass, and still need a session.
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::{CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderMap, StatusCode};

use app::error::AppError;
use app::state::AppState;

/// Whether the browser says this request comes from another site.
fn is_cross_site(headers: &HeaderMap, public_url: &str) -> bool {
    if headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()).is_some_and(|site| site == "cross-site") {
        return true;
    }
    let Some(origin) = headers.get(ORIGIN) else { return false };
    let Ok(origin) = origin.to_str() else { return true };
    let origin = origin.trim_end_matches('/');
    if origin == public_url.trim_end_matches('/') {
        return false;
    }
    let host = headers.get(HOST).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let origin_authority = origin.split_once("://").map(|(_, authority)| authority).unwrap_or_default();
    host.is_empty() || origin_authority != host
}

/// Server functions live under `/api/`, beside the key-authenticated API (`/api/v1/`, `/api/mcp`), which
/// checks origins its own way and carries no cookie.
fn is_server_function(path: &str) -> bool {
    path.starts_with("/api/") && !path.starts_with("/api/v1/") && path != "/api/mcp"
}

pub async fn refuse_cross_site(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !is_server_function(request.uri().path()) || !is_cross_site(request.headers(), &state.public_url) {
        return next.run(request).await;
    }
    let body = serde_json::to_string(&AppError::Forbidden("Cross-site requests are refused".to_owned())).unwrap_or_default();
    (StatusCode::FORBIDDEN, [(CONTENT_TYPE, "application/json")], body).into_response()
}

#[cfg(test)]
mod tests {
    use http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_static(value));
        }
        headers
    }

    #[test]
    fn only_the_servers_own_origin_passes() {
        let public = "https://care.example.com";
        assert!(!is_cross_site(&headers(&[]), public), "no browser headers: not a cross-site browser request");
        assert!(!is_cross_site(&headers(&[("origin", "https://care.example.com")]), public));
        assert!(!is_cross_site(&headers(&[("origin", "http://localhost:3000"), ("host", "localhost:3000")]), public), "same origin as the Host");
        assert!(is_cross_site(&headers(&[("origin", "https://evil.example"), ("host", "care.example.com")]), public));
        assert!(is_cross_site(&headers(&[("origin", "null"), ("host", "care.example.com")]), public));
        assert!(is_cross_site(&headers(&[("sec-fetch-site", "cross-site")]), public));
        assert!(!is_cross_site(&headers(&[("sec-fetch-site", "same-origin")]), public));
    }
}
