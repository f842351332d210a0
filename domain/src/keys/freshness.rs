//! How fresh a process's view of credentials is, and how a change that takes access away waits for it.
//!
//! Every process keeps what it read about a key or an OAuth access token (status, expiry, allowlist, owner,
//! role, company policy) for at most [`STALENESS`], measured on its own monotonic clock from the moment the
//! read *started*. A change that reduces access — revoking, rolling "now", deleting, deactivating or demoting the
//! owner, narrowing scopes, an allowlist or a budget — calls [`settle`] after its transaction committed and
//! before it answers. Every copy read before the commit started before it, so by the time `settle` returns it
//! has aged out on every process: no process accepts the credential after the call that changed it returned.
//! A process that cannot read the database (lost connection, paused, overloaded) does not fall back to what it
//! has once that is older than [`STALENESS`]: it refuses (503) until a read succeeds again.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::DomainError;

/// The longest a process uses what it read about a credential.
pub const STALENESS: Duration = Duration::from_millis(250);

/// Waits until what any process read about credentials before this call is too old to be used: called after
/// an access-reducing change committed, before the caller is told it is done.
pub async fn settle() {
    // A few milliseconds over the bound: the reading process measures its copy's age on its own clock, and
    // clocks of different processes tick at (very slightly) different rates.
    tokio::time::sleep(STALENESS + Duration::from_millis(5)).await;
}

/// The longest a read that refreshes a copy may take: past it the request is refused with 503 (the database is
/// unreachable or overloaded) instead of waiting for the pool's own timeout.
pub const READ_DEADLINE: Duration = Duration::from_secs(1);

/// Copies kept at most per cache; when it is full, the stale ones go, and if all are fresh it starts over (a
/// miss costs one indexed read).
pub const MAX_ENTRIES: usize = 100_000;

/// What this process read about credentials, by name (a Key ID, an access token's ID), each with the moment
/// its read started; a copy is used only while younger than [`STALENESS`].
pub struct FreshCache<V> {
    entries: Mutex<HashMap<String, (Instant, Arc<V>)>>,
}

impl<V> Default for FreshCache<V> {
    fn default() -> Self {
        FreshCache { entries: Mutex::new(HashMap::new()) }
    }
}

impl<V> FreshCache<V> {
    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, Arc<V>)>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The copy of `name`, if one was read less than [`STALENESS`] ago.
    pub fn get(&self, name: &str) -> Option<Arc<V>> {
        self.get_at(name, Instant::now())
    }

    fn get_at(&self, name: &str, now: Instant) -> Option<Arc<V>> {
        let entries = self.entries();
        let (read_started, value) = entries.get(name)?;
        (now.saturating_duration_since(*read_started) < STALENESS).then(|| value.clone())
    }

    /// Keeps `value`, read by a query that started at `read_started`.
    pub fn put(&self, name: &str, read_started: Instant, value: Arc<V>) {
        let mut entries = self.entries();
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(name) {
            let now = Instant::now();
            entries.retain(|_, (read, _)| now.saturating_duration_since(*read) < STALENESS);
            if entries.len() >= MAX_ENTRIES {
                entries.clear();
            }
        }
        entries.insert(name.to_owned(), (read_started, value));
    }

    /// Copies kept now, fresh or not.
    pub fn len(&self) -> usize {
        self.entries().len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries().is_empty()
    }
}

/// Runs a read that refreshes a copy, refused as unavailable after [`READ_DEADLINE`].
pub async fn read_within_deadline<T>(read: impl std::future::Future<Output = Result<T, DomainError>>) -> Result<T, DomainError> {
    tokio::time::timeout(READ_DEADLINE, read)
        .await
        .unwrap_or(Err(DomainError::Database(sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_is_used_only_while_younger_than_the_bound_counted_from_when_its_read_started() {
        let cache = FreshCache::default();
        let started = Instant::now();
        cache.put("Key00001", started, Arc::new(1));
        assert_eq!(cache.get_at("Key00001", started + STALENESS / 2).as_deref(), Some(&1));
        assert_eq!(cache.get_at("Key00001", started + STALENESS), None, "at the bound it is too old");
        assert_eq!(cache.get_at("Key00002", started), None);
    }

    #[test]
    fn a_full_cache_drops_what_is_stale_before_anything_fresh() {
        let cache = FreshCache::default();
        let long_ago = Instant::now() - STALENESS * 2;
        for n in 0..MAX_ENTRIES {
            cache.put(&format!("K{n}"), long_ago, Arc::new(n));
        }
        cache.put("fresh", Instant::now(), Arc::new(0));
        assert_eq!(cache.len(), 1, "the stale copies made room");
        assert!(cache.get("fresh").is_some());
    }

    #[tokio::test]
    async fn settling_outlasts_the_bound() {
        let started = Instant::now();
        settle().await;
        assert!(started.elapsed() > STALENESS);
    }
}
