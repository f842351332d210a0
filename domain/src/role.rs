//! The three roles of a company's users and what each layout they belong to.
use serde::{Deserialize, Serialize};

/// A user's role within their company. Stored as its `as_str()` form, and read from the database as this type
/// (a SeaORM active enum): nothing else parses the column.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "server", derive(sea_orm::EnumIter, sea_orm::DeriveActiveEnum))]
#[cfg_attr(feature = "server", sea_orm(rs_type = "String", db_type = "Text"))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees and manages everything of the company, every API key included.
    #[cfg_attr(feature = "server", sea_orm(string_value = "root"))]
    Root,
    /// Office staff: company-wide care data, their own keys.
    #[cfg_attr(feature = "server", sea_orm(string_value = "user"))]
    User,
    /// Field staff: only their own visits, schedule, profile and messages.
    #[cfg_attr(feature = "server", sea_orm(string_value = "caregiver"))]
    Caregiver,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Root, Role::User, Role::Caregiver];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Root => "root",
            Role::User => "user",
            Role::Caregiver => "caregiver",
        }
    }

    /// Parses the command-line form (`root`, `user`, `caregiver`).
    pub fn parse(value: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == value.trim().to_ascii_lowercase())
    }

    /// The name people see in the UI.
    pub fn display_name(self) -> &'static str {
        match self {
            Role::Root => "Root User",
            Role::User => "User",
            Role::Caregiver => "Caregiver",
        }
    }

    /// Office roles use the office layout at `/`; caregivers use the portal at `/portal`.
    pub fn is_office(self) -> bool {
        !matches!(self, Role::Caregiver)
    }

    /// Where this role lands after sign-in.
    pub fn home_path(self) -> &'static str {
        if self.is_office() {
            "/"
        } else {
            "/portal"
        }
    }

    /// Whether a page path belongs to this role's layout (the sign-in page belongs to nobody); the People page
    /// is for Root Users only.
    pub fn may_open(self, path: &str) -> bool {
        let under = |prefix: &str| path == prefix || path.strip_prefix(prefix).is_some_and(|rest| rest.starts_with('/'));
        if under("/people") {
            return self == Role::Root;
        }
        if under("/oauth") {
            // The consent page of OAuth connections, for every role.
            return true;
        }
        under("/portal") != self.is_office()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_round_trips_through_its_stored_form() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
        }
        assert_eq!(Role::parse(" Caregiver "), Some(Role::Caregiver));
        assert_eq!(Role::parse("admin"), None);
    }

    #[test]
    fn caregivers_open_only_portal_pages_and_office_roles_only_office_pages() {
        assert!(Role::Caregiver.may_open("/portal"));
        assert!(Role::Caregiver.may_open("/portal/visits"));
        assert!(!Role::Caregiver.may_open("/visits"));
        assert!(!Role::Caregiver.may_open("/"));
        assert!(Role::Root.may_open("/patients"));
        assert!(!Role::User.may_open("/portal/schedule"));
        assert!(!Role::Root.may_open("/portal"));
        assert!(Role::Root.may_open("/portalish"));
        for role in Role::ALL {
            assert!(role.may_open("/oauth/authorize"), "{role:?} reaches the consent page");
        }
    }

    #[test]
    fn only_root_users_open_the_people_page() {
        assert!(Role::Root.may_open("/people"));
        assert!(!Role::User.may_open("/people"));
        assert!(!Role::Caregiver.may_open("/people"));
        assert!(Role::User.may_open("/peoplesoft"), "another page that only starts alike");
    }
}
