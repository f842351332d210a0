//! The `key_reminders` table: the claim on one expiry reminder of one key; its primary key makes it once.
use sea_orm::entity::prelude::*;

use crate::model::AlertKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "key_reminders")]
pub struct Model {
    /// `api_keys.id`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub api_key_id: i32,
    #[sea_orm(primary_key, auto_increment = false)]
    pub kind: AlertKind,
    pub claimed_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
