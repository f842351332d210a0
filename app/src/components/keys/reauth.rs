//! "Confirm it's you": the password, or with two-factor on a current authenticator code instead, before
//! something that mints a credential (a new key, a connected app). The server remembers the confirmation for
//! five minutes.
use leptos::prelude::*;

use crate::api::keys::{confirm_code, confirm_password};

/// The confirmation form. `title_id` is its heading's id (the dialog around it is labelled by it); `purpose`
/// finishes the sentences "Enter your password …" and "Enter the 6-digit code … …" ("to create an API key").
#[component]
pub fn ReauthStep(
    two_factor: bool,
    title_id: &'static str,
    purpose: &'static str,
    on_confirmed: Callback<()>,
    on_cancel: Callback<()>,
) -> impl IntoView {
    let secret = RwSignal::new(String::new());
    let with_code = RwSignal::new(false);
    let confirm = Action::new(move |(secret, with_code): &(String, bool)| {
        let (secret, with_code) = (secret.clone(), *with_code);
        async move {
            if with_code {
                confirm_code(secret).await
            } else {
                confirm_password(secret).await
            }
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = confirm.value().get() {
            on_confirmed.run(());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        confirm.dispatch((secret.get_untracked(), with_code.get_untracked()));
    };
    let switch = move |_| {
        with_code.update(|on| *on = !*on);
        secret.set(String::new());
    };
    view! {
        <h2 id=title_id>"Confirm it's you"</h2>
        <p class="muted">
            {move || if with_code.get() {
                format!("Enter the 6-digit code from your authenticator app {purpose}.")
            } else {
                format!("Enter your password {purpose}.")
            }}
        </p>
        <form on:submit=submit>
            {move || if with_code.get() {
                view! {
                    <div class="field">
                        <label for="reauth-code">"Authentication code"</label>
                        <input id="reauth-code" type="text" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]*" required data-autofocus
                            prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev))/>
                    </div>
                }.into_any()
            } else {
                view! {
                    <div class="field">
                        <label for="reauth-password">"Password"</label>
                        <input id="reauth-password" type="password" autocomplete="current-password" required data-autofocus
                            prop:value=move || secret.get() on:input=move |ev| secret.set(event_target_value(&ev))/>
                    </div>
                }.into_any()
            }}
            {two_factor.then(|| view! {
                <button type="button" class="link-button" on:click=switch>
                    {move || if with_code.get() { "Use your password instead" } else { "Use a code from your authenticator app instead" }}
                </button>
            })}
            {move || confirm.value().get().and_then(Result::err).map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="submit" class="button teal" disabled=move || confirm.pending().get()>
                    {move || if confirm.pending().get() { "Checking…" } else { "Confirm" }}
                </button>
            </div>
        </form>
    }
}
