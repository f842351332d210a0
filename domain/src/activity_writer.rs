//! Writes high-volume activity events (MCP tool calls, refused keys) and per-key usage counts (every
//! authenticated request, see [`crate::usage`]) and disclosures (which patients a tool call returned, see
//! [`crate::disclosures`]) in batches off the request path.
//!
//! A request hands its event to a bounded queue and goes on; one task per process inserts whatever has queued
//! up in a single multi-row `INSERT`, at most one every [`PACE`] unless a full batch is waiting (so a busy
//! node commits about ten times a second, not once per request). Usage hits are not queued one by one: a
//! request adds its hit to this process's running [`Tally`] (a short lock, no wake-up of the writer), and the
//! writer stores the tally, one upsert per counter table, every [`PACE`]. Nothing is dropped for being busy: when the queue is full, requests wait
//! for room (backpressure), so memory stays bounded. [`ActivityWriter::flush`] waits until everything queued
//! before it is stored; the server calls it at shutdown. Only a database that refuses the batch several times
//! in a row loses it, and that is logged and counted.
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::db::{ConnectionTrait, DatabaseConnection};
use tokio::sync::{mpsc, oneshot};

use crate::activity::store::{self, PendingEvent};
use crate::activity::NewEvent;
use crate::disclosures::store::{self as disclosure_store, PendingDisclosure};
use crate::disclosures::NewDisclosure;
use crate::usage::{self, Tally, UsageHit};

/// Events waiting at most; beyond it `record` waits for the writer.
const QUEUE_CAPACITY: usize = 10_000;
/// Rows per `INSERT` at most (well under SQLite's and PostgreSQL's bind-parameter limits: 8 columns each).
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

/// Usage hits added up since the writer last stored them, and how many they were.
#[derive(Default)]
struct PendingUsage {
    tally: Tally,
    hits: u64,
}

/// The sending side, cheap to clone; the task ends when every clone is gone.
#[derive(Clone)]
pub struct ActivityWriter {
    queue: mpsc::Sender<Message>,
    usage: Arc<Mutex<PendingUsage>>,
    pub stats: Arc<WriterStats>,
    /// Whether disclosures are recorded; off only for the benchmark's comparison (`CAREGATE_DISCLOSURES=off`).
    disclosures: bool,
}

impl ActivityWriter {
    /// Starts the writing task on the current Tokio runtime.
    pub fn start(db: DatabaseConnection) -> ActivityWriter {
        let (queue, inbox) = mpsc::channel(QUEUE_CAPACITY);
        let stats = Arc::new(WriterStats::default());
        let usage = Arc::new(Mutex::new(PendingUsage::default()));
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
        let mut pending = self.usage.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        pending.tally.add(hit);
        pending.hits += 1;
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

async fn run(db: DatabaseConnection, mut inbox: mpsc::Receiver<Message>, stats: Arc<WriterStats>, usage: Arc<Mutex<PendingUsage>>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut disclosures = Vec::new();
    let mut waiting = Vec::new();
    let mut last_write = tokio::time::Instant::now() - PACE;
    let mut ticks = tokio::time::interval(PACE);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let take_usage = || std::mem::take(&mut *usage.lock().unwrap_or_else(std::sync::PoisonError::into_inner));
    loop {
        let first = tokio::select! {
            message = inbox.recv() => match message {
                Some(message) => Some(message),
                None => {
                    // Every sender is gone (shutdown): store what was counted last.
                    let pending = take_usage();
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
            if !batch.is_empty() {
                last_write = tokio::time::Instant::now();
                write(&db, store::fold_repeats(std::mem::take(&mut batch)), &stats).await;
            }
            if !disclosures.is_empty() {
                last_write = tokio::time::Instant::now();
                write_disclosures(&db, std::mem::take(&mut disclosures), &stats).await;
            }
        }
        let pending = take_usage();
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
