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
/// From this age on, the next request that uses a copy reads it again for the others ([`FreshCache::get_or_read`]),
/// while they go on using the copy until it is [`STALENESS`] old: a credential in steady use is re-read about
/// every 150 ms by one request and never found stale, instead of every request in flight reading it at once
/// each time its copy runs out.
pub const REFRESH_AFTER: Duration = Duration::from_millis(150);

/// What this process read about credentials, by name (a Key ID, an access token's ID), each with the moment
/// its read started; a copy is used only while younger than [`STALENESS`].
pub struct FreshCache<V> {
    entries: Mutex<Entries<V>>,
}

struct Entries<V> {
    copies: crate::fast_map::FastMap<String, Kept<V>>,
    pruned_at: Instant,
}

/// One copy: when its read started, the value, and whether a request has taken on reading it again. (A claim
/// needs no expiry: it is made past [`REFRESH_AFTER`], so if its request is dropped mid-read the copy runs out
/// [`STALENESS`] after its read and the next request reads and keeps a new one, unclaimed.)
struct Kept<V> {
    read_started: Instant,
    value: Arc<V>,
    refresh_claimed: bool,
}

/// What [`FreshCache::lookup`] found under a name.
enum Lookup<V> {
    /// A copy to use as it is.
    Fresh(Arc<V>),
    /// A copy still usable but past [`REFRESH_AFTER`], which this caller (alone) is to read again.
    Due,
    /// Nothing usable: the caller must read.
    Missing,
}

impl<V> Default for FreshCache<V> {
    fn default() -> Self {
        FreshCache { entries: Mutex::new(Entries { copies: Default::default(), pruned_at: Instant::now() }) }
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
        let copy = entries.copies.get(name)?;
        (now.saturating_duration_since(copy.read_started) < STALENESS).then(|| copy.value.clone())
    }

    /// The copy of `name` if usable, telling the first caller after [`REFRESH_AFTER`] to read it again.
    fn lookup_at(&self, name: &str, now: Instant) -> Lookup<V> {
        let mut entries = self.entries();
        let Some(copy) = entries.copies.get_mut(name) else { return Lookup::Missing };
        let age = now.saturating_duration_since(copy.read_started);
        if age >= STALENESS {
            return Lookup::Missing;
        }
        if age >= REFRESH_AFTER && !copy.refresh_claimed {
            copy.refresh_claimed = true;
            return Lookup::Due;
        }
        Lookup::Fresh(copy.value.clone())
    }

    /// Gives up a claim to refresh `name` (the read failed), so the next caller tries again.
    fn release_claim(&self, name: &str) {
        if let Some(copy) = self.entries().copies.get_mut(name) {
            copy.refresh_claimed = false;
        }
    }

    fn remove(&self, name: &str) {
        self.entries().copies.remove(name);
    }

    /// Keeps `value`, read by a query that started at `read_started`.
    pub fn put(&self, name: &str, read_started: Instant, value: Arc<V>) {
        let mut entries = self.entries();
        let now = Instant::now();
        let full = entries.copies.len() >= MAX_ENTRIES && !entries.copies.contains_key(name);
        if full || (entries.copies.len() >= PRUNE_FROM && now.saturating_duration_since(entries.pruned_at) >= STALENESS) {
            entries.copies.retain(|_, kept| now.saturating_duration_since(kept.read_started) < STALENESS);
            entries.pruned_at = now;
            if entries.copies.len() >= MAX_ENTRIES {
                entries.copies.clear();
            }
        }
        match entries.copies.get_mut(name) {
            // A slower read that started earlier does not replace a newer copy.
            Some(kept) if kept.read_started > read_started => {}
            _ => {
                entries.copies.insert(name.to_owned(), Kept { read_started, value, refresh_claimed: false });
            }
        }
    }

    /// The copy of `name` to decide on: the kept one while younger than [`REFRESH_AFTER`]; else read by `read`
    /// ([`read_fresh`]), turned into a copy by `into_copy` and kept. One request refreshes a copy past
    /// [`REFRESH_AFTER`] while the others use it; if that read fails, the refreshing request too uses the copy
    /// while it is younger than [`STALENESS`], and the next request tries again. `Ok(None)`: the read found no row
    /// (nothing is kept for it).
    pub async fn get_or_read<R, F, Fut>(&self, name: &str, read: F, into_copy: impl FnOnce(R) -> V) -> Result<Option<Arc<V>>, DomainError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<R>, DomainError>>,
    {
        let refreshing = match self.lookup_at(name, Instant::now()) {
            Lookup::Fresh(copy) => return Ok(Some(copy)),
            Lookup::Due => true,
            Lookup::Missing => false,
        };
        match read_fresh(read).await {
            Ok((Some(row), read_started)) => {
                let copy = Arc::new(into_copy(row));
                self.put(name, read_started, copy.clone());
                Ok(Some(copy))
            }
            Ok((None, _)) => {
                self.remove(name);
                Ok(None)
            }
            Err(err) if refreshing => {
                self.release_claim(name);
                self.get(name).map(Some).ok_or(err)
            }
            Err(err) => Err(err),
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
                entries.copies.insert(format!("K{n}"), Kept { read_started: long_ago, value: Arc::new(n), refresh_claimed: false });
            }
            entries.pruned_at = Instant::now();
        }
        cache.put("fresh", Instant::now(), Arc::new(0));
        assert_eq!(cache.len(), 1, "the stale copies made room");
        assert!(cache.get("fresh").is_some());
    }

    #[test]
    fn past_the_refresh_age_one_caller_reads_again_while_the_others_use_the_copy() {
        let cache = FreshCache::default();
        let started = Instant::now();
        cache.put("Key00001", started, Arc::new(1));
        assert!(matches!(cache.lookup_at("Key00001", started + REFRESH_AFTER / 2), Lookup::Fresh(_)));
        assert!(matches!(cache.lookup_at("Key00001", started + REFRESH_AFTER), Lookup::Due), "the first caller refreshes");
        assert!(matches!(cache.lookup_at("Key00001", started + REFRESH_AFTER), Lookup::Fresh(_)), "the others use the copy");
        assert!(matches!(cache.lookup_at("Key00001", started + STALENESS), Lookup::Missing), "nobody uses it past the bound");
        cache.put("Key00001", started + REFRESH_AFTER, Arc::new(2));
        assert!(matches!(cache.lookup_at("Key00001", started + STALENESS), Lookup::Fresh(copy) if *copy == 2));
    }

    /// A read that counts its calls and answers `answer`.
    fn counted_read(
        reads: &std::sync::atomic::AtomicUsize,
        answer: Result<Option<i32>, ()>,
    ) -> impl Fn() -> std::future::Ready<Result<Option<i32>, DomainError>> + '_ {
        move || {
            reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            std::future::ready(answer.map_err(|()| unavailable()))
        }
    }

    #[tokio::test]
    async fn a_fresh_copy_is_used_without_a_read_and_one_past_the_refresh_age_is_read_again() {
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let cache = FreshCache::default();
        cache.put("Key00001", Instant::now(), Arc::new(1));
        let copy = cache.get_or_read("Key00001", counted_read(&reads, Ok(Some(2))), |row| row).await.unwrap();
        assert_eq!((copy.as_deref(), reads.load(std::sync::atomic::Ordering::SeqCst)), (Some(&1), 0));
        cache.put("Key00002", Instant::now() - REFRESH_AFTER, Arc::new(1));
        let copy = cache.get_or_read("Key00002", counted_read(&reads, Ok(Some(2))), |row| row).await.unwrap();
        assert_eq!((copy.as_deref(), reads.load(std::sync::atomic::Ordering::SeqCst)), (Some(&2), 1));
        assert_eq!(cache.get("Key00002").as_deref(), Some(&2), "the new copy is kept for the others");
    }

    #[tokio::test]
    async fn a_failed_refresh_keeps_the_usable_copy_and_the_next_request_tries_again() {
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let cache = FreshCache::default();
        cache.put("Key00001", Instant::now() - REFRESH_AFTER, Arc::new(1));
        for attempt in 1..=2 {
            let copy = cache.get_or_read("Key00001", counted_read(&reads, Err(())), |row| row).await.unwrap();
            assert_eq!((copy.as_deref(), reads.load(std::sync::atomic::Ordering::SeqCst)), (Some(&1), attempt));
        }
        cache.put("Key00002", Instant::now() - STALENESS, Arc::new(1));
        let failed = cache.get_or_read("Key00002", counted_read(&reads, Err(())), |row| row).await;
        assert!(failed.is_err_and(|err| err.is_unavailable()), "a copy past the bound is never the fallback");
    }

    #[tokio::test]
    async fn a_row_gone_at_the_refresh_drops_the_copy() {
        let reads = std::sync::atomic::AtomicUsize::new(0);
        let cache = FreshCache::default();
        cache.put("Key00001", Instant::now() - REFRESH_AFTER, Arc::new(1));
        assert!(cache.get_or_read("Key00001", counted_read(&reads, Ok(None)), |row| row).await.unwrap().is_none());
        assert!(cache.is_empty());
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
