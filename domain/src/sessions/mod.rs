//! Server-side sign-in sessions: the cookie carries a random secret, the database only its SHA-256.
use chrono::{DateTime, Duration, Utc};

use crate::accounts;
use crate::activity::{self, Action, NewEvent, Origin};
use crate::db::{ConnectionTrait, DatabaseConnection};
use crate::model::{CurrentUser, UserId};
use crate::password::Password;
use crate::secret_box::SecretKey;
use crate::throttle::PasswordAttempts;
use crate::two_factor::{self, ChallengeSecret};
use crate::DomainError;

mod store;

/// How long a session lasts after sign-in.
pub const SESSION_LIFETIME: Duration = Duration::hours(12);

/// How recent a password confirmation must be for sensitive actions such as minting an API key.
pub const REAUTH_WINDOW: Duration = Duration::minutes(5);

/// The secret in the session cookie. Not `Debug` or `Serialize`: it only ever goes into `Set-Cookie`.
pub struct SessionToken(String);

impl SessionToken {
    fn generate() -> Self {
        SessionToken(crate::bearer::random_secret())
    }

    /// Wraps the value read from the cookie.
    pub fn from_cookie(value: &str) -> Self {
        SessionToken(value.to_owned())
    }

    /// The value to put in the cookie.
    pub fn cookie_value(&self) -> &str {
        &self.0
    }

    /// The primary key of the session row: a SHA-256 of the secret, so a database leak yields no usable cookie.
    fn storage_id(&self) -> String {
        crate::bearer::digest(&self.0)
    }
}

/// A valid session with its user.
#[derive(Debug, Clone)]
pub struct ActiveSession {
    pub user: CurrentUser,
    pub reauthenticated_at: Option<DateTime<Utc>>,
}

impl ActiveSession {
    /// Whether the password was confirmed within [`REAUTH_WINDOW`] of `now`.
    pub fn recently_reauthenticated(&self, now: DateTime<Utc>) -> bool {
        self.reauthenticated_at.is_some_and(|at| now - at <= REAUTH_WINDOW)
    }
}

/// What a right password leads to.
pub enum SignIn {
    /// Signed in: the session's cookie value, and who.
    Session(SessionToken, CurrentUser),
    /// Two-factor is on: the challenge's cookie value, waiting for a code ([`complete_sign_in`]).
    SecondFactor(ChallengeSecret),
}

/// Signs in with email and password (bounded guessing, 429): a session, or for people with two-factor on a
/// challenge that a code completes.
pub async fn sign_in(
    db: &impl ConnectionTrait,
    attempts: &PasswordAttempts,
    email: &str,
    password: Password,
    ip: Option<&str>,
    now: DateTime<Utc>,
) -> Result<SignIn, DomainError> {
    let user = accounts::sign_in(db, attempts, email, password, ip).await?;
    if two_factor::is_enabled(db, user.id).await? {
        return Ok(SignIn::SecondFactor(two_factor::challenge(db, user.id, now).await?));
    }
    let token = start(db, user.id).await?;
    accounts::record_sign_in(db, user.id, now).await?;
    Ok(SignIn::Session(token, user))
}

/// Completes a two-factor sign-in with a code from the app or a recovery code.
pub async fn complete_sign_in(
    db: &DatabaseConnection,
    key: &SecretKey,
    attempts: &PasswordAttempts,
    challenge: &ChallengeSecret,
    code: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(SessionToken, CurrentUser), DomainError> {
    let user = two_factor::answer_challenge(db, key, attempts, challenge, code, origin, now).await?;
    let token = start(db, user.id).await?;
    accounts::record_sign_in(db, user.id, now).await?;
    Ok((token, user))
}

/// Starts a session for `user_id`; the returned token is the cookie's value.
pub async fn start(db: &impl ConnectionTrait, user_id: UserId) -> Result<SessionToken, DomainError> {
    let token = SessionToken::generate();
    let now = Utc::now();
    store::insert(db, token.storage_id(), user_id, now, now + SESSION_LIFETIME).await?;
    Ok(token)
}

/// Resolves a cookie to its session; `None` when unknown, expired, or the user was deactivated.
pub async fn resolve(db: &impl ConnectionTrait, token: &SessionToken) -> Result<Option<ActiveSession>, DomainError> {
    let storage_id = token.storage_id();
    let Some(row) = store::find(db, &storage_id).await? else {
        return Ok(None);
    };
    if row.expires_at <= Utc::now() {
        store::delete(db, &storage_id).await?;
        return Ok(None);
    }
    Ok(accounts::current_user(db, row.user_id).await?.map(|user| ActiveSession { user, reauthenticated_at: row.reauthenticated_at }))
}

/// Records a successful password confirmation on this session.
pub async fn mark_reauthenticated(db: &impl ConnectionTrait, token: &SessionToken) -> Result<(), DomainError> {
    if store::set_reauthenticated(db, &token.storage_id(), Utc::now()).await? {
        Ok(())
    } else {
        Err(DomainError::Unauthenticated)
    }
}

/// How a signed-in person proves it is still them before a sensitive action.
pub enum Proof {
    Password(Password),
    /// A current code from their authenticator app (two-factor on); recovery codes do not count here.
    Code(String),
}

/// Confirms the signed-in person before a sensitive action (minting a key), with their password or a current
/// two-factor code: the attempt is on the activity feed either way, and success marks this session
/// re-authenticated for [`REAUTH_WINDOW`]. Guessing is bounded like sign-in (429).
#[allow(clippy::too_many_arguments)]
pub async fn reauthenticate(
    db: &DatabaseConnection,
    key: &SecretKey,
    attempts: &PasswordAttempts,
    session: &ActiveSession,
    token: &SessionToken,
    proof: Proof,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let (confirmed, what, refusal) = match proof {
        Proof::Password(password) => {
            let confirmed = accounts::confirm_password(db, attempts, &session.user, password, origin.ip.as_deref()).await?;
            (confirmed, "Password confirmation for API keys", DomainError::WrongPassword)
        }
        Proof::Code(code) => {
            let confirmed = two_factor::check_code(db, key, attempts, &session.user, &code, two_factor::Recovery::Refused, origin, now).await?;
            (confirmed, "Two-factor code confirmation for API keys", DomainError::Invalid("That code is not correct".to_owned()))
        }
    };
    let event = NewEvent {
        company_id: session.user.company_id,
        actor_user_id: Some(session.user.id),
        key_id: None,
        action: if confirmed { Action::ReauthSucceeded } else { Action::ReauthFailed },
        target: what.to_owned(),
        origin,
        at: now,
    };
    activity::record(db, event).await?;
    if !confirmed {
        return Err(refusal);
    }
    mark_reauthenticated(db, token).await
}

/// Changes the signed-in person's password after checking the current one, ends every session of theirs and
/// starts a fresh one for this browser (whose token is returned for the cookie).
pub async fn change_password(
    db: &impl ConnectionTrait,
    attempts: &PasswordAttempts,
    user: &CurrentUser,
    current: Password,
    new: &str,
    confirm: &str,
    ip: Option<&str>,
) -> Result<SessionToken, DomainError> {
    if new != confirm {
        return Err(DomainError::Invalid("The new passwords do not match".to_owned()));
    }
    accounts::change_password(db, attempts, user, current, new, ip).await?;
    end_all_for_user(db, user.id).await?;
    start(db, user.id).await
}

/// Turns on two-factor for the signed-in person (password and a first code, see
/// [`two_factor::confirm_setup`]) and ends their other sessions, so a session someone else may hold has to sign
/// in again, with a code.
#[allow(clippy::too_many_arguments)]
pub async fn turn_on_two_factor(
    db: &DatabaseConnection,
    key: &SecretKey,
    attempts: &PasswordAttempts,
    session: &ActiveSession,
    token: &SessionToken,
    password: Password,
    code: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<crate::model::RecoveryCodes, DomainError> {
    let codes = two_factor::confirm_setup(db, key, attempts, &session.user, password, code, origin, now).await?;
    store::delete_for_user_except(db, session.user.id, &token.storage_id()).await?;
    Ok(codes)
}

/// Ends one session (sign-out).
pub async fn end(db: &impl ConnectionTrait, token: &SessionToken) -> Result<(), DomainError> {
    store::delete(db, &token.storage_id()).await
}

/// Ends every session of a user (password change, deactivation).
pub async fn end_all_for_user(db: &impl ConnectionTrait, user_id: UserId) -> Result<(), DomainError> {
    store::delete_for_user(db, user_id).await
}

/// Deletes every session that has expired, in batches of at most [`PURGE_BATCH`] rows, and returns how many
/// went. Expired sessions are refused anyway; this keeps them from piling up in the database.
pub async fn purge_expired(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DomainError> {
    let mut purged = 0;
    loop {
        let deleted = store::delete_expired(db, now, PURGE_BATCH).await?;
        purged += deleted;
        if deleted < PURGE_BATCH {
            return Ok(purged);
        }
    }
}

/// Rows one purge statement deletes at most, so no purge holds a long lock.
pub const PURGE_BATCH: u64 = 1_000;

/// How often a server process purges expired sessions.
pub const PURGE_INTERVAL: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// Purges expired sessions now and then every [`PURGE_INTERVAL`], for as long as the server runs. Several
/// processes may do this at once: each deletes only rows that are expired, so they cannot disagree.
pub async fn purge_expired_periodically(db: DatabaseConnection) {
    let mut ticks = tokio::time::interval(PURGE_INTERVAL);
    loop {
        ticks.tick().await;
        if let Err(err) = two_factor::purge_expired_challenges(&db, Utc::now()).await {
            tracing::warn!(error = %err, "could not delete expired sign-in challenges");
        }
        match purge_expired(&db, Utc::now()).await {
            Ok(0) => {}
            Ok(purged) => tracing::info!(purged, "expired sessions deleted"),
            Err(err) => tracing::warn!(error = %err, "could not delete expired sessions"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tokens_are_random_and_stored_only_as_their_digest() {
        let a = SessionToken::generate();
        let b = SessionToken::generate();
        assert_ne!(a.cookie_value(), b.cookie_value());
        assert_eq!(a.cookie_value().len(), 64);
        assert_eq!(a.storage_id().len(), 64);
        assert_ne!(a.storage_id(), a.cookie_value());
        assert_eq!(a.storage_id(), SessionToken::from_cookie(a.cookie_value()).storage_id());
    }
}
