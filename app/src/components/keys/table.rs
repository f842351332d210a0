//! The keys table: Label, Key ID, User (Root Users), Created, Last Used, Expires, Status, Actions. A key whose
//! owner is deactivated says so beside its status: it is refused whatever the status says. An app connected
//! through OAuth is a row like a key's, named by the client and where it came from instead of a label.
use chrono::{DateTime, Utc};
use leptos::prelude::*;

use super::details::KeyDetails;
use crate::format::short_date;
use crate::model::{ApiKeyView, KeyPage, KeyStatus};

/// Whole days until `expires_at`, rounded up; `None` when it does not expire or has expired.
fn days_left(expires_at: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<i64> {
    let seconds = (expires_at? - now).num_seconds();
    (seconds > 0).then(|| (seconds + 86_399) / 86_400)
}

/// What a row is called: a key's label, or a connected app's name.
pub fn shown_name(key: &ApiKeyView) -> &str {
    key.connection.as_ref().map_or(key.label.as_str(), |app| app.client_name.as_str())
}

/// What the Status column says: a rolled key that still works says when it stops.
fn status_text(key: &ApiKeyView, now: DateTime<Utc>) -> String {
    match (key.status, key.rolled_to.as_ref(), key.expires_at) {
        (KeyStatus::Active, Some(_), Some(stops_at)) => format!("Rolled · {}", domain::keys::policy::stops_in(stops_at, now)),
        (status, _, _) => status.as_str().to_owned(),
    }
}

/// The table of one page of keys. `on_revoke` is offered for active keys, and for active keys that are not
/// connected apps `on_roll` (unless already rolled) and `on_allowlist`; `on_delete`, when given, for dead ones.
#[component]
pub fn KeysTable(
    page: KeyPage,
    show_owner: bool,
    on_revoke: Callback<ApiKeyView>,
    on_roll: Callback<ApiKeyView>,
    on_allowlist: Callback<ApiKeyView>,
    on_delete: Option<Callback<ApiKeyView>>,
) -> impl IntoView {
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
                        <th scope="col">"Actions"</th>
                    </tr>
                </thead>
                <tbody>
                    {page.keys.into_iter().map(|key| view! { <KeyRow key show_owner on_revoke on_roll on_allowlist on_delete now/> }).collect_view()}
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
    on_roll: Callback<ApiKeyView>,
    on_allowlist: Callback<ApiKeyView>,
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
            let is_key = key.connection.is_none();
            let (roll_target, allowlist_target) = (key.clone(), key.clone());
            Some(
                view! {
                    {(is_key && key.rolled_to.is_none()).then(|| view! {
                        <button type="button" class="button small" aria-label=format!("Roll {}", shown_name(&key))
                            on:click=move |_| on_roll.run(roll_target.clone())>"Roll"</button>
                    })}
                    {is_key.then(|| view! {
                        <button type="button" class="button small" aria-label=format!("Allowed IPs of {}", shown_name(&key))
                            on:click=move |_| on_allowlist.run(allowlist_target.clone())>"Allowed IPs"</button>
                    })}
                    <button type="button" class="button small danger-outline" aria-label=format!("Revoke {}", shown_name(&key))
                        on:click=move |_| on_revoke.run(target.clone())>"Revoke"</button>
                }
                .into_any(),
            )
        }
        _ => on_delete.map(|on_delete| {
            let target = key.clone();
            view! {
                <button type="button" class="button small icon-text" aria-label=format!("Delete {}", shown_name(&key))
                    on:click=move |_| on_delete.run(target.clone())>
                    <svg aria-hidden="true" viewBox="0 0 24 24" width="16" height="16"><path fill="currentColor" d="M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9zm4 2v8h2v-8h-2zm4 0v8h2v-8h-2z"/></svg>
                    "Delete"
                </button>
            }
            .into_any()
        }),
    };
    let details_open = RwSignal::new(false);
    let (name, details_key) = (shown_name(&key).to_owned(), key.key_id.clone());
    view! {
        <tr data-key-id=key.key_id.clone()>
            {match key.connection.clone() {
                Some(app) => view! {
                    <td class="label-cell">
                        {app.client_name} " " <span class="badge connected-app">"Connected app"</span>
                        <span class="muted small-block">{app.origin.describe()}</span>
                    </td>
                }.into_any(),
                None => view! { <td class="label-cell">{key.label.clone()}</td> }.into_any(),
            }}
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
                <span class=status_class>{status_text(&key, now)}</span>
                {(!key.owner_active).then(|| view! { " " <span class="badge status-deactivated owner-deactivated">"Owner deactivated"</span> })}
            </td>
            <td class="actions">
                <button type="button" class="button small" on:click=move |_| details_open.set(true)>
                    "Details"<span class="visually-hidden">" of " {name.clone()}</span>
                </button>
                {action}
                {move || details_open.get().then(|| view! {
                    <KeyDetails key_id=details_key.clone() title=name.clone() on_close=Callback::new(move |()| details_open.set(false))/>
                })}
            </td>
        </tr>
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone};

    use super::*;
    use crate::model::{ClientOrigin, ConnectedApp};

    #[test]
    fn days_left_round_up_and_stop_at_expiry() {
        let now = Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0).unwrap();
        assert_eq!(days_left(Some(now + Duration::days(3) - Duration::seconds(5)), now), Some(3));
        assert_eq!(days_left(Some(now + Duration::hours(1)), now), Some(1));
        assert_eq!(days_left(Some(now), now), None);
        assert_eq!(days_left(None, now), None);
    }

    #[test]
    fn a_connected_app_is_shown_by_its_client_name_and_a_key_by_its_label() {
        let now = Utc.with_ymd_and_hms(2026, 12, 3, 9, 0, 0).unwrap();
        let mut row = ApiKeyView {
            key_id: "Ab3dE6gH".to_owned(),
            label: "Claude on my laptop".to_owned(),
            owner_id: crate::model::UserId(1),
            owner_name: "Barbara Lee".to_owned(),
            owner_role: crate::model::Role::Caregiver,
            owner_active: true,
            created_at: now,
            last_used_at: None,
            last_used_ip: None,
            last_used_client: None,
            expires_at: None,
            revoked_at: None,
            status: KeyStatus::Active,
            scopes: vec![],
            connection: None,
            allowed_ips: vec![],
            rolled_to: None,
        };
        assert_eq!(shown_name(&row), "Claude on my laptop");
        row.connection =
            Some(ConnectedApp { client_name: "ChatGPT".to_owned(), origin: ClientOrigin::Verified { domain: "chatgpt.com".to_owned() } });
        assert_eq!(shown_name(&row), "ChatGPT");
        assert_eq!(status_text(&row, now), "Active");
        row.rolled_to = Some("Zz9yX8wV".to_owned());
        row.expires_at = Some(now + Duration::hours(24) - Duration::seconds(30));
        assert_eq!(status_text(&row, now), "Rolled · stops in 23 h", "a rolled key says when it stops");
        row.status = KeyStatus::Expired;
        assert_eq!(status_text(&row, now), "Expired", "and then that it expired");
    }
}
