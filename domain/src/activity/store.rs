//! Storage of activity events: the SeaORM queries behind [`crate::activity`] and the batched
//! [`crate::activity_writer`]. Events go in as [`PendingEvent`]s and come out as [`StoredEvent`]s.
use chrono::{DateTime, Utc};
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::{clip, untrusted, Action, NewEvent};
use crate::entity::activity_event;
use crate::model::{CompanyId, UserId};
use crate::DomainError;

/// An event ready to store: clipped to its columns, the outsider's text cleaned.
#[derive(Clone)]
pub(crate) struct PendingEvent(activity_event::ActiveModel);

impl From<NewEvent<'_>> for PendingEvent {
    fn from(event: NewEvent<'_>) -> Self {
        PendingEvent(activity_event::ActiveModel {
            company_id: Set(event.company_id.0),
            actor_user_id: Set(event.actor_user_id.map(|id| id.0)),
            key_id: Set(event.key_id.map(str::to_owned)),
            action: Set(event.action),
            target: Set(event.target.chars().take(400).collect()),
            ip: Set(clip(&event.origin.ip, 64)),
            user_agent: Set(untrusted(&event.origin.user_agent, 400)),
            created_at: Set(event.at),
            ..Default::default()
        })
    }
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
}

pub(super) async fn insert(db: &impl ConnectionTrait, event: PendingEvent) -> Result<(), DomainError> {
    event.0.insert(db).await?;
    Ok(())
}

/// Stores a batch in one multi-row `INSERT`.
pub(crate) async fn insert_batch(db: &impl ConnectionTrait, events: Vec<PendingEvent>) -> Result<(), DomainError> {
    activity_event::Entity::insert_many(events.into_iter().map(|event| event.0)).exec_without_returning(db).await?;
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
        })
        .collect())
}
