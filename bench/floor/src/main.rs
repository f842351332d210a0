//! `mcp-floor`: the floor of caregate's benchmark (`bench/run.sh`, row 0). A minimal MCP server with the same
//! transport as caregate's `/api/mcp` — rmcp's Streamable HTTP service, stateless (no sessions), JSON
//! responses, no SSE keep-alive, the same allowed hosts and body limit, mimalloc as the allocator — behind a
//! constant-string bearer check, with one tool, `whoami`, that answers a constant of about the size of
//! caregate's `whoami` answer. Whatever caregate adds around rmcp (key verification, budgets, activity,
//! metrics, routing) is what separates its warm `whoami` from this server's.
//!
//! ```text
//! mcp-floor [ADDRESS [TOKEN]]
//! ```
//! ADDRESS (else `MCP_FLOOR_ADDR`, else `127.0.0.1:3500`) is where it listens; TOKEN (else `MCP_FLOOR_TOKEN`,
//! else `floor`) is the only accepted bearer token. `POST /api/mcp` as in caregate; anything without
//! `Authorization: Bearer TOKEN` gets 401.
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use http::header::AUTHORIZATION;
use http::StatusCode;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::model::{CallToolResult, Implementation, InitializeResult, ServerCapabilities};
use rmcp::transport::streamable_http_server::session::never::NeverSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{tool, tool_handler, tool_router, ErrorData, ServerHandler};

/// The same allocator as caregate's server.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Request bodies above this are refused with 413 (caregate's limit).
const MAX_BODY_BYTES: usize = 1024 * 1024;

/// One per request (stateless mode builds a handler for each); the tool table is built once per process, as
/// caregate does.
#[derive(Clone)]
struct Floor {
    tool_router: Arc<ToolRouter<Floor>>,
}

#[tool_router]
impl Floor {
    fn new() -> Self {
        Floor { tool_router: Arc::new(Self::tool_router()) }
    }

    #[tool(description = "Who this token acts for: a constant answer of the size of caregate's whoami.")]
    async fn whoami(&self) -> Result<CallToolResult, ErrorData> {
        Ok(CallToolResult::structured(serde_json::json!({
            "user": { "id": 1, "name": "Rosa Martinez", "email": "root@sunrise.test", "role": "root" },
            "company": { "id": 1, "name": "Sunrise Home Care", "account_number": 74844299 },
            "key": {
                "key_id": "Ab3dE6gH",
                "label": "bench",
                "scopes": ["read:visits", "read:schedule", "read:profile", "read:messages", "read:patients", "read:caregivers", "read:activity"],
                "expires_at": "2027-03-03T10:00:00.123456Z",
            },
        })))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for Floor {
    fn get_info(&self) -> InitializeResult {
        let mut info = InitializeResult::new(ServerCapabilities::builder().enable_tools().build());
        info.server_info = Implementation::new("mcp-floor", env!("CARGO_PKG_VERSION"));
        info
    }
}

/// 401 unless the request carries exactly `Authorization: Bearer TOKEN`: one comparison of constant strings.
async fn require_bearer(State(expected): State<Arc<str>>, request: Request, next: Next) -> Response {
    match request.headers().get(AUTHORIZATION) {
        Some(given) if given.as_bytes() == expected.as_bytes() => next.run(request).await,
        _ => StatusCode::UNAUTHORIZED.into_response(),
    }
}

/// caregate's transport settings, with the hosts and origin of `http://ADDRESS`.
fn app(address: &str, token: &str) -> Router {
    let host = address.rsplit_once(':').map_or(address, |(host, _)| host);
    let mut hosts = vec![address.to_owned(), host.to_owned(), "localhost".to_owned(), "127.0.0.1".to_owned(), "[::1]".to_owned()];
    hosts.dedup();
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(hosts)
        .with_allowed_origins(vec![format!("http://{address}")])
        .with_max_request_body_bytes(MAX_BODY_BYTES);
    let handler = Floor::new();
    let service = Arc::new(StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(NeverSessionManager::default()), config));
    let expected: Arc<str> = format!("Bearer {token}").into();
    // Served as caregate serves it: one shared service, not a routed one copied per request.
    Router::new()
        .route("/api/mcp", post(move |request: Request| async move { service.handle(request).await }))
        .layer(axum::middleware::from_fn_with_state(expected, require_bearer))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let address = args.next().or_else(|| std::env::var("MCP_FLOOR_ADDR").ok()).unwrap_or_else(|| "127.0.0.1:3500".to_owned());
    let token = args.next().or_else(|| std::env::var("MCP_FLOOR_TOKEN").ok()).unwrap_or_else(|| "floor".to_owned());
    let listener = match tokio::net::TcpListener::bind(&address).await {
        Ok(listener) => listener,
        Err(err) => {
            eprintln!("mcp-floor: cannot listen on {address}: {err}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match axum::serve(listener, app(&address, &token)).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("mcp-floor: {err}");
            std::process::ExitCode::FAILURE
        }
    }
}
