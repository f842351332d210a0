//! `/`: the office dashboard — who is signed in, the company, and where to go next.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{use_current_user, ErrorNotice, ExpiryBanner, Loading};

#[component]
pub fn OfficeDashboardPage() -> impl IntoView {
    let me = use_current_user();
    view! {
        <Title text="Dashboard"/>
        <ExpiryBanner keys_href="/settings?tab=api-keys"/>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(user) => view! {
                        <header class="page-head">
                            <h1>"Welcome, " {user.name.clone()}</h1>
                            <p class="muted">{user.company_name.clone()}</p>
                        </header>
                        <div class="cards">
                            <section class="card" aria-labelledby="signed-in-as">
                                <h2 id="signed-in-as">"Signed in as"</h2>
                                <dl class="facts">
                                    <dt>"Name"</dt><dd>{user.name.clone()}</dd>
                                    <dt>"Email"</dt><dd>{user.email.clone()}</dd>
                                    <dt>"Role"</dt><dd>{user.role.display_name()}</dd>
                                </dl>
                            </section>
                            <section class="card" aria-labelledby="company">
                                <h2 id="company">"Company"</h2>
                                <dl class="facts">
                                    <dt>"Name"</dt><dd>{user.company_name.clone()}</dd>
                                    <dt>"Account number"</dt><dd class="mono">{user.company_account}</dd>
                                </dl>
                            </section>
                            <section class="card" aria-labelledby="shortcuts">
                                <h2 id="shortcuts">"Go to"</h2>
                                <ul class="links">
                                    <li><a href="/visits">"All visits"</a></li>
                                    <li><a href="/patients">"Patients"</a></li>
                                </ul>
                            </section>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
