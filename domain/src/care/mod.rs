//! Reading care data with the visibility rules of the app: everything is limited to the viewer's company,
//! and caregivers see only the visits and messages that are theirs. The rules are here; the queries are in
//! [`store`].
use crate::db::ConnectionTrait;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};

use crate::model::{CaregiverView, CurrentUser, MessageView, OpenShiftView, PatientView, VisitView};
use crate::{DomainError, Role};

pub(crate) mod store;

/// A half-open time window `[from, to)`; a missing bound is no bound (the query leaves it out, so no sentinel
/// date ever reaches the database, where SQLite would compare it as text and PostgreSQL refuse it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// The days a date argument may name (clients send dates from people and models; anything outside is a typo).
pub const FIRST_DAY: NaiveDate = NaiveDate::from_ymd_opt(1900, 1, 1).expect("a valid constant date");
pub const LAST_DAY: NaiveDate = NaiveDate::from_ymd_opt(2200, 12, 31).expect("a valid constant date");

fn check_day(day: NaiveDate, what: &str) -> Result<NaiveDate, DomainError> {
    if (FIRST_DAY..=LAST_DAY).contains(&day) {
        Ok(day)
    } else {
        Err(DomainError::Invalid(format!("{what} must be a date between {FIRST_DAY} and {LAST_DAY}, got {day}")))
    }
}

fn day_start(day: NaiveDate) -> DateTime<Utc> {
    day.and_time(NaiveTime::MIN).and_utc()
}

impl Window {
    /// From the start of `from` to the end of `to` (both optional, both inclusive days, UTC). Out-of-range or
    /// reversed days are refused with a message that names them.
    pub fn days(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<Window, DomainError> {
        let from = from.map(|day| check_day(day, "from")).transpose()?;
        let to = to.map(|day| check_day(day, "to")).transpose()?;
        if let (Some(from), Some(to)) = (from, to) {
            if from > to {
                return Err(DomainError::Invalid(format!("from ({from}) is after to ({to})")));
            }
        }
        Ok(Window { from: from.map(day_start), to: to.map(|day| day_start(day) + Duration::days(1)) })
    }

    /// The week (Monday to Sunday, UTC) that contains `day`, and its Monday.
    pub fn week_of(day: NaiveDate) -> Result<(NaiveDate, Window), DomainError> {
        let day = check_day(day, "date")?;
        let monday = day - Duration::days(i64::from(day.weekday().num_days_from_monday()));
        Ok((monday, Window { from: Some(day_start(monday)), to: Some(day_start(monday) + Duration::days(7)) }))
    }

    /// Seven days from the start of `day` (UTC).
    pub fn seven_days_from(day: NaiveDate) -> Window {
        Window { from: Some(day_start(day)), to: Some(day_start(day) + Duration::days(7)) }
    }
}

/// The visits the viewer may see: the company's for office roles, their own for caregivers.
fn visible_visits(viewer: &CurrentUser, id: Option<i32>, window: Option<Window>) -> store::VisitQuery {
    let caregiver = (viewer.role == Role::Caregiver).then_some(viewer.id);
    store::VisitQuery { company_id: viewer.company_id, caregiver, id, window }
}

/// Visits the viewer may see, earliest first, optionally within a window.
pub async fn visits(db: &impl ConnectionTrait, viewer: &CurrentUser, window: Option<Window>) -> Result<Vec<VisitView>, DomainError> {
    store::visits(db, visible_visits(viewer, None, window)).await
}

/// One visit, if the viewer may see it; another company's or (for caregivers) another caregiver's is 404.
pub async fn visit(db: &impl ConnectionTrait, viewer: &CurrentUser, id: i32) -> Result<VisitView, DomainError> {
    store::visits(db, visible_visits(viewer, Some(id), None)).await?.pop().ok_or(DomainError::NotFound("Visit"))
}

/// The company's patients, by name. Caregivers have no patient list: 403.
pub async fn patients(db: &impl ConnectionTrait, viewer: &CurrentUser) -> Result<Vec<PatientView>, DomainError> {
    if viewer.role == Role::Caregiver {
        return Err(DomainError::Forbidden("Caregivers cannot list patients".into()));
    }
    store::patients(db, viewer.company_id).await
}

/// Messages the viewer sent or received, newest first.
pub async fn messages(db: &impl ConnectionTrait, viewer: &CurrentUser) -> Result<Vec<MessageView>, DomainError> {
    store::messages(db, viewer.company_id, viewer.id).await
}

/// The company's open shifts, earliest first.
pub async fn open_shifts(db: &impl ConnectionTrait, viewer: &CurrentUser) -> Result<Vec<OpenShiftView>, DomainError> {
    store::open_shifts(db, viewer.company_id).await
}

/// The company's caregivers (office roles only).
pub async fn caregivers(db: &impl ConnectionTrait, viewer: &CurrentUser) -> Result<Vec<CaregiverView>, DomainError> {
    if viewer.role == Role::Caregiver {
        return Err(DomainError::Forbidden("Caregivers cannot list caregivers".into()));
    }
    crate::accounts::caregivers(db, viewer.company_id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(raw: &str) -> NaiveDate {
        raw.parse().unwrap()
    }

    #[test]
    fn a_window_has_only_the_bounds_it_was_given() {
        assert_eq!(Window::days(None, None).unwrap(), Window { from: None, to: None });
        let from_only = Window::days(Some(day("2026-11-01")), None).unwrap();
        assert_eq!(from_only.from, Some(day_start(day("2026-11-01"))));
        assert_eq!(from_only.to, None);
        let to_only = Window::days(None, Some(day("2026-11-01"))).unwrap();
        assert_eq!(to_only.to, Some(day_start(day("2026-11-02"))), "the last day is included");
        assert_eq!(to_only.from, None);
    }

    #[test]
    fn reversed_and_out_of_range_days_are_refused_with_their_names() {
        let reversed = Window::days(Some(day("2026-11-05")), Some(day("2026-11-01"))).unwrap_err().to_string();
        assert_eq!(reversed, "from (2026-11-05) is after to (2026-11-01)");
        let extreme = Window::days(None, Some(NaiveDate::MAX)).unwrap_err().to_string();
        assert!(extreme.starts_with("to must be a date between 1900-01-01 and 2200-12-31"), "{extreme}");
        assert!(Window::days(Some(NaiveDate::MIN), None).is_err());
        assert!(Window::week_of(NaiveDate::MAX).is_err() && Window::week_of(NaiveDate::MIN).is_err());
        assert!(Window::days(Some(FIRST_DAY), Some(LAST_DAY)).is_ok(), "the bounds themselves are fine");
    }

    #[test]
    fn a_week_runs_monday_to_sunday() {
        let (monday, window) = Window::week_of(day("2026-11-22")).unwrap();
        assert_eq!(monday, day("2026-11-16"));
        assert_eq!(window.to.unwrap() - window.from.unwrap(), Duration::days(7));
    }
}
