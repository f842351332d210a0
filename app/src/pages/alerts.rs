//! `/alerts` and `/portal/alerts`: the signed-in person's alerts (expiry reminders, leaked keys), newest first.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::alerts::{list_alerts, mark_alert_read, mark_all_alerts_read};
use crate::components::{use_alert_summary, use_toasts, ErrorNotice, Loading, Pager};
use crate::format::day_and_time;

#[component]
pub fn AlertsPage() -> impl IntoView {
    let page = RwSignal::new(1u32);
    let alerts = Resource::new(move || page.get(), list_alerts);
    let summary = use_alert_summary();
    let toasts = use_toasts();
    let changed = move |result: Result<(), crate::error::AppError>| match result {
        Ok(()) => {
            alerts.refetch();
            summary.refetch();
        }
        Err(error) => toasts.show(error.to_string()),
    };
    let read_one = Action::new(move |id: &i32| mark_alert_read(*id));
    let read_all = Action::new(move |_: &()| mark_all_alerts_read());
    Effect::new(move |_| {
        if let Some(result) = read_one.value().get() {
            changed(result);
        }
    });
    Effect::new(move |_| {
        if let Some(result) = read_all.value().get() {
            changed(result);
        }
    });
    view! {
        <Title text="Alerts"/>
        <header class="page-head">
            <h1>"Alerts"</h1>
            <button type="button" class="button small" on:click=move |_| { read_all.dispatch(()); }>"Mark all as read"</button>
        </header>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match alerts.await {
                    Ok(found) if found.alerts.is_empty() => view! { <p class="empty">"No alerts."</p> }.into_any(),
                    Ok(found) => view! {
                        <ul class="messages">
                            {found.alerts.into_iter().map(|alert| {
                                let id = alert.id;
                                view! {
                                    <li class="card message" class:unread=!alert.read>
                                        <div class="message-head">
                                            <strong>{alert.kind.describe()}</strong>
                                            <span class="muted">{day_and_time(alert.created_at)}</span>
                                        </div>
                                        <p>{alert.message}</p>
                                        {(!alert.read).then(|| view! {
                                            <button type="button" class="button small" on:click=move |_| { read_one.dispatch(id); }>"Mark as read"</button>
                                        })}
                                    </li>
                                }
                            }).collect_view()}
                        </ul>
                        <Pager label="Pages of alerts" position=format!("Page {}", found.page) back_text="Newer" forward_text="Older"
                            can_go_back={found.page > 1} can_go_forward=found.has_more
                            on_back=Callback::new(move |()| page.update(|p| *p = p.saturating_sub(1).max(1)))
                            on_forward=Callback::new(move |()| page.update(|p| *p += 1))/>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
