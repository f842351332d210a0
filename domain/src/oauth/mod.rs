//! caregate's own OAuth 2.1 authorization server (the MCP authorization spec, 2025-11-25), for MCP clients that
//! cannot send a configured key (ChatGPT's and claude.ai's connectors, and every client that prefers OAuth).
//!
//! * Clients are public (no client secrets): a Client ID Metadata Document (the client_id is an https URL whose
//!   JSON names the client and its redirect URIs; [`client_metadata`] fetches it, SSRF-safe) or a Dynamic
//!   Client Registration (RFC 7591), which expires unless a connection uses it.
//! * Authorization code with PKCE S256 only; codes live a minute and work once; `state` and `iss` (RFC 9207)
//!   go back to the client; the `resource` (RFC 8707) must be this server's MCP endpoint.
//! * A redeemed code creates a **connection**: a row of `api_keys` that names its client, so it lists, counts
//!   against the key limit, spends the key budget, records Last Used and activity, follows its owner's role
//!   and status, and revokes exactly like a key. Its access tokens (one hour) and refresh tokens (rotated on
//!   every use; a replayed one revokes the connection) are stored only as SHA-256 digests ([`token`]).
//!
//! The rules here are plain functions with their unit tests; storage is in `store`, the flows in [`service`].
pub mod client_metadata;
pub mod service;
mod store;
pub mod token;

pub(crate) use store::{apps_of, find_access_for_check, AccessForCheck};

use chrono::Duration;
use sha2::{Digest, Sha256};

use crate::scope::Scope;
use crate::Role;

/// How long an access token works.
pub const ACCESS_TOKEN_LIFETIME: Duration = Duration::hours(1);
/// How long a code may wait for its exchange.
pub const CODE_LIFETIME: Duration = Duration::seconds(60);
/// How long a validated authorization request waits for the person's decision (sign-in included).
pub const REQUEST_LIFETIME: Duration = Duration::minutes(15);
/// How long a registration nobody has connected with is kept.
pub const UNUSED_REGISTRATION_LIFETIME: Duration = Duration::hours(24);
/// How long a fetched Client ID Metadata Document is trusted before it is fetched again.
pub const METADATA_CACHE_LIFETIME: Duration = Duration::hours(1);
/// A refresh token of a connection that never expires works this long after its issue (rotation renews it).
pub const NEVER_EXPIRING_REFRESH_LIFETIME: Duration = Duration::days(365);
/// Redirect URIs a client may list.
pub const MAX_REDIRECT_URIS: usize = 10;
const MAX_URI_LENGTH: usize = 1000;
const MAX_STATE_LENGTH: usize = 1000;

/// Where a client's identity comes from (stored as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum ClientKind {
    /// A Client ID Metadata Document at an https URL (the client_id).
    #[sea_orm(string_value = "metadata")]
    MetadataDocument,
    /// Dynamic Client Registration.
    #[sea_orm(string_value = "registered")]
    Registered,
}

/// An access or a refresh token (stored as text).
#[derive(Debug, Clone, Copy, PartialEq, Eq, sea_orm::EnumIter, sea_orm::DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum TokenKind {
    #[sea_orm(string_value = "access")]
    Access,
    #[sea_orm(string_value = "refresh")]
    Refresh,
}

/// What this server answers with to clients; the HTTP layer maps each to its status (400, 401, 429, 503, 500)
/// and writes `{"error": code, "error_description": message}`.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("{0}")]
    InvalidRequest(String),
    /// 401 at the token endpoint: an unknown client, or one that does not match the code.
    #[error("{0}")]
    InvalidClient(String),
    #[error("{0}")]
    InvalidGrant(String),
    #[error("{0}")]
    InvalidScope(String),
    /// RFC 8707: the `resource` is not this server's MCP endpoint.
    #[error("{0}")]
    InvalidTarget(String),
    #[error("{0}")]
    UnsupportedGrantType(String),
    #[error("{0}")]
    InvalidRedirectUri(String),
    #[error("{0}")]
    InvalidClientMetadata(String),
    /// 429 with `Retry-After`.
    #[error("Too many registrations from this address; try again in {retry_after} seconds")]
    TooManyRequests { retry_after: u64 },
    /// 500 or 503; the text is logged, never sent.
    #[error(transparent)]
    Server(#[from] crate::DomainError),
}

impl From<sea_orm::DbErr> for OAuthError {
    fn from(err: sea_orm::DbErr) -> Self {
        OAuthError::Server(err.into())
    }
}

impl OAuthError {
    /// The `error` code of RFC 6749 §5.2, RFC 7591 §3.2.2 and RFC 8707.
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient(_) => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::InvalidTarget(_) => "invalid_target",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidRedirectUri(_) => "invalid_redirect_uri",
            OAuthError::InvalidClientMetadata(_) => "invalid_client_metadata",
            OAuthError::TooManyRequests { .. } => "too_many_requests",
            OAuthError::Server(_) => "server_error",
        }
    }
}

/// Checks a redirect URI a client lists: `https://…`, or `http://` on a loopback address (RFC 8252 §7.3), no
/// fragment, no user info, at most 1000 characters.
pub fn validate_redirect_uri(uri: &str) -> Result<(), String> {
    if uri.len() > MAX_URI_LENGTH {
        return Err("A redirect URI may have at most 1000 characters".to_owned());
    }
    let parsed = url::Url::parse(uri).map_err(|_| format!("{uri:?} is not an absolute URL"))?;
    if parsed.fragment().is_some() || !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(format!("{uri:?} may not carry a fragment or user info"));
    }
    match parsed.scheme() {
        "https" if parsed.host().is_some() => Ok(()),
        "http" if is_loopback_host(&parsed) => Ok(()),
        _ => Err(format!("{uri:?} must be https, or http on a loopback address (127.0.0.1, [::1] or localhost)")),
    }
}

fn is_loopback_host(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// Whether `presented` is one of the client's `registered` redirect URIs: exactly, except that an http loopback
/// URI may name any port (RFC 8252 §7.3: native apps pick a free port at the time of the request).
pub fn redirect_uri_matches(registered: &[String], presented: &str) -> bool {
    registered.iter().any(|candidate| {
        if candidate == presented {
            return true;
        }
        let (Ok(candidate), Ok(presented)) = (url::Url::parse(candidate), url::Url::parse(presented)) else { return false };
        let loopback = candidate.scheme() == "http" && is_loopback_host(&candidate) && presented.scheme() == "http";
        loopback && without_port(&candidate) == without_port(&presented)
    })
}

fn without_port(url: &url::Url) -> String {
    let mut url = url.clone();
    let _ = url.set_port(None);
    url.to_string()
}

/// PKCE (RFC 7636) with S256 only: whether `verifier` (43–128 unreserved characters) hashes to `challenge`.
pub fn pkce_matches(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len()) && verifier.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
    well_formed && constant_time_eq(base64url(&Sha256::digest(verifier.as_bytes())).as_bytes(), challenge.as_bytes())
}

/// Whether a `code_challenge` has the shape of an S256 challenge (43 base64url characters).
pub fn is_s256_challenge(challenge: &str) -> bool {
    challenge.len() == 43 && challenge.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// Unpadded base64url.
pub fn base64url(bytes: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The `scope` parameter (space-separated names): every scope when absent or empty; an unknown name is an error.
pub fn parse_scope_parameter(scope: Option<&str>) -> Result<Vec<Scope>, String> {
    let names: Vec<&str> = scope.unwrap_or_default().split(' ').filter(|name| !name.is_empty()).collect();
    if names.is_empty() {
        return Ok(Scope::ALL.to_vec());
    }
    let mut scopes = Vec::new();
    for name in names {
        let scope = Scope::parse(name).ok_or_else(|| format!("Unknown scope {name:?}; caregate's scopes are {}", all_scope_names()))?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes.sort();
    Ok(scopes)
}

/// Every scope name, space-separated (metadata, `WWW-Authenticate`).
pub fn all_scope_names() -> String {
    Scope::ALL.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(" ")
}

/// What the consent page offers: what was asked for, capped by the role (in the role's order).
pub fn capped_by_role(requested: &[Scope], role: Role) -> Vec<Scope> {
    Scope::allowed_for(role).iter().copied().filter(|scope| requested.contains(scope)).collect()
}

/// The MCP resource tokens are bound to (RFC 8707): `<public URL>/api/mcp`.
pub fn mcp_resource(public_url: &str) -> String {
    format!("{}/api/mcp", public_url.trim_end_matches('/'))
}

/// Whether a presented `resource` names this server's MCP endpoint (a trailing slash aside). An absent one
/// means the same: caregate has no other resource to issue tokens for.
pub fn resource_matches(presented: Option<&str>, public_url: &str) -> bool {
    presented.is_none_or(|resource| resource.trim_end_matches('/') == mcp_resource(public_url))
}

/// Checks the `state` a client sends (returned verbatim): at most 1000 printable ASCII characters.
pub fn validate_state(state: Option<&str>) -> Result<(), String> {
    match state {
        Some(state) if state.len() > MAX_STATE_LENGTH || !state.bytes().all(|b| b.is_ascii_graphic() || b == b' ') => {
            Err("state must be at most 1000 printable characters".to_owned())
        }
        _ => Ok(()),
    }
}

/// `redirect_uri` with the authorization response's parameters added to its query (RFC 6749 §4.1.2, RFC 9207).
pub fn redirect_with(redirect_uri: &str, params: &[(&str, &str)]) -> String {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (name, value) in params {
                    query.append_pair(name, value);
                }
            }
            url.to_string()
        }
        Err(_) => redirect_uri.to_owned(),
    }
}

/// A client-chosen name, cleaned for display (no control or invisible characters, at most 100 characters);
/// `fallback` when nothing is left.
pub fn clean_client_name(name: Option<&str>, fallback: &str) -> String {
    let cleaned = crate::activity::untrusted_text(name.unwrap_or_default().trim(), 100);
    if cleaned.trim().is_empty() {
        fallback.to_owned()
    } else {
        cleaned.trim().to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uris_are_https_or_loopback_http_without_fragments() {
        for good in
            ["https://chatgpt.com/connector_platform_oauth_redirect", "http://127.0.0.1:33418/callback", "http://[::1]/cb", "http://localhost:8080/x"]
        {
            assert_eq!(validate_redirect_uri(good), Ok(()), "{good}");
        }
        for bad in [
            "http://evil.example/callback",
            "http://10.0.0.1/cb",
            "https://a.example/cb#frag",
            "https://user:pw@a.example/cb",
            "javascript:alert(1)",
            "/relative",
            "custom.scheme:/cb",
        ] {
            assert!(validate_redirect_uri(bad).is_err(), "{bad}");
        }
        assert!(validate_redirect_uri(&format!("https://a.example/{}", "x".repeat(1000))).is_err());
    }

    #[test]
    fn a_redirect_uri_must_match_exactly_but_a_loopback_port_may_change() {
        let registered = vec!["https://app.example/callback".to_owned(), "http://127.0.0.1:4000/cb".to_owned()];
        assert!(redirect_uri_matches(&registered, "https://app.example/callback"));
        assert!(!redirect_uri_matches(&registered, "https://app.example/callback/"), "one character more");
        assert!(!redirect_uri_matches(&registered, "https://app.example/callbacK"), "one character changed");
        assert!(!redirect_uri_matches(&registered, "https://app.example:8443/callback"), "https ports are exact");
        assert!(redirect_uri_matches(&registered, "http://127.0.0.1:51234/cb"), "RFC 8252: any loopback port");
        assert!(!redirect_uri_matches(&registered, "http://127.0.0.1:51234/cb2"));
        assert!(!redirect_uri_matches(&registered, "http://localhost:4000/cb"), "the host is exact");
    }

    #[test]
    fn pkce_accepts_the_rfc_7636_vector_and_nothing_else() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(pkce_matches(verifier, challenge));
        assert!(is_s256_challenge(challenge));
        assert!(!pkce_matches("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK", challenge), "another verifier");
        assert!(!pkce_matches(challenge, challenge), "plain: the challenge itself is no verifier");
        assert!(!pkce_matches("short", &base64url(&Sha256::digest(b"short"))), "verifiers have at least 43 characters");
        assert!(!is_s256_challenge("plain-challenge"));
    }

    #[test]
    fn the_scope_parameter_defaults_to_everything_and_refuses_unknown_names() {
        assert_eq!(parse_scope_parameter(None), Ok(Scope::ALL.to_vec()));
        assert_eq!(parse_scope_parameter(Some("read:visits read:visits  read:schedule")), Ok(vec![Scope::ReadVisits, Scope::ReadSchedule]));
        assert!(parse_scope_parameter(Some("read:visits write:everything")).is_err());
    }

    #[test]
    fn a_caregiver_is_never_offered_patients() {
        assert_eq!(capped_by_role(&[Scope::ReadPatients, Scope::ReadVisits], Role::Caregiver), vec![Scope::ReadVisits]);
        assert_eq!(capped_by_role(&Scope::ALL, Role::Root), Scope::ALL.to_vec());
    }

    #[test]
    fn the_resource_must_be_this_servers_mcp_endpoint() {
        let public = "https://care.example.com";
        assert!(resource_matches(Some("https://care.example.com/api/mcp"), public));
        assert!(resource_matches(Some("https://care.example.com/api/mcp/"), public));
        assert!(resource_matches(None, public));
        assert!(!resource_matches(Some("https://other.example.com/api/mcp"), public));
        assert!(!resource_matches(Some("https://care.example.com/"), public));
    }

    #[test]
    fn the_response_parameters_are_added_to_the_redirect_uris_query() {
        assert_eq!(
            redirect_with("https://app.example/cb?x=1", &[("code", "abc"), ("state", "s t&u"), ("iss", "https://care.example.com")]),
            "https://app.example/cb?x=1&code=abc&state=s+t%26u&iss=https%3A%2F%2Fcare.example.com"
        );
    }

    #[test]
    fn state_is_bounded_and_printable() {
        assert!(validate_state(Some("abc-123_XYZ")).is_ok());
        assert!(validate_state(None).is_ok());
        assert!(validate_state(Some("a\nb")).is_err());
        assert!(validate_state(Some(&"s".repeat(1001))).is_err());
    }

    #[test]
    fn client_names_are_cleaned_and_never_empty() {
        assert_eq!(clean_client_name(Some("  Claude\u{202e}  "), "x"), "Claude");
        assert_eq!(clean_client_name(Some("\u{200b}"), "app.example"), "app.example");
        assert_eq!(clean_client_name(None, "app.example"), "app.example");
    }
}
