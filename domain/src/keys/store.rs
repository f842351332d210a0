//! Storage of API keys: the SeaORM queries behind the key service and the verifier, returning domain types.
use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Func, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, FromQueryResult, JoinType, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, RelationTrait, Set,
};

use crate::accounts::{Account, Company};
use crate::entity::{api_key, company, user};
use crate::keys::policy::{KeyPolicy, KeyStatus};
use crate::model::{ApiKeyView, CompanyId, ConnectedApp, CurrentUser, KeyFilter, KeyPage, PersonStatus, RevokeAllOf, UserId};
use crate::scope::Scope;
use crate::{DomainError, Role};

/// A stored key with its owner's name and role, as the service needs it (the row itself stays here).
pub struct StoredKey {
    row: api_key::Model,
    owner: Owner,
    /// The OAuth client, when the row is a connection rather than a key.
    connection: Option<ConnectedApp>,
}

/// What a key listing says about a key's owner.
struct Owner {
    name: String,
    email: String,
    role: Role,
    active: bool,
}

impl From<user::Model> for Owner {
    fn from(row: user::Model) -> Self {
        Owner { name: row.name, email: row.email, role: row.role, active: row.active }
    }
}

impl StoredKey {
    /// The row's primary key, for updates.
    pub fn id(&self) -> i32 {
        self.row.id
    }

    pub fn key_id(&self) -> &str {
        &self.row.key_id
    }

    pub fn label(&self) -> &str {
        &self.row.label
    }

    pub fn company_id(&self) -> CompanyId {
        CompanyId(self.row.company_id)
    }

    pub fn owner_id(&self) -> UserId {
        UserId(self.row.user_id)
    }

    pub fn owner_name(&self) -> &str {
        &self.owner.name
    }

    /// Where mail to the owner goes, or `None` when the owner is deactivated (nobody reads it).
    pub fn owner_email(&self) -> Option<&str> {
        self.owner.active.then_some(self.owner.email.as_str())
    }

    /// The key's argon2id hash, for a check outside the verifier (a leak report); empty for a connection.
    pub(crate) fn secret_hash(&self) -> crate::password::PasswordHash {
        crate::password::PasswordHash::from_stored(self.row.secret_hash.clone())
    }

    pub fn status(&self, now: DateTime<Utc>) -> KeyStatus {
        KeyStatus::at(self.row.revoked_at, self.row.expires_at, now)
    }

    pub fn view(&self, now: DateTime<Utc>) -> ApiKeyView {
        to_view(&self.row, &self.owner, self.connection.clone(), now)
    }

    /// The key's scopes as stored.
    pub fn scopes(&self) -> Vec<Scope> {
        Scope::split(&self.row.scopes)
    }

    pub fn created_at(&self) -> DateTime<Utc> {
        self.row.created_at
    }

    pub fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.row.expires_at
    }

    /// The stored IP allowlist, as [`NewKey::allowed_ips`] takes it.
    pub fn allowed_ips(&self) -> Option<&str> {
        self.row.allowed_ips.as_deref()
    }

    /// The Key ID of the key that replaced this one, once rolled.
    pub fn rolled_to(&self) -> Option<&str> {
        self.row.rolled_to.as_deref()
    }

    /// Whether this row is an app connected through OAuth.
    pub fn is_connection(&self) -> bool {
        self.row.oauth_client_id.is_some()
    }
}

/// The list view of a key row, given its owner (and its client, for a connection).
fn to_view(row: &api_key::Model, owner: &Owner, connection: Option<ConnectedApp>, now: DateTime<Utc>) -> ApiKeyView {
    ApiKeyView {
        key_id: row.key_id.clone(),
        label: row.label.clone(),
        owner_id: UserId(row.user_id),
        owner_name: owner.name.clone(),
        owner_role: owner.role,
        owner_active: owner.active,
        created_at: row.created_at,
        last_used_at: row.last_used_at,
        last_used_ip: row.last_used_ip.clone(),
        last_used_client: crate::activity::untrusted(&row.last_used_client, 200),
        expires_at: row.expires_at,
        revoked_at: row.revoked_at,
        status: KeyStatus::at(row.revoked_at, row.expires_at, now),
        scopes: Scope::split(&row.scopes),
        connection,
        allowed_ips: row.allowed_ips.as_deref().map(|stored| stored.split(',').map(str::to_owned).collect()).unwrap_or_default(),
        rolled_to: row.rolled_to.clone(),
    }
}

/// What verifying a key needs on every request, read in one indexed query: the key, its owner as they are
/// now, and the owner's company with its request budget.
#[derive(FromQueryResult)]
pub struct KeyForCheck {
    company_id: i32,
    user_id: i32,
    pub label: String,
    pub secret_hash: String,
    pub scopes: String,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    /// The key's stored IP allowlist; `None` (and always for a connection): anywhere.
    pub allowed_ips: Option<String>,
    owner_name: String,
    owner_email: String,
    owner_role: Role,
    owner_active: bool,
    company_name: String,
    company_account: i64,
    requests_per_minute: i32,
}

impl KeyForCheck {
    /// The same facts read by another query (an OAuth access token's connection).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        company_id: i32,
        user_id: i32,
        label: String,
        scopes: String,
        expires_at: Option<DateTime<Utc>>,
        revoked_at: Option<DateTime<Utc>>,
        (owner_name, owner_email, owner_role, owner_active): (String, String, Role, bool),
        (company_name, company_account, requests_per_minute): (String, i64, i32),
    ) -> Self {
        KeyForCheck {
            company_id,
            user_id,
            label,
            secret_hash: String::new(),
            scopes,
            expires_at,
            revoked_at,
            allowed_ips: None,
            owner_name,
            owner_email,
            owner_role,
            owner_active,
            company_name,
            company_account,
            requests_per_minute,
        }
    }

    pub fn company_id(&self) -> CompanyId {
        CompanyId(self.company_id)
    }

    /// The company's per-minute request budget for each of its keys.
    pub fn requests_per_minute(&self) -> u32 {
        u32::try_from(self.requests_per_minute).unwrap_or(600)
    }

    pub fn status(&self, now: DateTime<Utc>) -> KeyStatus {
        KeyStatus::at(self.revoked_at, self.expires_at, now)
    }

    /// Whether the key's owner is active (what [`KeyForCheck::owner`] needs, without building them).
    pub fn owner_is_active(&self) -> bool {
        self.owner_active
    }

    /// The key's owner as the app sees them, or `None` when they are deactivated.
    pub fn owner(&self) -> Option<CurrentUser> {
        let account = Account {
            id: UserId(self.user_id),
            company_id: CompanyId(self.company_id),
            email: self.owner_email.clone(),
            name: self.owner_name.clone(),
            role: self.owner_role,
            status: if self.owner_active { PersonStatus::Active } else { PersonStatus::Deactivated },
        };
        let company = Company { id: CompanyId(self.company_id), name: self.company_name.clone(), account_number: self.company_account };
        crate::accounts::signed_in(account, company)
    }
}

/// Adds what every credential check reads besides the key row — the owner as they are now and the owner's
/// company with its request budget — to a query that selects from `api_keys` (or joins it).
pub(crate) fn with_owner_and_company<Q: QuerySelect>(query: Q) -> Q {
    query
        .column_as(user::Column::Name, "owner_name")
        .column_as(user::Column::Email, "owner_email")
        .column_as(user::Column::Role, "owner_role")
        .column_as(user::Column::Active, "owner_active")
        .column_as(company::Column::Name, "company_name")
        .column_as(company::Column::AccountNumber, "company_account")
        .column_as(company::Column::KeyRequestsPerMinute, "requests_per_minute")
        .join(JoinType::InnerJoin, api_key::Relation::Owner.def())
        .join(JoinType::InnerJoin, user::Relation::Company.def())
}

pub async fn find_for_check(db: &impl ConnectionTrait, key_id: &str) -> Result<Option<KeyForCheck>, DomainError> {
    let query = api_key::Entity::find().select_only().columns([
        api_key::Column::CompanyId,
        api_key::Column::UserId,
        api_key::Column::Label,
        api_key::Column::SecretHash,
        api_key::Column::Scopes,
        api_key::Column::ExpiresAt,
        api_key::Column::RevokedAt,
        api_key::Column::AllowedIps,
    ]);
    Ok(with_owner_and_company(query)
        .filter(api_key::Column::KeyId.eq(key_id))
        // A connection has no key secret: its Key ID never authenticates a `cg_…` token.
        .filter(api_key::Column::OauthClientId.is_null())
        .into_model::<KeyForCheck>()
        .one(db)
        .await?)
}

/// The key with this Key ID and its owner, from any company.
pub async fn find(db: &impl ConnectionTrait, key_id: &str) -> Result<Option<StoredKey>, DomainError> {
    let Some((row, Some(owner))) = api_key::Entity::find().filter(api_key::Column::KeyId.eq(key_id)).find_also_related(user::Entity).one(db).await?
    else {
        return Ok(None);
    };
    let mut keys = with_connections(db, vec![(row, owner)]).await?;
    Ok(keys.pop())
}

/// Rows with their owners become stored keys, with the OAuth client of each connection among them.
async fn with_connections(db: &impl ConnectionTrait, rows: Vec<(api_key::Model, user::Model)>) -> Result<Vec<StoredKey>, DomainError> {
    let clients: Vec<i32> = rows.iter().filter_map(|(row, _)| row.oauth_client_id).collect();
    let apps = crate::oauth::apps_of(db, &clients).await?;
    Ok(rows
        .into_iter()
        .map(|(row, owner)| {
            let connection = row.oauth_client_id.and_then(|id| apps.get(&id).cloned());
            StoredKey { row, owner: owner.into(), connection }
        })
        .collect())
}

/// The company's key policy.
pub async fn policy(db: &impl ConnectionTrait, company_id: CompanyId) -> Result<KeyPolicy, DomainError> {
    let company = company::Entity::find_by_id(company_id.0).one(db).await?.ok_or(DomainError::NotFound("Company"))?;
    Ok(KeyPolicy {
        lifetime_days: u32::try_from(company.key_lifetime_days).unwrap_or(90),
        allow_non_expiring: company.allow_non_expiring_keys,
        max_active_keys: u32::try_from(company.max_active_keys_per_user).unwrap_or(10),
        requests_per_minute: u32::try_from(company.key_requests_per_minute).unwrap_or(600),
        creators: company.key_creators,
        require_two_factor: company.keys_require_two_factor,
    })
}

pub async fn set_policy(db: &impl ConnectionTrait, company_id: CompanyId, policy: KeyPolicy) -> Result<(), DomainError> {
    company::Entity::update_many()
        .col_expr(company::Column::KeyLifetimeDays, Expr::value(policy.lifetime_days as i32))
        .col_expr(company::Column::AllowNonExpiringKeys, Expr::value(policy.allow_non_expiring))
        .col_expr(company::Column::MaxActiveKeysPerUser, Expr::value(policy.max_active_keys as i32))
        .col_expr(company::Column::KeyRequestsPerMinute, Expr::value(policy.requests_per_minute as i32))
        .col_expr(company::Column::KeyCreators, Expr::value(policy.creators))
        .col_expr(company::Column::KeysRequireTwoFactor, Expr::value(policy.require_two_factor))
        .filter(company::Column::Id.eq(company_id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Takes the owner's row lock for the rest of the transaction, so that concurrent mints for one user count
/// their active keys one after another.
pub async fn lock_owner(db: &impl ConnectionTrait, user_id: UserId) -> Result<(), DomainError> {
    crate::accounts::store::lock_user(db, user_id).await
}

fn active_at(now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(api_key::Column::RevokedAt.is_null())
        .add(Condition::any().add(api_key::Column::ExpiresAt.is_null()).add(api_key::Column::ExpiresAt.gt(now)))
}

/// The keys that count against the active-key limit: working keys, except a rolled key whose successor
/// works (the pair is one key in transition).
fn counted_at(now: DateTime<Utc>) -> Condition {
    let working_successors = Query::select().column(api_key::Column::KeyId).from(api_key::Entity).cond_where(active_at(now)).to_owned();
    active_at(now).add(Condition::any().add(api_key::Column::RolledTo.is_null()).add(api_key::Column::RolledTo.not_in_subquery(working_successors)))
}

fn status_condition(status: KeyStatus, now: DateTime<Utc>) -> Condition {
    match status {
        KeyStatus::Active => active_at(now),
        KeyStatus::Expired => Condition::all().add(api_key::Column::RevokedAt.is_null()).add(api_key::Column::ExpiresAt.lte(now)),
        KeyStatus::Revoked => Condition::all().add(api_key::Column::RevokedAt.is_not_null()),
    }
}

/// How many working keys each of `user_ids` has (those without any are left out).
pub async fn count_active_by_owner(db: &impl ConnectionTrait, user_ids: &[UserId], now: DateTime<Utc>) -> Result<HashMap<UserId, u64>, DomainError> {
    #[derive(FromQueryResult)]
    struct Count {
        user_id: i32,
        keys: i64,
    }
    let counts = api_key::Entity::find()
        .select_only()
        .column(api_key::Column::UserId)
        .column_as(api_key::Column::Id.count(), "keys")
        .filter(api_key::Column::UserId.is_in(user_ids.iter().map(|id| id.0)))
        .filter(counted_at(now))
        .group_by(api_key::Column::UserId)
        .into_model::<Count>()
        .all(db)
        .await?;
    Ok(counts.into_iter().map(|count| (UserId(count.user_id), u64::try_from(count.keys).unwrap_or(0))).collect())
}

pub async fn count_active(db: &impl ConnectionTrait, user_id: UserId, now: DateTime<Utc>) -> Result<u64, DomainError> {
    Ok(api_key::Entity::find().filter(api_key::Column::UserId.eq(user_id.0)).filter(counted_at(now)).count(db).await?)
}

/// What a new key row holds; the owner decides its company.
pub struct NewKey<'a> {
    pub key_id: &'a str,
    pub owner: &'a CurrentUser,
    pub label: &'a str,
    pub secret_hash: &'a str,
    pub scopes: &'a [Scope],
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
    /// The OAuth client of a connection (which then has no key secret); `None` for a key.
    pub oauth_client: Option<(i32, ConnectedApp)>,
    /// The stored IP allowlist ([`crate::keys::allowlist::IpAllowlist::stored`]); `None`: anywhere.
    pub allowed_ips: Option<String>,
}

pub async fn insert(db: &impl ConnectionTrait, new: NewKey<'_>) -> Result<StoredKey, DomainError> {
    let row = api_key::ActiveModel {
        key_id: Set(new.key_id.to_owned()),
        company_id: Set(new.owner.company_id.0),
        user_id: Set(new.owner.id.0),
        label: Set(new.label.to_owned()),
        secret_hash: Set(new.secret_hash.to_owned()),
        scopes: Set(Scope::join(new.scopes)),
        created_at: Set(new.created_at),
        expires_at: Set(new.expires_at),
        oauth_client_id: Set(new.oauth_client.as_ref().map(|(id, _)| *id)),
        allowed_ips: Set(new.allowed_ips),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|err| DomainError::conflict_on_unique(err, "Key ID collision; please try again"))?;
    let owner = Owner { name: new.owner.name.clone(), email: new.owner.email.clone(), role: new.owner.role, active: true };
    Ok(StoredKey { row, owner, connection: new.oauth_client.map(|(_, app)| app) })
}

/// The company's active keys of a role or of one person, with their owners.
pub async fn active_of(db: &impl ConnectionTrait, company_id: CompanyId, of: RevokeAllOf, now: DateTime<Utc>) -> Result<Vec<StoredKey>, DomainError> {
    let mut query = api_key::Entity::find().filter(api_key::Column::CompanyId.eq(company_id.0)).filter(active_at(now));
    query = match of {
        RevokeAllOf::Person(user_id) => query.filter(api_key::Column::UserId.eq(user_id.0)),
        RevokeAllOf::Role(role) => query.filter(user::Column::Role.eq(role)),
    };
    let rows = query.find_also_related(user::Entity).all(db).await?;
    with_connections(db, rows.into_iter().filter_map(|(row, owner)| owner.map(|owner| (row, owner))).collect()).await
}

/// Marks the key revoked unless it already is; returns whether this call revoked it.
pub async fn revoke(db: &impl ConnectionTrait, id: i32, at: DateTime<Utc>) -> Result<bool, DomainError> {
    let result = api_key::Entity::update_many()
        .col_expr(api_key::Column::RevokedAt, Expr::value(at))
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Marks a working key rolled: replaced by `successor`, stopping at `stops_at`. Returns whether this call did
/// it (a key already rolled, revoked or expired is left alone).
pub async fn mark_rolled(
    db: &impl ConnectionTrait,
    id: i32,
    successor: &str,
    stops_at: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    let result = api_key::Entity::update_many()
        .col_expr(api_key::Column::RolledTo, Expr::value(successor))
        .col_expr(api_key::Column::ExpiresAt, Expr::value(Some(stops_at)))
        .filter(api_key::Column::Id.eq(id))
        .filter(api_key::Column::RolledTo.is_null())
        .filter(active_at(now))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Replaces a key's IP allowlist (`None`: anywhere).
pub async fn set_allowlist(db: &impl ConnectionTrait, id: i32, allowed_ips: Option<String>) -> Result<(), DomainError> {
    api_key::Entity::update_many()
        .col_expr(api_key::Column::AllowedIps, Expr::value(allowed_ips))
        .filter(api_key::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Sets Last Used (time, IP, client) of a key.
pub async fn touch(db: &impl ConnectionTrait, key_id: &str, origin: &crate::activity::Origin, at: DateTime<Utc>) -> Result<(), DomainError> {
    api_key::Entity::update_many()
        .col_expr(api_key::Column::LastUsedAt, Expr::value(Some(at)))
        .col_expr(api_key::Column::LastUsedIp, Expr::value(crate::activity::clip(&origin.ip, 64)))
        .col_expr(api_key::Column::LastUsedClient, Expr::value(crate::activity::untrusted(&origin.user_agent, 200)))
        .filter(api_key::Column::KeyId.eq(key_id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn delete(db: &impl ConnectionTrait, id: i32) -> Result<(), DomainError> {
    api_key::Entity::delete_by_id(id).exec(db).await?;
    Ok(())
}

/// Which rows a listing may include.
pub enum Visibility {
    Everything,
    Company(CompanyId),
    Owner { company_id: CompanyId, user_id: UserId },
}

/// A page of keys, newest first.
pub async fn list(db: &impl ConnectionTrait, visibility: Visibility, filter: &KeyFilter, now: DateTime<Utc>) -> Result<KeyPage, DomainError> {
    let per_page = filter.per_page.clamp(1, 100);
    let page = filter.page.max(1);
    let mut query = api_key::Entity::find();
    query = match visibility {
        Visibility::Everything => query,
        Visibility::Company(company_id) => query.filter(api_key::Column::CompanyId.eq(company_id.0)),
        Visibility::Owner { company_id, user_id } => {
            query.filter(api_key::Column::CompanyId.eq(company_id.0)).filter(api_key::Column::UserId.eq(user_id.0))
        }
    };
    if let Some(user_id) = filter.user_id {
        query = query.filter(api_key::Column::UserId.eq(user_id.0));
    }
    if let Some(status) = filter.status {
        query = query.filter(status_condition(status, now));
    }
    if let Some(search) = filter.search.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        query = query.filter(Expr::expr(Func::lower(Expr::col((api_key::Entity, api_key::Column::Label)))).like(crate::db::contains_pattern(search)));
    }
    // Counted on the key table alone: a count over the joined rows costs a second on 100 000 keys in SQLite.
    let total = query.clone().count(db).await?;
    let rows = query
        .order_by_desc(api_key::Column::CreatedAt)
        .order_by_desc(api_key::Column::Id)
        .find_also_related(user::Entity)
        .paginate(db, u64::from(per_page))
        .fetch_page(u64::from(page - 1))
        .await?
        .into_iter()
        .filter_map(|(row, owner)| owner.map(|owner| (row, owner)))
        .collect();
    let keys = with_connections(db, rows).await?.iter().map(|key| key.view(now)).collect();
    Ok(KeyPage { keys, total, page, per_page })
}
