//! `/patients`: the company's patients.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::care::list_patients;
use crate::components::{ErrorNotice, Loading};

#[component]
pub fn OfficePatientsPage() -> impl IntoView {
    let patients = Resource::new(|| (), |_| list_patients());
    view! {
        <Title text="Patients"/>
        <header class="page-head"><h1>"Patients"</h1></header>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match patients.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"No patients yet."</p> }.into_any(),
                    Ok(rows) => view! {
                        <div class="card flush">
                            <table class="table">
                                <thead>
                                    <tr>
                                        <th scope="col">"Name"</th>
                                        <th scope="col">"Address"</th>
                                        <th scope="col">"Phone"</th>
                                        <th scope="col">"Care notes"</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows.into_iter().map(|patient| view! {
                                        <tr>
                                            <td>{patient.name}</td>
                                            <td>{patient.address}</td>
                                            <td>{patient.phone}</td>
                                            <td>{patient.care_notes}</td>
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
