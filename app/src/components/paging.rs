//! Pieces the keys panel and the activity page share: the "Filter by user" select and the pager.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{PersonView, UserId};

/// "All users" or one person: `on_change` gets the chosen person's id, or `None` for everyone.
///
/// The people are added once the page has hydrated: the server renders "All users" alone, and so does hydration,
/// whether or not the list has arrived by then (a list that arrived first used to break hydration).
#[component]
pub fn UserFilter(people: Resource<Result<Vec<PersonView>, AppError>>, on_change: Callback<Option<UserId>>) -> impl IntoView {
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <select aria-label="Filter by user" on:change=move |ev| on_change.run(event_target_value(&ev).parse().ok())>
            <option value="">"All users"</option>
            {move || hydrated.get().then(|| people.get()).flatten().and_then(Result::ok).unwrap_or_default().into_iter().map(|person| view! {
                <option value=person.id.to_string()>{person.name}</option>
            }).collect_view()}
        </select>
    }
}

/// A labelled page navigation: a summary between the two buttons, each disabled at its end.
#[component]
pub fn Pager(
    /// The navigation's accessible name ("Pages of API keys").
    label: &'static str,
    /// Optional text before the buttons ("1–20 of 57").
    #[prop(optional, into)]
    summary: Option<String>,
    /// Text between the buttons ("Page 2 of 3").
    position: String,
    back_text: &'static str,
    forward_text: &'static str,
    can_go_back: bool,
    can_go_forward: bool,
    on_back: Callback<()>,
    on_forward: Callback<()>,
) -> impl IntoView {
    view! {
        <nav class="pagination" aria-label=label>
            {summary.map(|summary| view! { <span class="muted">{summary}</span> })}
            <button type="button" class="button small" disabled=!can_go_back on:click=move |_| on_back.run(())>{back_text}</button>
            <span>{position}</span>
            <button type="button" class="button small" disabled=!can_go_forward on:click=move |_| on_forward.run(())>{forward_text}</button>
        </nav>
    }
}
