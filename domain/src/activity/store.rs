//! Storage of activity events: the SeaORM queries behind [`crate::activity`] and the batched
//! [`crate::activity_writer`]. Events go in as [`PendingEvent`]s and come out as [`StoredEvent`]s.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::{clip, untrusted, Action, NewEvent};
use crate::entity::activity_event;
use crate::model::{CompanyId, UserId};
use crate::DomainError;

/// An event ready to store: clipped to its columns, the outsider's text cleaned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PendingEvent {
    company_id: i32,
    actor_user_id: Option<i32>,
    key_id: Option<String>,
    action: Action,
    target: String,
    ip: Option<String>,
    user_agent: Option<String>,
    created_at: DateTime<Utc>,
    repeats: i32,
}

impl From<NewEvent<'_>> for PendingEvent {
    fn from(event: NewEvent<'_>) -> Self {
        PendingEvent {
            company_id: event.company_id.0,
            actor_user_id: event.actor_user_id.map(|id| id.0),
            key_id: event.key_id.map(str::to_owned),
            action: event.action,
            target: event.target.chars().take(400).collect(),
            ip: clip(&event.origin.ip, 64),
            user_agent: untrusted(&event.origin.user_agent, 400),
            created_at: event.at,
            repeats: 1,
        }
    }
}

impl PendingEvent {
    fn into_active_model(self) -> activity_event::ActiveModel {
        activity_event::ActiveModel {
            company_id: Set(self.company_id),
            actor_user_id: Set(self.actor_user_id),
            key_id: Set(self.key_id),
            action: Set(self.action),
            target: Set(self.target),
            ip: Set(self.ip),
            user_agent: Set(self.user_agent),
            created_at: Set(self.created_at),
            repeats: Set(self.repeats),
            ..Default::default()
        }
    }

    /// The address and the client this event is stored with (cleaned): with the Key ID and the tool, what tells
    /// one burst of tool calls from another.
    pub(crate) fn source(&self) -> (Option<String>, Option<String>) {
        (self.ip.clone(), self.user_agent.clone())
    }

    /// This event standing for `repeats` identical ones, the last at `last_at`.
    pub(crate) fn repeated(self, repeats: i32, last_at: DateTime<Utc>) -> PendingEvent {
        PendingEvent { repeats, created_at: last_at, ..self }
    }

    /// Whether `other` is the same event again: the same tool call by the same key, owner, address and client.
    fn repeated_by(&self, other: &PendingEvent) -> bool {
        self.action == Action::KeyUsed
            && (self.company_id, self.actor_user_id, &self.key_id, self.action, &self.target, &self.ip, &self.user_agent)
                == (other.company_id, other.actor_user_id, &other.key_id, other.action, &other.target, &other.ip, &other.user_agent)
    }
}

/// What tells one burst from another: the Key ID, the target (the tool), the address and the client.
type Burst = (Option<String>, String, Option<String>, Option<String>);

/// A batch with each burst of the same tool call folded into its first row: the row counts the calls and takes
/// the time of the last. Only key use (MCP tool calls) is folded; every other action stays one row per event.
pub(crate) fn fold_repeats(batch: Vec<PendingEvent>) -> Vec<PendingEvent> {
    let mut folded: Vec<PendingEvent> = Vec::with_capacity(batch.len());
    let mut first_of: std::collections::HashMap<Burst, usize> = Default::default();
    for event in batch {
        if event.action == Action::KeyUsed {
            let burst = (event.key_id.clone(), event.target.clone(), event.ip.clone(), event.user_agent.clone());
            if let Some(&index) = first_of.get(&burst) {
                if folded[index].repeated_by(&event) {
                    folded[index].repeats = folded[index].repeats.saturating_add(event.repeats);
                    folded[index].created_at = folded[index].created_at.max(event.created_at);
                    continue;
                }
            }
            first_of.insert(burst, folded.len());
        }
        folded.push(event);
    }
    folded
}

/// A stored event, as the feed reads it.
pub(super) struct StoredEvent {
    pub id: i32,
    pub at: DateTime<Utc>,
    pub actor: Option<UserId>,
    pub key_id: Option<String>,
    pub action: Action,
    pub target: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub repeats: u32,
}

pub(super) async fn insert(db: &impl ConnectionTrait, event: PendingEvent) -> Result<(), DomainError> {
    event.into_active_model().insert(db).await?;
    Ok(())
}

/// Stores a batch in one multi-row `INSERT`.
pub(crate) async fn insert_batch(db: &impl ConnectionTrait, events: Vec<PendingEvent>) -> Result<(), DomainError> {
    activity_event::Entity::insert_many(events.into_iter().map(PendingEvent::into_active_model)).exec_without_returning(db).await?;
    Ok(())
}

pub(super) async fn count_for_action(db: &impl ConnectionTrait, action: Action) -> Result<u64, DomainError> {
    Ok(activity_event::Entity::find().filter(activity_event::Column::Action.eq(action)).count(db).await?)
}

/// Which events of a company to read, newest first.
pub(super) struct EventQuery<'a> {
    pub company_id: CompanyId,
    pub actor: Option<UserId>,
    pub key_id: Option<&'a str>,
    pub offset: u64,
    pub limit: u64,
}

pub(super) async fn page(db: &impl ConnectionTrait, query: EventQuery<'_>) -> Result<Vec<StoredEvent>, DomainError> {
    let mut select = activity_event::Entity::find().filter(activity_event::Column::CompanyId.eq(query.company_id.0));
    if let Some(actor) = query.actor {
        select = select.filter(activity_event::Column::ActorUserId.eq(actor.0));
    }
    if let Some(key_id) = query.key_id {
        select = select.filter(activity_event::Column::KeyId.eq(key_id));
    }
    let rows = select
        .order_by_desc(activity_event::Column::CreatedAt)
        .order_by_desc(activity_event::Column::Id)
        .offset(query.offset)
        .limit(query.limit)
        .all(db)
        .await?;
    Ok(rows
        .into_iter()
        .map(|row| StoredEvent {
            id: row.id,
            at: row.created_at,
            actor: row.actor_user_id.map(UserId),
            key_id: row.key_id,
            action: row.action,
            target: row.target,
            ip: row.ip,
            user_agent: row.user_agent,
            repeats: u32::try_from(row.repeats).unwrap_or(1).max(1),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;
    use crate::activity::Origin;

    fn tool_call(key_id: &'static str, tool: &str, ip: &str, seconds: i64) -> PendingEvent {
        let origin = Origin { ip: Some(ip.to_owned()), user_agent: Some("claude-code".to_owned()) };
        let at = DateTime::<Utc>::UNIX_EPOCH + Duration::seconds(seconds);
        let event = NewEvent {
            company_id: CompanyId(1),
            actor_user_id: Some(UserId(2)),
            key_id: Some(key_id),
            action: Action::KeyUsed,
            target: format!("MCP tool {tool}"),
            origin: &origin,
            at,
        };
        event.into()
    }

    #[test]
    fn a_burst_of_the_same_tool_call_is_one_row_that_counts_the_calls_and_keeps_the_last_time() {
        let batch = vec![
            tool_call("Key00001", "whoami", "10.0.0.1", 1),
            tool_call("Key00001", "list_visits", "10.0.0.1", 2),
            tool_call("Key00001", "whoami", "10.0.0.1", 3),
            tool_call("Key00001", "whoami", "10.0.0.2", 4),
            tool_call("Key00002", "whoami", "10.0.0.1", 5),
            tool_call("Key00001", "whoami", "10.0.0.1", 6),
        ];
        let folded = fold_repeats(batch);
        let rows: Vec<(&str, &str, &str, i32, i64)> = folded
            .iter()
            .map(|row| (row.key_id.as_deref().unwrap(), row.target.as_str(), row.ip.as_deref().unwrap(), row.repeats, row.created_at.timestamp()))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("Key00001", "MCP tool whoami", "10.0.0.1", 3, 6),
                ("Key00001", "MCP tool list_visits", "10.0.0.1", 1, 2),
                ("Key00001", "MCP tool whoami", "10.0.0.2", 1, 4),
                ("Key00002", "MCP tool whoami", "10.0.0.1", 1, 5),
            ]
        );
    }

    #[test]
    fn other_actions_are_never_folded() {
        let mut revoked = tool_call("Key00001", "whoami", "10.0.0.1", 1);
        revoked.action = Action::KeyRevoked;
        assert_eq!(fold_repeats(vec![revoked.clone(), revoked]).len(), 2);
    }
}
