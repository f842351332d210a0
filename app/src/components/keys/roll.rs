//! The roll flow in one dialog: When should the old key stop? → Confirm it's you (when needed) → the new key
//! revealed with Quick Setup. The old key keeps working until the chosen time, so clients can be moved over.
use leptos::prelude::*;

use super::reauth::ReauthStep;
use super::reveal::RevealStep;
use super::table::shown_name;
use crate::api::keys::{get_key_setup, roll_key};
use crate::components::modal::Modal;
use crate::components::{ErrorNotice, Loading};
use crate::error::AppError;
use crate::format::short_date;
use crate::model::{ApiKeyView, MintedKey, RollOverlap};

#[derive(Clone)]
enum Step {
    Choose,
    Reauth,
    /// Boxed: the reveal carries the key and its token, far larger than the other steps.
    Reveal(Box<MintedKey>),
}

impl Step {
    fn number(&self) -> u8 {
        match self {
            Step::Choose => 1,
            Step::Reauth => 2,
            Step::Reveal(_) => 3,
        }
    }
}

#[component]
pub fn RollFlow(key: ApiKeyView, on_close: Callback<()>, on_rolled: Callback<()>) -> impl IntoView {
    let setup = Resource::new(|| (), |_| get_key_setup());
    let step = RwSignal::new(Step::Choose);
    let overlap = RwSignal::new(RollOverlap::OneDay);
    let copied = RwSignal::new(false);
    let confirm_leave = RwSignal::new(false);
    let content_key = Signal::derive(move || step.with(Step::number) * 2 + u8::from(confirm_leave.get()));
    let key_id = key.key_id.clone();
    let roll = Action::new(move |overlap: &RollOverlap| roll_key(key_id.clone(), *overlap));
    Effect::new(move |_| match roll.value().get() {
        Some(Ok(minted)) => {
            on_rolled.run(());
            step.set(Step::Reveal(Box::new(minted)));
        }
        Some(Err(AppError::Unauthorized(_))) => step.set(Step::Reauth),
        _ => {}
    });
    let on_escape = Callback::new(move |_: ()| {
        if matches!(step.get_untracked(), Step::Reveal(_)) && !copied.get_untracked() {
            confirm_leave.set(true);
        } else {
            on_close.run(());
        }
    });
    let key = StoredValue::new(key);
    view! {
        <Modal labelled_by="roll-title" on_escape content_key wide=true>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match setup.await {
                        Ok(setup) => {
                            let setup = StoredValue::new(setup);
                            (move || match step.get() {
                                Step::Choose => view! { <ChooseStep key=key.get_value() overlap roll on_close/> }.into_any(),
                                Step::Reauth => view! {
                                    <ReauthStep two_factor=setup.get_value().two_factor title_id="roll-title" purpose="to roll this API key"
                                        on_confirmed=Callback::new(move |_| {
                                            step.set(Step::Choose);
                                            roll.dispatch(overlap.get_untracked());
                                        }) on_cancel=on_close/>
                                }.into_any(),
                                Step::Reveal(minted) => view! {
                                    <RevealStep minted=*minted mcp_url=setup.get_value().mcp_url title_id="roll-title" copied confirm_leave on_done=on_close/>
                                }.into_any(),
                            }).into_any()
                        }
                        Err(error) => view! {
                            <h2 id="roll-title">"Roll API Key"</h2>
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
fn ChooseStep(
    key: ApiKeyView,
    overlap: RwSignal<RollOverlap>,
    roll: Action<RollOverlap, Result<MintedKey, AppError>>,
    on_close: Callback<()>,
) -> impl IntoView {
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        roll.dispatch(overlap.get_untracked());
    };
    let error = move || match roll.value().get() {
        Some(Err(AppError::Unauthorized(_))) | Some(Ok(_)) | None => None,
        Some(Err(error)) => Some(view! { <p class="form-error" role="alert">{error.to_string()}</p> }),
    };
    let expiry_note = key.expires_at.map(|at| format!(" It never works past its own expiry ({}).", short_date(at)));
    view! {
        <h2 id="roll-title">"Roll API Key"</h2>
        <p>
            "A new key replaces " <strong>{shown_name(&key).to_owned()}</strong> " (" <span class="mono">{key.key_id.clone()}</span>
            "), with the same label, scopes and allowed IP addresses. Both work until the old one stops, so you can move your clients over."
            {expiry_note}
        </p>
        <form on:submit=submit>
            <fieldset class="field scopes">
                <legend>"When should the old key stop?"</legend>
                {RollOverlap::ALL.into_iter().map(|choice| view! {
                    <label class="check">
                        <input type="radio" name="roll-overlap" value=choice.as_str()
                            prop:checked=move || overlap.get() == choice on:change=move |_| overlap.set(choice)/>
                        {choice.label()}
                    </label>
                }).collect_view()}
            </fieldset>
            {error}
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                <button type="submit" class="button teal" data-autofocus disabled=move || roll.pending().get() aria-busy=move || roll.pending().get().to_string()>
                    {move || roll.pending().get().then(|| view! { <span class="spinner" aria-hidden="true"></span> })}
                    {move || if roll.pending().get() { "Rolling…" } else { "Roll Key" }}
                </button>
            </div>
        </form>
    }
}
