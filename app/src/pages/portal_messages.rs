//! `/portal/messages`: messages the caregiver sent or received, newest first.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::care::list_messages;
use crate::components::{ErrorNotice, Loading};
use crate::format::day_and_time;

#[component]
pub fn PortalMessagesPage() -> impl IntoView {
    let messages = Resource::new(|| (), |_| list_messages());
    view! {
        <Title text="Messages"/>
        <header class="page-head"><h1>"Messages"</h1></header>
        <Suspense fallback=Loading>
            {move || Suspend::new(async move {
                match messages.await {
                    Ok(rows) if rows.is_empty() => view! { <p class="empty">"No messages."</p> }.into_any(),
                    Ok(rows) => view! {
                        <ul class="messages">
                            {rows.into_iter().map(|message| view! {
                                <li class="card message">
                                    <div class="message-head">
                                        <strong>{message.subject}</strong>
                                        <span class="muted">{day_and_time(message.sent_at)}</span>
                                    </div>
                                    <p class="muted">"From " {message.sender_name} " to " {message.recipient_name}</p>
                                    <p>{message.body}</p>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Suspense>
    }
}
