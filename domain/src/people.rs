//! Managing the people of a company: Root Users (and the operator at the command line) deactivate, reactivate
//! and change the role of its users.
//!
//! Deactivation takes effect on the next request everywhere: it ends every session of the person in the same
//! transaction, and it returns only after [`keys::freshness::settle`], when no server process uses a copy of
//! the owner's row read before it, so each of their keys answers `inactive_user` from then on, on every
//! process. A demotion that takes scopes away waits the same way. Reactivation brings back the keys that are
//! still within their expiry and not revoked (within [`keys::freshness::STALENESS`]: giving access back does
//! not wait). A company always keeps one active Root User: every change that would leave it without one is
//! refused (409), decided under the company's row lock so that two Root Users demoting each other at once
//! cannot both succeed.
use chrono::{DateTime, Utc};

use crate::accounts::{store, Account};
use crate::activity::{self, Action, NewEvent, Origin};
use crate::actor::Actor;
use crate::db::{DatabaseConnection, TransactionTrait};
use crate::model::{CurrentUser, PeopleFilter, PeoplePage, PersonRow, PersonStatus, UserId};
use crate::scope::Scope;
use crate::{keys, sessions, DomainError, Role};

/// The message of the last-Root guard; clients and tests match on it.
pub const LAST_ROOT: &str = "A company must keep at least one active Root User";

/// What a change did, for the caller to say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonChanged {
    /// The person as they are now.
    pub account: Account,
    /// Keys of theirs that are within their expiry and not revoked: they stopped working (deactivation) or
    /// work again (reactivation).
    pub live_keys: u64,
}

/// Deactivates a person: they can no longer sign in, their sessions end and their keys stop working; returns
/// after [`keys::freshness::settle`].
pub async fn deactivate(
    db: &DatabaseConnection,
    actor: &Actor<'_>,
    user_id: UserId,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<PersonChanged, DomainError> {
    change(db, actor, user_id, Change::Deactivate, origin, now).await
}

/// Reactivates a deactivated person; their keys that have neither expired nor been revoked work again.
pub async fn activate(
    db: &DatabaseConnection,
    actor: &Actor<'_>,
    user_id: UserId,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<PersonChanged, DomainError> {
    change(db, actor, user_id, Change::Activate, origin, now).await
}

/// Gives a person another role. What their keys may read follows at once: a key's scopes are always
/// intersected with its owner's current role, and a demotion returns after [`keys::freshness::settle`].
pub async fn set_role(
    db: &DatabaseConnection,
    actor: &Actor<'_>,
    user_id: UserId,
    role: Role,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<PersonChanged, DomainError> {
    change(db, actor, user_id, Change::Role(role), origin, now).await
}

/// The People page: the company's people by name, filtered and paged, with their working keys and last
/// sign-in. Root Users only.
pub async fn list(db: &DatabaseConnection, viewer: &CurrentUser, filter: PeopleFilter, now: DateTime<Utc>) -> Result<PeoplePage, DomainError> {
    Actor::User(viewer).require_root("manage people")?;
    let filter = PeopleFilter { page: filter.page.max(1), per_page: filter.per_page.clamp(1, 100), ..filter };
    let (rows, total) = store::people_page(db, viewer.company_id, &filter).await?;
    let ids: Vec<UserId> = rows.iter().map(|row| row.account.id).collect();
    let keys = keys::service::count_active_by_owner(db, &ids, now).await?;
    let people = rows
        .into_iter()
        .map(|row| PersonRow {
            active_keys: keys.get(&row.account.id).copied().unwrap_or(0),
            last_sign_in_at: row.last_sign_in_at,
            two_factor: row.two_factor,
            id: row.account.id,
            name: row.account.name,
            email: row.account.email,
            role: row.account.role,
            status: row.account.status,
        })
        .collect();
    Ok(PeoplePage { people, total, page: filter.page, per_page: filter.per_page })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Change {
    Deactivate,
    Activate,
    Role(Role),
}

impl Change {
    /// Whether the person remains an active Root User after the change.
    fn leaves_active_root(self, person: &Account) -> bool {
        match self {
            Change::Deactivate => false,
            Change::Activate => person.role == Role::Root,
            Change::Role(role) => person.is_active() && role == Role::Root,
        }
    }

    /// Whether the change may take away something a key of the person's could do: then the change waits for
    /// [`keys::freshness::settle`] before it answers.
    fn takes_access_away(self, before: &Account) -> bool {
        match self {
            Change::Deactivate => true,
            Change::Activate => false,
            Change::Role(role) => Scope::allowed_for(before.role).iter().any(|scope| !Scope::allowed_for(role).contains(scope)),
        }
    }

    /// Refuses a change that would do nothing, naming the person.
    fn check_needed(self, person: &Account) -> Result<(), DomainError> {
        let invited = person.status == PersonStatus::Invited;
        let unchanged = match self {
            Change::Deactivate | Change::Activate if invited => {
                Some(format!("{} has not accepted the invitation yet; cancel the invitation instead", person.name))
            }
            Change::Deactivate => (person.status == PersonStatus::Deactivated).then(|| format!("{} is already deactivated", person.name)),
            Change::Activate => person.is_active().then(|| format!("{} is already active", person.name)),
            Change::Role(role) => (person.role == role).then(|| format!("{} is already a {}", person.name, role.display_name())),
        };
        unchanged.map_or(Ok(()), |message| Err(DomainError::Conflict(message)))
    }

    fn action(self) -> Action {
        match self {
            Change::Deactivate => Action::UserDeactivated,
            Change::Activate => Action::UserActivated,
            Change::Role(_) => Action::UserRoleChanged,
        }
    }

    /// The activity feed's description of the change.
    fn describe(self, before: &Account, live_keys: u64) -> String {
        let who = format!("{} ({})", before.name, before.email);
        let (keys, work) = match live_keys {
            1 => ("1 API key".to_owned(), "works"),
            n => (format!("{n} API keys"), "work"),
        };
        match self {
            Change::Deactivate => format!("{who}: sessions ended, {keys} stopped working"),
            Change::Activate => format!("{who}: {keys} {work} again"),
            Change::Role(role) => format!("{who}: {} → {}", before.role.display_name(), role.display_name()),
        }
    }
}

async fn change(
    db: &DatabaseConnection,
    actor: &Actor<'_>,
    user_id: UserId,
    change: Change,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<PersonChanged, DomainError> {
    actor.require_root("manage people")?;
    let person = store::account(db, user_id).await?.filter(|person| actor.sees_company(person.company_id)).ok_or(DomainError::NotFound("User"))?;

    let txn = db.begin().await?;
    store::lock_company(&txn, person.company_id).await?;
    let person = store::account(&txn, user_id).await?.ok_or(DomainError::NotFound("User"))?;
    if let Err(refused) = change.check_needed(&person) {
        drop(txn);
        if matches!(change, Change::Deactivate) {
            // "Already deactivated" perhaps a moment ago (a retry, another tab): answered once no process
            // accepts the person's keys.
            keys::freshness::settle().await;
        }
        return Err(refused);
    }
    let is_active_root = person.is_active() && person.role == Role::Root;
    if is_active_root && !change.leaves_active_root(&person) && store::other_active_roots(&txn, person.company_id, person.id).await? == 0 {
        return Err(DomainError::Conflict(LAST_ROOT.to_owned()));
    }
    match change {
        Change::Deactivate => {
            store::set_active(&txn, person.id, false).await?;
            sessions::end_all_for_user(&txn, person.id).await?;
        }
        Change::Activate => {
            store::set_active(&txn, person.id, true).await?;
        }
        Change::Role(role) => store::set_role(&txn, person.id, role).await?,
    }
    let live_keys = keys::service::count_active(&txn, person.id, now).await?;
    let event = NewEvent {
        company_id: person.company_id,
        actor_user_id: actor.user_id(),
        key_id: None,
        action: change.action(),
        target: change.describe(&person, live_keys),
        origin,
        at: now,
    };
    activity::record(&txn, event).await?;
    let account = store::account(&txn, person.id).await?.ok_or(DomainError::NotFound("User"))?;
    txn.commit().await?;
    if change.takes_access_away(&person) {
        keys::freshness::settle().await;
    }
    Ok(PersonChanged { account, live_keys })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::CompanyId;

    fn person(role: Role, status: PersonStatus) -> Account {
        Account { id: UserId(7), company_id: CompanyId(1), email: "barbara@sunrise.test".into(), name: "Barbara Lee".into(), role, status }
    }

    #[test]
    fn only_changes_that_end_a_root_users_rule_are_guarded() {
        let root = person(Role::Root, PersonStatus::Active);
        assert!(!Change::Deactivate.leaves_active_root(&root));
        assert!(!Change::Role(Role::User).leaves_active_root(&root));
        assert!(Change::Role(Role::Root).leaves_active_root(&root));
        assert!(Change::Activate.leaves_active_root(&person(Role::Root, PersonStatus::Deactivated)));
    }

    #[test]
    fn deactivations_and_demotions_take_access_away_and_promotions_do_not() {
        let office = person(Role::User, PersonStatus::Active);
        assert!(Change::Deactivate.takes_access_away(&office));
        assert!(Change::Role(Role::Caregiver).takes_access_away(&office));
        assert!(Change::Role(Role::User).takes_access_away(&person(Role::Root, PersonStatus::Active)));
        assert!(!Change::Role(Role::Root).takes_access_away(&office));
        assert!(!Change::Activate.takes_access_away(&person(Role::User, PersonStatus::Deactivated)));
    }

    #[test]
    fn a_change_that_would_do_nothing_is_refused_by_name() {
        let inactive = person(Role::Caregiver, PersonStatus::Deactivated);
        assert_eq!(Change::Deactivate.check_needed(&inactive).unwrap_err().to_string(), "Barbara Lee is already deactivated");
        assert!(Change::Activate.check_needed(&inactive).is_ok());
        let caregiver = person(Role::Caregiver, PersonStatus::Active);
        assert_eq!(Change::Role(Role::Caregiver).check_needed(&caregiver).unwrap_err().to_string(), "Barbara Lee is already a Caregiver");
        assert!(Change::Role(Role::User).check_needed(&caregiver).is_ok());
        let invited = person(Role::Caregiver, PersonStatus::Invited);
        for change in [Change::Deactivate, Change::Activate] {
            assert!(change.check_needed(&invited).unwrap_err().to_string().contains("has not accepted the invitation yet"));
        }
    }

    #[test]
    fn the_feed_says_whom_a_change_concerned_and_what_it_did() {
        let caregiver = person(Role::Caregiver, PersonStatus::Active);
        assert_eq!(Change::Deactivate.describe(&caregiver, 2), "Barbara Lee (barbara@sunrise.test): sessions ended, 2 API keys stopped working");
        assert_eq!(Change::Activate.describe(&caregiver, 1), "Barbara Lee (barbara@sunrise.test): 1 API key works again");
        assert_eq!(Change::Role(Role::User).describe(&caregiver, 0), "Barbara Lee (barbara@sunrise.test): Caregiver → User");
    }
}
