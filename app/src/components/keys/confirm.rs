//! The revoke and delete confirmations.
use leptos::prelude::*;

use crate::api::keys::{delete_key, revoke_key};
use crate::components::modal::Modal;
use crate::components::toast::use_toasts;
use crate::model::ApiKeyView;

#[component]
pub fn RevokeDialog(key: ApiKeyView, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let revoke = Action::new(move |key_id: &String| revoke_key(key_id.clone()));
    Effect::new(move |_| {
        if let Some(Ok(_)) = revoke.value().get() {
            on_done.run(());
            on_close.run(());
            toasts.show("API key revoked");
        }
    });
    let key_id = key.key_id.clone();
    view! {
        <Modal labelled_by="revoke-title" on_escape=on_close>
            <h2 id="revoke-title">"Revoke API Key"</h2>
            <p>
                "Revoke " <strong>{key.label.clone()}</strong> " (" <span class="mono">{key.key_id.clone()}</span> ")? "
                "It stops working immediately: the very next request made with it is refused. This cannot be undone."
            </p>
            {move || revoke.value().get().and_then(Result::err).map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class="button danger" data-autofocus disabled=move || revoke.pending().get()
                    on:click=move |_| { revoke.dispatch(key_id.clone()); }>
                    {move || if revoke.pending().get() { "Revoking…" } else { "Revoke Key" }}
                </button>
            </div>
        </Modal>
    }
}

#[component]
pub fn DeleteDialog(key: ApiKeyView, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let toasts = use_toasts();
    let delete = Action::new(move |key_id: &String| delete_key(key_id.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            on_done.run(());
            on_close.run(());
            toasts.show("API key deleted");
        }
    });
    let key_id = key.key_id.clone();
    view! {
        <Modal labelled_by="delete-title" on_escape=on_close>
            <h2 id="delete-title">"Delete API Key"</h2>
            <p>
                "Delete " <strong>{key.label.clone()}</strong> " (" <span class="mono">{key.key_id.clone()}</span> ") of "
                {key.owner_name.clone()} "? It disappears from every list; its activity history stays."
            </p>
            {move || delete.value().get().and_then(Result::err).map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class="button danger" data-autofocus disabled=move || delete.pending().get()
                    on:click=move |_| { delete.dispatch(key_id.clone()); }>
                    {move || if delete.pending().get() { "Deleting…" } else { "Delete Key" }}
                </button>
            </div>
        </Modal>
    }
}
