//! The `disclosures` table: one MCP tool call that returned patients' records, and through what.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "disclosures")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: i64,
    pub company_id: i32,
    pub key_id: String,
    pub owner_user_id: i32,
    pub label: String,
    pub credential: String,
    pub client: Option<String>,
    pub tool: String,
    pub at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
