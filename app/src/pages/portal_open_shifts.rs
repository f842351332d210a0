//! `/portal/open-shifts`: the company's open shifts, earliest first — what the MCP tool `list_open_shifts` returns.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::care::list_open_shifts;
use crate::components::{ErrorNotice, Loading};
use crate::format::{day_and_time, time_range};

#[component]
pub fn PortalOpenShiftsPage() -> impl IntoView {
    let shifts = Resource::new(|| (), |_| list_open_shifts());
    view! {
        <Title text="Open Shifts"/>
        <header class="page-head"><h1>"Open Shifts"</h1></header>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match shifts.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"No open shifts."</p> }.into_any(),
                    Ok(rows) => view! {
                        <div class="card flush">
                            <table class="table">
                                <thead><tr><th scope="col">"When"</th><th scope="col">"Time"</th><th scope="col">"Patient"</th><th scope="col">"Notes"</th></tr></thead>
                                <tbody>
                                    {rows.into_iter().map(|shift| view! {
                                        <tr>
                                            <td>{day_and_time(shift.starts_at)}</td>
                                            <td>{time_range(shift.starts_at, shift.ends_at)}</td>
                                            <td>{shift.patient_name}</td>
                                            <td>{shift.notes}</td>
                                        </tr>
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
