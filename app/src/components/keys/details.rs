//! A key's details panel, opened from its row: requests per day over the last 30 days (a bar chart drawn as
//! inline SVG), the last addresses and clients it was used from, its tool calls by tool, the patients whose
//! records it read, and its settings.
use leptos::prelude::*;

use crate::api::usage::get_key_usage;
use crate::components::{ErrorNotice, Loading, Modal};
use crate::format::{day_and_time, short_date};
use crate::model::{KeyUsage, UsageDay};

/// The chart's drawing size, in SVG units (it scales to the panel's width).
const CHART_WIDTH: u64 = 300;
const CHART_HEIGHT: u64 = 80;

/// Each day's bar as (x, height), scaled so the busiest day fills the height.
fn bars(days: &[UsageDay]) -> Vec<(u64, u64)> {
    let busiest = days.iter().map(|day| day.requests).max().unwrap_or(0).max(1);
    let step = CHART_WIDTH / (days.len() as u64).max(1);
    days.iter().enumerate().map(|(i, day)| (i as u64 * step, day.requests * CHART_HEIGHT / busiest)).collect()
}

#[component]
pub fn KeyDetails(key_id: String, title: String, on_close: Callback<()>) -> impl IntoView {
    let usage = Resource::new(move || key_id.clone(), get_key_usage);
    view! {
        <Modal labelled_by="key-details-title" on_escape=on_close wide=true>
            <h2 id="key-details-title">"Details of " {title}</h2>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match usage.await {
                        Ok(usage) => view! { <UsageView usage/> }.into_any(),
                        Err(error) => view! { <ErrorNotice error/> }.into_any(),
                    }
                })}
            </Suspense>
            <div class="dialog-actions">
                <button type="button" class="button" on:click=move |_| on_close.run(())>"Close"</button>
            </div>
        </Modal>
    }
}

#[component]
fn UsageView(usage: KeyUsage) -> impl IntoView {
    let total: u64 = usage.days.iter().map(|day| day.requests).sum();
    let step = CHART_WIDTH / (usage.days.len() as u64).max(1);
    let chart_label = format!("Requests per day over the last 30 days: {total} in all");
    let key = usage.key;
    let scopes = key.scopes.iter().map(|scope| scope.as_str()).collect::<Vec<_>>().join(", ");
    view! {
        <section aria-labelledby="usage-chart-title">
            <h3 id="usage-chart-title">"Requests per day"</h3>
            <svg class="usage-chart" role="img" aria-label=chart_label viewBox=format!("0 0 {CHART_WIDTH} {CHART_HEIGHT}") preserveAspectRatio="none">
                {bars(&usage.days).into_iter().zip(usage.days.iter()).map(|((x, height), day)| view! {
                    <rect x=x.to_string() y=(CHART_HEIGHT - height).to_string() width=(step.saturating_sub(2)).to_string() height=height.to_string()>
                        <title>{format!("{}: {}", day.day.format("%b %-d"), day.requests)}</title>
                    </rect>
                }).collect_view()}
            </svg>
            <p class="muted">{total} " requests in the last 30 days"</p>
        </section>
        <section aria-labelledby="usage-sources-title">
            <h3 id="usage-sources-title">"Last seen from"</h3>
            {if usage.sources.is_empty() {
                view! { <p class="empty">"Not used yet."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <thead><tr><th scope="col">"Address"</th><th scope="col">"Client"</th><th scope="col">"Last seen"</th></tr></thead>
                        <tbody>
                            {usage.sources.into_iter().map(|source| view! {
                                <tr>
                                    <td class="mono">{source.ip.unwrap_or_else(|| "unknown".to_owned())}</td>
                                    <td>{source.client.map(|client| format!("\u{201c}{client}\u{201d}")).unwrap_or_else(|| "unknown".to_owned())}</td>
                                    <td>{day_and_time(source.last_seen_at)}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="usage-tools-title">
            <h3 id="usage-tools-title">"Tool calls"</h3>
            {if usage.tools.is_empty() {
                view! { <p class="empty">"No tool calls yet."</p> }.into_any()
            } else {
                view! {
                    <table class="table">
                        <thead><tr><th scope="col">"Tool"</th><th scope="col">"Calls"</th></tr></thead>
                        <tbody>
                            {usage.tools.into_iter().map(|tool| view! { <tr><td class="mono">{tool.tool}</td><td>{tool.calls}</td></tr> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
        </section>
        <section aria-labelledby="usage-patients-title">
            <h3 id="usage-patients-title">"Patient records"</h3>
            <p>"Patients read (30 days): " {usage.patients_read}</p>
            {(!usage.top_patients.is_empty()).then(|| view! {
                <table class="table">
                    <caption class="visually-hidden">"Most-read patients over the last 30 days"</caption>
                    <thead><tr><th scope="col">"Patient"</th><th scope="col">"Reads"</th></tr></thead>
                    <tbody>
                        {usage.top_patients.into_iter().map(|patient| view! { <tr><td>{patient.patient_name}</td><td>{patient.reads}</td></tr> }).collect_view()}
                    </tbody>
                </table>
            })}
        </section>
        <section aria-labelledby="usage-settings-title">
            <h3 id="usage-settings-title">"Settings"</h3>
            <dl class="facts">
                <dt>"Label"</dt><dd>{key.label}</dd>
                <dt>"Key ID"</dt><dd class="mono">{key.key_id}</dd>
                <dt>"Scopes"</dt><dd>{scopes}</dd>
                <dt>"Expires"</dt><dd>{key.expires_at.map(short_date).unwrap_or_else(|| "Never".to_owned())}</dd>
                <dt>"Status"</dt><dd>{key.status.as_str()}</dd>
            </dl>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    #[test]
    fn the_busiest_day_fills_the_chart_and_an_idle_day_has_no_bar() {
        let day = |n: u32, requests: u64| UsageDay { day: NaiveDate::from_ymd_opt(2026, 12, n).unwrap(), requests };
        let drawn = bars(&[day(1, 0), day(2, 5), day(3, 10)]);
        assert_eq!(drawn, vec![(0, 0), (100, CHART_HEIGHT / 2), (200, CHART_HEIGHT)]);
    }
}
