//! The `activity_events` table: who did what, when, from where — and with which key, when a key acted.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "activity_events")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub company_id: i32,
    pub actor_user_id: Option<i32>,
    pub key_id: Option<String>,
    pub action: crate::model::Action,
    pub target: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub created_at: DateTimeUtc,
    /// How many identical events this row stands for (a burst of the same tool call, see the writer).
    pub repeats: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
