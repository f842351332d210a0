//! The MCP endpoint: `POST /api/mcp`, Streamable HTTP with stateless JSON responses, served by rmcp behind
//! the API-key layer. Tools see the [`domain::keys::service::KeyPrincipal`] the layer put in the request.
mod scopes;
mod tools;

use std::sync::Arc;

use axum::routing::post_service;
use axum::Router;
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

/// `POST /api/mcp` (other methods answer 405).
pub fn routes(state: &AppState) -> Router<AppState> {
    let (hosts, origins) = allowed_hosts_and_origins(&state.public_url);
    let config = StreamableHttpServerConfig::default()
        .with_legacy_session_mode(false)
        .with_json_response(true)
        .with_sse_keep_alive(None)
        .with_allowed_hosts(hosts)
        .with_allowed_origins(origins)
        .with_max_request_body_bytes(MAX_BODY_BYTES);
    let handler = CaregateMcp::new(state.clone());
    let service = StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(NeverSessionManager::default()), config);
    Router::new().route("/api/mcp", post_service(service))
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
}
