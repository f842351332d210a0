//! "Invitation link": the one-time link with a Copy button, how long it works, and what the person does with it.
use leptos::prelude::*;

use crate::components::copy::{announce_copied, CopyButton};
use crate::format::day_and_time;
use crate::model::InvitationLink;

/// The reveal step of the add-person and new-link dialogs; its heading has the id `title_id`.
#[component]
pub fn InvitationReveal(invited: InvitationLink, title_id: &'static str, on_done: Callback<()>) -> impl IntoView {
    let link = invited.link.expose().to_owned();
    let announcement = RwSignal::new(String::new());
    let on_copied = Callback::new(move |_: ()| announce_copied(announcement, "invitation link"));
    view! {
        <h2 id=title_id>"Invitation link"</h2>
        <p>
            "Send this link to " <strong>{invited.name.clone()}</strong> " (" {invited.email.clone()} "). "
            "They set their own password there and are then signed in."
        </p>
        <div class="code-block token-block">
            <code class="token-strip" aria-label="Invitation link">{link.clone()}</code>
            <CopyButton text=link what="invitation link" on_copied/>
        </div>
        <p class="muted">{format!("Valid until {} UTC.", day_and_time(invited.expires_at))}</p>
        {invited.emailed.then(|| view! { <p class="form-ok">{format!("We also e-mailed the link to {}.", invited.email)}</p> })}
        <p class="warning" role="note">
            <strong>"This is the only time this link is shown."</strong>
            {if invited.emailed {
                " If the e-mail does not arrive, copy the link and send it yourself. If it gets lost or expires, create a new link from this page; earlier links then stop working."
            } else {
                " Copy it now and send it yourself. If it gets lost or expires, create a new link from this page; earlier links then stop working."
            }}
        </p>
        <p class="visually-hidden" role="status" aria-live="polite">{move || announcement.get()}</p>
        <div class="dialog-actions">
            <button type="button" class="button teal" on:click=move |_| on_done.run(())>"Done"</button>
        </div>
    }
}
