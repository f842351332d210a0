//! The Copy button of the one-time reveal dialogs (API keys, invitation links): it puts a text on the clipboard
//! and says "Copied" for a while.
use leptos::prelude::*;

/// Puts `text` on the clipboard (Clipboard API through web-sys).
fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// How long a Copy button says "Copied", and a dialog's live region keeps its announcement.
#[cfg(feature = "hydrate")]
pub const COPIED_FOR_MS: u32 = 2_000;

/// A Copy button that says "Copied" for a while. Its name is its visible word followed by `what`, visually
/// hidden ("Copy API key", then "Copied API key"), so the name always contains the text people see (WCAG 2.5.3).
#[component]
pub fn CopyButton(text: String, what: &'static str, on_copied: Callback<()>) -> impl IntoView {
    let copied = RwSignal::new(false);
    let click = move |_| {
        copy_to_clipboard(&text);
        copied.set(true);
        on_copied.run(());
        #[cfg(feature = "hydrate")]
        gloo_timers::callback::Timeout::new(COPIED_FOR_MS, move || {
            copied.try_set(false);
        })
        .forget();
    };
    view! {
        <button type="button" class="button small copy" on:click=click>
            {move || if copied.get() { "Copied" } else { "Copy" }}
            <span class="visually-hidden">{format!(" {what}")}</span>
        </button>
    }
}

/// An announcement for a dialog's live region ("Invitation link copied"), cleared after a while.
pub fn announce_copied(announcement: RwSignal<String>, what: &'static str) {
    let message = format!("{what} copied");
    announcement.set(message.clone());
    #[cfg(feature = "hydrate")]
    gloo_timers::callback::Timeout::new(COPIED_FOR_MS, move || {
        if announcement.try_get_untracked().as_deref() == Some(message.as_str()) {
            announcement.try_set(String::new());
        }
    })
    .forget();
    #[cfg(not(feature = "hydrate"))]
    let _ = message;
}
