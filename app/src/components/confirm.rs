//! The confirmation dialog every irreversible or far-reaching action asks through: a heading, what will happen,
//! the server's refusal when there is one, and Cancel / confirm. The owner runs the action and watches its
//! outcome; the dialog only dispatches it and shows it pending or refused.
use leptos::prelude::*;

use super::modal::Modal;
use crate::error::AppError;

/// A confirmation in its own dialog.
#[component]
pub fn ConfirmDialog<T>(
    /// The heading, which names the dialog.
    title: String,
    /// The heading's `id`.
    title_id: &'static str,
    /// The confirm button's text ("Revoke Key"), and its text while the action runs ("Revoking…").
    confirm: &'static str,
    pending: &'static str,
    /// The dismiss button's text, when "Cancel" would be ambiguous ("Keep invitation").
    #[prop(default = "Cancel")]
    dismiss: &'static str,
    /// A destructive action gets a red confirm button.
    #[prop(optional)]
    danger: bool,
    /// Dispatched with `()` on confirm; its error, if any, is shown in the dialog.
    action: Action<(), Result<T, AppError>>,
    on_close: Callback<()>,
    /// What will happen.
    children: Children,
) -> impl IntoView
where
    T: Send + Sync + 'static,
{
    view! {
        <Modal labelled_by=title_id on_escape=on_close>
            <ConfirmStep title title_id confirm pending dismiss danger action on_close>{children()}</ConfirmStep>
        </Modal>
    }
}

/// The confirmation as one step of a dialog with more (a new invitation link: confirm, then reveal it).
#[component]
pub fn ConfirmStep<T>(
    title: String,
    title_id: &'static str,
    confirm: &'static str,
    pending: &'static str,
    #[prop(default = "Cancel")] dismiss: &'static str,
    #[prop(optional)] danger: bool,
    action: Action<(), Result<T, AppError>>,
    on_close: Callback<()>,
    children: Children,
) -> impl IntoView
where
    T: Send + Sync + 'static,
{
    let refusal = move || action.value().with(|value| value.as_ref().and_then(|result| result.as_ref().err().map(ToString::to_string)));
    view! {
        <h2 id=title_id>{title}</h2>
        {children()}
        {move || refusal().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
        <div class="dialog-actions">
            <button type="button" class="button" on:click=move |_| on_close.run(())>{dismiss}</button>
            <button type="button" class=if danger { "button danger" } else { "button teal" } data-autofocus
                disabled=move || action.pending().get()
                on:click=move |_| { action.dispatch(()); }>
                {move || if action.pending().get() { pending } else { confirm }}
            </button>
        </div>
    }
}
