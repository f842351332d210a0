//! `/invite/:secret`: where an invitation link leads. It says which company and role the person joins and
//! lets them choose a password, which signs them in on their role's home page. A link that is unknown,
//! replaced, used or expired gets a page saying so in the server's words, answered with the server's status.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

use crate::api::people::{get_invitation, AcceptInvitation};
use crate::error::AppError;
use crate::format::day_and_time;
use crate::model::InvitationView;

/// The shortest password the server accepts (`domain::password::Password::parse_new`), so the browser can say
/// so before the round trip.
const MIN_PASSWORD_CHARS: &str = "10";

#[component]
pub fn InvitationPage() -> impl IntoView {
    let params = use_params_map();
    let secret = Memo::new(move |_| params.read().get("secret").unwrap_or_default());
    let invitation = Resource::new(move || secret.get(), get_invitation);
    view! {
        <main class="login-page">
            <section class="card login-card" aria-labelledby="invitation-title">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"cg"</span>
                    <span class="brand-name">"caregate"</span>
                </div>
                <Suspense fallback=|| view! { <h1 id="invitation-title">"Your invitation"</h1><p class="muted" aria-live="polite">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match invitation.await {
                            Ok(invitation) => view! { <JoinForm invitation secret=secret.get_untracked()/> }.into_any(),
                            Err(error) => view! { <InvalidLink error/> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </main>
    }
}

#[component]
fn JoinForm(invitation: InvitationView, secret: String) -> impl IntoView {
    let accept = ServerAction::<AcceptInvitation>::new();
    let error = move || accept.value().get().and_then(Result::err).map(|err| err.to_string());
    let title = format!("Join {} as a {}", invitation.company_name, invitation.role.display_name());
    view! {
        <Title text=title.clone()/>
        <h1 id="invitation-title">{title}</h1>
        <dl class="facts invitation-facts">
            <dt>"Name"</dt><dd>{invitation.name.clone()}</dd>
            <dt>"Email"</dt><dd>{invitation.email.clone()}</dd>
        </dl>
        <p class="muted">
            {format!("Choose the password you will sign in with. This link works until {} UTC, once.", day_and_time(invitation.expires_at))}
        </p>
        <ActionForm action=accept>
            <input type="hidden" name="secret" value=secret/>
            <input type="text" autocomplete="username" value=invitation.email.clone() hidden/>
            <div class="field">
                <label for="new-password">"New password"</label>
                <input id="new-password" name="password" type="password" autocomplete="new-password" minlength=MIN_PASSWORD_CHARS maxlength="200"
                    required aria-describedby="password-rules"/>
                <p id="password-rules" class="muted small hint">{format!("At least {MIN_PASSWORD_CHARS} characters. A few unrelated words make a good one.")}</p>
            </div>
            <div class="field">
                <label for="confirm-password">"Repeat new password"</label>
                <input id="confirm-password" name="confirm" type="password" autocomplete="new-password" minlength=MIN_PASSWORD_CHARS maxlength="200" required/>
            </div>
            {move || error().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <button type="submit" class="button primary wide" disabled=move || accept.pending().get()>
                {move || if accept.pending().get() { "Joining…" } else { "Set password and join" }}
            </button>
        </ActionForm>
    }
}

/// An unknown, replaced, used or expired link: what the server said, and the way to the sign-in page.
#[component]
fn InvalidLink(error: AppError) -> impl IntoView {
    let (title, advice) = match error {
        AppError::NotFound(_) | AppError::Conflict(_) => {
            ("This invitation link cannot be used", "Ask the person who invited you for a new link. If you have already set your password, sign in.")
        }
        _ => ("This invitation could not be opened", "Please try again in a moment."),
    };
    view! {
        <Title text=title/>
        <h1 id="invitation-title">{title}</h1>
        <p class="notice error" role="alert">{error.to_string()}</p>
        <p class="muted">{advice}</p>
        // A full page load, so the page guard sends someone already signed in to their home page instead.
        <a class="button primary wide" href="/login" rel="external">"Go to sign in"</a>
    }
}
