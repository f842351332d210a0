//! `/portal/visits`: the caregiver's own visits, earliest first.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::care::list_visits;
use crate::components::{ErrorNotice, Loading, VisitTable};

#[component]
pub fn PortalVisitsPage() -> impl IntoView {
    let visits = Resource::new(|| (), |_| list_visits());
    view! {
        <Title text="My Visits"/>
        <header class="page-head"><h1>"My Visits"</h1></header>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match visits.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"You have no visits."</p> }.into_any(),
                    Ok(rows) => view! { <div class="card flush"><VisitTable visits=rows/></div> }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
