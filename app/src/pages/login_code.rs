//! `/login/code`: the second sign-in step for people with two-factor on — a code from the authenticator app,
//! or a recovery code — then on to the page the visitor was going to.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::session::SubmitSignInCode;

#[component]
pub fn LoginCodePage() -> impl IntoView {
    let submit = ServerAction::<SubmitSignInCode>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = move || submit.value().get().and_then(Result::err).map(|err| err.to_string());
    view! {
        <Title text="Two-factor code"/>
        <main class="login-page">
            <section class="card login-card" aria-labelledby="code-title">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"cg"</span>
                    <span class="brand-name">"caregate"</span>
                </div>
                <h1 id="code-title">"Enter your code"</h1>
                <p class="muted">"Open your authenticator app and enter the 6-digit code for caregate. Lost your phone? Enter one of your recovery codes."</p>
                <ActionForm action=submit>
                    <input type="hidden" name="next" prop:value=next/>
                    <div class="field">
                        <label for="sign-in-code">"Code"</label>
                        <input id="sign-in-code" name="code" type="text" autocomplete="one-time-code" autofocus required/>
                    </div>
                    {move || error().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
                    <button type="submit" class="button primary wide" disabled=move || submit.pending().get()>
                        {move || if submit.pending().get() { "Checking…" } else { "Sign in" }}
                    </button>
                </ActionForm>
                <p class="muted small"><a href="/login">"Start again with your password"</a></p>
            </section>
        </main>
    }
}
