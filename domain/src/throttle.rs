//! Fixed-window counters that bound guessing: wrong API-key secrets (per Key ID and per client IP) and wrong
//! passwords (per account and per client IP). Counters live in each server process.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counters over fixed windows, by name (a Key ID, an account, an IP address).
pub struct Windows {
    length: Duration,
    counts: HashMap<String, (Instant, u32)>,
}

impl Windows {
    pub fn new(length: Duration) -> Self {
        Windows { length, counts: HashMap::new() }
    }

    fn seconds_left(&self, start: Instant, now: Instant) -> u64 {
        self.length.saturating_sub(now.duration_since(start)).as_secs().max(1)
    }

    /// Seconds to wait when `name` has reached `max` in its current window.
    pub fn blocked(&self, name: &str, max: u32, now: Instant) -> Option<u64> {
        self.counts
            .get(name)
            .filter(|(start, count)| now.duration_since(*start) < self.length && *count >= max)
            .map(|(start, _)| self.seconds_left(*start, now))
    }

    /// Takes back one event of `name` in its current window.
    pub fn undo(&mut self, name: &str) {
        if let Some((_, count)) = self.counts.get_mut(name) {
            *count = count.saturating_sub(1);
        }
    }

    /// Counts one event for `name` and returns the window's count so far.
    pub fn hit(&mut self, name: &str, now: Instant) -> u32 {
        if self.counts.len() > 50_000 {
            let length = self.length;
            self.counts.retain(|_, (start, _)| now.duration_since(*start) < length);
        }
        let entry = self.counts.entry(name.to_owned()).or_insert((now, 0));
        if now.duration_since(entry.0) >= self.length {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1
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
    pub fn blocked(&self, name: &str, ip: Option<&str>, now: Instant) -> Option<u64> {
        self.by_name
            .blocked(name, self.max_per_name, now)
            .or_else(|| ip.and_then(|ip| self.by_ip.blocked(ip, self.max_per_ip, now)))
    }

    pub fn record(&mut self, name: &str, ip: Option<&str>, now: Instant) {
        self.by_name.hit(name, now);
        if let Some(ip) = ip {
            self.by_ip.hit(ip, now);
        }
    }

    /// Takes back a [`FailureLimiter::record`] whose attempt turned out right.
    pub fn refund(&mut self, name: &str, ip: Option<&str>) {
        self.by_name.undo(name);
        if let Some(ip) = ip {
            self.by_ip.undo(ip);
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
        let account = account.trim().to_lowercase();
        match self.0.lock() {
            Ok(mut limiter) => limiter.attempt(&account, ip, Instant::now()),
            Err(_) => Ok(()),
        }
    }

    /// The attempt begun for `account` from `ip` had the right password: it does not count.
    pub fn succeeded(&self, account: &str, ip: Option<&str>) {
        let account = account.trim().to_lowercase();
        if let Ok(mut limiter) = self.0.lock() {
            limiter.refund(&account, ip);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
