//! Who the client is, network-wise: CIDR blocks, the operator's trusted reverse proxies, and the one rule that
//! decides a request's client address from its TCP peer and (only behind a trusted proxy) the forwarding
//! headers. Every throttle, the activity feed and Last Used go through [`TrustedProxies::client_ip`].
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

/// The reverse proxies whose forwarding headers are believed (`CAREGATE_TRUSTED_PROXIES`); none by default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<Cidr>);

/// Forwarded addresses read from one request at most; a longer chain is cut at its rightmost entries.
const MAX_FORWARDED_HOPS: usize = 32;

impl TrustedProxies {
    /// Parses a comma-separated list of addresses and CIDR blocks; empty means none.
    pub fn parse(list: &str) -> Result<TrustedProxies, String> {
        list.split(',').filter(|item| !item.trim().is_empty()).map(Cidr::parse).collect::<Result<_, _>>().map(TrustedProxies)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|block| block.contains(ip))
    }

    /// The client's address. A peer that is not a trusted proxy is the client, whatever headers it sends.
    /// Behind a trusted proxy the forwarding chain (`X-Forwarded-For`, or `Forwarded` when there is no
    /// `X-Forwarded-For`) is read from the right, and the first address that is not itself a trusted proxy
    /// is the client; an entry that is not an address (`unknown`, an obfuscated name) ends the walk at the
    /// proxy that wrote it.
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &http::HeaderMap) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut nearest = peer;
        for entry in forwarded_chain(headers).into_iter().rev() {
            match entry {
                Some(ip) if self.trusts(ip) => nearest = ip,
                Some(ip) => return Some(ip),
                None => return Some(nearest),
            }
        }
        Some(nearest)
    }
}

/// The addresses the proxies recorded, client first; `None` for an entry that is not an address.
fn forwarded_chain(headers: &http::HeaderMap) -> Vec<Option<IpAddr>> {
    let x_forwarded_for: Vec<&str> = header_items(headers, "x-forwarded-for").collect();
    let entries: Vec<Option<IpAddr>> = if x_forwarded_for.is_empty() {
        header_items(headers, "forwarded")
            .filter_map(|element| {
                element.split(';').find_map(|pair| pair.trim().split_once('=').filter(|(name, _)| name.trim().eq_ignore_ascii_case("for")))
            })
            .map(|(_, value)| parse_node(value))
            .collect()
    } else {
        x_forwarded_for.into_iter().map(parse_node).collect()
    };
    let skip = entries.len().saturating_sub(MAX_FORWARDED_HOPS);
    entries.into_iter().skip(skip).collect()
}

/// The comma-separated items of every value of a header.
fn header_items<'a>(headers: &'a http::HeaderMap, name: &'static str) -> impl Iterator<Item = &'a str> + 'a {
    headers.get_all(name).iter().filter_map(|value| value.to_str().ok()).flat_map(|value| value.split(',')).map(str::trim)
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
        assert_eq!(TrustedProxies::parse(" 10.0.0.1, ,::1 ").unwrap().0.len(), 2);
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
    fn forwarded_is_read_when_there_is_no_x_forwarded_for() {
        let proxies = TrustedProxies::parse("10.0.0.5").unwrap();
        let peer = Some(ip("10.0.0.5"));
        let forwarded = headers(&[("forwarded", "for=192.0.2.60;proto=https, for=\"[2001:db8:cafe::17]:4711\"")]);
        assert_eq!(proxies.client_ip(peer, &forwarded), Some(ip("2001:db8:cafe::17")));
        let with_port = headers(&[("x-forwarded-for", "192.0.2.61:5555")]);
        assert_eq!(proxies.client_ip(peer, &with_port), Some(ip("192.0.2.61")));
    }

    #[test]
    fn an_unreadable_entry_stops_at_the_proxy_that_wrote_it() {
        let proxies = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let chain = headers(&[("x-forwarded-for", "198.51.100.7, unknown, 10.0.0.9")]);
        assert_eq!(proxies.client_ip(Some(ip("10.0.0.5")), &chain), Some(ip("10.0.0.9")));
    }
}
