//! Passwords and their argon2id hashes. Every argon2 computation of the process — passwords at sign-in,
//! re-authentication and password changes, and API-key secrets at minting and verification — takes one of
//! the process-wide [`argon2_slots`] (one per CPU) and runs on the blocking pool, so argon2 can never occupy
//! the async threads nor more CPUs than there are. At most [`MAX_WAITING`] computations wait for a slot;
//! beyond that the caller is told the server is busy (503) instead of queueing without bound.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::OnceLock;

use tokio::sync::{Semaphore, SemaphorePermit};

use argon2::password_hash::rand_core::{OsRng, RngCore};
use argon2::password_hash::{PasswordHash as PhcString, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::DomainError;

/// A plaintext password on its way to be hashed or checked. Deliberately not `Debug`, `Display`,
/// `Serialize` or `Clone`, so it cannot end up in a log line or a response.
pub struct Password(String);

impl Password {
    pub fn new(plaintext: impl Into<String>) -> Self {
        Password(plaintext.into())
    }

    /// Rejects passwords too short to be worth hashing; the message is shown to the person choosing it.
    pub fn parse_new(plaintext: impl Into<String>) -> Result<Self, DomainError> {
        let plaintext = plaintext.into();
        let length = plaintext.chars().count();
        if length < 10 {
            return Err(DomainError::Invalid("Passwords need at least 10 characters".into()));
        }
        if length > 200 {
            return Err(DomainError::Invalid("Passwords can have at most 200 characters".into()));
        }
        Ok(Password(plaintext))
    }

    /// A fresh 20-character password from the OS CSPRNG, for operators who do not choose one.
    pub fn generate() -> Self {
        const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789";
        let mut bytes = [0u8; 20];
        OsRng.fill_bytes(&mut bytes);
        Password(bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
    }

    /// The plaintext, for the one place that must show it (a generated password printed once).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// An argon2id PHC string. Not `Serialize`: a hash must never leave the server, not even to its owner.
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordHash(String);

impl PasswordHash {
    /// Wraps a PHC string read from the database.
    pub fn from_stored(phc: String) -> Self {
        PasswordHash(phc)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// argon2id with OWASP's minimum: 19 MiB of memory, two passes, one lane.
pub fn argon2id() -> Argon2<'static> {
    let params = Params::new(19 * 1024, 2, 1, None).expect("constant argon2 parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes `secret` with a fresh random salt, synchronously. Callers in async code use [`hash`].
pub fn hash_blocking(secret: &[u8]) -> Result<PasswordHash, DomainError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2id()
        .hash_password(secret, &salt)
        .map(|phc| PasswordHash(phc.to_string()))
        .map_err(|err| DomainError::Internal(format!("argon2 hashing failed: {err}")))
}

/// Checks `secret` against `hash` synchronously, in constant time with respect to the secret.
pub fn verify_blocking(secret: &[u8], hash: &PasswordHash) -> bool {
    match PhcString::new(&hash.0) {
        Ok(phc) => argon2id().verify_password(secret, &phc).is_ok(),
        Err(_) => false,
    }
}

/// Computations that may wait for an argon2 slot at once, process-wide.
pub const MAX_WAITING: usize = 256;

/// How many argon2 computations run at once: one per CPU.
pub fn argon2_slot_count() -> u32 {
    std::thread::available_parallelism().ok().and_then(|cpus| u32::try_from(usize::from(cpus)).ok()).unwrap_or(2)
}

/// The process's argon2 slots.
pub fn argon2_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| Semaphore::new(argon2_slot_count() as usize))
}

static WAITING: AtomicUsize = AtomicUsize::new(0);

/// One computation waiting for a slot; dropped (and so no longer counted) however the wait ends, including
/// when the request that waits is cancelled because its client went away.
struct Waiting;

impl Waiting {
    fn join() -> Option<Waiting> {
        if WAITING.fetch_add(1, Ordering::AcqRel) >= MAX_WAITING {
            WAITING.fetch_sub(1, Ordering::AcqRel);
            return None;
        }
        Some(Waiting)
    }
}

impl Drop for Waiting {
    fn drop(&mut self) {
        WAITING.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Computations waiting for a slot now.
pub fn waiting() -> usize {
    WAITING.load(Ordering::Acquire)
}

/// Waits for an argon2 slot, or refuses at once with [`DomainError::Busy`] when [`MAX_WAITING`] already wait.
pub async fn acquire_slot() -> Result<SemaphorePermit<'static>, DomainError> {
    if let Ok(permit) = argon2_slots().try_acquire() {
        return Ok(permit);
    }
    let _waiting = Waiting::join().ok_or(DomainError::Busy)?;
    argon2_slots().acquire().await.map_err(|err| DomainError::Internal(format!("argon2 slots closed: {err}")))
}

/// Runs `work` on the blocking pool holding `slot` until it ends: the slot goes with the computation, so a
/// request cancelled mid-way cannot free it while argon2 still runs.
pub async fn run_with_slot<T: Send + 'static>(slot: SemaphorePermit<'static>, work: impl FnOnce() -> T + Send + 'static) -> Result<T, DomainError> {
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        work()
    })
    .await
    .map_err(|err| DomainError::Internal(format!("argon2 task failed: {err}")))
}

/// Runs one argon2 computation under a slot, on the blocking pool.
pub async fn run_bounded<T: Send + 'static>(work: impl FnOnce() -> T + Send + 'static) -> Result<T, DomainError> {
    run_with_slot(acquire_slot().await?, work).await
}

/// Hashes a password under an argon2 slot.
pub async fn hash(password: Password) -> Result<PasswordHash, DomainError> {
    run_bounded(move || hash_blocking(password.0.as_bytes())).await?
}

/// Verifies a password under an argon2 slot. With no stored hash (unknown email) it still spends the same
/// work against a dummy hash, so response time does not reveal whether an account exists.
pub async fn verify(password: Password, stored: Option<PasswordHash>) -> Result<bool, DomainError> {
    run_bounded(move || match stored {
        Some(hash) => verify_blocking(password.0.as_bytes(), &hash),
        None => {
            verify_blocking(password.0.as_bytes(), dummy_hash());
            false
        }
    })
    .await
}

fn dummy_hash() -> &'static PasswordHash {
    static DUMMY: OnceLock<PasswordHash> = OnceLock::new();
    DUMMY.get_or_init(|| hash_blocking(b"caregate-timing-equaliser").expect("argon2 hashes a constant"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The slots and the count of waiters are the process's: tests that use them run one at a time, so one
    /// test holding every slot never sees another's waiters.
    static SLOT_TESTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

    #[tokio::test]
    async fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let _one_at_a_time = SLOT_TESTS.lock().await;
        let hash = hash(Password::new("correct horse battery")).await.unwrap();
        assert!(hash.as_str().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify(Password::new("correct horse battery"), Some(hash.clone())).await.unwrap());
        assert!(!verify(Password::new("correct horse batterY"), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_account_never_verifies() {
        let _one_at_a_time = SLOT_TESTS.lock().await;
        assert!(!verify(Password::new("caregate-timing-equaliser"), None).await.unwrap());
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        assert_ne!(hash_blocking(b"same").unwrap().as_str(), hash_blocking(b"same").unwrap().as_str());
    }

    #[test]
    fn a_corrupt_stored_hash_is_a_failed_check_not_a_panic() {
        assert!(!verify_blocking(b"anything", &PasswordHash::from_stored("not a phc string".into())));
    }

    #[tokio::test]
    async fn argon2_work_waits_for_a_free_slot() {
        let _one_at_a_time = SLOT_TESTS.lock().await;
        let held = argon2_slots().acquire_many(argon2_slot_count()).await.unwrap();
        let waiting = tokio::spawn(hash(Password::new("waits its turn")));
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        assert!(!waiting.is_finished(), "no argon2 runs while every slot is held");
        drop(held);
        assert!(waiting.await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn a_cancelled_wait_is_no_longer_counted_and_a_cancelled_computation_keeps_its_slot() {
        let _one_at_a_time = SLOT_TESTS.lock().await;
        let held = argon2_slots().acquire_many(argon2_slot_count()).await.unwrap();
        let before = waiting();
        let cancelled = tokio::time::timeout(std::time::Duration::from_millis(50), acquire_slot()).await;
        assert!(cancelled.is_err(), "it waited");
        assert_eq!(waiting(), before, "the cancelled wait was taken back");
        drop(held);

        let slot = acquire_slot().await.unwrap();
        let (started, proceed) = (std::sync::Arc::new(std::sync::Barrier::new(2)), std::sync::Arc::new(std::sync::Barrier::new(2)));
        let (started_in_work, proceed_in_work) = (started.clone(), proceed.clone());
        let computation = tokio::spawn(run_with_slot(slot, move || {
            started_in_work.wait();
            proceed_in_work.wait();
        }));
        tokio::task::spawn_blocking(move || started.wait()).await.unwrap();
        computation.abort();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(argon2_slots().available_permits() < argon2_slot_count() as usize, "the slot stays with the running computation");
        tokio::task::spawn_blocking(move || proceed.wait()).await.unwrap();
    }

    #[test]
    fn new_passwords_must_be_long_enough() {
        assert!(Password::parse_new("short").is_err());
        assert!(Password::parse_new("long enough pass").is_ok());
        assert_eq!(Password::generate().expose().len(), 20);
    }
}
