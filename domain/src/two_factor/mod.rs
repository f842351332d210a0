//! Two-factor authentication with time-based codes (TOTP, RFC 6238): setting it up (a seed shown once as a QR
//! code and as text, confirmed by a first code, then ten single-use recovery codes), checking codes at sign-in
//! and re-authentication, and turning it off with password and code.
//!
//! The seed is sealed with the server's [`SecretKey`] before it is stored. A code is accepted one step either
//! side of now, and only for a step later than the last one used, so a code works once. Guessing codes counts
//! against the same bounds as guessing passwords ([`PasswordAttempts`], 429). After a right password, a person
//! with two-factor on gets a sign-in challenge (a cookie secret, stored as its SHA-256, valid
//! [`CHALLENGE_LIFETIME`]) instead of a session, which a code or a recovery code turns into one.
use chrono::{DateTime, Duration, Utc};
use rand::Rng;

use crate::activity::{self, Action, NewEvent, Origin};
use crate::db::{ConnectionTrait, DatabaseConnection, TransactionTrait};
use crate::model::{CurrentUser, RecoveryCodes, RevealedToken, TwoFactorSetup, TwoFactorStatus, UserId};
use crate::password::Password;
use crate::secret_box::SecretKey;
use crate::throttle::PasswordAttempts;
use crate::{accounts, DomainError};

mod store;
pub mod totp;

/// How many recovery codes a person gets.
pub const RECOVERY_CODES: usize = 10;
/// How long a right password waits for its code.
pub const CHALLENGE_LIFETIME: Duration = Duration::minutes(5);
/// The issuer authenticator apps show beside the account.
pub const ISSUER: &str = "caregate";

/// Whether two-factor is on for the person, and how many recovery codes they have left.
pub async fn status(db: &impl ConnectionTrait, user_id: UserId) -> Result<TwoFactorStatus, DomainError> {
    let enabled = is_enabled(db, user_id).await?;
    let recovery_codes_left = if enabled { store::unused_recovery_codes(db, user_id).await? } else { 0 };
    Ok(TwoFactorStatus { enabled, recovery_codes_left })
}

pub async fn is_enabled(db: &impl ConnectionTrait, user_id: UserId) -> Result<bool, DomainError> {
    Ok(store::seed(db, user_id).await?.is_some_and(|seed| seed.enabled_at.is_some() && seed.sealed.is_some()))
}

/// Starts setting up two-factor: a new seed, stored sealed and waiting for its first code. Starting again
/// replaces a seed that was never confirmed; with two-factor already on it is a 409.
pub async fn begin_setup(db: &impl ConnectionTrait, key: &SecretKey, user: &CurrentUser) -> Result<TwoFactorSetup, DomainError> {
    if is_enabled(db, user.id).await? {
        return Err(DomainError::Conflict("Two-factor authentication is already on".to_owned()));
    }
    let seed: [u8; totp::SEED_BYTES] = rand::rngs::OsRng.gen();
    store::set_pending_seed(db, user.id, &key.seal(&seed, &context(user.id))).await?;
    let uri = totp::otpauth_uri(ISSUER, &user.email, &seed);
    let qr = qrcode::QrCode::new(uri.as_bytes()).map_err(|err| DomainError::Internal(format!("QR code: {err}")))?;
    let svg = qr.render::<qrcode::render::svg::Color>().min_dimensions(200, 200).quiet_zone(true).build();
    let qr_svg = svg.find("<svg").map(|start| svg[start..].to_owned()).unwrap_or(svg);
    Ok(TwoFactorSetup { secret: RevealedToken::new(totp::base32(&seed)), otpauth_uri: RevealedToken::new(uri), qr_svg })
}

/// Confirms set-up with the password and a first code from the app: two-factor is on, and the first recovery
/// codes are returned (shown once). The password is asked for because a code from a seed one has just enrolled
/// can stand in for the password later (re-authentication): without it, a stolen session could enrol its own
/// app and mint keys. The caller ends the person's other sessions ([`crate::sessions::turn_on_two_factor`]).
#[allow(clippy::too_many_arguments)]
pub async fn confirm_setup(
    db: &DatabaseConnection,
    key: &SecretKey,
    attempts: &PasswordAttempts,
    user: &CurrentUser,
    password: Password,
    code: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<RecoveryCodes, DomainError> {
    if !accounts::confirm_password(db, attempts, user, password, origin.ip.as_deref()).await? {
        return Err(DomainError::WrongPassword);
    }
    let stored = store::seed(db, user.id).await?.ok_or(DomainError::Unauthenticated)?;
    if stored.enabled_at.is_some() {
        return Err(DomainError::Conflict("Two-factor authentication is already on".to_owned()));
    }
    let sealed = stored.sealed.ok_or_else(|| DomainError::Conflict("Start setting up two-factor authentication first".to_owned()))?;
    let seed = key.open(&sealed, &context(user.id))?;
    if !bounded(attempts, user, origin, || async { accept_totp(db, user.id, &seed, code, now).await }).await? {
        return Err(DomainError::Invalid("That code is not correct. Check the time on your phone and try the newest code.".to_owned()));
    }
    let txn = db.begin().await?;
    if !store::enable(&txn, user.id, &sealed, now).await? {
        return Err(DomainError::Conflict("Two-factor set-up changed meanwhile (another tab?). Please start again.".to_owned()));
    }
    let codes = new_recovery_codes(&txn, key, user.id).await?;
    record(&txn, user, Action::TwoFactorEnabled, "Authenticator app", origin, now).await?;
    txn.commit().await?;
    Ok(codes)
}

/// New recovery codes in place of the old ones, after a current code.
pub async fn renew_recovery_codes(
    db: &DatabaseConnection,
    key: &SecretKey,
    attempts: &PasswordAttempts,
    user: &CurrentUser,
    code: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<RecoveryCodes, DomainError> {
    if !check_code(db, key, attempts, user, code, Recovery::Refused, origin, now).await? {
        return Err(wrong_code());
    }
    let txn = db.begin().await?;
    let codes = new_recovery_codes(&txn, key, user.id).await?;
    record(&txn, user, Action::RecoveryCodesRenewed, "The earlier recovery codes no longer work", origin, now).await?;
    txn.commit().await?;
    Ok(codes)
}

/// Turns two-factor off, after the password and a current code (or a recovery code, for a lost phone).
#[allow(clippy::too_many_arguments)]
pub async fn disable(
    db: &DatabaseConnection,
    key: &SecretKey,
    attempts: &PasswordAttempts,
    user: &CurrentUser,
    password: Password,
    code: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    if !accounts::confirm_password(db, attempts, user, password, origin.ip.as_deref()).await? {
        return Err(DomainError::WrongPassword);
    }
    if !check_code(db, key, attempts, user, code, Recovery::Accepted, origin, now).await? {
        return Err(wrong_code());
    }
    let txn = db.begin().await?;
    store::clear(&txn, user.id).await?;
    record(&txn, user, Action::TwoFactorDisabled, "Authenticator app", origin, now).await?;
    txn.commit().await?;
    Ok(())
}

/// Whether a recovery code may stand in for a code from the app.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recovery {
    /// Sign-in and turning two-factor off: a lost phone must not lock anyone out.
    Accepted,
    /// Re-authentication and new recovery codes: only the app's codes.
    Refused,
}

/// Checks a code of a person with two-factor on, under the bound on guessing: `false` for a wrong code or one
/// used before. With [`Recovery::Accepted`] an unused recovery code also passes (and is used up).
#[allow(clippy::too_many_arguments)]
pub async fn check_code(
    db: &DatabaseConnection,
    key: &SecretKey,
    attempts: &PasswordAttempts,
    user: &CurrentUser,
    code: &str,
    recovery: Recovery,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<bool, DomainError> {
    let stored = store::seed(db, user.id).await?;
    let sealed = match stored {
        Some(store::Seed { sealed: Some(sealed), enabled_at: Some(_) }) => sealed,
        _ => return Err(DomainError::Conflict("Two-factor authentication is not on".to_owned())),
    };
    let seed = key.open(&sealed, &context(user.id))?;
    bounded(attempts, user, origin, || async {
        if accept_totp(db, user.id, &seed, code, now).await? {
            return Ok(true);
        }
        if recovery == Recovery::Accepted && store::use_recovery_code(db, user.id, &recovery_digest(key, user.id, code), now).await? {
            record(db, user, Action::RecoveryCodeUsed, "A recovery code was used instead of the app", origin, now).await?;
            return Ok(true);
        }
        Ok(false)
    })
    .await
}

/// The secret of a sign-in challenge cookie. Not `Debug` or `Serialize`: it only goes into `Set-Cookie`.
pub struct ChallengeSecret(String);

impl ChallengeSecret {
    pub fn from_cookie(value: &str) -> Self {
        ChallengeSecret(value.to_owned())
    }

    pub fn cookie_value(&self) -> &str {
        &self.0
    }
}

/// After a right password: a challenge that waits [`CHALLENGE_LIFETIME`] for a code.
pub async fn challenge(db: &impl ConnectionTrait, user_id: UserId, now: DateTime<Utc>) -> Result<ChallengeSecret, DomainError> {
    let secret = ChallengeSecret(crate::bearer::random_secret());
    store::insert_challenge(db, &crate::bearer::digest(&secret.0), user_id, now, now + CHALLENGE_LIFETIME).await?;
    Ok(secret)
}

/// Answers a sign-in challenge with a code or a recovery code: the person, signed in (the caller starts the
/// session). An unknown or expired challenge is a 401 that asks to sign in again; a wrong code leaves the
/// challenge open for another try (under the guessing bound).
pub async fn answer_challenge(
    db: &DatabaseConnection,
    key: &SecretKey,
    attempts: &PasswordAttempts,
    challenge: &ChallengeSecret,
    code: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<CurrentUser, DomainError> {
    let digest = crate::bearer::digest(&challenge.0);
    let expired = || DomainError::Invalid("The sign-in took too long. Please sign in again.".to_owned());
    let user_id = store::challenge(db, &digest, now).await?.ok_or_else(expired)?;
    let user = accounts::current_user(db, user_id).await?.ok_or_else(expired)?;
    if !check_code(db, key, attempts, &user, code, Recovery::Accepted, origin, now).await? {
        return Err(wrong_code());
    }
    store::end_challenge(db, &digest, now).await?;
    Ok(user)
}

fn wrong_code() -> DomainError {
    DomainError::Invalid("That code is not correct".to_owned())
}

/// The seed's sealing context: a seed copied onto another person's row does not open.
fn context(user_id: UserId) -> Vec<u8> {
    format!("totp-seed:user:{user_id}").into_bytes()
}

/// Accepts a code from the app if it matches a step near `now` that is later than the last one used.
async fn accept_totp(db: &impl ConnectionTrait, user_id: UserId, seed: &[u8], code: &str, now: DateTime<Utc>) -> Result<bool, DomainError> {
    match totp::matching_step(seed, code, now) {
        Some(step) => store::use_step(db, user_id, step).await,
        None => Ok(false),
    }
}

/// Runs a check under the person's and the address's bound on guessing: over it, 429 without checking; a
/// failed check counts, anything else is taken back.
async fn bounded<F, Fut>(attempts: &PasswordAttempts, user: &CurrentUser, origin: &Origin, check: F) -> Result<bool, DomainError>
where
    F: FnOnce() -> Fut,
    Fut: std::future::Future<Output = Result<bool, DomainError>>,
{
    attempts.guard(&user.email, origin.ip.as_deref(), check(), |checked| matches!(checked, Ok(false))).await
}

/// Stores ten fresh recovery codes in place of any earlier ones and returns them.
async fn new_recovery_codes(db: &impl ConnectionTrait, key: &SecretKey, user_id: UserId) -> Result<RecoveryCodes, DomainError> {
    let codes: Vec<String> = (0..RECOVERY_CODES).map(|_| recovery_code()).collect();
    let digests: Vec<String> = codes.iter().map(|code| recovery_digest(key, user_id, code)).collect();
    store::replace_recovery_codes(db, user_id, &digests).await?;
    Ok(RecoveryCodes { codes: codes.into_iter().map(RevealedToken::new).collect() })
}

/// A recovery code: ten characters of base32 (50 random bits) in two groups, `abcde-fghij`.
fn recovery_code() -> String {
    let bytes: [u8; 7] = rand::rngs::OsRng.gen();
    let text = totp::base32(&bytes).to_ascii_lowercase();
    format!("{}-{}", &text[..5], &text[5..10])
}

/// The digest a recovery code is stored under: an HMAC under the server's key, bound to its person, so a
/// database dump alone cannot be searched for codes (50 bits would not stand a plain hash). What people type is
/// normalised first (case, dashes, spaces).
fn recovery_digest(key: &SecretKey, user_id: UserId, typed: &str) -> String {
    let normal: String = typed.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_lowercase()).collect();
    key.mac(format!("recovery-code:user:{user_id}:{normal}").as_bytes())
}

/// Deletes sign-in challenges that expired (answered ones are deleted when answered).
pub async fn purge_expired_challenges(db: &impl ConnectionTrait, now: DateTime<Utc>) -> Result<u64, DomainError> {
    store::delete_expired_challenges(db, now).await
}

async fn record(
    db: &impl ConnectionTrait,
    user: &CurrentUser,
    action: Action,
    target: &str,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<(), DomainError> {
    let event =
        NewEvent { company_id: user.company_id, actor_user_id: Some(user.id), key_id: None, action, target: target.to_owned(), origin, at: now };
    activity::record(db, event).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovery_codes_are_two_groups_of_five_and_typing_variations_name_the_same_code() {
        let code = recovery_code();
        assert_eq!(code.len(), 11);
        assert_eq!(code.as_bytes()[5], b'-');
        assert_ne!(recovery_code(), code);
        let (key, _) = SecretKey::generate();
        let spaced = format!(" {} ", code.to_ascii_uppercase().replace('-', " "));
        assert_eq!(recovery_digest(&key, UserId(7), &spaced), recovery_digest(&key, UserId(7), &code));
        assert_ne!(recovery_digest(&key, UserId(7), "abcde-fghij"), recovery_digest(&key, UserId(7), "abcde-fghik"));
        assert_ne!(recovery_digest(&key, UserId(7), &code), recovery_digest(&key, UserId(8), &code), "bound to its person");
        assert_ne!(recovery_digest(&key, UserId(7), &code), recovery_digest(&SecretKey::generate().0, UserId(7), &code), "and to the key");
    }
}
