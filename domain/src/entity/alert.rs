//! The `alerts` table: in-app alerts for one person (expiry reminders, leaked keys).
use sea_orm::entity::prelude::*;

use crate::model::AlertKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "alerts")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub company_id: i32,
    pub user_id: i32,
    pub kind: AlertKind,
    /// The Key ID the alert is about, if any.
    pub key_id: Option<String>,
    pub message: String,
    pub created_at: DateTimeUtc,
    pub read_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
