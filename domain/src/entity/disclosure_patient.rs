//! The `disclosure_patients` table: each patient a disclosure returned, with its company, key, owner and time
//! repeated for the "by patient" and "by key" indexes.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disclosure_patients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub disclosure_id: i64,
    #[sea_orm(primary_key, auto_increment = false)]
    pub patient_id: i32,
    pub company_id: i32,
    pub key_id: String,
    pub owner_user_id: i32,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
