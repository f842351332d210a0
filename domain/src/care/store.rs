//! Storage of care data (visits, patients, messages, open shifts): the SeaORM queries behind [`crate::care`],
//! returning the view types. Who may see what is decided by the caller, which passes it in as a filter; the
//! inserts are for the demo data set.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::Window;
use crate::accounts;
use crate::entity::{message, open_shift, patient, user, visit};
use crate::model::{CompanyId, MessageView, OpenShiftView, PatientView, UserId, VisitStatus, VisitView};
use crate::DomainError;

/// Which of a company's visits to read.
pub(super) struct VisitQuery {
    pub company_id: CompanyId,
    /// Only this caregiver's.
    pub caregiver: Option<UserId>,
    /// Only this visit.
    pub id: Option<i32>,
    pub window: Option<Window>,
}

/// Visits earliest first, with their patients' and caregivers' names.
pub(super) async fn visits(db: &impl ConnectionTrait, query: VisitQuery) -> Result<Vec<VisitView>, DomainError> {
    let mut select = visit::Entity::find().filter(visit::Column::CompanyId.eq(query.company_id.0));
    if let Some(caregiver) = query.caregiver {
        select = select.filter(visit::Column::CaregiverId.eq(caregiver.0));
    }
    if let Some(id) = query.id {
        select = select.filter(visit::Column::Id.eq(id));
    }
    if let Some(from) = query.window.and_then(|window| window.from) {
        select = select.filter(visit::Column::StartsAt.gte(from));
    }
    if let Some(to) = query.window.and_then(|window| window.to) {
        select = select.filter(visit::Column::StartsAt.lt(to));
    }
    let rows = select.order_by_asc(visit::Column::StartsAt).order_by_asc(visit::Column::Id).all(db).await?;
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
                patient_id: row.patient_id,
                patient_name: patient.map(|p| p.name.clone()).unwrap_or_default(),
                patient_address: patient.map(|p| p.address.clone()).unwrap_or_default(),
                caregiver_id: UserId(row.caregiver_id),
                caregiver_name: names.get(&row.caregiver_id).cloned().unwrap_or_default(),
                starts_at: row.starts_at,
                ends_at: row.ends_at,
                status: row.status,
            }
        })
        .collect())
}

/// The company's patients, by name.
pub(super) async fn patients(db: &impl ConnectionTrait, company_id: CompanyId) -> Result<Vec<PatientView>, DomainError> {
    let rows = patient::Entity::find().filter(patient::Column::CompanyId.eq(company_id.0)).order_by_asc(patient::Column::Name).all(db).await?;
    Ok(rows
        .into_iter()
        .map(|row| PatientView { id: row.id, name: row.name, address: row.address, phone: row.phone, care_notes: row.care_notes })
        .collect())
}

/// Messages `user_id` sent or received in the company, newest first.
pub(super) async fn messages(db: &impl ConnectionTrait, company_id: CompanyId, user_id: UserId) -> Result<Vec<MessageView>, DomainError> {
    let rows = message::Entity::find()
        .filter(message::Column::CompanyId.eq(company_id.0))
        .filter(Condition::any().add(message::Column::RecipientId.eq(user_id.0)).add(message::Column::SenderId.eq(user_id.0)))
        .order_by_desc(message::Column::SentAt)
        .all(db)
        .await?;
    let names = accounts::store::names_in_company(db, company_id).await?;
    let name_of = |id: i32| names.get(&UserId(id)).cloned().unwrap_or_default();
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

/// The company's open shifts, earliest first, with their patients' names.
pub(super) async fn open_shifts(db: &impl ConnectionTrait, company_id: CompanyId) -> Result<Vec<OpenShiftView>, DomainError> {
    let rows =
        open_shift::Entity::find().filter(open_shift::Column::CompanyId.eq(company_id.0)).order_by_asc(open_shift::Column::StartsAt).all(db).await?;
    let names: HashMap<i32, String> =
        patient::Entity::find().filter(patient::Column::CompanyId.eq(company_id.0)).all(db).await?.into_iter().map(|p| (p.id, p.name)).collect();
    Ok(rows
        .into_iter()
        .map(|row| OpenShiftView {
            id: row.id,
            patient_id: row.patient_id,
            patient_name: names.get(&row.patient_id).cloned().unwrap_or_default(),
            starts_at: row.starts_at,
            ends_at: row.ends_at,
            notes: row.notes,
        })
        .collect())
}

/// A patient's id, as the inserts below take it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PatientRef(i32);

pub(crate) struct NewPatient<'a> {
    pub company_id: CompanyId,
    pub name: &'a str,
    pub address: &'a str,
    pub phone: &'a str,
    pub care_notes: &'a str,
}

pub(crate) async fn insert_patient(db: &impl ConnectionTrait, new: NewPatient<'_>) -> Result<PatientRef, DomainError> {
    let row = patient::ActiveModel {
        company_id: Set(new.company_id.0),
        name: Set(new.name.to_owned()),
        address: Set(new.address.to_owned()),
        phone: Set(new.phone.to_owned()),
        care_notes: Set(new.care_notes.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(PatientRef(row.id))
}

pub(crate) struct NewVisit {
    pub company_id: CompanyId,
    pub caregiver: UserId,
    pub patient: PatientRef,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: VisitStatus,
}

pub(crate) async fn insert_visit(db: &impl ConnectionTrait, new: NewVisit) -> Result<(), DomainError> {
    visit::ActiveModel {
        company_id: Set(new.company_id.0),
        caregiver_id: Set(new.caregiver.0),
        patient_id: Set(new.patient.0),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        status: Set(new.status),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub(crate) struct NewMessage<'a> {
    pub company_id: CompanyId,
    pub sender: UserId,
    pub recipient: UserId,
    pub subject: &'a str,
    pub body: &'a str,
    pub sent_at: DateTime<Utc>,
}

pub(crate) async fn insert_message(db: &impl ConnectionTrait, new: NewMessage<'_>) -> Result<(), DomainError> {
    message::ActiveModel {
        company_id: Set(new.company_id.0),
        sender_id: Set(new.sender.0),
        recipient_id: Set(new.recipient.0),
        subject: Set(new.subject.to_owned()),
        body: Set(new.body.to_owned()),
        sent_at: Set(new.sent_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub(crate) struct NewOpenShift<'a> {
    pub company_id: CompanyId,
    pub patient: PatientRef,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub notes: &'a str,
}

pub(crate) async fn insert_open_shift(db: &impl ConnectionTrait, new: NewOpenShift<'_>) -> Result<(), DomainError> {
    open_shift::ActiveModel {
        company_id: Set(new.company_id.0),
        patient_id: Set(new.patient.0),
        starts_at: Set(new.starts_at),
        ends_at: Set(new.ends_at),
        notes: Set(new.notes.to_owned()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}
