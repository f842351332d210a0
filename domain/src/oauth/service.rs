//! The OAuth flows: registering a client, validating an authorization request, the person's consent, the
//! token endpoint (code exchange and refresh rotation) and revocation. The HTTP endpoints (`server::oauth`)
//! and the consent page's server functions call these and only map their errors.
use std::time::Duration as StdDuration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::client_metadata::{self, Fetcher};
use super::store::{self, Authorization, Client, NewAuthorization, NewClient, NewToken};
use super::token::{self as oauth_token, OAuthToken};
use super::{
    capped_by_role, clean_client_name, is_s256_challenge, parse_scope_parameter, pkce_matches, redirect_uri_matches, redirect_with, resource_matches,
    validate_redirect_uri, validate_state, ClientKind, OAuthError, TokenKind, ACCESS_TOKEN_LIFETIME, CODE_LIFETIME, MAX_REDIRECT_URIS,
    METADATA_CACHE_LIFETIME, NEVER_EXPIRING_REFRESH_LIFETIME, REQUEST_LIFETIME, UNUSED_REGISTRATION_LIFETIME,
};
use crate::activity::{self, Action, NewEvent, Origin};
use crate::db::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use crate::keys::service::{LIMIT_REACHED, TWO_FACTOR_REQUIRED};
use crate::keys::token::{KeyId, TokenEnvironment};
use crate::limits::{Attempt, Counter, Limit};
use crate::model::{ConsentDecision, ConsentView, CurrentUser};
use crate::scope::Scope;
use crate::sessions::ActiveSession;
use crate::DomainError;

/// Registrations one client address (an IPv6 /64) may make per hour.
pub const MAX_REGISTRATIONS_PER_HOUR: u32 = 20;
/// Authorization requests one client address may start per hour (each stores a pending request).
pub const MAX_AUTHORIZATION_REQUESTS_PER_HOUR: u32 = 120;
/// Client metadata documents one client address may make this process fetch per hour.
pub const MAX_DOCUMENT_FETCHES_PER_HOUR: u32 = 30;
/// Refresh-token rotations one connection may make per hour (a client needs one an hour).
pub const MAX_REFRESHES_PER_HOUR: u32 = 120;
/// Registrations (and fetched documents) nobody has connected with yet, kept at most; beyond, new ones wait.
pub const MAX_UNUSED_CLIENTS: u64 = 10_000;
/// Metadata documents one process fetches at the same time at most; more requests wait for none and are refused.
const MAX_CONCURRENT_FETCHES: usize = 16;

/// What a server process keeps for its authorization server: where client documents may come from, the
/// counts per client address (registrations, authorization requests, document fetches) and per connection
/// (refreshes), an hour each — shared by every process on PostgreSQL ([`crate::limits`]) — and the fetches
/// in flight.
pub struct OAuthServer {
    pub fetcher: Fetcher,
    registrations: Counter,
    requests: Counter,
    document_fetches: Counter,
    refreshes: Counter,
    fetches: tokio::sync::Semaphore,
}

impl OAuthServer {
    pub fn new(fetcher: Fetcher, db: &DatabaseConnection) -> Self {
        let hourly = |scope, max| Counter::for_database(Limit { scope, max, window: StdDuration::from_secs(3600) }, db);
        OAuthServer {
            fetcher,
            registrations: hourly("oauth-register", MAX_REGISTRATIONS_PER_HOUR),
            requests: hourly("oauth-authorize", MAX_AUTHORIZATION_REQUESTS_PER_HOUR),
            document_fetches: hourly("oauth-fetch", MAX_DOCUMENT_FETCHES_PER_HOUR),
            refreshes: hourly("oauth-refresh", MAX_REFRESHES_PER_HOUR),
            fetches: tokio::sync::Semaphore::new(MAX_CONCURRENT_FETCHES),
        }
    }
}

/// Counts one event of `name` unless it reached its bound this hour; the seconds to wait if it did.
async fn spend(counter: &Counter, name: &str) -> Result<Result<(), u64>, DomainError> {
    Ok(match counter.attempt(name).await? {
        Attempt::Counted(_) => Ok(()),
        Attempt::Over { retry_after } => Err(retry_after),
    })
}

/// The name a client address is counted under (an IPv6 client by its /64).
fn address_name(ip: Option<&str>) -> String {
    ip.map(crate::net::counting_name).unwrap_or_else(|| "unknown".to_owned())
}

/// The query of an authorization request (`GET /oauth/authorize?…`).
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AuthorizeParams {
    pub response_type: Option<String>,
    pub client_id: Option<String>,
    pub redirect_uri: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub state: Option<String>,
    pub scope: Option<String>,
    pub resource: Option<String>,
}

/// Why an authorization request was refused. Nothing here redirects by itself (RFC 9700 §4.11.2: anyone can
/// register a redirect URI, so an automatic redirect would make caregate an open redirector): the person
/// sees a page of ours, with a link back to the client when its redirect URI is registered.
#[derive(Debug, thiserror::Error)]
pub enum AuthorizeError {
    /// The client or its redirect URI could not be trusted: no link back (400).
    #[error("{0}")]
    Untrusted(String),
    /// The client and its redirect URI are registered but the request is wrong (400): the page says why and
    /// links back to the client with this URL, which carries the `error`, `state` and `iss`.
    #[error("{message}")]
    BackToClient { message: String, url: String },
    /// Too many requests from this address (429).
    #[error("Too many authorization requests from your address; try again in {} minutes", retry_after.div_ceil(60))]
    TooManyRequests { retry_after: u64 },
    #[error(transparent)]
    Server(#[from] DomainError),
}

/// Validates an authorization request and stores it for the consent page; returns the request's id (the
/// `request` of `/oauth/authorize?request=…`), which exists only in the browser's address bar.
pub async fn begin_authorization(
    db: &DatabaseConnection,
    server: &OAuthServer,
    params: AuthorizeParams,
    issuer: &str,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String, AuthorizeError> {
    let address = address_name(ip);
    spend(&server.requests, &address).await?.map_err(|retry_after| AuthorizeError::TooManyRequests { retry_after })?;
    let client_id =
        params.client_id.as_deref().filter(|id| !id.is_empty()).ok_or(AuthorizeError::Untrusted("The request names no client_id".into()))?;
    let client = resolve_client(db, server, client_id, &address, now).await?;
    let redirect_uri = params.redirect_uri.clone().ok_or(AuthorizeError::Untrusted("The request names no redirect_uri".into()))?;
    if !redirect_uri_matches(&client.redirect_uris, &redirect_uri) {
        return Err(AuthorizeError::Untrusted(format!("{redirect_uri:?} is not a redirect URI of {}", client.name)));
    }
    if validate_state(params.state.as_deref()).is_err() {
        return Err(AuthorizeError::Untrusted("The request's state is too long or not printable".into()));
    }
    // From here on the redirect URI is the client's own: the refusal page links back to it.
    let state = params.state.as_deref();
    let refuse = |error: &str, description: &str| {
        let mut response = vec![("error", error), ("error_description", description)];
        if let Some(state) = state {
            response.push(("state", state));
        }
        response.push(("iss", issuer));
        AuthorizeError::BackToClient { message: description.to_owned(), url: redirect_with(&redirect_uri, &response) }
    };
    if params.response_type.as_deref() != Some("code") {
        return Err(refuse("unsupported_response_type", "caregate supports response_type=code only"));
    }
    let challenge = params.code_challenge.as_deref().unwrap_or_default();
    if params.code_challenge_method.as_deref() != Some("S256") || !is_s256_challenge(challenge) {
        return Err(refuse("invalid_request", "PKCE with code_challenge_method=S256 is required (plain is refused)"));
    }
    let requested = parse_scope_parameter(params.scope.as_deref()).map_err(|message| refuse("invalid_scope", &message))?;
    if !resource_matches(params.resource.as_deref(), issuer) {
        return Err(refuse("invalid_target", "The resource must be this server's MCP endpoint"));
    }
    let request_id = super::base64url(&random_bytes());
    store::insert_authorization(
        db,
        NewAuthorization {
            request_hash: &crate::bearer::digest(&request_id),
            client_row: client.id,
            redirect_uri: &redirect_uri,
            requested: &requested,
            state,
            code_challenge: challenge,
            created_at: now,
            expires_at: now + REQUEST_LIFETIME,
        },
    )
    .await?;
    Ok(request_id)
}

fn random_bytes() -> [u8; 32] {
    use rand::RngCore;
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The client a client_id names: a registration, or a metadata document (from the cache when fetched within
/// the hour, else fetched now).
async fn resolve_client(
    db: &DatabaseConnection,
    server: &OAuthServer,
    client_id: &str,
    address: &str,
    now: DateTime<Utc>,
) -> Result<Client, AuthorizeError> {
    if !client_metadata::is_metadata_url(client_id) {
        return match store::find_client(db, client_id, now).await? {
            Some(client) if client.kind == ClientKind::Registered => Ok(client),
            _ => Err(AuthorizeError::Untrusted("This client is not registered with caregate (or its registration expired)".into())),
        };
    }
    client_metadata::check_url(client_id, server.fetcher.policy).map_err(AuthorizeError::Untrusted)?;
    if let Some(cached) = store::find_client(db, client_id, now).await? {
        if cached.kind == ClientKind::MetadataDocument && now - cached.refreshed_at < METADATA_CACHE_LIFETIME {
            return Ok(cached);
        }
    }
    spend(&server.document_fetches, address).await?.map_err(|retry_after| AuthorizeError::TooManyRequests { retry_after })?;
    if store::count_unused_clients(db, now).await? >= MAX_UNUSED_CLIENTS {
        return Err(AuthorizeError::Untrusted("caregate is busy with new apps; try again later".into()));
    }
    let _permit =
        server.fetches.try_acquire().map_err(|_| AuthorizeError::Untrusted("caregate is busy fetching client documents; try again".into()))?;
    let metadata = server.fetcher.fetch(client_id).await.map_err(AuthorizeError::Untrusted)?;
    let name = clean_client_name(metadata.client_name.as_deref(), &metadata.domain);
    let client = NewClient {
        client_id,
        kind: ClientKind::MetadataDocument,
        name: &name,
        domain: Some(&metadata.domain),
        redirect_uris: &metadata.redirect_uris,
        // Like a registration: forgotten unless a connection uses it.
        expires_at: Some(now + UNUSED_REGISTRATION_LIFETIME),
    };
    Ok(store::save_client(db, client, now).await?)
}

/// The pending request behind a consent page's `request` id, bound to the person who opened it first: anyone
/// else (and a decided, expired or unknown request) gets 404.
async fn pending_for(
    db: &DatabaseConnection,
    user: &CurrentUser,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<(Authorization, Client), DomainError> {
    const NOT_FOUND: DomainError = DomainError::NotFound("Authorization request");
    let authorization = store::find_authorization_by_request(db, &crate::bearer::digest(request_id)).await?.ok_or(NOT_FOUND)?;
    if authorization.decided || authorization.expires_at <= now || authorization.user_id.is_some_and(|owner| owner != user.id) {
        return Err(NOT_FOUND);
    }
    if !store::bind_authorization(db, authorization.id, user.id).await? {
        return Err(NOT_FOUND);
    }
    let client = store::find_client_by_row(db, authorization.client_row).await?.ok_or(NOT_FOUND)?;
    Ok((authorization, client))
}

/// What the consent page shows for a pending request.
pub async fn consent_view(
    db: &DatabaseConnection,
    session: &ActiveSession,
    request_id: &str,
    now: DateTime<Utc>,
) -> Result<ConsentView, DomainError> {
    let user = &session.user;
    let (authorization, client) = pending_for(db, user, request_id, now).await?;
    let policy = crate::keys::service::policy(db, user.company_id).await?;
    let two_factor = crate::two_factor::is_enabled(db, user.id).await?;
    Ok(ConsentView {
        client: client.app(),
        redirect_host: redirect_host(&authorization.redirect_uri),
        requested: capped_by_role(&authorization.requested, user.role),
        allowed: Scope::allowed_for(user.role).to_vec(),
        expires_at: policy.resolve(policy.default_choice(), now).ok().flatten(),
        reauthenticated: session.recently_reauthenticated(now),
        two_factor,
        refusal: (!policy.creators.allows(user.role)).then(|| policy.creators.refusal().to_owned()),
        needs_two_factor: policy.require_two_factor && !two_factor,
    })
}

fn redirect_host(redirect_uri: &str) -> String {
    url::Url::parse(redirect_uri)
        .ok()
        .and_then(|url| {
            url.host_str().map(|host| match url.port() {
                Some(port) => format!("{host}:{port}"),
                None => host.to_owned(),
            })
        })
        .unwrap_or_default()
}

/// The person's Allow or Deny. Allow obeys the company's key policy like minting a key (who may create keys,
/// two-factor, the active-key limit) and needs a password or two-factor confirmation from the last five
/// minutes; it issues a one-time code for a minute. Returns the URL to send the browser to.
pub async fn decide(
    db: &DatabaseConnection,
    session: &ActiveSession,
    request_id: &str,
    decision: ConsentDecision,
    issuer: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<String, DomainError> {
    let user = &session.user;
    let (authorization, client) = pending_for(db, user, request_id, now).await?;
    let mut response = Vec::new();
    if !decision.allow {
        store::delete_authorization(db, authorization.id).await?;
        response.push(("error", "access_denied".to_owned()));
        response.push(("error_description", "The person declined the connection".to_owned()));
    } else {
        if !session.recently_reauthenticated(now) {
            return Err(DomainError::ReauthenticationRequired);
        }
        let policy = crate::keys::service::policy(db, user.company_id).await?;
        if !policy.creators.allows(user.role) {
            return Err(DomainError::Forbidden(policy.creators.refusal().to_owned()));
        }
        if policy.require_two_factor && !crate::two_factor::is_enabled(db, user.id).await? {
            return Err(DomainError::Forbidden(TWO_FACTOR_REQUIRED.to_owned()));
        }
        let granted = capped_by_role(&decision.scopes, user.role);
        if granted.is_empty() {
            return Err(DomainError::Invalid("Choose at least one thing the app may read".to_owned()));
        }
        if crate::keys::service::count_active(db, user.id, now).await? >= u64::from(policy.max_active_keys) {
            return Err(DomainError::Conflict(LIMIT_REACHED.to_owned()));
        }
        let connection_expires_at = policy.resolve(policy.default_choice(), now).map_err(DomainError::Invalid)?;
        let code = super::base64url(&random_bytes());
        let key_id = KeyId::generate();
        let txn = db.begin().await?;
        let approval = store::Approval {
            user_id: user.id,
            code_hash: &crate::bearer::digest(&code),
            granted: &granted,
            connection_expires_at,
            code_expires_at: now + CODE_LIFETIME,
            key_id: key_id.as_str(),
        };
        let approved = store::approve(&txn, authorization.id, approval).await?;
        if !approved {
            return Err(DomainError::NotFound("Authorization request"));
        }
        let scopes = granted.iter().map(|scope| scope.description().to_lowercase()).collect::<Vec<_>>().join(", ");
        let app = client.app();
        activity::record(
            &txn,
            NewEvent {
                company_id: user.company_id,
                actor_user_id: Some(user.id),
                key_id: Some(key_id.as_str()),
                action: Action::AppConnected,
                target: format!("connected app \"{}\" ({}) for {}: {scopes}", app.client_name, app.origin.describe(), user.name),
                origin,
                at: now,
            },
        )
        .await?;
        txn.commit().await?;
        response.push(("code", code));
    }
    if let Some(state) = &authorization.state {
        response.push(("state", state.clone()));
    }
    response.push(("iss", issuer.to_owned()));
    let params: Vec<(&str, &str)> = response.iter().map(|(name, value)| (*name, value.as_str())).collect();
    Ok(redirect_with(&authorization.redirect_uri, &params))
}

/// A Dynamic Client Registration request (RFC 7591); unknown members are ignored.
#[derive(Debug, Default, Deserialize)]
pub struct RegistrationRequest {
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    pub client_name: Option<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
}

/// The registration's answer (RFC 7591 §3.2.1).
#[derive(Debug, Serialize)]
pub struct Registration {
    pub client_id: String,
    pub client_id_issued_at: i64,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub grant_types: Vec<&'static str>,
    pub response_types: Vec<&'static str>,
    pub token_endpoint_auth_method: &'static str,
}

/// Registers a public client. Bounded per client address; a registration nobody connects with within a day
/// is forgotten.
pub async fn register(
    db: &DatabaseConnection,
    server: &OAuthServer,
    request: RegistrationRequest,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Registration, OAuthError> {
    if request.redirect_uris.is_empty() || request.redirect_uris.len() > MAX_REDIRECT_URIS {
        return Err(OAuthError::InvalidRedirectUri("List 1 to 10 redirect_uris".to_owned()));
    }
    for uri in &request.redirect_uris {
        validate_redirect_uri(uri).map_err(OAuthError::InvalidRedirectUri)?;
    }
    let grant_types = request.grant_types.unwrap_or_default();
    if grant_types.iter().any(|grant| grant != "authorization_code" && grant != "refresh_token") {
        return Err(OAuthError::InvalidClientMetadata("caregate supports the authorization_code and refresh_token grants only".to_owned()));
    }
    if request.response_types.unwrap_or_default().iter().any(|response| response != "code") {
        return Err(OAuthError::InvalidClientMetadata("caregate supports response_type code only".to_owned()));
    }
    // Clients that ask for a secret get none: the answer says `none`, which RFC 7591 §3.2.1 lets the server decide.
    let _ = request.token_endpoint_auth_method;
    spend(&server.registrations, &address_name(ip)).await?.map_err(|retry_after| OAuthError::TooManyRequests { retry_after })?;
    if store::count_unused_clients(db, now).await? >= MAX_UNUSED_CLIENTS {
        return Err(OAuthError::TooManyRequests { retry_after: 3600 });
    }
    let client_id = format!("cgc_{}", super::base64url(&random_bytes()[..18]));
    let name = clean_client_name(request.client_name.as_deref(), "Unnamed app");
    let client = NewClient {
        client_id: &client_id,
        kind: ClientKind::Registered,
        name: &name,
        domain: None,
        redirect_uris: &request.redirect_uris,
        expires_at: Some(now + UNUSED_REGISTRATION_LIFETIME),
    };
    store::save_client(db, client, now).await?;
    Ok(Registration {
        client_id,
        client_id_issued_at: now.timestamp(),
        client_name: name,
        redirect_uris: request.redirect_uris,
        grant_types: vec!["authorization_code", "refresh_token"],
        response_types: vec!["code"],
        token_endpoint_auth_method: "none",
    })
}

/// A token request (form-encoded); which fields matter depends on `grant_type`.
#[derive(Debug, Default, Deserialize)]
pub struct TokenRequest {
    pub grant_type: Option<String>,
    pub code: Option<String>,
    pub redirect_uri: Option<String>,
    pub client_id: Option<String>,
    pub code_verifier: Option<String>,
    pub refresh_token: Option<String>,
    pub resource: Option<String>,
}

/// The token response (RFC 6749 §5.1). Carries two secrets on their one trip to the client: not `Debug`.
#[derive(Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub refresh_token: String,
    pub scope: String,
}

/// The token endpoint: a code for a new connection's first tokens, or a refresh token for the next pair.
pub async fn exchange(
    db: &DatabaseConnection,
    server: &OAuthServer,
    request: TokenRequest,
    environment: TokenEnvironment,
    issuer: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<TokenResponse, OAuthError> {
    if !resource_matches(request.resource.as_deref(), issuer) {
        return Err(OAuthError::InvalidTarget("The resource must be this server's MCP endpoint".to_owned()));
    }
    match request.grant_type.as_deref() {
        Some("authorization_code") => redeem_code(db, request, environment, origin, now).await,
        Some("refresh_token") => rotate_refresh_token(db, server, request, environment, origin, now).await,
        Some(other) => {
            Err(OAuthError::UnsupportedGrantType(format!("caregate does not support grant_type {:?}", crate::activity::untrusted_text(other, 40))))
        }
        None => Err(OAuthError::InvalidRequest("grant_type is missing".to_owned())),
    }
}

fn required<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, OAuthError> {
    value.as_deref().filter(|value| !value.is_empty()).ok_or_else(|| OAuthError::InvalidRequest(format!("{name} is missing")))
}

async fn redeem_code(
    db: &DatabaseConnection,
    request: TokenRequest,
    environment: TokenEnvironment,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<TokenResponse, OAuthError> {
    let code = required(&request.code, "code")?;
    let client_id = required(&request.client_id, "client_id")?;
    let verifier = required(&request.code_verifier, "code_verifier")?;
    let redirect_uri = required(&request.redirect_uri, "redirect_uri")?;
    let invalid = |message: &str| OAuthError::InvalidGrant(message.to_owned());
    let authorization = store::find_authorization_by_code(db, &crate::bearer::digest(code)).await?.ok_or_else(|| invalid("Unknown code"))?;
    let client = store::find_client_by_row(db, authorization.client_row).await?.ok_or_else(|| invalid("Unknown client"))?;
    if client.client_id != client_id {
        return Err(invalid("The code was issued to another client"));
    }
    if redirect_uri != authorization.redirect_uri {
        return Err(invalid("redirect_uri differs from the authorization request's"));
    }
    if !pkce_matches(verifier, &authorization.code_challenge) {
        return Err(invalid("code_verifier does not match the code_challenge"));
    }
    // Only the holder of the verifier can replay a code: someone who merely saw a used one cannot revoke.
    if authorization.redeemed_at.is_some() {
        revoke_for_reuse(db, authorization.key_id.as_deref(), "its authorization code was used twice", origin, now).await?;
        return Err(invalid("This code was used before; the connection made with it is revoked"));
    }
    if authorization.expires_at <= now {
        return Err(invalid("The code has expired"));
    }
    let key_id = authorization.key_id.clone().and_then(|id| KeyId::parse(&id)).ok_or_else(|| invalid("The code was not approved"))?;
    let owner_id = authorization.user_id.ok_or_else(|| invalid("The code was not approved"))?;
    let owner = crate::accounts::current_user(db, owner_id).await?.ok_or_else(|| invalid("The person who approved this is no longer active"))?;
    let policy = crate::keys::service::policy(db, owner.company_id).await?;
    if !policy.creators.allows(owner.role) {
        return Err(invalid(policy.creators.refusal()));
    }
    let granted = Scope::effective(&authorization.granted, owner.role);

    let txn = db.begin().await?;
    if !store::redeem(&txn, authorization.id, now).await? {
        drop(txn);
        revoke_for_reuse(db, Some(key_id.as_str()), "its authorization code was used twice", origin, now).await?;
        return Err(invalid("This code was used before; the connection made with it is revoked"));
    }
    crate::keys::store::lock_owner(&txn, owner.id).await?;
    if crate::keys::store::count_active(&txn, owner.id, now).await? >= u64::from(policy.max_active_keys) {
        return Err(invalid(LIMIT_REACHED));
    }
    crate::keys::store::insert(
        &txn,
        crate::keys::store::NewKey {
            key_id: key_id.as_str(),
            owner: &owner,
            label: &client.name,
            secret_hash: "",
            scopes: &granted,
            created_at: now,
            expires_at: authorization.connection_expires_at,
            oauth_client: Some((client.id, client.app())),
            allowed_ips: None,
        },
    )
    .await?;
    store::keep_client(&txn, client.id).await?;
    let response = issue_pair(&txn, key_id.as_str(), &granted, authorization.connection_expires_at, environment, now).await?;
    txn.commit().await?;
    Ok(response)
}

/// Issues an access token and a refresh token for a connection, in the caller's transaction.
async fn issue_pair(
    txn: &impl ConnectionTrait,
    key_id: &str,
    scopes: &[Scope],
    connection_expires_at: Option<DateTime<Utc>>,
    environment: TokenEnvironment,
    now: DateTime<Utc>,
) -> Result<TokenResponse, DomainError> {
    let access = OAuthToken::generate(TokenKind::Access, environment);
    let refresh = OAuthToken::generate(TokenKind::Refresh, environment);
    let connection_end = connection_expires_at.unwrap_or(now + NEVER_EXPIRING_REFRESH_LIFETIME);
    let access_expires_at = (now + ACCESS_TOKEN_LIFETIME).min(connection_end);
    for (token, kind, expires_at) in [(&access, TokenKind::Access, access_expires_at), (&refresh, TokenKind::Refresh, connection_end)] {
        store::insert_token(txn, NewToken { token_id: &token.token_id, key_id, kind, secret_hash: &token.digest(), created_at: now, expires_at })
            .await?;
    }
    Ok(TokenResponse {
        access_token: access.into_text(),
        token_type: "Bearer",
        expires_in: (access_expires_at - now).num_seconds().max(0),
        refresh_token: refresh.into_text(),
        scope: scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(" "),
    })
}

/// Rotates a refresh token: the next pair, replacing the connection's earlier access tokens; when one of them
/// still worked, returns after [`crate::keys::freshness::settle`], so no process accepts it any more.
async fn rotate_refresh_token(
    db: &DatabaseConnection,
    server: &OAuthServer,
    request: TokenRequest,
    environment: TokenEnvironment,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<TokenResponse, OAuthError> {
    let presented = required(&request.refresh_token, "refresh_token")?;
    let client_id = required(&request.client_id, "client_id")?;
    let invalid = |message: &str| OAuthError::InvalidGrant(message.to_owned());
    let parsed = oauth_token::parse(presented, TokenKind::Refresh, environment).ok_or_else(|| invalid("Malformed refresh token"))?;
    let token = store::find_token(db, &parsed.token_id)
        .await?
        .filter(|token| token.kind == TokenKind::Refresh && super::constant_time_eq(token.secret_hash.as_bytes(), parsed.digest.as_bytes()))
        .ok_or_else(|| invalid("Unknown refresh token"))?;
    let connection = store::find_connection(db, &token.key_id).await?.ok_or_else(|| invalid("Unknown refresh token"))?;
    let client = match connection.client_row {
        Some(row) => store::find_client_by_row(db, row).await?,
        None => None,
    };
    if client.is_none_or(|client| client.client_id != client_id) {
        return Err(invalid("The refresh token was issued to another client"));
    }
    if token.used_at.is_some() {
        revoke_for_reuse(db, Some(&token.key_id), "a refresh token was used twice", origin, now).await?;
        return Err(invalid("This refresh token was used before; the connection is revoked"));
    }
    if token.revoked_at.is_some() || connection.revoked || token.expires_at <= now || connection.expires_at.is_some_and(|at| at <= now) {
        return Err(invalid("The connection was revoked or has expired"));
    }
    let owner = crate::accounts::current_user(db, connection.owner_id).await?.ok_or_else(|| invalid("The connection's owner is no longer active"))?;
    spend(&server.refreshes, &connection.key_id).await?.map_err(|retry_after| OAuthError::TooManyRequests { retry_after })?;
    let scopes = Scope::effective(&connection.scopes, owner.role);
    let txn = db.begin().await?;
    // The used token is kept a day, long enough to catch a replay, and the connection's earlier access tokens
    // end with the rotation: a connection holds one working pair, however often it refreshes.
    if !store::use_token(&txn, token.id, now, now + chrono::Duration::days(1)).await? {
        drop(txn);
        revoke_for_reuse(db, Some(&token.key_id), "a refresh token was used twice", origin, now).await?;
        return Err(invalid("This refresh token was used before; the connection is revoked"));
    }
    let ended = store::delete_access_tokens(&txn, &token.key_id, now).await?;
    let response = issue_pair(&txn, &token.key_id, &scopes, connection.expires_at, environment, now).await?;
    txn.commit().await?;
    // The new pair is handed out only once no process accepts an access token it replaced.
    if ended > 0 {
        crate::keys::freshness::settle().await;
    }
    Ok(response)
}

/// Revokes a connection whose code or refresh token was presented a second time (someone else may hold it),
/// on the activity feed with the reason; returns after [`crate::keys::freshness::settle`] (the replay is answered
/// only once no process accepts the connection).
async fn revoke_for_reuse(
    db: &DatabaseConnection,
    key_id: Option<&str>,
    reason: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let Some(key_id) = key_id else { return Ok(()) };
    let Some(connection) = store::find_connection(db, key_id).await? else { return Ok(()) };
    revoke_connection(db, &connection, reason, origin, now).await
}

/// Revokes a connection (all its tokens), on the activity feed with the reason when this call revoked it;
/// returns after [`crate::keys::freshness::settle`] either way: from then on every process refuses its tokens.
async fn revoke_connection(
    db: &DatabaseConnection,
    connection: &store::ConnectionRef,
    reason: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let txn = db.begin().await?;
    let revoked = crate::keys::store::revoke(&txn, connection.id, now).await?;
    if revoked {
        activity::record(
            &txn,
            NewEvent {
                company_id: connection.company_id,
                actor_user_id: None,
                key_id: Some(&connection.key_id),
                action: Action::KeyRevoked,
                target: format!("connected app \"{}\" of {} ({reason})", connection.label, connection.owner_name),
                origin,
                at: now,
            },
        )
        .await?;
    }
    txn.commit().await?;
    // Also when another call revoked it a moment ago: this one answers only once every process refuses it.
    crate::keys::freshness::settle().await;
    Ok(())
}

/// The revocation endpoint (RFC 7009): an access token stops at once; a refresh token revokes its whole
/// connection. Unknown and malformed tokens change nothing, and the caller learns nothing either way. What it
/// revoked, it returns after [`crate::keys::freshness::settle`]: from then on every process refuses it.
pub async fn revoke(
    db: &DatabaseConnection,
    presented: &str,
    environment: TokenEnvironment,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    for kind in [TokenKind::Access, TokenKind::Refresh] {
        let Some(parsed) = oauth_token::parse(presented.trim(), kind, environment) else { continue };
        let Some(token) = store::find_token(db, &parsed.token_id).await? else { return Ok(()) };
        if token.kind != kind || !super::constant_time_eq(token.secret_hash.as_bytes(), parsed.digest.as_bytes()) {
            return Ok(());
        }
        match kind {
            TokenKind::Access => {
                store::revoke_token(db, token.id, now).await?;
                crate::keys::freshness::settle().await;
            }
            TokenKind::Refresh => {
                if let Some(connection) = store::find_connection(db, &token.key_id).await? {
                    revoke_connection(db, &connection, "its app revoked its refresh token", origin, now).await?;
                }
            }
        }
    }
    Ok(())
}

/// The Key ID of the connection a presented access or refresh token belongs to, when the token is real (its
/// digest matches, compared in constant time), whatever the token's own state: a leaked token of either kind
/// revokes its connection ([`crate::keys::leaks`]).
pub async fn connection_of(db: &impl ConnectionTrait, presented: &str, environment: TokenEnvironment) -> Result<Option<String>, DomainError> {
    for kind in [TokenKind::Access, TokenKind::Refresh] {
        let Some(parsed) = oauth_token::parse(presented.trim(), kind, environment) else { continue };
        let Some(token) = store::find_token(db, &parsed.token_id).await? else { return Ok(None) };
        if token.kind == kind && super::constant_time_eq(token.secret_hash.as_bytes(), parsed.digest.as_bytes()) {
            return Ok(Some(token.key_id));
        }
        return Ok(None);
    }
    Ok(None)
}

/// Forgets expired requests, codes, tokens and unused registrations every 15 minutes, for as long as the
/// server runs.
pub async fn purge_expired_periodically(db: DatabaseConnection) {
    let mut interval = tokio::time::interval(StdDuration::from_secs(15 * 60));
    loop {
        interval.tick().await;
        match store::purge_expired(&db, Utc::now()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired OAuth requests, tokens and registrations purged"),
            Err(err) => tracing::warn!(error = %err, "could not purge expired OAuth rows"),
        }
    }
}

/// Forgets expired OAuth rows now (tests and the purge task).
pub async fn purge_expired(db: &DatabaseConnection, now: DateTime<Utc>) -> Result<u64, DomainError> {
    store::purge_expired(db, now).await
}
