//! The `oauth_tokens` table: access and refresh tokens of connections, each only as the SHA-256 of its secret.
use sea_orm::entity::prelude::*;

use crate::oauth::TokenKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_tokens")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub token_id: String,
    /// The connection (`api_keys.key_id`).
    pub key_id: String,
    pub kind: TokenKind,
    pub secret_hash: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// A refresh token's rotation: set when it was exchanged; presenting it again revokes the connection.
    pub used_at: Option<DateTimeUtc>,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
