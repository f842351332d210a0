//! Storage of alerts and reminder claims: the SeaORM queries behind [`crate::alerts`]. It also reads the keys
//! (and their owners and OAuth clients) that a reminder is due for, returning them as [`DueKey`]s.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Set, SqlErr,
};

use super::{DueKey, Owner};
use crate::entity::{alert, api_key, key_reminder, oauth_client, user};
use crate::model::{AlertKind, AlertView, CompanyId, UserId};
use crate::DomainError;

pub(super) async fn insert(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    user_id: UserId,
    kind: AlertKind,
    key_id: Option<&str>,
    message: &str,
    at: DateTime<Utc>,
) -> Result<(), DomainError> {
    alert::ActiveModel {
        company_id: Set(company_id.0),
        user_id: Set(user_id.0),
        kind: Set(kind),
        key_id: Set(key_id.map(str::to_owned)),
        message: Set(message.to_owned()),
        created_at: Set(at),
        read_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub(super) async fn page(db: &impl ConnectionTrait, user_id: UserId, offset: u64, limit: u64) -> Result<Vec<AlertView>, DomainError> {
    let rows = alert::Entity::find()
        .filter(alert::Column::UserId.eq(user_id.0))
        .order_by_desc(alert::Column::Id)
        .offset(offset)
        .limit(limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| AlertView {
            id: row.id,
            kind: row.kind,
            key_id: row.key_id,
            message: row.message,
            created_at: row.created_at,
            read: row.read_at.is_some(),
        })
        .collect())
}

pub(super) async fn count_unread(db: &impl ConnectionTrait, user_id: UserId) -> Result<u64, DomainError> {
    Ok(alert::Entity::find().filter(alert::Column::UserId.eq(user_id.0)).filter(alert::Column::ReadAt.is_null()).count(db).await?)
}

/// The person's own keys and connections, not revoked or rolled, expiring in `(from, until]`.
pub(super) async fn count_keys_expiring(
    db: &impl ConnectionTrait,
    user_id: UserId,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<u64, DomainError> {
    Ok(api_key::Entity::find()
        .filter(api_key::Column::UserId.eq(user_id.0))
        .filter(api_key::Column::RevokedAt.is_null())
        .filter(api_key::Column::RolledTo.is_null())
        .filter(api_key::Column::ExpiresAt.gt(from))
        .filter(api_key::Column::ExpiresAt.lte(until))
        .count(db)
        .await?)
}

/// Marks the person's alert `alert_id` (or all of them) read; returns how many changed.
pub(super) async fn mark_read(db: &impl ConnectionTrait, user_id: UserId, alert_id: Option<i32>, at: DateTime<Utc>) -> Result<u64, DomainError> {
    let mut update = alert::Entity::update_many()
        .col_expr(alert::Column::ReadAt, Expr::value(Some(at)))
        .filter(alert::Column::UserId.eq(user_id.0))
        .filter(alert::Column::ReadAt.is_null());
    if let Some(id) = alert_id {
        update = update.filter(alert::Column::Id.eq(id));
    }
    Ok(update.exec(db).await?.rows_affected)
}

pub(super) async fn exists(db: &impl ConnectionTrait, user_id: UserId, alert_id: i32) -> Result<bool, DomainError> {
    Ok(alert::Entity::find_by_id(alert_id).filter(alert::Column::UserId.eq(user_id.0)).count(db).await? == 1)
}

/// Claims reminder `kind` of a key: `false` when some process already has it (the primary key refused it).
pub(super) async fn claim(db: &impl ConnectionTrait, api_key_id: i32, kind: AlertKind, at: DateTime<Utc>) -> Result<bool, DomainError> {
    let row = key_reminder::ActiveModel { api_key_id: Set(api_key_id), kind: Set(kind), claimed_at: Set(at) };
    match key_reminder::Entity::insert(row).exec_without_returning(db).await {
        Ok(_) => Ok(true),
        Err(err) if is_unique_violation(&err) => Ok(false),
        Err(err) => Err(err.into()),
    }
}

fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Up to `limit` active, unrolled keys of active people expiring in `[from, until]` whose reminder `kind` nobody has claimed,
/// soonest first.
pub(super) async fn unclaimed_keys_expiring(
    db: &impl ConnectionTrait,
    kind: AlertKind,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    limit: u64,
) -> Result<Vec<DueKey>, DomainError> {
    let claimed =
        key_reminder::Entity::find().select_only().column(key_reminder::Column::ApiKeyId).filter(key_reminder::Column::Kind.eq(kind)).into_query();
    let keys = api_key::Entity::find()
        .filter(api_key::Column::RevokedAt.is_null())
        // A rolled key stops at the end of its overlap; its successor is the one to remind about.
        .filter(api_key::Column::RolledTo.is_null())
        .filter(api_key::Column::ExpiresAt.gte(from))
        .filter(api_key::Column::ExpiresAt.lte(until))
        .filter(api_key::Column::Id.not_in_subquery(claimed))
        .order_by_asc(api_key::Column::ExpiresAt)
        .limit(limit)
        .all(db)
        .await?;
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let owner_ids: Vec<i32> = keys.iter().map(|key| key.user_id).collect();
    let owners: HashMap<i32, user::Model> = user::Entity::find()
        .filter(user::Column::Id.is_in(owner_ids))
        .filter(user::Column::Active.eq(true))
        .all(db)
        .await?
        .into_iter()
        .map(|u| (u.id, u))
        .collect();
    let client_ids: Vec<i32> = keys.iter().filter_map(|key| key.oauth_client_id).collect();
    let clients: HashMap<i32, String> = if client_ids.is_empty() {
        HashMap::new()
    } else {
        oauth_client::Entity::find().filter(oauth_client::Column::Id.is_in(client_ids)).all(db).await?.into_iter().map(|c| (c.id, c.name)).collect()
    };
    Ok(keys
        .into_iter()
        .filter_map(|key| {
            let owner = owners.get(&key.user_id)?;
            let expires_at = key.expires_at?;
            let name = match key.oauth_client_id {
                Some(client) => clients.get(&client).cloned().unwrap_or_else(|| key.label.clone()),
                None => key.label.clone(),
            };
            Some(DueKey {
                api_key_id: key.id,
                key_id: key.key_id,
                company_id: CompanyId(key.company_id),
                expires_at,
                name,
                is_connection: key.oauth_client_id.is_some(),
                owner: Owner {
                    id: UserId(owner.id),
                    email: owner.email.clone(),
                    name: owner.name.clone(),
                    role: owner.role,
                    notify_email: owner.notify_email,
                },
            })
        })
        .collect())
}
