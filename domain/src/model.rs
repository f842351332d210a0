//! Serializable view types that travel from the server to the browser and to MCP clients.
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Role;

/// Declares an id newtype: the number a table row is known by, typed by what the row is, so a user's id cannot
/// be passed where a company's is expected. Serialised as the bare number.
macro_rules! row_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub i32);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = std::num::ParseIntError;

            fn from_str(raw: &str) -> Result<Self, Self::Err> {
                raw.trim().parse().map($name)
            }
        }
    };
}

row_id!(
    /// A user's id (Root User, office User or Caregiver).
    UserId
);
row_id!(
    /// A company's id (not its account number, which clients send).
    CompanyId
);

/// The signed-in person, as every page and server function sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CurrentUser {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub company_id: CompanyId,
    pub company_name: String,
    pub company_account: i64,
}

/// One visit of a caregiver to a patient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitView {
    pub id: i32,
    pub patient_id: i32,
    pub patient_name: String,
    pub patient_address: String,
    pub caregiver_id: UserId,
    pub caregiver_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub status: VisitStatus,
}

/// Where a visit stands. Stored as its lower-case name and read from the database as this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "server", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "lowercase")]
pub enum VisitStatus {
    #[cfg_attr(feature = "server", sea_orm(string_value = "scheduled"))]
    Scheduled,
    #[cfg_attr(feature = "server", sea_orm(string_value = "completed"))]
    Completed,
}

impl VisitStatus {
    /// The stored name, also the suffix of the badge's CSS class (`status-scheduled`).
    pub fn as_str(self) -> &'static str {
        match self {
            VisitStatus::Scheduled => "scheduled",
            VisitStatus::Completed => "completed",
        }
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            VisitStatus::Scheduled => "Scheduled",
            VisitStatus::Completed => "Completed",
        }
    }
}

/// What happened, on the activity feed. The stored (and serialised) names are part of the feed's interface;
/// the column is read as this type, shared with the browser, so nothing decodes the names by hand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "server", sea_orm(rs_type = "String", db_type = "Text"))]
pub enum Action {
    #[serde(rename = "key.minted")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "key.minted"))]
    KeyMinted,
    #[serde(rename = "key.revoked")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "key.revoked"))]
    KeyRevoked,
    #[serde(rename = "key.deleted")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "key.deleted"))]
    KeyDeleted,
    #[serde(rename = "key.used")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "key.used"))]
    KeyUsed,
    #[serde(rename = "key.auth_failed")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "key.auth_failed"))]
    KeyAuthFailed,
    #[serde(rename = "reauth.succeeded")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "reauth.succeeded"))]
    ReauthSucceeded,
    #[serde(rename = "reauth.failed")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "reauth.failed"))]
    ReauthFailed,
    #[serde(rename = "key_policy.changed")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "key_policy.changed"))]
    KeyPolicyChanged,
    #[serde(rename = "user.deactivated")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "user.deactivated"))]
    UserDeactivated,
    #[serde(rename = "user.activated")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "user.activated"))]
    UserActivated,
    #[serde(rename = "user.role_changed")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "user.role_changed"))]
    UserRoleChanged,
    #[serde(rename = "user.invited")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "user.invited"))]
    UserInvited,
    #[serde(rename = "user.invitation_cancelled")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "user.invitation_cancelled"))]
    InvitationCancelled,
    #[serde(rename = "user.joined")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "user.joined"))]
    UserJoined,
    #[serde(rename = "two_factor.enabled")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "two_factor.enabled"))]
    TwoFactorEnabled,
    #[serde(rename = "two_factor.disabled")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "two_factor.disabled"))]
    TwoFactorDisabled,
    #[serde(rename = "two_factor.recovery_codes")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "two_factor.recovery_codes"))]
    RecoveryCodesRenewed,
    #[serde(rename = "two_factor.recovery_code_used")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "two_factor.recovery_code_used"))]
    RecoveryCodeUsed,
    #[serde(rename = "app.connected")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "app.connected"))]
    AppConnected,
    /// A key or connection revoked because someone reported its token as leaked (the public revocation
    /// endpoint): nobody is signed in, the reporter is known only by their address.
    #[serde(rename = "key.reported_leaked")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "key.reported_leaked"))]
    KeyReportedLeaked,
    #[serde(rename = "key.allowlist_changed")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "key.allowlist_changed"))]
    KeyAllowlistChanged,
    /// A key replaced by a new one (the target names both Key IDs); it stops after the chosen overlap.
    #[serde(rename = "key.rolled")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "key.rolled"))]
    KeyRolled,
    /// The company's retention of activity and disclosure records changed (the target says to how many years).
    #[serde(rename = "record_retention.changed")]
    #[cfg_attr(feature = "server", sea_orm(string_value = "record_retention.changed"))]
    RecordRetentionChanged,
}

impl Action {
    pub const ALL: [Action; 23] = [
        Action::KeyMinted,
        Action::KeyRevoked,
        Action::KeyDeleted,
        Action::KeyUsed,
        Action::KeyAuthFailed,
        Action::ReauthSucceeded,
        Action::ReauthFailed,
        Action::KeyPolicyChanged,
        Action::UserDeactivated,
        Action::UserActivated,
        Action::UserRoleChanged,
        Action::UserInvited,
        Action::InvitationCancelled,
        Action::UserJoined,
        Action::TwoFactorEnabled,
        Action::TwoFactorDisabled,
        Action::RecoveryCodesRenewed,
        Action::RecoveryCodeUsed,
        Action::AppConnected,
        Action::KeyReportedLeaked,
        Action::KeyAllowlistChanged,
        Action::KeyRolled,
        Action::RecordRetentionChanged,
    ];

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::KeyMinted => "key.minted",
            Action::KeyRevoked => "key.revoked",
            Action::KeyDeleted => "key.deleted",
            Action::KeyUsed => "key.used",
            Action::KeyAuthFailed => "key.auth_failed",
            Action::ReauthSucceeded => "reauth.succeeded",
            Action::ReauthFailed => "reauth.failed",
            Action::KeyPolicyChanged => "key_policy.changed",
            Action::UserDeactivated => "user.deactivated",
            Action::UserActivated => "user.activated",
            Action::UserRoleChanged => "user.role_changed",
            Action::UserInvited => "user.invited",
            Action::InvitationCancelled => "user.invitation_cancelled",
            Action::UserJoined => "user.joined",
            Action::TwoFactorEnabled => "two_factor.enabled",
            Action::TwoFactorDisabled => "two_factor.disabled",
            Action::RecoveryCodesRenewed => "two_factor.recovery_codes",
            Action::RecoveryCodeUsed => "two_factor.recovery_code_used",
            Action::AppConnected => "app.connected",
            Action::KeyReportedLeaked => "key.reported_leaked",
            Action::KeyAllowlistChanged => "key.allowlist_changed",
            Action::KeyRolled => "key.rolled",
            Action::RecordRetentionChanged => "record_retention.changed",
        }
    }

    /// What it means, in words, for the feed.
    pub fn describe(self) -> &'static str {
        match self {
            Action::KeyMinted => "Created an API key",
            Action::KeyRevoked => "Revoked an API key",
            Action::KeyDeleted => "Deleted an API key",
            Action::KeyUsed => "Used an API key",
            Action::KeyAuthFailed => "API key refused",
            Action::ReauthSucceeded => "Confirmed password",
            Action::ReauthFailed => "Failed password confirmation",
            Action::KeyPolicyChanged => "Changed the key policy",
            Action::UserDeactivated => "Deactivated a person",
            Action::UserActivated => "Reactivated a person",
            Action::UserRoleChanged => "Changed a person's role",
            Action::UserInvited => "Invited a person",
            Action::InvitationCancelled => "Cancelled an invitation",
            Action::UserJoined => "Accepted an invitation",
            Action::TwoFactorEnabled => "Turned on two-factor authentication",
            Action::TwoFactorDisabled => "Turned off two-factor authentication",
            Action::RecoveryCodesRenewed => "Made new recovery codes",
            Action::RecoveryCodeUsed => "Signed in with a recovery code",
            Action::AppConnected => "Connected an app (OAuth)",
            Action::KeyReportedLeaked => "API key revoked: reported as leaked",
            Action::KeyAllowlistChanged => "Changed an API key's allowed IP addresses",
            Action::KeyRolled => "Rolled an API key",
            Action::RecordRetentionChanged => "Changed how long records are kept",
        }
    }
}

/// A patient of the company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientView {
    pub id: i32,
    pub name: String,
    pub address: String,
    pub phone: String,
    pub care_notes: String,
}

/// A message sent to or by a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageView {
    pub id: i32,
    pub sender_name: String,
    pub recipient_name: String,
    pub subject: String,
    pub body: String,
    pub sent_at: DateTime<Utc>,
}

pub use crate::keys::policy::{ExpiryChoice, KeyCreators, KeyPolicy, KeyStatus, RollOverlap};

/// Whose keys a Root User revokes at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RevokeAllOf {
    /// Everyone of this role in the company.
    Role(Role),
    /// One person.
    Person(UserId),
}
pub use crate::scope::Scope;

/// One API key as lists show it. Never carries the secret or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiKeyView {
    pub key_id: String,
    pub label: String,
    pub owner_id: UserId,
    pub owner_name: String,
    pub owner_role: Role,
    /// `false` once the owner is deactivated: the key is refused (`inactive_user`) whatever its status says.
    pub owner_active: bool,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub last_used_ip: Option<String>,
    pub last_used_client: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub status: KeyStatus,
    pub scopes: Vec<Scope>,
    /// `Some` when this credential is an app connected through OAuth rather than a key: the list shows the
    /// client's name and where it came from instead of a label.
    pub connection: Option<ConnectedApp>,
    /// The addresses and blocks the key may be used from; empty means anywhere.
    pub allowed_ips: Vec<String>,
    /// The Key ID of the key that replaced this one in a roll: it stops at `expires_at`.
    pub rolled_to: Option<String>,
}

/// The OAuth client behind a connection, as the keys list and the consent page show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConnectedApp {
    /// The name the client gave (from its metadata document or its registration), cleaned for display.
    pub client_name: String,
    pub origin: ClientOrigin,
}

/// Where an OAuth client's identity comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum ClientOrigin {
    /// A Client ID Metadata Document: the client_id is an https URL on this domain, which vouches for the name.
    Verified { domain: String },
    /// Dynamic Client Registration: the client named itself, and nobody vouches for it.
    SelfRegistered,
}

impl ClientOrigin {
    /// In words, for the list and the consent page.
    pub fn describe(&self) -> String {
        match self {
            ClientOrigin::Verified { domain } => domain.clone(),
            ClientOrigin::SelfRegistered => "unverified — registered itself".to_owned(),
        }
    }
}

/// What the consent page (`/oauth/authorize?request=…`) shows about a pending authorization request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentView {
    pub client: ConnectedApp,
    /// The host the browser returns to after the decision.
    pub redirect_host: String,
    /// What the client asked for, capped by the person's role (checked by default).
    pub requested: Vec<Scope>,
    /// Every scope the person's role allows (the checkboxes).
    pub allowed: Vec<Scope>,
    /// When the connection would stop working (the company's key lifetime); `None`: never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Whether the password (or a two-factor code) was confirmed within the last five minutes.
    pub reauthenticated: bool,
    /// Whether the person has two-factor on (then a current code may replace the password).
    pub two_factor: bool,
    /// Why the person may not create credentials under the company's policy (who may, and who to ask), if so.
    pub refusal: Option<String>,
    /// Whether the company requires two-factor for new credentials and the person has not turned it on.
    pub needs_two_factor: bool,
}

/// The person's answer on the consent page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsentDecision {
    pub allow: bool,
    /// The scopes ticked (ignored when denying); capped by the role again on the server.
    pub scopes: Vec<Scope>,
}

/// Which keys to list. Non-root callers always get only their own keys, whatever `user_id` says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyFilter {
    pub user_id: Option<UserId>,
    pub status: Option<KeyStatus>,
    pub search: Option<String>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl Default for KeyFilter {
    fn default() -> Self {
        KeyFilter { user_id: None, status: None, search: None, page: 1, per_page: 20 }
    }
}

/// One page of keys, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPage {
    pub keys: Vec<ApiKeyView>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// What the generate dialog submits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintRequest {
    pub label: String,
    /// `None`: the company's default (90 days, or its maximum if shorter).
    pub expiry: Option<ExpiryChoice>,
    /// Scope names; empty means everything the role allows.
    pub scopes: Vec<String>,
    /// IP addresses and CIDR blocks the key may be used from (each entry may hold several, comma-separated);
    /// empty means anywhere.
    #[serde(default)]
    pub allowed_ips: Vec<String>,
}

/// The plaintext token on its one trip to the browser that minted it. Deliberately not `Debug`, so it cannot
/// be logged by accident; it is `Serialize` only because that one response must carry it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RevealedToken(String);

impl RevealedToken {
    pub fn new(plaintext: String) -> Self {
        RevealedToken(plaintext)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A freshly minted key and its secret, shown once.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MintedKey {
    pub key: ApiKeyView,
    pub token: RevealedToken,
}

/// Who an activity event's actor is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActorKind {
    /// A signed-in person, or the person whose key acted (or was minted for them at the command line).
    Person,
    /// An operator at the server's `caregate` command line (no one signed in).
    CommandLine,
    /// Whoever presented a refused API key: nobody is known, only the Key ID they presented.
    UnknownClient,
}

impl ActorKind {
    /// How the feed names an actor that is not a person.
    pub fn label(self) -> &'static str {
        match self {
            ActorKind::Person => "Person",
            ActorKind::CommandLine => "Command line (operator)",
            ActorKind::UnknownClient => "Unknown client",
        }
    }
}

/// One entry of the activity feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityView {
    pub id: i32,
    pub at: DateTime<Utc>,
    /// Who acted, by kind; `actor_id`/`actor_name` name the person when it is one.
    pub actor_kind: ActorKind,
    pub actor_id: Option<UserId>,
    pub actor_name: Option<String>,
    pub key_id: Option<String>,
    pub action: Action,
    pub target: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// How many identical events the entry stands for: a burst of the same MCP tool call by one key from one
    /// address and client within 100 ms is one entry (`at` is the last call's time); otherwise 1.
    pub repeats: u32,
}

/// Which events to list. Non-root callers always get only their own events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityFilter {
    pub user_id: Option<UserId>,
    pub key_id: Option<String>,
    pub page: u32,
    pub per_page: u32,
}

impl Default for ActivityFilter {
    fn default() -> Self {
        ActivityFilter { user_id: None, key_id: None, page: 1, per_page: 50 }
    }
}

/// One page of activity, newest first. There is no total: counting a large feed on every page costs more
/// than the page itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActivityPage {
    pub events: Vec<ActivityView>,
    /// Whether an older page exists.
    pub has_more: bool,
    pub page: u32,
    pub per_page: u32,
}

/// Where a person's account stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum PersonStatus {
    /// Signs in; their keys work.
    Active,
    /// Invited and has not set a password yet: cannot sign in.
    Invited,
    /// Offboarded: cannot sign in, sessions ended, keys refused (`inactive_user`).
    Deactivated,
}

impl PersonStatus {
    pub const ALL: [PersonStatus; 3] = [PersonStatus::Active, PersonStatus::Invited, PersonStatus::Deactivated];

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            PersonStatus::Active => "Active",
            PersonStatus::Invited => "Invited",
            PersonStatus::Deactivated => "Deactivated",
        }
    }
}

/// One person on the People page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonRow {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub status: PersonStatus,
    /// Whether two-factor authentication is on.
    pub two_factor: bool,
    /// Keys that work now (neither revoked nor expired); a deactivated person's are refused anyway.
    pub active_keys: u64,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// Which people to list (Root Users only).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeopleFilter {
    /// Part of a name or email, any case.
    pub search: Option<String>,
    pub role: Option<Role>,
    pub status: Option<PersonStatus>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

impl Default for PeopleFilter {
    fn default() -> Self {
        PeopleFilter { search: None, role: None, status: None, page: 1, per_page: 20 }
    }
}

/// One page of people, by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PeoplePage {
    pub people: Vec<PersonRow>,
    pub total: u64,
    pub page: u32,
    pub per_page: u32,
}

/// What a change to a person did, for the People page to say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonChangeView {
    pub name: String,
    pub role: Role,
    pub status: PersonStatus,
    /// Keys that stopped working (deactivation) or work again (reactivation).
    pub live_keys: u64,
}

/// A new invitation link, on its one trip to the Root User who asked for it (not `Debug`: the link is a secret).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationLink {
    pub name: String,
    pub email: String,
    pub link: RevealedToken,
    pub expires_at: DateTime<Utc>,
    /// Whether the link was also e-mailed to the person (only when the server sends mail).
    pub emailed: bool,
}

/// Whether the signed-in person has two-factor authentication on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorStatus {
    pub enabled: bool,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u64,
}

/// Setting up two-factor: the seed as a QR code (an SVG drawn by the server) and as text for typing by hand.
/// Not `Debug`: it is the seed, on its one trip to the browser of the person setting it up.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TwoFactorSetup {
    /// RFC 4648 base32, as authenticator apps take it.
    pub secret: RevealedToken,
    pub otpauth_uri: RevealedToken,
    /// An `<svg>` of the `otpauth://` URI's QR code.
    pub qr_svg: String,
}

/// Fresh recovery codes, shown once (not `Debug`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecoveryCodes {
    pub codes: Vec<RevealedToken>,
}

/// What the invitation page shows before the invitee sets a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationView {
    pub company_name: String,
    pub name: String,
    pub email: String,
    pub role: Role,
    pub expires_at: DateTime<Utc>,
}

/// A colleague, for filters (Root Users see the whole company).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonView {
    pub id: UserId,
    pub name: String,
    pub role: Role,
}

/// How a user wants to be told about schedule changes and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationPreferences {
    pub email: bool,
    pub sms: bool,
    pub push: bool,
}

/// A visit still looking for a caregiver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OpenShiftView {
    pub id: i32,
    pub patient_id: i32,
    pub patient_name: String,
    pub starts_at: DateTime<Utc>,
    pub ends_at: DateTime<Utc>,
    pub notes: String,
}

/// A caregiver of the company.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CaregiverView {
    pub id: UserId,
    pub name: String,
    pub email: String,
    pub active: bool,
}

/// What an alert is about. The stored names are the column's values, read as this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "server", sea_orm(rs_type = "String", db_type = "Text"))]
pub enum AlertKind {
    /// Seven days before a key expires.
    #[cfg_attr(feature = "server", sea_orm(string_value = "key.expires_soon"))]
    KeyExpiresSoon,
    /// On the day a key expires.
    #[cfg_attr(feature = "server", sea_orm(string_value = "key.expires_today"))]
    KeyExpiresToday,
    /// A key reported as leaked was revoked.
    #[cfg_attr(feature = "server", sea_orm(string_value = "key.reported_leaked"))]
    KeyReportedLeaked,
}

impl AlertKind {
    /// A short heading for the Alerts page.
    pub fn describe(self) -> &'static str {
        match self {
            AlertKind::KeyExpiresSoon => "Key expires soon",
            AlertKind::KeyExpiresToday => "Key expires today",
            AlertKind::KeyReportedLeaked => "Key reported as leaked",
        }
    }
}

/// One alert, as its recipient sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertView {
    pub id: i32,
    pub kind: AlertKind,
    pub key_id: Option<String>,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub read: bool,
}

/// One page of a person's alerts, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertPage {
    pub alerts: Vec<AlertView>,
    /// Whether an older page exists.
    pub has_more: bool,
    pub page: u32,
    pub per_page: u32,
}

/// What the sidebar and the dashboard banner show: unread alerts, and the caller's active keys that expire
/// within seven days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlertSummary {
    pub unread: u64,
    pub keys_expiring_this_week: u64,
}

/// Requests on one UTC day.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageDay {
    pub day: chrono::NaiveDate,
    pub requests: u64,
}

/// An address and client a key was used from, and when last.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageSource {
    pub ip: Option<String>,
    /// The client's own name for itself (its `User-Agent`): the outsider's words, shown in quotes.
    pub client: Option<String>,
    pub last_seen_at: DateTime<Utc>,
}

/// Calls of one MCP tool.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolCalls {
    pub tool: String,
    pub calls: u64,
}

/// A key's details panel: its settings and how it has been used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyUsage {
    pub key: ApiKeyView,
    /// The last 30 UTC days, oldest first, days without requests included.
    pub days: Vec<UsageDay>,
    /// The last 5 distinct (address, client) pairs, most recent first.
    pub sources: Vec<UsageSource>,
    /// Tool calls by tool, most called first.
    pub tools: Vec<ToolCalls>,
    /// Distinct patients this key's calls disclosed over the last 30 days.
    pub patients_read: u64,
    /// The key's most-read patients over the last 30 days, at most 5, most reads first.
    pub top_patients: Vec<PatientReads>,
}

/// One disclosure: a patient's records returned to an AI client through a key or a connection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureView {
    pub at: DateTime<Utc>,
    pub patient_id: i32,
    pub patient_name: String,
    pub owner_id: UserId,
    pub owner_name: String,
    pub key_id: String,
    /// The key's label, or the connected app's name.
    pub key_label: String,
    /// `Some` when the credential is a connected app (OAuth).
    pub connection: Option<ConnectedApp>,
    /// The MCP client's name (from `initialize`), else its User-Agent, as untrusted text.
    pub client: Option<String>,
    pub tool: String,
}

/// Which disclosures to list: one patient's, or one key's, within an optional date range (UTC days, inclusive).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosureFilter {
    pub patient_id: Option<i32>,
    pub key_id: Option<String>,
    pub from: Option<chrono::NaiveDate>,
    pub to: Option<chrono::NaiveDate>,
    /// 1-based.
    pub page: u32,
    pub per_page: u32,
}

/// One page of disclosures, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DisclosurePage {
    pub rows: Vec<DisclosureView>,
    /// Matching rows, counted up to [`crate::disclosures::COUNT_CAP`].
    pub total: u64,
    /// More rows match than `total` says: counting stopped at the cap.
    pub total_capped: bool,
    pub page: u32,
    pub per_page: u32,
}

/// The most-read patients of a key over 30 days (for its details panel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatientReads {
    pub patient_id: i32,
    pub patient_name: String,
    pub reads: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_serialise_as_their_stored_names() {
        for action in Action::ALL {
            assert_eq!(serde_json::to_value(action).unwrap(), serde_json::Value::String(action.as_str().to_owned()));
        }
        assert_eq!(serde_json::to_value(VisitStatus::Scheduled).unwrap(), "scheduled");
    }

    #[test]
    fn ids_travel_as_bare_numbers_and_parse_from_form_values() {
        assert_eq!(serde_json::to_value(UserId(7)).unwrap(), 7);
        assert_eq!(serde_json::from_str::<CompanyId>("12").unwrap(), CompanyId(12));
        assert_eq!(" 42 ".parse::<UserId>(), Ok(UserId(42)));
        assert!("forty-two".parse::<UserId>().is_err());
        assert_eq!(UserId(3).to_string(), "3");
    }
}
