//! The activity feed: recording what people (and their keys) did, and listing it with the app's visibility.
use crate::db::ConnectionTrait;
use chrono::{DateTime, Utc};

use crate::model::{ActivityFilter, ActivityPage, ActivityView, ActorKind, CompanyId, CurrentUser, UserId};
use crate::{DomainError, Role};

pub(crate) mod store;

/// Where a request came from, for the activity feed and Last Used.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Origin {
    /// The operator command line.
    pub fn operator() -> Origin {
        Origin { ip: None, user_agent: Some("caregate command line".to_owned()) }
    }
}

pub use crate::model::Action;

/// One event to record.
pub struct NewEvent<'a> {
    pub company_id: CompanyId,
    pub actor_user_id: Option<UserId>,
    pub key_id: Option<&'a str>,
    pub action: Action,
    pub target: String,
    pub origin: &'a Origin,
    pub at: DateTime<Utc>,
}

/// The first `max` characters of an optional text, to fit its column.
pub(crate) fn clip(value: &Option<String>, max: usize) -> Option<String> {
    value.as_ref().map(|v| v.chars().take(max).collect())
}

/// Text an outsider chose (a `User-Agent`, an MCP client's name): control characters and invisible or
/// direction-changing format characters removed, clipped to `max` characters. It is still the outsider's
/// words: the feed shows it in quotes and `list_activity` returns it as data, never as our own text.
pub fn untrusted_text(value: &str, max: usize) -> String {
    value.chars().filter(|c| !c.is_control() && !crate::text::is_invisible_format(*c)).take(max).collect()
}

/// [`untrusted_text`] of an optional text.
pub(crate) fn untrusted(value: &Option<String>, max: usize) -> Option<String> {
    value.as_deref().map(|value| untrusted_text(value, max))
}

/// What kind of actor an event has: a person when one is named; otherwise an unknown client for a refused
/// key (nobody is known but the Key ID presented) or a leak report (only the reporter's address is known), and
/// the operator's command line for everything else. That rests on an invariant every writer of events keeps:
/// an event without a person is a refused key, a leak report or something done at the command line (`Actor::Operator`); a new way to act without a person needs a kind of
/// its own here.
pub fn actor_kind(actor_user_id: Option<UserId>, action: Action) -> ActorKind {
    match actor_user_id {
        Some(_) => ActorKind::Person,
        None if matches!(action, Action::KeyAuthFailed | Action::KeyReportedLeaked) => ActorKind::UnknownClient,
        None => ActorKind::CommandLine,
    }
}

/// Records one event now, inside the caller's transaction when it has one (mints, revocations…).
pub async fn record(db: &impl ConnectionTrait, event: NewEvent<'_>) -> Result<(), DomainError> {
    store::insert(db, event.into()).await
}

/// How many events of one action are stored, in every company.
pub async fn count_for_action(db: &impl ConnectionTrait, action: Action) -> Result<u64, DomainError> {
    store::count_for_action(db, action).await
}

/// Events newest first: the company's for Root Users, one's own for everyone else.
pub async fn list(db: &impl ConnectionTrait, viewer: &CurrentUser, filter: ActivityFilter) -> Result<ActivityPage, DomainError> {
    let per_page = filter.per_page.clamp(1, 200);
    let page = filter.page.max(1);
    let actor = if viewer.role == Role::Root { filter.user_id } else { Some(viewer.id) };
    let query = store::EventQuery {
        company_id: viewer.company_id,
        actor,
        key_id: filter.key_id.as_deref().map(str::trim).filter(|k| !k.is_empty()),
        offset: u64::from(page - 1) * u64::from(per_page),
        limit: u64::from(per_page) + 1,
    };
    let mut rows = store::page(db, query).await?;
    let has_more = rows.len() > per_page as usize;
    rows.truncate(per_page as usize);

    let names = crate::accounts::names_in_company(db, viewer.company_id).await?;
    let events = rows
        .into_iter()
        .map(|row| ActivityView {
            id: row.id,
            at: row.at,
            actor_kind: actor_kind(row.actor, row.action),
            actor_id: row.actor,
            actor_name: row.actor.and_then(|id| names.get(&id).cloned()),
            key_id: row.key_id,
            action: row.action,
            target: row.target,
            ip: row.ip,
            user_agent: untrusted(&row.user_agent, 400),
            repeats: row.repeats,
        })
        .collect();
    Ok(ActivityPage { events, has_more, page, per_page })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outsiders_text_loses_controls_and_invisible_characters_and_is_clipped() {
        assert_eq!(untrusted_text("Claude\u{1b}[31m Code\n\r\u{202E}1.0\u{0}", 400), "Claude[31m Code1.0");
        assert_eq!(untrusted_text(&"x".repeat(1_000), 400).len(), 400);
        assert_eq!(untrusted_text("مساعد 🧑‍⚕️", 400), "مساعد 🧑‍⚕️", "scripts and emoji stay");
    }

    #[test]
    fn events_without_a_person_are_named_by_what_they_are() {
        assert_eq!(actor_kind(None, Action::KeyAuthFailed), ActorKind::UnknownClient);
        assert_eq!(actor_kind(None, Action::KeyRevoked), ActorKind::CommandLine);
        assert_eq!(actor_kind(None, Action::KeyReportedLeaked), ActorKind::UnknownClient);
        assert_eq!(actor_kind(Some(UserId(7)), Action::KeyAuthFailed), ActorKind::Person);
    }
}
