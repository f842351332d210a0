//! "Connect without a key": the MCP URL with Copy, and how ChatGPT, Claude and Codex connect by signing in to
//! caregate (OAuth) instead of with a key. The texts come from [`crate::setup_snippets::connect_guides`].
use leptos::prelude::*;

use crate::components::copy::{announce_copied, CopyButton};
use crate::setup_snippets::{connect_guides, ConnectStep};

#[component]
pub fn ConnectWithoutKey(mcp_url: String) -> impl IntoView {
    let announcement = RwSignal::new(String::new());
    let on_copied = move |what: &'static str| Callback::new(move |_: ()| announce_copied(announcement, what));
    let guides = connect_guides(&mcp_url);
    view! {
        <section class="connect-panel" aria-labelledby="connect-title">
            <h3 id="connect-title">"Connect without a key"</h3>
            <p class="muted">
                "ChatGPT, Claude and other apps that cannot take a key connect with this URL and sign you in to caregate. "
                "You choose what they may read; each connected app is listed here and can be revoked like a key."
            </p>
            <p class="muted small setup-hint">"MCP URL"</p>
            <div class="code-block">
                <pre><code>{mcp_url.clone()}</code></pre>
                <CopyButton text=mcp_url.clone() what="MCP URL" on_copied=on_copied("MCP URL")/>
            </div>
            <div class="connect-guides">
                {guides.into_iter().map(|guide| view! {
                    <section class="connect-guide">
                        <h4>{guide.client}</h4>
                        <ol class="steps">
                            {guide.steps.into_iter().map(|step| match step {
                                ConnectStep::Say(text) => view! { <li>{text}</li> }.into_any(),
                                ConnectStep::Run(block) => view! {
                                    <li>
                                        <span>{block.hint}</span>
                                        <div class="code-block">
                                            <pre><code>{block.text.clone()}</code></pre>
                                            <CopyButton on_copied=on_copied(block.what) text=block.text what=block.what/>
                                        </div>
                                    </li>
                                }.into_any(),
                            }).collect_view()}
                        </ol>
                    </section>
                }).collect_view()}
            </div>
            <p class="visually-hidden" role="status" aria-live="polite">{move || announcement.get()}</p>
        </section>
    }
}
