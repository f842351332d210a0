//! Reading care data with the visibility rules of the app: everything is limited to the viewer's company,
//! and caregivers see only the visits and messages that are theirs.
use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select};

use crate::entity::{message, open_shift, patient, user, visit};
use crate::model::{CaregiverView, CurrentUser, MessageView, OpenShiftView, PatientView, VisitView};
use crate::{DomainError, Role};

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
fn visible_visits(viewer: &CurrentUser) -> Select<visit::Entity> {
    let query = visit::Entity::find().filter(visit::Column::CompanyId.eq(viewer.company_id));
    if viewer.role == Role::Caregiver {
        query.filter(visit::Column::CaregiverId.eq(viewer.id))
    } else {
        query
    }
}

/// Visits the viewer may see, earliest first, optionally within a window.
pub async fn visits(db: &impl ConnectionTrait, viewer: &CurrentUser, window: Option<Window>) -> Result<Vec<VisitView>, DomainError> {
    let mut query = visible_visits(viewer);
    if let Some(from) = window.and_then(|window| window.from) {
        query = query.filter(visit::Column::StartsAt.gte(from));
    }
    if let Some(to) = window.and_then(|window| window.to) {
        query = query.filter(visit::Column::StartsAt.lt(to));
    }
    let rows = query.order_by_asc(visit::Column::StartsAt).order_by_asc(visit::Column::Id).all(db).await?;
    visit_views(db, rows).await
}

/// One visit, if the viewer may see it; another company's or (for caregivers) another caregiver's is 404.
pub async fn visit(db: &impl ConnectionTrait, viewer: &CurrentUser, id: i32) -> Result<VisitView, DomainError> {
    let row = visible_visits(viewer).filter(visit::Column::Id.eq(id)).one(db).await?.ok_or(DomainError::NotFound("Visit"))?;
    visit_views(db, vec![row]).await?.pop().ok_or(DomainError::NotFound("Visit"))
}

/// Adds patient and caregiver names to visit rows, loading only the patients and caregivers they name.
async fn visit_views(db: &impl ConnectionTrait, rows: Vec<visit::Model>) -> Result<Vec<VisitView>, DomainError> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let patient_ids: Vec<i32> = rows.iter().map(|row| row.patient_id).collect();
    let caregiver_ids: Vec<i32> = rows.iter().map(|row| row.caregiver_id).collect();
    let patients: HashMap<i32, patient::Model> =
        patient::Entity::find().filter(patient::Column::Id.is_in(patient_ids)).all(db).await?.into_iter().map(|p| (p.id, p)).collect();
    let names: HashMap<i32, String> =
        user::Entity::find().filter(user::Column::Id.is_in(caregiver_ids)).all(db).await?.into_iter().map(|u| (u.id, u.name)).collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let patient = patients.get(&row.patient_id);
            VisitView {
                id: row.id,
                patient_name: patient.map(|p| p.name.clone()).unwrap_or_default(),
                patient_address: patient.map(|p| p.address.clone()).unwrap_or_default(),
                caregiver_id: row.caregiver_id,
                caregiver_name: names.get(&row.caregiver_id).cloned().unwrap_or_default(),
                starts_at: row.starts_at,
                ends_at: row.ends_at,
                status: row.status,
            }
        })
        .collect())
}

/// The company's patients, by name. Caregivers have no patient list: 403.
pub async fn patients(db: &impl ConnectionTrait, viewer: &CurrentUser) -> Result<Vec<PatientView>, DomainError> {
    if viewer.role == Role::Caregiver {
        return Err(DomainError::Forbidden("Caregivers cannot list patients".into()));
    }
    let rows = patient::Entity::find().filter(patient::Column::CompanyId.eq(viewer.company_id)).order_by_asc(patient::Column::Name).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| PatientView { id: row.id, name: row.name, address: row.address, phone: row.phone, care_notes: row.care_notes })
        .collect())
}

/// Messages the viewer sent or received, newest first.
pub async fn messages(db: &impl ConnectionTrait, viewer: &CurrentUser) -> Result<Vec<MessageView>, DomainError> {
    let rows = message::Entity::find()
        .filter(message::Column::CompanyId.eq(viewer.company_id))
        .filter(Condition::any().add(message::Column::RecipientId.eq(viewer.id)).add(message::Column::SenderId.eq(viewer.id)))
        .order_by_desc(message::Column::SentAt)
        .all(db)
        .await?;
    let names = crate::accounts::names_in_company(db, viewer.company_id).await?;
    let name_of = |id: i32| names.get(&id).cloned().unwrap_or_default();
    Ok(rows
        .into_iter()
        .map(|row| MessageView {
            id: row.id,
            sender_name: name_of(row.sender_id),
            recipient_name: name_of(row.recipient_id),
            subject: row.subject,
            body: row.body,
            sent_at: row.sent_at,
        })
        .collect())
}

/// The company's open shifts, earliest first.
pub async fn open_shifts(db: &impl ConnectionTrait, viewer: &CurrentUser) -> Result<Vec<OpenShiftView>, DomainError> {
    let rows = open_shift::Entity::find()
        .filter(open_shift::Column::CompanyId.eq(viewer.company_id))
        .order_by_asc(open_shift::Column::StartsAt)
        .all(db)
        .await?;
    let patients = patients_by_id(db, viewer.company_id).await?;
    Ok(rows
        .into_iter()
        .map(|row| OpenShiftView {
            id: row.id,
            patient_name: patients.get(&row.patient_id).map(|p| p.name.clone()).unwrap_or_default(),
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            notes: row.notes,
        })
        .collect())
}

/// The company's caregivers (office roles only).
pub async fn caregivers(db: &impl ConnectionTrait, viewer: &CurrentUser) -> Result<Vec<CaregiverView>, DomainError> {
    if viewer.role == Role::Caregiver {
        return Err(DomainError::Forbidden("Caregivers cannot list caregivers".into()));
    }
    let rows = user::Entity::find()
        .filter(user::Column::CompanyId.eq(viewer.company_id))
        .filter(user::Column::Role.eq(Role::Caregiver))
        .order_by_asc(user::Column::Name)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|u| CaregiverView { id: u.id, name: u.name, email: u.email, active: u.active }).collect())
}

async fn patients_by_id(db: &impl ConnectionTrait, company_id: i32) -> Result<HashMap<i32, patient::Model>, DomainError> {
    Ok(patient::Entity::find().filter(patient::Column::CompanyId.eq(company_id)).all(db).await?.into_iter().map(|p| (p.id, p)).collect())
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
