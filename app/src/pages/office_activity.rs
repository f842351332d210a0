//! `/activity`: who did what and when — with which key, when a key acted. Root Users see the company.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::account::list_people;
use crate::api::activity::list_activity;
use crate::components::{use_current_user, ErrorNotice, Loading, Pager, UserFilter};
use crate::format::day_and_time;
use crate::model::{ActivityFilter, ActivityView, ActorKind, Role};

/// Who acted: the person's name, or what the actor is when no one was signed in.
fn actor_label(event: &ActivityView) -> String {
    match (event.actor_kind, &event.actor_name) {
        (ActorKind::Person, Some(name)) => name.clone(),
        (ActorKind::Person, None) => "Former user".to_owned(),
        (kind, _) => kind.label().to_owned(),
    }
}

#[component]
pub fn OfficeActivityPage() -> impl IntoView {
    let me = use_current_user();
    let filter = RwSignal::new(ActivityFilter::default());
    let events = Resource::new(move || filter.get(), list_activity);
    let people = Resource::new(|| (), |_| list_people());
    view! {
        <Title text="Activity"/>
        <header class="page-head"><h1>"Activity"</h1><p class="muted">"Newest first. Actions taken with an API key show its Key ID."</p></header>
        <div class="filters" role="search">
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    matches!(me.await, Ok(user) if user.role == Role::Root).then(|| view! {
                        <UserFilter people on_change=Callback::new(move |user_id| filter.update(|f| {
                            f.user_id = user_id;
                            f.page = 1;
                        }))/>
                    })
                })}
            </Suspense>
            <input type="search" aria-label="Filter by Key ID" placeholder="Key ID" maxlength="8" on:input=move |ev| {
                let value = event_target_value(&ev);
                filter.update(|f| { f.key_id = Some(value); f.page = 1; });
            }/>
        </div>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match events.await {
                    Ok(page) if page.events.is_empty() => view! { <p class="empty">"No activity yet."</p> }.into_any(),
                    Ok(page) => {
                        let more = page.has_more;
                        view! {
                            <div class="card flush">
                                <table class="table">
                                    <thead><tr>
                                        <th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"Key"</th>
                                        <th scope="col">"What"</th><th scope="col">"IP"</th>
                                    </tr></thead>
                                    <tbody>
                                        {page.events.into_iter().map(|event| {
                                            let actor = actor_label(&event);
                                            // The client's own words (User-Agent or MCP client name): shown as a quotation whose
                                            // own quotes are escaped, so it cannot end early and read as ours.
                                            let client = event.user_agent.map(|client| format!("Client: {}", serde_json::to_string(&client).unwrap_or_default()));
                                            view! {
                                                <tr>
                                                    <td>{day_and_time(event.at)}</td>
                                                    <td>{actor}</td>
                                                    <td class="mono">{event.key_id.unwrap_or_default()}</td>
                                                    <td>
                                                        {event.action.describe()}
                                                        <span class="muted small-block">
                                                            {event.target}
                                                            {(event.repeats > 1).then(|| format!(" · {} calls in a burst", event.repeats))}
                                                        </span>
                                                        {client.map(|client| view! { <span class="muted small-block">{client}</span> })}
                                                    </td>
                                                    <td>{event.ip.unwrap_or_default()}</td>
                                                </tr>
                                            }
                                        }).collect_view()}
                                    </tbody>
                                </table>
                            </div>
                            <Pager
                                label="Pages of activity"
                                position=format!("Page {}", page.page)
                                back_text="Newer"
                                forward_text="Older"
                                can_go_back={page.page > 1}
                                can_go_forward=more
                                on_back=Callback::new(move |_| filter.update(|f| f.page -= 1))
                                on_forward=Callback::new(move |_| filter.update(|f| f.page += 1))
                            />
                        }.into_any()
                    }
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Transition>
    }
}
