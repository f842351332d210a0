//! The two-factor card of the account settings (office Account tab, caregiver Settings): set up with a QR
//! code or the seed typed by hand and a first code, recovery codes shown once, new recovery codes, and turning
//! it off with password and code.
use leptos::prelude::*;

use crate::api::account::{begin_two_factor_setup, confirm_two_factor_setup, disable_two_factor, get_two_factor_status, renew_recovery_codes};
use crate::components::{ErrorNotice, Loading};
use crate::model::{TwoFactorSetup, TwoFactorStatus};

/// What the card shows besides the status.
#[derive(Clone)]
enum Stage {
    Status,
    SettingUp(TwoFactorSetup),
    Codes(Vec<String>),
}

#[component]
pub fn TwoFactorCard() -> impl IntoView {
    let status = Resource::new(|| (), |_| get_two_factor_status());
    let stage = RwSignal::new(Stage::Status);
    let begin = Action::new(|_: &()| begin_two_factor_setup());
    Effect::new(move |_| {
        if let Some(Ok(setup)) = begin.value().get() {
            stage.set(Stage::SettingUp(setup));
        }
    });
    let show_codes = Callback::new(move |codes: Vec<String>| {
        status.refetch();
        stage.set(Stage::Codes(codes));
    });
    view! {
        <section class="card narrow" aria-labelledby="two-factor-title">
            <h2 id="two-factor-title">"Two-factor authentication"</h2>
            {move || match stage.get() {
                Stage::SettingUp(setup) => view! { <SetUp setup on_done=show_codes on_cancel=Callback::new(move |_| stage.set(Stage::Status))/> }.into_any(),
                Stage::Codes(codes) => view! { <ShowCodes codes on_done=Callback::new(move |_| stage.set(Stage::Status))/> }.into_any(),
                Stage::Status => view! {
                    <Suspense fallback=Loading>
                        {move || Suspend::new(async move {
                            match status.await {
                                Ok(TwoFactorStatus { enabled: false, .. }) => view! {
                                    <p class="muted">"Off. With two-factor on, signing in and creating API keys also ask for a code from an authenticator app on your phone."</p>
                                    {move || begin.value().get().and_then(Result::err).map(|error| view! { <ErrorNotice error/> })}
                                    <button type="button" class="button teal" disabled=move || begin.pending().get() on:click=move |_| { begin.dispatch(()); }>
                                        "Set up two-factor"
                                    </button>
                                }.into_any(),
                                Ok(TwoFactorStatus { recovery_codes_left, .. }) => view! {
                                    <p><span class="badge status-active">"On"</span> " " {format!("{recovery_codes_left} recovery code(s) left.")}</p>
                                    <RenewCodes on_done=show_codes/>
                                    <TurnOff on_done=Callback::new(move |_| status.refetch())/>
                                }.into_any(),
                                Err(error) => view! { <ErrorNotice error/> }.into_any(),
                            }
                        })}
                    </Suspense>
                }.into_any(),
            }}
        </section>
    }
}

/// The seed as a QR code and as text, and the first code that turns two-factor on.
#[component]
fn SetUp(setup: TwoFactorSetup, on_done: Callback<Vec<String>>, on_cancel: Callback<()>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let confirm = Action::new(|(password, code): &(String, String)| confirm_two_factor_setup(password.clone(), code.clone()));
    Effect::new(move |_| {
        if let Some(Ok(codes)) = confirm.value().get() {
            on_done.run(codes.codes.iter().map(|code| code.expose().to_owned()).collect());
        }
    });
    let secret = setup.secret.expose().to_owned();
    let grouped: String = secret.as_bytes().chunks(4).map(|chunk| String::from_utf8_lossy(chunk).into_owned()).collect::<Vec<_>>().join(" ");
    view! {
        <ol class="steps">
            <li>"Scan this QR code with an authenticator app (Google Authenticator, Microsoft Authenticator, 1Password…)."</li>
        </ol>
        <div class="qr" role="img" aria-label="QR code to add caregate to an authenticator app" inner_html=setup.qr_svg></div>
        <p class="muted">"Or type this key into the app:"</p>
        <p><code class="mono secret" data-testid="two-factor-secret">{grouped}</code></p>
        <form on:submit=move |ev| { ev.prevent_default(); confirm.dispatch((password.get_untracked(), code.get_untracked())); }>
            <div class="field">
                <label for="two-factor-password">"Your password"</label>
                <input id="two-factor-password" type="password" autocomplete="current-password" required
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="two-factor-first-code">"Enter the 6-digit code the app shows"</label>
                <input id="two-factor-first-code" type="text" inputmode="numeric" autocomplete="one-time-code" required
                    prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
            </div>
            {move || confirm.value().get().and_then(Result::err).map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| on_cancel.run(())>"Cancel"</button>
                <button type="submit" class="button teal" disabled=move || confirm.pending().get()>"Turn on two-factor"</button>
            </div>
        </form>
    }
}

/// Recovery codes, shown this once.
#[component]
fn ShowCodes(codes: Vec<String>, on_done: Callback<()>) -> impl IntoView {
    view! {
        <p class="form-ok" role="status">"Two-factor is on, and you were signed out everywhere else. Save these recovery codes now: they will not be shown again."</p>
        <p class="muted">"If you lose your phone, each code signs you in once instead of a code from the app."</p>
        <ol class="recovery-codes mono" aria-label="Recovery codes">
            {codes.into_iter().map(|code| view! { <li>{code}</li> }).collect_view()}
        </ol>
        <button type="button" class="button teal" on:click=move |_| on_done.run(())>"I have saved them"</button>
    }
}

/// New recovery codes for a current code from the app.
#[component]
fn RenewCodes(on_done: Callback<Vec<String>>) -> impl IntoView {
    let code = RwSignal::new(String::new());
    let renew = Action::new(|code: &String| renew_recovery_codes(code.clone()));
    Effect::new(move |_| {
        if let Some(Ok(codes)) = renew.value().get() {
            on_done.run(codes.codes.iter().map(|code| code.expose().to_owned()).collect());
        }
    });
    view! {
        <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); renew.dispatch(code.get_untracked()); }>
            <h3>"New recovery codes"</h3>
            <div class="field">
                <label for="renew-code">"Code from the app"</label>
                <input id="renew-code" type="text" inputmode="numeric" autocomplete="one-time-code" required
                    prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
            </div>
            {move || renew.value().get().and_then(Result::err).map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
            <button type="submit" class="button" disabled=move || renew.pending().get()>"Replace recovery codes"</button>
        </form>
    }
}

/// Turning two-factor off: the password and a code (or a recovery code).
#[component]
fn TurnOff(on_done: Callback<()>) -> impl IntoView {
    let password = RwSignal::new(String::new());
    let code = RwSignal::new(String::new());
    let turn_off = Action::new(|(password, code): &(String, String)| disable_two_factor(password.clone(), code.clone()));
    Effect::new(move |_| {
        if let Some(Ok(())) = turn_off.value().get() {
            on_done.run(());
        }
    });
    view! {
        <form class="inline-form" on:submit=move |ev| { ev.prevent_default(); turn_off.dispatch((password.get_untracked(), code.get_untracked())); }>
            <h3>"Turn off two-factor"</h3>
            <div class="field">
                <label for="off-password">"Password"</label>
                <input id="off-password" type="password" autocomplete="current-password" required
                    prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev))/>
            </div>
            <div class="field">
                <label for="off-code">"Code from the app, or a recovery code"</label>
                <input id="off-code" type="text" autocomplete="one-time-code" required
                    prop:value=move || code.get() on:input=move |ev| code.set(event_target_value(&ev))/>
            </div>
            {move || turn_off.value().get().and_then(Result::err).map(|error| view! { <p class="form-error" role="alert">{error.to_string()}</p> })}
            <button type="submit" class="button danger" disabled=move || turn_off.pending().get()>"Turn off two-factor"</button>
        </form>
    }
}
