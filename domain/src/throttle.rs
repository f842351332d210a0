//! Fixed-window counters in this process's memory, the store [`crate::limits`] uses when the deployment is one
//! process (SQLite), and the bound on password guessing built on them. Their memory is bounded whatever callers
//! send: names are kept only as a 16-byte digest (a
//! 1 MiB "email" costs 16 bytes), expired windows are pruned every eighth of a window, and a map holds at most
//! [`DEFAULT_CAPACITY`] names. When that many are live, the tenth with the fewest events is dropped to make
//! room: a flood of fresh names (each at one event) evicts itself, while the names near their bound — the ones
//! under attack — stay counted, and nobody is refused for the map being full. IPv6 clients are counted by
//! their /64 network ([`crate::net::counting_name`]).
use std::collections::HashMap;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::db::DatabaseConnection;
use crate::error::DomainError;
use crate::limits::{CountedAttempt, Counter, FailureBounds, Limit};

/// Names one [`Windows`] keeps at most (about 5 MiB at 48 bytes a name).
pub const DEFAULT_CAPACITY: usize = 100_000;

/// A name as it is kept: the first 16 bytes of its SHA-256.
type NameDigest = [u8; 16];

pub(crate) fn digest(name: &str) -> NameDigest {
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

/// Wrong passwords allowed per account, and per client IP, in one [`SIGN_IN_WINDOW`]. The per-IP bound is
/// higher because an office's staff may share one address.
pub const SIGN_IN_FAILURES_PER_ACCOUNT: u32 = 10;
pub const SIGN_IN_FAILURES_PER_IP: u32 = 50;
pub const SIGN_IN_WINDOW: Duration = Duration::from_secs(15 * 60);

/// The deployment's bound on password guessing, for sign-in, re-authentication and two-factor codes alike:
/// per account and per client address, shared by every process on PostgreSQL ([`crate::limits`]).
pub struct PasswordAttempts(FailureBounds);

fn account_limit() -> Limit {
    Limit { scope: "password", max: SIGN_IN_FAILURES_PER_ACCOUNT, window: SIGN_IN_WINDOW }
}

fn address_limit() -> Limit {
    Limit { scope: "password-ip", max: SIGN_IN_FAILURES_PER_IP, window: SIGN_IN_WINDOW }
}

/// Counted in this process (a single-process deployment, unit tests).
impl Default for PasswordAttempts {
    fn default() -> Self {
        PasswordAttempts(FailureBounds::new(Counter::in_process(account_limit()), Counter::in_process(address_limit())))
    }
}

impl PasswordAttempts {
    /// Counted in `db` when it is PostgreSQL, in this process otherwise.
    pub fn for_database(db: &DatabaseConnection) -> Self {
        PasswordAttempts(FailureBounds::new(Counter::for_database(account_limit(), db), Counter::for_database(address_limit(), db)))
    }

    /// Counts an attempt for `account` (case-insensitive) from `ip` before the password or code is checked;
    /// [`DomainError::TooManyAttempts`] when the account or the address is at its bound.
    pub async fn begin(&self, account: &str, ip: Option<&str>) -> Result<CountedAttempt, DomainError> {
        self.0.attempt(&account_name(account), ip).await?.map_err(|retry_after| DomainError::TooManyAttempts { retry_after })
    }

    /// The attempt had the right password or code: it does not count.
    pub async fn succeeded(&self, attempt: CountedAttempt) -> Result<(), DomainError> {
        self.0.refund(attempt).await
    }

    /// Runs `check` (a password or code check for `account` from `ip`) under the bound: at the bound, 429
    /// without checking; an outcome `is_failure` calls a failure stays counted, anything else is given back.
    pub async fn guard<T>(
        &self,
        account: &str,
        ip: Option<&str>,
        check: impl std::future::Future<Output = Result<T, DomainError>>,
        is_failure: impl FnOnce(&Result<T, DomainError>) -> bool,
    ) -> Result<T, DomainError> {
        let attempt = self.begin(account, ip).await?;
        let outcome = check.await;
        if !is_failure(&outcome) {
            self.succeeded(attempt).await?;
        }
        outcome
    }

    /// Names (accounts and addresses) this process keeps now.
    pub fn names_kept(&self) -> usize {
        self.0.names_kept()
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

    #[tokio::test]
    async fn huge_names_cost_a_fixed_few_bytes_and_expired_windows_are_pruned() {
        let attempts = PasswordAttempts::default();
        let huge = "x".repeat(1024 * 1024);
        for n in 0..200 {
            attempts.begin(&format!("{n}{huge}@example.com"), None).await.unwrap();
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

    #[tokio::test]
    async fn accounts_are_counted_under_the_same_lower_case_as_email_addresses() {
        let attempts = PasswordAttempts::default();
        for _ in 0..SIGN_IN_FAILURES_PER_ACCOUNT {
            attempts.begin("ABΣ@X.GR", None).await.unwrap();
        }
        assert!(attempts.begin("abς@x.gr", None).await.is_err(), "the final sigma folds as the email parser folds it");
    }

    #[tokio::test]
    async fn an_account_is_refused_after_its_wrong_passwords_until_the_window_ends() {
        let attempts = PasswordAttempts::default();
        for _ in 0..SIGN_IN_FAILURES_PER_ACCOUNT {
            attempts.begin("Rosa@Example.com", Some("10.0.0.1")).await.unwrap();
        }
        let Err(DomainError::TooManyAttempts { retry_after }) = attempts.begin("rosa@example.com ", Some("10.0.0.2")).await else {
            panic!("the eleventh attempt is refused")
        };
        assert!((1..=SIGN_IN_WINDOW.as_secs()).contains(&retry_after), "{retry_after}");
        assert!(attempts.begin("other@example.com", Some("10.0.0.2")).await.is_ok(), "other accounts are unaffected");
    }

    #[tokio::test]
    async fn right_passwords_never_add_up() {
        let attempts = PasswordAttempts::default();
        for _ in 0..SIGN_IN_FAILURES_PER_ACCOUNT * 5 {
            let attempt = attempts.begin("rosa@example.com", Some("10.0.0.1")).await.unwrap();
            attempts.succeeded(attempt).await.unwrap();
        }
        assert!(attempts.begin("rosa@example.com", Some("10.0.0.1")).await.is_ok());
    }

    #[tokio::test]
    async fn one_address_guessing_many_accounts_is_bounded() {
        let attempts = PasswordAttempts::default();
        for n in 0..SIGN_IN_FAILURES_PER_IP {
            attempts.begin(&format!("user{n}@example.com"), Some("10.9.9.9")).await.unwrap();
        }
        assert!(attempts.begin("fresh@example.com", Some("10.9.9.9")).await.is_err());
        assert!(attempts.begin("fresh@example.com", Some("10.9.9.10")).await.is_ok());
    }

    #[test]
    fn a_window_starts_over_once_it_has_passed() {
        let mut windows = Windows::new(Duration::from_secs(60));
        let start = Instant::now();
        windows.hit("k", start);
        assert_eq!(windows.blocked("k", 1, start + Duration::from_secs(59)), Some(1));
        assert_eq!(windows.blocked("k", 1, start + Duration::from_secs(60)), None);
    }
}
