//! `/login`: email and password, then on to the page the visitor was going to.
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use crate::api::session::Login;

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let error = move || login.value().get().and_then(Result::err).map(|err| err.to_string());
    view! {
        <Title text="Sign in"/>
        <main class="login-page">
            <section class="card login-card" aria-labelledby="login-title">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"cg"</span>
                    <span class="brand-name">"caregate"</span>
                </div>
                <h1 id="login-title">"Sign in"</h1>
                <p class="muted">"Use the email and password of your care agency account."</p>
                <ActionForm action=login>
                    <input type="hidden" name="next" prop:value=next/>
                    <div class="field">
                        <label for="email">"Email"</label>
                        <input id="email" name="email" type="email" autocomplete="username" required/>
                    </div>
                    <div class="field">
                        <label for="password">"Password"</label>
                        <input id="password" name="password" type="password" autocomplete="current-password" required/>
                    </div>
                    {move || error().map(|message| view! { <p class="form-error" role="alert">{message}</p> })}
                    <button type="submit" class="button primary wide" disabled=move || login.pending().get()>
                        {move || if login.pending().get() { "Signing in…" } else { "Sign in" }}
                    </button>
                </ActionForm>
            </section>
        </main>
    }
}
