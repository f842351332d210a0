//! Storage of OAuth clients, authorization requests and tokens: the SeaORM queries behind the OAuth service
//! and the connection check, returning domain types (no row leaves this module).
use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, QueryFilter, QuerySelect, Set};

use crate::entity::{api_key, oauth_authorization, oauth_client, oauth_token, user};
use crate::keys::store::KeyForCheck;
use crate::model::{ClientOrigin, ConnectedApp, UserId};
use crate::oauth::{ClientKind, TokenKind};
use crate::scope::Scope;
use crate::DomainError;

/// A known client.
#[derive(Debug, Clone)]
pub struct Client {
    pub id: i32,
    pub client_id: String,
    pub kind: ClientKind,
    pub name: String,
    pub domain: Option<String>,
    pub redirect_uris: Vec<String>,
    pub refreshed_at: DateTime<Utc>,
}

impl Client {
    pub fn app(&self) -> ConnectedApp {
        ConnectedApp { client_name: self.name.clone(), origin: origin(self.kind, self.domain.as_deref()) }
    }
}

fn origin(kind: ClientKind, domain: Option<&str>) -> ClientOrigin {
    match (kind, domain) {
        (ClientKind::MetadataDocument, Some(domain)) => ClientOrigin::Verified { domain: domain.to_owned() },
        _ => ClientOrigin::SelfRegistered,
    }
}

impl From<oauth_client::Model> for Client {
    fn from(row: oauth_client::Model) -> Self {
        Client {
            id: row.id,
            client_id: row.client_id,
            kind: row.kind,
            name: row.name,
            domain: row.domain,
            redirect_uris: row.redirect_uris.lines().map(str::to_owned).collect(),
            refreshed_at: row.refreshed_at,
        }
    }
}

/// What a client is stored with.
pub struct NewClient<'a> {
    pub client_id: &'a str,
    pub kind: ClientKind,
    pub name: &'a str,
    pub domain: Option<&'a str>,
    pub redirect_uris: &'a [String],
    pub expires_at: Option<DateTime<Utc>>,
}

/// A client that has not expired (an expired registration is as good as unknown).
pub async fn find_client(db: &impl ConnectionTrait, client_id: &str, now: DateTime<Utc>) -> Result<Option<Client>, DomainError> {
    let row = oauth_client::Entity::find().filter(oauth_client::Column::ClientId.eq(client_id)).one(db).await?;
    Ok(row.filter(|row| row.expires_at.is_none_or(|at| at > now)).map(Client::from))
}

pub async fn find_client_by_row(db: &impl ConnectionTrait, id: i32) -> Result<Option<Client>, DomainError> {
    Ok(oauth_client::Entity::find_by_id(id).one(db).await?.map(Client::from))
}

/// Stores a client, or (a metadata document fetched again) replaces what was known of it.
pub async fn save_client(db: &impl ConnectionTrait, new: NewClient<'_>, now: DateTime<Utc>) -> Result<Client, DomainError> {
    let existing = oauth_client::Entity::find().filter(oauth_client::Column::ClientId.eq(new.client_id)).one(db).await?;
    let row = match existing {
        Some(row) => {
            let mut active: oauth_client::ActiveModel = row.into();
            active.name = Set(new.name.to_owned());
            active.domain = Set(new.domain.map(str::to_owned));
            active.redirect_uris = Set(new.redirect_uris.join("\n"));
            active.refreshed_at = Set(now);
            // A client nobody has connected with yet keeps a deadline, renewed by this fetch.
            if active.expires_at.as_ref().is_some() {
                active.expires_at = Set(new.expires_at);
            }
            active.update(db).await?
        }
        None => oauth_client::ActiveModel {
            client_id: Set(new.client_id.to_owned()),
            kind: Set(new.kind),
            name: Set(new.name.to_owned()),
            domain: Set(new.domain.map(str::to_owned)),
            redirect_uris: Set(new.redirect_uris.join("\n")),
            created_at: Set(now),
            refreshed_at: Set(now),
            expires_at: Set(new.expires_at),
            ..Default::default()
        }
        .insert(db)
        .await
        .map_err(|err| DomainError::conflict_on_unique(err, "This client is being registered already; try again"))?,
    };
    Ok(row.into())
}

/// A registration that a connection now uses is kept for good.
pub async fn keep_client(db: &impl ConnectionTrait, id: i32) -> Result<(), DomainError> {
    oauth_client::Entity::update_many()
        .col_expr(oauth_client::Column::ExpiresAt, Expr::value(Option::<DateTime<Utc>>::None))
        .filter(oauth_client::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// A pending or decided authorization request.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub id: i32,
    pub client_row: i32,
    pub redirect_uri: String,
    pub requested: Vec<Scope>,
    pub state: Option<String>,
    pub code_challenge: String,
    pub user_id: Option<UserId>,
    pub decided: bool,
    pub granted: Vec<Scope>,
    pub connection_expires_at: Option<DateTime<Utc>>,
    pub expires_at: DateTime<Utc>,
    pub redeemed_at: Option<DateTime<Utc>>,
    pub key_id: Option<String>,
}

impl From<oauth_authorization::Model> for Authorization {
    fn from(row: oauth_authorization::Model) -> Self {
        Authorization {
            id: row.id,
            client_row: row.client_id,
            redirect_uri: row.redirect_uri,
            requested: Scope::split(&row.scopes),
            state: row.state,
            code_challenge: row.code_challenge,
            user_id: row.user_id.map(UserId),
            decided: row.code_hash.is_some(),
            granted: row.granted_scopes.as_deref().map(Scope::split).unwrap_or_default(),
            connection_expires_at: row.connection_expires_at,
            expires_at: row.expires_at,
            redeemed_at: row.redeemed_at,
            key_id: row.key_id,
        }
    }
}

pub struct NewAuthorization<'a> {
    pub request_hash: &'a str,
    pub client_row: i32,
    pub redirect_uri: &'a str,
    pub requested: &'a [Scope],
    pub state: Option<&'a str>,
    pub code_challenge: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_authorization(db: &impl ConnectionTrait, new: NewAuthorization<'_>) -> Result<(), DomainError> {
    oauth_authorization::ActiveModel {
        request_hash: Set(new.request_hash.to_owned()),
        client_id: Set(new.client_row),
        redirect_uri: Set(new.redirect_uri.to_owned()),
        scopes: Set(Scope::join(new.requested)),
        state: Set(new.state.map(str::to_owned)),
        code_challenge: Set(new.code_challenge.to_owned()),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn find_authorization_by_request(db: &impl ConnectionTrait, request_hash: &str) -> Result<Option<Authorization>, DomainError> {
    Ok(oauth_authorization::Entity::find().filter(oauth_authorization::Column::RequestHash.eq(request_hash)).one(db).await?.map(Authorization::from))
}

pub async fn find_authorization_by_code(db: &impl ConnectionTrait, code_hash: &str) -> Result<Option<Authorization>, DomainError> {
    Ok(oauth_authorization::Entity::find().filter(oauth_authorization::Column::CodeHash.eq(code_hash)).one(db).await?.map(Authorization::from))
}

/// Binds an undecided request to the first person who opens it; returns whether it is (now) theirs.
pub async fn bind_authorization(db: &impl ConnectionTrait, id: i32, user_id: UserId) -> Result<bool, DomainError> {
    oauth_authorization::Entity::update_many()
        .col_expr(oauth_authorization::Column::UserId, Expr::value(Some(user_id.0)))
        .filter(oauth_authorization::Column::Id.eq(id))
        .filter(oauth_authorization::Column::UserId.is_null())
        .exec(db)
        .await?;
    let row = oauth_authorization::Entity::find_by_id(id).one(db).await?;
    Ok(row.is_some_and(|row| row.user_id == Some(user_id.0)))
}

/// What an Allow records: the code (as its digest), the scopes, the connection's expiry and its Key ID.
pub struct Approval<'a> {
    pub user_id: UserId,
    pub code_hash: &'a str,
    pub granted: &'a [Scope],
    pub connection_expires_at: Option<DateTime<Utc>>,
    pub code_expires_at: DateTime<Utc>,
    pub key_id: &'a str,
}

/// Records an Allow, unless the request was decided already or belongs to someone else; returns whether this
/// call decided it.
pub async fn approve(db: &impl ConnectionTrait, id: i32, approval: Approval<'_>) -> Result<bool, DomainError> {
    let result = oauth_authorization::Entity::update_many()
        .col_expr(oauth_authorization::Column::KeyId, Expr::value(Some(approval.key_id.to_owned())))
        .col_expr(oauth_authorization::Column::CodeHash, Expr::value(Some(approval.code_hash.to_owned())))
        .col_expr(oauth_authorization::Column::GrantedScopes, Expr::value(Some(Scope::join(approval.granted))))
        .col_expr(oauth_authorization::Column::ConnectionExpiresAt, Expr::value(approval.connection_expires_at))
        .col_expr(oauth_authorization::Column::ExpiresAt, Expr::value(approval.code_expires_at))
        .filter(oauth_authorization::Column::Id.eq(id))
        .filter(oauth_authorization::Column::UserId.eq(approval.user_id.0))
        .filter(oauth_authorization::Column::CodeHash.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn delete_authorization(db: &impl ConnectionTrait, id: i32) -> Result<(), DomainError> {
    oauth_authorization::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Marks a code redeemed, unless it was redeemed before; returns whether this call redeemed it (the one use a
/// code has).
pub async fn redeem(db: &impl ConnectionTrait, id: i32, at: DateTime<Utc>) -> Result<bool, DomainError> {
    let result = oauth_authorization::Entity::update_many()
        .col_expr(oauth_authorization::Column::RedeemedAt, Expr::value(Some(at)))
        .filter(oauth_authorization::Column::Id.eq(id))
        .filter(oauth_authorization::Column::RedeemedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub struct NewToken<'a> {
    pub token_id: &'a str,
    pub key_id: &'a str,
    pub kind: TokenKind,
    pub secret_hash: &'a str,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn insert_token(db: &impl ConnectionTrait, new: NewToken<'_>) -> Result<(), DomainError> {
    oauth_token::ActiveModel {
        token_id: Set(new.token_id.to_owned()),
        key_id: Set(new.key_id.to_owned()),
        kind: Set(new.kind),
        secret_hash: Set(new.secret_hash.to_owned()),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|err| DomainError::conflict_on_unique(err, "Token ID collision; please try again"))?;
    Ok(())
}

/// A stored token (never its secret, only the digest to compare with).
#[derive(Debug, Clone)]
pub struct StoredToken {
    pub id: i32,
    pub key_id: String,
    pub kind: TokenKind,
    pub secret_hash: String,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn find_token(db: &impl ConnectionTrait, token_id: &str) -> Result<Option<StoredToken>, DomainError> {
    Ok(oauth_token::Entity::find().filter(oauth_token::Column::TokenId.eq(token_id)).one(db).await?.map(|row| StoredToken {
        id: row.id,
        key_id: row.key_id,
        kind: row.kind,
        secret_hash: row.secret_hash,
        expires_at: row.expires_at,
        used_at: row.used_at,
        revoked_at: row.revoked_at,
    }))
}

/// Marks a refresh token exchanged (kept until `keep_until` to recognise a replay), unless it was already;
/// returns whether this call did (one rotation each).
pub async fn use_token(db: &impl ConnectionTrait, id: i32, at: DateTime<Utc>, keep_until: DateTime<Utc>) -> Result<bool, DomainError> {
    let result = oauth_token::Entity::update_many()
        .col_expr(oauth_token::Column::UsedAt, Expr::value(Some(at)))
        .col_expr(oauth_token::Column::ExpiresAt, Expr::value(keep_until))
        .filter(oauth_token::Column::Id.eq(id))
        .filter(oauth_token::Column::UsedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Deletes every access token of a connection (its refresh rotated: the new pair replaces them); returns how
/// many of them still worked at `now` (neither expired nor revoked).
pub async fn delete_access_tokens(db: &impl ConnectionTrait, key_id: &str, now: DateTime<Utc>) -> Result<u64, DomainError> {
    use sea_orm::PaginatorTrait;
    let working = oauth_token::Entity::find()
        .filter(oauth_token::Column::KeyId.eq(key_id))
        .filter(oauth_token::Column::Kind.eq(TokenKind::Access))
        .filter(oauth_token::Column::ExpiresAt.gt(now))
        .filter(oauth_token::Column::RevokedAt.is_null())
        .count(db)
        .await?;
    oauth_token::Entity::delete_many()
        .filter(oauth_token::Column::KeyId.eq(key_id))
        .filter(oauth_token::Column::Kind.eq(TokenKind::Access))
        .exec(db)
        .await?;
    Ok(working)
}

/// How many clients wait for their first connection (registrations and fetched documents).
pub async fn count_unused_clients(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DomainError> {
    use sea_orm::PaginatorTrait;
    Ok(oauth_client::Entity::find()
        .filter(oauth_client::Column::ExpiresAt.is_not_null())
        .filter(oauth_client::Column::ExpiresAt.gt(now))
        .count(db)
        .await?)
}

/// Revokes a token unless it was already; whether this call did.
pub async fn revoke_token(db: &impl ConnectionTrait, id: i32, at: DateTime<Utc>) -> Result<bool, DomainError> {
    let result = oauth_token::Entity::update_many()
        .col_expr(oauth_token::Column::RevokedAt, Expr::value(Some(at)))
        .filter(oauth_token::Column::Id.eq(id))
        .filter(oauth_token::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The client of each of these connections (for the keys list).
pub async fn apps_of(db: &impl ConnectionTrait, client_rows: &[i32]) -> Result<std::collections::HashMap<i32, ConnectedApp>, DomainError> {
    if client_rows.is_empty() {
        return Ok(Default::default());
    }
    let rows = oauth_client::Entity::find().filter(oauth_client::Column::Id.is_in(client_rows.iter().copied())).all(db).await?;
    Ok(rows.into_iter().map(|row| (row.id, Client::from(row).app())).collect())
}

/// What checking an access token needs on every request, in one indexed query: the token, its connection,
/// the connection's owner as they are now and the owner's company.
#[derive(FromQueryResult)]
pub struct AccessForCheck {
    pub token_secret_hash: String,
    pub token_kind: TokenKind,
    pub token_expires_at: DateTime<Utc>,
    pub token_revoked_at: Option<DateTime<Utc>>,
    pub key_id: String,
    company_id: i32,
    user_id: i32,
    label: String,
    scopes: String,
    expires_at: Option<DateTime<Utc>>,
    revoked_at: Option<DateTime<Utc>>,
    owner_name: String,
    owner_email: String,
    owner_role: crate::Role,
    owner_active: bool,
    company_name: String,
    company_account: i64,
    requests_per_minute: i32,
}

impl AccessForCheck {
    /// The connection's part, checked like a key.
    pub fn connection(&self) -> KeyForCheck {
        KeyForCheck::new(
            self.company_id,
            self.user_id,
            self.label.clone(),
            self.scopes.clone(),
            self.expires_at,
            self.revoked_at,
            (self.owner_name.clone(), self.owner_email.clone(), self.owner_role, self.owner_active),
            (self.company_name.clone(), self.company_account, self.requests_per_minute),
        )
    }
}

pub async fn find_access_for_check(db: &impl ConnectionTrait, token_id: &str) -> Result<Option<AccessForCheck>, DomainError> {
    let query = oauth_token::Entity::find()
        .select_only()
        .column_as(oauth_token::Column::SecretHash, "token_secret_hash")
        .column_as(oauth_token::Column::Kind, "token_kind")
        .column_as(oauth_token::Column::ExpiresAt, "token_expires_at")
        .column_as(oauth_token::Column::RevokedAt, "token_revoked_at")
        .column_as(api_key::Column::KeyId, "key_id")
        .column_as(api_key::Column::CompanyId, "company_id")
        .column_as(api_key::Column::UserId, "user_id")
        .column_as(api_key::Column::Label, "label")
        .column_as(api_key::Column::Scopes, "scopes")
        .column_as(api_key::Column::ExpiresAt, "expires_at")
        .column_as(api_key::Column::RevokedAt, "revoked_at")
        .join(
            JoinType::InnerJoin,
            oauth_token::Entity::belongs_to(api_key::Entity).from(oauth_token::Column::KeyId).to(api_key::Column::KeyId).into(),
        );
    Ok(crate::keys::store::with_owner_and_company(query)
        .filter(oauth_token::Column::TokenId.eq(token_id))
        .filter(api_key::Column::OauthClientId.is_not_null())
        .into_model::<AccessForCheck>()
        .one(db)
        .await?)
}

/// The connection a token belongs to: its row id, owner, company, client and label, whatever its status.
pub struct ConnectionRef {
    pub id: i32,
    pub key_id: String,
    pub company_id: crate::model::CompanyId,
    pub owner_id: UserId,
    pub owner_name: String,
    pub client_row: Option<i32>,
    pub label: String,
    pub scopes: Vec<Scope>,
    pub revoked: bool,
    pub expires_at: Option<DateTime<Utc>>,
}

pub async fn find_connection(db: &impl ConnectionTrait, key_id: &str) -> Result<Option<ConnectionRef>, DomainError> {
    let found = api_key::Entity::find()
        .filter(api_key::Column::KeyId.eq(key_id))
        .filter(api_key::Column::OauthClientId.is_not_null())
        .find_also_related(user::Entity)
        .one(db)
        .await?;
    Ok(found.and_then(|(row, owner)| {
        owner.map(|owner| ConnectionRef {
            id: row.id,
            key_id: row.key_id,
            company_id: crate::model::CompanyId(row.company_id),
            owner_id: UserId(row.user_id),
            owner_name: owner.name,
            client_row: row.oauth_client_id,
            label: row.label,
            scopes: Scope::split(&row.scopes),
            revoked: row.revoked_at.is_some(),
            expires_at: row.expires_at,
        })
    }))
}

/// Forgets what is of no use any more: requests and codes an hour past their deadline, tokens a day past
/// theirs, and registrations nobody connected with. Returns how many rows went.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DomainError> {
    let authorizations = oauth_authorization::Entity::delete_many()
        .filter(oauth_authorization::Column::ExpiresAt.lt(now - chrono::Duration::hours(1)))
        .exec(db)
        .await?
        .rows_affected;
    let tokens =
        oauth_token::Entity::delete_many().filter(oauth_token::Column::ExpiresAt.lt(now - chrono::Duration::days(1))).exec(db).await?.rows_affected;
    let clients = oauth_client::Entity::delete_many()
        .filter(oauth_client::Column::ExpiresAt.is_not_null())
        .filter(oauth_client::Column::ExpiresAt.lt(now))
        .exec(db)
        .await?
        .rows_affected;
    Ok(authorizations + tokens + clients)
}
