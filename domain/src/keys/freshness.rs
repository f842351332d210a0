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

/// The longest a read that refreshes a copy may take: its result would be too old to use anyway, so past it the
/// request is refused with 503 (the database is unreachable or overloaded) instead of waiting for the pool.
pub const READ_DEADLINE: Duration = STALENESS;

/// Copies kept at most per cache; when it is full, the stale ones go, and if all are fresh it starts over (a
/// miss costs one indexed read).
pub const MAX_ENTRIES: usize = 250_000;
/// From this many copies on, stale ones are dropped at most once per [`STALENESS`], so the cache holds about
/// the credentials used in the last quarter second, not every one ever seen.
const PRUNE_FROM: usize = 1_024;

/// What this process read about credentials, by name (a Key ID, an access token's ID), each with the moment
/// its read started; a copy is used only while younger than [`STALENESS`].
pub struct FreshCache<V> {
    entries: Mutex<Entries<V>>,
}

struct Entries<V> {
    copies: HashMap<String, (Instant, Arc<V>)>,
    pruned_at: Instant,
}

impl<V> Default for FreshCache<V> {
    fn default() -> Self {
        FreshCache { entries: Mutex::new(Entries { copies: HashMap::new(), pruned_at: Instant::now() }) }
    }
}

impl<V> FreshCache<V> {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries<V>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The copy of `name`, if one was read less than [`STALENESS`] ago.
    pub fn get(&self, name: &str) -> Option<Arc<V>> {
        self.get_at(name, Instant::now())
    }

    fn get_at(&self, name: &str, now: Instant) -> Option<Arc<V>> {
        let entries = self.entries();
        let (read_started, value) = entries.copies.get(name)?;
        (now.saturating_duration_since(*read_started) < STALENESS).then(|| value.clone())
    }

    /// Keeps `value`, read by a query that started at `read_started`.
    pub fn put(&self, name: &str, read_started: Instant, value: Arc<V>) {
        let mut entries = self.entries();
        let now = Instant::now();
        let full = entries.copies.len() >= MAX_ENTRIES && !entries.copies.contains_key(name);
        if full || (entries.copies.len() >= PRUNE_FROM && now.saturating_duration_since(entries.pruned_at) >= STALENESS) {
            entries.copies.retain(|_, (read, _)| now.saturating_duration_since(*read) < STALENESS);
            entries.pruned_at = now;
            if entries.copies.len() >= MAX_ENTRIES {
                entries.copies.clear();
            }
        }
        match entries.copies.get_mut(name) {
            // A slower read that started earlier does not replace a newer copy.
            Some((kept_started, _)) if *kept_started > read_started => {}
            _ => {
                entries.copies.insert(name.to_owned(), (read_started, value));
            }
        }
    }

    /// Copies kept now, fresh or not.
    pub fn len(&self) -> usize {
        self.entries().copies.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries().copies.is_empty()
    }
}

/// The error of a read whose result came too late to be used.
fn unavailable() -> DomainError {
    DomainError::Database(sea_orm::DbErr::ConnectionAcquire(sea_orm::ConnAcquireErr::Timeout))
}

/// Reads a copy to use at once, with the moment its read started (to keep it with). The result must still be
/// younger than [`STALENESS`] when it arrives — a read that started before an access-reducing commit and whose
/// answer is late (a slow network, a starved or paused process) is not used — so it is tried once more, and
/// then the request is refused as unavailable (503).
pub async fn read_fresh<T, F, Fut>(read: F) -> Result<(T, Instant), DomainError>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, DomainError>>,
{
    for _ in 0..2 {
        let read_started = Instant::now();
        let value = tokio::time::timeout(READ_DEADLINE, read()).await.unwrap_or_else(|_| Err(unavailable()))?;
        if read_started.elapsed() < STALENESS {
            return Ok((value, read_started));
        }
    }
    Err(unavailable())
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
    fn stale_copies_are_dropped_as_new_ones_come_in() {
        let cache = FreshCache::default();
        let long_ago = Instant::now() - STALENESS * 2;
        for n in 0..PRUNE_FROM {
            cache.put(&format!("K{n}"), long_ago, Arc::new(n));
        }
        cache.entries().pruned_at = long_ago;
        cache.put("fresh", Instant::now(), Arc::new(0));
        assert_eq!(cache.len(), 1, "only what is still usable is kept");
    }

    #[test]
    fn a_full_cache_drops_what_is_stale_before_anything_fresh() {
        let cache = FreshCache::default();
        let long_ago = Instant::now() - STALENESS * 2;
        {
            let mut entries = cache.entries();
            for n in 0..MAX_ENTRIES {
                entries.copies.insert(format!("K{n}"), (long_ago, Arc::new(n)));
            }
            entries.pruned_at = Instant::now();
        }
        cache.put("fresh", Instant::now(), Arc::new(0));
        assert_eq!(cache.len(), 1, "the stale copies made room");
        assert!(cache.get("fresh").is_some());
    }

    #[tokio::test]
    async fn a_read_whose_answer_comes_too_late_is_not_used() {
        let late = freshness_read(STALENESS + Duration::from_millis(20)).await;
        assert!(late.is_err_and(|err| err.is_unavailable()), "a late answer may predate a revocation");
        let (value, read_started) = freshness_read(Duration::ZERO).await.unwrap();
        assert_eq!(value, 7);
        assert!(read_started.elapsed() < STALENESS);
    }

    async fn freshness_read(delay: Duration) -> Result<(i32, Instant), DomainError> {
        read_fresh(|| async move {
            std::thread::sleep(delay);
            Ok(7)
        })
        .await
    }

    #[tokio::test]
    async fn settling_outlasts_the_bound() {
        let started = Instant::now();
        settle().await;
        assert!(started.elapsed() > STALENESS);
    }
}
