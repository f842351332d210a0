//! The "Allowed IP addresses" dialog of a key: edit the addresses and ranges it may be used from.
use leptos::prelude::*;

use super::table::shown_name;
use crate::api::keys::set_key_allowlist;
use crate::components::modal::Modal;
use crate::components::toast::use_toasts;
use crate::model::ApiKeyView;

#[component]
pub fn AllowlistDialog(key: ApiKeyView, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let entries = RwSignal::new(key.allowed_ips.join(", "));
    let key_id = key.key_id.clone();
    let save = Action::new(move |entries: &String| set_key_allowlist(key_id.clone(), vec![entries.clone()]));
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            on_done.run(());
            on_close.run(());
            toasts.show("Allowed IP addresses saved");
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(entries.get_untracked());
    };
    let error = move || match save.value().get() {
        Some(Err(error)) => Some(view! { <p class="form-error" role="alert">{error.to_string()}</p> }),
        _ => None,
    };
    view! {
        <Modal labelled_by="allowlist-title" on_escape=on_close>
            <h2 id="allowlist-title">"Allowed IP addresses"</h2>
            <p>
                <strong>{shown_name(&key).to_owned()}</strong> " (" <span class="mono">{key.key_id.clone()}</span>
                ") works only from these addresses; requests from anywhere else are refused. Leave it empty to allow any address."
            </p>
            <form on:submit=submit>
                <div class="field">
                    <label for="allowlist-entries">"Allowed IP addresses (optional)"</label>
                    <input id="allowlist-entries" type="text" maxlength="2000" autocomplete="off" spellcheck="false" data-autofocus
                        aria-describedby="allowlist-help" prop:value=move || entries.get() on:input=move |ev| entries.set(event_target_value(&ev))/>
                    <span id="allowlist-help" class="muted small">"Comma-separated addresses or ranges, like 203.0.113.0/24, 2001:db8::/32."</span>
                </div>
                {error}
                <div class="dialog-actions">
                    <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                    <button type="submit" class="button teal" disabled=move || save.pending().get()>
                        {move || if save.pending().get() { "Saving…" } else { "Save" }}
                    </button>
                </div>
            </form>
        </Modal>
    }
}
