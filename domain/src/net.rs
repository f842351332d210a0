//! Who the client is, network-wise: CIDR blocks, the operator's trusted reverse proxies, and the one rule that
//! decides a request's client address from its TCP peer and (only behind a trusted proxy) the one forwarding
//! header those proxies write. Every throttle, the activity feed and Last Used go through
//! [`TrustedProxies::client_ip`].
use std::net::IpAddr;

/// An address block such as `10.0.0.0/8`, `203.0.113.7` (a single address) or `2001:db8::/32`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `address` or `address/prefix`; the message names what is wrong.
    pub fn parse(raw: &str) -> Result<Cidr, String> {
        let raw = raw.trim();
        let (address, prefix) = match raw.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (raw, None),
        };
        let network: IpAddr = address.parse().map_err(|_| format!("{raw:?} is not an IP address or CIDR block"))?;
        let network = network.to_canonical();
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(prefix) => match prefix.parse::<u8>() {
                Ok(prefix) if prefix <= max => prefix,
                _ => return Err(format!("{raw:?} has a prefix length outside 0–{max}")),
            },
        };
        Ok(Cidr { network, prefix })
    }

    /// Whether `ip` lies in this block (IPv4-mapped IPv6 addresses count as their IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.network, ip.to_canonical()) {
            (IpAddr::V4(network), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(network) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(network), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(network) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The block as it is written: a single address without its prefix, else `network/prefix`.
impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let max = if self.network.is_ipv4() { 32 } else { 128 };
        if self.prefix == max {
            write!(f, "{}", self.network)
        } else {
            write!(f, "{}/{}", self.network, self.prefix)
        }
    }
}

/// Which header the trusted proxies write the client's address into (`CAREGATE_FORWARDED_HEADER`). Only that
/// one is read: a proxy passes the other one through from the client untouched, so falling back to it would
/// let a client choose its own address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ForwardedHeader {
    /// `X-Forwarded-For` (nginx's `$proxy_add_x_forwarded_for`, Caddy, HAProxy's `forwardfor`, cloud load
    /// balancers).
    #[default]
    XForwardedFor,
    /// RFC 7239 `Forwarded: for=…` (HAProxy's `option forwarded`, Envoy).
    Forwarded,
}

impl ForwardedHeader {
    /// `x-forwarded-for` or `forwarded` (any case).
    pub fn parse(raw: &str) -> Result<ForwardedHeader, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "x-forwarded-for" => Ok(ForwardedHeader::XForwardedFor),
            "forwarded" => Ok(ForwardedHeader::Forwarded),
            other => Err(format!("{other:?} is neither x-forwarded-for nor forwarded")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            ForwardedHeader::XForwardedFor => "x-forwarded-for",
            ForwardedHeader::Forwarded => "forwarded",
        }
    }
}

/// The reverse proxies whose forwarding header is believed (`CAREGATE_TRUSTED_PROXIES`, none by default), and
/// which header that is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies {
    blocks: Vec<Cidr>,
    header: ForwardedHeader,
}

/// Forwarded addresses read from one request at most; a longer chain is cut at its rightmost entries.
const MAX_FORWARDED_HOPS: usize = 32;

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR blocks; empty means none.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        let blocks = list.split(',').filter(|item| !item.trim().is_empty()).map(Cidr::parse).collect::<Result<_, _>>()?;
        Ok(TrustedProxies { blocks, header: ForwardedHeader::default() })
    }

    /// The same proxies, writing the client's address into `header`.
    pub fn with_header(self, header: ForwardedHeader) -> TrustedProxies {
        TrustedProxies { header, ..self }
    }

    pub fn is_empty(&self) -> bool {
        self.blocks.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.blocks.iter().any(|block| block.contains(ip))
    }

    /// The client's address. A peer that is not a trusted proxy is the client, whatever headers it sends.
    /// Behind a trusted proxy the forwarding chain of the configured header is read from the right, and the
    /// first address that is not itself a trusted proxy is the client; an entry that is not an address
    /// (`unknown`, an obfuscated name, bytes that are not text) ends the walk at the proxy that wrote it.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &http::HeaderMap) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut nearest = peer;
        for entry in forwarded_chain(headers, self.header).into_iter().rev() {
            match entry {
                Some(ip) if self.trusts(ip) => nearest = ip,
                Some(ip) => return Some(ip),
                None => return Some(nearest),
            }
        }
        Some(nearest)
    }
}

/// The addresses the proxies recorded in `header`, client first; `None` for an entry that is not an address.
/// Values are split on commas as raw bytes, so one undecodable entry (a client may send any byte) does not hide
/// the entries the proxies appended after it.
fn forwarded_chain(headers: &http::HeaderMap, header: ForwardedHeader) -> Vec<Option<IpAddr>> {
    let items = headers.get_all(header.name()).iter().flat_map(|value| value.as_bytes().split(|byte| *byte == b','));
    let entries: Vec<Option<IpAddr>> = match header {
        ForwardedHeader::XForwardedFor => items.map(|item| std::str::from_utf8(item).ok().and_then(parse_node)).collect(),
        ForwardedHeader::Forwarded => items
            .map(|element| {
                let element = std::str::from_utf8(element).ok()?;
                let (_, value) =
                    element.split(';').find_map(|pair| pair.trim().split_once('=').filter(|(name, _)| name.trim().eq_ignore_ascii_case("for")))?;
                parse_node(value)
            })
            .collect(),
    };
    let skip = entries.len().saturating_sub(MAX_FORWARDED_HOPS);
    entries.into_iter().skip(skip).collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]:4711`, `"[2001:db8::1]"`.
fn parse_node(raw: &str) -> Option<IpAddr> {
    let raw = raw.trim().trim_matches('"');
    if let Ok(ip) = raw.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = raw.strip_prefix('[') {
        return rest.split_once(']').and_then(|(ip, _)| ip.parse::<IpAddr>().ok()).map(|ip| ip.to_canonical());
    }
    raw.rsplit_once(':').and_then(|(ip, port)| port.parse::<u16>().ok().and(ip.parse::<std::net::Ipv4Addr>().ok())).map(IpAddr::V4)
}

/// The name a client address is counted under by the guessing bounds: an IPv4 address as it is, an IPv6
/// address by its /64 network (one host commonly holds a whole /64, so counting single addresses would give
/// it 2⁶⁴ fresh counters).
pub fn counting_name(ip: &str) -> String {
    match ip.parse::<IpAddr>().map(|ip| ip.to_canonical()) {
        Ok(IpAddr::V6(v6)) => {
            let network = u128::from(v6) & (u128::MAX << 64);
            format!("{}/64", std::net::Ipv6Addr::from(network))
        }
        Ok(IpAddr::V4(v4)) => v4.to_string(),
        Err(_) => ip.to_owned(),
    }
}

/// An address as text, as `IpAddr`'s `Display` writes it; IPv4 without the formatting machinery (every API
/// request's address is written out once, for the feed, the usage counts and Last Used).
pub fn address_text(ip: IpAddr) -> String {
    let IpAddr::V4(v4) = ip else { return ip.to_string() };
    let mut text = String::with_capacity(15);
    for (index, octet) in v4.octets().into_iter().enumerate() {
        if index > 0 {
            text.push('.');
        }
        if octet >= 100 {
            text.push(char::from(b'0' + octet / 100));
        }
        if octet >= 10 {
            text.push(char::from(b'0' + octet / 10 % 10));
        }
        text.push(char::from(b'0' + octet % 10));
    }
    text
}

#[cfg(test)]
mod tests {
    use http::{HeaderMap, HeaderValue};

    use super::*;

    fn ip(raw: &str) -> IpAddr {
        raw.parse().unwrap()
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(*name, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn blocks_contain_their_addresses_in_both_families() {
        let v4 = Cidr::parse("10.1.0.0/16").unwrap();
        assert!(v4.contains(ip("10.1.200.3")) && !v4.contains(ip("10.2.0.1")));
        assert!(v4.contains(ip("::ffff:10.1.0.9")), "IPv4-mapped IPv6 is the IPv4 address");
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")) && !v6.contains(ip("10.1.0.1")));
        assert!(Cidr::parse("0.0.0.0/0").unwrap().contains(ip("203.0.113.9")));
        assert!(Cidr::parse("203.0.113.7").unwrap().contains(ip("203.0.113.7")));
        assert!(!Cidr::parse("203.0.113.7").unwrap().contains(ip("203.0.113.8")));
    }

    #[test]
    fn nonsense_blocks_are_refused_with_a_reason() {
        for bad in ["", "10.0.0.0/33", "::/129", "10.0.0/8", "localhost", "10.0.0.0/-1", "10.0.0.0/x"] {
            assert!(Cidr::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(TrustedProxies::parse(" 10.0.0.1, ,::1 ").unwrap().blocks.len(), 2);
        assert_eq!(ForwardedHeader::parse("X-Forwarded-For"), Ok(ForwardedHeader::XForwardedFor));
        assert_eq!(ForwardedHeader::parse("forwarded"), Ok(ForwardedHeader::Forwarded));
        assert!(ForwardedHeader::parse("x-real-ip").is_err());
        assert!(TrustedProxies::parse("").unwrap().is_empty());
        assert!(TrustedProxies::parse("10.0.0.1,nope").is_err());
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let proxies = TrustedProxies::parse("10.0.0.5").unwrap();
        let forged = headers(&[("x-forwarded-for", "198.51.100.1"), ("forwarded", "for=198.51.100.2")]);
        assert_eq!(proxies.client_ip(Some(ip("203.0.113.9")), &forged), Some(ip("203.0.113.9")));
        assert_eq!(TrustedProxies::default().client_ip(Some(ip("10.0.0.5")), &forged), Some(ip("10.0.0.5")), "no proxies configured");
    }

    #[test]
    fn behind_a_trusted_proxy_the_rightmost_untrusted_address_is_the_client() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peer = Some(ip("10.0.0.5"));
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.0.0.9")]);
        assert_eq!(proxies.client_ip(peer, &chain), Some(ip("198.51.100.7")), "a client-supplied 6.6.6.6 on the left is ignored");
        let split = headers(&[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(proxies.client_ip(peer, &split), Some(ip("198.51.100.7")), "repeated headers form one chain");
        assert_eq!(proxies.client_ip(peer, &HeaderMap::new()), peer, "no header: the proxy itself");
        let all_trusted = headers(&[("x-forwarded-for", "10.9.9.9")]);
        assert_eq!(proxies.client_ip(peer, &all_trusted), Some(ip("10.9.9.9")));
    }

    #[test]
    fn only_the_configured_header_is_read_so_a_client_cannot_pick_the_other() {
        let peer = Some(ip("10.0.0.5"));
        let both = headers(&[("forwarded", "for=6.6.6.6"), ("x-forwarded-for", "198.51.100.7")]);
        let xff = TrustedProxies::parse("10.0.0.5").unwrap();
        assert_eq!(xff.client_ip(peer, &both), Some(ip("198.51.100.7")), "a client's own Forwarded is ignored");
        let forwarded_only = headers(&[("forwarded", "for=6.6.6.6")]);
        assert_eq!(xff.client_ip(peer, &forwarded_only), peer, "no fallback to the other header");
        let rfc = TrustedProxies::parse("10.0.0.5").unwrap().with_header(ForwardedHeader::Forwarded);
        let chain = headers(&[("x-forwarded-for", "6.6.6.6"), ("forwarded", "for=192.0.2.60;proto=https, for=\"[2001:db8:cafe::17]:4711\"")]);
        assert_eq!(rfc.client_ip(peer, &chain), Some(ip("2001:db8:cafe::17")), "a client's own X-Forwarded-For is ignored");
        let with_port = headers(&[("x-forwarded-for", "192.0.2.61:5555")]);
        assert_eq!(xff.client_ip(peer, &with_port), Some(ip("192.0.2.61")));
    }

    #[test]
    fn bytes_that_are_not_text_cannot_hide_what_the_proxy_appended() {
        let proxies = TrustedProxies::parse("10.0.0.5").unwrap();
        let mut smuggled = HeaderMap::new();
        smuggled.insert("x-forwarded-for", HeaderValue::from_bytes(b"\xff, 198.51.100.7").unwrap());
        smuggled.insert("forwarded", HeaderValue::from_static("for=203.0.113.50"));
        assert_eq!(proxies.client_ip(Some(ip("10.0.0.5")), &smuggled), Some(ip("198.51.100.7")));
        let mut only_garbage = HeaderMap::new();
        only_garbage.insert("x-forwarded-for", HeaderValue::from_bytes(b"\xff").unwrap());
        assert_eq!(proxies.client_ip(Some(ip("10.0.0.5")), &only_garbage), Some(ip("10.0.0.5")), "the proxy that wrote it");
    }

    #[test]
    fn ipv6_clients_are_counted_by_their_slash_64() {
        assert_eq!(counting_name("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(counting_name("2001:db8:1:2:ffff::9"), counting_name("2001:db8:1:2::1"));
        assert_ne!(counting_name("2001:db8:1:3::1"), counting_name("2001:db8:1:2::1"));
        assert_eq!(counting_name("198.51.100.7"), "198.51.100.7");
        assert_eq!(counting_name("::ffff:198.51.100.7"), "198.51.100.7");
    }

    #[test]
    fn an_unreadable_entry_stops_at_the_proxy_that_wrote_it() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let chain = headers(&[("x-forwarded-for", "198.51.100.7, unknown, 10.0.0.9")]);
        assert_eq!(proxies.client_ip(Some(ip("10.0.0.5")), &chain), Some(ip("10.0.0.9")));
    }

    #[test]
    fn an_address_is_written_as_display_writes_it() {
        for text in ["0.0.0.0", "127.0.0.1", "10.20.100.255", "192.168.1.9", "255.255.255.255", "::1", "2001:db8::8a2e:370:7334", "::ffff:10.0.0.1"] {
            let ip: IpAddr = text.parse().unwrap();
            assert_eq!(address_text(ip), ip.to_string(), "{text}");
        }
    }
}
