//! A key's IP allowlist: the addresses and CIDR blocks (IPv4 and IPv6) it may be used from, as Stripe's
//! restricted keys have. No list means anywhere. The client address is the one the trusted-proxy rule decides
//! ([`crate::net::TrustedProxies::client_ip`]); a request whose address is unknown is refused by a key that
//! has a list.
use std::fmt;
use std::net::IpAddr;

use crate::net::Cidr;

/// Entries one key may list: enough for a few offices and cloud egress ranges, small enough that checking
/// every request costs nothing.
pub const MAX_ENTRIES: usize = 32;

/// The address blocks a key may be used from (empty only as [`IpAllowlist::nowhere`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IpAllowlist(Vec<Cidr>);

impl IpAllowlist {
    /// Parses entries as a person typed them (each may hold several, separated by commas or spaces);
    /// `Ok(None)` when there are none (the key works from anywhere). The message names the first bad entry.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Option<IpAllowlist>, String> {
        let mut blocks = Vec::new();
        for entry in entries.iter().flat_map(|entry| entry.as_ref().split([',', ' ', '\n', '\t'])).map(str::trim).filter(|e| !e.is_empty()) {
            let block = Cidr::parse(entry).map_err(|err| format!("Allowed IP addresses: {err}"))?;
            if !blocks.contains(&block) {
                blocks.push(block);
            }
        }
        if blocks.len() > MAX_ENTRIES {
            return Err(format!("Allowed IP addresses: at most {MAX_ENTRIES} entries"));
        }
        Ok((!blocks.is_empty()).then_some(IpAllowlist(blocks)))
    }

    /// Reads the stored column (written by [`IpAllowlist::stored`]). A stored list that no longer parses
    /// allows nothing, so a damaged row fails closed; the error is the caller's to log.
    pub fn from_stored(stored: &str) -> Result<IpAllowlist, String> {
        match IpAllowlist::parse(&[stored])? {
            Some(list) => Ok(list),
            None => Err("an empty stored allowlist".to_owned()),
        }
    }

    /// A list that allows no address: what a damaged stored list means.
    pub fn nowhere() -> IpAllowlist {
        IpAllowlist(Vec::new())
    }

    /// The column's text: the entries, comma-separated, in the order given.
    pub fn stored(&self) -> String {
        self.entries().join(",")
    }

    /// Each entry in its canonical form (`203.0.113.0/24`, `2001:db8::/32`, a single address without prefix).
    pub fn entries(&self) -> Vec<String> {
        self.0.iter().map(ToString::to_string).collect()
    }

    /// Whether a request from `ip` may use the key; an unknown or unparsable address may not.
    pub fn allows(&self, ip: Option<&str>) -> bool {
        let Some(ip) = ip.and_then(|ip| ip.parse::<IpAddr>().ok()) else { return false };
        self.0.iter().any(|block| block.contains(ip))
    }
}

impl fmt::Display for IpAllowlist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.entries().join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_entries_means_anywhere() {
        assert_eq!(IpAllowlist::parse(&["", " , "]), Ok(None));
        assert_eq!(IpAllowlist::parse::<&str>(&[]), Ok(None));
    }

    #[test]
    fn ipv4_ipv6_and_cidr_entries_are_read_from_comma_separated_text() {
        let list = IpAllowlist::parse(&["203.0.113.0/24, 2001:db8::/32", "198.51.100.7"]).unwrap().unwrap();
        assert_eq!(list.entries(), ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]);
        assert!(list.allows(Some("203.0.113.200")));
        assert!(list.allows(Some("2001:db8:1::5")));
        assert!(list.allows(Some("198.51.100.7")));
        assert!(!list.allows(Some("198.51.100.8")));
        assert!(!list.allows(Some("2001:db9::1")));
    }

    #[test]
    fn an_unknown_address_is_not_allowed() {
        let list = IpAllowlist::parse(&["0.0.0.0/0"]).unwrap().unwrap();
        assert!(!list.allows(None));
        assert!(!list.allows(Some("not an address")));
    }

    #[test]
    fn a_bad_entry_is_named_and_too_many_are_refused() {
        assert!(IpAllowlist::parse(&["10.0.0.0/33"]).unwrap_err().contains("10.0.0.0/33"));
        assert!(IpAllowlist::parse(&["office"]).unwrap_err().contains("office"));
        let many: Vec<String> = (0..=MAX_ENTRIES).map(|n| format!("10.0.{n}.1")).collect();
        assert!(IpAllowlist::parse(&many).is_err());
    }

    #[test]
    fn the_stored_text_reads_back_as_the_same_list() {
        let list = IpAllowlist::parse(&["2001:db8::/32,203.0.113.0/24"]).unwrap().unwrap();
        assert_eq!(IpAllowlist::from_stored(&list.stored()), Ok(list));
    }
}
