//! The `oauth_authorizations` table: an authorization request from its validation (the consent page's
//! `request` id, as SHA-256) through the person's decision (a one-time code, as SHA-256) to its redemption
//! (the connection's Key ID).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_authorizations")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub request_hash: String,
    /// `oauth_clients.id`.
    pub client_id: i32,
    pub redirect_uri: String,
    /// Comma-separated scope names the client asked for.
    pub scopes: String,
    pub state: Option<String>,
    /// PKCE S256 challenge (base64url of the verifier's SHA-256).
    pub code_challenge: String,
    /// The person the request is bound to once they open the consent page.
    pub user_id: Option<i32>,
    pub code_hash: Option<String>,
    pub granted_scopes: Option<String>,
    pub connection_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    /// The request's (and then the code's) deadline.
    pub expires_at: DateTimeUtc,
    pub redeemed_at: Option<DateTimeUtc>,
    /// The connection the code was redeemed for.
    pub key_id: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
