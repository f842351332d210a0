//! The `api_keys` table: one row per key; the secret only as an argon2id PHC string.
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "api_keys")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub key_id: String,
    pub company_id: i32,
    pub user_id: i32,
    pub label: String,
    pub secret_hash: String,
    /// Comma-separated scope names, as granted at minting.
    pub scopes: String,
    pub created_at: DateTimeUtc,
    pub expires_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
    pub last_used_at: Option<DateTimeUtc>,
    pub last_used_ip: Option<String>,
    pub last_used_client: Option<String>,
    /// `Some` (an `oauth_clients.id`) for a connection made through OAuth: its tokens are in `oauth_tokens`
    /// and `secret_hash` is empty.
    pub oauth_client_id: Option<i32>,
    /// The key's IP allowlist ([`crate::keys::allowlist::IpAllowlist::stored`]); `None`: anywhere.
    pub allowed_ips: Option<String>,
    /// The Key ID of the key that replaced this one in a roll; this key then stops at `expires_at`.
    pub rolled_to: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(belongs_to = "super::user::Entity", from = "Column::UserId", to = "super::user::Column::Id")]
    Owner,
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Owner.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
