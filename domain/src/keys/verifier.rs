//! Fast, bounded API-key verification.
//!
//! * **Warm path**: after a token's first successful argon2id check, this process remembers an HMAC-SHA256 of
//!   the token under a per-process random key (never the token) and skips argon2 for it afterwards.
//! * **Revocation stays immediate**: every request, warm or cold, reads the key's row with its owner from the
//!   database (one indexed lookup by Key ID), so revocation, expiry, deactivation and role changes take
//!   effect on the next request on every server process, with no cache to invalidate.
//! * **Attack bounds**: malformed tokens and unknown Key IDs never reach argon2; failed secrets are counted
//!   per Key ID and per client IP, and over the bound the caller gets [`KeyAuthError::TooManyAttempts`]
//!   without any argon2 work; at most one argon2 check runs per CPU at a time.
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sea_orm::DatabaseConnection;
use sha2::Sha256;
use tokio::sync::Semaphore;

use crate::keys::policy::KeyStatus;
use crate::keys::repo;
use crate::keys::service::{KeyAuthError, KeyPrincipal};
use crate::keys::token::{self, TokenEnvironment};
use crate::password::{self, PasswordHash};
use crate::scope::Scope;
use crate::{accounts, DomainError};

/// Failed secrets allowed per Key ID, and per client IP, in one [`FAILURE_WINDOW`].
pub const MAX_FAILURES_PER_KEY: u32 = 10;
pub const MAX_FAILURES_PER_IP: u32 = 30;
pub const FAILURE_WINDOW: StdDuration = StdDuration::from_secs(60);
/// Warm entries kept per process; beyond it the cache starts over (a cold check costs one argon2 run).
const MAX_WARM_ENTRIES: usize = 100_000;

/// Counters for `/metrics`.
#[derive(Default)]
pub struct VerifierStats {
    pub warm: AtomicU64,
    pub cold: AtomicU64,
    pub throttled: AtomicU64,
    /// Total argon2 time in microseconds, and buckets of argon2 durations (≤10, 25, 50, 100, 250 ms, +Inf).
    pub argon2_micros: AtomicU64,
    pub argon2_buckets: [AtomicU64; 6],
    /// Verification outcomes by code (`ok`, `invalid_key`, …) and MCP tool calls by tool.
    pub outcomes: Mutex<HashMap<&'static str, u64>>,
    pub tool_calls: Mutex<HashMap<String, u64>>,
}

pub const ARGON2_BUCKETS_MS: [u64; 5] = [10, 25, 50, 100, 250];

impl VerifierStats {
    pub fn count_outcome(&self, code: &'static str) {
        if let Ok(mut outcomes) = self.outcomes.lock() {
            *outcomes.entry(code).or_default() += 1;
        }
    }

    pub fn count_tool_call(&self, tool: &str) {
        if let Ok(mut calls) = self.tool_calls.lock() {
            *calls.entry(tool.to_owned()).or_default() += 1;
        }
    }

    fn observe_argon2(&self, elapsed: StdDuration) {
        let micros = u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX);
        self.argon2_micros.fetch_add(micros, Ordering::Relaxed);
        let millis = micros / 1000;
        let bucket = ARGON2_BUCKETS_MS.iter().position(|limit| millis <= *limit).unwrap_or(ARGON2_BUCKETS_MS.len());
        self.argon2_buckets[bucket].fetch_add(1, Ordering::Relaxed);
    }
}

/// Fixed-window failure counters.
#[derive(Default)]
struct FailureCounts {
    by_key: HashMap<String, (Instant, u32)>,
    by_ip: HashMap<String, (Instant, u32)>,
}

fn seconds_left(start: Instant, now: Instant) -> u64 {
    FAILURE_WINDOW.saturating_sub(now.duration_since(start)).as_secs().max(1)
}

impl FailureCounts {
    /// Seconds to wait when `key_id` or `ip` is over its bound.
    fn blocked(&self, key_id: &str, ip: Option<&str>, now: Instant) -> Option<u64> {
        let over = |entry: Option<&(Instant, u32)>, max: u32| {
            entry.filter(|(start, count)| now.duration_since(*start) < FAILURE_WINDOW && *count >= max).map(|(start, _)| seconds_left(*start, now))
        };
        over(self.by_key.get(key_id), MAX_FAILURES_PER_KEY).or_else(|| ip.and_then(|ip| over(self.by_ip.get(ip), MAX_FAILURES_PER_IP)))
    }

    fn record(&mut self, key_id: &str, ip: Option<&str>, now: Instant) {
        fn bump(map: &mut HashMap<String, (Instant, u32)>, name: &str, now: Instant) {
            if map.len() > 50_000 {
                map.retain(|_, (start, _)| now.duration_since(*start) < FAILURE_WINDOW);
            }
            let entry = map.entry(name.to_owned()).or_insert((now, 0));
            if now.duration_since(entry.0) >= FAILURE_WINDOW {
                *entry = (now, 0);
            }
            entry.1 += 1;
        }
        bump(&mut self.by_key, key_id, now);
        if let Some(ip) = ip {
            bump(&mut self.by_ip, ip, now);
        }
    }
}

/// One per server process, shared by every request.
pub struct Verifier {
    environment: TokenEnvironment,
    warm_enabled: bool,
    hmac_key: [u8; 32],
    warm: Mutex<HashMap<[u8; 32], String>>,
    failures: Mutex<FailureCounts>,
    argon2_slots: Semaphore,
    pub stats: VerifierStats,
}

impl Verifier {
    /// `warm_enabled: false` checks argon2 on every request (the baseline the benchmark compares against).
    pub fn new(environment: TokenEnvironment, warm_enabled: bool) -> Self {
        let mut hmac_key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut hmac_key);
        let cpus = std::thread::available_parallelism().map(usize::from).unwrap_or(2);
        Verifier {
            environment,
            warm_enabled,
            hmac_key,
            warm: Mutex::new(HashMap::new()),
            failures: Mutex::new(FailureCounts::default()),
            argon2_slots: Semaphore::new(cpus),
            stats: VerifierStats::default(),
        }
    }

    pub fn environment(&self) -> TokenEnvironment {
        self.environment
    }

    fn digest(&self, presented: &str) -> [u8; 32] {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.hmac_key).expect("HMAC takes any key length");
        mac.update(presented.as_bytes());
        mac.finalize().into_bytes().into()
    }

    fn is_warm(&self, digest: &[u8; 32], key_id: &str) -> bool {
        self.warm_enabled && self.warm.lock().map(|warm| warm.get(digest).is_some_and(|k| k == key_id)).unwrap_or(false)
    }

    fn remember(&self, digest: [u8; 32], key_id: &str) {
        if !self.warm_enabled {
            return;
        }
        if let Ok(mut warm) = self.warm.lock() {
            if warm.len() >= MAX_WARM_ENTRIES {
                warm.clear();
            }
            warm.insert(digest, key_id.to_owned());
        }
    }

    /// Verifies a presented token for a request from `ip`.
    pub async fn authenticate(&self, db: &DatabaseConnection, presented: &str, ip: Option<&str>, now: DateTime<Utc>) -> Result<KeyPrincipal, KeyAuthError> {
        let parsed = token::parse(presented, self.environment).map_err(KeyAuthError::Malformed)?;
        let key_id = parsed.key_id.clone();
        let Some(key) = repo::find(db, key_id.as_str()).await.map_err(KeyAuthError::Internal)? else {
            return Err(KeyAuthError::Invalid { known: None });
        };
        let company_id = key.row.company_id;
        let digest = self.digest(presented);
        if self.is_warm(&digest, key_id.as_str()) {
            self.stats.warm.fetch_add(1, Ordering::Relaxed);
        } else {
            let clock = Instant::now();
            let blocked = self.failures.lock().ok().and_then(|f| f.blocked(key_id.as_str(), ip, clock));
            if let Some(retry_after) = blocked {
                self.stats.throttled.fetch_add(1, Ordering::Relaxed);
                return Err(KeyAuthError::TooManyAttempts { retry_after });
            }
            let _slot = self.argon2_slots.acquire().await.map_err(|err| KeyAuthError::Internal(DomainError::Internal(err.to_string())))?;
            let secret = parsed.secret().to_vec();
            let hash = PasswordHash::from_stored(key.row.secret_hash.clone());
            let started = Instant::now();
            let matches = tokio::task::spawn_blocking(move || password::verify_blocking(&secret, &hash))
                .await
                .map_err(|err| KeyAuthError::Internal(DomainError::Internal(format!("verification task failed: {err}"))))?;
            self.stats.observe_argon2(started.elapsed());
            self.stats.cold.fetch_add(1, Ordering::Relaxed);
            if !matches {
                if let Ok(mut failures) = self.failures.lock() {
                    failures.record(key_id.as_str(), ip, Instant::now());
                }
                return Err(KeyAuthError::Invalid { known: Some((key_id, company_id)) });
            }
            self.remember(digest, key_id.as_str());
        }
        match key.status(now) {
            KeyStatus::Revoked => return Err(KeyAuthError::Revoked { key_id, company_id }),
            KeyStatus::Expired => return Err(KeyAuthError::Expired { key_id, company_id }),
            KeyStatus::Active => {}
        }
        let Some(user) = accounts::current_user(db, key.row.user_id).await.map_err(KeyAuthError::Internal)? else {
            return Err(KeyAuthError::InactiveUser { key_id, company_id });
        };
        let scopes = Scope::effective(&Scope::split(&key.row.scopes), user.role);
        Ok(KeyPrincipal { user, key_id, label: key.row.label, scopes, expires_at: key.row.expires_at })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_block_a_key_after_the_bound_and_release_it_after_the_window() {
        let mut counts = FailureCounts::default();
        let start = Instant::now();
        for _ in 0..MAX_FAILURES_PER_KEY {
            assert_eq!(counts.blocked("Key00001", Some("10.0.0.1"), start), None);
            counts.record("Key00001", Some("10.0.0.1"), start);
        }
        let retry = counts.blocked("Key00001", Some("10.0.0.9"), start + StdDuration::from_secs(20));
        assert_eq!(retry, Some(40));
        assert_eq!(counts.blocked("Key00002", Some("10.0.0.9"), start), None, "other keys are unaffected");
        assert_eq!(counts.blocked("Key00001", None, start + FAILURE_WINDOW), None, "the window ends");
    }

    #[test]
    fn one_ip_trying_many_keys_is_bounded_too() {
        let mut counts = FailureCounts::default();
        let now = Instant::now();
        for n in 0..MAX_FAILURES_PER_IP {
            counts.record(&format!("Key{n:05}"), Some("10.0.0.7"), now);
        }
        assert!(counts.blocked("KeyFresh1", Some("10.0.0.7"), now).is_some());
        assert!(counts.blocked("KeyFresh1", Some("10.0.0.8"), now).is_none());
    }

    #[test]
    fn the_warm_cache_is_keyed_by_a_keyed_hash_not_the_token() {
        let verifier = Verifier::new(TokenEnvironment::Test, true);
        let digest = verifier.digest("cg_test_secret");
        assert_ne!(&digest[..], b"cg_test_secret");
        assert_ne!(digest, Verifier::new(TokenEnvironment::Test, true).digest("cg_test_secret"), "per-process key");
        verifier.remember(digest, "Key00001");
        assert!(verifier.is_warm(&digest, "Key00001"));
        assert!(!verifier.is_warm(&digest, "Key00002"));
        let cold = Verifier::new(TokenEnvironment::Test, false);
        let digest = cold.digest("x");
        cold.remember(digest, "Key00001");
        assert!(!cold.is_warm(&digest, "Key00001"), "the warm path can be turned off");
    }

    #[test]
    fn argon2_durations_land_in_their_buckets() {
        let stats = VerifierStats::default();
        stats.observe_argon2(StdDuration::from_millis(30));
        stats.observe_argon2(StdDuration::from_millis(400));
        assert_eq!(stats.argon2_buckets[2].load(Ordering::Relaxed), 1);
        assert_eq!(stats.argon2_buckets[5].load(Ordering::Relaxed), 1);
        assert!(stats.argon2_micros.load(Ordering::Relaxed) >= 430_000);
    }
}
