//! The `users` table: people who sign in, with their role and argon2id password hash.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub company_id: i32,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub role: crate::Role,
    pub active: bool,
    pub created_at: DateTimeUtc,
    pub notify_email: bool,
    pub notify_sms: bool,
    pub notify_push: bool,
    pub last_sign_in_at: Option<DateTimeUtc>,
    pub totp_secret: Option<String>,
    pub totp_enabled_at: Option<DateTimeUtc>,
    pub totp_last_step: Option<i64>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::company::Entity", from = "Column::CompanyId", to = "super::company::Column::Id")]
    Company,
}

impl Related<super::company::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Company.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
