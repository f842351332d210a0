//! The revoke and delete confirmations: the shared confirmation dialog, two wordings.
use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;

use super::table::shown_name;
use crate::api::keys::{delete_key, revoke_key};
use crate::components::toast::use_toasts;
use crate::components::ConfirmDialog;
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
    let key_id = key.key_id.clone();
    let action = Action::new(move |_: &()| run(key_id.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            on_done.run(());
            on_close.run(());
            toasts.show(done);
        }
    });
    view! {
        <ConfirmDialog title=title.to_owned() title_id confirm pending danger=true action on_close>
            <p>
                <strong>{shown_name(&key).to_owned()}</strong> " (" <span class="mono">{key.key_id.clone()}</span> ") — " {explanation}
            </p>
        </ConfirmDialog>
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
