//! Storage of sign-in sessions: the SeaORM queries behind [`crate::sessions`]. A session row is keyed by the
//! digest of the cookie's secret, which the caller supplies; the secret itself never reaches this module.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Set};

use crate::entity::session;
use crate::model::UserId;
use crate::DomainError;

/// A stored session, without its key.
pub(super) struct StoredSession {
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    pub reauthenticated_at: Option<DateTime<Utc>>,
}

pub(super) async fn insert(
    db: &impl ConnectionTrait,
    storage_id: String,
    user_id: UserId,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DomainError> {
    session::ActiveModel {
        id: Set(storage_id),
        user_id: Set(user_id.0),
        created_at: Set(at),
        expires_at: Set(expires_at),
        reauthenticated_at: Set(None),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub(super) async fn find(db: &impl ConnectionTrait, storage_id: &str) -> Result<Option<StoredSession>, DomainError> {
    let row = session::Entity::find_by_id(storage_id.to_owned()).one(db).await?;
    Ok(row.map(|row| StoredSession { user_id: UserId(row.user_id), expires_at: row.expires_at, reauthenticated_at: row.reauthenticated_at }))
}

/// Records a password confirmation on the session; `false` when there is no such session.
pub(super) async fn set_reauthenticated(db: &impl ConnectionTrait, storage_id: &str, at: DateTime<Utc>) -> Result<bool, DomainError> {
    let updated = session::Entity::update_many()
        .col_expr(session::Column::ReauthenticatedAt, Expr::value(Some(at)))
        .filter(session::Column::Id.eq(storage_id))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

pub(super) async fn delete(db: &impl ConnectionTrait, storage_id: &str) -> Result<(), DomainError> {
    session::Entity::delete_by_id(storage_id.to_owned()).exec(db).await?;
    Ok(())
}

pub(super) async fn delete_for_user(db: &impl ConnectionTrait, user_id: UserId) -> Result<(), DomainError> {
    session::Entity::delete_many().filter(session::Column::UserId.eq(user_id.0)).exec(db).await?;
    Ok(())
}

/// Ends every session of the user but one.
pub(super) async fn delete_for_user_except(db: &impl ConnectionTrait, user_id: UserId, keep: &str) -> Result<(), DomainError> {
    session::Entity::delete_many().filter(session::Column::UserId.eq(user_id.0)).filter(session::Column::Id.ne(keep)).exec(db).await?;
    Ok(())
}

/// Deletes at most `limit` sessions that expired by `now`; returns how many went.
pub(super) async fn delete_expired(db: &impl ConnectionTrait, now: DateTime<Utc>, limit: u64) -> Result<u64, DomainError> {
    let batch =
        session::Entity::find().select_only().column(session::Column::Id).filter(session::Column::ExpiresAt.lte(now)).limit(limit).into_query();
    Ok(session::Entity::delete_many().filter(session::Column::Id.in_subquery(batch)).exec(db).await?.rows_affected)
}
