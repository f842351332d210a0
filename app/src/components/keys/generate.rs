//! The generate flow in one dialog: Security & Compliance Notice → Confirm it's you (when needed) → Name Your
//! API Key → Your API Key.
use leptos::prelude::*;

use super::reauth::ReauthStep;
use super::reveal::RevealStep;
use super::scopes::ScopePicker;
use crate::api::keys::{get_key_setup, mint_key, KeySetup};
use crate::components::modal::Modal;
use crate::components::{ErrorNotice, Loading};
use crate::error::AppError;
use domain::keys::policy::KeyLabel;

use crate::model::{ExpiryChoice, MintRequest, MintedKey};

#[derive(Clone)]
enum Step {
    Notice,
    Reauth,
    Name,
    /// Boxed: the reveal carries the key and its token, far larger than the other steps.
    Reveal(Box<MintedKey>),
}

impl Step {
    fn number(&self) -> u8 {
        match self {
            Step::Notice => 1,
            Step::Reauth => 2,
            Step::Name => 3,
            Step::Reveal(_) => 4,
        }
    }
}

/// The label suggested for a new key: "API Key" and today's date in the browser's locale.
fn suggested_label() -> String {
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsValue;
        let options = js_sys::Object::new();
        for (name, value) in [("month", "short"), ("day", "numeric"), ("year", "numeric")] {
            let _ = js_sys::Reflect::set(&options, &JsValue::from_str(name), &JsValue::from_str(value));
        }
        let locale = web_sys::window().and_then(|w| w.navigator().language()).unwrap_or_else(|| "en-US".to_owned());
        let today: String = js_sys::Date::new_0().to_locale_date_string(&locale, &options).into();
        format!("API Key {today}")
    }
    #[cfg(not(feature = "hydrate"))]
    KeyLabel::suggested(chrono::Utc::now().date_naive())
}

#[component]
pub fn GenerateFlow(on_close: Callback<()>, on_minted: Callback<()>) -> impl IntoView {
    let setup = Resource::new(|| (), |_| get_key_setup());
    let step = RwSignal::new(Step::Notice);
    let copied = RwSignal::new(false);
    let confirm_leave = RwSignal::new(false);
    let content_key = Signal::derive(move || step.with(Step::number) * 2 + u8::from(confirm_leave.get()));
    let on_escape = Callback::new(move |_: ()| {
        if matches!(step.get_untracked(), Step::Reveal(_)) && !copied.get_untracked() {
            confirm_leave.set(true);
        } else {
            on_close.run(());
        }
    });
    view! {
        <Modal labelled_by="generate-title" on_escape content_key wide=true>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match setup.await {
                        Ok(setup) => {
                            let setup = StoredValue::new(setup);
                            if setup.get_value().needs_two_factor {
                                return view! { <TwoFactorFirst on_close/> }.into_any();
                            }
                            (move || match step.get() {
                                Step::Notice => view! { <NoticeStep setup=setup.get_value() step on_close/> }.into_any(),
                                Step::Reauth => view! {
                                    <ReauthStep two_factor=setup.get_value().two_factor title_id="generate-title" purpose="to create an API key"
                                        on_confirmed=Callback::new(move |_| step.set(Step::Name)) on_cancel=on_close/>
                                }.into_any(),
                                Step::Name => view! { <NameStep setup=setup.get_value() step on_close on_minted/> }.into_any(),
                                Step::Reveal(minted) => view! {
                                    <RevealStep minted=*minted mcp_url=setup.get_value().mcp_url title_id="generate-title" copied confirm_leave on_done=on_close/>
                                }.into_any(),
                            }).into_any()
                        }
                        Err(error) => view! {
                            <h2 id="generate-title">"Generate New API Key"</h2>
                            <ErrorNotice error/>
                            <div class="dialog-actions"><button type="button" class="button" on:click=move |_| on_close.run(())>"Close"</button></div>
                        }.into_any(),
                    }
                })}
            </Suspense>
        </Modal>
    }
}

#[component]
fn NoticeStep(setup: KeySetup, step: RwSignal<Step>, on_close: Callback<()>) -> impl IntoView {
    let reauthenticated = setup.reauthenticated;
    let lifetime = if setup.policy.lifetime_days == 90 {
        "90 days, your company's maximum".to_owned()
    } else {
        format!("{} days at most, your company's setting (90 days by default)", setup.policy.lifetime_days)
    };
    view! {
        <h2 id="generate-title">"Security & Compliance Notice"</h2>
        <p class="muted">"Before you create a key, please read how it works:"</p>
        <ul class="notice-list">
            <li>"The key gives session-level access to your data without multi-factor authentication on each request."</li>
            <li>"It inherits your role: an AI assistant using it can read what you can read, within the scopes you pick."</li>
            <li>"Treat it like a password: never share it, paste it into chats, or commit it to code."</li>
            <li>"Every action taken with it is logged on the Activity feed against your account."</li>
            <li>"You can revoke it from this page at any time; it stops working immediately."</li>
            <li>"It expires automatically after " {lifetime} "."</li>
        </ul>
        <div class="dialog-actions">
            <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
            <button type="button" class="button teal" data-autofocus
                on:click=move |_| step.set(if reauthenticated { Step::Name } else { Step::Reauth })>
                "I Understand – Continue"
            </button>
        </div>
    }
}

/// The company requires two-factor for new keys and the person has not turned it on: where to do that.
#[component]
fn TwoFactorFirst(on_close: Callback<()>) -> impl IntoView {
    let location = leptos_router::hooks::use_location();
    let settings = move || if location.pathname.get().starts_with("/portal") { "/portal/settings" } else { "/settings?tab=account" };
    view! {
        <h2 id="generate-title">"Turn on two-factor first"</h2>
        <p>"Your company requires two-factor authentication to create API keys. Set it up in your account settings with an authenticator app, then come back here."</p>
        <div class="dialog-actions">
            <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
            <a class="button teal" href=settings data-autofocus on:click=move |_| on_close.run(())>"Set up two-factor"</a>
        </div>
    }
}

/// The expiry options of the select, as (value, text).
fn expiry_options(setup: &KeySetup) -> Vec<(String, String)> {
    let mut days: Vec<u32> = setup.policy.preset_days();
    if let ExpiryChoice::Days(default) = setup.policy.default_choice() {
        if !days.contains(&default) {
            days.push(default);
        }
    }
    let mut options: Vec<(String, String)> = days.into_iter().map(|d| (d.to_string(), format!("{d} days"))).collect();
    options.push(("custom".to_owned(), "Custom date".to_owned()));
    if setup.policy.allow_non_expiring {
        options.push(("never".to_owned(), "Never expires".to_owned()));
    }
    options
}

fn expiry_choice(selected: &str, custom_date: &str) -> Result<ExpiryChoice, String> {
    match selected {
        "never" => Ok(ExpiryChoice::Never),
        "custom" => chrono::NaiveDate::parse_from_str(custom_date, "%Y-%m-%d").map(ExpiryChoice::Until).map_err(|_| "Pick an expiry date".to_owned()),
        days => days.parse().map(ExpiryChoice::Days).map_err(|_| "Pick an expiry".to_owned()),
    }
}

#[component]
fn NameStep(setup: KeySetup, step: RwSignal<Step>, on_close: Callback<()>, on_minted: Callback<()>) -> impl IntoView {
    let label = RwSignal::new(suggested_label());
    let default_days = match setup.policy.default_choice() {
        ExpiryChoice::Days(days) => days.to_string(),
        _ => "custom".to_owned(),
    };
    let expiry = RwSignal::new(default_days);
    let custom_date = RwSignal::new(String::new());
    let allowed_ips = RwSignal::new(String::new());
    let allowed = setup.allowed_scopes.clone();
    let selected = RwSignal::new(allowed.clone());
    let local_error = RwSignal::new(None::<String>);
    let mint = Action::new(move |request: &MintRequest| mint_key(request.clone()));
    Effect::new(move |_| match mint.value().get() {
        Some(Ok(minted)) => {
            on_minted.run(());
            step.set(Step::Reveal(Box::new(minted)));
        }
        Some(Err(AppError::Unauthorized(_))) => step.set(Step::Reauth),
        _ => {}
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let checked = selected.get_untracked();
        let problem = KeyLabel::parse(&label.get_untracked()).err().or_else(|| checked.is_empty().then(|| "Choose at least one scope".to_owned()));
        let choice = expiry_choice(&expiry.get_untracked(), &custom_date.get_untracked());
        match (problem, choice) {
            (Some(problem), _) | (None, Err(problem)) => local_error.set(Some(problem)),
            (None, Ok(choice)) => {
                local_error.set(None);
                let scopes = checked.iter().map(|s| s.as_str().to_owned()).collect();
                let allowed_ips = vec![allowed_ips.get_untracked()];
                mint.dispatch(MintRequest { label: label.get_untracked(), expiry: Some(choice), scopes, allowed_ips });
            }
        }
    };
    let server_error = move || match mint.value().get() {
        Some(Err(AppError::Unauthorized(_))) | Some(Ok(_)) | None => None,
        Some(Err(error)) => Some(error.to_string()),
    };
    let today = chrono::Utc::now().date_naive();
    let max_date = (today + chrono::Duration::days(i64::from(setup.policy.lifetime_days))).to_string();
    view! {
        <h2 id="generate-title">"Name Your API Key"</h2>
        <form on:submit=submit novalidate>
            <div class="field">
                <label for="key-label">"Label"</label>
                <input id="key-label" type="text" maxlength="100" required data-autofocus
                    prop:value=move || label.get() on:input=move |ev| label.set(event_target_value(&ev))/>
                <span class="muted small">"Something that tells you where the key is used, like \"Claude on my laptop\"."</span>
            </div>
            <div class="field">
                <label for="key-expiry">"Expires"</label>
                <select id="key-expiry" prop:value=move || expiry.get() on:change=move |ev| expiry.set(event_target_value(&ev))>
                    {expiry_options(&setup).into_iter().map(|(value, text)| view! { <option value=value>{text}</option> }).collect_view()}
                </select>
                {move || (expiry.get() == "custom").then(|| view! {
                    <label for="key-expiry-date" class="visually-hidden">"Expiry date"</label>
                    <input id="key-expiry-date" type="date" min=today.to_string() max=max_date.clone()
                        prop:value=move || custom_date.get() on:input=move |ev| custom_date.set(event_target_value(&ev))/>
                })}
            </div>
            <ScopePicker allowed=allowed.clone() selected/>
            <div class="field">
                <label for="key-allowed-ips">"Allowed IP addresses (optional)"</label>
                <input id="key-allowed-ips" type="text" maxlength="2000" autocomplete="off" spellcheck="false" aria-describedby="key-allowed-ips-help"
                    prop:value=move || allowed_ips.get() on:input=move |ev| allowed_ips.set(event_target_value(&ev))/>
                <span id="key-allowed-ips-help" class="muted small">"Comma-separated addresses or ranges, like 203.0.113.0/24, 2001:db8::/32. Empty: any address."</span>
            </div>
            {move || local_error.get().or_else(server_error).map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="submit" class="button teal" disabled=move || mint.pending().get() aria-busy=move || mint.pending().get().to_string()>
                    {move || mint.pending().get().then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                    {move || if mint.pending().get() { "Generating…" } else { "Generate Key" }}
                </button>
            </div>
        </form>
    }
}
