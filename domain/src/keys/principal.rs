//! What verifying a presented API key yields: the [`KeyPrincipal`] a key acts as, or the [`KeyAuthError`] it was
//! refused with; and recording both on the activity feed (batched, off the request path).
use std::sync::OnceLock;

use chrono::{DateTime, Utc};

use crate::activity::{Action, NewEvent, Origin};
use crate::activity_writer::{ActivityWriter, ToolCall};
use crate::keys::token::{KeyId, MalformedToken};
use crate::model::{CompanyId, CurrentUser};
use crate::scope::Scope;
use crate::DomainError;

/// Why a presented token was refused. Each variant's doc names the `code` the HTTP layer reports.
#[derive(Debug, thiserror::Error)]
pub enum KeyAuthError {
    /// `malformed_key`: wrong prefix, length or checksum; decided without the database.
    #[error("malformed API key: {0}")]
    Malformed(MalformedToken),
    /// `invalid_key`: unknown Key ID or wrong secret (one answer for both). `known` names the key and its
    /// company when the Key ID exists (for the activity feed; never for the caller).
    #[error("Invalid access token provided")]
    Invalid { known: Option<(KeyId, CompanyId)> },
    /// `expired_key`
    #[error("API token has expired")]
    Expired { key_id: KeyId, company_id: CompanyId },
    /// `revoked_key`
    #[error("API token has been revoked")]
    Revoked { key_id: KeyId, company_id: CompanyId },
    /// `inactive_user`: the owner was deactivated.
    #[error("The owner of this API token is no longer active")]
    InactiveUser { key_id: KeyId, company_id: CompanyId },
    /// `ip_not_allowed` (403): the key has an IP allowlist and the client's address is not on it. Decided
    /// after the secret matched, so it tells nothing to someone without the key.
    #[error("This API key may not be used from {ip}")]
    IpNotAllowed { key_id: KeyId, company_id: CompanyId, ip: String },
    /// `too_many_attempts` (429): too many wrong secrets for this Key ID or from this address lately;
    /// decided without argon2 work.
    #[error("Too many failed attempts; try again in {retry_after} seconds")]
    TooManyAttempts { retry_after: u64 },
    /// `rate_limited` (429): the key used up its company's per-minute request budget.
    #[error("This API key made more than {budget} requests this minute; try again in {retry_after} seconds")]
    RateLimited { retry_after: u64, budget: u32 },
    /// A server-side failure (500).
    #[error(transparent)]
    Internal(DomainError),
}

/// What a request authenticated with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    /// An API key (`cg_…`).
    Key,
    /// An OAuth access token (`cgat_…`) of a connection; `key_id` is then the connection's.
    Connection,
}

/// An API key (or a connection's access token) that authenticated: its owner as they are now, and what it may
/// do now.
#[derive(Debug, Clone)]
pub struct KeyPrincipal {
    pub user: CurrentUser,
    pub key_id: KeyId,
    /// The key's label, or a connection's client name.
    pub label: String,
    pub credential: Credential,
    /// Granted scopes ∩ what the owner's current role allows.
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
    /// [`KeyPrincipal::description`], built by its first caller. A principal stands for one copy of its key's
    /// row ([`crate::keys::freshness::STALENESS`] at most) and nothing in it changes, so neither does this.
    pub(crate) described: OnceLock<serde_json::Value>,
}

impl KeyAuthError {
    /// The key and company a refusal concerns, when the token named an existing key.
    pub fn key(&self) -> Option<(&KeyId, CompanyId)> {
        match self {
            KeyAuthError::Invalid { known: Some((key_id, company_id)) }
            | KeyAuthError::Expired { key_id, company_id }
            | KeyAuthError::Revoked { key_id, company_id }
            | KeyAuthError::InactiveUser { key_id, company_id }
            | KeyAuthError::IpNotAllowed { key_id, company_id, .. } => Some((key_id, *company_id)),
            _ => None,
        }
    }
}

impl KeyPrincipal {
    /// Whether the key may currently use `scope`.
    pub fn allows(&self, scope: Scope) -> bool {
        self.scopes.contains(&scope)
    }

    /// Who the key acts for and what it may do, as JSON: the user, their company, and the key's Key ID, label,
    /// scopes and expiry (the answer of `/api/v1/me` and of the MCP `whoami` tool). Built once per principal.
    pub fn description(&self) -> &serde_json::Value {
        self.described.get_or_init(|| {
            let user = &self.user;
            serde_json::json!({
                "user": { "id": user.id, "name": user.name, "email": user.email, "role": user.role },
                "company": { "id": user.company_id, "name": user.company_name, "account_number": user.company_account },
                "key": {
                    "key_id": self.key_id.as_str(),
                    "label": self.label,
                    "scopes": self.scopes,
                    "expires_at": self.expires_at,
                },
            })
        })
    }
}

/// Records a refused key on the activity feed of the key's company (batched, see [`ActivityWriter`]).
pub async fn record_refusal(writer: &ActivityWriter, error: &KeyAuthError, origin: &Origin, now: DateTime<Utc>) {
    let Some((key_id, company_id)) = error.key() else { return };
    writer
        .record(NewEvent {
            company_id,
            actor_user_id: None,
            key_id: Some(key_id.as_str()),
            action: Action::KeyAuthFailed,
            target: error.to_string(),
            origin,
            at: now,
        })
        .await;
}

/// Records one MCP tool call, attributed to the key's owner, and counts it for the key's usage (batched, see
/// [`ActivityWriter`]).
pub async fn record_tool_call(writer: &ActivityWriter, principal: &KeyPrincipal, tool: &str, origin: &Origin, now: DateTime<Utc>) {
    writer
        .record_tool_call(ToolCall {
            company_id: principal.user.company_id,
            owner: principal.user.id,
            key_id: principal.key_id.as_str(),
            tool,
            origin,
            at: now,
        })
        .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CompanyId, UserId};
    use crate::Role;

    fn principal() -> KeyPrincipal {
        KeyPrincipal {
            user: CurrentUser {
                id: UserId(7),
                name: "Rosa Martinez".to_owned(),
                email: "root@sunrise.test".to_owned(),
                role: Role::Root,
                company_id: CompanyId(3),
                company_name: "Sunrise Home Care".to_owned(),
                company_account: 74_844_299,
            },
            key_id: KeyId::parse("Ab3dE6gH").unwrap(),
            label: "laptop".to_owned(),
            credential: Credential::Key,
            scopes: vec![Scope::ReadVisits, Scope::ReadProfile],
            expires_at: Some("2027-03-03T10:00:00Z".parse().unwrap()),
            described: OnceLock::new(),
        }
    }

    #[test]
    fn the_description_names_the_user_the_company_and_the_key() {
        let described = principal().description().clone();
        assert_eq!(
            described,
            serde_json::json!({
                "user": { "id": 7, "name": "Rosa Martinez", "email": "root@sunrise.test", "role": "root" },
                "company": { "id": 3, "name": "Sunrise Home Care", "account_number": 74_844_299 },
                "key": { "key_id": "Ab3dE6gH", "label": "laptop", "scopes": ["read:visits", "read:profile"], "expires_at": "2027-03-03T10:00:00Z" },
            })
        );
    }
}
