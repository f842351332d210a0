//! The keys table: Label, Key ID, User (Root Users), Created, Last Used, Expires, Status, Actions. A key whose
//! owner is deactivated says so beside its status: it is refused whatever the status says.
use chrono::{DateTime, Utc};
use leptos::prelude::*;

use crate::format::short_date;
use crate::model::{ApiKeyView, KeyPage, KeyStatus};

/// Whole days until `expires_at`, rounded up; `None` when it does not expire or has expired.
fn days_left(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i64> {
    let seconds = (expires_at? - now).num_seconds();
    (seconds > 0).then(|| (seconds + 86_399) / 86_400)
}

/// The table of one page of keys. `on_revoke` is offered for active keys; `on_delete`, when given, for dead ones.
#[component]
pub fn KeysTable(page: KeyPage, show_owner: bool, on_revoke: Callback<ApiKeyView>, on_delete: Option<Callback<ApiKeyView>>) -> impl IntoView {
    let now = Utc::now();
    view! {
        <div class="table-wrap">
            <table class="table keys-table">
                <thead>
                    <tr>
                        <th scope="col">"Label"</th>
                        <th scope="col">"Key ID"</th>
                        {show_owner.then(|| view! { <th scope="col">"User"</th> })}
                        <th scope="col">"Created"</th>
                        <th scope="col">"Last Used"</th>
                        <th scope="col">"Expires"</th>
                        <th scope="col">"Status"</th>
                        <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                    </tr>
                </thead>
                <tbody>
                    {page.keys.into_iter().map(|key| view! { <KeyRow key show_owner on_revoke on_delete now/> }).collect_view()}
                </tbody>
            </table>
        </div>
    }
}

#[component]
fn KeyRow(
    key: ApiKeyView,
    show_owner: bool,
    on_revoke: Callback<ApiKeyView>,
    on_delete: Option<Callback<ApiKeyView>>,
    now: DateTime<Utc>,
) -> impl IntoView {
    let expiry_badge = match key.status {
        KeyStatus::Expired => Some(view! { <span class="badge red">"Expired"</span> }.into_any()),
        KeyStatus::Active => days_left(key.expires_at, now)
            .filter(|days| *days <= 7)
            .map(|days| view! { <span class="badge amber">{format!("Expires in {days}d")}</span> }.into_any()),
        KeyStatus::Revoked => None,
    };
    let status_class = format!("badge status-{}", key.status.as_str().to_lowercase());
    let last_used_detail = [key.last_used_ip.clone(), key.last_used_client.clone()].into_iter().flatten().collect::<Vec<_>>().join(" · ");
    let action = match key.status {
        KeyStatus::Active => {
            let target = key.clone();
            Some(
                view! {
                    <button type="button" class="button small danger-outline" aria-label=format!("Revoke {}", key.label)
                        on:click=move |_| on_revoke.run(target.clone())>"Revoke"</button>
                }
                .into_any(),
            )
        }
        _ => on_delete.map(|on_delete| {
            let target = key.clone();
            view! {
                <button type="button" class="button small icon-text" aria-label=format!("Delete {}", key.label)
                    on:click=move |_| on_delete.run(target.clone())>
                    <svg aria-hidden="true" viewBox="0 0 24 24" width="16" height="16"><path fill="currentColor" d="M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9zm4 2v8h2v-8h-2zm4 0v8h2v-8h-2z"/></svg>
                    "Delete"
                </button>
            }
            .into_any()
        }),
    };
    view! {
        <tr data-key-id=key.key_id.clone()>
            <td class="label-cell">{key.label.clone()}</td>
            <td class="mono">{key.key_id.clone()}</td>
            {show_owner.then(|| view! {
                <td>{key.owner_name.clone()}<span class="muted small-block">{key.owner_role.display_name()}</span></td>
            })}
            <td>{short_date(key.created_at)}</td>
            <td>
                {key.last_used_at.map(short_date).unwrap_or_else(|| "Never".to_owned())}
                {(!last_used_detail.is_empty()).then(|| view! { <span class="muted small-block">{last_used_detail.clone()}</span> })}
            </td>
            <td>{key.expires_at.map(short_date).unwrap_or_else(|| "Never".to_owned())} " " {expiry_badge}</td>
            <td>
                <span class=status_class>{key.status.as_str()}</span>
                {(!key.owner_active).then(|| view! { " " <span class="badge status-deactivated owner-deactivated">"Owner deactivated"</span> })}
            </td>
            <td class="actions">{action}</td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;

    #[test]
    fn days_left_round_up_and_stop_at_expiry() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        assert_eq!(days_left(Some(now + Duration::days(3) - Duration::seconds(5)), now), Some(3));
        assert_eq!(days_left(Some(now + Duration::hours(1)), now), Some(1));
        assert_eq!(days_left(Some(now), now), None);
        assert_eq!(days_left(None, now), None);
    }
}
