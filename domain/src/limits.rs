//! Limits that hold for the whole deployment, not for each process.
//!
//! A SQLite deployment is one server process: its counters live in memory ([`crate::throttle::Windows`]), exact
//! and free. With PostgreSQL several processes share the database, and a count kept in each of them would give
//! a key N× its budget and an attacker N× the guesses, so:
//!
//! * **Bounds on guessing and abuse** ([`Counter`]: wrong key secrets per Key ID and per address, wrong passwords
//!   and codes per account and per address, leaked-key reports and OAuth requests per address) are counted in
//!   the `limit_counters` table, one atomic upsert per counted event, in fixed windows that start at a name's
//!   first event (as in memory), timed by the database's clock.
//!   They are exact: an event is counted before the expensive check it guards, and one that finds its name over
//!   the bound stays counted (stricter, never looser). Only failed or expensive attempts pay the round trip; a
//!   warm request never does, and a process that saw a name at its bound remembers it until its window ends,
//!   so a flood on that name costs no more round trips. If the count cannot be written the attempt is refused
//!   (fail closed).
//! * **Per-key request budgets** ([`Budgets`]) are approximate by design, because counting every request in the
//!   database would cost the warm path a write: each process counts locally and, every
//!   [`BUDGET_SYNC_INTERVAL`], adds its new counts to the shared totals in one statement and reads them back. A
//!   process refuses once the total it last read plus its own unsent count reaches the budget. The overshoot is
//!   bounded: in a one-minute window, the deployment admits at most the budget plus what the *other* processes
//!   admit in the blind spot of the totals a process decides on — two sync intervals and a round trip (its own
//!   last read, and the others' last sends) — plus, while a process cannot sync, what it admits meanwhile.
//!
//! The table is `UNLOGGED` on PostgreSQL and swept of ended windows every minute, so it holds only live
//! windows. No new server (such as Redis) is needed: the database every process already shares is the one place
//! all of them agree on.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, Value};

use crate::error::DomainError;
use crate::throttle::Windows;

/// How often a process adds its budget counts to the shared totals and reads them back.
pub const BUDGET_SYNC_INTERVAL: Duration = Duration::from_millis(100);
/// How often ended windows are swept from the shared table.
pub const SWEEP_INTERVAL: Duration = Duration::from_secs(60);
/// Keys whose counts one sync statement carries at most (two parameters each).
const KEYS_PER_SYNC_STATEMENT: usize = 1_000;
/// The budget window: one minute of the wall clock.
const BUDGET_WINDOW_SECS: u64 = 60;

/// At most `max` events per name in each fixed `window`; `scope` keeps the names of different bounds apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    pub scope: &'static str,
    pub max: u32,
    pub window: Duration,
}

/// What [`Counter::attempt`] decided.
#[derive(Debug, PartialEq, Eq)]
pub enum Attempt {
    /// Counted; give it back with [`Counter::refund`] if the attempt turns out right.
    Counted(Counted),
    /// The name is at its bound: wait this many seconds.
    Over { retry_after: u64 },
}

/// One counted event, as [`Counter::refund`] needs it: the stored name and, when shared, its window.
#[derive(Debug, PartialEq, Eq)]
pub struct Counted {
    name: String,
    window_start: Option<i64>,
}

enum Store {
    Process(Mutex<Windows>),
    /// The shared table, and the names this process saw at their bound, with when their window ends: until then
    /// a flood of attempts on them costs this process no round trip (stricter than the table, never looser).
    Database(DatabaseConnection, Mutex<HashMap<String, Instant>>),
}

/// Names at their bound one process remembers at most; beyond it the ended ones go, then all (the table stays
/// the authority, so forgetting only costs round trips).
const MAX_REMEMBERED_AT_BOUND: usize = 100_000;

/// Events per name under one [`Limit`], counted in this process (SQLite) or in the shared table (PostgreSQL).
pub struct Counter {
    limit: Limit,
    store: Store,
}

/// The seconds of the database clock, as the shared counters' windows use them.
const DB_NOW: &str = "CAST(FLOOR(EXTRACT(EPOCH FROM CLOCK_TIMESTAMP())) AS BIGINT)";

impl Counter {
    /// Counts in this process: what a single-process deployment (SQLite) and unit tests use.
    pub fn in_process(limit: Limit) -> Self {
        Counter { limit, store: Store::Process(Mutex::new(Windows::new(limit.window))) }
    }

    /// Counts in `db` when it is PostgreSQL (shared by every process), in this process otherwise.
    pub fn for_database(limit: Limit, db: &DatabaseConnection) -> Self {
        match db.get_database_backend() {
            DbBackend::Postgres => Counter { limit, store: Store::Database(db.clone(), Mutex::new(HashMap::new())) },
            _ => Counter::in_process(limit),
        }
    }

    pub fn limit(&self) -> Limit {
        self.limit
    }

    fn windows(windows: &Mutex<Windows>) -> std::sync::MutexGuard<'_, Windows> {
        // Counts under a poisoned lock are still right: use them rather than let guesses through or refuse all.
        windows.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The name as the shared table stores it: the bound's scope and a digest (a huge name costs no more).
    fn stored_name(&self, name: &str) -> String {
        format!("{}:{}", self.limit.scope, crate::hex::encode(&crate::throttle::digest(name)))
    }

    fn window_secs(&self) -> i64 {
        i64::try_from(self.limit.window.as_secs().max(1)).unwrap_or(i64::MAX)
    }

    /// Seconds left of a remembered bound on the stored `name`, if it is still in force.
    fn remembered(at_bound: &Mutex<HashMap<String, Instant>>, stored: &str) -> Option<u64> {
        let at_bound = at_bound.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let until = at_bound.get(stored)?;
        let left = until.saturating_duration_since(Instant::now());
        (!left.is_zero()).then(|| left.as_secs().max(1))
    }

    fn remember(at_bound: &Mutex<HashMap<String, Instant>>, stored: String, retry_after: u64) {
        let mut at_bound = at_bound.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let now = Instant::now();
        if at_bound.len() >= MAX_REMEMBERED_AT_BOUND {
            at_bound.retain(|_, until| *until > now);
            if at_bound.len() >= MAX_REMEMBERED_AT_BOUND {
                at_bound.clear();
            }
        }
        at_bound.insert(stored, now + Duration::from_secs(retry_after));
    }

    /// Seconds to wait when `name` is at its bound in the current window; counts nothing.
    pub async fn blocked(&self, name: &str) -> Result<Option<u64>, DomainError> {
        match &self.store {
            Store::Process(windows) => Ok(Self::windows(windows).blocked(name, self.limit.max, Instant::now())),
            Store::Database(db, at_bound) => {
                let stored = self.stored_name(name);
                if let Some(retry_after) = Self::remembered(at_bound, &stored) {
                    return Ok(Some(retry_after));
                }
                let sql = format!("SELECT hits, expires_at - {DB_NOW} AS seconds_left FROM limit_counters WHERE name = $1 AND expires_at > {DB_NOW}");
                let row = db.query_one(Statement::from_sql_and_values(DbBackend::Postgres, sql, [stored.clone().into()])).await?;
                let Some(row) = row else { return Ok(None) };
                let hits: i32 = row.try_get("", "hits")?;
                let seconds_left: i64 = row.try_get("", "seconds_left")?;
                let blocked = (hits >= i32::try_from(self.limit.max).unwrap_or(i32::MAX)).then(|| seconds_left.max(1) as u64);
                if let Some(retry_after) = blocked {
                    Self::remember(at_bound, stored, retry_after);
                }
                Ok(blocked)
            }
        }
    }

    /// Counts one event for `name` unless it is at its bound (in process), or counts it and refuses it if that
    /// made it pass the bound (shared: one atomic statement, so concurrent attempts on any process cannot race
    /// past it).
    pub async fn attempt(&self, name: &str) -> Result<Attempt, DomainError> {
        match &self.store {
            Store::Process(windows) => {
                let now = Instant::now();
                let mut windows = Self::windows(windows);
                if let Some(retry_after) = windows.blocked(name, self.limit.max, now) {
                    return Ok(Attempt::Over { retry_after });
                }
                windows.hit(name, now);
                Ok(Attempt::Counted(Counted { name: name.to_owned(), window_start: None }))
            }
            Store::Database(db, at_bound) => {
                let stored = self.stored_name(name);
                if let Some(retry_after) = Self::remembered(at_bound, &stored) {
                    return Ok(Attempt::Over { retry_after });
                }
                let sql = format!(
                    "WITH clock AS (SELECT {DB_NOW} AS clock_now) \
                     INSERT INTO limit_counters (name, window_start, expires_at, hits) \
                     SELECT $1, clock_now, clock_now + $2, 1 FROM clock \
                     ON CONFLICT (name) DO UPDATE SET \
                       hits = CASE WHEN limit_counters.expires_at <= excluded.window_start THEN 1 ELSE limit_counters.hits + 1 END, \
                       window_start = CASE WHEN limit_counters.expires_at <= excluded.window_start \
                                      THEN excluded.window_start ELSE limit_counters.window_start END, \
                       expires_at = CASE WHEN limit_counters.expires_at <= excluded.window_start \
                                    THEN excluded.expires_at ELSE limit_counters.expires_at END \
                     WHERE limit_counters.hits <= $3 OR limit_counters.expires_at <= excluded.window_start \
                     RETURNING hits, window_start, expires_at - {DB_NOW} AS seconds_left"
                );
                let max = i32::try_from(self.limit.max).unwrap_or(i32::MAX);
                let values: [Value; 3] = [stored.clone().into(), self.window_secs().into(), max.into()];
                let Some(row) = db.query_one(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await? else {
                    // Past its bound already: the row is left as it is (a flood writes nothing more).
                    let retry_after = self.blocked(name).await?.unwrap_or(self.limit.window.as_secs().max(1));
                    Self::remember(at_bound, stored, retry_after);
                    return Ok(Attempt::Over { retry_after });
                };
                let hits: i32 = row.try_get("", "hits")?;
                let window_start: i64 = row.try_get("", "window_start")?;
                let seconds_left: i64 = row.try_get("", "seconds_left")?;
                if hits > max {
                    let retry_after = seconds_left.max(1) as u64;
                    Self::remember(at_bound, stored, retry_after);
                    return Ok(Attempt::Over { retry_after });
                }
                Ok(Attempt::Counted(Counted { name: stored, window_start: Some(window_start) }))
            }
        }
    }

    /// Takes back a counted event whose attempt turned out right (in the window it was counted in).
    pub async fn refund(&self, counted: Counted) -> Result<(), DomainError> {
        match (&self.store, counted.window_start) {
            (Store::Process(windows), _) => {
                Self::windows(windows).undo(&counted.name);
                Ok(())
            }
            (Store::Database(db, _), Some(window_start)) => {
                let sql = "UPDATE limit_counters SET hits = hits - 1 WHERE name = $1 AND window_start = $2 AND hits > 0";
                db.execute(Statement::from_sql_and_values(DbBackend::Postgres, sql, [counted.name.into(), window_start.into()])).await?;
                Ok(())
            }
            (Store::Database(..), None) => Ok(()),
        }
    }

    /// Names this process keeps (0 when the counts are shared): for tests of the memory bound.
    pub fn names_kept(&self) -> usize {
        match &self.store {
            Store::Process(windows) => Self::windows(windows).len(),
            Store::Database(..) => 0,
        }
    }
}

/// A bound per name (a Key ID, an account) and one per client address, counted together: an attempt is
/// counted against both before the expensive check runs and given back when it turns out right, so attempts in
/// flight at once cannot race past either bound and legitimate attempts never add up. IPv6 clients are counted
/// by their /64 network ([`crate::net::counting_name`]).
pub struct FailureBounds {
    by_name: Counter,
    by_ip: Counter,
}

/// The events one [`FailureBounds::attempt`] counted, to give back when the attempt turns out right.
#[derive(Debug)]
pub struct CountedAttempt {
    name: Counted,
    ip: Option<Counted>,
}

impl FailureBounds {
    pub fn new(by_name: Counter, by_ip: Counter) -> Self {
        FailureBounds { by_name, by_ip }
    }

    /// Seconds to wait when `ip` alone is at its bound (before anything names an account or a key).
    pub async fn ip_blocked(&self, ip: Option<&str>) -> Result<Option<u64>, DomainError> {
        match ip {
            Some(ip) => self.by_ip.blocked(&crate::net::counting_name(ip)).await,
            None => Ok(None),
        }
    }

    /// Counts an attempt for `name` from `ip`, or the seconds to wait when either is at its bound.
    pub async fn attempt(&self, name: &str, ip: Option<&str>) -> Result<Result<CountedAttempt, u64>, DomainError> {
        // The address first: a flood from one address over its bound (made-up account names, say) then
        // touches no per-name counter at all.
        let ip = match ip {
            Some(ip) => match self.by_ip.attempt(&crate::net::counting_name(ip)).await? {
                Attempt::Counted(counted) => Some(counted),
                Attempt::Over { retry_after } => return Ok(Err(retry_after)),
            },
            None => None,
        };
        match self.by_name.attempt(name).await? {
            Attempt::Counted(name) => Ok(Ok(CountedAttempt { name, ip })),
            Attempt::Over { retry_after } => {
                if let Some(ip) = ip {
                    self.by_ip.refund(ip).await?;
                }
                Ok(Err(retry_after))
            }
        }
    }

    /// Counts a failure against `ip` alone (an unknown Key ID or token), or the seconds to wait.
    pub async fn attempt_ip(&self, ip: Option<&str>) -> Result<Result<(), u64>, DomainError> {
        let Some(ip) = ip else { return Ok(Ok(())) };
        match self.by_ip.attempt(&crate::net::counting_name(ip)).await? {
            Attempt::Counted(_) => Ok(Ok(())),
            Attempt::Over { retry_after } => Ok(Err(retry_after)),
        }
    }

    /// The attempt turned out right: it does not count.
    pub async fn refund(&self, attempt: CountedAttempt) -> Result<(), DomainError> {
        self.by_name.refund(attempt.name).await?;
        if let Some(ip) = attempt.ip {
            self.by_ip.refund(ip).await?;
        }
        Ok(())
    }

    /// Names (and addresses) this process keeps: for tests of the memory bound.
    pub fn names_kept(&self) -> usize {
        self.by_name.names_kept() + self.by_ip.names_kept()
    }
}

/// Drops the shared table's ended windows (a no-op on SQLite). Run every [`SWEEP_INTERVAL`] by each process;
/// concurrent sweeps delete the same rows harmlessly.
pub async fn sweep(db: &DatabaseConnection) -> Result<u64, DomainError> {
    if db.get_database_backend() != DbBackend::Postgres {
        return Ok(0);
    }
    // A minute of slack: budget windows follow each process's own clock.
    let sql = format!("DELETE FROM limit_counters WHERE expires_at < {DB_NOW} - 60");
    Ok(db.execute(Statement::from_string(DbBackend::Postgres, sql)).await?.rows_affected())
}

/// One key's count in the current budget window, as this process knows it.
#[derive(Debug, Default)]
struct BudgetCount {
    /// The window (minutes since the Unix epoch) the counts belong to.
    minute: u64,
    /// The deployment's total as last read from the shared table (0 on SQLite).
    shared_total: u32,
    /// Requests this process admitted and has not yet added to the shared total.
    unsent: u32,
}

/// Each key's count of the current window, by Key ID.
type BudgetCounts = crate::fast_map::FastMap<String, BudgetCount>;

/// Per-key request budgets: the company's requests per minute for each of its keys, counted locally and, on
/// PostgreSQL, synced every [`BUDGET_SYNC_INTERVAL`] (see the module's documentation for the bound).
pub struct Budgets {
    counts: Mutex<BudgetCounts>,
    shared: Option<DatabaseConnection>,
    /// One sync at a time: two would both send the same unsent counts.
    syncing: tokio::sync::Mutex<()>,
}

/// Keys one process counts at most; beyond it the counts of ended windows go first, then the map starts over.
const MAX_BUDGET_KEYS: usize = 250_000;

fn unix_now() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default()
}

impl Budgets {
    /// Counted in this process only.
    pub fn in_process() -> Self {
        Budgets { counts: Mutex::new(BudgetCounts::default()), shared: None, syncing: tokio::sync::Mutex::new(()) }
    }

    /// Shared through `db` when it is PostgreSQL.
    pub fn for_database(db: &DatabaseConnection) -> Self {
        let shared = (db.get_database_backend() == DbBackend::Postgres).then(|| db.clone());
        Budgets { counts: Mutex::new(BudgetCounts::default()), shared, syncing: tokio::sync::Mutex::new(()) }
    }

    /// Whether counts are shared (and [`Budgets::sync`] has work to do).
    pub fn is_shared(&self) -> bool {
        self.shared.is_some()
    }

    fn counts(&self) -> std::sync::MutexGuard<'_, BudgetCounts> {
        self.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a request of `key_id` against `budget` per minute, or the seconds until the minute ends.
    pub fn spend(&self, key_id: &str, budget: u32) -> Result<(), u64> {
        self.spend_at(key_id, budget, unix_now())
    }

    fn spend_at(&self, key_id: &str, budget: u32, now: Duration) -> Result<(), u64> {
        let minute = now.as_secs() / BUDGET_WINDOW_SECS;
        let mut counts = self.counts();
        if counts.len() >= MAX_BUDGET_KEYS && !counts.contains_key(key_id) {
            counts.retain(|_, count| count.minute == minute);
            if counts.len() >= MAX_BUDGET_KEYS {
                counts.clear();
            }
        }
        // Found by the borrowed ID: only a key's first request of the window copies it.
        let count = counts.entry_ref(key_id).or_default();
        if count.minute != minute {
            *count = BudgetCount { minute, ..BudgetCount::default() };
        }
        if count.shared_total.saturating_add(count.unsent) >= budget {
            return Err((BUDGET_WINDOW_SECS - now.as_secs() % BUDGET_WINDOW_SECS).max(1));
        }
        count.unsent += 1;
        Ok(())
    }

    /// Adds this process's unsent counts of the current minute to the shared totals and reads the totals back
    /// (so it also learns what other processes admitted), for the keys it admitted requests of since the last
    /// sync; drops the counts of ended minutes. A no-op on SQLite.
    pub async fn sync(&self) -> Result<(), DomainError> {
        let Some(db) = &self.shared else { return Ok(()) };
        let _one_at_a_time = self.syncing.lock().await;
        let minute = unix_now().as_secs() / BUDGET_WINDOW_SECS;
        // Only the keys this process admitted requests of since its last sync: their rows take the new counts
        // and give back the totals. A key idle here keeps the total it last read until its next request is
        // sent, which admits at most one interval's requests on an older total (the same bound). Sorted, so
        // two processes' statements lock rows in one order.
        let mut sending: Vec<(String, u32)> = {
            let mut counts = self.counts();
            counts.retain(|_, count| count.minute == minute);
            counts.iter().filter(|(_, count)| count.unsent > 0).map(|(key_id, count)| (key_id.clone(), count.unsent)).collect()
        };
        sending.sort_unstable();
        let window_start = i64::try_from(minute * BUDGET_WINDOW_SECS).unwrap_or(i64::MAX);
        for chunk in sending.chunks(KEYS_PER_SYNC_STATEMENT) {
            let mut rows = Vec::with_capacity(chunk.len());
            let mut values: Vec<Value> = Vec::with_capacity(chunk.len() * 2 + 1);
            values.push(window_start.into());
            for (key_id, unsent) in chunk {
                let n = values.len();
                rows.push(format!("(${}, $1, $1 + {BUDGET_WINDOW_SECS}, ${})", n + 1, n + 2));
                values.push(format!("budget:{key_id}").into());
                values.push(i32::try_from(*unsent).unwrap_or(i32::MAX).into());
            }
            let sql = format!(
                "INSERT INTO limit_counters (name, window_start, expires_at, hits) VALUES {} \
                 ON CONFLICT (name) DO UPDATE SET \
                   hits = CASE WHEN excluded.window_start > limit_counters.window_start THEN excluded.hits \
                               WHEN excluded.window_start = limit_counters.window_start THEN limit_counters.hits + excluded.hits \
                               ELSE limit_counters.hits END, \
                   window_start = GREATEST(limit_counters.window_start, excluded.window_start), \
                   expires_at = GREATEST(limit_counters.expires_at, excluded.expires_at) \
                 RETURNING name, window_start, hits",
                rows.join(", ")
            );
            let totals = db.query_all(Statement::from_sql_and_values(DbBackend::Postgres, sql, values)).await?;
            let sent: HashMap<&str, u32> = chunk.iter().map(|(key_id, unsent)| (key_id.as_str(), *unsent)).collect();
            let mut counts = self.counts();
            for row in totals {
                let name: String = row.try_get("", "name")?;
                let row_window: i64 = row.try_get("", "window_start")?;
                let total: i32 = row.try_get("", "hits")?;
                let Some(key_id) = name.strip_prefix("budget:") else { continue };
                if let Some(count) = counts.get_mut(key_id).filter(|count| count.minute == minute && row_window == window_start) {
                    count.unsent -= sent.get(key_id).copied().unwrap_or(0).min(count.unsent);
                    count.shared_total = u32::try_from(total).unwrap_or(0);
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GUESSES: Limit = Limit { scope: "test", max: 3, window: Duration::from_secs(60) };

    #[tokio::test]
    async fn an_in_process_counter_refuses_at_its_bound_and_a_refund_gives_the_event_back() {
        let counter = Counter::in_process(GUESSES);
        let mut counted = Vec::new();
        for _ in 0..3 {
            match counter.attempt("Key00001").await.unwrap() {
                Attempt::Counted(event) => counted.push(event),
                Attempt::Over { .. } => panic!("under the bound"),
            }
        }
        assert!(matches!(counter.attempt("Key00001").await.unwrap(), Attempt::Over { retry_after } if (1..=60).contains(&retry_after)));
        assert!(counter.blocked("Key00001").await.unwrap().is_some());
        assert_eq!(counter.blocked("Key00002").await.unwrap(), None, "other names are unaffected");
        counter.refund(counted.pop().unwrap()).await.unwrap();
        assert_eq!(counter.blocked("Key00001").await.unwrap(), None, "a refunded event does not count");
    }

    #[tokio::test]
    async fn an_ipv6_host_cannot_escape_its_bound_by_changing_addresses_within_its_64() {
        let bounds = FailureBounds::new(Counter::in_process(Limit { max: 100, ..GUESSES }), Counter::in_process(GUESSES));
        for n in 0..3 {
            bounds.attempt(&format!("account{n}"), Some(&format!("2001:db8:1:2::{n:x}"))).await.unwrap().unwrap();
        }
        assert!(bounds.ip_blocked(Some("2001:db8:1:2:ffff::1")).await.unwrap().is_some());
        assert!(bounds.ip_blocked(Some("2001:db8:1:3::1")).await.unwrap().is_none());
    }

    #[tokio::test]
    async fn an_attempt_refused_for_its_address_does_not_count_against_its_name() {
        let bounds = FailureBounds::new(Counter::in_process(GUESSES), Counter::in_process(Limit { max: 1, ..GUESSES }));
        bounds.attempt("Key00001", Some("10.0.0.1")).await.unwrap().unwrap();
        for _ in 0..5 {
            assert!(bounds.attempt("Key00002", Some("10.0.0.1")).await.unwrap().is_err());
        }
        assert_eq!(bounds.by_name.names_kept(), 1, "Key00002 was never counted");
        assert!(bounds.attempt("Key00002", Some("10.0.0.2")).await.unwrap().is_ok());
    }

    #[tokio::test]
    async fn an_attempt_refused_for_its_name_does_not_count_against_its_address() {
        let bounds = FailureBounds::new(Counter::in_process(Limit { max: 1, ..GUESSES }), Counter::in_process(Limit { max: 2, ..GUESSES }));
        bounds.attempt("Key00001", Some("10.0.0.1")).await.unwrap().unwrap();
        for _ in 0..5 {
            assert!(bounds.attempt("Key00001", Some("10.0.0.1")).await.unwrap().is_err());
        }
        assert!(bounds.attempt("Key00002", Some("10.0.0.1")).await.unwrap().is_ok(), "the address used one of its two");
    }

    #[test]
    fn a_budget_refuses_the_request_over_it_until_the_minute_ends() {
        let budgets = Budgets::in_process();
        let start = Duration::from_secs(1_800_000_000 / 60 * 60 + 15);
        for _ in 0..3 {
            assert_eq!(budgets.spend_at("Key00001", 3, start), Ok(()));
        }
        assert_eq!(budgets.spend_at("Key00001", 3, start), Err(45));
        assert_eq!(budgets.spend_at("Key00002", 3, start), Ok(()), "budgets are per key");
        assert_eq!(budgets.spend_at("Key00001", 3, start + Duration::from_secs(45)), Ok(()), "a new minute, a new budget");
    }

    #[test]
    fn a_budget_counts_what_the_other_processes_reported() {
        let budgets = Budgets::in_process();
        let now = Duration::from_secs(1_800_000_000);
        budgets.spend_at("Key00001", 10, now).unwrap();
        budgets.counts().get_mut("Key00001").unwrap().shared_total = 9;
        assert!(budgets.spend_at("Key00001", 10, now).is_err(), "9 elsewhere and 1 here make 10");
    }
}
