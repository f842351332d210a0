//! Storage of per-key usage: the SeaORM queries behind [`crate::usage`]. A batch's [`Tally`] goes in as one
//! upsert per table (adding to the counters, moving "last seen" on); the panel reads one key's rows.
use chrono::NaiveDate;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect, Set};

use super::Tally;
use crate::entity::{key_usage_day, key_usage_source, key_usage_tool};
use crate::model::{ToolCalls, UsageSource};
use crate::DomainError;

/// Sources kept per key: the panel shows 5; a key used from many addresses (a leaked one) cannot grow the table
/// beyond this.
const SOURCES_KEPT: u64 = 50;

/// Rows per upsert at most (four bind parameters each at most: far under SQLite's and PostgreSQL's limits).
const ROWS_PER_STATEMENT: usize = 1_000;

/// Adds a batch's counts, in statements of at most [`ROWS_PER_STATEMENT`] rows.
pub(crate) async fn write(db: &impl ConnectionTrait, tally: &Tally) -> Result<(), DomainError> {
    if !tally.days.is_empty() {
        let rows: Vec<_> = tally
            .days
            .iter()
            .map(|((key_id, day), requests)| key_usage_day::ActiveModel { key_id: Set(key_id.clone()), day: Set(*day), requests: Set(*requests) })
            .collect();
        let add = Expr::col((key_usage_day::Entity, key_usage_day::Column::Requests)).add(Expr::cust("excluded.requests"));
        let on_conflict =
            OnConflict::columns([key_usage_day::Column::KeyId, key_usage_day::Column::Day]).value(key_usage_day::Column::Requests, add).to_owned();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            key_usage_day::Entity::insert_many(chunk.to_vec()).on_conflict(on_conflict.clone()).exec_without_returning(db).await?;
        }
    }
    if !tally.tools.is_empty() {
        let rows: Vec<_> = tally
            .tools
            .iter()
            .map(|((key_id, tool), calls)| key_usage_tool::ActiveModel { key_id: Set(key_id.clone()), tool: Set(tool.clone()), calls: Set(*calls) })
            .collect();
        let add = Expr::col((key_usage_tool::Entity, key_usage_tool::Column::Calls)).add(Expr::cust("excluded.calls"));
        let on_conflict =
            OnConflict::columns([key_usage_tool::Column::KeyId, key_usage_tool::Column::Tool]).value(key_usage_tool::Column::Calls, add).to_owned();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            key_usage_tool::Entity::insert_many(chunk.to_vec()).on_conflict(on_conflict.clone()).exec_without_returning(db).await?;
        }
    }
    if !tally.sources.is_empty() {
        let rows: Vec<_> = tally
            .sources
            .iter()
            .map(|((key_id, ip, client), at)| key_usage_source::ActiveModel {
                key_id: Set(key_id.clone()),
                ip: Set(ip.clone()),
                client: Set(client.clone()),
                last_seen_at: Set(*at),
            })
            .collect();
        let on_conflict = OnConflict::columns([key_usage_source::Column::KeyId, key_usage_source::Column::Ip, key_usage_source::Column::Client])
            .update_column(key_usage_source::Column::LastSeenAt)
            .to_owned();
        for chunk in rows.chunks(ROWS_PER_STATEMENT) {
            key_usage_source::Entity::insert_many(chunk.to_vec()).on_conflict(on_conflict.clone()).exec_without_returning(db).await?;
        }
        let keys: std::collections::BTreeSet<&String> = tally.sources.keys().map(|(key_id, _, _)| key_id).collect();
        for key_id in keys {
            forget_old_sources(db, key_id).await?;
        }
    }
    Ok(())
}

/// Keeps a key's [`SOURCES_KEPT`] most recently seen sources and deletes the rest.
async fn forget_old_sources(db: &impl ConnectionTrait, key_id: &str) -> Result<(), DomainError> {
    let oldest_kept = key_usage_source::Entity::find()
        .filter(key_usage_source::Column::KeyId.eq(key_id))
        .order_by_desc(key_usage_source::Column::LastSeenAt)
        .offset(SOURCES_KEPT - 1)
        .limit(1)
        .one(db)
        .await?;
    if let Some(oldest_kept) = oldest_kept {
        key_usage_source::Entity::delete_many()
            .filter(key_usage_source::Column::KeyId.eq(key_id))
            .filter(key_usage_source::Column::LastSeenAt.lt(oldest_kept.last_seen_at))
            .exec(db)
            .await?;
    }
    Ok(())
}

/// A key's requests per day from `first_day` on.
pub(super) async fn days(db: &impl ConnectionTrait, key_id: &str, first_day: NaiveDate) -> Result<Vec<(NaiveDate, i64)>, DomainError> {
    let rows = key_usage_day::Entity::find()
        .filter(key_usage_day::Column::KeyId.eq(key_id))
        .filter(key_usage_day::Column::Day.gte(first_day))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| (row.day, row.requests)).collect())
}

/// A key's `limit` most recently seen (address, client) pairs.
pub(super) async fn sources(db: &impl ConnectionTrait, key_id: &str, limit: u64) -> Result<Vec<UsageSource>, DomainError> {
    let rows = key_usage_source::Entity::find()
        .filter(key_usage_source::Column::KeyId.eq(key_id))
        .order_by_desc(key_usage_source::Column::LastSeenAt)
        .limit(limit)
        .all(db)
        .await?;
    let known = |text: String| (!text.is_empty()).then_some(text);
    Ok(rows.into_iter().map(|row| UsageSource { ip: known(row.ip), client: known(row.client), last_seen_at: row.last_seen_at }).collect())
}

/// A key's tool calls by tool, most called first.
pub(super) async fn tools(db: &impl ConnectionTrait, key_id: &str) -> Result<Vec<ToolCalls>, DomainError> {
    let rows = key_usage_tool::Entity::find()
        .filter(key_usage_tool::Column::KeyId.eq(key_id))
        .order_by_desc(key_usage_tool::Column::Calls)
        .order_by_asc(key_usage_tool::Column::Tool)
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| ToolCalls { tool: row.tool, calls: row.calls.max(0) as u64 }).collect())
}
