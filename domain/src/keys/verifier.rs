//! Fast, bounded API-key verification.
//!
//! * **Warm path**: after a token's first successful argon2id check, this process remembers an HMAC-SHA256 of
//!   the token under a per-process random key (never the token) and skips argon2 for it afterwards.
//! * **Bounded staleness, not a read per request**: what a check needs besides the secret — the key's row with
//!   its owner and company (or an access token's row with its connection) — is read in one indexed query and
//!   kept for at most [`freshness::STALENESS`] (one request re-reads a copy in steady use before it runs
//!   out); every change that takes access away waits that long before it returns ([`freshness::settle`]), so
//!   no process accepts a credential after the call that revoked, expired, deactivated, demoted or re-scoped
//!   it has returned. Expiry is decided against the clock on every request. A copy too old to use whose
//!   refresh fails refuses the request (503): a process cut off from the database fails closed.
//! * **Attack bounds**: malformed tokens never reach the database, and no presented token reaches argon2 before
//!   its Key ID is found. Wrong secrets are counted per Key ID and per client IP (counted before argon2 runs
//!   and refunded when the secret matches, so concurrent attempts cannot race past the bound); unknown Key IDs
//!   count against the client IP too, and an IP over its bound gets [`KeyAuthError::TooManyAttempts`] before
//!   any lookup. argon2 runs under the process-wide slots of [`crate::password`] (one per CPU), and a burst
//!   of one token waiting for a slot is verified once. Warm clients never count, so an attack on a Key ID or
//!   from a shared address does not lock out a running client.
//! * **Fresh decisions**: a cold check looks the key up again after argon2 (through the same bounded copy), so a
//!   revocation that committed while the request waited for a slot is seen.
//! * **IP allowlists**: a key with an allowlist is refused (`ip_not_allowed`) from any other client address,
//!   decided on every request from the row read with the key, after the secret matched.
//! * **Across processes**: with PostgreSQL, the wrong-secret bounds are counted in the shared table (exact:
//!   N processes give an attacker no more guesses than one) and each key's `requests_per_minute` budget is the
//!   deployment's, synced every [`crate::limits::BUDGET_SYNC_INTERVAL`] with a stated overshoot bound
//!   ([`crate::limits`]). The budget is read with the key, so a policy change applies within the staleness
//!   bound. Last Used is written at most once a minute per key and process.
//! * **Observable, not exported**: the verifier reports what happened (a warm or a cold check with its argon2
//!   time, a throttled attempt) to a [`VerifierObserver`] as it happens; how that is counted, bucketed and
//!   exported is the observer's business (the server's `/metrics`), so the domain depends on no exporter.
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration as StdDuration, Instant};

use crate::db::DatabaseConnection;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::Sha256;

use crate::keys::allowlist::IpAllowlist;
use crate::keys::freshness;
use crate::keys::policy::KeyStatus;
use crate::keys::principal::{Credential, KeyAuthError, KeyPrincipal};
use crate::keys::store;
use crate::keys::token::{self, KeyId, TokenEnvironment};
use crate::limits::{Budgets, Counter, FailureBounds, Limit};
use crate::password::{self, PasswordHash};
use crate::scope::Scope;

/// Wrong secrets allowed per Key ID, and per client IP, in one [`FAILURE_WINDOW`].
pub const MAX_FAILURES_PER_KEY: u32 = 10;
pub const MAX_FAILURES_PER_IP: u32 = 30;
pub const FAILURE_WINDOW: StdDuration = StdDuration::from_secs(60);
const PER_KEY: Limit = Limit { scope: "key", max: MAX_FAILURES_PER_KEY, window: FAILURE_WINDOW };
const PER_ADDRESS: Limit = Limit { scope: "key-ip", max: MAX_FAILURES_PER_IP, window: FAILURE_WINDOW };
/// Warm entries kept per process; beyond it the cache starts over (a cold check costs one argon2 run).
const MAX_WARM_ENTRIES: usize = 250_000;

/// Hashes the warm map's keys, which are already HMAC digests under this process's secret key: uniform and
/// unpredictable to anyone without it, so folding their words together serves as the hash (running SipHash over
/// them again would buy nothing but time on every request).
#[derive(Clone, Copy, Default)]
struct DigestHasher;

impl std::hash::BuildHasher for DigestHasher {
    type Hasher = FoldedDigest;

    fn build_hasher(&self) -> FoldedDigest {
        FoldedDigest(0)
    }
}

/// The hasher [`DigestHasher`] builds: a digest's 64-bit words, folded.
struct FoldedDigest(u64);

impl std::hash::Hasher for FoldedDigest {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = self.0.rotate_left(5) ^ u64::from_le_bytes(word);
        }
    }
}

/// How a presented secret was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// This process had verified the token before: no argon2.
    Warm,
    /// argon2id ran, for this long (waiting for a slot not included).
    Cold { argon2: StdDuration },
}

/// Told what the verifier does, as it happens: the server counts it for `/metrics`. The events are the
/// verifier's facts; buckets, names and the exposition format belong to the observer.
pub trait VerifierObserver: Send + Sync {
    /// A token's secret was checked (whatever the answer).
    fn checked(&self, check: Check);
    /// An attempt was refused with 429: over a failure bound (per Key ID or address, decided before any argon2
    /// work) or over the key's per-minute budget.
    fn throttled(&self);
}

/// Nobody listening: the observer of a verifier built without one.
impl VerifierObserver for () {
    fn checked(&self, _: Check) {}
    fn throttled(&self) {}
}

/// How often one process writes a key's Last Used at most; the UI's Last Used is never older than this.
pub const LAST_USED_INTERVAL: StdDuration = StdDuration::from_secs(60);

/// An OAuth access token's row as a process keeps it: the token's own facts, and its connection in the shape a
/// key's row is checked in (built once per read, not per request).
struct AccessCopy {
    access: crate::oauth::AccessForCheck,
    connection: KeyCopy,
}

/// A key's row as a process keeps it, with the principal it stands for, built by the first request that passes
/// the checks and shared by the next ones (the same facts, kept no longer than the row).
struct KeyCopy {
    row: store::KeyForCheck,
    /// `None` only when the owner is not signed-in material (checked before it is built).
    principal: OnceLock<Option<Arc<KeyPrincipal>>>,
}

impl From<store::KeyForCheck> for KeyCopy {
    fn from(row: store::KeyForCheck) -> Self {
        KeyCopy { row, principal: OnceLock::new() }
    }
}

/// One per server process, shared by every request.
pub struct Verifier {
    environment: TokenEnvironment,
    warm_enabled: bool,
    /// HMAC-SHA-256 under a key drawn at start, its key already absorbed (each digest clones it).
    hmac: Hmac<Sha256>,
    warm: Mutex<HashMap<[u8; 32], String, DigestHasher>>,
    failures: FailureBounds,
    /// Requests per key in the current minute.
    budgets: Budgets,
    /// When this process last wrote each key's Last Used (by Key ID, verified first: see [`crate::fast_map`]).
    last_recorded: Mutex<crate::fast_map::FastMap<String, Instant>>,
    /// Keys' rows with their owner and company, by Key ID, each at most [`freshness::STALENESS`] old when used.
    keys: freshness::FreshCache<KeyCopy>,
    /// OAuth access tokens' rows with their connection, by token ID, as fresh.
    access_tokens: freshness::FreshCache<AccessCopy>,
    observer: Arc<dyn VerifierObserver>,
}

impl Verifier {
    /// A verifier counting its bounds and budgets in this process alone (one-process deployments, tests).
    /// `warm_enabled: false` checks argon2 on every request (the baseline the benchmark compares against).
    pub fn new(environment: TokenEnvironment, warm_enabled: bool) -> Self {
        let failures = FailureBounds::new(Counter::in_process(PER_KEY), Counter::in_process(PER_ADDRESS));
        Verifier::with_limits(environment, warm_enabled, failures, Budgets::in_process())
    }

    /// A verifier whose bounds and budgets hold for every process sharing `db` when it is PostgreSQL (its
    /// budgets then need [`Verifier::sync_budgets`] every [`crate::limits::BUDGET_SYNC_INTERVAL`]).
    pub fn for_database(environment: TokenEnvironment, warm_enabled: bool, db: &DatabaseConnection) -> Self {
        let failures = FailureBounds::new(Counter::for_database(PER_KEY, db), Counter::for_database(PER_ADDRESS, db));
        Verifier::with_limits(environment, warm_enabled, failures, Budgets::for_database(db))
    }

    fn with_limits(environment: TokenEnvironment, warm_enabled: bool, failures: FailureBounds, budgets: Budgets) -> Self {
        let mut hmac_key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut hmac_key);
        Verifier {
            environment,
            warm_enabled,
            hmac: <Hmac<Sha256> as Mac>::new_from_slice(&hmac_key).expect("HMAC takes any key length"),
            warm: Mutex::new(HashMap::default()),
            failures,
            budgets,
            last_recorded: Mutex::new(Default::default()),
            keys: freshness::FreshCache::default(),
            access_tokens: freshness::FreshCache::default(),
            observer: Arc::new(()),
        }
    }

    /// The verifier, reporting its checks and throttled attempts to `observer`.
    pub fn with_observer(mut self, observer: Arc<dyn VerifierObserver>) -> Self {
        self.observer = observer;
        self
    }

    /// Whether the budgets are shared and [`Verifier::sync_budgets`] has work to do.
    pub fn shares_budgets(&self) -> bool {
        self.budgets.is_shared()
    }

    /// Adds this process's budget counts to the deployment's and reads the totals back (PostgreSQL).
    pub async fn sync_budgets(&self) -> Result<(), crate::DomainError> {
        self.budgets.sync().await
    }

    fn digest(&self, presented: &str) -> [u8; 32] {
        let mut mac = self.hmac.clone();
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

    /// Whether this request should write the key's Last Used: at most once per [`LAST_USED_INTERVAL`] per key
    /// and process, so a busy key costs one write a minute, not one per request.
    pub fn should_record_use(&self, key_id: &str) -> bool {
        let now = Instant::now();
        let Ok(mut recorded) = self.last_recorded.lock() else { return true };
        match recorded.get(key_id) {
            Some(at) if now.duration_since(*at) < LAST_USED_INTERVAL => false,
            _ => {
                if recorded.len() > 100_000 {
                    recorded.retain(|_, at| now.duration_since(*at) < LAST_USED_INTERVAL);
                }
                recorded.insert(key_id.to_owned(), now);
                true
            }
        }
    }

    /// Verifies a presented token for a request from `ip`.
    pub async fn authenticate(
        &self,
        db: &DatabaseConnection,
        presented: &str,
        ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Arc<KeyPrincipal>, KeyAuthError> {
        let parsed = token::parse(presented, self.environment).map_err(KeyAuthError::Malformed)?;
        let key_id = parsed.key_id.clone();
        let digest = self.digest(presented);
        if self.is_warm(&digest, key_id.as_str()) {
            let key = self.find(db, &key_id, ip).await?;
            self.observer.checked(Check::Warm);
            return self.finish(&key, Credential::Key, key_id, ip, now);
        }
        // An address over its failure bound costs no lookup and learns nothing more.
        if let Some(retry_after) = self.failures.ip_blocked(ip).await.map_err(KeyAuthError::Internal)? {
            self.observer.throttled();
            return Err(KeyAuthError::TooManyAttempts { retry_after });
        }
        let key = self.find(db, &key_id, ip).await?;
        let company_id = key.row.company_id();
        {
            let slot = password::acquire_slot().await.map_err(KeyAuthError::Internal)?;
            if self.is_warm(&digest, key_id.as_str()) {
                // Another request verified this token while this one waited for the slot.
                self.observer.checked(Check::Warm);
            } else {
                // The attempt is counted as a failure before argon2 runs and refunded if the secret matches, so
                // the attempts in flight (at most one per argon2 slot) cannot race past the bound.
                let attempt = match self.failures.attempt(key_id.as_str(), ip).await.map_err(KeyAuthError::Internal)? {
                    Ok(attempt) => attempt,
                    Err(retry_after) => {
                        self.observer.throttled();
                        return Err(KeyAuthError::TooManyAttempts { retry_after });
                    }
                };
                let secret = parsed.secret().to_vec();
                let hash = PasswordHash::from_stored(key.row.secret_hash.clone());
                let started = Instant::now();
                let matches =
                    password::run_with_slot(slot, move || password::verify_blocking(&secret, &hash)).await.map_err(KeyAuthError::Internal)?;
                self.observer.checked(Check::Cold { argon2: started.elapsed() });
                if !matches {
                    return Err(KeyAuthError::Invalid { known: Some((key_id, company_id)) });
                }
                self.failures.refund(attempt).await.map_err(KeyAuthError::Internal)?;
                self.remember(digest, key_id.as_str());
            }
        }
        // The row read above may be older than a revocation (or expiry, deactivation…) that committed while this
        // request waited for its slot or ran argon2: the decision is made on a fresh read.
        let key = self.find(db, &key_id, ip).await?;
        self.finish(&key, Credential::Key, key_id, ip, now)
    }

    /// The key's row with its owner and company, read less than [`freshness::STALENESS`] ago (re-read past
    /// [`freshness::REFRESH_AFTER`] by one request while the others use the copy).
    /// An unknown Key ID counts as a failure against the client's address, like a wrong secret, so probing for
    /// Key IDs is bounded too (and nothing is kept for it).
    async fn find(&self, db: &DatabaseConnection, key_id: &KeyId, ip: Option<&str>) -> Result<Arc<KeyCopy>, KeyAuthError> {
        let found = self.keys.get_or_read(key_id.as_str(), || store::find_for_check(db, key_id.as_str()), KeyCopy::from).await;
        match found.map_err(KeyAuthError::Internal)? {
            Some(key) => Ok(key),
            None => {
                self.failures.attempt_ip(ip).await.map_err(KeyAuthError::Internal)?.ok();
                Err(KeyAuthError::Invalid { known: None })
            }
        }
    }

    /// The checks every verified token passes on every request, on its copy's row: status, the key's IP allowlist,
    /// owner, budget; then the principal it stands for (built once per copy).
    fn finish(
        &self,
        copy: &KeyCopy,
        credential: Credential,
        key_id: KeyId,
        ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Arc<KeyPrincipal>, KeyAuthError> {
        let key = &copy.row;
        let company_id = key.company_id();
        match key.status(now) {
            KeyStatus::Revoked => return Err(KeyAuthError::Revoked { key_id, company_id }),
            KeyStatus::Expired => return Err(KeyAuthError::Expired { key_id, company_id }),
            KeyStatus::Active => {}
        }
        if let Some(stored) = key.allowed_ips.as_deref() {
            let allowed = IpAllowlist::from_stored(stored).unwrap_or_else(|err| {
                tracing::error!(key_id = %key_id, error = %err, "a stored IP allowlist does not parse: the key is refused everywhere");
                IpAllowlist::nowhere()
            });
            if !allowed.allows(ip) {
                return Err(KeyAuthError::IpNotAllowed { key_id, company_id, ip: ip.unwrap_or("an unknown address").to_owned() });
            }
        }
        if !key.owner_is_active() {
            return Err(KeyAuthError::InactiveUser { key_id, company_id });
        }
        let budget = key.requests_per_minute();
        if let Err(retry_after) = self.budgets.spend(key_id.as_str(), budget) {
            self.observer.throttled();
            return Err(KeyAuthError::RateLimited { retry_after, budget });
        }
        let principal = copy.principal.get_or_init(|| {
            key.owner().map(|user| {
                let scopes = Scope::effective(&Scope::split(&key.scopes), user.role);
                Arc::new(KeyPrincipal {
                    user,
                    key_id: key_id.clone(),
                    label: key.label.clone(),
                    credential,
                    scopes,
                    expires_at: key.expires_at,
                    described: OnceLock::new(),
                })
            })
        });
        principal.clone().ok_or(KeyAuthError::InactiveUser { key_id, company_id })
    }

    /// Verifies an OAuth access token (`cgat_…`) for a request from `ip`. Its secret is 190 random bits, so its
    /// SHA-256 is compared (no argon2, no warm cache); the token, its connection, the owner and the company are
    /// read in one indexed query and kept as a key's row is (at most [`freshness::STALENESS`]), so a revoked
    /// connection, a deactivated owner or a demotion applies as it does for keys. Unknown tokens count against the
    /// client's address like unknown Key IDs; budgets and Last Used are the connection's, as a key's.
    pub async fn authenticate_access_token(
        &self,
        db: &DatabaseConnection,
        presented: &str,
        ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Arc<KeyPrincipal>, KeyAuthError> {
        let parsed = crate::oauth::token::parse(presented, crate::oauth::TokenKind::Access, self.environment)
            .ok_or(KeyAuthError::Malformed(token::MalformedToken::Prefix))?;
        // The lookup is cheap (no argon2), so it comes first: a working token is never refused because others
        // guessed from its address; only a miss is counted, and over the bound answered 429.
        let read = || crate::oauth::find_access_for_check(db, &parsed.token_id);
        let into_copy = |access: crate::oauth::AccessForCheck| AccessCopy { connection: KeyCopy::from(access.connection()), access };
        let found = self.access_tokens.get_or_read(&parsed.token_id, read, into_copy).await.map_err(KeyAuthError::Internal)?;
        let Some(copy) = found.filter(|copy| {
            copy.access.token_kind == crate::oauth::TokenKind::Access
                && crate::oauth::constant_time_eq(copy.access.token_secret_hash.as_bytes(), parsed.digest.as_bytes())
        }) else {
            if let Err(retry_after) = self.failures.attempt_ip(ip).await.map_err(KeyAuthError::Internal)? {
                self.observer.throttled();
                return Err(KeyAuthError::TooManyAttempts { retry_after });
            }
            return Err(KeyAuthError::Invalid { known: None });
        };
        let (access, connection) = (&copy.access, &copy.connection);
        let key_id = KeyId::parse(&access.key_id).ok_or(KeyAuthError::Invalid { known: None })?;
        if access.token_revoked_at.is_some() {
            return Err(KeyAuthError::Revoked { key_id, company_id: connection.row.company_id() });
        }
        if access.token_expires_at <= now {
            return Err(KeyAuthError::Expired { key_id, company_id: connection.row.company_id() });
        }
        self.observer.checked(Check::Warm);
        self.finish(connection, Credential::Connection, key_id, ip, now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_used_is_written_once_per_interval_per_key() {
        let verifier = Verifier::new(TokenEnvironment::Test, true);
        assert!(verifier.should_record_use("Key00001"));
        assert!(!verifier.should_record_use("Key00001"));
        assert!(verifier.should_record_use("Key00002"));
    }

    #[test]
    fn digests_differing_in_any_word_hash_apart() {
        use std::hash::BuildHasher;
        let digest = [7u8; 32];
        let hash = DigestHasher.hash_one(digest);
        for word in 0..4 {
            let mut other = digest;
            other[word * 8] ^= 1;
            assert_ne!(DigestHasher.hash_one(other), hash, "a change in word {word}");
        }
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
}
