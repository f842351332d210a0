//! Storage of disclosures: the SeaORM queries behind [`crate::disclosures`] and the batched
//! [`crate::activity_writer`]. Calls go in as [`PendingDisclosure`]s; listings come out as [`StoredDisclosure`]s.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set,
    TransactionTrait,
};

use super::NewDisclosure;
use crate::activity::untrusted;
use crate::entity::{activity_event, company, disclosure, disclosure_patient, patient};
use crate::model::{CompanyId, UserId};
use crate::DomainError;

/// Rows per `INSERT` at most (well under SQLite's and PostgreSQL's bind-parameter limits: 6 or 9 columns each).
const INSERT_CHUNK: usize = 500;

/// A call ready to store: its row and its patients' rows, sharing the id the writer made.
#[derive(Clone)]
pub(crate) struct PendingDisclosure {
    call: disclosure::ActiveModel,
    patients: Vec<disclosure_patient::ActiveModel>,
}

impl From<NewDisclosure> for PendingDisclosure {
    fn from(new: NewDisclosure) -> Self {
        let id = super::disclosure_id(new.at, rand::random::<u16>());
        let patients = new
            .patients
            .iter()
            .map(|patient_id| disclosure_patient::ActiveModel {
                disclosure_id: Set(id),
                patient_id: Set(*patient_id),
                company_id: Set(new.company_id.0),
                key_id: Set(new.key_id.clone()),
                owner_user_id: Set(new.owner.0),
                at: Set(new.at),
            })
            .collect();
        let call = disclosure::ActiveModel {
            id: Set(id),
            company_id: Set(new.company_id.0),
            key_id: Set(new.key_id),
            owner_user_id: Set(new.owner.0),
            label: Set(new.label.chars().take(200).collect()),
            credential: Set(if new.connection { "connection" } else { "key" }.to_owned()),
            client: Set(untrusted(&new.client, 400)),
            tool: Set(new.tool.chars().take(64).collect()),
            at: Set(new.at),
        };
        PendingDisclosure { call, patients }
    }
}

/// Stores a batch of calls and their patients in one transaction, in multi-row `INSERT`s.
pub(crate) async fn insert_batch<C: ConnectionTrait + TransactionTrait>(db: &C, batch: Vec<PendingDisclosure>) -> Result<(), DomainError> {
    let txn = db.begin().await?;
    let (calls, patients): (Vec<_>, Vec<_>) = batch.into_iter().map(|pending| (pending.call, pending.patients)).unzip();
    for chunk in calls.chunks(INSERT_CHUNK) {
        disclosure::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
    }
    let patients: Vec<_> = patients.into_iter().flatten().collect();
    for chunk in patients.chunks(INSERT_CHUNK) {
        disclosure_patient::Entity::insert_many(chunk.to_vec()).exec_without_returning(&txn).await?;
    }
    txn.commit().await?;
    Ok(())
}

/// Which (call, patient) rows of a company to read, newest first.
pub(super) struct RowQuery<'a> {
    pub company_id: CompanyId,
    pub patient_id: Option<i32>,
    pub key_id: Option<&'a str>,
    /// Only calls made through this person's keys and connections.
    pub owner: Option<UserId>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

/// One patient of one call, with the call's facts.
pub(super) struct StoredDisclosure {
    pub at: DateTime<Utc>,
    pub patient_id: i32,
    pub owner: UserId,
    pub key_id: String,
    pub label: String,
    pub connection: bool,
    pub client: Option<String>,
    pub tool: String,
}

fn select(query: &RowQuery<'_>) -> sea_orm::Select<disclosure_patient::Entity> {
    let mut select = disclosure_patient::Entity::find().filter(disclosure_patient::Column::CompanyId.eq(query.company_id.0));
    if let Some(patient_id) = query.patient_id {
        select = select.filter(disclosure_patient::Column::PatientId.eq(patient_id));
    }
    if let Some(key_id) = query.key_id {
        select = select.filter(disclosure_patient::Column::KeyId.eq(key_id));
    }
    if let Some(owner) = query.owner {
        select = select.filter(disclosure_patient::Column::OwnerUserId.eq(owner.0));
    }
    if let Some(from) = query.from {
        select = select.filter(disclosure_patient::Column::At.gte(from));
    }
    if let Some(to) = query.to {
        select = select.filter(disclosure_patient::Column::At.lt(to));
    }
    select
}

/// How many rows `query` matches, counted up to `cap`: a patient read a million times costs no more to count than
/// one read `cap` times.
pub(super) async fn count_up_to(db: &impl ConnectionTrait, query: &RowQuery<'_>, cap: u64) -> Result<u64, DomainError> {
    let matching = select(query).select_only().expr(Expr::val(1)).limit(cap).into_query();
    let statement = sea_orm::sea_query::Query::select()
        .expr_as(Expr::cust("COUNT(*)"), sea_orm::sea_query::Alias::new("matching"))
        .from_subquery(matching, sea_orm::sea_query::Alias::new("capped"))
        .to_owned();
    let row = db.query_one(db.get_database_backend().build(&statement)).await?;
    let matching: i64 = match row {
        Some(row) => row.try_get("", "matching")?,
        None => 0,
    };
    Ok(u64::try_from(matching).unwrap_or_default())
}

/// A page of rows, newest first, with their calls' facts.
pub(super) async fn page(db: &impl ConnectionTrait, query: &RowQuery<'_>, offset: u64, limit: u64) -> Result<Vec<StoredDisclosure>, DomainError> {
    let rows = select(query)
        .order_by_desc(disclosure_patient::Column::At)
        .order_by_desc(disclosure_patient::Column::DisclosureId)
        .order_by_asc(disclosure_patient::Column::PatientId)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    let ids: Vec<i64> = rows.iter().map(|row| row.disclosure_id).collect();
    let calls: HashMap<i64, disclosure::Model> =
        disclosure::Entity::find().filter(disclosure::Column::Id.is_in(ids)).all(db).await?.into_iter().map(|call| (call.id, call)).collect();
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let call = calls.get(&row.disclosure_id)?;
            Some(StoredDisclosure {
                at: row.at,
                patient_id: row.patient_id,
                owner: UserId(row.owner_user_id),
                key_id: row.key_id,
                label: call.label.clone(),
                connection: call.credential == "connection",
                client: call.client.clone(),
                tool: call.tool.clone(),
            })
        })
        .collect())
}

/// Whether the company has this patient.
pub(super) async fn patient_exists(db: &impl ConnectionTrait, company_id: CompanyId, patient_id: i32) -> Result<bool, DomainError> {
    Ok(patient::Entity::find().filter(patient::Column::CompanyId.eq(company_id.0)).filter(patient::Column::Id.eq(patient_id)).count(db).await? > 0)
}

/// The names of the company's patients among `ids`.
pub(super) async fn patient_names(db: &impl ConnectionTrait, company_id: CompanyId, ids: Vec<i32>) -> Result<HashMap<i32, String>, DomainError> {
    Ok(patient::Entity::find()
        .filter(patient::Column::CompanyId.eq(company_id.0))
        .filter(patient::Column::Id.is_in(ids))
        .all(db)
        .await?
        .into_iter()
        .map(|patient| (patient.id, patient.name))
        .collect())
}

#[derive(FromQueryResult)]
struct Reads {
    patient_id: i32,
    reads: i64,
}

/// Each patient a key disclosed since `since`, with how many calls returned them, most first.
pub(super) async fn reads_by_patient(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    key_id: &str,
    since: DateTime<Utc>,
) -> Result<Vec<(i32, u64)>, DomainError> {
    let rows = disclosure_patient::Entity::find()
        .select_only()
        .column(disclosure_patient::Column::PatientId)
        .column_as(Expr::col(disclosure_patient::Column::DisclosureId).count(), "reads")
        .filter(disclosure_patient::Column::CompanyId.eq(company_id.0))
        .filter(disclosure_patient::Column::KeyId.eq(key_id))
        .filter(disclosure_patient::Column::At.gte(since))
        .group_by(disclosure_patient::Column::PatientId)
        .into_model::<Reads>()
        .all(db)
        .await?;
    let mut reads: Vec<(i32, u64)> = rows.into_iter().map(|row| (row.patient_id, row.reads.max(0) as u64)).collect();
    reads.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Ok(reads)
}

pub(super) async fn retention_years(db: &impl ConnectionTrait, company_id: CompanyId) -> Result<u32, DomainError> {
    let company = company::Entity::find_by_id(company_id.0).one(db).await?.ok_or(DomainError::NotFound("Company"))?;
    Ok(company.record_retention_years.max(0) as u32)
}

pub(super) async fn set_retention_years(db: &impl ConnectionTrait, company_id: CompanyId, years: u32) -> Result<(), DomainError> {
    company::Entity::update_many()
        .col_expr(company::Column::RecordRetentionYears, Expr::value(years as i32))
        .filter(company::Column::Id.eq(company_id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Every company with its retention.
pub(super) async fn retentions(db: &impl ConnectionTrait) -> Result<Vec<(CompanyId, u32)>, DomainError> {
    Ok(company::Entity::find()
        .select_only()
        .column(company::Column::Id)
        .column(company::Column::RecordRetentionYears)
        .into_tuple::<(i32, i32)>()
        .all(db)
        .await?
        .into_iter()
        .map(|(id, years)| (CompanyId(id), years.max(1) as u32))
        .collect())
}

/// Deletes at most `limit` of the company's disclosures (calls with their patients) older than `before`;
/// answers how many calls went. Each statement touches one bounded set of rows, found by primary key.
pub(super) async fn delete_old_disclosures(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<u64, DomainError> {
    let ids: Vec<i64> = disclosure::Entity::find()
        .select_only()
        .column(disclosure::Column::Id)
        .filter(disclosure::Column::CompanyId.eq(company_id.0))
        .filter(disclosure::Column::At.lt(before))
        .limit(limit)
        .into_tuple::<i64>()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    disclosure_patient::Entity::delete_many().filter(disclosure_patient::Column::DisclosureId.is_in(ids.clone())).exec(db).await?;
    Ok(disclosure::Entity::delete_many().filter(disclosure::Column::Id.is_in(ids)).exec(db).await?.rows_affected)
}

/// Deletes at most `limit` of the company's activity events older than `before`; answers how many went.
pub(super) async fn delete_old_events(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    before: DateTime<Utc>,
    limit: u64,
) -> Result<u64, DomainError> {
    let ids: Vec<i32> = activity_event::Entity::find()
        .select_only()
        .column(activity_event::Column::Id)
        .filter(activity_event::Column::CompanyId.eq(company_id.0))
        .filter(activity_event::Column::CreatedAt.lt(before))
        .limit(limit)
        .into_tuple::<i32>()
        .all(db)
        .await?;
    if ids.is_empty() {
        return Ok(0);
    }
    Ok(activity_event::Entity::delete_many().filter(activity_event::Column::Id.is_in(ids)).exec(db).await?.rows_affected)
}
