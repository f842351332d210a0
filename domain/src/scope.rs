//! Scopes: what an API key may read. A key's effective scopes are always its granted scopes intersected with
//! what its owner's *current* role allows, computed each time the key is used.
use serde::{Deserialize, Serialize};

use crate::Role;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Scope {
    #[serde(rename = "read:visits")]
    ReadVisits,
    #[serde(rename = "read:schedule")]
    ReadSchedule,
    #[serde(rename = "read:profile")]
    ReadProfile,
    #[serde(rename = "read:messages")]
    ReadMessages,
    #[serde(rename = "read:patients")]
    ReadPatients,
    #[serde(rename = "read:caregivers")]
    ReadCaregivers,
    #[serde(rename = "read:activity")]
    ReadActivity,
}

impl Scope {
    pub const ALL: [Scope; 7] = [
        Scope::ReadVisits,
        Scope::ReadSchedule,
        Scope::ReadProfile,
        Scope::ReadMessages,
        Scope::ReadPatients,
        Scope::ReadCaregivers,
        Scope::ReadActivity,
    ];

    /// The "Read-only essentials" preset of the generate dialog: day-to-day work, no company-wide lists.
    pub const ESSENTIALS: [Scope; 3] = [Scope::ReadVisits, Scope::ReadSchedule, Scope::ReadProfile];

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::ReadVisits => "read:visits",
            Scope::ReadSchedule => "read:schedule",
            Scope::ReadProfile => "read:profile",
            Scope::ReadMessages => "read:messages",
            Scope::ReadPatients => "read:patients",
            Scope::ReadCaregivers => "read:caregivers",
            Scope::ReadActivity => "read:activity",
        }
    }

    pub fn parse(value: &str) -> Option<Scope> {
        Scope::ALL.into_iter().find(|scope| scope.as_str() == value.trim())
    }

    /// What the scope lets an AI assistant read, for the generate dialog.
    pub fn description(self) -> &'static str {
        match self {
            Scope::ReadVisits => "Visits",
            Scope::ReadSchedule => "Schedule",
            Scope::ReadProfile => "Profile",
            Scope::ReadMessages => "Messages",
            Scope::ReadPatients => "Patients",
            Scope::ReadCaregivers => "Caregivers",
            Scope::ReadActivity => "Activity feed",
        }
    }

    /// The scopes a role may hold: caregivers their own day, office users the company's care data, root all.
    pub fn allowed_for(role: Role) -> &'static [Scope] {
        match role {
            Role::Caregiver => &Scope::ALL[..4],
            Role::User => &Scope::ALL[..6],
            Role::Root => &Scope::ALL,
        }
    }

    /// Parses a requested list: unknown names and scopes the role cannot hold are refused with a message a
    /// person understands, and so is an empty list (a key is granted only what was asked for, never a default
    /// of everything). The result is sorted and unique.
    pub fn parse_request<S: AsRef<str>>(requested: &[S], role: Role) -> Result<Vec<Scope>, String> {
        if requested.is_empty() {
            return Err("Choose at least one scope for the key".to_owned());
        }
        let mut scopes = Vec::with_capacity(requested.len());
        for name in requested {
            let name = name.as_ref();
            let scope = Scope::parse(name).ok_or_else(|| format!("Unknown scope \"{}\"", name.trim()))?;
            if !Scope::allowed_for(role).contains(&scope) {
                return Err(format!("Your role ({}) cannot grant {}", role.display_name(), scope.as_str()));
            }
            scopes.push(scope);
        }
        scopes.sort();
        scopes.dedup();
        Ok(scopes)
    }

    /// The stored form: comma-separated names.
    pub fn join(scopes: &[Scope]) -> String {
        scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(",")
    }

    /// Reads the stored form, skipping names this version does not know.
    pub fn split(stored: &str) -> Vec<Scope> {
        stored.split(',').filter_map(Scope::parse).collect()
    }

    /// Granted ∩ what `role` allows now.
    pub fn effective(granted: &[Scope], role: Role) -> Vec<Scope> {
        granted.iter().copied().filter(|scope| Scope::allowed_for(role).contains(scope)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_scope_round_trips_through_its_name_and_serde() {
        for scope in Scope::ALL {
            assert_eq!(Scope::parse(scope.as_str()), Some(scope));
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(json, format!("\"{}\"", scope.as_str()));
            assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
        }
    }

    #[test]
    fn roles_allow_nested_sets_of_scopes() {
        assert_eq!(Scope::allowed_for(Role::Caregiver), &[Scope::ReadVisits, Scope::ReadSchedule, Scope::ReadProfile, Scope::ReadMessages]);
        assert!(Scope::allowed_for(Role::User).contains(&Scope::ReadPatients));
        assert!(!Scope::allowed_for(Role::User).contains(&Scope::ReadActivity));
        assert_eq!(Scope::allowed_for(Role::Root).len(), 7);
    }

    #[test]
    fn an_empty_request_grants_nothing_and_is_refused() {
        assert_eq!(Scope::parse_request::<&str>(&[], Role::Caregiver).unwrap_err(), "Choose at least one scope for the key");
    }

    #[test]
    fn unknown_and_forbidden_scopes_are_refused_with_a_reason() {
        assert_eq!(Scope::parse_request(&["read:everything"], Role::Root).unwrap_err(), "Unknown scope \"read:everything\"");
        assert_eq!(Scope::parse_request(&["read:patients"], Role::Caregiver).unwrap_err(), "Your role (Caregiver) cannot grant read:patients");
        assert_eq!(
            Scope::parse_request(&["read:visits", "read:visits", "read:messages"], Role::Caregiver).unwrap(),
            vec![Scope::ReadVisits, Scope::ReadMessages]
        );
    }

    #[test]
    fn effective_scopes_shrink_when_the_owner_is_demoted() {
        let granted = Scope::allowed_for(Role::Root).to_vec();
        assert_eq!(Scope::effective(&granted, Role::Caregiver), Scope::allowed_for(Role::Caregiver));
        assert_eq!(Scope::split(&Scope::join(&granted)), granted);
        assert_eq!(Scope::split("read:visits,read:unknown"), vec![Scope::ReadVisits]);
    }
}
