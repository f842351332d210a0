//! API keys: what the generate dialog needs, password confirmation, mint, roll, list, revoke, delete, IP
//! allowlists, and the company's key policy.
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::model::{ApiKeyView, KeyFilter, KeyPage, KeyPolicy, MintRequest, MintedKey, RevokeAllOf, RollOverlap, Scope};

/// Everything the generate flow needs before it starts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySetup {
    pub policy: KeyPolicy,
    /// Whether the password was confirmed recently enough to mint without asking again.
    pub reauthenticated: bool,
    /// The scopes the caller's role may grant.
    pub allowed_scopes: Vec<Scope>,
    /// This server's MCP endpoint, for the Quick Setup snippets.
    pub mcp_url: String,
    /// Whether the caller has two-factor on (then a current code may replace the password).
    pub two_factor: bool,
    /// Why the caller may not create keys under the company's policy (who may, and who to ask), if so.
    pub refusal: Option<String>,
    /// Whether the company requires two-factor for new keys and the caller has not turned it on.
    pub needs_two_factor: bool,
}

#[server(prefix = "/api", endpoint = "keys/setup")]
pub async fn get_key_setup() -> Result<KeySetup, AppError> {
    let state = crate::state::app_state();
    let session = crate::api::auth::require_session().await?;
    let policy = domain::keys::service::policy(&state.db, session.user.company_id).await?;
    let two_factor = domain::two_factor::is_enabled(&state.db, session.user.id).await?;
    Ok(KeySetup {
        policy,
        reauthenticated: session.recently_reauthenticated(chrono::Utc::now()),
        allowed_scopes: Scope::allowed_for(session.user.role).to_vec(),
        mcp_url: state.mcp_url(),
        two_factor,
        refusal: (!policy.creators.allows(session.user.role)).then(|| policy.creators.refusal().to_owned()),
        needs_two_factor: policy.require_two_factor && !two_factor,
    })
}

/// Confirms the signed-in user's password; minting is allowed for five minutes afterwards.
#[server(prefix = "/api", endpoint = "keys/confirm-password")]
pub async fn confirm_password(password: String) -> Result<(), AppError> {
    let state = crate::state::app_state();
    let session = crate::api::auth::require_session().await?;
    let token = crate::api::auth::require_token()?;
    let origin = crate::api::auth::request_origin();
    let proof = domain::sessions::Proof::Password(domain::password::Password::new(password));
    let now = chrono::Utc::now();
    Ok(domain::sessions::reauthenticate(&state.db, &state.secret_key, &state.password_attempts, &session, &token, proof, &origin, now).await?)
}

/// Confirms the signed-in user with a current two-factor code instead of the password (two-factor on).
#[server(prefix = "/api", endpoint = "keys/confirm-code")]
pub async fn confirm_code(code: String) -> Result<(), AppError> {
    let state = crate::state::app_state();
    let session = crate::api::auth::require_session().await?;
    let token = crate::api::auth::require_token()?;
    let origin = crate::api::auth::request_origin();
    let proof = domain::sessions::Proof::Code(code);
    let now = chrono::Utc::now();
    Ok(domain::sessions::reauthenticate(&state.db, &state.secret_key, &state.password_attempts, &session, &token, proof, &origin, now).await?)
}

/// Mints a key for the signed-in user and reveals its token — this once.
#[server(prefix = "/api", endpoint = "keys/mint", input = leptos::server_fn::codec::Json)]
pub async fn mint_key(request: MintRequest) -> Result<MintedKey, AppError> {
    let state = crate::state::app_state();
    let session = crate::api::auth::require_session().await?;
    let origin = crate::api::auth::request_origin();
    let (key, token) =
        domain::keys::service::mint_for_session(&state.db, &session, request, state.token_environment, &origin, chrono::Utc::now()).await?;
    Ok(MintedKey { key, token: domain::model::RevealedToken::new(token.into_revealed()) })
}

/// Rolls a key the caller may see: a new key with the same label, scopes and IP allowlist, revealed this once;
/// the old one stops after `overlap` (never after its own expiry). Needs a recent password confirmation.
#[server(prefix = "/api", endpoint = "keys/roll")]
pub async fn roll_key(key_id: String, overlap: RollOverlap) -> Result<MintedKey, AppError> {
    let state = crate::state::app_state();
    let session = crate::api::auth::require_session().await?;
    let origin = crate::api::auth::request_origin();
    let now = chrono::Utc::now();
    let (key, token) = domain::keys::service::roll_for_session(&state.db, &session, &key_id, overlap, state.token_environment, &origin, now).await?;
    Ok(MintedKey { key, token: domain::model::RevealedToken::new(token.into_revealed()) })
}

/// Replaces the IP allowlist of a key the caller may see (owners their own, Root Users their company's);
/// no entries: anywhere.
#[server(prefix = "/api", endpoint = "keys/allowlist", input = leptos::server_fn::codec::Json)]
pub async fn set_key_allowlist(key_id: String, allowed_ips: Vec<String>) -> Result<ApiKeyView, AppError> {
    let user = crate::api::auth::require_user().await?;
    let actor = domain::keys::service::Actor::User(&user);
    let origin = crate::api::auth::request_origin();
    Ok(domain::keys::service::set_allowlist(&crate::state::app_state().db, &actor, &key_id, &allowed_ips, &origin, chrono::Utc::now()).await?)
}

/// Keys the caller may see: the company's for Root Users, their own for everyone else.
#[server(prefix = "/api", endpoint = "keys/list", input = leptos::server_fn::codec::Json)]
pub async fn list_keys(filter: KeyFilter) -> Result<KeyPage, AppError> {
    let user = crate::api::auth::require_user().await?;
    let actor = domain::keys::service::Actor::User(&user);
    Ok(domain::keys::service::list(&crate::state::app_state().db, &actor, filter, chrono::Utc::now()).await?)
}

/// Revokes a key; the next request with it is refused.
#[server(prefix = "/api", endpoint = "keys/revoke")]
pub async fn revoke_key(key_id: String) -> Result<crate::model::ApiKeyView, AppError> {
    let user = crate::api::auth::require_user().await?;
    let actor = domain::keys::service::Actor::User(&user);
    let origin = crate::api::auth::request_origin();
    Ok(domain::keys::service::revoke(&crate::state::app_state().db, &actor, &key_id, &origin, chrono::Utc::now()).await?)
}

/// Deletes a revoked or expired key (Root Users only).
#[server(prefix = "/api", endpoint = "keys/delete")]
pub async fn delete_key(key_id: String) -> Result<(), AppError> {
    let user = crate::api::auth::require_user().await?;
    let actor = domain::keys::service::Actor::User(&user);
    let origin = crate::api::auth::request_origin();
    Ok(domain::keys::service::delete(&crate::state::app_state().db, &actor, &key_id, &origin, chrono::Utc::now()).await?)
}

/// Revokes every active key of a role or of one person (Root Users only); answers how many.
#[server(prefix = "/api", endpoint = "keys/revoke-all", input = leptos::server_fn::codec::Json)]
pub async fn revoke_all_keys(of: RevokeAllOf) -> Result<u64, AppError> {
    let user = crate::api::auth::require_user().await?;
    let origin = crate::api::auth::request_origin();
    Ok(domain::keys::service::revoke_all(&crate::state::app_state().db, &user, of, &origin, chrono::Utc::now()).await?)
}

/// Changes the company's key policy (Root Users only).
#[server(prefix = "/api", endpoint = "keys/policy", input = leptos::server_fn::codec::Json)]
pub async fn update_key_policy(policy: KeyPolicy) -> Result<KeyPolicy, AppError> {
    let user = crate::api::auth::require_user().await?;
    let origin = crate::api::auth::request_origin();
    Ok(domain::keys::service::set_policy(&crate::state::app_state().db, &user, policy, &origin, chrono::Utc::now()).await?)
}
