//! Writes high-volume activity events (MCP tool calls, refused keys) and per-key usage counts (every
//! authenticated request, see [`crate::usage`]) and disclosures (which patients a tool call returned, see
//! [`crate::disclosures`]) in batches off the request path.
//!
//! A request hands its event to a bounded queue and goes on; one task per process inserts whatever has queued
//! up in a single multi-row `INSERT`, at most one every [`PACE`] unless a full batch is waiting (so a busy
//! node commits about ten times a second, not once per request). The two things every MCP call adds are not
//! queued one by one: its usage hit goes into this process's running [`Tally`], and its feed event into its
//! [`ToolCallBursts`] (one short lock for both, no copy of anything already there, no wake-up of the writer);
//! the writer stores both every [`PACE`]. Those pending counts are kept in [`SHARDS`] parts, one per thread
//! that counts (in turn), so the server's worker threads do not pass one lock and one map back and forth
//! between their cores on every request; the writer takes every part and adds them up. Nothing is dropped for
//! being busy: when the queue is full, requests wait for room (backpressure), so memory stays bounded.
//! [`ActivityWriter::flush`] waits until everything queued before it is stored; the server calls it at shutdown.
//! Only a database that refuses the batch several times in a row loses it, and that is logged and counted.
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::db::{ConnectionTrait, DatabaseConnection};
use tokio::sync::{mpsc, oneshot};

use chrono::{DateTime, Utc};

use crate::activity::store::{self, PendingEvent};
use crate::activity::{NewEvent, Origin};
use crate::disclosures::store::{self as disclosure_store, PendingDisclosure};
use crate::disclosures::NewDisclosure;
use crate::model::{CompanyId, UserId};
use crate::usage::{self, Tally, UsageHit};

/// Events waiting at most; beyond it `record` waits for the writer.
const QUEUE_CAPACITY: usize = 10_000;
/// Queued events per batch at most. With the bursts waiting (at most [`MAX_PENDING_BURSTS`]) one `INSERT` holds at
/// most 1 000 rows of 9 columns: well under SQLite's (32 766) and PostgreSQL's (65 535) bind-parameter limits.
const MAX_BATCH: usize = 500;
/// The shortest time between two batches, unless [`MAX_BATCH`] events are already waiting.
const PACE: Duration = Duration::from_millis(100);
/// Pauses before retrying a batch the database refused.
const RETRY_PAUSES: [Duration; 3] = [Duration::from_millis(100), Duration::from_millis(500), Duration::from_secs(2)];

enum Message {
    Event(PendingEvent),
    Disclosure(PendingDisclosure),
    Flush(oneshot::Sender<()>),
}

/// Counters for `/metrics`.
#[derive(Default)]
pub struct WriterStats {
    pub written: AtomicU64,
    pub batches: AtomicU64,
    pub lost: AtomicU64,
}

/// Usage hits added up since the writer last stored them, and how many they were; and the MCP calls' feed
/// events, by burst.
#[derive(Default)]
struct PendingUsage {
    tally: Tally,
    hits: u64,
    bursts: ToolCallBursts,
}

/// Every shard's pending counts, taken by the writer and added up. A burst whose calls were counted by two
/// threads is two events here; [`store::fold_repeats`] makes them one row again.
#[derive(Default)]
struct TakenUsage {
    tally: Tally,
    hits: u64,
    burst_events: Vec<PendingEvent>,
}

impl TakenUsage {
    fn absorb(&mut self, shard: PendingUsage) {
        self.tally.absorb(shard.tally);
        self.hits += shard.hits;
        self.burst_events.extend(shard.bursts.into_events());
    }
}

/// Parts the pending counts are kept in.
const SHARDS: usize = 4;

/// One part of the pending counts, alone on its cache lines (two parts' locks never share one).
#[repr(align(128))]
#[derive(Default)]
struct Shard(Mutex<PendingUsage>);

/// The part the current thread counts into: the threads take parts in turn as they first count, so up to
/// [`SHARDS`] worker threads (one per core: this project's machines have two) each have their own; beyond, threads
/// share parts, which costs speed, never counts.
fn this_threads_shard() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static SHARD: usize = NEXT.fetch_add(1, Ordering::Relaxed) % SHARDS;
    }
    SHARD.with(|shard| *shard)
}

/// Distinct bursts waiting at most, over all shards (one `INSERT` of them every [`PACE`]); beyond it a call's
/// event is queued as any other, with the queue's backpressure.
const MAX_PENDING_BURSTS: usize = MAX_BATCH;
/// Distinct bursts one shard keeps at most.
const MAX_BURSTS_PER_SHARD: usize = MAX_PENDING_BURSTS / SHARDS;

/// One MCP tool call, as the feed records it: attributed to the key's owner.
pub struct ToolCall<'a> {
    pub company_id: CompanyId,
    pub owner: UserId,
    pub key_id: &'a str,
    /// A tool of the server's table.
    pub tool: &'a str,
    pub origin: &'a Origin,
    pub at: DateTime<Utc>,
}

impl ToolCall<'_> {
    /// The feed event this call is on its own (cleaned, as stored).
    fn event(&self) -> PendingEvent {
        PendingEvent::from(NewEvent {
            company_id: self.company_id,
            actor_user_id: Some(self.owner),
            key_id: Some(self.key_id),
            action: crate::activity::Action::KeyUsed,
            target: format!("MCP tool {}", self.tool),
            origin: self.origin,
            at: self.at,
        })
    }
}

/// A burst: the same key calling the same tool from the same address and client.
type BurstKey = (String, String, Option<String>, Option<String>);

/// A borrowed [`BurstKey`]: hashes as the owned one does, so a repeat is found without copying anything.
#[derive(Hash)]
struct BurstProbe<'a>(&'a str, &'a str, Option<&'a str>, Option<&'a str>);

impl hashbrown::Equivalent<BurstKey> for BurstProbe<'_> {
    fn equivalent(&self, key: &BurstKey) -> bool {
        self.0 == key.0 && self.1 == key.1 && self.2 == key.2.as_deref() && self.3 == key.3.as_deref()
    }
}

/// MCP tool calls added up by burst until the writer stores each burst as one feed row whose `repeats` counts
/// its calls and whose time is its last call's (as [`store::fold_repeats`] folds queued events).
#[derive(Default)]
struct ToolCallBursts {
    bursts: crate::fast_map::GuardedMap<BurstKey, Burst>,
}

/// A burst's first event, how many calls it holds and when the last came.
struct Burst {
    first: PendingEvent,
    calls: i32,
    last_at: DateTime<Utc>,
}

impl Burst {
    fn repeat(&mut self, at: DateTime<Utc>) {
        self.calls = self.calls.saturating_add(1);
        self.last_at = self.last_at.max(at);
    }
}

impl ToolCallBursts {
    /// Adds `call`; gives its event back when [`MAX_BURSTS_PER_SHARD`] other bursts are waiting.
    fn add(&mut self, call: &ToolCall<'_>) -> Option<PendingEvent> {
        // Looked up as given first: an address and a client already clean are stored as given.
        let given = BurstProbe(call.key_id, call.tool, call.origin.ip.as_deref(), call.origin.user_agent.as_deref());
        if let Some(burst) = self.bursts.get_mut(&given) {
            burst.repeat(call.at);
            return None;
        }
        let event = call.event();
        let (ip, client) = event.source();
        let key = (call.key_id.to_owned(), call.tool.to_owned(), ip, client);
        if let Some(burst) = self.bursts.get_mut(&key) {
            burst.repeat(call.at);
            return None;
        }
        if self.bursts.len() >= MAX_BURSTS_PER_SHARD {
            return Some(event);
        }
        self.bursts.insert(key, Burst { first: event, calls: 1, last_at: call.at });
        None
    }

    fn into_events(self) -> impl Iterator<Item = PendingEvent> {
        self.bursts.into_values().map(|burst| burst.first.repeated(burst.calls, burst.last_at))
    }
}

/// The sending side, cheap to clone; the task ends when every clone is gone.
#[derive(Clone)]
pub struct ActivityWriter {
    queue: mpsc::Sender<Message>,
    usage: Arc<[Shard; SHARDS]>,
    pub stats: Arc<WriterStats>,
    /// Whether disclosures are recorded; off only for the benchmark's comparison (`CAREGATE_DISCLOSURES=off`).
    disclosures: bool,
}

impl ActivityWriter {
    /// Starts the writing task on the current Tokio runtime.
    pub fn start(db: DatabaseConnection) -> ActivityWriter {
        let (queue, inbox) = mpsc::channel(QUEUE_CAPACITY);
        let stats = Arc::new(WriterStats::default());
        let usage: Arc<[Shard; SHARDS]> = Arc::default();
        tokio::spawn(run(db, inbox, stats.clone(), usage.clone()));
        ActivityWriter { queue, usage, stats, disclosures: true }
    }

    /// The same writer, recording disclosures or not.
    pub fn recording_disclosures(self, on: bool) -> ActivityWriter {
        ActivityWriter { disclosures: on, ..self }
    }

    /// Queues one event; waits only while the queue is full.
    pub async fn record(&self, event: NewEvent<'_>) {
        if self.queue.send(Message::Event(event.into())).await.is_err() {
            self.stats.lost.fetch_add(1, Ordering::Relaxed);
            tracing::error!("the activity writer has stopped; an event was not recorded");
        }
    }

    /// Adds one usage hit to the running tally the writer stores every [`PACE`]. Its memory is bounded by the
    /// keys, days, tools and (address, client) pairs seen in one [`PACE`].
    pub fn count(&self, hit: UsageHit) {
        let mut pending = self.pending();
        pending.tally.add(hit);
        pending.hits += 1;
    }

    /// Records an MCP tool call: its usage (the tool's count) and its feed event, added to its burst; queued as
    /// any event (waiting only while the queue is full) when too many bursts are already waiting.
    pub async fn record_tool_call(&self, call: ToolCall<'_>) {
        let overflow = {
            let mut pending = self.pending();
            pending.tally.add(UsageHit::ToolCall { key_id: call.key_id, tool: call.tool });
            pending.hits += 1;
            pending.bursts.add(&call)
        };
        if let Some(event) = overflow {
            // Boxed: waiting on the queue is a future of about a kilobyte, and every MCP call's future would carry
            // it (rmcp moves that future into a task of its own per request) for the rare call that overflows.
            if Box::pin(self.queue.send(Message::Event(event))).await.is_err() {
                self.stats.lost.fetch_add(1, Ordering::Relaxed);
                tracing::error!("the activity writer has stopped; an event was not recorded");
            }
        }
    }

    /// The current thread's part of the pending counts, locked.
    fn pending(&self) -> std::sync::MutexGuard<'_, PendingUsage> {
        pending_of(&self.usage)
    }

    /// Queues one disclosure (unless recording them is off); waits only while the queue is full.
    pub async fn disclose(&self, disclosure: NewDisclosure) {
        if !self.disclosures {
            return;
        }
        if self.queue.send(Message::Disclosure(disclosure.into())).await.is_err() {
            self.stats.lost.fetch_add(1, Ordering::Relaxed);
            tracing::error!("the activity writer has stopped; a disclosure was not recorded");
        }
    }

    /// Returns once every event queued before this call is stored (or given up on).
    pub async fn flush(&self) {
        let (done, stored) = oneshot::channel();
        if self.queue.send(Message::Flush(done)).await.is_ok() {
            let _ = stored.await;
        }
    }
}

/// The current thread's part of `shards`, locked.
fn pending_of(shards: &[Shard; SHARDS]) -> std::sync::MutexGuard<'_, PendingUsage> {
    lock(&shards[this_threads_shard()].0)
}

/// Every part's pending counts, taken (the parts are left empty) and added up.
fn take_all(shards: &[Shard; SHARDS]) -> TakenUsage {
    let mut taken = TakenUsage::default();
    for shard in shards {
        taken.absorb(std::mem::take(&mut *lock(&shard.0)));
    }
    taken
}

/// The pending counts, even after a panic elsewhere while they were held (they are plain counters).
fn lock(usage: &Mutex<PendingUsage>) -> std::sync::MutexGuard<'_, PendingUsage> {
    usage.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn run(db: DatabaseConnection, mut inbox: mpsc::Receiver<Message>, stats: Arc<WriterStats>, usage: Arc<[Shard; SHARDS]>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut disclosures = Vec::new();
    let mut waiting = Vec::new();
    let mut last_write = tokio::time::Instant::now() - PACE;
    let mut ticks = tokio::time::interval(PACE);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        let first = tokio::select! {
            message = inbox.recv() => match message {
                Some(message) => Some(message),
                None => {
                    // Every sender is gone (shutdown): store what was counted last.
                    let pending = take_all(&usage);
                    if !pending.burst_events.is_empty() {
                        write(&db, store::fold_repeats(pending.burst_events), &stats).await;
                    }
                    if !pending.tally.is_empty() {
                        write_usage(&db, pending.tally, pending.hits, &stats).await;
                    }
                    return;
                }
            },
            _ = ticks.tick() => None,
        };
        if let Some(first) = first {
            if inbox.len() + 1 < MAX_BATCH {
                tokio::time::sleep_until(last_write + PACE).await;
            }
            let mut next = Some(first);
            while let Some(message) = next.take() {
                match message {
                    Message::Event(row) => batch.push(row),
                    Message::Disclosure(disclosure) => disclosures.push(disclosure),
                    Message::Flush(done) => waiting.push(done),
                }
                if batch.len() + disclosures.len() < MAX_BATCH {
                    next = inbox.try_recv().ok();
                }
            }
        }
        // The calls' bursts go in with the queued events (taken after them: a flush covers every call made before it).
        let pending = take_all(&usage);
        batch.extend(pending.burst_events);
        if !batch.is_empty() {
            last_write = tokio::time::Instant::now();
            write(&db, store::fold_repeats(std::mem::take(&mut batch)), &stats).await;
        }
        if !disclosures.is_empty() {
            last_write = tokio::time::Instant::now();
            write_disclosures(&db, std::mem::take(&mut disclosures), &stats).await;
        }
        if !pending.tally.is_empty() {
            write_usage(&db, pending.tally, pending.hits, &stats).await;
        }
        for done in waiting.drain(..) {
            let _ = done.send(());
        }
    }
}

async fn write(db: &impl ConnectionTrait, rows: Vec<PendingEvent>, stats: &WriterStats) {
    let count = rows.len() as u64;
    let mut pauses = RETRY_PAUSES.iter();
    loop {
        match store::insert_batch(db, rows.clone()).await {
            Ok(_) => {
                stats.written.fetch_add(count, Ordering::Relaxed);
                stats.batches.fetch_add(1, Ordering::Relaxed);
                return;
            }
            Err(err) => match pauses.next() {
                Some(pause) => {
                    tracing::warn!(error = %err, events = count, "could not store activity events; retrying");
                    tokio::time::sleep(*pause).await;
                }
                None => {
                    stats.lost.fetch_add(count, Ordering::Relaxed);
                    tracing::error!(error = %err, events = count, "could not store activity events; they are lost");
                    return;
                }
            },
        }
    }
}

/// Stores a batch's disclosures, retrying as for events.
async fn write_disclosures(db: &DatabaseConnection, batch: Vec<PendingDisclosure>, stats: &WriterStats) {
    let count = batch.len() as u64;
    let mut pauses = RETRY_PAUSES.iter();
    loop {
        match disclosure_store::insert_batch(db, batch.clone()).await {
            Ok(()) => return,
            Err(err) => match pauses.next() {
                Some(pause) => {
                    tracing::warn!(error = %err, disclosures = count, "could not store disclosures; retrying");
                    tokio::time::sleep(*pause).await;
                }
                None => {
                    stats.lost.fetch_add(count, Ordering::Relaxed);
                    tracing::error!(error = %err, disclosures = count, "could not store disclosures; they are lost");
                    return;
                }
            },
        }
    }
}

/// Adds a batch's usage counts, retrying as for events; `hits` is how many hits it holds, for the counters.
async fn write_usage(db: &impl ConnectionTrait, tally: Tally, hits: u64, stats: &WriterStats) {
    let mut pauses = RETRY_PAUSES.iter();
    loop {
        match usage::store::write(db, &tally).await {
            Ok(()) => return,
            Err(err) => match pauses.next() {
                Some(pause) => {
                    tracing::warn!(error = %err, hits, "could not store usage counts; retrying");
                    tokio::time::sleep(*pause).await;
                }
                None => {
                    stats.lost.fetch_add(hits, Ordering::Relaxed);
                    tracing::error!(error = %err, hits, "could not store usage counts; they are lost");
                    return;
                }
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn call<'a>(key_id: &'a str, tool: &'a str, origin: &'a Origin, second: u32) -> ToolCall<'a> {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, second).unwrap();
        ToolCall { company_id: CompanyId(1), owner: UserId(7), key_id, tool, origin, at }
    }

    #[test]
    fn identical_calls_become_one_row_counting_them_at_the_last_ones_time() {
        let claude = Origin { ip: Some("10.0.0.1".into()), user_agent: Some("claude-code".into()) };
        let codex = Origin { ip: Some("10.0.0.1".into()), user_agent: Some("codex".into()) };
        let mut bursts = ToolCallBursts::default();
        for second in [3, 1, 2] {
            assert!(bursts.add(&call("Key00001", "whoami", &claude, second)).is_none());
        }
        assert!(bursts.add(&call("Key00001", "list_visits", &claude, 4)).is_none());
        assert!(bursts.add(&call("Key00001", "whoami", &codex, 5)).is_none());
        let mut rows: Vec<PendingEvent> = bursts.into_events().collect();
        rows.sort_by_key(|row| format!("{row:?}"));
        let mut expected = vec![
            call("Key00001", "whoami", &claude, 3).event().repeated(3, Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 3).unwrap()),
            call("Key00001", "list_visits", &claude, 4).event(),
            call("Key00001", "whoami", &codex, 5).event(),
        ];
        expected.sort_by_key(|row| format!("{row:?}"));
        assert_eq!(rows, expected);
    }

    #[test]
    fn a_client_whose_name_needs_cleaning_keeps_one_burst() {
        let dirty = Origin { ip: Some("10.0.0.1".into()), user_agent: Some("evil\u{1b}[31m".into()) };
        let mut bursts = ToolCallBursts::default();
        assert!(bursts.add(&call("Key00001", "whoami", &dirty, 1)).is_none());
        assert!(bursts.add(&call("Key00001", "whoami", &dirty, 2)).is_none());
        assert_eq!(bursts.into_events().count(), 1);
    }

    #[test]
    fn past_the_bound_a_new_burst_is_handed_back_to_be_queued_and_repeats_still_add_up() {
        let origin = Origin::default();
        let keys: Vec<String> = (0..=MAX_BURSTS_PER_SHARD).map(|n| format!("Key{n:05}")).collect();
        let mut bursts = ToolCallBursts::default();
        for key in &keys[..MAX_BURSTS_PER_SHARD] {
            assert!(bursts.add(&call(key, "whoami", &origin, 1)).is_none());
        }
        let overflow = call(&keys[MAX_BURSTS_PER_SHARD], "whoami", &origin, 2);
        assert_eq!(bursts.add(&overflow), Some(overflow.event()));
        assert!(bursts.add(&call(&keys[0], "whoami", &origin, 3)).is_none(), "a repeat needs no room");
        assert_eq!(bursts.into_events().count(), MAX_BURSTS_PER_SHARD);
    }

    #[test]
    fn a_burst_counted_by_two_threads_is_stored_as_one_row_of_all_its_calls() {
        let claude = Origin { ip: Some("10.0.0.1".into()), user_agent: Some("claude-code".into()) };
        let mut shards = [PendingUsage::default(), PendingUsage::default()];
        for second in 1..=4 {
            let (call, shard) = (call("Key00001", "whoami", &claude, second), &mut shards[second as usize % 2]);
            shard.tally.add(UsageHit::ToolCall { key_id: call.key_id, tool: call.tool });
            shard.hits += 1;
            assert!(shard.bursts.add(&call).is_none());
        }
        let mut taken = TakenUsage::default();
        for shard in shards {
            taken.absorb(shard);
        }
        assert_eq!(taken.hits, 4);
        assert_eq!(taken.tally.tools[&("Key00001".to_owned(), "whoami".to_owned())], 4);
        let rows = store::fold_repeats(taken.burst_events);
        let last = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 4).unwrap();
        assert_eq!(rows, vec![call("Key00001", "whoami", &claude, 1).event().repeated(4, last)]);
    }

    #[test]
    fn hits_counted_on_many_threads_are_all_taken_once() {
        let shards: Arc<[Shard; SHARDS]> = Arc::default();
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let shards = shards.clone();
                std::thread::spawn(move || {
                    for _ in 0..1_000 {
                        let mut pending = pending_of(&shards);
                        pending.tally.add(UsageHit::ToolCall { key_id: "Key00001", tool: "whoami" });
                        pending.hits += 1;
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let taken = take_all(&shards);
        assert_eq!(taken.hits, 8_000);
        assert_eq!(taken.tally.tools[&("Key00001".to_owned(), "whoami".to_owned())], 8_000);
        assert_eq!(take_all(&shards).hits, 0, "taken once");
    }
}
