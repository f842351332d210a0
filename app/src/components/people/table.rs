//! The people table: Name, Email, Role, Status, Two-factor, Active keys, Last sign-in, and each row's actions — a new link
//! or cancelling for an invitation, a role change and deactivation or reactivation for an account.
use leptos::prelude::*;

use crate::format::short_date;
use crate::model::{PersonRow, PersonStatus};

/// What a row's button asks for; the page opens the matching dialog.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PersonAction {
    NewLink,
    CancelInvitation,
    ChangeRole,
    Deactivate,
    Reactivate,
}

impl PersonAction {
    /// The actions a person in `status` offers, in the order their buttons appear.
    fn offered(status: PersonStatus) -> &'static [PersonAction] {
        match status {
            PersonStatus::Invited => &[PersonAction::NewLink, PersonAction::CancelInvitation],
            PersonStatus::Active => &[PersonAction::ChangeRole, PersonAction::Deactivate],
            PersonStatus::Deactivated => &[PersonAction::ChangeRole, PersonAction::Reactivate],
        }
    }

    /// The button's visible text.
    fn label(self) -> &'static str {
        match self {
            PersonAction::NewLink => "New link",
            PersonAction::CancelInvitation => "Cancel invitation",
            PersonAction::ChangeRole => "Change role",
            PersonAction::Deactivate => "Deactivate",
            PersonAction::Reactivate => "Reactivate",
        }
    }

    /// The button's accessible name: its visible text, then whom it concerns.
    fn accessible_name(self, name: &str) -> String {
        match self {
            PersonAction::NewLink | PersonAction::CancelInvitation => format!("{} for {name}", self.label()),
            PersonAction::ChangeRole => format!("{} of {name}", self.label()),
            PersonAction::Deactivate | PersonAction::Reactivate => format!("{} {name}", self.label()),
        }
    }

    fn class(self) -> &'static str {
        match self {
            PersonAction::CancelInvitation | PersonAction::Deactivate => "button small danger-outline",
            _ => "button small",
        }
    }
}

/// The CSS class of a status badge (`badge status-invited`).
fn status_class(status: PersonStatus) -> String {
    format!("badge status-{}", status.label().to_ascii_lowercase())
}

/// One page of people; each row's buttons call `on_action` with the row.
#[component]
pub fn PeopleTable(people: Vec<PersonRow>, on_action: Callback<(PersonAction, PersonRow)>) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table class="table people-table">
                <thead>
                    <tr>
                        <th scope="col">"Name"</th>
                        <th scope="col">"Email"</th>
                        <th scope="col">"Role"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col">"Two-factor"</th>
                        <th scope="col">"Active keys"</th>
                        <th scope="col">"Last sign-in"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {people.into_iter().map(|person| view! { <PersonRowView person on_action/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn PersonRowView(person: PersonRow, on_action: Callback<(PersonAction, PersonRow)>) -> impl IntoView {
    let buttons = PersonAction::offered(person.status)
        .iter()
        .map(|&action| {
            let target = person.clone();
            view! {
                <button type="button" class=action.class() aria-label=action.accessible_name(&person.name)
                    on:click=move |_| on_action.run((action, target.clone()))>
                    {action.label()}
                </button>
            }
        })
        .collect_view();
    view! {
        <tr data-person-id=person.id.to_string()>
            <th scope="row" class="nowrap">{person.name.clone()}</th>
            <td class="email-cell">{person.email.clone()}</td>
            <td class="nowrap">{person.role.display_name()}</td>
            <td><span class=status_class(person.status)>{person.status.label()}</span></td>
            <td>{if person.two_factor { "On" } else { "Off" }}</td>
            <td>{person.active_keys}</td>
            <td class="nowrap">{person.last_sign_in_at.map(short_date).unwrap_or_else(|| "Never".to_owned())}</td>
            <td class="actions">{buttons}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invitations_offer_a_new_link_and_accounts_a_role_change_and_their_switch() {
        assert_eq!(PersonAction::offered(PersonStatus::Invited), [PersonAction::NewLink, PersonAction::CancelInvitation]);
        assert_eq!(PersonAction::offered(PersonStatus::Active), [PersonAction::ChangeRole, PersonAction::Deactivate]);
        assert_eq!(PersonAction::offered(PersonStatus::Deactivated), [PersonAction::ChangeRole, PersonAction::Reactivate]);
    }

    #[test]
    fn each_button_is_named_by_its_text_and_then_the_person() {
        for action in
            [PersonAction::NewLink, PersonAction::CancelInvitation, PersonAction::ChangeRole, PersonAction::Deactivate, PersonAction::Reactivate]
        {
            let name = action.accessible_name("Barbara Lee");
            assert!(name.starts_with(action.label()) && name.ends_with("Barbara Lee"), "{name}");
        }
    }
}
