//! Storage of two-factor state: the SeaORM queries behind [`crate::two_factor`] — the sealed seed and the last
//! used step on the user's row, the recovery codes' digests, and the sign-in challenges' digests.
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, Set};

use crate::entity::{recovery_code, sign_in_challenge, user};
use crate::model::UserId;
use crate::DomainError;

/// A user's two-factor columns.
pub(super) struct Seed {
    /// The seed, sealed with the server's key; `None` when two-factor was never set up.
    pub sealed: Option<String>,
    /// When set-up was confirmed; `None` while it waits for its first code.
    pub enabled_at: Option<DateTime<Utc>>,
}

pub(super) async fn seed(db: &impl ConnectionTrait, user_id: UserId) -> Result<Option<Seed>, DomainError> {
    let row = user::Entity::find_by_id(user_id.0).one(db).await?;
    Ok(row.map(|row| Seed { sealed: row.totp_secret, enabled_at: row.totp_enabled_at }))
}

/// Stores a new seed waiting for its first code (two-factor stays off until then).
pub(super) async fn set_pending_seed(db: &impl ConnectionTrait, user_id: UserId, sealed: &str) -> Result<(), DomainError> {
    user::Entity::update_many()
        .col_expr(user::Column::TotpSecret, Expr::value(Some(sealed.to_owned())))
        .col_expr(user::Column::TotpEnabledAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .filter(user::Column::Id.eq(user_id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Turns on the seed that was confirmed, unless another set-up replaced it or it is on already; `false` then.
pub(super) async fn enable(db: &impl ConnectionTrait, user_id: UserId, confirmed: &str, at: DateTime<Utc>) -> Result<bool, DomainError> {
    let updated = user::Entity::update_many()
        .col_expr(user::Column::TotpEnabledAt, Expr::value(Some(at)))
        .filter(user::Column::Id.eq(user_id.0))
        .filter(user::Column::TotpSecret.eq(confirmed))
        .filter(user::Column::TotpEnabledAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Turns two-factor off: the seed, its state and the recovery codes go.
pub(super) async fn clear(db: &impl ConnectionTrait, user_id: UserId) -> Result<(), DomainError> {
    user::Entity::update_many()
        .col_expr(user::Column::TotpSecret, Expr::value(Option::<String>::None))
        .col_expr(user::Column::TotpEnabledAt, Expr::value(Option::<DateTime<Utc>>::None))
        .col_expr(user::Column::TotpLastStep, Expr::value(Option::<i64>::None))
        .filter(user::Column::Id.eq(user_id.0))
        .exec(db)
        .await?;
    recovery_code::Entity::delete_many().filter(recovery_code::Column::UserId.eq(user_id.0)).exec(db).await?;
    Ok(())
}

/// Records `step` as used unless it, or a later one, already was: `false` means the code was used before.
pub(super) async fn use_step(db: &impl ConnectionTrait, user_id: UserId, step: i64) -> Result<bool, DomainError> {
    let updated = user::Entity::update_many()
        .col_expr(user::Column::TotpLastStep, Expr::value(Some(step)))
        .filter(user::Column::Id.eq(user_id.0))
        .filter(Condition::any().add(user::Column::TotpLastStep.is_null()).add(user::Column::TotpLastStep.lt(step)))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// Replaces the user's recovery codes with these digests.
pub(super) async fn replace_recovery_codes(db: &impl ConnectionTrait, user_id: UserId, digests: &[String]) -> Result<(), DomainError> {
    recovery_code::Entity::delete_many().filter(recovery_code::Column::UserId.eq(user_id.0)).exec(db).await?;
    let rows = digests.iter().map(|digest| recovery_code::ActiveModel {
        user_id: Set(user_id.0),
        code_hash: Set(digest.clone()),
        used_at: Set(None),
        ..Default::default()
    });
    recovery_code::Entity::insert_many(rows).exec_without_returning(db).await?;
    Ok(())
}

/// Marks the unused recovery code with this digest used; `false` when there is none.
pub(super) async fn use_recovery_code(db: &impl ConnectionTrait, user_id: UserId, digest: &str, at: DateTime<Utc>) -> Result<bool, DomainError> {
    let updated = recovery_code::Entity::update_many()
        .col_expr(recovery_code::Column::UsedAt, Expr::value(Some(at)))
        .filter(recovery_code::Column::UserId.eq(user_id.0))
        .filter(recovery_code::Column::CodeHash.eq(digest))
        .filter(recovery_code::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(updated.rows_affected >= 1)
}

pub(super) async fn unused_recovery_codes(db: &impl ConnectionTrait, user_id: UserId) -> Result<u64, DomainError> {
    Ok(recovery_code::Entity::find()
        .filter(recovery_code::Column::UserId.eq(user_id.0))
        .filter(recovery_code::Column::UsedAt.is_null())
        .count(db)
        .await?)
}

pub(super) async fn insert_challenge(
    db: &impl ConnectionTrait,
    digest: &str,
    user_id: UserId,
    at: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> Result<(), DomainError> {
    sign_in_challenge::ActiveModel { id: Set(digest.to_owned()), user_id: Set(user_id.0), created_at: Set(at), expires_at: Set(expires_at) }
        .insert(db)
        .await?;
    Ok(())
}

/// The user a challenge waits for, if it exists and has not expired.
pub(super) async fn challenge(db: &impl ConnectionTrait, digest: &str, now: DateTime<Utc>) -> Result<Option<UserId>, DomainError> {
    let row = sign_in_challenge::Entity::find_by_id(digest.to_owned()).one(db).await?;
    Ok(row.filter(|row| row.expires_at > now).map(|row| UserId(row.user_id)))
}

pub(super) async fn delete_expired_challenges(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DomainError> {
    Ok(sign_in_challenge::Entity::delete_many().filter(sign_in_challenge::Column::ExpiresAt.lte(now)).exec(db).await?.rows_affected)
}

/// Deletes a challenge (answered), and every expired one.
pub(super) async fn end_challenge(db: &impl ConnectionTrait, digest: &str, now: DateTime<Utc>) -> Result<(), DomainError> {
    sign_in_challenge::Entity::delete_many()
        .filter(Condition::any().add(sign_in_challenge::Column::Id.eq(digest)).add(sign_in_challenge::Column::ExpiresAt.lte(now)))
        .exec(db)
        .await?;
    Ok(())
}
