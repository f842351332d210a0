//! Reading care data with the visibility rules of the app: everything is limited to the viewer's company,
//! and caregivers see only the visits and messages that are theirs.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Select};

use crate::entity::{message, open_shift, patient, user, visit};
use crate::model::{CaregiverView, CurrentUser, MessageView, OpenShiftView, PatientView, VisitView};
use crate::{DomainError, Role};

/// A half-open time window `[from, to)`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
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
    if let Some(window) = window {
        query = query.filter(visit::Column::StartsAt.gte(window.from)).filter(visit::Column::StartsAt.lt(window.to));
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
    let rows = patient::Entity::find()
        .filter(patient::Column::CompanyId.eq(viewer.company_id))
        .order_by_asc(patient::Column::Name)
        .all(db)
        .await?;
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
    let names = user_names(db, viewer.company_id).await?;
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
        .filter(user::Column::Role.eq(Role::Caregiver.as_str()))
        .order_by_asc(user::Column::Name)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|u| CaregiverView { id: u.id, name: u.name, email: u.email, active: u.active }).collect())
}

async fn patients_by_id(db: &impl ConnectionTrait, company_id: i32) -> Result<HashMap<i32, patient::Model>, DomainError> {
    Ok(patient::Entity::find()
        .filter(patient::Column::CompanyId.eq(company_id))
        .all(db)
        .await?
        .into_iter()
        .map(|p| (p.id, p))
        .collect())
}

async fn user_names(db: &impl ConnectionTrait, company_id: i32) -> Result<HashMap<i32, String>, DomainError> {
    Ok(user::Entity::find()
        .filter(user::Column::CompanyId.eq(company_id))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect())
}
