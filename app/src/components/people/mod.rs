//! The People page's pieces: the table of people with each row's actions, and the dialogs those actions open
//! (add a person and reveal the invitation link, a new link, cancel an invitation, change a role, deactivate,
//! reactivate).
mod dialogs;
mod reveal;
mod table;

pub use dialogs::{AddPersonDialog, CancelInvitationDialog, DeactivateDialog, ReactivateDialog, RenewDialog, RoleDialog};
pub use table::{PeopleTable, PersonAction};

/// "1 API key", "2 API keys".
fn api_keys(count: u64) -> String {
    if count == 1 {
        "1 API key".to_owned()
    } else {
        format!("{count} API keys")
    }
}

/// What deactivating `name`, who holds `active_keys` working keys, does, in words.
fn deactivation_consequences(name: &str, active_keys: u64) -> String {
    match active_keys {
        0 => format!("{name} will be signed out everywhere and cannot sign in until reactivated. They hold no active API keys."),
        n => format!(
            "{name} will be signed out everywhere and their {} will stop working immediately. They cannot sign in until reactivated.",
            active_api_keys(n)
        ),
    }
}

/// What reactivating `name` does; `live_keys` are their keys within their expiry and not revoked.
fn reactivation_consequences(name: &str, live_keys: u64) -> String {
    match live_keys {
        0 => format!("{name} will be able to sign in again. None of their API keys would work again: each has expired or was revoked."),
        1 => format!("{name} will be able to sign in again, and their 1 API key that is within its expiry and not revoked will work again."),
        n => format!("{name} will be able to sign in again, and their {n} API keys that are within their expiry and not revoked will work again."),
    }
}

/// "1 active API key", "2 active API keys".
fn active_api_keys(count: u64) -> String {
    format!("{count} active {}", if count == 1 { "API key" } else { "API keys" })
}

/// The Root User's choices for a person's role, with what each may do: office roles first.
const ROLE_CHOICES: [crate::model::Role; 3] = [crate::model::Role::User, crate::model::Role::Caregiver, crate::model::Role::Root];

/// What the roles mean, under every role select.
const ROLE_HINT: &str =
    "Users work in the office; Caregivers use the caregiver portal; Root Users also manage people, keys and the company's settings.";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deactivation_names_the_person_and_counts_their_keys() {
        assert_eq!(
            deactivation_consequences("Barbara Lee", 2),
            "Barbara Lee will be signed out everywhere and their 2 active API keys will stop working immediately. They cannot sign in until reactivated."
        );
        assert!(deactivation_consequences("Carl Jensen", 1).contains("their 1 active API key will stop working immediately"));
        assert!(deactivation_consequences("Carl Jensen", 0).ends_with("They hold no active API keys."));
    }

    #[test]
    fn reactivation_says_which_keys_work_again() {
        assert_eq!(
            reactivation_consequences("Barbara Lee", 1),
            "Barbara Lee will be able to sign in again, and their 1 API key that is within its expiry and not revoked will work again."
        );
        assert!(reactivation_consequences("Barbara Lee", 3).contains("their 3 API keys that are within their expiry"));
        assert!(reactivation_consequences("Barbara Lee", 0).contains("None of their API keys would work again"));
    }
}
