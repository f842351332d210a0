//! caregate's OAuth 2.1 authorization server over HTTP (the MCP authorization spec, 2025-11-25): the metadata
//! documents (RFC 9728, RFC 8414), Dynamic Client Registration (RFC 7591), the authorization request that leads
//! to the consent page, the token endpoint and revocation (RFC 7009). The flows are `domain::oauth::service`'s;
//! this module reads requests and maps [`OAuthError`] to HTTP in [`OAuthFailure`]'s one `IntoResponse`.
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use chrono::Utc;
use domain::mail::escape_html;
use domain::oauth::service::{self, AuthorizeError, AuthorizeParams, RegistrationRequest, TokenRequest};
use domain::oauth::{all_scope_names, mcp_resource, OAuthError};
use domain::scope::Scope;
use http::header::{ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};
use serde_json::json;

use app::state::AppState;

/// Where the authorization server's endpoints are, below the public URL.
pub const AUTHORIZE_PATH: &str = "/oauth/authorize";
const TOKEN_PATH: &str = "/oauth/token";
const REGISTER_PATH: &str = "/oauth/register";
const REVOKE_PATH: &str = "/oauth/revoke";
/// The Protected Resource Metadata of `/api/mcp` (RFC 9728 §3.1: the resource's path after the well-known name).
pub const PROTECTED_RESOURCE_PATH: &str = "/.well-known/oauth-protected-resource/api/mcp";
/// Request bodies of the token, registration and revocation endpoints above this are refused.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// The metadata documents and the endpoints that clients call directly (the authorization request is
/// [`authorization_request`], a layer in front of the consent page).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PROTECTED_RESOURCE_PATH, get(protected_resource).options(preflight))
        .route("/.well-known/oauth-protected-resource", get(protected_resource).options(preflight))
        .route("/.well-known/oauth-authorization-server", get(authorization_server).options(preflight))
        .route(REGISTER_PATH, post(register).options(preflight))
        .route(TOKEN_PATH, post(token).options(preflight))
        .route(REVOKE_PATH, post(revoke).options(preflight))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY_BYTES))
}

/// `resource_metadata="…"` for `WWW-Authenticate` on `/api/mcp`.
pub fn resource_metadata_url(public_url: &str) -> String {
    format!("{}{PROTECTED_RESOURCE_PATH}", public_url.trim_end_matches('/'))
}

/// The challenge of a 401 from the API-key layer: where the metadata is and which scopes exist, and, when a
/// credential was presented, that it was refused (RFC 6750 §3).
pub fn challenge(public_url: &str, token_presented: bool) -> String {
    let error = if token_presented { ", error=\"invalid_token\"" } else { "" };
    format!("Bearer realm=\"caregate\", resource_metadata=\"{}\", scope=\"{}\"{error}", resource_metadata_url(public_url), all_scope_names())
}

/// The challenge of a 403 for an access token that lacks the scope a tool needs (the MCP spec's step-up).
pub fn insufficient_scope(public_url: &str, scope: Scope) -> String {
    format!(
        "Bearer realm=\"caregate\", error=\"insufficient_scope\", scope=\"{}\", resource_metadata=\"{}\", error_description=\"This tool needs {}\"",
        scope.as_str(),
        resource_metadata_url(public_url),
        scope.as_str()
    )
}

/// Browser-based MCP clients (an inspector page) read metadata and call the token endpoint across origins.
/// Nothing here uses cookies, so any origin may.
fn cors(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, OPTIONS"));
    headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type, mcp-protocol-version"));
    response
}

async fn preflight() -> Response {
    cors(StatusCode::NO_CONTENT.into_response())
}

async fn protected_resource(State(state): State<AppState>) -> Response {
    let issuer = state.public_url.trim_end_matches('/');
    cors(
        Json(json!({
            "resource": mcp_resource(issuer),
            "authorization_servers": [issuer],
            "scopes_supported": Scope::ALL.iter().map(|scope| scope.as_str()).collect::<Vec<_>>(),
            "bearer_methods_supported": ["header"],
            "resource_name": "caregate",
        }))
        .into_response(),
    )
}

async fn authorization_server(State(state): State<AppState>) -> Response {
    let issuer = state.public_url.trim_end_matches('/');
    cors(
        Json(json!({
            "issuer": issuer,
            "authorization_endpoint": format!("{issuer}{AUTHORIZE_PATH}"),
            "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
            "registration_endpoint": format!("{issuer}{REGISTER_PATH}"),
            "revocation_endpoint": format!("{issuer}{REVOKE_PATH}"),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code", "refresh_token"],
            "code_challenge_methods_supported": ["S256"],
            "token_endpoint_auth_methods_supported": ["none"],
            "revocation_endpoint_auth_methods_supported": ["none"],
            "scopes_supported": Scope::ALL.iter().map(|scope| scope.as_str()).collect::<Vec<_>>(),
            "client_id_metadata_document_supported": true,
            "authorization_response_iss_parameter_supported": true,
        }))
        .into_response(),
    )
}

/// A refusal of the token, registration or revocation endpoint: `{"error", "error_description"}` with its
/// status. The one place [`OAuthError`] becomes HTTP.
pub struct OAuthFailure(pub OAuthError);

impl IntoResponse for OAuthFailure {
    fn into_response(self) -> Response {
        let error = self.0;
        let (status, description) = match &error {
            OAuthError::InvalidClient(_) => (StatusCode::UNAUTHORIZED, error.to_string()),
            OAuthError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, error.to_string()),
            OAuthError::Server(err) => {
                let trace_id = crate::api::new_trace_id();
                tracing::error!(trace_id = %trace_id, error = %err, "the OAuth endpoint failed");
                let status = if err.is_unavailable() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::INTERNAL_SERVER_ERROR };
                (status, format!("Something went wrong on our side (trace {trace_id})"))
            }
            _ => (StatusCode::BAD_REQUEST, error.to_string()),
        };
        tracing::info!(code = error.code(), status = status.as_u16(), "OAuth request refused");
        let mut response = (status, Json(json!({ "error": error.code(), "error_description": description }))).into_response();
        if let OAuthError::TooManyRequests { retry_after } = error {
            if let Ok(value) = HeaderValue::from_str(&retry_after.to_string()) {
                response.headers_mut().insert(http::header::RETRY_AFTER, value);
            }
        }
        cors(response)
    }
}

/// Form bodies (token, revocation): each parameter at most once (RFC 6749 §3.2).
fn form<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, OAuthFailure> {
    serde_urlencoded::from_bytes(body)
        .map_err(|err| OAuthFailure(OAuthError::InvalidRequest(format!("The request body is not a valid form (each parameter once): {err}"))))
}

/// `POST /oauth/register` (RFC 7591).
async fn register(State(state): State<AppState>, headers: HeaderMap, request: axum::extract::Request) -> Result<Response, OAuthFailure> {
    let origin = app::api::auth::origin_from(&state, &headers, request.extensions());
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| OAuthFailure(OAuthError::InvalidClientMetadata("The registration is larger than 16 KiB".to_owned())))?;
    let registration: RegistrationRequest = serde_json::from_slice(&body)
        .map_err(|err| OAuthFailure(OAuthError::InvalidClientMetadata(format!("The registration is not valid JSON: {err}"))))?;
    let registered = service::register(&state.db, &state.oauth, registration, origin.ip.as_deref(), Utc::now()).await.map_err(OAuthFailure)?;
    Ok(cors((StatusCode::CREATED, Json(registered)).into_response()))
}

/// `POST /oauth/token`: form-encoded; the client_id may also come as HTTP Basic's user name.
async fn token(State(state): State<AppState>, headers: HeaderMap, request: axum::extract::Request) -> Result<Response, OAuthFailure> {
    let origin = app::api::auth::origin_from(&state, &headers, request.extensions());
    let body: Bytes = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| OAuthFailure(OAuthError::InvalidRequest("The request body is larger than 16 KiB".to_owned())))?;
    let mut token_request: TokenRequest = form(&body)?;
    if token_request.client_id.is_none() {
        token_request.client_id = basic_user(&headers);
    }
    let response = service::exchange(&state.db, &state.oauth, token_request, state.token_environment, &state.public_url, &origin, Utc::now())
        .await
        .map_err(OAuthFailure)?;
    Ok(cors(Json(response).into_response()))
}

/// The user name of an `Authorization: Basic` header (a client_id, for clients that authenticate that way).
fn basic_user(headers: &HeaderMap) -> Option<String> {
    use base64::Engine;
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(value.trim()).ok()?;
    let (user, _) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    let user = percent_decode(user);
    (!user.is_empty()).then_some(user)
}

/// RFC 6749 §2.3.1: Basic credentials are form-encoded first.
fn percent_decode(value: &str) -> String {
    serde_urlencoded::from_str::<Vec<(String, String)>>(&format!("v={value}"))
        .ok()
        .and_then(|pairs| pairs.into_iter().next())
        .map(|(_, v)| v)
        .unwrap_or_default()
}

#[derive(serde::Deserialize)]
struct RevocationRequest {
    token: Option<String>,
    #[allow(dead_code)]
    token_type_hint: Option<String>,
    #[allow(dead_code)]
    client_id: Option<String>,
}

/// `POST /oauth/revoke` (RFC 7009): 200 whatever the token was.
async fn revoke(State(state): State<AppState>, headers: HeaderMap, request: axum::extract::Request) -> Result<Response, OAuthFailure> {
    let origin = app::api::auth::origin_from(&state, &headers, request.extensions());
    let body = axum::body::to_bytes(request.into_body(), MAX_BODY_BYTES)
        .await
        .map_err(|_| OAuthFailure(OAuthError::InvalidRequest("The request body is larger than 16 KiB".to_owned())))?;
    let revocation: RevocationRequest = form(&body)?;
    let token = revocation.token.ok_or_else(|| OAuthFailure(OAuthError::InvalidRequest("token is missing".to_owned())))?;
    service::revoke(&state.db, &token, state.token_environment, &origin, Utc::now()).await.map_err(|err| OAuthFailure(err.into()))?;
    Ok(cors(StatusCode::OK.into_response()))
}

/// `GET /oauth/authorize?response_type=code&client_id=…`: validates the request and sends the browser on to the
/// consent page (`/oauth/authorize?request=…`, the Leptos page this layer lets through). A refused request gets
/// a page of ours that says why — with a link back to the client when its redirect URI is registered, never an
/// automatic redirect (anyone can register a redirect URI: that would be an open redirector).
pub async fn authorization_request(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET || request.uri().path() != AUTHORIZE_PATH {
        return next.run(request).await;
    }
    let query = request.uri().query().unwrap_or_default();
    let is_consent_page =
        serde_urlencoded::from_str::<Vec<(String, String)>>(query).map(|pairs| pairs.len() == 1 && pairs[0].0 == "request").unwrap_or(false);
    if is_consent_page {
        return next.run(request).await;
    }
    let params: AuthorizeParams = match serde_urlencoded::from_str(query) {
        Ok(params) => params,
        Err(_) => return refusal_page(StatusCode::BAD_REQUEST, "The authorization request is malformed (each parameter may appear once)."),
    };
    let ip = app::api::auth::origin_from(&state, request.headers(), request.extensions()).ip;
    match service::begin_authorization(&state.db, &state.oauth, params, &state.public_url, ip.as_deref(), Utc::now()).await {
        Ok(request_id) => Redirect::to(&format!("{AUTHORIZE_PATH}?request={request_id}")).into_response(),
        Err(AuthorizeError::BackToClient { message, url }) => refusal_page_with_link(StatusCode::BAD_REQUEST, &message, Some(&url)),
        Err(error @ AuthorizeError::TooManyRequests { .. }) => refusal_page(StatusCode::TOO_MANY_REQUESTS, &error.to_string()),
        Err(AuthorizeError::Untrusted(message)) => refusal_page(StatusCode::BAD_REQUEST, &message),
        Err(AuthorizeError::Server(err)) => {
            let trace_id = crate::api::new_trace_id();
            tracing::error!(trace_id = %trace_id, error = %err, "an authorization request failed");
            let status = if err.is_unavailable() { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::INTERNAL_SERVER_ERROR };
            refusal_page(status, &format!("Something went wrong on our side (trace {trace_id}). Please try again."))
        }
    }
}

/// A small page of ours that says why an app cannot connect (never a redirect to an untrusted address).
fn refusal_page(status: StatusCode, message: &str) -> Response {
    refusal_page_with_link(status, message, None)
}

/// The refusal page, with a link back to the app (its registered redirect URI carrying the error) when there
/// is one: the person chooses to follow it.
fn refusal_page_with_link(status: StatusCode, message: &str, back_to_client: Option<&str>) -> Response {
    let back = match back_to_client {
        Some(url) => format!("<p><a id=\"back-to-app\" href=\"{}\" rel=\"noreferrer\">Return to the app</a></p>", escape_html(url)),
        None => String::new(),
    };
    let body = format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Cannot connect this app · caregate</title>\
         <link rel=\"stylesheet\" href=\"/pkg/caregate.css\"></head><body><main class=\"login-page\"><section class=\"card login-card\"><h1>This app cannot connect</h1>\
         <p role=\"alert\">{}</p>{back}<p><a href=\"/\">Back to caregate</a></p></section></main></body></html>",
        escape_html(message)
    );
    let mut response = (status, Html(body)).into_response();
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_challenge_names_the_metadata_and_the_scopes() {
        let challenge = challenge("https://care.example.com", false);
        assert!(challenge.contains("resource_metadata=\"https://care.example.com/.well-known/oauth-protected-resource/api/mcp\""));
        assert!(challenge.contains("scope=\"read:visits read:schedule"));
        assert!(!challenge.contains("invalid_token"));
        assert!(super::challenge("https://care.example.com", true).ends_with("error=\"invalid_token\""));
        assert!(insufficient_scope("https://care.example.com", Scope::ReadPatients).contains("scope=\"read:patients\""));
    }

    #[test]
    fn refusal_pages_escape_what_a_client_chose() {
        assert_eq!(escape_html("<script>\"x\"&'"), "&lt;script&gt;&quot;x&quot;&amp;&#39;");
    }

    #[test]
    fn a_basic_header_gives_its_user_name_as_the_client_id() {
        use base64::Engine;
        let mut headers = HeaderMap::new();
        let encoded = base64::engine::general_purpose::STANDARD.encode("cgc_abc%2Fd:secret");
        headers.insert(http::header::AUTHORIZATION, HeaderValue::from_str(&format!("Basic {encoded}")).unwrap());
        assert_eq!(basic_user(&headers), Some("cgc_abc/d".to_owned()));
        assert_eq!(basic_user(&HeaderMap::new()), None);
    }
}
