//! A table of visits, used by the office's Visits page and the portal's My Visits page.
use leptos::prelude::*;

use crate::format::{day_and_time, time_range};
use crate::model::VisitView;

#[component]
pub fn VisitTable(visits: Vec<VisitView>, #[prop(optional)] show_caregiver: bool) -> impl IntoView {
    view! {
        <table class="table">
            <thead>
                <tr>
                    <th scope="col">"When"</th>
                    <th scope="col">"Patient"</th>
                    {show_caregiver.then(|| view! { <th scope="col">"Caregiver"</th> })}
                    <th scope="col">"Address"</th>
                    <th scope="col">"Status"</th>
                </tr>
            </thead>
            <tbody>
                {visits
                    .into_iter()
                    .map(|visit| {
                        view! {
                            <tr>
                                <td>
                                    {day_and_time(visit.starts_at)}
                                    <span class="muted">" (" {time_range(visit.starts_at, visit.ends_at)} ")"</span>
                                </td>
                                <td>{visit.patient_name}</td>
                                {show_caregiver.then(|| view! { <td>{visit.caregiver_name.clone()}</td> })}
                                <td>{visit.patient_address}</td>
                                <td><span class=format!("badge status-{}", visit.status.as_str())>{visit.status.label()}</span></td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}
