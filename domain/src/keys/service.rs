//! The key service: minting, listing, revoking and deleting API keys under the company's policy, and
//! recording a key's use. Server functions (as the signed-in person) and the operator command line
//! (`caregate keys …`, as [`Actor::Operator`]) mint, list and revoke through these functions; the API-key layer
//! and the MCP endpoint record a key's use. Verifying a presented key is the [`crate::keys::verifier`]'s, and
//! what it yields is in [`crate::keys::principal`].
use crate::db::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use chrono::{DateTime, Utc};

use crate::activity::{self, Action, NewEvent, Origin};
use crate::keys::allowlist::IpAllowlist;
use crate::keys::freshness::settle;
use crate::keys::policy::{self, KeyLabel, KeyPolicy, KeyStatus, RollOverlap};
use crate::keys::store::{self, NewKey, StoredKey, Visibility};
use crate::keys::token::{self, KeyId, Token, TokenEnvironment};
use crate::model::{ApiKeyView, CompanyId, CurrentUser, KeyFilter, KeyPage, MintRequest, RevokeAllOf, UserId};
use crate::password;
use crate::scope::Scope;
use crate::sessions::ActiveSession;
use crate::{DomainError, Role};

pub use crate::actor::Actor;

impl Actor<'_> {
    /// Whether this actor may see (and so act on) `key`. Invisible keys are answered with 404, never 403.
    fn can_see(&self, key: &StoredKey) -> bool {
        match self {
            Actor::Operator => true,
            Actor::User(user) => key.company_id() == user.company_id && (user.role == Role::Root || key.owner_id() == user.id),
        }
    }

    fn visibility(&self) -> Visibility {
        match self {
            Actor::Operator => Visibility::Everything,
            Actor::User(user) if user.role == Role::Root => Visibility::Company(user.company_id),
            Actor::User(user) => Visibility::Owner { company_id: user.company_id, user_id: user.id },
        }
    }
}

/// Why someone without two-factor may not create a key when the company requires it.
pub const TWO_FACTOR_REQUIRED: &str =
    "Your company requires two-factor authentication to create API keys. Turn it on in your account settings first.";

/// The message of the active-key limit; clients and tests match on it.
pub const LIMIT_REACHED: &str = "Maximum number of API tokens reached";

/// Mints a key for `owner` and returns it with its plaintext token — the only time the token exists outside
/// the request that presents it. `actor` is who asked (the owner, or the operator).
pub async fn mint(
    db: &DatabaseConnection,
    actor: &Actor<'_>,
    owner: &CurrentUser,
    request: MintRequest,
    environment: TokenEnvironment,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(ApiKeyView, Token), DomainError> {
    let label = KeyLabel::parse(&request.label).map_err(DomainError::Invalid)?;
    let scopes = Scope::parse_request(&request.scopes, owner.role).map_err(DomainError::Invalid)?;
    let allowed_ips = IpAllowlist::parse(&request.allowed_ips).map_err(DomainError::Invalid)?;
    let policy = store::policy(db, owner.company_id).await?;
    if !policy.creators.allows(owner.role) {
        return Err(DomainError::Forbidden(policy.creators.refusal().to_owned()));
    }
    let expires_at = policy.resolve(request.expiry.unwrap_or(policy.default_choice()), now).map_err(DomainError::Invalid)?;

    // The limit is checked before any argon2 work (a caller at the limit costs no hash), and again under the
    // owner's lock in the transaction, where concurrent mints are decided.
    if store::count_active(db, owner.id, now).await? >= u64::from(policy.max_active_keys) {
        return Err(DomainError::Conflict(LIMIT_REACHED.to_owned()));
    }
    let (token, key_id) = Token::generate(environment);
    let parsed = token::parse(token.expose(), environment).map_err(|err| DomainError::Internal(format!("fresh token does not parse: {err}")))?;
    let secret = parsed.secret().to_vec();
    let secret_hash = password::run_bounded(move || password::hash_blocking(&secret)).await??;

    let txn = db.begin().await?;
    store::lock_owner(&txn, owner.id).await?;
    if store::count_active(&txn, owner.id, now).await? >= u64::from(policy.max_active_keys) {
        return Err(DomainError::Conflict(LIMIT_REACHED.to_owned()));
    }
    let stored = store::insert(
        &txn,
        NewKey {
            key_id: key_id.as_str(),
            owner,
            label: label.as_str(),
            secret_hash: secret_hash.as_str(),
            scopes: &scopes,
            created_at: now,
            expires_at,
            oauth_client: None,
            allowed_ips: allowed_ips.as_ref().map(IpAllowlist::stored),
        },
    )
    .await?;
    activity::record(
        &txn,
        NewEvent {
            company_id: owner.company_id,
            actor_user_id: actor.user_id(),
            key_id: Some(key_id.as_str()),
            action: Action::KeyMinted,
            target: format!("API key \"{}\" for {}", label.as_str(), owner.name),
            origin,
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    Ok((stored.view(now), token))
}

/// What a session needs before it makes a new key (minting or rolling): a password or code confirmation within
/// [`crate::sessions::REAUTH_WINDOW`] (else 401 asking for it), and two-factor when the company requires it.
async fn require_fresh_session(db: &DatabaseConnection, session: &ActiveSession, now: DateTime<Utc>) -> Result<(), DomainError> {
    if !session.recently_reauthenticated(now) {
        return Err(DomainError::ReauthenticationRequired);
    }
    let policy = store::policy(db, session.user.company_id).await?;
    if policy.require_two_factor && !crate::two_factor::is_enabled(db, session.user.id).await? {
        return Err(DomainError::Forbidden(TWO_FACTOR_REQUIRED.to_owned()));
    }
    Ok(())
}

/// Mints a key for the signed-in person of `session`, who must have confirmed their password within
/// [`crate::sessions::REAUTH_WINDOW`] (else 401 asking for it).
pub async fn mint_for_session(
    db: &DatabaseConnection,
    session: &ActiveSession,
    request: MintRequest,
    environment: TokenEnvironment,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(ApiKeyView, Token), DomainError> {
    require_fresh_session(db, session, now).await?;
    mint(db, &Actor::User(&session.user), &session.user, request, environment, origin, now).await
}

/// Rolls a key: mints its successor (same owner, label, scopes and IP allowlist; the lifetime the old key was
/// made with, within the policy) and makes the old key stop at the end of `overlap`, never later than its own
/// expiry; until then both work. Owners their own keys, Root Users any they can see, the operator any; not
/// for OAuth connections. The pair counts once against the active-key limit. Returns the new key and its
/// token; when the old key stops now, only after [`settle`], so no process accepts it any more.
pub async fn roll(
    db: &DatabaseConnection,
    actor: &Actor<'_>,
    key_id: &str,
    overlap: RollOverlap,
    environment: TokenEnvironment,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(ApiKeyView, Token), DomainError> {
    let old = find_visible(db, actor, key_id).await?;
    if old.is_connection() {
        return Err(DomainError::Invalid("A connected app cannot be rolled: connect it again instead".to_owned()));
    }
    if old.status(now) != KeyStatus::Active {
        return Err(DomainError::Conflict("Only a working key can be rolled".to_owned()));
    }
    if let Some(successor) = old.rolled_to() {
        return Err(DomainError::Conflict(format!("This key was already rolled (its successor is {successor})")));
    }
    let owner = crate::accounts::current_user(db, old.owner_id())
        .await?
        .ok_or_else(|| DomainError::Conflict("The owner of this key is deactivated".to_owned()))?;
    let policy = store::policy(db, owner.company_id).await?;
    if matches!(actor, Actor::User(user) if user.id == owner.id) && !policy.creators.allows(owner.role) {
        return Err(DomainError::Forbidden(policy.creators.refusal().to_owned()));
    }
    let expires_at = policy::rolled_expiry(&policy, old.created_at(), old.expires_at(), now);
    let stops_at = overlap.stops_at(old.expires_at(), now);

    let (token, new_id) = Token::generate(environment);
    let parsed = token::parse(token.expose(), environment).map_err(|err| DomainError::Internal(format!("fresh token does not parse: {err}")))?;
    let secret = parsed.secret().to_vec();
    let secret_hash = password::run_bounded(move || password::hash_blocking(&secret)).await??;

    let txn = db.begin().await?;
    store::lock_owner(&txn, owner.id).await?;
    let new = store::insert(
        &txn,
        NewKey {
            key_id: new_id.as_str(),
            owner: &owner,
            label: old.label(),
            secret_hash: secret_hash.as_str(),
            scopes: &old.scopes(),
            created_at: now,
            expires_at,
            oauth_client: None,
            allowed_ips: old.allowed_ips().map(str::to_owned),
        },
    )
    .await?;
    if !store::mark_rolled(&txn, old.id(), new_id.as_str(), stops_at, now).await? {
        return Err(DomainError::Conflict("This key was rolled or revoked meanwhile".to_owned()));
    }
    let stops_now = stops_at <= now;
    let stops = if stops_now { "now".to_owned() } else { format!("at {}", stops_at.format("%Y-%m-%d %H:%M UTC")) };
    for (key_id, action, target) in [
        (
            old.key_id(),
            Action::KeyRolled,
            format!("API key \"{}\" of {} ({}) rolled to {}; it stops {stops}", old.label(), owner.name, old.key_id(), new_id.as_str()),
        ),
        (
            new_id.as_str(),
            Action::KeyMinted,
            format!("API key \"{}\" for {} ({}), replacing {}", old.label(), owner.name, new_id.as_str(), old.key_id()),
        ),
    ] {
        let event = NewEvent { company_id: owner.company_id, actor_user_id: actor.user_id(), key_id: Some(key_id), action, target, origin, at: now };
        activity::record(&txn, event).await?;
    }
    txn.commit().await?;
    if stops_now {
        settle().await;
    }
    Ok((new.view(now), token))
}

/// Rolls a key for the signed-in person of `session`, who must have confirmed their password within
/// [`crate::sessions::REAUTH_WINDOW`] (else 401 asking for it), as minting does.
pub async fn roll_for_session(
    db: &DatabaseConnection,
    session: &ActiveSession,
    key_id: &str,
    overlap: RollOverlap,
    environment: TokenEnvironment,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(ApiKeyView, Token), DomainError> {
    require_fresh_session(db, session, now).await?;
    roll(db, &Actor::User(&session.user), key_id, overlap, environment, origin, now).await
}

/// Keys the actor may see, newest first. Non-root users always get only their own.
pub async fn list(db: &DatabaseConnection, actor: &Actor<'_>, filter: KeyFilter, now: DateTime<Utc>) -> Result<KeyPage, DomainError> {
    store::list(db, actor.visibility(), &filter, now).await
}

/// One key as `actor` may see it (owners their own, Root Users any of their company's); otherwise "not found".
pub async fn get(db: &DatabaseConnection, actor: &Actor<'_>, key_id: &str, now: DateTime<Utc>) -> Result<ApiKeyView, DomainError> {
    Ok(find_visible(db, actor, key_id).await?.view(now))
}

async fn find_visible(db: &DatabaseConnection, actor: &Actor<'_>, key_id: &str) -> Result<StoredKey, DomainError> {
    let key_id = KeyId::parse(key_id.trim()).ok_or(DomainError::NotFound("API key"))?;
    match store::find(db, key_id.as_str()).await? {
        Some(key) if actor.can_see(&key) => Ok(key),
        _ => Err(DomainError::NotFound("API key")),
    }
}

/// Records what `actor` did to an existing key, in the transaction that did it.
async fn record_key_event(
    txn: &impl ConnectionTrait,
    actor: &Actor<'_>,
    key: &StoredKey,
    action: Action,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let what = if key.is_connection() { "connected app" } else { "API key" };
    let event = NewEvent {
        company_id: key.company_id(),
        actor_user_id: actor.user_id(),
        key_id: Some(key.key_id()),
        action,
        target: format!("{what} \"{}\" of {}", key.label(), key.owner_name()),
        origin,
        at: now,
    };
    activity::record(txn, event).await
}

/// Revokes a key: owners their own, Root Users any of their company's. Returns after [`settle`]: from then on
/// every process refuses the key.
pub async fn revoke(
    db: &DatabaseConnection,
    actor: &Actor<'_>,
    key_id: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<ApiKeyView, DomainError> {
    let key = find_visible(db, actor, key_id).await?;
    match key.status(now) {
        KeyStatus::Revoked => {
            // Perhaps a moment ago (a retry after a timeout, another tab): "already revoked" is true only once
            // every process refuses it.
            settle().await;
            return Err(DomainError::Conflict("This key is already revoked".to_owned()));
        }
        KeyStatus::Expired => return Err(DomainError::Conflict("This key has already expired and no longer works".to_owned())),
        KeyStatus::Active => {}
    }
    let txn = db.begin().await?;
    if !store::revoke(&txn, key.id(), now).await? {
        settle().await;
        return Err(DomainError::Conflict("This key is already revoked".to_owned()));
    }
    record_key_event(&txn, actor, &key, Action::KeyRevoked, origin, now).await?;
    txn.commit().await?;
    settle().await;
    let mut view = key.view(now);
    view.status = KeyStatus::Revoked;
    view.revoked_at = Some(now);
    Ok(view)
}

/// Replaces a key's IP allowlist (`entries` as typed; none: anywhere): owners their own keys, Root Users any of
/// their company's. Not for OAuth connections. A list (anything but "anywhere") returns after [`settle`]: from
/// then on every process refuses the key from elsewhere.
pub async fn set_allowlist(
    db: &DatabaseConnection,
    actor: &Actor<'_>,
    key_id: &str,
    entries: &[String],
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<ApiKeyView, DomainError> {
    let allowed_ips = IpAllowlist::parse(entries).map_err(DomainError::Invalid)?;
    let key = find_visible(db, actor, key_id).await?;
    if key.is_connection() {
        return Err(DomainError::Invalid("A connected app has no IP allowlist".to_owned()));
    }
    if key.status(now) != KeyStatus::Active {
        return Err(DomainError::Conflict("This key no longer works".to_owned()));
    }
    let stored = allowed_ips.as_ref().map(IpAllowlist::stored);
    // Any list may leave out an address the key was used from: only "anywhere" cannot take access away.
    let narrows = stored.is_some();
    let txn = db.begin().await?;
    store::set_allowlist(&txn, key.id(), stored).await?;
    let list = allowed_ips.as_ref().map_or_else(|| "anywhere".to_owned(), ToString::to_string);
    let event = NewEvent {
        company_id: key.company_id(),
        actor_user_id: actor.user_id(),
        key_id: Some(key.key_id()),
        action: Action::KeyAllowlistChanged,
        target: format!("API key \"{}\" of {}: usable from {list}", key.label(), key.owner_name()),
        origin,
        at: now,
    };
    activity::record(&txn, event).await?;
    txn.commit().await?;
    if narrows {
        settle().await;
    }
    let mut view = key.view(now);
    view.allowed_ips = allowed_ips.map(|list| list.entries()).unwrap_or_default();
    Ok(view)
}

/// Deletes a revoked or expired key. Root Users (and operators) only; an active key must be revoked first. It
/// does not [`settle`]: a key that no longer works loses nothing by being deleted.
pub async fn delete(db: &DatabaseConnection, actor: &Actor<'_>, key_id: &str, origin: &Origin, now: DateTime<Utc>) -> Result<(), DomainError> {
    if let Actor::User(user) = actor {
        if user.role != Role::Root {
            return Err(DomainError::Forbidden("Only Root Users can delete API keys".to_owned()));
        }
    }
    let key = find_visible(db, actor, key_id).await?;
    if key.status(now) == KeyStatus::Active {
        return Err(DomainError::Conflict("Revoke this key before deleting it".to_owned()));
    }
    let txn = db.begin().await?;
    store::delete(&txn, key.id()).await?;
    record_key_event(&txn, actor, &key, Action::KeyDeleted, origin, now).await?;
    txn.commit().await?;
    Ok(())
}

/// The company's key policy.
pub async fn policy(db: &DatabaseConnection, company_id: CompanyId) -> Result<KeyPolicy, DomainError> {
    store::policy(db, company_id).await
}

/// Changes the company's key policy (Root Users only). Existing keys keep their expiry. A lower request budget
/// returns after [`settle`]: from then on every process counts against it.
pub async fn set_policy(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    policy: KeyPolicy,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<KeyPolicy, DomainError> {
    if actor.role != Role::Root {
        return Err(DomainError::Forbidden("Only Root Users can change the key policy".to_owned()));
    }
    let policy = policy.validate().map_err(DomainError::Invalid)?;
    let txn = db.begin().await?;
    // Under the company's lock, so that what the budget was is not changed by another policy change meanwhile.
    crate::accounts::store::lock_company(&txn, actor.company_id).await?;
    let lowers_budget = policy.requests_per_minute < store::policy(&txn, actor.company_id).await?.requests_per_minute;
    store::set_policy(&txn, actor.company_id, policy).await?;
    let never = if policy.allow_non_expiring { ", non-expiring keys allowed" } else { "" };
    let two_factor = if policy.require_two_factor { ", two-factor required" } else { "" };
    activity::record(
        &txn,
        NewEvent {
            company_id: actor.company_id,
            actor_user_id: Some(actor.id),
            key_id: None,
            action: Action::KeyPolicyChanged,
            target: format!(
                "Key policy: at most {} days, {} active keys per user, {} requests per key and minute{never}; created by {}{two_factor}",
                policy.lifetime_days,
                policy.max_active_keys,
                policy.requests_per_minute,
                policy.creators.label().to_lowercase()
            ),
            origin,
            at: now,
        },
    )
    .await?;
    txn.commit().await?;
    if lowers_budget {
        settle().await;
    }
    Ok(policy)
}

/// How many working keys each of `user_ids` has (those without any are left out).
pub async fn count_active_by_owner(
    db: &impl ConnectionTrait,
    user_ids: &[UserId],
    now: DateTime<Utc>,
) -> Result<std::collections::HashMap<UserId, u64>, DomainError> {
    store::count_active_by_owner(db, user_ids, now).await
}

/// How many keys of `user_id` work now (neither revoked nor expired).
pub async fn count_active(db: &impl ConnectionTrait, user_id: UserId, now: DateTime<Utc>) -> Result<u64, DomainError> {
    store::count_active(db, user_id, now).await
}

/// Revokes every active key of a role or a person of the Root User's company, each on the activity feed, in
/// one transaction; returns how many, after [`settle`] when there were any: from then on every process refuses
/// them. Root Users only.
pub async fn revoke_all(
    db: &DatabaseConnection,
    actor: &CurrentUser,
    of: RevokeAllOf,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<u64, DomainError> {
    if actor.role != Role::Root {
        return Err(DomainError::Forbidden("Only Root Users can revoke keys in bulk".to_owned()));
    }
    let txn = db.begin().await?;
    // A write first: on SQLite a transaction that read before writing cannot take the write lock once another
    // writer (a key's Last Used) committed meanwhile ("database is locked"); this one waits for it instead.
    crate::accounts::store::lock_company(&txn, actor.company_id).await?;
    let keys = store::active_of(&txn, actor.company_id, of, now).await?;
    let who = Actor::User(actor);
    let mut revoked = 0;
    for key in &keys {
        if store::revoke(&txn, key.id(), now).await? {
            record_key_event(&txn, &who, key, Action::KeyRevoked, origin, now).await?;
            revoked += 1;
        }
    }
    txn.commit().await?;
    if !keys.is_empty() {
        // Also when another call revoked them a moment ago: this one answers only once every process refuses them.
        settle().await;
    }
    Ok(revoked)
}

/// Records that a key was just used: when, from which address, and by which client.
pub async fn record_use(db: &DatabaseConnection, key_id: &KeyId, origin: &Origin, now: DateTime<Utc>) -> Result<(), DomainError> {
    store::touch(db, key_id.as_str(), origin, now).await
}
