//! "Your API Key": the token, shown once, with Copy and the Quick Setup snippets for each MCP client; a live
//! region announces each copy.
use leptos::prelude::*;

use crate::model::MintedKey;
use crate::setup_snippets::{Client, SetupBlock};

/// Puts `text` on the clipboard (Clipboard API through web-sys).
fn copy_to_clipboard(text: &str) {
    #[cfg(feature = "hydrate")]
    if let Some(window) = web_sys::window() {
        let _ = window.navigator().clipboard().write_text(text);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = text;
}

/// How long a Copy button says "Copied", and the dialog's live region keeps its announcement.
#[cfg(feature = "hydrate")]
const COPIED_FOR_MS: u32 = 2_000;

/// A Copy button that says "Copied" for a while. Its name is its visible word followed by `what`, visually
/// hidden ("Copy API key", then "Copied API key"), so the name always contains the text people see (WCAG 2.5.3).
#[component]
fn CopyButton(text: String, what: &'static str, on_copied: Callback<()>) -> impl IntoView {
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

#[component]
pub fn RevealStep(minted: MintedKey, mcp_url: String, copied: RwSignal<bool>, confirm_leave: RwSignal<bool>, on_done: Callback<()>) -> impl IntoView {
    let token = minted.token.expose().to_owned();
    let tab = RwSignal::new(Client::ClaudeCode);
    let announcement = RwSignal::new(String::new());
    // Announces "<what> copied" in the live region; copying a text that holds the key counts as copying the key.
    let on_copied = move |what: &'static str, holds_key: bool| {
        Callback::new(move |_: ()| {
            if holds_key {
                copied.set(true);
            }
            let message = format!("{what} copied");
            announcement.set(message.clone());
            #[cfg(feature = "hydrate")]
            gloo_timers::callback::Timeout::new(COPIED_FOR_MS, move || {
                if announcement.try_get_untracked().as_deref() == Some(message.as_str()) {
                    announcement.try_set(String::new());
                }
            })
            .forget();
        })
    };
    let done = move |_| {
        if copied.get_untracked() {
            on_done.run(());
        } else {
            confirm_leave.set(true);
        }
    };
    let panels: Vec<(Client, Vec<SetupBlock>)> = Client::ALL.into_iter().map(|client| (client, client.setup(&mcp_url, &token))).collect();
    view! {
        <h2 id="generate-title">"Your API Key"</h2>
        <p class="muted">{format!("\"{}\" · Key ID ", minted.key.label)}<span class="mono">{minted.key.key_id.clone()}</span></p>
        <div class="code-block token-block">
            <code class="token-strip" aria-label="Your API key">{token.clone()}</code>
            <CopyButton text=token.clone() what="API key" on_copied=on_copied("API key", true)/>
        </div>
        <p class="warning" role="note">
            <strong>"This is the only time this key is shown."</strong>
            " Copy it now and keep it somewhere safe, like a password manager. Nobody, administrators included, can see it again."
        </p>
        <h3 class="quick-setup-title">"Quick Setup"</h3>
        <div class="tabs" role="tablist" aria-label="Quick Setup">
            {Client::ALL.into_iter().map(|client| view! {
                <button type="button" role="tab" class="tab" id=format!("setup-tab-{client:?}")
                    aria-controls=format!("setup-panel-{client:?}")
                    aria-selected=move || (tab.get() == client).to_string()
                    tabindex=move || if tab.get() == client { "0" } else { "-1" }
                    on:click=move |_| tab.set(client)>
                    {client.tab_label()}
                </button>
            }).collect_view()}
        </div>
        {panels.into_iter().map(|(client, blocks)| view! {
            <div role="tabpanel" class="tab-panel" id=format!("setup-panel-{client:?}") aria-labelledby=format!("setup-tab-{client:?}")
                hidden=move || tab.get() != client>
                {blocks.into_iter().map(|block| view! {
                    <p class="muted small setup-hint">{block.hint}</p>
                    <div class="code-block">
                        <pre><code>{block.text.clone()}</code></pre>
                        <CopyButton on_copied=on_copied(block.what, block.text.contains(&token)) text=block.text what=block.what/>
                    </div>
                }).collect_view()}
            </div>
        }).collect_view()}
        <p class="visually-hidden" role="status" aria-live="polite">{move || announcement.get()}</p>
        {move || confirm_leave.get().then(|| view! {
            <div class="confirm-leave" role="alert">
                <p><strong>"You haven't copied this key."</strong> " Once you close this dialog it cannot be shown again."</p>
                <div class="dialog-actions">
                    <button type="button" class="button" data-autofocus on:click=move |_| confirm_leave.set(false)>"Go back"</button>
                    <button type="button" class="button danger" on:click=move |_| on_done.run(())>"Close without copying"</button>
                </div>
            </div>
        })}
        <div class="dialog-actions">
            <button type="button" class="button teal" on:click=done>"Done – I have Saved My Key"</button>
        </div>
    }
}
