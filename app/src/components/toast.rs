//! Toasts: short confirmations ("API key deleted") announced to screen readers and hidden after a while.
use leptos::prelude::*;

/// The toast message of the page, shared through context.
#[derive(Clone, Copy)]
pub struct Toasts(RwSignal<Option<String>>);

impl Toasts {
    /// Shows `message` for four seconds.
    pub fn show(&self, message: impl Into<String>) {
        let signal = self.0;
        let message = message.into();
        signal.set(Some(message.clone()));
        #[cfg(feature = "hydrate")]
        gloo_timers::callback::Timeout::new(4_000, move || {
            if signal.get_untracked().as_deref() == Some(message.as_str()) {
                signal.set(None);
            }
        })
        .forget();
    }
}

/// Provides [`Toasts`] to the children and renders the live region.
#[component]
pub fn ToastRegion(children: Children) -> impl IntoView {
    let message = RwSignal::new(None::<String>);
    provide_context(Toasts(message));
    view! {
        {children()}
        <div class="toast-region" role="status" aria-live="polite">
            {move || message.get().map(|text| view! { <div class="toast">{text}</div> })}
        </div>
    }
}

pub fn use_toasts() -> Toasts {
    expect_context::<Toasts>()
}
