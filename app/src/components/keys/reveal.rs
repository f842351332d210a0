//! "Your API Key": the token, shown once, with Copy and the Quick Setup snippets for each MCP client; a live
//! region announces each copy.
use leptos::prelude::*;

use crate::components::copy::{announce_copied, CopyButton};
use crate::model::MintedKey;
use crate::setup_snippets::{Client, SetupBlock};

/// The one-time reveal. `title_id` is its heading's id (the dialog around it, generate or roll, is labelled by it).
#[component]
pub fn RevealStep(
    minted: MintedKey,
    mcp_url: String,
    title_id: &'static str,
    copied: RwSignal<bool>,
    confirm_leave: RwSignal<bool>,
    on_done: Callback<()>,
) -> impl IntoView {
    let token = minted.token.expose().to_owned();
    let tab = RwSignal::new(Client::ClaudeCode);
    let announcement = RwSignal::new(String::new());
    // Announces "<what> copied" in the live region; copying a text that holds the key counts as copying the key.
    let on_copied = move |what: &'static str, holds_key: bool| {
        Callback::new(move |_: ()| {
            if holds_key {
                copied.set(true);
            }
            announce_copied(announcement, what);
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
        <h2 id=title_id>"Your API Key"</h2>
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
