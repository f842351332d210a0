//! Fixed-window counters that bound guessing: wrong API-key secrets (per Key ID and per client IP) and wrong
//! passwords (per account and per client IP), and the per-key request budget. Counters live in each server
//! process, and their memory is bounded whatever callers send: names are kept only as a 16-byte digest (a
//! 1 MiB "email" costs 16 bytes), expired windows are pruned every eighth of a window, and a map holds at most
//! [`DEFAULT_CAPACITY`] names. When that many are live, the tenth with the fewest events is dropped to make
//! room: a flood of fresh names (each at one event) evicts itself, while the names near their bound — the ones
//! under attack — stay counted, and nobody is refused for the map being full. IPv6 clients are counted by
//! their /64 network ([`crate::net::counting_name`]).
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::net::counting_name;

/// Names one [`Windows`] keeps at most (about 5 MiB at 48 bytes a name).
pub const DEFAULT_CAPACITY: usize = 100_000;

/// A name as it is kept: the first 16 bytes of its SHA-256.
type NameDigest = [u8; 16];

fn digest(name: &str) -> NameDigest {
    let full = Sha256::digest(name.as_bytes());
    let mut short = [0u8; 16];
    short.copy_from_slice(&full[..16]);
    short
}

/// Counters over fixed windows, by name (a Key ID, an account, an IP address).
pub struct Windows {
    length: Duration,
    capacity: usize,
    counts: HashMap<NameDigest, (Instant, u32)>,
    pruned_at: Option<Instant>,
}

impl Windows {
    pub fn new(length: Duration) -> Self {
        Windows::with_capacity(length, DEFAULT_CAPACITY)
    }

    pub fn with_capacity(length: Duration, capacity: usize) -> Self {
        Windows { length, capacity, counts: HashMap::new(), pruned_at: None }
    }

    /// How many names are kept now.
    pub fn len(&self) -> usize {
        self.counts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }

    fn seconds_left(&self, start: Instant, now: Instant) -> u64 {
        self.length.saturating_sub(now.duration_since(start)).as_secs().max(1)
    }

    /// Drops the windows that have ended, at most once per eighth of a window (so a full map of live names
    /// costs no scan per call).
    fn prune(&mut self, now: Instant) {
        let due = self.pruned_at.is_none_or(|at| now.duration_since(at) >= self.length / 8);
        if due {
            let length = self.length;
            self.counts.retain(|_, (start, _)| now.duration_since(*start) < length);
            self.pruned_at = Some(now);
        }
    }

    /// Seconds to wait when `name` has reached `max` in its current window.
    pub fn blocked(&mut self, name: &str, max: u32, now: Instant) -> Option<u64> {
        self.prune(now);
        match self.counts.get(&digest(name)) {
            Some((start, count)) if now.duration_since(*start) < self.length && *count >= max => Some(self.seconds_left(*start, now)),
            _ => None,
        }
    }

    /// Takes back one event of `name` in its current window.
    pub fn undo(&mut self, name: &str) {
        if let Some((_, count)) = self.counts.get_mut(&digest(name)) {
            *count = count.saturating_sub(1);
        }
    }

    /// Counts one event for `name` and returns the window's count so far.
    pub fn hit(&mut self, name: &str, now: Instant) -> u32 {
        self.prune(now);
        let key = digest(name);
        if !self.counts.contains_key(&key) && self.counts.len() >= self.capacity {
            self.make_room(now);
        }
        let entry = self.counts.entry(key).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.length {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1
    }

    /// Drops ended windows, and if the map is still full, the tenth of the names with the fewest events.
    fn make_room(&mut self, now: Instant) {
        let length = self.length;
        self.counts.retain(|_, (start, _)| now.duration_since(*start) < length);
        self.pruned_at = Some(now);
        if self.counts.len() < self.capacity {
            return;
        }
        let mut counts: Vec<u32> = self.counts.values().map(|(_, count)| *count).collect();
        let evict = (self.capacity / 10).max(1);
        let (_, threshold, _) = counts.select_nth_unstable(evict - 1);
        let threshold = *threshold;
        let mut evicted = 0;
        self.counts.retain(|_, (_, count)| {
            let keep = *count > threshold || evicted >= evict;
            if !keep {
                evicted += 1;
            }
            keep
        });
    }
}

/// Failed attempts per name and per client IP. An attempt is counted *before* the expensive check runs and
/// refunded when it succeeds, so attempts in flight at the same moment cannot race past the bound, and
/// legitimate attempts never add up.
pub struct FailureLimiter {
    by_name: Windows,
    by_ip: Windows,
    max_per_name: u32,
    max_per_ip: u32,
}

impl FailureLimiter {
    pub fn new(max_per_name: u32, max_per_ip: u32, window: Duration) -> Self {
        FailureLimiter { by_name: Windows::new(window), by_ip: Windows::new(window), max_per_name, max_per_ip }
    }

    /// Seconds to wait when `name` or `ip` is over its bound.
    pub fn blocked(&mut self, name: &str, ip: Option<&str>, now: Instant) -> Option<u64> {
        self.by_name.blocked(name, self.max_per_name, now).or_else(|| self.ip_blocked(ip, now))
    }

    pub fn record(&mut self, name: &str, ip: Option<&str>, now: Instant) {
        self.by_name.hit(name, now);
        if let Some(ip) = ip {
            self.by_ip.hit(&counting_name(ip), now);
        }
    }

    /// Takes back a [`FailureLimiter::record`] whose attempt turned out right.
    pub fn refund(&mut self, name: &str, ip: Option<&str>) {
        self.by_name.undo(name);
        if let Some(ip) = ip {
            self.by_ip.undo(&counting_name(ip));
        }
    }

    /// Counts an attempt unless `name` or `ip` is over its bound; otherwise the seconds to wait.
    pub fn attempt(&mut self, name: &str, ip: Option<&str>, now: Instant) -> Result<(), u64> {
        if let Some(retry_after) = self.blocked(name, ip, now) {
            return Err(retry_after);
        }
        self.record(name, ip, now);
        Ok(())
    }

    /// Seconds to wait when `ip` alone is over its bound (before anything names an account or key).
    pub fn ip_blocked(&mut self, ip: Option<&str>, now: Instant) -> Option<u64> {
        ip.and_then(|ip| self.by_ip.blocked(&counting_name(ip), self.max_per_ip, now))
    }

    /// Counts a failure against `ip` alone, unless it is over its bound; otherwise the seconds to wait.
    pub fn attempt_ip(&mut self, ip: Option<&str>, now: Instant) -> Result<(), u64> {
        if let Some(retry_after) = self.ip_blocked(ip, now) {
            return Err(retry_after);
        }
        if let Some(ip) = ip {
            self.by_ip.hit(&counting_name(ip), now);
        }
        Ok(())
    }

    /// Names kept by the per-name and per-IP counters (for tests of the memory bound).
    pub fn names_kept(&self) -> usize {
        self.by_name.len() + self.by_ip.len()
    }
}

/// Wrong passwords allowed per account, and per client IP, in one [`SIGN_IN_WINDOW`]. The per-IP bound is
/// higher because an office's staff may share one address.
pub const SIGN_IN_FAILURES_PER_ACCOUNT: u32 = 10;
pub const SIGN_IN_FAILURES_PER_IP: u32 = 50;
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The process's bound on password guessing, for sign-in and re-authentication alike.
pub struct PasswordAttempts(Mutex<FailureLimiter>);

impl Default for PasswordAttempts {
    fn default() -> Self {
        PasswordAttempts(Mutex::new(FailureLimiter::new(SIGN_IN_FAILURES_PER_ACCOUNT, SIGN_IN_FAILURES_PER_IP, SIGN_IN_WINDOW)))
    }
}

impl PasswordAttempts {
    /// Counts an attempt for `account` (case-insensitive) from `ip`, or says how many seconds to wait.
    pub fn begin(&self, account: &str, ip: Option<&str>) -> Result<(), u64> {
        let account = account_name(account);
        self.limiter().attempt(&account, ip, Instant::now())
    }

    /// The attempt begun for `account` from `ip` had the right password: it does not count.
    pub fn succeeded(&self, account: &str, ip: Option<&str>) {
        let account = account_name(account);
        self.limiter().refund(&account, ip);
    }

    /// Names (accounts and addresses) the bound keeps now.
    pub fn names_kept(&self) -> usize {
        self.limiter().names_kept()
    }

    /// The counters. A panic elsewhere while they were locked leaves counts that are still right, so a
    /// poisoned lock is used as it is: neither letting guesses through uncounted nor refusing everyone.
    fn limiter(&self) -> std::sync::MutexGuard<'_, FailureLimiter> {
        self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// The name an account is counted under: trimmed and lower-case, from at most the first 320 characters (the
/// longest email address there is), so a huge "email" costs no more than a real one.
fn account_name(account: &str) -> String {
    account.trim().chars().take(320).collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_names_cost_a_fixed_few_bytes_and_expired_windows_are_pruned() {
        let attempts = PasswordAttempts::default();
        let huge = "x".repeat(1024 * 1024);
        for n in 0..200 {
            assert_eq!(attempts.begin(&format!("{n}{huge}@example.com"), None), Ok(()));
        }
        assert_eq!(attempts.names_kept(), 200, "200 accounts, each kept as a 16-byte digest");
        let mut windows = Windows::new(Duration::from_secs(60));
        let start = Instant::now();
        for n in 0..1_000 {
            windows.hit(&format!("name{n}"), start);
        }
        windows.hit("later", start + Duration::from_secs(61));
        assert_eq!(windows.len(), 1, "ended windows are dropped");
    }

    #[test]
    fn a_full_map_drops_the_names_with_fewest_events_and_refuses_nobody() {
        let mut windows = Windows::with_capacity(Duration::from_secs(80), 10);
        let now = Instant::now();
        for _ in 0..5 {
            windows.hit("under attack", now);
        }
        for n in 0..9 {
            windows.hit(&format!("filler {n}"), now);
        }
        assert_eq!(windows.len(), 10);
        assert_eq!(windows.blocked("newcomer", 5, now), None, "a full map refuses nobody");
        assert_eq!(windows.hit("newcomer", now), 1);
        assert!(windows.len() <= 10, "{}", windows.len());
        assert_eq!(windows.blocked("under attack", 5, now), Some(80), "the name near its bound is still counted");
    }

    #[test]
    fn an_ipv6_host_cannot_escape_its_bound_by_changing_addresses_within_its_64() {
        let mut limiter = FailureLimiter::new(100, 3, Duration::from_secs(60));
        let now = Instant::now();
        for n in 0..3 {
            limiter.record(&format!("account{n}"), Some(&format!("2001:db8:1:2::{n:x}")), now);
        }
        assert!(limiter.ip_blocked(Some("2001:db8:1:2:ffff::1"), now).is_some());
        assert!(limiter.ip_blocked(Some("2001:db8:1:3::1"), now).is_none());
    }

    #[test]
    fn accounts_are_counted_under_the_same_lower_case_as_email_addresses() {
        let attempts = PasswordAttempts::default();
        for _ in 0..SIGN_IN_FAILURES_PER_ACCOUNT {
            attempts.begin("ABΣ@X.GR", None).unwrap();
        }
        assert!(attempts.begin("abς@x.gr", None).is_err(), "the final sigma folds as the email parser folds it");
    }

    #[test]
    fn an_account_is_refused_after_its_wrong_passwords_until_the_window_ends() {
        let attempts = PasswordAttempts::default();
        for _ in 0..SIGN_IN_FAILURES_PER_ACCOUNT {
            assert_eq!(attempts.begin("Rosa@Example.com", Some("10.0.0.1")), Ok(()));
        }
        let retry = attempts.begin("rosa@example.com ", Some("10.0.0.2")).unwrap_err();
        assert!((1..=SIGN_IN_WINDOW.as_secs()).contains(&retry), "{retry}");
        assert_eq!(attempts.begin("other@example.com", Some("10.0.0.2")), Ok(()), "other accounts are unaffected");
    }

    #[test]
    fn right_passwords_never_add_up() {
        let attempts = PasswordAttempts::default();
        for _ in 0..SIGN_IN_FAILURES_PER_ACCOUNT * 5 {
            attempts.begin("rosa@example.com", Some("10.0.0.1")).unwrap();
            attempts.succeeded("rosa@example.com", Some("10.0.0.1"));
        }
        assert_eq!(attempts.begin("rosa@example.com", Some("10.0.0.1")), Ok(()));
    }

    #[test]
    fn one_address_guessing_many_accounts_is_bounded() {
        let attempts = PasswordAttempts::default();
        for n in 0..SIGN_IN_FAILURES_PER_IP {
            attempts.begin(&format!("user{n}@example.com"), Some("10.9.9.9")).unwrap();
        }
        assert!(attempts.begin("fresh@example.com", Some("10.9.9.9")).is_err());
        assert!(attempts.begin("fresh@example.com", Some("10.9.9.10")).is_ok());
    }

    #[test]
    fn a_window_starts_over_once_it_has_passed() {
        let mut limiter = FailureLimiter::new(1, 5, Duration::from_secs(60));
        let start = Instant::now();
        assert_eq!(limiter.attempt("k", None, start), Ok(()));
        assert_eq!(limiter.attempt("k", None, start + Duration::from_secs(59)), Err(1));
        assert_eq!(limiter.attempt("k", None, start + Duration::from_secs(60)), Ok(()));
    }
}
