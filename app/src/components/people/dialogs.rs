//! The People page's dialogs. Each runs one server function; a refusal (the last active Root User, a taken
//! email) is shown in the dialog in the server's words, and a success goes up through `on_done` with the
//! sentence the page's toast says.
use leptos::prelude::*;

use super::reveal::InvitationReveal;
use super::{api_keys, deactivation_consequences, reactivation_consequences, ROLE_CHOICES, ROLE_HINT};
use crate::api::people::{activate_person, cancel_invitation, deactivate_person, invite_person, renew_invitation, set_person_role};
use crate::components::modal::Modal;
use crate::components::{ConfirmDialog, ConfirmStep};
use crate::model::{PersonRow, Role};

/// The role `<select>` with its hint; `chosen` follows the selection.
#[component]
fn RoleSelect(id: &'static str, chosen: RwSignal<Role>, #[prop(optional)] autofocus: bool) -> impl IntoView {
    let hint_id = format!("{id}-hint");
    let initial = chosen.get_untracked();
    view! {
        <div class="field">
            <label for=id>"Role"</label>
            <select id=id aria-describedby=hint_id.clone() data-autofocus=autofocus.then_some("")
                on:change=move |ev| {
                    if let Some(role) = Role::parse(&event_target_value(&ev)) {
                        chosen.set(role);
                    }
                }>
                {ROLE_CHOICES.into_iter().map(|role| view! {
                    <option value=role.as_str() selected={role == initial}>{role.display_name()}</option>
                }).collect_view()}
            </select>
            <p id=hint_id class="muted small hint">{ROLE_HINT}</p>
        </div>
    }
}

/// "Add a person": name, email and role, then the one-time invitation link. `on_invited` runs as soon as the
/// invitation exists (the list shows them as Invited behind the dialog); `on_done` when the dialog closes.
#[component]
pub fn AddPersonDialog(on_close: Callback<()>, on_invited: Callback<()>, on_done: Callback<String>) -> impl IntoView {
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let role = RwSignal::new(Role::User);
    let invite = Action::new(|(name, email, role): &(String, String, Role)| invite_person(name.clone(), email.clone(), *role));
    let revealed = Memo::new(move |_| invite.value().get().and_then(Result::ok));
    let content_key = Signal::derive(move || u8::from(revealed.with(Option::is_some)));
    Effect::new(move |_| {
        if revealed.with(Option::is_some) {
            on_invited.run(());
        }
    });
    let finish = Callback::new(move |_: ()| match revealed.get_untracked() {
        Some(invited) => on_done.run(format!("{} invited", invited.name)),
        None => on_close.run(()),
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        invite.dispatch((name.get_untracked(), email.get_untracked(), role.get_untracked()));
    };
    let refusal = move || invite.value().with(|value| value.as_ref().and_then(|result| result.as_ref().err().map(ToString::to_string)));
    view! {
        <Modal labelled_by="add-person-title" on_escape=finish content_key wide=true>
            {move || match revealed.get() {
                Some(invited) => view! { <InvitationReveal invited title_id="add-person-title" on_done=finish/> }.into_any(),
                None => view! {
                    <h2 id="add-person-title">"Add a person"</h2>
                    <p class="muted">"They get a one-time link to set their own password; nobody else ever knows it."</p>
                    <form on:submit=submit>
                        <div class="field">
                            <label for="person-name">"Name"</label>
                            <input id="person-name" type="text" autocomplete="off" required data-autofocus
                                prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev))/>
                        </div>
                        <div class="field">
                            <label for="person-email">"Email"</label>
                            <input id="person-email" type="email" autocomplete="off" required
                                prop:value=move || email.get() on:input=move |ev| email.set(event_target_value(&ev))/>
                        </div>
                        <RoleSelect id="person-role" chosen=role/>
                        {move || refusal().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
                        <div class="dialog-actions">
                            <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                            <button type="submit" class="button teal" disabled=move || invite.pending().get()>
                                {move || if invite.pending().get() { "Creating…" } else { "Create invitation link" }}
                            </button>
                        </div>
                    </form>
                }.into_any(),
            }}
        </Modal>
    }
}

/// "New link" for someone who has not accepted yet: confirm (earlier links stop working), then reveal.
#[component]
pub fn RenewDialog(person: PersonRow, on_close: Callback<()>, on_done: Callback<String>) -> impl IntoView {
    let user_id = person.id;
    let renew = Action::new(move |_: &()| renew_invitation(user_id));
    let revealed = Memo::new(move |_| renew.value().get().and_then(Result::ok));
    let content_key = Signal::derive(move || u8::from(revealed.with(Option::is_some)));
    let finish = Callback::new(move |_: ()| match revealed.get_untracked() {
        Some(invited) => on_done.run(format!("New invitation link for {} created", invited.name)),
        None => on_close.run(()),
    });
    let question = format!("Create a new invitation link for {}? Links created for them earlier stop working.", person.name);
    view! {
        <Modal labelled_by="renew-title" on_escape=finish content_key wide=true>
            {move || match revealed.get() {
                Some(invited) => view! { <InvitationReveal invited title_id="renew-title" on_done=finish/> }.into_any(),
                None => {
                    let question = question.clone();
                    view! {
                    <ConfirmStep title="New invitation link".to_owned() title_id="renew-title" confirm="Create new link" pending="Creating…"
                        action=renew on_close>
                        <p>{question}</p>
                    </ConfirmStep>
                    }.into_any()
                }
            }}
        </Modal>
    }
}

/// "Cancel invitation": the link stops working and the waiting account is removed.
#[component]
pub fn CancelInvitationDialog(person: PersonRow, on_close: Callback<()>, on_done: Callback<String>) -> impl IntoView {
    let user_id = person.id;
    let cancel = Action::new(move |_: &()| cancel_invitation(user_id));
    let name = person.name.clone();
    Effect::new(move |_| {
        if let Some(Ok(())) = cancel.value().get() {
            on_done.run(format!("Invitation for {name} cancelled"));
        }
    });
    view! {
        <ConfirmDialog title="Cancel invitation".to_owned() title_id="cancel-invitation-title" confirm="Cancel invitation" pending="Cancelling…"
            dismiss="Keep invitation" danger=true action=cancel on_close>
            <p>{format!("{}'s invitation link stops working and their waiting account is removed. You can invite them again later.", person.name)}</p>
        </ConfirmDialog>
    }
}

/// "Change role": a role select; the person's keys follow the new role from their next request.
#[component]
pub fn RoleDialog(person: PersonRow, on_close: Callback<()>, on_done: Callback<String>) -> impl IntoView {
    let user_id = person.id;
    let current = person.role;
    let chosen = RwSignal::new(current);
    let save = Action::new(move |role: &Role| set_person_role(user_id, *role));
    Effect::new(move |_| {
        if let Some(Ok(change)) = save.value().get() {
            on_done.run(format!("{} is now a {}", change.name, change.role.display_name()));
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(chosen.get_untracked());
    };
    let refusal = move || save.value().with(|value| value.as_ref().and_then(|result| result.as_ref().err().map(ToString::to_string)));
    view! {
        <Modal labelled_by="role-title" on_escape=on_close>
            <h2 id="role-title">"Change role"</h2>
            <p>
                "Choose a new role for " <strong>{person.name.clone()}</strong> {format!(", now a {}. ", current.display_name())}
                "Their API keys reach only what the new role allows, from their next request."
            </p>
            <form on:submit=submit>
                <RoleSelect id="new-role" chosen autofocus=true/>
                {move || refusal().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
                <div class="dialog-actions">
                    <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="button teal" disabled=move || save.pending().get() || chosen.get() == current>
                        {move || if save.pending().get() { "Saving…" } else { "Save role" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}

/// "Deactivate": signed out everywhere, keys refused, no sign-in until reactivated.
#[component]
pub fn DeactivateDialog(person: PersonRow, on_close: Callback<()>, on_done: Callback<String>) -> impl IntoView {
    let user_id = person.id;
    let deactivate = Action::new(move |_: &()| deactivate_person(user_id));
    Effect::new(move |_| {
        if let Some(Ok(change)) = deactivate.value().get() {
            on_done.run(format!("{} deactivated: signed out everywhere; {} stopped working", change.name, api_keys(change.live_keys)));
        }
    });
    view! {
        <ConfirmDialog title=format!("Deactivate {}?", person.name) title_id="deactivate-title" confirm="Deactivate" pending="Deactivating…"
            danger=true action=deactivate on_close>
            <p>{deactivation_consequences(&person.name, person.active_keys)}</p>
        </ConfirmDialog>
    }
}

/// "Reactivate": the person signs in again; keys within their expiry and not revoked work again.
#[component]
pub fn ReactivateDialog(person: PersonRow, on_close: Callback<()>, on_done: Callback<String>) -> impl IntoView {
    let user_id = person.id;
    let activate = Action::new(move |_: &()| activate_person(user_id));
    Effect::new(move |_| {
        if let Some(Ok(change)) = activate.value().get() {
            let verb = if change.live_keys == 1 { "works" } else { "work" };
            on_done.run(format!("{} reactivated; {} {verb} again", change.name, api_keys(change.live_keys)));
        }
    });
    view! {
        <ConfirmDialog title=format!("Reactivate {}?", person.name) title_id="reactivate-title" confirm="Reactivate" pending="Reactivating…"
            action=activate on_close>
            <p>{reactivation_consequences(&person.name, person.active_keys)}</p>
        </ConfirmDialog>
    }
}
