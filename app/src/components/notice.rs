//! Loading and error notices for data that arrives from a server function.
use leptos::prelude::*;

use crate::error::AppError;

/// Shown while a list loads.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted" aria-live="polite">"Loading…"</p> }
}

/// Explains a failed server call; an ended session gets a way back to the sign-in page.
#[component]
pub fn ErrorNotice(error: AppError) -> impl IntoView {
    let signed_out = matches!(error, AppError::Unauthorized(_));
    view! {
        <div class="notice error" role="alert">
            <p>{error.to_string()}</p>
            {signed_out.then(|| view! { <a href="/login">"Sign in again"</a> })}
        </div>
    }
}
