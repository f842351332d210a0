//! `/portal/profile`: the caregiver's profile — name, email, role and company, what the MCP tool `get_profile`
//! returns (read-only; the layout's signed-in user, from `session/me`).
use leptos::prelude::*;
use leptos_meta::Title;

use crate::components::{use_current_user, ErrorNotice, Loading};

#[component]
pub fn PortalProfilePage() -> impl IntoView {
    let me = use_current_user();
    view! {
        <Title text="My Profile"/>
        <header class="page-head"><h1>"My Profile"</h1></header>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(user) => view! {
                        <section class="card" aria-label="Profile">
                            <dl class="facts">
                                <dt>"Name"</dt><dd>{user.name}</dd>
                                <dt>"Email"</dt><dd>{user.email}</dd>
                                <dt>"Role"</dt><dd>{user.role.display_name()}</dd>
                                <dt>"Company"</dt><dd>{user.company_name}</dd>
                                <dt>"Account number"</dt><dd>{user.company_account.to_string()}</dd>
                            </dl>
                        </section>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
