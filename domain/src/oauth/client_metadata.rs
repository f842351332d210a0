//! Client ID Metadata Documents: a client_id that is an https URL names a JSON document at that URL with the
//! client's name and redirect URIs. Fetching a URL an outsider chose is a server-side request forgery risk,
//! so the fetch
//! * resolves the host itself and refuses it when **any** address is loopback, private, link-local (the cloud
//!   metadata service at 169.254.169.254), shared, multicast, unspecified or reserved — and then connects to
//!   the address it checked, so a second DNS answer cannot point elsewhere (no rebinding);
//! * speaks https only (rustls, the Mozilla root store), follows no redirect, waits at most 5 seconds in all
//!   and reads at most 64 KiB.
//!
//! [`FetchPolicy::allow_loopback`] (the test-only `CAREGATE_OAUTH_LOOPBACK_CLIENTS`) lets a test serve a
//! document from 127.0.0.1 — over https with a certificate of its own test authority
//! (`CAREGATE_OAUTH_TEST_CA`, trusted only then), as real clients insist on https client_ids; private and
//! link-local addresses stay refused even then.
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Empty, Limited};
use serde::Deserialize;

use super::{validate_redirect_uri, MAX_REDIRECT_URIS, MAX_URI_LENGTH};

/// The most a document may weigh.
pub const MAX_DOCUMENT_BYTES: usize = 64 * 1024;
/// The whole fetch (resolution, connection, TLS, response) must finish within this.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// Where documents may come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Tests only: `http://127.0.0.1:…` (and `localhost`) client_ids are accepted and fetched.
    pub allow_loopback: bool,
}

/// What a metadata document says, once checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientMetadata {
    pub client_name: Option<String>,
    pub redirect_uris: Vec<String>,
    /// The URL's host: the domain that vouches for the client.
    pub domain: String,
}

/// Whether a client_id is a metadata-document URL (as opposed to a registered `cgc_…` id).
pub fn is_metadata_url(client_id: &str) -> bool {
    client_id.starts_with("https://") || client_id.starts_with("http://")
}

/// Checks a client_id URL before any network access: https (or loopback http under the test policy), a path
/// other than `/`, no fragment, user info or dot segments, at most 1000 characters.
pub fn check_url(client_id: &str, policy: FetchPolicy) -> Result<url::Url, String> {
    if client_id.len() > MAX_URI_LENGTH {
        return Err("The client_id URL is too long".to_owned());
    }
    let url = url::Url::parse(client_id).map_err(|_| "The client_id is not a URL".to_owned())?;
    // The parser normalises (dot segments, case); an identifier must be given in its one spelling.
    if url.as_str() != client_id {
        return Err("The client_id URL is not in its normal form".to_owned());
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return Err("The client_id URL may not carry a fragment or user info".to_owned());
    }
    if url.path() == "/" || url.path().is_empty() {
        return Err("The client_id URL must have a path".to_owned());
    }
    let loopback_host = matches!(url.host(), Some(url::Host::Ipv4(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
        || matches!(url.host(), Some(url::Host::Domain(d)) if d.eq_ignore_ascii_case("localhost"));
    match url.scheme() {
        // The default port only: a client_id must not turn caregate into a port scanner.
        "https" if url.port().is_some() && !policy.allow_loopback => Err("The client_id URL must use the default https port".to_owned()),
        "https" => Ok(url),
        "http" if policy.allow_loopback && loopback_host => Ok(url),
        _ => Err("The client_id URL must be https".to_owned()),
    }
}

/// Whether an address is one a fetch may connect to: a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(ip) => is_public_v4(ip),
        IpAddr::V6(ip) => match ip.to_ipv4_mapped() {
            Some(mapped) => is_public_v4(mapped),
            None => is_public_v6(ip),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b)) // shared address space (carrier-grade NAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
        || a >= 240)
}

/// Global unicast (2000::/3) only, less the ranges that embed or tunnel to IPv4 (which may be private) and
/// documentation: 6to4 2002::/16, Teredo 2001::/32, 2001:db8::/32.
fn is_public_v6(ip: Ipv6Addr) -> bool {
    let [first, second, ..] = ip.segments();
    (first & 0xe000) == 0x2000 && first != 0x2002 && !(first == 0x2001 && (second == 0 || second == 0x0db8))
}

/// The address a fetch of `url` may connect to under `policy`: every resolved address must be allowed.
fn allowed(ip: IpAddr, policy: FetchPolicy) -> bool {
    is_public(ip) || (policy.allow_loopback && ip.is_loopback())
}

#[derive(Deserialize)]
struct Document {
    client_id: String,
    client_name: Option<String>,
    #[serde(default)]
    redirect_uris: Vec<String>,
    token_endpoint_auth_method: Option<String>,
}

/// Reads a fetched document: its client_id must be the URL it came from, it must list 1–10 valid redirect
/// URIs, and the client must be public (`token_endpoint_auth_method` absent or `none`).
pub fn parse_document(url: &url::Url, body: &[u8]) -> Result<ClientMetadata, String> {
    let document: Document = serde_json::from_slice(body).map_err(|err| format!("The client metadata document is not valid JSON: {err}"))?;
    if document.client_id != url.as_str() {
        return Err("The client metadata document's client_id is not its own URL".to_owned());
    }
    if document.token_endpoint_auth_method.as_deref().is_some_and(|method| method != "none") {
        return Err("caregate accepts public clients only (token_endpoint_auth_method \"none\")".to_owned());
    }
    if document.redirect_uris.is_empty() || document.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err("The client metadata document must list 1 to 10 redirect_uris".to_owned());
    }
    for uri in &document.redirect_uris {
        validate_redirect_uri(uri)?;
    }
    Ok(ClientMetadata {
        client_name: document.client_name,
        redirect_uris: document.redirect_uris,
        domain: url.host_str().unwrap_or_default().to_owned(),
    })
}

/// Fetches client metadata documents under a [`FetchPolicy`], with its TLS configuration built once.
pub struct Fetcher {
    pub policy: FetchPolicy,
    tls: tokio_rustls::TlsConnector,
}

impl Fetcher {
    /// A fetcher trusting the Mozilla root store, and `test_authority_pem` (a PEM certificate) as well when the
    /// policy allows loopback documents (tests only; ignored otherwise).
    pub fn new(policy: FetchPolicy, test_authority_pem: Option<&[u8]>) -> Result<Fetcher, String> {
        let mut roots = rustls::RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
        if let (true, Some(pem)) = (policy.allow_loopback, test_authority_pem) {
            use rustls::pki_types::pem::PemObject;
            for certificate in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
                let certificate = certificate.map_err(|err| format!("the test certificate authority is not PEM: {err}"))?;
                roots.add(certificate).map_err(|err| format!("the test certificate authority is not usable: {err}"))?;
            }
        }
        let config = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .map_err(|err| format!("TLS set-up failed: {err}"))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Fetcher { policy, tls: tokio_rustls::TlsConnector::from(Arc::new(config)) })
    }

    /// Fetches and checks the document a client_id URL names.
    pub async fn fetch(&self, client_id: &str) -> Result<ClientMetadata, String> {
        let url = check_url(client_id, self.policy)?;
        let body = tokio::time::timeout(FETCH_TIMEOUT, self.fetch_body(&url))
            .await
            .map_err(|_| "The client metadata document did not arrive within 5 seconds".to_owned())??;
        parse_document(&url, &body)
    }

    async fn fetch_body(&self, url: &url::Url) -> Result<Vec<u8>, String> {
        fetch_body(url, self.policy, &self.tls).await
    }
}

async fn fetch_body(url: &url::Url, policy: FetchPolicy, tls: &tokio_rustls::TlsConnector) -> Result<Vec<u8>, String> {
    let host = url.host_str().ok_or("The client_id URL has no host")?.trim_start_matches('[').trim_end_matches(']').to_owned();
    let port = url.port_or_known_default().unwrap_or(443);
    // Network failures get one message (the log has the details): the page must not tell a prober which
    // hosts and ports answer.
    let unreachable = |detail: String| {
        tracing::info!(host, detail, "a client metadata document could not be fetched");
        UNREACHABLE.to_owned()
    };
    let addresses: Vec<SocketAddr> =
        tokio::net::lookup_host((host.as_str(), port)).await.map_err(|err| unreachable(err.to_string()))?.take(16).collect();
    if addresses.is_empty() || addresses.iter().any(|address| !allowed(address.ip(), policy)) {
        return Err(format!("{host} resolves to an address caregate does not fetch from (private, loopback or link-local)"));
    }
    let stream = tokio::net::TcpStream::connect(addresses[0]).await.map_err(|err| unreachable(err.to_string()))?;
    let path_and_query = match url.query() {
        Some(query) => format!("{}?{query}", url.path()),
        None => url.path().to_owned(),
    };
    let request = http::Request::get(path_and_query)
        .header(http::header::HOST, url.host_str().unwrap_or_default())
        .header(http::header::ACCEPT, "application/json")
        .header(http::header::USER_AGENT, "caregate (client metadata)")
        .body(Empty::<bytes::Bytes>::new())
        .map_err(|err| format!("Cannot build the request: {err}"))?;
    if url.scheme() == "https" {
        let tls = tls.connect(server_name(&host)?, stream).await.map_err(|err| unreachable(err.to_string()))?;
        send(hyper_util::rt::TokioIo::new(tls), request).await.map_err(unreachable)
    } else {
        send(hyper_util::rt::TokioIo::new(stream), request).await.map_err(unreachable)
    }
}

/// What a person sees when a client's document could not be had, whatever the network said.
const UNREACHABLE: &str = "The app's client metadata document could not be fetched (it must answer 200 with JSON over https within 5 seconds)";

async fn send<T>(io: T, request: http::Request<Empty<bytes::Bytes>>) -> Result<Vec<u8>, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, connection) = hyper::client::conn::http1::handshake(io).await.map_err(|err| format!("HTTP failed: {err}"))?;
    let driver = tokio::spawn(connection);
    let response = sender.send_request(request).await.map_err(|err| format!("HTTP failed: {err}"));
    let result = match response {
        Ok(response) if response.status() == http::StatusCode::OK => Limited::new(response.into_body(), MAX_DOCUMENT_BYTES)
            .collect()
            .await
            .map(|body| body.to_bytes().to_vec())
            .map_err(|_| "The client metadata document is larger than 64 KiB".to_owned()),
        Ok(response) => Err(format!("The client metadata document answered {} (redirects are not followed)", response.status())),
        Err(err) => Err(err),
    };
    driver.abort();
    result
}

fn server_name(host: &str) -> Result<rustls::pki_types::ServerName<'static>, String> {
    rustls::pki_types::ServerName::try_from(host.to_owned()).map_err(|_| format!("{host} is not a valid server name"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_loopback_link_local_and_reserved_addresses_are_not_public() {
        for refused in [
            "127.0.0.1",
            "10.0.0.1",
            "10.255.255.255",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2001:db8::1",
        ] {
            assert!(!is_public(refused.parse().unwrap()), "{refused}");
        }
        for tunnelled in ["2002:a00:1::1", "2001:0:a00:1::1", "100::1", "::ffff:0:a00:1", "::a00:1"] {
            assert!(!is_public(tunnelled.parse().unwrap()), "{tunnelled}: may lead to a private IPv4 address");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn loopback_is_allowed_only_under_the_test_policy_and_private_ranges_never() {
        let test = FetchPolicy { allow_loopback: true };
        assert!(allowed("127.0.0.1".parse().unwrap(), test));
        assert!(!allowed("127.0.0.1".parse().unwrap(), FetchPolicy::default()));
        assert!(!allowed("10.1.2.3".parse().unwrap(), test));
        assert!(!allowed("169.254.169.254".parse().unwrap(), test));
    }

    #[test]
    fn client_id_urls_are_https_with_a_path_in_normal_form() {
        let production = FetchPolicy::default();
        assert!(check_url("https://app.example/oauth/client.json", production).is_ok());
        for bad in [
            "http://app.example/client.json",
            "https://app.example/",
            "https://app.example",
            "https://app.example/a/../client.json",
            "https://user@app.example/client.json",
            "https://app.example/client.json#x",
            "HTTPS://APP.EXAMPLE/client.json",
            "http://127.0.0.1:9000/client.json",
            "https://app.example:8443/client.json",
        ] {
            assert!(check_url(bad, production).is_err(), "{bad}");
        }
        assert!(check_url("http://127.0.0.1:9000/client.json", FetchPolicy { allow_loopback: true }).is_ok());
        assert!(check_url("http://10.0.0.1:9000/client.json", FetchPolicy { allow_loopback: true }).is_err());
    }

    #[test]
    fn a_document_must_name_itself_list_valid_redirect_uris_and_be_public() {
        let url = url::Url::parse("https://app.example/client.json").unwrap();
        let good = br#"{"client_id":"https://app.example/client.json","client_name":"App","redirect_uris":["https://app.example/cb"]}"#;
        let metadata = parse_document(&url, good).unwrap();
        assert_eq!(metadata.domain, "app.example");
        assert_eq!(metadata.redirect_uris, vec!["https://app.example/cb".to_owned()]);
        let other_id = br#"{"client_id":"https://evil.example/client.json","redirect_uris":["https://app.example/cb"]}"#;
        assert!(parse_document(&url, other_id).is_err());
        let no_uris = br#"{"client_id":"https://app.example/client.json"}"#;
        assert!(parse_document(&url, no_uris).is_err());
        let confidential = br#"{"client_id":"https://app.example/client.json","redirect_uris":["https://app.example/cb"],"token_endpoint_auth_method":"private_key_jwt"}"#;
        assert!(parse_document(&url, confidential).is_err());
        let bad_uri = br#"{"client_id":"https://app.example/client.json","redirect_uris":["http://evil.example/cb"]}"#;
        assert!(parse_document(&url, bad_uri).is_err());
        assert!(parse_document(&url, b"<html>").is_err());
    }

    #[tokio::test]
    async fn a_client_id_naming_a_private_or_metadata_address_is_refused_before_any_connection() {
        for url in ["https://127.0.0.1/client.json", "https://169.254.169.254/latest/meta-data/client.json", "https://10.0.0.7/client.json"] {
            let error = Fetcher::new(FetchPolicy::default(), None).unwrap().fetch(url).await.unwrap_err();
            assert!(error.contains("does not fetch from"), "{url}: {error}");
        }
    }
}
