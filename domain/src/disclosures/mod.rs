//! Accounting of disclosures: which patients' records each MCP tool call returned, through which key or
//! connection, to which client — recorded through the batching [`ActivityWriter`], listed with the app's
//! visibility, exported as CSV, and deleted with the activity feed after the company's retention.
//!
//! Who sees what: Root Users every disclosure of their company; everyone else only those their own keys and
//! connections made (a disclosure names the staff member behind it, which is activity, and the activity feed
//! shows people only their own). Another company's patient or key is "not found".
use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, Months, Utc};

use crate::activity::{self, Action, NewEvent, Origin};
use crate::activity_writer::ActivityWriter;
use crate::actor::Actor;
use crate::care::Window;
use crate::db::{ConnectionTrait, DatabaseConnection};
use crate::keys::service;
use crate::model::{CompanyId, CurrentUser, DisclosureFilter, DisclosurePage, DisclosureView, PatientReads, UserId};
use crate::{DomainError, Role};

pub(crate) mod store;

/// Rows per page at most: a page is read in two indexed queries, whatever its size.
pub const MAX_PER_PAGE: u32 = 200;
/// Rows a listing counts at most: beyond it the page says "10 000+" (counting every read of a much-read patient
/// would make the panel's cost grow with the company's history).
pub const COUNT_CAP: u64 = 10_000;
/// Rows in one CSV export at most (a patient read every few minutes for six years stays under it).
pub const MAX_CSV_ROWS: u64 = 100_000;
/// Patients the key details panel names.
pub const TOP_PATIENTS: usize = 5;
/// Days the key details panel counts.
pub const READS_DAYS: i64 = 30;
/// The company's retention when nobody chose one, and its bounds.
pub const DEFAULT_RETENTION_YEARS: u32 = 6;
pub const RETENTION_YEARS: std::ops::RangeInclusive<u32> = 1..=10;
/// Rows one retention statement deletes at most: short transactions, no table-wide lock.
pub const PURGE_BATCH: u64 = 1_000;

/// One tool call that returned patients' records.
pub struct NewDisclosure {
    pub company_id: CompanyId,
    /// The key's or the connection's Key ID.
    pub key_id: String,
    pub owner: UserId,
    /// The key's label or the connected app's name, kept should the key later be deleted.
    pub label: String,
    pub connection: bool,
    /// The MCP client's name, else its User-Agent: outsiders' text, cleaned when stored.
    pub client: Option<String>,
    pub tool: String,
    pub at: DateTime<Utc>,
    /// The patients in the result, each once.
    pub patients: Vec<i32>,
}

/// Queues a disclosure for the batching writer (nothing for an empty result); no write on the request path.
pub async fn record(writer: &ActivityWriter, mut disclosure: NewDisclosure) {
    let mut seen = HashSet::new();
    disclosure.patients.retain(|id| seen.insert(*id));
    if !disclosure.patients.is_empty() {
        writer.disclose(disclosure).await;
    }
}

/// A disclosure's id: its time in microseconds and 10 random bits, so ids sort by time and a batch can store
/// calls and their patients without reading ids back (two calls would need the same microsecond and the same
/// random bits to collide).
fn disclosure_id(at: DateTime<Utc>, random: u16) -> i64 {
    at.timestamp_micros().max(0) * 1024 + i64::from(random % 1024)
}

/// One patient's or one key's disclosures, newest first, as the viewer may see them.
pub async fn list(db: &DatabaseConnection, viewer: &CurrentUser, filter: DisclosureFilter) -> Result<DisclosurePage, DomainError> {
    let per_page = filter.per_page.clamp(1, MAX_PER_PAGE);
    let page = filter.page.max(1);
    let window = Window::days(filter.from, filter.to)?;
    let key_id = visible_key(db, viewer, filter.key_id.as_deref()).await?;
    if let Some(patient_id) = filter.patient_id {
        if !store::patient_exists(db, viewer.company_id, patient_id).await? {
            return Err(DomainError::NotFound("Patient"));
        }
    } else if key_id.is_none() {
        return Err(DomainError::Invalid("Choose a patient or a key".to_owned()));
    }
    let query = store::RowQuery {
        company_id: viewer.company_id,
        patient_id: filter.patient_id,
        key_id: key_id.as_deref(),
        owner: (viewer.role != Role::Root).then_some(viewer.id),
        from: window.from,
        to: window.to,
    };
    let counted = store::count_up_to(db, &query, COUNT_CAP + 1).await?;
    let rows = store::page(db, &query, u64::from(page - 1) * u64::from(per_page), u64::from(per_page)).await?;
    Ok(DisclosurePage {
        rows: views(db, viewer.company_id, rows).await?,
        total: counted.min(COUNT_CAP),
        total_capped: counted > COUNT_CAP,
        page,
        per_page,
    })
}

/// The Key ID to filter on, when the viewer may see that key (owners their own, Root Users their company's).
async fn visible_key(db: &DatabaseConnection, viewer: &CurrentUser, key_id: Option<&str>) -> Result<Option<String>, DomainError> {
    match key_id.map(str::trim).filter(|key_id| !key_id.is_empty()) {
        Some(key_id) => Ok(Some(service::get(db, &Actor::User(viewer), key_id, Utc::now()).await?.key_id)),
        None => Ok(None),
    }
}

async fn views(db: &DatabaseConnection, company_id: CompanyId, rows: Vec<store::StoredDisclosure>) -> Result<Vec<DisclosureView>, DomainError> {
    let patient_ids: Vec<i32> = rows.iter().map(|row| row.patient_id).collect::<HashSet<_>>().into_iter().collect();
    let patients = store::patient_names(db, company_id, patient_ids).await?;
    let owners = crate::accounts::names_in_company(db, company_id).await?;
    let mut connections = HashMap::new();
    for row in rows.iter().filter(|row| row.connection) {
        if !connections.contains_key(&row.key_id) {
            let app = crate::keys::store::find(db, &row.key_id).await?.and_then(|key| key.view(Utc::now()).connection);
            connections.insert(row.key_id.clone(), app);
        }
    }
    Ok(rows
        .into_iter()
        .map(|row| DisclosureView {
            at: row.at,
            patient_id: row.patient_id,
            patient_name: patients.get(&row.patient_id).cloned().unwrap_or_default(),
            owner_id: row.owner,
            owner_name: owners.get(&row.owner).cloned().unwrap_or_default(),
            connection: connections.get(&row.key_id).cloned().flatten(),
            key_id: row.key_id,
            key_label: row.label,
            client: row.client,
            tool: row.tool,
        })
        .collect())
}

/// One patient's disclosures as CSV (`date,recipient,description,credential`), newest first, for the given
/// days or else the company's retention; the same visibility as [`list`].
pub async fn csv(
    db: &DatabaseConnection,
    viewer: &CurrentUser,
    patient_id: i32,
    from: Option<chrono::NaiveDate>,
    to: Option<chrono::NaiveDate>,
    now: DateTime<Utc>,
) -> Result<String, DomainError> {
    let from = match from {
        Some(from) => from,
        None => {
            let years = store::retention_years(db, viewer.company_id).await?;
            now.date_naive().checked_sub_months(Months::new(12 * years)).unwrap_or(crate::care::FIRST_DAY)
        }
    };
    let mut out = String::from("date,recipient,description,credential\r\n");
    let mut page = 1;
    let mut written = 0;
    loop {
        let filter = DisclosureFilter { patient_id: Some(patient_id), key_id: None, from: Some(from), to, page, per_page: MAX_PER_PAGE };
        let rows = list(db, viewer, filter).await?.rows;
        let done = rows.len() < MAX_PER_PAGE as usize;
        for row in rows {
            out.push_str(&csv_line(&row));
            written += 1;
        }
        if done || written >= MAX_CSV_ROWS {
            return Ok(out);
        }
        page += 1;
    }
}

/// One CSV line: who received the records (the client, for the key's owner), what (the tool and patient), and
/// through which credential.
fn csv_line(row: &DisclosureView) -> String {
    let recipient = format!("{} (for {})", row.client.as_deref().unwrap_or("unknown client"), row.owner_name);
    let description = format!("Records of {} (patient {}) returned by the MCP tool {}", row.patient_name, row.patient_id, row.tool);
    let credential = match &row.connection {
        Some(app) => format!("Connected app {} ({}), Key ID {}", app.client_name, app.origin.describe(), row.key_id),
        None => format!("API key {} ({})", row.key_label, row.key_id),
    };
    let cells = [row.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), recipient, description, credential];
    let mut line = cells.iter().map(|cell| csv_cell(cell)).collect::<Vec<_>>().join(",");
    line.push_str("\r\n");
    line
}

/// A CSV cell that a spreadsheet reads as text: quoted, quotes doubled, and a leading `=`, `+`, `-` or `@`
/// (a formula) prefixed with `'`.
fn csv_cell(value: &str) -> String {
    let value = if value.starts_with(['=', '+', '-', '@']) { format!("'{value}") } else { value.to_owned() };
    format!("\"{}\"", value.replace('"', "\"\""))
}

/// How many distinct patients a key disclosed over the last [`READS_DAYS`] days, and its most-read ones.
pub(crate) async fn key_reads(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    key_id: &str,
    now: DateTime<Utc>,
) -> Result<(u64, Vec<PatientReads>), DomainError> {
    let reads = store::reads_by_patient(db, company_id, key_id, now - Duration::days(READS_DAYS)).await?;
    let top: Vec<(i32, u64)> = reads.iter().take(TOP_PATIENTS).copied().collect();
    let names = store::patient_names(db, company_id, top.iter().map(|(id, _)| *id).collect()).await?;
    let top = top
        .into_iter()
        .map(|(patient_id, reads)| PatientReads { patient_id, patient_name: names.get(&patient_id).cloned().unwrap_or_default(), reads })
        .collect();
    Ok((reads.len() as u64, top))
}

/// How many years the viewer's company keeps activity and disclosure records.
pub async fn retention(db: &impl ConnectionTrait, viewer: &CurrentUser) -> Result<u32, DomainError> {
    store::retention_years(db, viewer.company_id).await
}

/// Changes the company's retention (Root Users, 1–10 years), on the activity feed.
pub async fn set_retention(
    db: &DatabaseConnection,
    viewer: &CurrentUser,
    years: u32,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<u32, DomainError> {
    use sea_orm::TransactionTrait;
    if viewer.role != Role::Root {
        return Err(DomainError::Forbidden("Only Root Users can change how long records are kept".to_owned()));
    }
    if !RETENTION_YEARS.contains(&years) {
        return Err(DomainError::Invalid(format!(
            "Records are kept between {} and {} years, not {years}",
            RETENTION_YEARS.start(),
            RETENTION_YEARS.end()
        )));
    }
    let txn = db.begin().await?;
    store::set_retention_years(&txn, viewer.company_id, years).await?;
    let event = NewEvent {
        company_id: viewer.company_id,
        actor_user_id: Some(viewer.id),
        key_id: None,
        action: Action::RecordRetentionChanged,
        target: format!("Activity and disclosure records kept for {years} years"),
        origin,
        at: now,
    };
    activity::record(&txn, event).await?;
    txn.commit().await?;
    Ok(years)
}

/// What one retention run deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub events: u64,
    pub disclosures: u64,
}

/// The oldest moment a company keeping records `years` years still keeps.
fn kept_since(now: DateTime<Utc>, years: u32) -> DateTime<Utc> {
    now.checked_sub_months(Months::new(12 * years)).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Deletes every company's activity events and disclosures older than its retention, [`PURGE_BATCH`] rows per
/// statement. Safe to run on several nodes at once: each statement deletes rows by primary key, and a row
/// another node deleted first is simply not there.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<Purged, DomainError> {
    let mut purged = Purged::default();
    for (company_id, years) in store::retentions(db).await? {
        let before = kept_since(now, years);
        loop {
            let deleted = store::delete_old_disclosures(db, company_id, before, PURGE_BATCH).await?;
            purged.disclosures += deleted;
            if deleted < PURGE_BATCH {
                break;
            }
        }
        loop {
            let deleted = store::delete_old_events(db, company_id, before, PURGE_BATCH).await?;
            purged.events += deleted;
            if deleted < PURGE_BATCH {
                break;
            }
        }
    }
    Ok(purged)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn disclosure_ids_sort_by_time() {
        let earlier = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
        let later = earlier + Duration::microseconds(1);
        assert!(disclosure_id(earlier, u16::MAX) < disclosure_id(later, 0));
        assert!(disclosure_id(Utc.with_ymd_and_hms(2200, 1, 1, 0, 0, 0).unwrap(), u16::MAX) > 0, "no overflow for centuries");
    }

    #[test]
    fn a_formula_in_a_csv_cell_is_read_as_text() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "\"'+1\"");
        assert_eq!(csv_cell("-1"), "\"'-1\"");
        assert_eq!(csv_cell("@SUM"), "\"'@SUM\"");
        assert_eq!(csv_cell("Claude, the app"), "\"Claude, the app\"");
    }

    #[test]
    fn records_are_kept_for_whole_years() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 10, 0, 0).unwrap();
        assert_eq!(kept_since(now, 6), Utc.with_ymd_and_hms(2020, 12, 3, 10, 0, 0).unwrap());
        assert_eq!(kept_since(now, 1), Utc.with_ymd_and_hms(2025, 12, 3, 10, 0, 0).unwrap());
    }
}
