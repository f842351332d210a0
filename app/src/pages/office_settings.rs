//! `/settings`: Business Settings (company, key policy, how long records are kept), API Keys, and Account
//! (change password, two-factor), as tabs.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::api::account::list_people;
use crate::api::account::ChangePassword;
use crate::api::disclosures::{get_record_retention, update_record_retention};
use crate::api::keys::{get_key_setup, revoke_all_keys, update_key_policy};
use crate::components::{use_current_user, ErrorNotice, KeysPanel, Loading, TwoFactorCard};
use crate::model::{KeyCreators, KeyPolicy, PersonView, RevokeAllOf, Role};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Tab {
    Business,
    ApiKeys,
    Account,
}

impl Tab {
    const ALL: [Tab; 3] = [Tab::Business, Tab::ApiKeys, Tab::Account];

    fn slug(self) -> &'static str {
        match self {
            Tab::Business => "business",
            Tab::ApiKeys => "api-keys",
            Tab::Account => "account",
        }
    }

    fn title(self) -> &'static str {
        match self {
            Tab::Business => "Business Settings",
            Tab::ApiKeys => "API Keys",
            Tab::Account => "Account",
        }
    }

    fn from_slug(slug: &str) -> Tab {
        Tab::ALL.into_iter().find(|tab| tab.slug() == slug).unwrap_or(Tab::Business)
    }
}

/// The office Settings page as a route whose code the browser loads when it is first opened: the key
/// dialogs and setup snippets are the largest part of the app and most visits never need them.
pub struct OfficeSettingsRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for OfficeSettingsRoute {
    fn data() -> Self {
        OfficeSettingsRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <OfficeSettingsPage/> }.into_any()
    }
}

#[component]
pub fn OfficeSettingsPage() -> impl IntoView {
    let query = use_query_map();
    let tab = Memo::new(move |_| Tab::from_slug(&query.read().get("tab").unwrap_or_default()));
    let navigate = use_navigate();
    view! {
        <Title text="Settings"/>
        <header class="page-head"><h1>"Settings"</h1></header>
        <div class="tabs page-tabs" role="tablist" aria-label="Settings">
            {Tab::ALL.into_iter().map(|item| {
                let navigate = navigate.clone();
                view! {
                    <button type="button" role="tab" class="tab" id=format!("tab-{}", item.slug())
                        aria-controls="settings-panel"
                        aria-selected=move || (tab.get() == item).to_string()
                        on:click=move |_| navigate(&format!("/settings?tab={}", item.slug()), Default::default())>
                        {item.title()}
                    </button>
                }
            }).collect_view()}
        </div>
        <div id="settings-panel" role="tabpanel" aria-labelledby=move || format!("tab-{}", tab.get().slug())>
            {move || match tab.get() {
                Tab::Business => view! { <BusinessSettings/> }.into_any(),
                Tab::ApiKeys => view! {
                    <KeysPanel title="API Keys" empty_hint="Generate a key to connect Claude Code, Codex, Cursor or another MCP client."/>
                }.into_any(),
                Tab::Account => view! { <AccountSettings/> }.into_any(),
            }}
        </div>
    }
}

#[component]
fn BusinessSettings() -> impl IntoView {
    let me = use_current_user();
    let setup = Resource::new(|| (), |_| get_key_setup());
    let people = Resource::new(|| (), |_| list_people());
    let retention = Resource::new(|| (), |_| get_record_retention());
    view! {
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match (me.await, setup.await, people.await, retention.await) {
                    (Ok(user), Ok(setup), Ok(people), Ok(years)) => view! {
                        <section class="card" aria-labelledby="company-title">
                            <h2 id="company-title">"Company"</h2>
                            <dl class="facts">
                                <dt>"Name"</dt><dd>{user.company_name.clone()}</dd>
                                <dt>"Account number"</dt><dd class="mono">{user.company_account}</dd>
                            </dl>
                        </section>
                        {if user.role == Role::Root {
                            view! { <KeyPolicyForm policy=setup.policy/> <RetentionForm years/> <RevokeInBulk people/> }.into_any()
                        } else {
                            view! { <KeyPolicySummary policy=setup.policy/> <RetentionSummary years/> }.into_any()
                        }}
                    }.into_any(),
                    (Err(error), _, _, _) | (_, Err(error), _, _) | (_, _, Err(error), _) | (_, _, _, Err(error)) => {
                        view! { <ErrorNotice error/> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn KeyPolicySummary(policy: KeyPolicy) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="policy-title">
            <h2 id="policy-title">"API key policy"</h2>
            <p>{format!(
                "Keys live at most {} days; each person may hold {} active keys; each key may make {} requests a minute. Who may create keys: {}.{}",
                policy.lifetime_days, policy.max_active_keys, policy.requests_per_minute, policy.creators.label(),
                if policy.require_two_factor { " Creating a key needs two-factor authentication." } else { "" }
            )}</p>
            <p class="muted">"Root Users can change this."</p>
        </section>
    }
}

#[component]
fn KeyPolicyForm(policy: KeyPolicy) -> impl IntoView {
    let lifetime = RwSignal::new(policy.lifetime_days.to_string());
    let never = RwSignal::new(policy.allow_non_expiring);
    let limit = RwSignal::new(policy.max_active_keys.to_string());
    let budget = RwSignal::new(policy.requests_per_minute.to_string());
    let creators = RwSignal::new(policy.creators);
    let require_two_factor = RwSignal::new(policy.require_two_factor);
    let save = Action::new(move |policy: &KeyPolicy| update_key_policy(*policy));
    let local_error = RwSignal::new(None::<String>);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let numbers = (lifetime.get_untracked().trim().parse(), limit.get_untracked().trim().parse(), budget.get_untracked().trim().parse());
        match numbers {
            (Ok(lifetime_days), Ok(max_active_keys), Ok(requests_per_minute)) => {
                local_error.set(None);
                save.dispatch(KeyPolicy {
                    lifetime_days,
                    allow_non_expiring: never.get_untracked(),
                    max_active_keys,
                    requests_per_minute,
                    creators: creators.get_untracked(),
                    require_two_factor: require_two_factor.get_untracked(),
                });
            }
            _ => local_error.set(Some("Enter whole numbers".to_owned())),
        }
    };
    view! {
        <section class="card" aria-labelledby="policy-title">
            <h2 id="policy-title">"API key policy"</h2>
            <form on:submit=submit class="policy-form">
                <div class="field">
                    <label for="policy-lifetime">"Maximum key lifetime (days)"</label>
                    <input id="policy-lifetime" type="number" min="1" max="365" required
                        prop:value=move || lifetime.get() on:input=move |ev| lifetime.set(event_target_value(&ev))/>
                </div>
                <label class="check">
                    <input type="checkbox" prop:checked=move || never.get() on:change=move |ev| never.set(event_target_checked(&ev))/>
                    <span>"Allow keys that never expire"</span>
                </label>
                <div class="field">
                    <label for="policy-limit">"Active keys per user"</label>
                    <input id="policy-limit" type="number" min="1" max="100" required
                        prop:value=move || limit.get() on:input=move |ev| limit.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="policy-budget">"Requests per key and minute"</label>
                    <input id="policy-budget" type="number" min="10" max="1000000" required
                        prop:value=move || budget.get() on:input=move |ev| budget.set(event_target_value(&ev))/>
                </div>
                <div class="field">
                    <label for="policy-creators">"Who may create API keys"</label>
                    <select id="policy-creators" on:change=move |ev| {
                        if let Some(choice) = KeyCreators::parse(&event_target_value(&ev)) { creators.set(choice); }
                    }>
                        {KeyCreators::ALL.into_iter().map(|choice| view! {
                            <option value=choice.as_str() selected=move || creators.get() == choice>{choice.label()}</option>
                        }).collect_view()}
                    </select>
                </div>
                <label class="check">
                    <input type="checkbox" prop:checked=move || require_two_factor.get()
                        on:change=move |ev| require_two_factor.set(event_target_checked(&ev))/>
                    <span>"Require two-factor authentication to create API keys"</span>
                </label>
                <p class="muted">"Existing keys keep working until they expire or are revoked."</p>
                {move || {
                    let server = save.value().get().and_then(Result::err).map(|e| e.to_string());
                    local_error.get().or(server).map(|message| view! { <p class="form-error" role="alert">{message}</p> })
                }}
                {move || matches!(save.value().get(), Some(Ok(_))).then(|| view! { <p class="form-ok" role="status">"Policy saved."</p> })}
                <button type="submit" class="button teal" disabled=move || save.pending().get()>"Save policy"</button>
            </form>
        </section>
    }
}

/// The years a company may keep activity and disclosure records (the server refuses anything else).
const RETENTION_YEARS: std::ops::RangeInclusive<u32> = 1..=10;

/// "1 year", "6 years".
fn years_text(years: u32) -> String {
    if years == 1 {
        "1 year".to_owned()
    } else {
        format!("{years} years")
    }
}

#[component]
fn RetentionSummary(years: u32) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="retention-title">
            <h2 id="retention-title">"Record retention"</h2>
            <p>{format!("Activity and disclosure records are kept for {}; older ones are deleted daily.", years_text(years))}</p>
            <p class="muted">"Root Users can change this."</p>
        </section>
    }
}

#[component]
fn RetentionForm(years: u32) -> impl IntoView {
    let chosen = RwSignal::new(years);
    let save = Action::new(|years: &u32| update_record_retention(*years));
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        save.dispatch(chosen.get_untracked());
    };
    view! {
        <section class="card" aria-labelledby="retention-title">
            <h2 id="retention-title">"Record retention"</h2>
            <form on:submit=submit class="policy-form">
                <div class="field">
                    <label for="retention-years">"Keep activity and disclosure records for"</label>
                    <select id="retention-years" on:change=move |ev| {
                        if let Ok(years) = event_target_value(&ev).parse() { chosen.set(years); }
                    }>
                        {RETENTION_YEARS.map(|option| view! {
                            <option value=option.to_string() selected=move || chosen.get() == option>{years_text(option)}</option>
                        }).collect_view()}
                    </select>
                </div>
                <p class="muted">"Older records are deleted daily. Privacy rules for health data often ask for six years."</p>
                {move || save.value().get().map(|result| match result {
                    Ok(years) => view! { <p class="form-ok" role="status">{format!("Records are kept for {}.", years_text(years))}</p> }.into_any(),
                    Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
                <button type="submit" class="button teal" disabled=move || save.pending().get()>"Save retention"</button>
            </form>
        </section>
    }
}

#[component]
fn AccountSettings() -> impl IntoView {
    let change = ServerAction::<ChangePassword>::new();
    view! {
        <section class="card narrow" aria-labelledby="password-title">
            <h2 id="password-title">"Change password"</h2>
            <p class="muted">"Changing your password signs you out everywhere else."</p>
            <ActionForm action=change>
                <div class="field">
                    <label for="current-password">"Current password"</label>
                    <input id="current-password" name="current" type="password" autocomplete="current-password" required/>
                </div>
                <div class="field">
                    <label for="new-password">"New password"</label>
                    <input id="new-password" name="new" type="password" autocomplete="new-password" minlength="10" required/>
                </div>
                <div class="field">
                    <label for="confirm-password">"Repeat new password"</label>
                    <input id="confirm-password" name="confirm" type="password" autocomplete="new-password" minlength="10" required/>
                </div>
                {move || change.value().get().map(|result| match result {
                    Ok(()) => view! { <p class="form-ok" role="status">"Password changed."</p> }.into_any(),
                    Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
                })}
                <button type="submit" class="button teal" disabled=move || change.pending().get()>"Change password"</button>
            </ActionForm>
        </section>
        <TwoFactorCard/>
    }
}

/// Revokes every active key of a role or of one person of `people`, after a confirmation that says so.
#[component]
fn RevokeInBulk(people: Vec<PersonView>) -> impl IntoView {
    let people = StoredValue::new(people);
    let choice = RwSignal::new(String::from("role:caregiver"));
    let confirming = RwSignal::new(false);
    let revoke = Action::new(|of: &RevokeAllOf| revoke_all_keys(*of));
    let target = move || -> Option<RevokeAllOf> {
        let value = choice.get();
        let (kind, what) = value.split_once(':')?;
        match kind {
            "role" => Role::parse(what).map(RevokeAllOf::Role),
            _ => what.parse().ok().map(RevokeAllOf::Person),
        }
    };
    let describe = move || match target() {
        Some(RevokeAllOf::Role(role)) => format!("every active key of every {}", role.display_name()),
        Some(RevokeAllOf::Person(id)) => {
            let name = people.with_value(|people| people.iter().find(|p| p.id == id).map(|p| p.name.clone()));
            format!("every active key of {}", name.unwrap_or_else(|| "this person".to_owned()))
        }
        None => String::new(),
    };
    view! {
        <section class="card" aria-labelledby="bulk-title">
            <h2 id="bulk-title">"Revoke keys in bulk"</h2>
            <p class="muted">"Stops every active key of a role or of one person at once — for example when a caregiver leaves or a phone is lost."</p>
            <div class="field">
                <label for="bulk-target">"Whose keys"</label>
                <select id="bulk-target" on:change=move |ev| { choice.set(event_target_value(&ev)); confirming.set(false); }>
                    <optgroup label="By role">
                        {Role::ALL.into_iter().map(|role| {
                            let value = format!("role:{}", role.as_str());
                            let selected = value == "role:caregiver";
                            view! { <option value=value selected=selected>{format!("All {}s", role.display_name())}</option> }
                        }).collect_view()}
                    </optgroup>
                    <optgroup label="By person">
                        {people.get_value().into_iter().map(|person| view! {
                            <option value=format!("person:{}", person.id)>{person.name}</option>
                        }).collect_view()}
                    </optgroup>
                </select>
            </div>
            {move || revoke.value().get().map(|result| match result {
                Ok(count) => view! { <p class="form-ok" role="status">{format!("{count} key(s) revoked.")}</p> }.into_any(),
                Err(error) => view! { <p class="form-error" role="alert">{error.to_string()}</p> }.into_any(),
            })}
            {move || if confirming.get() {
                view! {
                    <p role="alert" class="form-error">{move || format!("Revoke {}? Each stops working on its next request. This cannot be undone.", describe())}</p>
                    <div class="dialog-actions">
                        <button type="button" class="button" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        <button type="button" class="button danger" disabled=move || revoke.pending().get() on:click=move |_| {
                            if let Some(of) = target() { revoke.dispatch(of); }
                            confirming.set(false);
                        }>"Revoke keys"</button>
                    </div>
                }.into_any()
            } else {
                view! { <button type="button" class="button danger" on:click=move |_| confirming.set(true)>"Revoke keys…"</button> }.into_any()
            }}
        </section>
    }
}
