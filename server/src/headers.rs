//! Security headers on every response: no MIME sniffing, no framing, a strict referrer policy, and a
//! Content-Security-Policy header for what a `<meta>` policy cannot say (`frame-ancestors`) and what holds for
//! every response: framing, base URI, form targets and plugins. Scripts are restricted too, by the policy each
//! page carries in a `<meta>` (`app::shell`: `default-src 'self'; script-src 'self' 'nonce-…'
//! 'wasm-unsafe-eval'`, plus styles, images and connections from this origin), because only the rendered
//! page knows its per-response nonce. Everything but static assets is `Cache-Control: no-store`: pages, server
//! functions and the API carry care data, keys and the one-time reveal of a token, none of which a browser or
//! proxy may keep.
use std::task::{Context, Poll};

use axum::response::Response;
use futures_util::future::{FutureExt, Map};
use http::header::{CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use http::{HeaderValue, Request};

pub const CONTENT_SECURITY_POLICY_VALUE: &str = "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

/// Static assets (the WebAssembly bundle, styles, icons): the only responses a cache may keep. Nothing under
/// `/api/` is one, whatever its name (`/api/disclosures.csv` carries care data).
fn is_static_asset(path: &str) -> bool {
    !path.starts_with("/api/") && (path.starts_with("/pkg/") || path.rsplit('/').next().is_some_and(|last| last.contains('.')))
}

/// Adds the headers to every response of the service it wraps (the whole router, see
/// `crate::startup::build_app`). A plain tower layer rather than a `from_fn` middleware: it runs on every
/// request, API calls included, and so adds no boxed future and no copy of the routes behind it per request.
#[derive(Clone, Copy, Debug, Default)]
pub struct SecurityHeadersLayer;

impl<S> tower::Layer<S> for SecurityHeadersLayer {
    type Service = SecurityHeaders<S>;

    fn layer(&self, inner: S) -> Self::Service {
        SecurityHeaders { inner }
    }
}

/// The service [`SecurityHeadersLayer`] makes.
#[derive(Clone, Debug)]
pub struct SecurityHeaders<S> {
    inner: S,
}

/// What is done to a response once the inner service has answered.
type Finish<E> = fn(Result<Response, E>) -> Result<Response, E>;

impl<S, B> tower::Service<Request<B>> for SecurityHeaders<S>
where
    S: tower::Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Map<S::Future, Finish<S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let finish: Finish<S::Error> = if is_static_asset(request.uri().path()) {
            |answer| answer.map(|response| with_security_headers(response, true))
        } else {
            |answer| answer.map(|response| with_security_headers(response, false))
        };
        self.inner.call(request).map(finish)
    }
}

fn with_security_headers(mut response: Response, cacheable: bool) -> Response {
    let headers = response.headers_mut();
    // Room for all five at once: the map grows once, not on each insertion.
    headers.reserve(5);
    if !cacheable {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_static_assets_may_be_cached() {
        for asset in ["/pkg/caregate.wasm", "/pkg/caregate.js", "/favicon.svg", "/style/main.css"] {
            assert!(is_static_asset(asset), "{asset}");
        }
        for private in ["/", "/settings", "/api/keys/mint", "/api/keys/list", "/api/v1/me", "/api/mcp", "/portal/visits"] {
            assert!(!is_static_asset(private), "{private}");
        }
    }
}
