//! The rules of a key's life: its label, how long it may live, its status at a given moment, and how a roll
//! replaces it (when the old key stops, how long the new one lives).
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::Role;

/// A key's status, always computed from the clock (no background job marks keys expired).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum KeyStatus {
    Active,
    Expired,
    Revoked,
}

impl KeyStatus {
    pub const ALL: [KeyStatus; 3] = [KeyStatus::Active, KeyStatus::Expired, KeyStatus::Revoked];

    pub fn at(revoked_at: Option<DateTime<Utc>>, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> KeyStatus {
        match (revoked_at, expires_at) {
            (Some(_), _) => KeyStatus::Revoked,
            (None, Some(expiry)) if expiry <= now => KeyStatus::Expired,
            _ => KeyStatus::Active,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Expired => "Expired",
            KeyStatus::Revoked => "Revoked",
        }
    }

    pub fn parse(value: &str) -> Option<KeyStatus> {
        KeyStatus::ALL.into_iter().find(|status| status.as_str().eq_ignore_ascii_case(value.trim()))
    }
}

/// A key's label: trimmed, 1–100 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyLabel(String);

impl KeyLabel {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<KeyLabel, String> {
        let label = raw.trim();
        let length = label.chars().count();
        if length == 0 {
            Err("Give the key a label so you can recognise it later".to_owned())
        } else if length > Self::MAX_CHARS {
            Err(format!("Labels can have at most {} characters (this one has {length})", Self::MAX_CHARS))
        } else if label.chars().any(char::is_control) {
            Err("Labels cannot contain control characters".to_owned())
        } else if label.chars().any(crate::text::is_invisible_format) {
            Err("Labels cannot contain invisible or text-direction characters".to_owned())
        } else {
            Ok(KeyLabel(label.to_owned()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The label the generate dialog suggests: `API Key Nov 22, 2026`.
    pub fn suggested(today: NaiveDate) -> String {
        format!("API Key {}", today.format("%b %-d, %Y"))
    }
}

/// Who may create API keys in a company (every key still reads only what its owner may see).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "server", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "lowercase")]
pub enum KeyCreators {
    /// Root Users only.
    #[cfg_attr(feature = "server", sea_orm(string_value = "root"))]
    Root,
    /// Root Users and office Users.
    #[cfg_attr(feature = "server", sea_orm(string_value = "office"))]
    Office,
    /// Everyone, Caregivers included (the default).
    #[default]
    #[cfg_attr(feature = "server", sea_orm(string_value = "everyone"))]
    Everyone,
}

impl KeyCreators {
    pub const ALL: [KeyCreators; 3] = [KeyCreators::Root, KeyCreators::Office, KeyCreators::Everyone];

    /// Whether a person of `role` may create keys.
    pub fn allows(self, role: Role) -> bool {
        match self {
            KeyCreators::Root => role == Role::Root,
            KeyCreators::Office => role.is_office(),
            KeyCreators::Everyone => true,
        }
    }

    /// The form value.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyCreators::Root => "root",
            KeyCreators::Office => "office",
            KeyCreators::Everyone => "everyone",
        }
    }

    pub fn parse(value: &str) -> Option<KeyCreators> {
        KeyCreators::ALL.into_iter().find(|creators| creators.as_str() == value)
    }

    /// What the policy form and summary say.
    pub fn label(self) -> &'static str {
        match self {
            KeyCreators::Root => "Root Users only",
            KeyCreators::Office => "Root Users and office Users",
            KeyCreators::Everyone => "Everyone, Caregivers included",
        }
    }

    /// Why someone who may not create keys is refused, and who to ask.
    pub fn refusal(self) -> &'static str {
        match self {
            KeyCreators::Root => "Your company lets only Root Users create API keys. Ask a Root User if you need one.",
            KeyCreators::Office => "Your company lets only office staff create API keys. Ask a Root User if you need one.",
            KeyCreators::Everyone => "",
        }
    }
}

/// A company's rules for keys, set by its Root Users.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyPolicy {
    /// The longest a key may live, in days (1–365).
    pub lifetime_days: u32,
    /// Whether keys may be minted without an expiry.
    pub allow_non_expiring: bool,
    /// How many active keys one user may hold (1–100).
    pub max_active_keys: u32,
    /// Requests one key may make per minute, counted for the whole deployment (10–1 000 000).
    #[serde(default = "default_requests_per_minute")]
    pub requests_per_minute: u32,
    /// Who may create keys.
    #[serde(default)]
    pub creators: KeyCreators,
    /// Whether creating a key needs two-factor authentication turned on.
    #[serde(default)]
    pub require_two_factor: bool,
}

fn default_requests_per_minute() -> u32 {
    600
}

impl Default for KeyPolicy {
    fn default() -> Self {
        KeyPolicy {
            lifetime_days: 90,
            allow_non_expiring: false,
            max_active_keys: 10,
            requests_per_minute: default_requests_per_minute(),
            creators: KeyCreators::default(),
            require_two_factor: false,
        }
    }
}

impl KeyPolicy {
    /// Validates a policy a Root User submits.
    pub fn validate(self) -> Result<KeyPolicy, String> {
        if !(1..=365).contains(&self.lifetime_days) {
            return Err("The maximum key lifetime must be between 1 and 365 days".to_owned());
        }
        if !(1..=100).contains(&self.max_active_keys) {
            return Err("The active-key limit must be between 1 and 100 per user".to_owned());
        }
        if !(10..=1_000_000).contains(&self.requests_per_minute) {
            return Err("The request budget must be between 10 and 1000000 requests per minute".to_owned());
        }
        Ok(self)
    }

    /// The default expiry offered when minting: 90 days, or less if the policy is shorter.
    pub fn default_choice(&self) -> ExpiryChoice {
        ExpiryChoice::Days(self.lifetime_days.min(90))
    }

    /// The preset lifetimes the generate dialog offers under this policy.
    pub fn preset_days(&self) -> Vec<u32> {
        [30, 60, 90].into_iter().filter(|days| *days <= self.lifetime_days).collect()
    }

    /// When a key minted `now` with `choice` expires (`None`: never), or why that choice is not allowed.
    pub fn resolve(&self, choice: ExpiryChoice, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
        let limit = format!("Your company allows keys of at most {} days", self.lifetime_days);
        match choice {
            ExpiryChoice::Days(0) => Err("A key must live at least one day".to_owned()),
            ExpiryChoice::Days(days) if days > self.lifetime_days => Err(limit),
            ExpiryChoice::Days(days) => Ok(Some(now + Duration::days(days.into()))),
            ExpiryChoice::Until(date) => {
                let end_of_day = date.and_time(NaiveTime::from_hms_opt(23, 59, 59).unwrap_or(NaiveTime::MIN)).and_utc();
                if end_of_day <= now {
                    Err("The expiry date must be in the future".to_owned())
                } else if date > (now + Duration::days(self.lifetime_days.into())).date_naive() {
                    Err(limit)
                } else {
                    Ok(Some(end_of_day))
                }
            }
            ExpiryChoice::Never if self.allow_non_expiring => Ok(None),
            ExpiryChoice::Never => Err("Your company requires every key to expire".to_owned()),
        }
    }
}

/// How long a new key should live, as its creator chose.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExpiryChoice {
    /// This many days from now.
    Days(u32),
    /// Until the end of this day (UTC).
    Until(NaiveDate),
    /// Never (only where the company allows it).
    Never,
}

/// When a rolled key stops working, as its owner chose: the old and the new key both work until then.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RollOverlap {
    Now,
    OneHour,
    OneDay,
    SevenDays,
}

impl RollOverlap {
    pub const ALL: [RollOverlap; 4] = [RollOverlap::Now, RollOverlap::OneHour, RollOverlap::OneDay, RollOverlap::SevenDays];

    pub fn duration(self) -> Duration {
        match self {
            RollOverlap::Now => Duration::zero(),
            RollOverlap::OneHour => Duration::hours(1),
            RollOverlap::OneDay => Duration::hours(24),
            RollOverlap::SevenDays => Duration::days(7),
        }
    }

    /// The dialog's words.
    pub fn label(self) -> &'static str {
        match self {
            RollOverlap::Now => "Now",
            RollOverlap::OneHour => "In 1 hour",
            RollOverlap::OneDay => "In 24 hours",
            RollOverlap::SevenDays => "In 7 days",
        }
    }

    /// The command line's spelling (`now`, `1h`, `24h`, `7d`), also the form's value.
    pub fn as_str(self) -> &'static str {
        match self {
            RollOverlap::Now => "now",
            RollOverlap::OneHour => "1h",
            RollOverlap::OneDay => "24h",
            RollOverlap::SevenDays => "7d",
        }
    }

    pub fn parse(raw: &str) -> Result<RollOverlap, String> {
        match raw.trim() {
            "now" | "0" => Ok(RollOverlap::Now),
            "1h" => Ok(RollOverlap::OneHour),
            "24h" | "1d" => Ok(RollOverlap::OneDay),
            "7d" | "168h" => Ok(RollOverlap::SevenDays),
            other => Err(format!("{other:?} is not an overlap: use now, 1h, 24h or 7d")),
        }
    }

    /// When the old key stops: after the overlap, but never later than its own expiry.
    pub fn stops_at(self, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> DateTime<Utc> {
        let wanted = now + self.duration();
        expires_at.map_or(wanted, |expiry| expiry.min(wanted))
    }
}

/// When the key that replaces a rolled one expires: it lives as long as the old key was made to live (from
/// its creation to its expiry), within the company's current lifetime; a non-expiring key stays so only while
/// the company allows that.
pub fn rolled_expiry(policy: &KeyPolicy, created_at: DateTime<Utc>, expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let longest = now + Duration::days(policy.lifetime_days.into());
    match expires_at {
        Some(expiry) => Some((now + (expiry - created_at).max(Duration::days(1))).min(longest)),
        None if policy.allow_non_expiring => None,
        None => Some(longest),
    }
}

/// How a rolled key that still works says when it stops: "stops in 23 h", "stops in 40 min", "stops in 6 d".
pub fn stops_in(stops_at: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let left = stops_at - now;
    if left >= Duration::days(2) {
        format!("stops in {} d", left.num_days())
    } else if left >= Duration::hours(1) {
        format!("stops in {} h", left.num_hours())
    } else {
        format!("stops in {} min", left.num_minutes().max(1))
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn a_rolled_key_stops_after_the_overlap_but_never_after_its_own_expiry() {
        assert_eq!(RollOverlap::OneDay.stops_at(Some(now() + Duration::days(30)), now()), now() + Duration::hours(24));
        assert_eq!(RollOverlap::SevenDays.stops_at(Some(now() + Duration::days(2)), now()), now() + Duration::days(2));
        assert_eq!(RollOverlap::OneHour.stops_at(None, now()), now() + Duration::hours(1));
        assert_eq!(RollOverlap::Now.stops_at(Some(now() + Duration::days(2)), now()), now());
    }

    #[test]
    fn overlaps_read_as_the_command_line_writes_them() {
        for overlap in RollOverlap::ALL {
            assert_eq!(RollOverlap::parse(overlap.as_str()), Ok(overlap));
        }
        assert!(RollOverlap::parse("3h").is_err());
    }

    #[test]
    fn the_new_key_lives_as_long_as_the_old_one_was_made_to_within_the_policy() {
        let policy = KeyPolicy { lifetime_days: 90, allow_non_expiring: false, ..KeyPolicy::default() };
        let created = now() - Duration::days(20);
        assert_eq!(rolled_expiry(&policy, created, Some(created + Duration::days(30)), now()), Some(now() + Duration::days(30)));
        let shorter = KeyPolicy { lifetime_days: 10, ..policy };
        assert_eq!(rolled_expiry(&shorter, created, Some(created + Duration::days(30)), now()), Some(now() + Duration::days(10)));
        assert_eq!(rolled_expiry(&policy, created, None, now()), Some(now() + Duration::days(90)));
        let never = KeyPolicy { allow_non_expiring: true, ..policy };
        assert_eq!(rolled_expiry(&never, created, None, now()), None);
    }

    #[test]
    fn a_rolled_key_says_when_it_stops_in_the_largest_whole_unit() {
        assert_eq!(stops_in(now() + Duration::hours(24) - Duration::seconds(30), now()), "stops in 23 h");
        assert_eq!(stops_in(now() + Duration::minutes(59), now()), "stops in 59 min");
        assert_eq!(stops_in(now() + Duration::days(7), now()), "stops in 7 d");
        assert_eq!(stops_in(now() + Duration::seconds(5), now()), "stops in 1 min");
    }

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap()
    }

    #[test]
    fn status_follows_revocation_then_the_clock() {
        let later = now() + Duration::days(1);
        assert_eq!(KeyStatus::at(None, Some(later), now()), KeyStatus::Active);
        assert_eq!(KeyStatus::at(None, None, now()), KeyStatus::Active);
        assert_eq!(KeyStatus::at(None, Some(now()), now()), KeyStatus::Expired);
        assert_eq!(KeyStatus::at(Some(now()), Some(later), now()), KeyStatus::Revoked);
        assert_eq!(KeyStatus::at(Some(now()), Some(now() - Duration::days(3)), now()), KeyStatus::Revoked);
        assert_eq!(KeyStatus::parse("expired"), Some(KeyStatus::Expired));
    }

    #[test]
    fn labels_are_trimmed_and_bounded() {
        assert_eq!(KeyLabel::parse("  Claude on my laptop ").unwrap().as_str(), "Claude on my laptop");
        assert!(KeyLabel::parse("   ").is_err());
        assert!(KeyLabel::parse(&"é".repeat(100)).is_ok());
        assert!(KeyLabel::parse(&"é".repeat(101)).unwrap_err().contains("at most 100"));
        assert!(KeyLabel::parse("bad\u{0007}bell").is_err());
        assert_eq!(KeyLabel::suggested(NaiveDate::from_ymd_opt(2026, 3, 5).unwrap()), "API Key Mar 5, 2026");
    }

    #[test]
    fn labels_in_right_to_left_scripts_are_kept_but_invisible_and_direction_overrides_are_refused() {
        assert_eq!(KeyLabel::parse("مفتاح العيادة").unwrap().as_str(), "مفتاح العيادة");
        assert!(KeyLabel::parse("Team 👩\u{200D}⚕️").is_ok(), "emoji sequences need the zero-width joiner");
        for spoof in ["admin\u{200B}key", "key\u{202E}txt.exe", "\u{2066}x\u{2069}", "\u{FEFF}label"] {
            assert!(KeyLabel::parse(spoof).unwrap_err().contains("invisible"), "{spoof:?}");
        }
    }

    #[test]
    fn expiry_choices_stay_within_the_company_policy() {
        let policy = KeyPolicy::default();
        assert_eq!(policy.resolve(ExpiryChoice::Days(30), now()).unwrap(), Some(now() + Duration::days(30)));
        assert!(policy.resolve(ExpiryChoice::Days(91), now()).unwrap_err().contains("at most 90 days"));
        assert!(policy.resolve(ExpiryChoice::Days(0), now()).is_err());
        assert!(policy.resolve(ExpiryChoice::Never, now()).unwrap_err().contains("every key to expire"));
        let in_90_days = (now() + Duration::days(90)).date_naive();
        assert!(policy.resolve(ExpiryChoice::Until(in_90_days), now()).is_ok());
        assert!(policy.resolve(ExpiryChoice::Until(in_90_days.succ_opt().unwrap()), now()).is_err());
        assert!(policy.resolve(ExpiryChoice::Until(now().date_naive().pred_opt().unwrap()), now()).is_err());

        let open = KeyPolicy { lifetime_days: 365, allow_non_expiring: true, ..KeyPolicy::default() };
        assert_eq!(open.resolve(ExpiryChoice::Never, now()).unwrap(), None);
        assert_eq!(open.resolve(ExpiryChoice::Days(365), now()).unwrap(), Some(now() + Duration::days(365)));
    }

    #[test]
    fn a_short_policy_shortens_the_defaults_and_presets() {
        let short = KeyPolicy { lifetime_days: 45, ..KeyPolicy::default() };
        assert_eq!(short.default_choice(), ExpiryChoice::Days(45));
        assert_eq!(short.preset_days(), vec![30]);
        assert_eq!(KeyPolicy::default().preset_days(), vec![30, 60, 90]);
    }

    #[test]
    fn policies_outside_the_allowed_ranges_are_refused() {
        assert!(KeyPolicy { lifetime_days: 0, ..KeyPolicy::default() }.validate().is_err());
        assert!(KeyPolicy { lifetime_days: 366, ..KeyPolicy::default() }.validate().is_err());
        assert!(KeyPolicy { max_active_keys: 0, ..KeyPolicy::default() }.validate().is_err());
        assert!(KeyPolicy { requests_per_minute: 5, ..KeyPolicy::default() }.validate().is_err());
        let widest =
            KeyPolicy { lifetime_days: 365, max_active_keys: 100, allow_non_expiring: true, requests_per_minute: 1_000_000, ..KeyPolicy::default() };
        assert!(widest.validate().is_ok());
        assert!(KeyPolicy { requests_per_minute: 1_000_001, ..KeyPolicy::default() }.validate().is_err());
    }
}
