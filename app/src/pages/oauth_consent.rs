//! `/oauth/authorize?request=<id>`: the consent page of caregate's OAuth server, open to every signed-in role.
//! The server's authorize endpoint has checked the client's request and parked it under `<id>`; this page shows
//! who asks (and whether anyone vouches for that name), where the browser goes back to, the scopes as
//! checkboxes and how long the connection lasts, then Allow (after a password or code confirmation, as for a
//! new key) or Deny. The decision answers the client's redirect URL, opened with a full navigation. A request
//! that is unknown, expired or already answered gets a page saying so, with the server function's 404.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::oauth::{decide_consent, get_consent};
use crate::api::session::{encode_query_value, get_current_user};
use crate::components::{Modal, ReauthStep, ScopePicker};
use crate::error::AppError;
use crate::format::short_date;
use crate::model::{ClientOrigin, ConsentDecision, ConsentView, CurrentUser, Role};

#[component]
pub fn OAuthConsentPage() -> impl IntoView {
    let query = use_query_map();
    let request = Memo::new(move |_| query.read().get("request").unwrap_or_default());
    let consent = Resource::new(move || request.get(), get_consent);
    let me = Resource::new(|| (), |_| get_current_user());
    view! {
        <main class="login-page">
            <section class="card login-card consent-card" aria-labelledby="consent-title">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"cg"</span>
                    <span class="brand-name">"caregate"</span>
                </div>
                <Suspense fallback=|| view! { <h1 id="consent-title">"Connect an app"</h1><p class="muted" aria-live="polite">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match consent.await {
                            Ok(consent) => {
                                let me = me.await.ok();
                                view! { <ConsentForm consent request=request.get_untracked() me/> }.into_any()
                            }
                            Err(error) => view! { <RequestUnavailable error request=request.get_untracked()/> }.into_any(),
                        }
                    })}
                </Suspense>
            </section>
        </main>
    }
}

/// Where the person turns on two-factor: their layout's settings page.
fn account_settings(role: Option<Role>) -> &'static str {
    match role {
        Some(Role::Caregiver) => "/portal/settings",
        _ => "/settings?tab=account",
    }
}

/// How long the connection lasts, in a sentence.
fn lifetime(expires_at: Option<chrono::DateTime<chrono::Utc>>) -> String {
    match expires_at {
        Some(at) => format!("Until {} (UTC), under your company's rules for keys, unless you revoke it sooner.", short_date(at)),
        None => "It does not expire; it lasts until you revoke it.".to_owned(),
    }
}

#[component]
fn ConsentForm(consent: ConsentView, request: String, me: Option<CurrentUser>) -> impl IntoView {
    let ConsentView { client, redirect_host, requested, allowed, expires_at, reauthenticated, two_factor, refusal, needs_two_factor } = consent;
    let name = client.client_name.clone();
    let unverified = client.origin == ClientOrigin::SelfRegistered;
    let mut ticked: Vec<_> = requested.into_iter().filter(|scope| allowed.contains(scope)).collect();
    ticked.sort();
    let selected = RwSignal::new(ticked);
    let confirmed = RwSignal::new(reauthenticated);
    let asking = RwSignal::new(false);
    let local_error = RwSignal::new(None::<String>);
    let request = StoredValue::new(request);
    let decide = Action::new(move |decision: &ConsentDecision| decide_consent(request.get_value(), decision.clone()));
    Effect::new(move |_| match decide.value().get() {
        Some(Ok(url)) => {
            let _ = window().location().assign(&url);
        }
        // The confirmation is older than five minutes (the page stayed open): ask again, then decide.
        Some(Err(AppError::Unauthorized(_))) => {
            confirmed.set(false);
            asking.set(true);
        }
        _ => {}
    });
    let leaving = move || matches!(decide.value().get(), Some(Ok(_)));
    let busy = move || decide.pending().get() || leaving();
    let allow_now = move || decide.dispatch(ConsentDecision { allow: true, scopes: selected.get_untracked() });
    let allow = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if selected.with_untracked(Vec::is_empty) {
            local_error.set(Some("Tick at least one scope, or choose Deny.".to_owned()));
            return;
        }
        local_error.set(None);
        if confirmed.get_untracked() {
            allow_now();
        } else {
            asking.set(true);
        }
    };
    let deny = move |_| {
        local_error.set(None);
        decide.dispatch(ConsentDecision { allow: false, scopes: Vec::new() });
    };
    let on_confirmed = Callback::new(move |_: ()| {
        asking.set(false);
        confirmed.set(true);
        allow_now();
    });
    let close_reauth = Callback::new(move |_: ()| asking.set(false));
    let server_error = move || match decide.value().get() {
        Some(Err(AppError::Unauthorized(_))) | Some(Ok(_)) | None => None,
        Some(Err(error)) => Some(error),
    };
    let settings = account_settings(me.as_ref().map(|me| me.role));
    let back = format!("Go back to {redirect_host}");
    // Refused by the company's key policy: why, and (for two-factor) where to fix it, as the key flow says it.
    let refused = match (refusal, needs_two_factor) {
        (Some(refusal), _) => Some((refusal, false)),
        (None, true) => Some((
            "Your company requires two-factor authentication to connect apps. Set it up in your account settings with an authenticator app, \
             then connect the app again."
                .to_owned(),
            true,
        )),
        (None, false) => None,
    };
    view! {
        <Title text=format!("Connect {name}")/>
        <h1 id="consent-title">{format!("Connect {name} to caregate")}</h1>
        <p class="muted">
            {format!("{name} asks to read your care data through caregate, as you and only within the scopes you tick.")}
        </p>
        <dl class="facts consent-facts">
            <dt>"App"</dt>
            <dd>{name.clone()}</dd>
            <dt>"From"</dt>
            <dd class:unverified=unverified>{client.origin.describe()}</dd>
            {me.map(|me| view! { <dt>"Your account"</dt><dd>{format!("{} ({})", me.name, me.email)}</dd> })}
            <dt>"Lasts"</dt>
            <dd>{lifetime(expires_at)}</dd>
        </dl>
        {unverified.then(|| view! {
            <p class="warning" role="note">
                <strong>"Unverified app."</strong>
                " It registered itself, so nobody vouches for its name. Allow it only if you have just started connecting it yourself."
            </p>
        })}
        <p class="consent-return">"After you decide you go back to " <strong>{redirect_host.clone()}</strong> "."</p>
        {match refused {
            Some((reason, set_up_two_factor)) => view! {
                <p class="notice error consent-refusal">{reason}</p>
                {move || server_error().map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
                <div class="dialog-actions">
                    <button type="button" class="button" on:click=deny disabled=busy>{back.clone()}</button>
                    {set_up_two_factor.then(|| view! { <a class="button teal" href=settings rel="external">"Set up two-factor"</a> })}
                </div>
            }.into_any(),
            None => view! {
                <form on:submit=allow novalidate>
                    // No presets here: the client's request is the starting point, and "…allows" would read as a second Allow.
                    <ScopePicker allowed selected legend=format!("What {name} may read") presets=false/>
                    <p class="muted small">"You can revoke the connection at any time under Settings → API Keys; it stops working at once."</p>
                    {move || local_error.get().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
                    {move || server_error().map(|error| view! { <DecisionFailed error/> })}
                    {move || leaving().then(|| view! { <p class="muted" role="status">{format!("Returning you to {redirect_host}…")}</p> })}
                    <div class="dialog-actions">
                        <button type="button" class="button" on:click=deny disabled=busy>"Deny"</button>
                        <button type="submit" class="button teal" disabled=busy aria-busy=move || decide.pending().get().to_string()>
                            {move || decide.pending().get().then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                            "Allow"
                        </button>
                    </div>
                </form>
            }.into_any(),
        }}
        {move || asking.get().then(|| view! {
            <Modal labelled_by="reauth-title" on_escape=close_reauth>
                <ReauthStep two_factor title_id="reauth-title" purpose="to connect this app" on_confirmed on_cancel=close_reauth/>
            </Modal>
        })}
    }
}

/// The decision failed: the server's words, and for a request that has gone meanwhile the way home.
#[component]
fn DecisionFailed(error: AppError) -> impl IntoView {
    let gone = matches!(error, AppError::NotFound(_));
    view! {
        <div class="form-error" role="alert">
            <p>{error.to_string()}</p>
            {gone.then(|| view! { <p>"Start connecting again from the app. " <a href="/" rel="external">"Go to caregate"</a></p> })}
        </div>
    }
}

/// An unknown, expired or answered request (or one that could not be loaded): what the server said, and a way on.
#[component]
fn RequestUnavailable(error: AppError, request: String) -> impl IntoView {
    let (title, advice) = match error {
        AppError::NotFound(_) => (
            "This connection request cannot be used",
            "It has expired, has already been answered, or was started by someone else. Start connecting again from the app.",
        ),
        AppError::Unauthorized(_) => ("Sign in to continue", "Your session has ended. Sign in again to answer this request."),
        _ => ("This connection request could not be opened", "Please try again in a moment."),
    };
    // Full page loads: the page guard sends a signed-out visitor to sign in and back here, and everyone else
    // from `/` to their own home page.
    let (href, link) = match error {
        AppError::Unauthorized(_) => (format!("/oauth/authorize?request={}", encode_query_value(&request)), "Sign in"),
        _ => ("/".to_owned(), "Go to caregate"),
    };
    view! {
        <Title text=title/>
        <h1 id="consent-title">{title}</h1>
        <p class="notice error" role="alert">{error.to_string()}</p>
        <p class="muted">{advice}</p>
        <a class="button primary wide" href=href rel="external">{link}</a>
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn caregivers_turn_on_two_factor_in_the_portal_and_everyone_else_in_the_office() {
        assert_eq!(account_settings(Some(Role::Caregiver)), "/portal/settings");
        assert_eq!(account_settings(Some(Role::User)), "/settings?tab=account");
        assert_eq!(account_settings(None), "/settings?tab=account");
    }

    #[test]
    fn the_lifetime_names_the_day_or_says_it_never_ends() {
        let at = chrono::Utc.with_ymd_and_hms(2027, 3, 3, 12, 0, 0).unwrap();
        assert!(lifetime(Some(at)).starts_with("Until Mar 3, 2027 (UTC)"));
        assert!(lifetime(None).contains("does not expire"));
    }
}
