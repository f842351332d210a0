//! `/portal/schedule`: the caregiver's next seven days, grouped by day.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::care::list_schedule;
use crate::components::{ErrorNotice, Loading};
use crate::format::{long_day, time_range};
use crate::model::VisitView;

/// Groups visits (already sorted by start) into days.
fn by_day(visits: Vec<VisitView>) -> Vec<(String, Vec<VisitView>)> {
    let mut days: Vec<(String, Vec<VisitView>)> = Vec::new();
    for visit in visits {
        let day = long_day(visit.starts_at);
        match days.last_mut() {
            Some((last, list)) if *last == day => list.push(visit),
            _ => days.push((day, vec![visit])),
        }
    }
    days
}

#[component]
pub fn PortalSchedulePage() -> impl IntoView {
    let schedule = Resource::new(|| (), |_| list_schedule());
    view! {
        <Title text="My Schedule"/>
        <header class="page-head"><h1>"My Schedule"</h1><p class="muted">"Today and the next six days (times in UTC)."</p></header>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match schedule.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"Nothing scheduled in the next seven days."</p> }.into_any(),
                    Ok(rows) => by_day(rows).into_iter().map(|(day, visits)| view! {
                        <section class="card day" aria-label=day.clone()>
                            <h2>{day.clone()}</h2>
                            <ul class="agenda">
                                {visits.into_iter().map(|visit| view! {
                                    <li>
                                        <span class="agenda-time">{time_range(visit.starts_at, visit.ends_at)}</span>
                                        <span class="agenda-what">{visit.patient_name}</span>
                                        <span class="muted">{visit.patient_address}</span>
                                    </li>
                                }).collect_view()}
                            </ul>
                        </section>
                    }).collect_view().into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
