//! `/visits`: every visit of the company, earliest first.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::care::list_visits;
use crate::components::{ErrorNotice, Loading, VisitTable};

#[component]
pub fn OfficeVisitsPage() -> impl IntoView {
    let visits = Resource::new(|| (), |_| list_visits());
    view! {
        <Title text="Visits"/>
        <header class="page-head"><h1>"Visits"</h1><p class="muted">"All caregivers, this week and next."</p></header>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match visits.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"No visits scheduled."</p> }.into_any(),
                    Ok(rows) => view! { <div class="card flush"><VisitTable visits=rows show_caregiver=true/></div> }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
