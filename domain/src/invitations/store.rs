//! Storage of invitations: the SeaORM queries behind [`crate::invitations`]. Rows are found by the digest of
//! the link's secret; the secret itself never reaches this module.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set};

use crate::entity::invitation;
use crate::model::{CompanyId, UserId};
use crate::DomainError;

/// A stored invitation.
pub(super) struct StoredInvitation {
    pub id: i32,
    pub user_id: UserId,
    pub expires_at: DateTime<Utc>,
    pub accepted_at: Option<DateTime<Utc>>,
}

pub(super) struct NewInvitation<'a> {
    pub token_hash: &'a str,
    pub company_id: CompanyId,
    pub user_id: UserId,
    pub invited_by: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub(super) async fn insert(db: &impl ConnectionTrait, new: NewInvitation<'_>) -> Result<(), DomainError> {
    invitation::ActiveModel {
        token_hash: Set(new.token_hash.to_owned()),
        company_id: Set(new.company_id.0),
        user_id: Set(new.user_id.0),
        invited_by: Set(new.invited_by.map(|id| id.0)),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
        accepted_at: Set(None),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub(super) async fn find(db: &impl ConnectionTrait, token_hash: &str) -> Result<Option<StoredInvitation>, DomainError> {
    let row = invitation::Entity::find().filter(invitation::Column::TokenHash.eq(token_hash)).one(db).await?;
    Ok(row.map(|row| StoredInvitation { id: row.id, user_id: UserId(row.user_id), expires_at: row.expires_at, accepted_at: row.accepted_at }))
}

/// Marks the invitation used unless it already is; returns whether this call did.
pub(super) async fn mark_accepted(db: &impl ConnectionTrait, id: i32, at: DateTime<Utc>) -> Result<bool, DomainError> {
    let updated = invitation::Entity::update_many()
        .col_expr(invitation::Column::AcceptedAt, Expr::value(Some(at)))
        .filter(invitation::Column::Id.eq(id))
        .filter(invitation::Column::AcceptedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Deletes every invitation of a user (a new link replaces the old ones).
pub(super) async fn delete_for_user(db: &impl ConnectionTrait, user_id: UserId) -> Result<(), DomainError> {
    invitation::Entity::delete_many().filter(invitation::Column::UserId.eq(user_id.0)).exec(db).await?;
    Ok(())
}
