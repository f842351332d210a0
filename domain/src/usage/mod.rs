//! Per-key usage for a key's details panel: requests per UTC day, MCP tool calls per tool, and the addresses and
//! clients a key was used from. Cheap to keep: every authenticated request and tool call adds a [`UsageHit`] to
//! the [`ActivityWriter`]'s running tally in memory ([`Tally`]), which it writes every 100 ms as one upsert per
//! table — no write on the request path, no scan of the activity feed.
use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::activity::{untrusted_text, Origin};
use crate::activity_writer::ActivityWriter;
use crate::db::DatabaseConnection;
use crate::keys::service::{self, Actor};
use crate::keys::token::KeyId;
use crate::model::{CurrentUser, KeyUsage, UsageDay};
use crate::DomainError;

pub(crate) mod store;

/// Days the panel's chart covers.
pub const CHART_DAYS: i64 = 30;
/// Distinct (address, client) pairs the panel lists.
const SOURCES_SHOWN: u64 = 5;
/// The longest tool name kept (its column's size); a longer one is not a tool of ours anyway.
const TOOL_MAX: usize = 64;
/// The longest client name kept (its column's size), as for Last Used.
const CLIENT_MAX: usize = 200;
/// The longest address kept (its column's size).
const IP_MAX: usize = 64;
/// (key, address, client) sources one tally keeps at most between two writes: the client's name is the
/// client's choice, so a flood of made-up names would otherwise grow it without bound. Requests and tool
/// calls are still counted beyond it. (The writer's parts each keep a tally, so up to four times this waits in
/// memory; the parts added up keep this many.)
const MAX_PENDING_SOURCES: usize = 10_000;

/// One thing to count, borrowed from the request: adding a repeat of something already in the tally copies
/// nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageHit<'a> {
    /// An authenticated request with a key (or an OAuth connection's token).
    Request { key_id: &'a str, at: DateTime<Utc>, ip: Option<&'a str>, client: Option<&'a str> },
    /// An MCP tool call (its request is counted as a request too).
    ToolCall { key_id: &'a str, tool: &'a str },
}

/// A map of the tally keyed by a key and facts of ours, keyed by text it owns and looked up by borrowed text
/// (see the probes below).
type Counts<K, V> = crate::fast_map::FastMap<K, V>;

/// The hits of one batch, added up: what the store writes.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct Tally {
    pub days: Counts<(String, NaiveDate), i64>,
    pub tools: Counts<(String, String), i64>,
    /// (key, address or "", client or "") → last seen.
    pub sources: crate::fast_map::GuardedMap<(String, String, String), DateTime<Utc>>,
}

/// A borrowed `(key, day)`: hashes as the owned tuple does (a `str` hashes as its `String`), so it finds it.
#[derive(Hash)]
struct DayProbe<'a>(&'a str, NaiveDate);

impl hashbrown::Equivalent<(String, NaiveDate)> for DayProbe<'_> {
    fn equivalent(&self, key: &(String, NaiveDate)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// A borrowed `(key, tool)`.
#[derive(Hash)]
struct ToolProbe<'a>(&'a str, &'a str);

impl hashbrown::Equivalent<(String, String)> for ToolProbe<'_> {
    fn equivalent(&self, key: &(String, String)) -> bool {
        self.0 == key.0 && self.1 == key.1
    }
}

/// A borrowed `(key, address, client)`.
#[derive(Hash)]
struct SourceProbe<'a>(&'a str, &'a str, &'a str);

impl hashbrown::Equivalent<(String, String, String)> for SourceProbe<'_> {
    fn equivalent(&self, key: &(String, String, String)) -> bool {
        self.0 == key.0 && self.1 == key.1 && self.2 == key.2
    }
}

impl Tally {
    pub fn add(&mut self, hit: UsageHit<'_>) {
        match hit {
            UsageHit::Request { key_id, at, ip, client } => {
                let day = at.date_naive();
                match self.days.get_mut(&DayProbe(key_id, day)) {
                    Some(requests) => *requests += 1,
                    None => {
                        self.days.insert((key_id.to_owned(), day), 1);
                    }
                }
                // Looked up as given first: text already clean is stored as given (cleaning is idempotent).
                let (ip, client) = (ip.unwrap_or_default(), client.unwrap_or_default());
                if let Some(seen) = self.sources.get_mut(&SourceProbe(key_id, ip, client)) {
                    *seen = (*seen).max(at);
                    return;
                }
                let source = (key_id.to_owned(), ip.chars().take(IP_MAX).collect(), untrusted_text(client, CLIENT_MAX));
                self.keep_source(source, at);
            }
            UsageHit::ToolCall { key_id, tool } => {
                let tool = tool.char_indices().nth(TOOL_MAX).map_or(tool, |(end, _)| &tool[..end]);
                match self.tools.get_mut(&ToolProbe(key_id, tool)) {
                    Some(calls) => *calls += 1,
                    None => {
                        self.tools.insert((key_id.to_owned(), tool.to_owned()), 1);
                    }
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.days.is_empty() && self.tools.is_empty() && self.sources.is_empty()
    }

    /// Adds another tally's counts to this one (the writer's parts, see [`ActivityWriter`]): requests and calls
    /// add up, a source keeps its latest time, and the sources stay within [`MAX_PENDING_SOURCES`].
    pub fn absorb(&mut self, other: Tally) {
        if self.is_empty() {
            *self = other;
            return;
        }
        for (day, requests) in other.days {
            *self.days.entry(day).or_default() += requests;
        }
        for (tool, calls) in other.tools {
            *self.tools.entry(tool).or_default() += calls;
        }
        for (source, seen) in other.sources {
            self.keep_source(source, seen);
        }
    }

    /// Keeps `source`'s latest time: a new source only while fewer than [`MAX_PENDING_SOURCES`] are kept.
    fn keep_source(&mut self, source: (String, String, String), seen: DateTime<Utc>) {
        if let Some(latest) = self.sources.get_mut(&source) {
            *latest = (*latest).max(seen);
        } else if self.sources.len() < MAX_PENDING_SOURCES {
            self.sources.insert(source, seen);
        }
    }
}

/// Counts an authenticated request of `key_id` (batched, see [`ActivityWriter`]).
pub fn count_request(writer: &ActivityWriter, key_id: &KeyId, origin: &Origin, at: DateTime<Utc>) {
    writer.count(UsageHit::Request { key_id: key_id.as_str(), at, ip: origin.ip.as_deref(), client: origin.user_agent.as_deref() });
}

/// A key's details panel: owners their own keys, Root Users any of their company's; anything else is "not found".
pub async fn for_key(db: &DatabaseConnection, viewer: &CurrentUser, key_id: &str, now: DateTime<Utc>) -> Result<KeyUsage, DomainError> {
    let key = service::get(db, &Actor::User(viewer), key_id, now).await?;
    let first_day = now.date_naive() - Duration::days(CHART_DAYS - 1);
    let counted: HashMap<NaiveDate, i64> = store::days(db, &key.key_id, first_day).await?.into_iter().collect();
    let days = (0..CHART_DAYS)
        .map(|offset| {
            let day = first_day + Duration::days(offset);
            UsageDay { day, requests: counted.get(&day).copied().unwrap_or(0).max(0) as u64 }
        })
        .collect();
    let sources = store::sources(db, &key.key_id, SOURCES_SHOWN).await?;
    let tools = store::tools(db, &key.key_id).await?;
    let (patients_read, top_patients) = crate::disclosures::key_reads(db, viewer.company_id, &key.key_id, now).await?;
    Ok(KeyUsage { key, days, sources, tools, patients_read, top_patients })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn request<'a>(key: &'a str, hour: u32, ip: &'a str, client: &'a str) -> UsageHit<'a> {
        let at = Utc.with_ymd_and_hms(2026, 12, 3, hour, 0, 0).unwrap();
        UsageHit::Request { key_id: key, at, ip: Some(ip), client: Some(client) }
    }

    #[test]
    fn a_batch_adds_up_requests_per_key_and_day_and_keeps_each_sources_latest_time() {
        let mut tally = Tally::default();
        tally.add(request("Key00001", 9, "10.0.0.1", "claude-code"));
        tally.add(request("Key00001", 11, "10.0.0.1", "claude-code"));
        tally.add(request("Key00001", 10, "10.0.0.2", "codex"));
        tally.add(request("Key00002", 10, "10.0.0.2", "codex"));
        let day = NaiveDate::from_ymd_opt(2026, 12, 3).unwrap();
        assert_eq!(tally.days[&("Key00001".to_owned(), day)], 3);
        assert_eq!(tally.days[&("Key00002".to_owned(), day)], 1);
        let latest = tally.sources[&("Key00001".to_owned(), "10.0.0.1".to_owned(), "claude-code".to_owned())];
        assert_eq!(latest, Utc.with_ymd_and_hms(2026, 12, 3, 11, 0, 0).unwrap());
        assert_eq!(tally.sources.len(), 3);
    }

    #[test]
    fn two_tallies_add_up_to_the_tally_of_all_their_hits() {
        let hits = [
            request("Key00001", 9, "10.0.0.1", "claude-code"),
            request("Key00001", 11, "10.0.0.1", "claude-code"),
            request("Key00002", 10, "10.0.0.2", "codex"),
            UsageHit::ToolCall { key_id: "Key00001", tool: "whoami" },
            UsageHit::ToolCall { key_id: "Key00001", tool: "whoami" },
            UsageHit::ToolCall { key_id: "Key00002", tool: "list_visits" },
        ];
        let mut whole = Tally::default();
        let (mut first, mut second) = (Tally::default(), Tally::default());
        for (n, hit) in hits.into_iter().enumerate() {
            whole.add(hit);
            if n % 2 == 0 {
                first.add(hit)
            } else {
                second.add(hit)
            }
        }
        first.absorb(second);
        assert_eq!(first, whole);
        let mut empty = Tally::default();
        empty.absorb(first);
        assert_eq!(empty, whole, "absorbed into an empty tally");
    }

    #[test]
    fn tool_calls_are_counted_per_tool_and_a_clients_name_loses_its_control_characters() {
        let mut tally = Tally::default();
        for tool in ["list_visits", "list_visits", "get_profile"] {
            tally.add(UsageHit::ToolCall { key_id: "Key00001", tool });
        }
        tally.add(request("Key00001", 9, "10.0.0.1", "evil\u{1b}[31m"));
        assert_eq!(tally.tools[&("Key00001".to_owned(), "list_visits".to_owned())], 2);
        assert_eq!(tally.tools[&("Key00001".to_owned(), "get_profile".to_owned())], 1);
        assert!(tally.sources.keys().any(|(_, _, client)| client == "evil[31m"));
        tally.add(request("Key00001", 10, "10.0.0.1", "evil\u{1b}[31m"));
        assert_eq!(tally.sources.len(), 1, "a repeat of a cleaned name finds its source");
        assert_eq!(tally.sources.values().next(), Some(&Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap()));
    }

    #[test]
    fn a_tool_name_longer_than_its_column_is_cut_at_a_character_boundary() {
        let mut tally = Tally::default();
        let long = "é".repeat(TOOL_MAX + 5);
        tally.add(UsageHit::ToolCall { key_id: "Key00001", tool: &long });
        tally.add(UsageHit::ToolCall { key_id: "Key00001", tool: &long });
        assert_eq!(tally.tools[&("Key00001".to_owned(), "é".repeat(TOOL_MAX))], 2);
    }
}
