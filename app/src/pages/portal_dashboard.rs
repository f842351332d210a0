//! `/portal`: the caregiver's dashboard — who is signed in, the agency, and the next visit.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::care::list_schedule;
use crate::components::{use_current_user, ErrorNotice, ExpiryBanner, Loading};
use crate::format::{day_and_time, time_range};
use crate::model::VisitStatus;

#[component]
pub fn PortalDashboardPage() -> impl IntoView {
    let me = use_current_user();
    let schedule = Resource::new(|| (), |_| list_schedule());
    view! {
        <Title text="Dashboard"/>
        <ExpiryBanner keys_href="/portal/settings"/>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match me.await {
                    Ok(user) => view! {
                        <header class="page-head">
                            <h1>"Hello, " {user.name.clone()}</h1>
                            <p class="muted">{user.company_name.clone()} " · " {user.role.display_name()}</p>
                        </header>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
        <section class="card" aria-labelledby="next-visit">
            <h2 id="next-visit">"Next visit"</h2>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match schedule.await {
                        Ok(rows) => match rows.into_iter().find(|visit| visit.status == VisitStatus::Scheduled) {
                            Some(visit) => view! {
                                <p class="lead">{visit.patient_name}</p>
                                <p>{day_and_time(visit.starts_at)} " (" {time_range(visit.starts_at, visit.ends_at)} ")"</p>
                                <p class="muted">{visit.patient_address}</p>
                                <a href="/portal/schedule">"See my week"</a>
                            }.into_any(),
                            None => view! { <p class="empty">"Nothing scheduled in the next seven days."</p> }.into_any(),
                        },
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Suspense>
        </section>
    }
}
