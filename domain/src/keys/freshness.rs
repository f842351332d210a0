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

/// What [`FreshCache::lookup_at`] found under a name.
enum Lookup<V> {
    /// A copy to use as it is.
    Fresh(Arc<V>),
    /// A copy still usable but past [`REFRESH_AFTER`], which this caller (alone) is to read again; with the
    /// moment the copy's own read started (its claim is given back by it).
    Due { copy_read_started: Instant },
    /// Nothing usable: the caller must read.
    Missing,
}

/// How long before its copy runs out a refreshing request stops waiting for its read and decides on the copy:
/// room for the timer's wake-up and the lookup after it.
const REFRESH_MARGIN: Duration = Duration::from_millis(10);

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
            return Lookup::Due { copy_read_started: copy.read_started };
        }
        Lookup::Fresh(copy.value.clone())
    }

    /// Gives up the claim to refresh the copy of `name` read at `copy_read_started` (its read failed or was
    /// late), so the next caller tries again. A newer copy kept meanwhile has a claim of its own, left alone.
    fn release_claim(&self, name: &str, copy_read_started: Instant) {
        if let Some(copy) = self.entries().copies.get_mut(name) {
            if copy.read_started == copy_read_started {
                copy.refresh_claimed = false;
            }
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
    /// ([`read_fresh`]), turned into a copy by `into_copy` and kept. `Ok(None)`: the read found no row (nothing is
    /// kept for it).
    ///
    /// Past [`REFRESH_AFTER`], one request reads the copy again while the others use it. That request waits for
    /// its read only while the copy is still usable (up to [`REFRESH_MARGIN`] before it is [`STALENESS`] old): if
    /// the read fails or has not answered by then, it decides on the copy as the others do and the next request
    /// tries again. A read that fails falls back on a copy another request kept meanwhile, if it is still usable.
    pub async fn get_or_read<R, F, Fut>(&self, name: &str, read: F, into_copy: impl FnOnce(R) -> V) -> Result<Option<Arc<V>>, DomainError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<R>, DomainError>>,
    {
        let now = Instant::now();
        let copy_read_started = match self.lookup_at(name, now) {
            Lookup::Fresh(copy) => return Ok(Some(copy)),
            Lookup::Due { copy_read_started } => copy_read_started,
            Lookup::Missing => return self.read_and_keep(name, read, into_copy).await,
        };
        let usable_for = STALENESS.saturating_sub(now.saturating_duration_since(copy_read_started)).saturating_sub(REFRESH_MARGIN);
        let read_started = Instant::now();
        match tokio::time::timeout(usable_for, read()).await {
            // Answered within the copy's life, so well within its own.
            Ok(Ok(found)) => Ok(self.keep(name, found, read_started, into_copy)),
            Ok(Err(_)) | Err(_) => {
                self.release_claim(name, copy_read_started);
                match self.get(name) {
                    Some(copy) => Ok(Some(copy)),
                    // The timer woke after the copy ran out: read as if there had been none.
                    None => self.read_and_keep(name, read, into_copy).await,
                }
            }
        }
    }

    /// Reads `name` with [`read_fresh`] and keeps what it found; if the read fails, a copy another request kept
    /// meanwhile is used while it is usable.
    async fn read_and_keep<R, F, Fut>(&self, name: &str, read: F, into_copy: impl FnOnce(R) -> V) -> Result<Option<Arc<V>>, DomainError>
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = Result<Option<R>, DomainError>>,
    {
        match read_fresh(read).await {
            Ok((found, read_started)) => Ok(self.keep(name, found, read_started, into_copy)),
            Err(err) => self.get(name).map(Some).ok_or(err),
        }
    }

    /// Keeps what a read that started at `read_started` found under `name` (or forgets `name` if it found no row).
    fn keep<R>(&self, name: &str, found: Option<R>, read_started: Instant, into_copy: impl FnOnce(R) -> V) -> Option<Arc<V>> {
        match found {
            Some(row) => {
                let copy = Arc::new(into_copy(row));
                self.put(name, read_started, copy.clone());
                Some(copy)
            }
            None => {
                self.remove(name);
                None
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
        assert!(matches!(cache.lookup_at("Key00001", started + REFRESH_AFTER), Lookup::Due { .. }), "the first caller refreshes");
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

    #[test]
    fn a_claim_is_given_back_only_for_the_copy_it_was_made_on() {
        let cache = FreshCache::default();
        let first = Instant::now();
        cache.put("Key00001", first, Arc::new(1));
        assert!(matches!(cache.lookup_at("Key00001", first + REFRESH_AFTER), Lookup::Due { copy_read_started } if copy_read_started == first));
        let second = first + REFRESH_AFTER;
        cache.put("Key00001", second, Arc::new(2));
        assert!(matches!(cache.lookup_at("Key00001", second + REFRESH_AFTER), Lookup::Due { .. }), "the newer copy's refresh is claimed");
        cache.release_claim("Key00001", first);
        assert!(matches!(cache.lookup_at("Key00001", second + REFRESH_AFTER), Lookup::Fresh(_)), "an old claim's release leaves it claimed");
        cache.release_claim("Key00001", second);
        assert!(matches!(cache.lookup_at("Key00001", second + REFRESH_AFTER), Lookup::Due { .. }));
    }

    #[tokio::test]
    async fn a_refresh_that_does_not_answer_while_the_copy_is_usable_is_given_up_for_the_copy() {
        let cache = FreshCache::<i32>::default();
        let copy_read_started = Instant::now() - REFRESH_AFTER;
        cache.put("Key00001", copy_read_started, Arc::new(1));
        let hanging = || std::future::pending::<Result<Option<i32>, DomainError>>();
        let copy = cache.get_or_read("Key00001", hanging, |row| row).await.unwrap();
        assert_eq!(copy.as_deref(), Some(&1), "the request is decided on the copy it could use");
        assert!(copy_read_started.elapsed() < STALENESS, "and decided while the copy was usable");
        assert!(matches!(cache.lookup_at("Key00001", Instant::now()), Lookup::Due { .. }), "the next request tries again");
    }

    #[tokio::test]
    async fn a_failed_read_uses_a_copy_another_request_kept_meanwhile() {
        let cache = FreshCache::default();
        let failed_after_another_kept_one = || {
            cache.put("Key00001", Instant::now(), Arc::new(9));
            std::future::ready(Err::<Option<i32>, _>(unavailable()))
        };
        let copy = cache.get_or_read("Key00001", failed_after_another_kept_one, |row| row).await.unwrap();
        assert_eq!(copy.as_deref(), Some(&9));
        let nothing_kept = FreshCache::<i32>::default();
        let failed = nothing_kept.get_or_read("Key00001", || std::future::ready(Err(unavailable())), |row| row).await;
        assert!(failed.is_err_and(|err| err.is_unavailable()), "with no usable copy a failed read is an error");
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
