//! Companies and users: creating them, signing in, and loading the signed-in user. The rules are here; the
//! queries are in [`store`].
use std::collections::HashMap;

use crate::db::{ConnectionTrait, TransactionTrait};
use chrono::Utc;
use rand::Rng;

use crate::model::{CaregiverView, CompanyId, CurrentUser, NotificationPreferences, PersonStatus, PersonView, UserId};
use crate::password::{self, Password};
use crate::throttle::PasswordAttempts;
use crate::{DomainError, Role};

pub(crate) mod store;

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
            && !email.chars().any(|c| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"".contains(c));
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
    if name.chars().any(|c| c.is_control() || crate::text::is_invisible_format(c)) {
        return Err(DomainError::Invalid(format!("{what} cannot contain control or invisible characters")));
    }
    match name.chars().count() {
        0 => Err(DomainError::Invalid(format!("{what} is required"))),
        1..=200 => Ok(name.to_owned()),
        _ => Err(DomainError::Invalid(format!("{what} can have at most 200 characters"))),
    }
}

/// A company, as the services hand it out (never the storage row).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Company {
    pub id: CompanyId,
    pub name: String,
    /// The 8-digit number Basic-auth MCP clients send with a key.
    pub account_number: i64,
}

/// A user account, as the services hand it out (never the storage row, and never the password hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub id: UserId,
    pub company_id: CompanyId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub status: PersonStatus,
}

impl Account {
    pub fn is_active(&self) -> bool {
        self.status == PersonStatus::Active
    }
}

/// Creates a company with a fresh random 8-digit account number (used by Basic-auth MCP clients).
pub async fn create_company(db: &impl ConnectionTrait, name: &str) -> Result<Company, DomainError> {
    let name = parse_name(name, "Company name")?;
    for _ in 0..5 {
        let account_number = rand::thread_rng().gen_range(10_000_000..100_000_000);
        match store::insert_company(db, &name, account_number, Utc::now()).await {
            Err(DomainError::Conflict(_)) => continue,
            created => return created,
        }
    }
    Err(DomainError::Internal("no free account number after five draws".into()))
}

pub async fn find_company_by_account(db: &impl ConnectionTrait, account_number: i64) -> Result<Company, DomainError> {
    store::company_by_account(db, account_number).await?.ok_or(DomainError::NotFound("Company"))
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
    refuse_beside_demo_accounts(db).await?;
    let txn = db.begin().await?;
    let company = create_company(&txn, name).await?;
    let root = add_user(&txn, NewUser { company_id: company.id, email: root_email, name: root_name, role: Role::Root, password }).await?;
    txn.commit().await?;
    Ok((company, root))
}

/// The demo data's first account (the Root User of Sunrise Home Care): a database that has it holds the demo
/// companies, whose accounts share a published password.
pub const DEMO_MARKER_EMAIL: &str = "root@sunrise.test";

/// Whether this database holds the demo companies.
pub async fn holds_demo_accounts(db: &impl ConnectionTrait) -> Result<bool, DomainError> {
    store::email_exists(db, DEMO_MARKER_EMAIL).await
}

/// How many companies the database holds.
pub async fn count_companies(db: &impl ConnectionTrait) -> Result<u64, DomainError> {
    store::count_companies(db).await
}

/// Refuses (409) when the demo companies are in this database: real agencies' data never goes beside accounts
/// whose password is published.
async fn refuse_beside_demo_accounts(db: &impl ConnectionTrait) -> Result<(), DomainError> {
    if holds_demo_accounts(db).await? {
        return Err(DomainError::Conflict(
            "This database holds the demo companies, whose accounts share a published password; create real companies in a new \
             database (point DATABASE_URL at it)."
                .to_owned(),
        ));
    }
    Ok(())
}

/// What an operator or the seed supplies to add a user.
pub struct NewUser<'a> {
    pub company_id: CompanyId,
    pub email: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password: Password,
}

/// Adds a user; a taken email is a 409.
pub async fn add_user(db: &impl ConnectionTrait, new: NewUser<'_>) -> Result<Account, DomainError> {
    let email = Email::parse(new.email)?;
    let name = parse_name(new.name, "Name")?;
    let password_hash = password::hash(new.password).await?;
    store::insert_user(
        db,
        store::NewUserRow { company_id: new.company_id, email: &email, name: &name, role: new.role, password_hash: &password_hash, at: Utc::now() },
    )
    .await
}

/// Checks an email and password. Unknown email, wrong password and inactive user all give
/// [`DomainError::InvalidCredentials`], after the same amount of argon2 work.
pub async fn authenticate(db: &impl ConnectionTrait, email: &str, password: Password) -> Result<CurrentUser, DomainError> {
    let (account, stored) = match Email::parse(email) {
        Ok(email) => store::user_by_email(db, &email).await?.unzip(),
        Err(_) => (None, None),
    };
    let matches = password::verify(password, stored).await?;
    match account {
        Some(account) if matches && account.is_active() => current_user(db, account.id).await?.ok_or(DomainError::InvalidCredentials),
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
    attempts.guard(email, ip, authenticate(db, email, password), |outcome| matches!(outcome, Err(DomainError::InvalidCredentials))).await
}

/// Records that the person just signed in (the People page's "last sign-in").
pub(crate) async fn record_sign_in(db: &impl ConnectionTrait, user_id: UserId, at: chrono::DateTime<Utc>) -> Result<(), DomainError> {
    store::touch_sign_in(db, user_id, at).await
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
    let check = async {
        let stored = store::password_hash(db, who.id).await?.ok_or(DomainError::Unauthenticated)?;
        password::verify(password, Some(stored)).await
    };
    attempts.guard(&who.email, ip, check, |checked| matches!(checked, Ok(false))).await
}

/// Loads an active user with their company; `None` for unknown or deactivated users.
pub async fn current_user(db: &impl ConnectionTrait, user_id: UserId) -> Result<Option<CurrentUser>, DomainError> {
    Ok(store::user_with_company(db, user_id).await?.and_then(|(account, company)| signed_in(account, company)))
}

/// The one way an account becomes the signed-in person the app sees: `None` when it is deactivated.
pub(crate) fn signed_in(account: Account, company: Company) -> Option<CurrentUser> {
    account.is_active().then_some(CurrentUser {
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
pub(crate) async fn names_in_company(db: &impl ConnectionTrait, company_id: CompanyId) -> Result<HashMap<UserId, String>, DomainError> {
    store::names_in_company(db, company_id).await
}

/// The company's caregivers, by name.
pub(crate) async fn caregivers(db: &impl ConnectionTrait, company_id: CompanyId) -> Result<Vec<CaregiverView>, DomainError> {
    store::caregivers(db, company_id).await
}

/// Finds a user by email (operator commands).
pub async fn find_user_by_email(db: &impl ConnectionTrait, email: &str) -> Result<Account, DomainError> {
    let email = Email::parse(email)?;
    store::user_by_email(db, &email).await?.map(|(account, _)| account).ok_or(DomainError::NotFound("User"))
}

/// Sets a user's active flag directly, for tests only: it skips what [`crate::people`] does around it (ending
/// sessions, the last-Root-User rule, the activity feed), which every real change goes through.
#[cfg(feature = "test-util")]
pub async fn set_active(db: &impl ConnectionTrait, user_id: UserId, active: bool) -> Result<(), DomainError> {
    if store::set_active(db, user_id, active).await? {
        Ok(())
    } else {
        Err(DomainError::NotFound("User"))
    }
}

/// The people a viewer may filter by, by name: the whole company for Root Users, just themselves for everyone
/// else.
pub async fn people(db: &impl ConnectionTrait, viewer: &CurrentUser) -> Result<Vec<PersonView>, DomainError> {
    let only = (viewer.role != Role::Root).then_some(viewer.id);
    let mut people = store::people(db, viewer.company_id, only).await?;
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
    if !confirm_password(db, attempts, who, current, ip).await? {
        return Err(DomainError::WrongPassword);
    }
    let hash = password::hash(new).await?;
    store::set_password_hash(db, who.id, &hash).await
}

pub async fn notification_preferences(db: &impl ConnectionTrait, user_id: UserId) -> Result<NotificationPreferences, DomainError> {
    store::notification_preferences(db, user_id).await?.ok_or(DomainError::NotFound("User"))
}

pub async fn set_notification_preferences(
    db: &impl ConnectionTrait,
    user_id: UserId,
    preferences: NotificationPreferences,
) -> Result<(), DomainError> {
    store::set_notification_preferences(db, user_id, preferences).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_and_nonsense_is_refused() {
        assert_eq!(Email::parse("  Root@Sunrise.TEST ").unwrap().as_str(), "root@sunrise.test");
        for bad in ["", "root", "@sunrise.test", "root@", "root@localhost", "ro ot@sunrise.test", "root@.test", "bob<bob@evil.test>", "a,b@c.test"] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("  Barbara  ", "Name").unwrap(), "Barbara");
        assert!(parse_name("   ", "Name").is_err());
        assert!(parse_name(&"x".repeat(201), "Name").is_err());
        for sneaky in ["Nina\nBcc: x", "Nina\u{0}", "Nina\u{202E}yaR"] {
            assert!(parse_name(sneaky, "Name").is_err(), "{sneaky:?}");
        }
        assert_eq!(parse_name("Zoë مريم", "Name").unwrap(), "Zoë مريم", "scripts stay");
    }
}
