//! Companies and users: creating them, signing in, and loading the signed-in user.
use chrono::Utc;
use rand::Rng;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, Set, TransactionTrait};

use crate::entity::{company, user};
use crate::model::{CurrentUser, NotificationPreferences, PersonView};
use crate::password::{self, Password, PasswordHash};
use crate::throttle::PasswordAttempts;
use crate::{DomainError, Role};

/// A validated, normalised (trimmed, lower-case) email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, DomainError> {
        let email = raw.trim().to_lowercase();
        let valid = email.len() <= 320
            && email
                .split_once('@')
                .is_some_and(|(local, domain)| !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.'))
            && !email.chars().any(char::is_whitespace);
        if valid {
            Ok(Email(email))
        } else {
            Err(DomainError::Invalid(format!("\"{}\" is not an email address", raw.trim())))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A display name: trimmed, 1–200 characters.
pub fn parse_name(raw: &str, what: &str) -> Result<String, DomainError> {
    let name = raw.trim();
    match name.chars().count() {
        0 => Err(DomainError::Invalid(format!("{what} is required"))),
        1..=200 => Ok(name.to_owned()),
        _ => Err(DomainError::Invalid(format!("{what} can have at most 200 characters"))),
    }
}

/// A company, as the services hand it out (never the storage row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: i32,
    pub name: String,
    /// The 8-digit number Basic-auth MCP clients send with a key.
    pub account_number: i64,
}

impl From<company::Model> for Company {
    fn from(row: company::Model) -> Self {
        Company { id: row.id, name: row.name, account_number: row.account_number }
    }
}

/// A user account, as the services hand it out (never the storage row, and never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: i32,
    pub company_id: i32,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub active: bool,
}

impl From<user::Model> for Account {
    fn from(row: user::Model) -> Self {
        Account { id: row.id, company_id: row.company_id, email: row.email, name: row.name, role: row.role, active: row.active }
    }
}

/// Creates a company with a fresh random 8-digit account number (used by Basic-auth MCP clients).
pub async fn create_company(db: &impl ConnectionTrait, name: &str) -> Result<Company, DomainError> {
    let name = parse_name(name, "Company name")?;
    for _ in 0..5 {
        let account_number = rand::thread_rng().gen_range(10_000_000..100_000_000);
        let row =
            company::ActiveModel { name: Set(name.clone()), account_number: Set(account_number), created_at: Set(Utc::now()), ..Default::default() };
        match row.insert(db).await {
            Ok(model) => return Ok(model.into()),
            Err(err) => match DomainError::conflict_on_unique(err, "account number taken") {
                DomainError::Conflict(_) => continue,
                other => return Err(other),
            },
        }
    }
    Err(DomainError::Internal("no free account number after five draws".into()))
}

pub async fn find_company_by_account(db: &impl ConnectionTrait, account_number: i64) -> Result<Company, DomainError> {
    let row = company::Entity::find().filter(company::Column::AccountNumber.eq(account_number)).one(db).await?;
    row.map(Company::from).ok_or(DomainError::NotFound("Company"))
}

/// Creates a company with its first Root User, both or neither. Refused in a database that holds the demo
/// companies (their accounts share a published password).
pub async fn create_company_with_root(
    db: &(impl ConnectionTrait + TransactionTrait),
    name: &str,
    root_email: &str,
    root_name: &str,
    password: Password,
) -> Result<(Company, Account), DomainError> {
    crate::demo::refuse_if_present(db).await?;
    let txn = db.begin().await?;
    let company = create_company(&txn, name).await?;
    let root = add_user(&txn, NewUser { company_id: company.id, email: root_email, name: root_name, role: Role::Root, password }).await?;
    txn.commit().await?;
    Ok((company, root))
}

/// What an operator or the seed supplies to add a user.
pub struct NewUser<'a> {
    pub company_id: i32,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password: Password,
}

/// Adds a user; a taken email is a 409.
pub async fn add_user(db: &impl ConnectionTrait, new: NewUser<'_>) -> Result<Account, DomainError> {
    let email = Email::parse(new.email)?;
    let name = parse_name(new.name, "Name")?;
    let hash = password::hash(new.password).await?;
    user::ActiveModel {
        company_id: Set(new.company_id),
        email: Set(email.as_str().to_owned()),
        name: Set(name),
        password_hash: Set(hash.as_str().to_owned()),
        role: Set(new.role),
        active: Set(true),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await
    .map(Account::from)
    .map_err(|err| DomainError::conflict_on_unique(err, "A user with that email already exists"))
}

/// Checks an email and password. Unknown email, wrong password and inactive user all give
/// [`DomainError::InvalidCredentials`], after the same amount of argon2 work.
pub async fn authenticate(db: &impl ConnectionTrait, email: &str, password: Password) -> Result<CurrentUser, DomainError> {
    let found = match Email::parse(email) {
        Ok(email) => user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(db).await?,
        Err(_) => None,
    };
    let stored = found.as_ref().map(|user| PasswordHash::from_stored(user.password_hash.clone()));
    let matches = password::verify(password, stored).await?;
    match found {
        Some(user) if matches && user.active => current_user(db, user.id).await?.ok_or(DomainError::InvalidCredentials),
        _ => Err(DomainError::InvalidCredentials),
    }
}

/// [`authenticate`] under the process's bound on password guessing: over it, 429 without checking anything.
/// Only a wrong password (or unknown email) counts against the bound: an attempt that could not be checked
/// (the server busy, the database away) is taken back.
pub async fn sign_in(
    db: &impl ConnectionTrait,
    attempts: &PasswordAttempts,
    email: &str,
    password: Password,
    ip: Option<&str>,
) -> Result<CurrentUser, DomainError> {
    attempts.begin(email, ip).map_err(|retry_after| DomainError::TooManyAttempts { retry_after })?;
    let outcome = authenticate(db, email, password).await;
    if !matches!(outcome, Err(DomainError::InvalidCredentials)) {
        attempts.succeeded(email, ip);
    }
    outcome
}

/// Checks the password of a signed-in user (re-authentication before sensitive actions, password changes),
/// under the same bound on guessing as sign-in: a stolen session cannot be used to guess the password.
pub async fn confirm_password(
    db: &impl ConnectionTrait,
    attempts: &PasswordAttempts,
    who: &CurrentUser,
    password: Password,
    ip: Option<&str>,
) -> Result<bool, DomainError> {
    attempts.begin(&who.email, ip).map_err(|retry_after| DomainError::TooManyAttempts { retry_after })?;
    let checked = async {
        let user = user::Entity::find_by_id(who.id).one(db).await?.ok_or(DomainError::Unauthenticated)?;
        password::verify(password, Some(PasswordHash::from_stored(user.password_hash))).await
    }
    .await;
    if !matches!(checked, Ok(false)) {
        attempts.succeeded(&who.email, ip);
    }
    checked
}

/// Loads an active user with their company; `None` for unknown or deactivated users.
pub async fn current_user(db: &impl ConnectionTrait, user_id: i32) -> Result<Option<CurrentUser>, DomainError> {
    let Some((user, Some(company))) = user::Entity::find_by_id(user_id).find_also_related(company::Entity).one(db).await? else {
        return Ok(None);
    };
    Ok(signed_in(user.into(), company.into()))
}

/// The one way an account becomes the signed-in person the app sees: `None` when it is deactivated.
pub(crate) fn signed_in(account: Account, company: Company) -> Option<CurrentUser> {
    account.active.then_some(CurrentUser {
        id: account.id,
        name: account.name,
        email: account.email,
        role: account.role,
        company_id: company.id,
        company_name: company.name,
        company_account: company.account_number,
    })
}

/// Every name in a company, by user id: how feeds and lists name the people their rows point at.
pub(crate) async fn names_in_company(db: &impl ConnectionTrait, company_id: i32) -> Result<std::collections::HashMap<i32, String>, DomainError> {
    Ok(user::Entity::find().filter(user::Column::CompanyId.eq(company_id)).all(db).await?.into_iter().map(|u| (u.id, u.name)).collect())
}

/// Finds a user by email (operator commands).
pub async fn find_user_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Account, DomainError> {
    let email = Email::parse(email)?;
    let row = user::Entity::find().filter(user::Column::Email.eq(email.as_str())).one(db).await?;
    row.map(Account::from).ok_or(DomainError::NotFound("User"))
}

/// Activates or deactivates a user; a deactivated user can no longer sign in and their sessions stop working.
pub async fn set_active(db: &impl ConnectionTrait, user_id: i32, active: bool) -> Result<(), DomainError> {
    let user = user::Entity::find_by_id(user_id).one(db).await?.ok_or(DomainError::NotFound("User"))?;
    let mut row: user::ActiveModel = user.into();
    row.active = Set(active);
    row.update(db).await?;
    Ok(())
}

/// The people a viewer may filter by: the whole company for Root Users, just themselves for everyone else.
pub async fn people(db: &impl ConnectionTrait, viewer: &CurrentUser) -> Result<Vec<PersonView>, DomainError> {
    let mut query = user::Entity::find().filter(user::Column::CompanyId.eq(viewer.company_id));
    if viewer.role != Role::Root {
        query = query.filter(user::Column::Id.eq(viewer.id));
    }
    let mut people: Vec<PersonView> = query.all(db).await?.into_iter().map(|u| PersonView { id: u.id, name: u.name, role: u.role }).collect();
    people.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(people)
}

/// Changes a user's password after checking the current one. [`crate::sessions::change_password`] wraps it
/// and ends the user's sessions.
pub async fn change_password(
    db: &impl ConnectionTrait,
    attempts: &PasswordAttempts,
    who: &CurrentUser,
    current: Password,
    new: &str,
    ip: Option<&str>,
) -> Result<(), DomainError> {
    let new = Password::parse_new(new)?;
    let user_id = who.id;
    if !confirm_password(db, attempts, who, current, ip).await? {
        return Err(DomainError::WrongPassword);
    }
    let hash = password::hash(new).await?;
    user::Entity::update_many()
        .col_expr(user::Column::PasswordHash, sea_orm::sea_query::Expr::value(hash.as_str()))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn notification_preferences(db: &impl ConnectionTrait, user_id: i32) -> Result<NotificationPreferences, DomainError> {
    let user = user::Entity::find_by_id(user_id).one(db).await?.ok_or(DomainError::NotFound("User"))?;
    Ok(NotificationPreferences { email: user.notify_email, sms: user.notify_sms, push: user.notify_push })
}

pub async fn set_notification_preferences(db: &impl ConnectionTrait, user_id: i32, preferences: NotificationPreferences) -> Result<(), DomainError> {
    use sea_orm::sea_query::Expr;
    user::Entity::update_many()
        .col_expr(user::Column::NotifyEmail, Expr::value(preferences.email))
        .col_expr(user::Column::NotifySms, Expr::value(preferences.sms))
        .col_expr(user::Column::NotifyPush, Expr::value(preferences.push))
        .filter(user::Column::Id.eq(user_id))
        .exec(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_nonsense_is_refused() {
        assert_eq!(Email::parse("  Root@Sunrise.TEST ").unwrap().as_str(), "root@sunrise.test");
        for bad in ["", "root", "@sunrise.test", "root@", "root@localhost", "ro ot@sunrise.test", "root@.test"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  Barbara  ", "Name").unwrap(), "Barbara");
        assert!(parse_name("   ", "Name").is_err());
        assert!(parse_name(&"x".repeat(201), "Name").is_err());
    }
}
