//! `/patients`: the company's patients, and for Root Users each patient's accounting of disclosures (which AI
//! client read the patient's records, through whose key or connected app, and when), with its CSV export.
use chrono::{DateTime, NaiveDate, Utc};
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::care::list_patients;
use crate::api::disclosures::list_disclosures;
use crate::components::{use_current_user, ErrorNotice, Loading, Modal, Pager};
use crate::format::short_date;
use crate::model::{DisclosureFilter, DisclosureView, Role};

/// Disclosures shown per page of the panel: a screenful of rows; the CSV export has them all.
const DISCLOSURES_PER_PAGE: u32 = 20;

/// The patient whose Disclosures panel is open.
#[derive(Clone, PartialEq, Eq)]
struct OpenPatient {
    id: i32,
    name: String,
}

#[component]
pub fn OfficePatientsPage() -> impl IntoView {
    let me = use_current_user();
    let patients = Resource::new(|| (), |_| list_patients());
    let open = RwSignal::new(None::<OpenPatient>);
    view! {
        <Title text="Patients"/>
        <header class="page-head"><h1>"Patients"</h1></header>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                // Only Root Users may read a patient's disclosures on this page; nobody else gets a button that
                // would answer "not allowed".
                let root = matches!(me.await, Ok(user) if user.role == Role::Root);
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
                                        {root.then(|| view! { <th scope="col"><span class="visually-hidden">"Actions"</span></th> })}
                                    </tr>
                                </thead>
                                <tbody>
                                    {rows.into_iter().map(|patient| {
                                        let chosen = OpenPatient { id: patient.id, name: patient.name.clone() };
                                        view! {
                                            <tr>
                                                <td>{patient.name.clone()}</td>
                                                <td>{patient.address}</td>
                                                <td>{patient.phone}</td>
                                                <td>{patient.care_notes}</td>
                                                {root.then(|| view! {
                                                    <td class="actions">
                                                        <button type="button" class="button small" on:click=move |_| open.set(Some(chosen.clone()))>
                                                            "Disclosures"<span class="visually-hidden">" for " {patient.name}</span>
                                                        </button>
                                                    </td>
                                                })}
                                            </tr>
                                        }
                                    }).collect_view()}
                                </tbody>
                            </table>
                        </div>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
        {move || open.get().map(|patient| view! {
            <DisclosuresDialog patient_id=patient.id patient_name=patient.name on_close=Callback::new(move |()| open.set(None))/>
        })}
    }
}

/// A date input's value (`YYYY-MM-DD`), or `None` when it is empty or not a date.
fn parse_day(value: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(value.trim(), "%Y-%m-%d").ok()
}

/// The CSV export's address for one patient and the chosen range (the server defaults an open end).
fn csv_href(patient_id: i32, from: Option<NaiveDate>, to: Option<NaiveDate>) -> String {
    let mut href = format!("/api/disclosures.csv?patient_id={patient_id}");
    if let Some(from) = from {
        href.push_str(&format!("&from={}", from.format("%Y-%m-%d")));
    }
    if let Some(to) = to {
        href.push_str(&format!("&to={}", to.format("%Y-%m-%d")));
    }
    href
}

/// `Nov 23, 2026 · 09:00`: disclosures span years, so the date carries its year.
fn when(at: DateTime<Utc>) -> String {
    format!("{} · {}", short_date(at), at.format("%H:%M"))
}

/// "21–40": the rows a page of `per_page` shows.
fn range(page: u32, per_page: u32, shown: usize) -> String {
    let first = u64::from(page.saturating_sub(1)) * u64::from(per_page) + 1;
    format!("{first}–{}", first + shown as u64 - 1)
}

/// "1–20 of 57" for a page of `per_page` rows out of `total`.
fn range_summary(page: u32, per_page: u32, shown: usize, total: u64) -> String {
    format!("{} of {total}", range(page, per_page, shown))
}

/// How many pages `total` rows fill.
fn page_count(total: u64, per_page: u32) -> u64 {
    total.div_ceil(u64::from(per_page.max(1))).max(1)
}

#[component]
fn DisclosuresDialog(patient_id: i32, patient_name: String, on_close: Callback<()>) -> impl IntoView {
    let filter =
        RwSignal::new(DisclosureFilter { patient_id: Some(patient_id), key_id: None, from: None, to: None, page: 1, per_page: DISCLOSURES_PER_PAGE });
    let disclosures = Resource::new(move || filter.get(), list_disclosures);
    let set_from = move |day: Option<NaiveDate>| filter.update(|f| (f.from, f.page) = (day, 1));
    let set_to = move |day: Option<NaiveDate>| filter.update(|f| (f.to, f.page) = (day, 1));
    let href = move || filter.with(|f| csv_href(patient_id, f.from, f.to));
    view! {
        <Modal labelled_by="disclosures-title" on_escape=on_close wide=true>
            <h2 id="disclosures-title">"Disclosures for " {patient_name.clone()}</h2>
            <p class="muted">"Each time an AI client received this patient's records through an API key or a connected app, newest first."</p>
            <div class="filters disclosure-range" role="group" aria-label="Date range">
                <div class="field">
                    <label for="disclosures-from">"From"</label>
                    <input id="disclosures-from" type="date" on:change=move |ev| set_from(parse_day(&event_target_value(&ev)))/>
                </div>
                <div class="field">
                    <label for="disclosures-to">"To"</label>
                    <input id="disclosures-to" type="date" on:change=move |ev| set_to(parse_day(&event_target_value(&ev)))/>
                </div>
                <a class="button small export" href=href download="">"Export CSV"</a>
            </div>
            <Transition fallback=Loading>
                {move || Suspend::new(async move {
                    match disclosures.await {
                        Ok(page) if page.rows.is_empty() && page.page > 1 => view! {
                            <p class="empty">"No older disclosures."</p>
                            <button type="button" class="button small" on:click=move |_| filter.update(|f| f.page = f.page.saturating_sub(1).max(1))>"Newer"</button>
                        }.into_any(),
                        Ok(page) if page.rows.is_empty() => view! {
                            <p class="empty">"No disclosures recorded in this range."</p>
                        }.into_any(),
                        Ok(page) => {
                            let pages = page_count(page.total, page.per_page);
                            // Past the count's cap the totals read "10000+" and "Older" stays on while pages are full.
                            let capped = if page.total_capped { "+" } else { "" };
                            let past_the_count = u64::from(page.page) > pages;
                            let summary = if past_the_count {
                                range(page.page, page.per_page, page.rows.len())
                            } else {
                                format!("{}{capped}", range_summary(page.page, page.per_page, page.rows.len(), page.total))
                            };
                            let position = if past_the_count { format!("Page {}", page.page) } else { format!("Page {} of {pages}{capped}", page.page) };
                            let can_go_forward = u64::from(page.page) < pages || (page.total_capped && page.rows.len() >= page.per_page as usize);
                            view! {
                                <div class="table-wrap">
                                    <table class="table disclosures-table">
                                        <thead><tr>
                                            <th scope="col">"Date"</th><th scope="col">"Who"</th><th scope="col">"Through"</th>
                                            <th scope="col">"Client"</th><th scope="col">"Tool"</th>
                                        </tr></thead>
                                        <tbody>{page.rows.into_iter().map(|row| view! { <DisclosureRow row/> }).collect_view()}</tbody>
                                    </table>
                                </div>
                                <Pager
                                    label="Pages of disclosures"
                                    summary=summary
                                    position=position
                                    back_text="Newer"
                                    forward_text="Older"
                                    can_go_back={page.page > 1}
                                    can_go_forward=can_go_forward
                                    on_back=Callback::new(move |_| filter.update(|f| f.page = f.page.saturating_sub(1).max(1)))
                                    on_forward=Callback::new(move |_| filter.update(|f| f.page += 1))
                                />
                            }.into_any()
                        }
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Transition>
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Close"</button>
            </div>
        </Modal>
    }
}

#[component]
fn DisclosureRow(row: DisclosureView) -> impl IntoView {
    // The client's own words (MCP client name or User-Agent): quoted with its own quotes escaped, so it cannot
    // end early and read as ours.
    let client = row.client.map(|client| serde_json::to_string(&client).unwrap_or_default()).unwrap_or_else(|| "unknown".to_owned());
    view! {
        <tr>
            <td class="nowrap">{when(row.at)}</td>
            <td>{row.owner_name}</td>
            <td class="label-cell">
                {match row.connection {
                    Some(app) => view! {
                        {app.client_name} " " <span class="badge connected-app">"Connected app"</span>
                        <span class="muted small-block">{app.origin.describe()}</span>
                    }.into_any(),
                    None => view! { {row.key_label} }.into_any(),
                }}
                <span class="muted small-block mono">"Key ID " {row.key_id}</span>
            </td>
            <td class="client-cell">{client}</td>
            <td class="mono">{row.tool}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_export_link_carries_the_chosen_range_and_leaves_an_open_end_to_the_server() {
        let day = |d: u32| NaiveDate::from_ymd_opt(2026, 11, d);
        assert_eq!(csv_href(7, None, None), "/api/disclosures.csv?patient_id=7");
        assert_eq!(csv_href(7, day(1), day(30)), "/api/disclosures.csv?patient_id=7&from=2026-11-01&to=2026-11-30");
        assert_eq!(csv_href(7, None, day(30)), "/api/disclosures.csv?patient_id=7&to=2026-11-30");
    }

    #[test]
    fn an_empty_or_malformed_date_input_means_no_bound() {
        assert_eq!(parse_day(""), None);
        assert_eq!(parse_day("2026-13-01"), None);
        assert_eq!(parse_day("2026-12-03"), NaiveDate::from_ymd_opt(2026, 12, 3));
    }

    #[test]
    fn the_pager_counts_pages_and_rows_as_people_read_them() {
        assert_eq!(page_count(0, 20), 1);
        assert_eq!(page_count(40, 20), 2);
        assert_eq!(page_count(41, 20), 3);
        assert_eq!(range_summary(1, 20, 20, 57), "1–20 of 57");
        assert_eq!(range_summary(3, 20, 17, 57), "41–57 of 57");
    }
}
