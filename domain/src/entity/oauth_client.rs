//! The `oauth_clients` table: OAuth clients known to caregate, from a Client ID Metadata Document (cached,
//! refreshed after an hour) or from Dynamic Client Registration (expiring unless a connection uses it).
use sea_orm::entity::prelude::*;

use crate::oauth::ClientKind;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "oauth_clients")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    /// The metadata document's https URL, or the `cgc_…` identifier given at registration.
    pub client_id: String,
    pub kind: ClientKind,
    pub name: String,
    /// The metadata document's host (verified clients only).
    pub domain: Option<String>,
    /// One redirect URI per line, compared exactly.
    pub redirect_uris: String,
    pub created_at: DateTimeUtc,
    /// When the metadata document was last fetched (or the registration made).
    pub refreshed_at: DateTimeUtc,
    /// A registration nobody has connected with yet is forgotten at this time.
    pub expires_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
