//! The revoke and delete confirmations: one dialog shape, two wordings.
use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;

use crate::api::keys::{delete_key, revoke_key};
use crate::components::modal::Modal;
use crate::components::toast::use_toasts;
use crate::error::AppError;
use crate::model::ApiKeyView;

type KeyAction = fn(String) -> Pin<Box<dyn Future<Output = Result<(), AppError>> + Send>>;

/// Asks before an irreversible action on `key`, runs it, and reports the outcome.
#[component]
fn ConfirmKeyAction(
    key: ApiKeyView,
    title: &'static str,
    title_id: &'static str,
    explanation: String,
    confirm: &'static str,
    pending: &'static str,
    done: &'static str,
    run: KeyAction,
    on_close: Callback<()>,
    on_done: Callback<()>,
) -> impl IntoView {
    let toasts = use_toasts();
    let action = Action::new(move |key_id: &String| run(key_id.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            on_done.run(());
            on_close.run(());
            toasts.show(done);
        }
    });
    let key_id = key.key_id.clone();
    view! {
        <Modal labelled_by=title_id on_escape=on_close>
            <h2 id=title_id>{title}</h2>
            <p>
                <strong>{key.label.clone()}</strong> " (" <span class="mono">{key.key_id.clone()}</span> ") — " {explanation}
            </p>
            {move || action.value().get().and_then(Result::err).map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="button" class="button danger" data-autofocus disabled=move || action.pending().get()
                    on:click=move |_| { action.dispatch(key_id.clone()); }>
                    {move || if action.pending().get() { pending } else { confirm }}
                </button>
            </div>
        </Modal>
    }
}

#[component]
pub fn RevokeDialog(key: ApiKeyView, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let run: KeyAction = |key_id| Box::pin(async move { revoke_key(key_id).await.map(|_| ()) });
    view! {
        <ConfirmKeyAction key title="Revoke API Key" title_id="revoke-title"
            explanation="revoking stops it working immediately: the very next request made with it is refused. This cannot be undone.".to_owned()
            confirm="Revoke Key" pending="Revoking…" done="API key revoked" run on_close on_done/>
    }
}

#[component]
pub fn DeleteDialog(key: ApiKeyView, on_close: Callback<()>, on_done: Callback<()>) -> impl IntoView {
    let explanation = format!("delete this key of {}? It disappears from every list; its activity history stays.", key.owner_name);
    let run: KeyAction = |key_id| Box::pin(delete_key(key_id));
    view! {
        <ConfirmKeyAction key title="Delete API Key" title_id="delete-title" explanation
            confirm="Delete Key" pending="Deleting…" done="API key deleted" run on_close on_done/>
    }
}
