//! Revoking tokens reported as leaked (GitHub's public credential-revocation shape): anyone may report a list
//! of tokens; every real, active one among them is revoked at once, its owner gets an alert and an e-mail,
//! and the activity feed records the report with the reporter's address. The reporter learns nothing.
//!
//! Cost is bounded before anything is looked up: a report holds at most [`MAX_CREDENTIALS`] tokens, only
//! well-formed tokens with a valid checksum reach the database, a token is looked at once per report, and at
//! most [`MAX_ARGON2_PER_REPORT`] key secrets are checked with argon2 (under the process-wide slots of
//! [`crate::password`]). OAuth tokens are checked by their SHA-256 digest (no argon2) and a leaked access or
//! refresh token revokes its whole connection.
use std::collections::HashSet;

use chrono::{DateTime, Utc};

use crate::activity::{self, Action, NewEvent, Origin};
use crate::alerts::{self, AlertKind, NewAlert};
use crate::db::{DatabaseConnection, TransactionTrait};
use crate::keys::policy::KeyStatus;
use crate::keys::store::{self, StoredKey};
use crate::keys::token::{self, TokenEnvironment};
use crate::mail::{escape_html, Mail, Mailer};
use crate::password;
use crate::DomainError;

/// Tokens one report may hold (GitHub's bound); more is refused as a whole.
pub const MAX_CREDENTIALS: usize = 1000;

/// Key secrets one report may have checked with argon2 (about 50 ms of one core each). A scanner reports the
/// few tokens it found in one place; a report of many tokens with real Key IDs and made-up secrets could
/// otherwise cost a thousand argon2 runs. Further key tokens in the same report are ignored.
pub const MAX_ARGON2_PER_REPORT: usize = 16;

/// What one report did (for logs and tests; the reporter is never told).
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LeakReport {
    /// Keys and connections this report revoked.
    pub revoked: u32,
    /// Key secrets checked with argon2.
    pub argon2_runs: u32,
}

/// Revokes every real, active key or connection among `credentials`, reported from `origin`. When the report
/// named any real one, it waits for [`crate::keys::freshness::settle`] once for the whole report, then e-mails
/// the owners of those it revoked and returns: from then on every process refuses them.
pub async fn revoke_reported(
    db: &DatabaseConnection,
    mailer: &Mailer,
    credentials: &[String],
    environment: TokenEnvironment,
    origin: &Origin,
    now: DateTime<Utc>,
) -> Result<LeakReport, DomainError> {
    let mut report = LeakReport::default();
    let mut revoked = Vec::new();
    let mut found_real = false;
    let outcome = async {
        let mut seen = HashSet::new();
        for presented in credentials.iter().take(MAX_CREDENTIALS).map(|token| token.trim()) {
            if !seen.insert(presented) {
                continue;
            }
            let Some(key) = real_key(db, presented, environment, &mut report).await? else { continue };
            found_real = true;
            if key.status(now) == KeyStatus::Active && revoke(db, &key, origin, now).await? {
                report.revoked += 1;
                revoked.push(key);
            }
        }
        Ok::<(), DomainError>(())
    }
    .await;
    // Even when a later token failed, the owners of those revoked are told, and told their key is refused
    // "now" only once no process accepts it.
    if found_real {
        // Also for a key another report revoked a moment ago: the answer comes once no process accepts it.
        crate::keys::freshness::settle().await;
    }
    if !revoked.is_empty() {
        for key in &revoked {
            tell_owner(mailer, key).await;
        }
    }
    outcome.map(|()| report)
}

/// The key or connection `presented` proves, or `None` (malformed, unknown, a wrong secret, or a key past
/// the report's argon2 bound).
async fn real_key(
    db: &DatabaseConnection,
    presented: &str,
    environment: TokenEnvironment,
    report: &mut LeakReport,
) -> Result<Option<StoredKey>, DomainError> {
    if crate::oauth::token::is_oauth_token(presented) {
        let Some(key_id) = crate::oauth::service::connection_of(db, presented, environment).await? else { return Ok(None) };
        return Ok(store::find(db, &key_id).await?.filter(StoredKey::is_connection));
    }
    let Ok(parsed) = token::parse(presented, environment) else { return Ok(None) };
    let Some(key) = store::find(db, parsed.key_id.as_str()).await?.filter(|key| !key.is_connection()) else { return Ok(None) };
    if report.argon2_runs as usize >= MAX_ARGON2_PER_REPORT {
        return Ok(None);
    }
    report.argon2_runs += 1;
    let secret = parsed.secret().to_vec();
    let hash = key.secret_hash();
    let matches = password::run_bounded(move || password::verify_blocking(&secret, &hash)).await?;
    Ok(matches.then_some(key))
}

/// Revokes the key with the report on the feed and the owner's alert, in one transaction; whether this call
/// revoked it.
async fn revoke(db: &DatabaseConnection, key: &StoredKey, origin: &Origin, now: DateTime<Utc>) -> Result<bool, DomainError> {
    let txn = db.begin().await?;
    if !store::revoke(&txn, key.id(), now).await? {
        return Ok(false);
    }
    let what = what(key);
    activity::record(
        &txn,
        NewEvent {
            company_id: key.company_id(),
            actor_user_id: None,
            key_id: Some(key.key_id()),
            action: Action::KeyReportedLeaked,
            target: format!("{what} \"{}\" of {} (revoked: reported as leaked)", key.label(), key.owner_name()),
            origin,
            at: now,
        },
    )
    .await?;
    let alert = NewAlert {
        user_id: key.owner_id(),
        company_id: key.company_id(),
        kind: AlertKind::KeyReportedLeaked,
        key_id: Some(key.key_id()),
        message: leaked_message(key),
    };
    alerts::raise(&txn, alert, now).await?;
    txn.commit().await?;
    Ok(true)
}

fn what(key: &StoredKey) -> &'static str {
    if key.is_connection() {
        "connected app"
    } else {
        "API key"
    }
}

/// What the owner is told, in the alert and the e-mail.
fn leaked_message(key: &StoredKey) -> String {
    let what = if key.is_connection() { "connection" } else { "key" };
    format!("Your {what} '{}' was reported as leaked and has been revoked", key.label())
}

/// E-mails the owner (when active); a failed delivery is logged, the revocation and the alert stand.
async fn tell_owner(mailer: &Mailer, key: &StoredKey) {
    let Some(to) = key.owner_email() else { return };
    let message = leaked_message(key);
    let text = format!(
        "Hello {},\n\n{message}.\n\nSomeone found its token in a public place and reported it to caregate. Any client still using it is refused \
         now: create a new key and update the client.\n",
        key.owner_name()
    );
    let html = format!(
        "<p>Hello {},</p><p>{}.</p><p>Any client still using it is refused now: create a new key and update the client.</p>",
        escape_html(key.owner_name()),
        escape_html(&message)
    );
    let mail = Mail { to: to.to_owned(), subject: format!("caregate: {message}"), text, html };
    if let Err(err) = mailer.send(mail).await {
        tracing::warn!(error = %err, key_id = %key.key_id(), "could not e-mail the owner of a key reported as leaked");
    }
}
