//! The MCP endpoint: `POST /api/mcp`, Streamable HTTP with stateless JSON responses, served by rmcp after the
//! API-key check ([`crate::api::admit`]). Tools see the [`domain::keys::service::KeyPrincipal`] the check put in
//! the request.
pub(crate) mod scopes;
mod tools;

use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::extract::Request;
use axum::response::{IntoResponse, Response};
use axum::routing::post_service;
use axum::Router;
use domain::keys::principal::{Credential, KeyPrincipal};
use domain::scope::Scope;
use http::StatusCode;
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use app::state::AppState;

pub use scopes::Tool;
pub use tools::CaregateMcp;

/// Request bodies above this are refused with 413.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// The hosts and browser origins rmcp accepts: the public URL's, plus loopback for local clients.
fn allowed_hosts_and_origins(public_url: &str) -> (Vec<String>, Vec<String>) {
    let authority = public_url.split("://").nth(1).unwrap_or_default().split('/').next().unwrap_or_default().to_owned();
    let host = authority.rsplit_once(':').map(|(host, _)| host.to_owned()).unwrap_or_else(|| authority.clone());
    let mut hosts = vec![authority, host, "localhost".to_owned(), "127.0.0.1".to_owned(), "[::1]".to_owned()];
    hosts.dedup();
    let origin = public_url.trim_end_matches('/').split('/').take(3).collect::<Vec<_>>().join("/");
    (hosts, vec![origin])
}

/// `/api/mcp` in the router: `POST` to `endpoint`, other methods 405. ([`McpFirst`] sends the `POST`s there
/// before the router is asked.)
pub fn routes(endpoint: &Endpoint) -> Router<AppState> {
    Router::new().route("/api/mcp", post_service(endpoint.clone()))
}

/// The endpoint: the API-key check ([`crate::api::admit`]), then rmcp's transport. A service of its own rather
/// than a handler behind a `from_fn` layer: every MCP call passes here, and this way it costs one boxed future
/// and one reference count, with the transport (its hosts and origins) shared, never copied.
#[derive(Clone)]
pub struct Endpoint(Arc<EndpointParts>);

impl Endpoint {
    /// The endpoint for `state`'s public URL, with caregate's transport settings.
    pub fn new(state: &AppState) -> Self {
        let (hosts, origins) = allowed_hosts_and_origins(&state.public_url);
        let config = StreamableHttpServerConfig::default()
            .with_legacy_session_mode(false)
            .with_json_response(true)
            .with_sse_keep_alive(None)
            .with_allowed_hosts(hosts)
            .with_allowed_origins(origins)
            .with_max_request_body_bytes(MAX_BODY_BYTES);
        let handler = CaregateMcp::new(state.clone());
        let transport = StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(NeverSessionManager::default()), config);
        Endpoint(Arc::new(EndpointParts { state: state.clone(), transport }))
    }
}

struct EndpointParts {
    state: AppState,
    transport: StreamableHttpService<CaregateMcp, NeverSessionManager>,
}

impl tower::Service<Request> for Endpoint {
    type Response = Response;
    type Error = Infallible;
    type Future = futures_util::future::BoxFuture<'static, Result<Response, Infallible>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: Request) -> Self::Future {
        let parts = self.0.clone();
        Box::pin(async move {
            Ok(match crate::api::admit(&parts.state, request).await {
                Ok(request) => parts.transport.handle(request).await.into_response(),
                Err(refusal) => refusal,
            })
        })
    }
}

/// `POST /api/mcp` straight to the [`Endpoint`], everything else to `rest` (the router, which has the same
/// endpoint at the same path for the other methods' 405s). Every MCP call skips the router's path lookup and
/// the route bookkeeping it does for a handler that needs none of it.
#[derive(Clone)]
pub struct McpFirst<S, E = Endpoint> {
    endpoint: E,
    rest: S,
}

impl<S, E> McpFirst<S, E> {
    pub fn new(endpoint: E, rest: S) -> Self {
        McpFirst { endpoint, rest }
    }
}

impl<S, E> tower::Service<Request> for McpFirst<S, E>
where
    S: tower::Service<Request, Response = Response, Error = Infallible>,
    E: tower::Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = futures_util::future::Either<E::Future, S::Future>;

    /// Ready when both are (the next request may go to either); the endpoint and axum's router always are.
    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        let endpoint = self.endpoint.poll_ready(cx)?;
        let rest = self.rest.poll_ready(cx)?;
        if endpoint.is_ready() && rest.is_ready() {
            Poll::Ready(Ok(()))
        } else {
            Poll::Pending
        }
    }

    fn call(&mut self, request: Request) -> Self::Future {
        use futures_util::future::Either;
        if request.method() == http::Method::POST && request.uri().path() == "/api/mcp" {
            Either::Left(self.endpoint.call(request))
        } else {
            Either::Right(self.rest.call(request))
        }
    }
}

/// An OAuth connection calling a tool outside its scopes gets the MCP spec's step-up answer: 403 with
/// `WWW-Authenticate: Bearer error="insufficient_scope", scope="…"`, so its client can ask the person for more.
/// (An API key gets a tool error instead, as before: its holder cannot re-consent.) Called by the API-key check
/// ([`crate::api::admit`]) for `/api/mcp` once it has put the principal in the request; only connections' bodies
/// are read, up to the endpoint's limit, and the request comes back whole.
pub(crate) async fn refuse_missing_scope(public_url: &str, request: Request) -> Result<Request, Response> {
    // Only a connection that lacks a scope some tool needs can be refused here; the others pass unread.
    let may_lack_a_scope = request.extensions().get::<Arc<KeyPrincipal>>().is_some_and(|principal| {
        principal.credential == Credential::Connection
            && Tool::ALL.iter().filter_map(|tool| tool.required_scope()).any(|scope| !principal.allows(scope))
    });
    if !may_lack_a_scope {
        return Ok(request);
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY_BYTES).await else {
        return Err(StatusCode::PAYLOAD_TOO_LARGE.into_response());
    };
    if let Some(principal) = parts.extensions.get::<Arc<KeyPrincipal>>() {
        if let Some(scope) = missing_scope(&bytes, principal) {
            let mut refusal =
                crate::api::ApiError::new(StatusCode::FORBIDDEN, "insufficient_scope", format!("Insufficient scope. Required: {}", scope.as_str()));
            refusal.challenge = Some(crate::oauth::insufficient_scope(public_url, scope));
            return Err(refusal.into_response());
        }
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

/// The scope a `tools/call` in this body needs and the principal lacks, if any.
fn missing_scope(body: &[u8], principal: &KeyPrincipal) -> Option<Scope> {
    /// Only what the check needs, borrowed from the body (no copies on the request path).
    #[derive(serde::Deserialize)]
    struct Call<'a> {
        #[serde(borrow)]
        method: Option<&'a str>,
        #[serde(borrow)]
        params: Option<Params<'a>>,
    }
    #[derive(serde::Deserialize)]
    struct Params<'a> {
        #[serde(borrow)]
        name: Option<&'a str>,
    }
    let call: Call = serde_json::from_slice(body).ok()?;
    if call.method != Some("tools/call") {
        return None;
    }
    let scope = Tool::from_name(call.params?.name?)?.required_scope()?;
    (!principal.allows(scope)).then_some(scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_url_decides_the_allowed_hosts_and_origin() {
        let (hosts, origins) = allowed_hosts_and_origins("https://care.example.com");
        assert!(hosts.contains(&"care.example.com".to_owned()));
        assert_eq!(origins, vec!["https://care.example.com".to_owned()]);
        let (hosts, origins) = allowed_hosts_and_origins("http://127.0.0.1:3100");
        assert!(hosts.contains(&"127.0.0.1:3100".to_owned()) && hosts.contains(&"127.0.0.1".to_owned()));
        assert_eq!(origins, vec!["http://127.0.0.1:3100".to_owned()]);
    }

    #[tokio::test]
    async fn only_a_post_to_the_mcp_path_skips_the_router() {
        use tower::ServiceExt;
        let answering = |name: &'static str| tower::service_fn(move |_: Request| async move { Ok::<_, Infallible>(name.into_response()) });
        let served_by = |method: &str, uri: &str| {
            let service = McpFirst::new(answering("endpoint"), answering("router"));
            let request = Request::builder().method(method).uri(uri).body(Body::empty()).unwrap();
            async move { axum::body::to_bytes(service.oneshot(request).await.unwrap().into_body(), 64).await.unwrap() }
        };
        assert_eq!(served_by("POST", "/api/mcp").await, "endpoint");
        assert_eq!(served_by("POST", "/api/mcp?x=1").await, "endpoint", "a query does not change the path");
        for (method, uri) in [("GET", "/api/mcp"), ("DELETE", "/api/mcp"), ("POST", "/api/mcp/"), ("POST", "/api/mcpx"), ("POST", "/api/v1/me")] {
            assert_eq!(served_by(method, uri).await, "router", "{method} {uri}");
        }
    }
}
