//! Storage of companies and users: the SeaORM queries behind [`crate::accounts`], returning its types. No
//! row leaves this module; a user's password hash leaves it only as a [`PasswordHash`].
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func};
use sea_orm::{ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set};

use super::{Account, Company, Email};
use crate::entity::{company, user};
use crate::model::{CaregiverView, CompanyId, NotificationPreferences, PeopleFilter, PersonStatus, PersonView, UserId};
use crate::password::PasswordHash;
use crate::{DomainError, Role};

impl From<company::Model> for Company {
    fn from(row: company::Model) -> Self {
        Company { id: CompanyId(row.id), name: row.name, account_number: row.account_number }
    }
}

impl From<user::Model> for Account {
    fn from(row: user::Model) -> Self {
        let status = match (row.active, row.password_hash.is_empty()) {
            (true, _) => PersonStatus::Active,
            (false, true) => PersonStatus::Invited,
            (false, false) => PersonStatus::Deactivated,
        };
        Account { id: UserId(row.id), company_id: CompanyId(row.company_id), email: row.email, name: row.name, role: row.role, status }
    }
}

/// Inserts a company; a taken account number is a [`DomainError::Conflict`].
pub(super) async fn insert_company(db: &impl ConnectionTrait, name: &str, account_number: i64, at: DateTime<Utc>) -> Result<Company, DomainError> {
    company::ActiveModel { name: Set(name.to_owned()), account_number: Set(account_number), created_at: Set(at), ..Default::default() }
        .insert(db)
        .await
        .map(Company::from)
        .map_err(|err| DomainError::conflict_on_unique(err, "account number taken"))
}

pub(super) async fn company_by_account(db: &impl ConnectionTrait, account_number: i64) -> Result<Option<Company>, DomainError> {
    Ok(company::Entity::find().filter(company::Column::AccountNumber.eq(account_number)).one(db).await?.map(Company::from))
}

/// How many companies the database holds.
pub(super) async fn count_companies(db: &impl ConnectionTrait) -> Result<u64, DomainError> {
    Ok(company::Entity::find().count(db).await?)
}

/// What a new user row holds, checked by the caller.
pub(super) struct NewUserRow<'a> {
    pub company_id: CompanyId,
    pub email: &'a Email,
    pub name: &'a str,
    pub role: Role,
    pub password_hash: &'a PasswordHash,
    pub at: DateTime<Utc>,
}

/// Inserts an active user with a password; a taken email is a [`DomainError::Conflict`].
pub(super) async fn insert_user(db: &impl ConnectionTrait, new: NewUserRow<'_>) -> Result<Account, DomainError> {
    insert(db, new.company_id, new.email, new.name, new.role, Some(new.password_hash), new.at).await
}

/// Inserts an invited user: no password (an empty hash, which no password matches) and not active until the
/// invitation is accepted. A taken email is a [`DomainError::Conflict`].
pub(crate) async fn insert_invited_user(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    email: &Email,
    name: &str,
    role: Role,
    at: DateTime<Utc>,
) -> Result<Account, DomainError> {
    insert(db, company_id, email, name, role, None, at).await
}

async fn insert(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    email: &Email,
    name: &str,
    role: Role,
    password_hash: Option<&PasswordHash>,
    at: DateTime<Utc>,
) -> Result<Account, DomainError> {
    user::ActiveModel {
        company_id: Set(company_id.0),
        email: Set(email.as_str().to_owned()),
        name: Set(name.to_owned()),
        password_hash: Set(password_hash.map(|hash| hash.as_str().to_owned()).unwrap_or_default()),
        role: Set(role),
        active: Set(password_hash.is_some()),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(Account::from)
    .map_err(|err| DomainError::conflict_on_unique(err, "A user with that email already exists"))
}

/// The user with this email, with their stored password hash.
pub(super) async fn user_by_email(db: &impl ConnectionTrait, email: &Email) -> Result<Option<(Account, PasswordHash)>, DomainError> {
    let row = user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(db).await?;
    Ok(row.map(|row| {
        let hash = PasswordHash::from_stored(row.password_hash.clone());
        (Account::from(row), hash)
    }))
}

/// Whether any user has this email (in any company).
pub(super) async fn email_exists(db: &impl ConnectionTrait, email: &str) -> Result<bool, DomainError> {
    Ok(user::Entity::find().filter(user::Column::Email.eq(email)).one(db).await?.is_some())
}

pub(super) async fn password_hash(db: &impl ConnectionTrait, user_id: UserId) -> Result<Option<PasswordHash>, DomainError> {
    Ok(user::Entity::find_by_id(user_id.0).one(db).await?.map(|row| PasswordHash::from_stored(row.password_hash)))
}

/// Gives an invited user their password and makes them active.
pub(crate) async fn activate_with_password(db: &impl ConnectionTrait, user_id: UserId, hash: &PasswordHash) -> Result<(), DomainError> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash.as_str()))
        .col_expr(user::Column::Active, Expr::value(true))
        .filter(user::Column::Id.eq(user_id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Deletes a user who is still only invited (no password, not active); `false` when they are not (any more).
pub(crate) async fn delete_invited_user(db: &impl ConnectionTrait, user_id: UserId) -> Result<bool, DomainError> {
    let deleted = user::Entity::delete_many()
        .filter(user::Column::Id.eq(user_id.0))
        .filter(user::Column::Active.eq(false))
        .filter(user::Column::PasswordHash.eq(""))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// Records a successful sign-in.
pub(super) async fn touch_sign_in(db: &impl ConnectionTrait, user_id: UserId, at: DateTime<Utc>) -> Result<(), DomainError> {
    user::Entity::update_many().col_expr(user::Column::LastSignInAt, Expr::value(Some(at))).filter(user::Column::Id.eq(user_id.0)).exec(db).await?;
    Ok(())
}

pub(super) async fn set_password_hash(db: &impl ConnectionTrait, user_id: UserId, hash: &PasswordHash) -> Result<(), DomainError> {
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, Expr::value(hash.as_str()))
        .filter(user::Column::Id.eq(user_id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// A user with their company.
pub(crate) async fn user_with_company(db: &impl ConnectionTrait, user_id: UserId) -> Result<Option<(Account, Company)>, DomainError> {
    Ok(match user::Entity::find_by_id(user_id.0).find_also_related(company::Entity).one(db).await? {
        Some((user, Some(company))) => Some((user.into(), company.into())),
        _ => None,
    })
}

/// Sets whether a user is active; `false` when there is no such user.
pub(crate) async fn set_active(db: &impl ConnectionTrait, user_id: UserId, active: bool) -> Result<bool, DomainError> {
    let updated =
        user::Entity::update_many().col_expr(user::Column::Active, Expr::value(active)).filter(user::Column::Id.eq(user_id.0)).exec(db).await?;
    Ok(updated.rows_affected == 1)
}

/// Takes the user's row lock for the rest of the transaction (PostgreSQL: a row lock; SQLite: the write lock),
/// so that concurrent changes for one user (such as mints counting their active keys) run one after another.
pub(crate) async fn lock_user(db: &impl ConnectionTrait, user_id: UserId) -> Result<(), DomainError> {
    user::Entity::update_many()
        .col_expr(user::Column::Active, Expr::col(user::Column::Active).into())
        .filter(user::Column::Id.eq(user_id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// A user by id.
pub(crate) async fn account(db: &impl ConnectionTrait, user_id: UserId) -> Result<Option<Account>, DomainError> {
    Ok(user::Entity::find_by_id(user_id.0).one(db).await?.map(Account::from))
}

pub(crate) async fn set_role(db: &impl ConnectionTrait, user_id: UserId, role: Role) -> Result<(), DomainError> {
    user::Entity::update_many().col_expr(user::Column::Role, Expr::value(role)).filter(user::Column::Id.eq(user_id.0)).exec(db).await?;
    Ok(())
}

/// How many active Root Users the company has besides `except`.
pub(crate) async fn other_active_roots(db: &impl ConnectionTrait, company_id: CompanyId, except: UserId) -> Result<u64, DomainError> {
    Ok(user::Entity::find()
        .filter(user::Column::CompanyId.eq(company_id.0))
        .filter(user::Column::Role.eq(Role::Root))
        .filter(user::Column::Active.eq(true))
        .filter(user::Column::Id.ne(except.0))
        .count(db)
        .await?)
}

/// Takes the company's row lock for the rest of the transaction (PostgreSQL: a row lock; SQLite: the write
/// lock), so that changes that must keep a company-wide rule (at least one active Root User) run one after
/// another.
pub(crate) async fn lock_company(db: &impl ConnectionTrait, company_id: CompanyId) -> Result<(), DomainError> {
    company::Entity::update_many()
        .col_expr(company::Column::Name, Expr::col(company::Column::Name).into())
        .filter(company::Column::Id.eq(company_id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// A page of the company's people by name (then id), with the total that match, for the People page.
pub(crate) async fn people_page(
    db: &impl ConnectionTrait,
    company_id: CompanyId,
    filter: &PeopleFilter,
) -> Result<(Vec<StoredPerson>, u64), DomainError> {
    let mut query = user::Entity::find().filter(user::Column::CompanyId.eq(company_id.0));
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        let pattern = crate::db::contains_pattern(search);
        let lower = |column: user::Column| Expr::expr(Func::lower(Expr::col((user::Entity, column))));
        query = query.filter(Condition::any().add(lower(user::Column::Name).like(pattern.clone())).add(lower(user::Column::Email).like(pattern)));
    }
    if let Some(role) = filter.role {
        query = query.filter(user::Column::Role.eq(role));
    }
    query = match filter.status {
        None => query,
        Some(PersonStatus::Active) => query.filter(user::Column::Active.eq(true)),
        Some(PersonStatus::Invited) => query.filter(user::Column::Active.eq(false)).filter(user::Column::PasswordHash.eq("")),
        Some(PersonStatus::Deactivated) => query.filter(user::Column::Active.eq(false)).filter(user::Column::PasswordHash.ne("")),
    };
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_asc(user::Column::Name)
        .order_by_asc(user::Column::Id)
        .paginate(db, u64::from(filter.per_page))
        .fetch_page(u64::from(filter.page - 1))
        .await?;
    let people = rows
        .into_iter()
        .map(|row| StoredPerson { last_sign_in_at: row.last_sign_in_at, two_factor: row.totp_enabled_at.is_some(), account: row.into() })
        .collect();
    Ok((people, total))
}

/// A person with when they last signed in and whether they use two-factor.
pub(crate) struct StoredPerson {
    pub account: Account,
    pub last_sign_in_at: Option<DateTime<Utc>>,
    /// Whether two-factor authentication is on.
    pub two_factor: bool,
}

/// The company's people, or only `only` of them.
pub(super) async fn people(db: &impl ConnectionTrait, company_id: CompanyId, only: Option<UserId>) -> Result<Vec<PersonView>, DomainError> {
    let mut query = user::Entity::find().filter(user::Column::CompanyId.eq(company_id.0));
    if let Some(user_id) = only {
        query = query.filter(user::Column::Id.eq(user_id.0));
    }
    let rows = query.order_by_asc(user::Column::Id).all(db).await?;
    Ok(rows.into_iter().map(|u| PersonView { id: UserId(u.id), name: u.name, role: u.role }).collect())
}

/// The company's caregivers by name.
pub(super) async fn caregivers(db: &impl ConnectionTrait, company_id: CompanyId) -> Result<Vec<CaregiverView>, DomainError> {
    let rows = user::Entity::find()
        .filter(user::Column::CompanyId.eq(company_id.0))
        .filter(user::Column::Role.eq(Role::Caregiver))
        .order_by_asc(user::Column::Name)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|u| CaregiverView { id: UserId(u.id), name: u.name, email: u.email, active: u.active }).collect())
}

/// Every name in a company, by user id.
pub(crate) async fn names_in_company(db: &impl ConnectionTrait, company_id: CompanyId) -> Result<HashMap<UserId, String>, DomainError> {
    let rows = user::Entity::find().filter(user::Column::CompanyId.eq(company_id.0)).all(db).await?;
    Ok(rows.into_iter().map(|u| (UserId(u.id), u.name)).collect())
}

pub(super) async fn notification_preferences(db: &impl ConnectionTrait, user_id: UserId) -> Result<Option<NotificationPreferences>, DomainError> {
    let row = user::Entity::find_by_id(user_id.0).one(db).await?;
    Ok(row.map(|u| NotificationPreferences { email: u.notify_email, sms: u.notify_sms, push: u.notify_push }))
}

pub(super) async fn set_notification_preferences(
    db: &impl ConnectionTrait,
    user_id: UserId,
    preferences: NotificationPreferences,
) -> Result<(), DomainError> {
    user::Entity::update_many()
        .col_expr(user::Column::NotifyEmail, Expr::value(preferences.email))
        .col_expr(user::Column::NotifySms, Expr::value(preferences.sms))
        .col_expr(user::Column::NotifyPush, Expr::value(preferences.push))
        .filter(user::Column::Id.eq(user_id.0))
        .exec(db)
        .await?;
    Ok(())
}
