//! The `companies` table: one row per tenant.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "companies")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub name: String,
    pub account_number: i64,
    pub created_at: DateTimeUtc,
    pub key_lifetime_days: i32,
    pub allow_non_expiring_keys: bool,
    pub max_active_keys_per_user: i32,
    pub key_requests_per_minute: i32,
    pub key_creators: crate::keys::policy::KeyCreators,
    pub keys_require_two_factor: bool,
    pub record_retention_years: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
