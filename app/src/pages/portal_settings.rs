//! `/portal/settings`: notification preferences, two-factor authentication, the caregiver's API keys, and a
//! privacy note.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::{get_notification_preferences, set_notification_preferences};
use crate::components::{ErrorNotice, KeysPanel, Loading, TwoFactorCard};
use crate::model::NotificationPreferences;

/// The caregiver Settings page, loaded when first opened (see `OfficeSettingsRoute`).
pub struct PortalSettingsRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for PortalSettingsRoute {
    fn data() -> Self {
        PortalSettingsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <PortalSettingsPage/> }.into_any()
    }
}

#[component]
pub fn PortalSettingsPage() -> impl IntoView {
    let preferences = Resource::new(|| (), |_| get_notification_preferences());
    view! {
        <Title text="Settings"/>
        <header class="page-head"><h1>"Settings"</h1></header>
        <section class="card" aria-labelledby="notifications-title">
            <h2 id="notifications-title">"Notifications"</h2>
            <p class="muted">"How we tell you about schedule changes and new messages."</p>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match preferences.await {
                        Ok(current) => view! { <NotificationToggles current/> }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
        <TwoFactorCard/>
        <KeysPanel title="API Keys" empty_hint="Create a key to let an AI assistant read your visits, schedule and messages."/>
        <aside class="privacy-strip" aria-labelledby="privacy-title">
            <h2 id="privacy-title">"Your Privacy Matters"</h2>
            <p>"Keys only ever read what you can see yourself: your own visits, schedule, profile and messages. Every use is logged, and you can revoke a key at any time."</p>
        </aside>
    }
}

#[component]
fn NotificationToggles(current: NotificationPreferences) -> impl IntoView {
    let state = RwSignal::new(current);
    let save = Action::new(move |preferences: &NotificationPreferences| set_notification_preferences(*preferences));
    let toggle = move |change: fn(&mut NotificationPreferences, bool)| {
        move |ev: leptos::ev::Event| {
            let on = event_target_checked(&ev);
            state.update(|p| change(p, on));
            save.dispatch(state.get_untracked());
        }
    };
    view! {
        <div class="toggles">
            <label class="switch">
                <input type="checkbox" role="switch" prop:checked=move || state.get().email on:change=toggle(|p, on| p.email = on)/>
                <span>"Email"</span>
            </label>
            <label class="switch">
                <input type="checkbox" role="switch" prop:checked=move || state.get().sms on:change=toggle(|p, on| p.sms = on)/>
                <span>"SMS"</span>
            </label>
            <label class="switch">
                <input type="checkbox" role="switch" prop:checked=move || state.get().push on:change=toggle(|p, on| p.push = on)/>
                <span>"Push"</span>
            </label>
        </div>
        {move || match save.value().get() {
            Some(Ok(_)) => Some(view! { <p class="form-ok" role="status">"Saved."</p> }.into_any()),
            Some(Err(error)) => Some(view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any()),
            None => None,
        }}
    }
}
