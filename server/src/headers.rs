//! Security headers on every response: no MIME sniffing, no framing, a strict referrer policy, and a
//! Content-Security-Policy limited to what cannot break the hydrated app (framing, base URI, form targets,
//! plugins); script and style sources are not restricted yet.
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;
use http::header::{CONTENT_SECURITY_POLICY, REFERRER_POLICY, X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS};
use http::HeaderValue;

pub const CONTENT_SECURITY_POLICY_VALUE: &str = "frame-ancestors 'none'; base-uri 'self'; form-action 'self'; object-src 'none'";

pub async fn security_headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(REFERRER_POLICY, HeaderValue::from_static("strict-origin-when-cross-origin"));
    headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY_VALUE));
    response
}
