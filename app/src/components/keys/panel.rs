//! The panel: a "Generate New API Key" button, filters (Root Users), the table and pagination, and "Connect
//! without a key" for people who may create credentials.
use leptos::prelude::*;

use super::allowlist::AllowlistDialog;
use super::confirm::{DeleteDialog, RevokeDialog};
use super::connect::ConnectWithoutKey;
use super::generate::GenerateFlow;
use super::roll::RollFlow;
use super::table::KeysTable;
use crate::api::account::list_people;
use crate::api::keys::{get_key_setup, list_keys};
use crate::components::{use_current_user, ErrorNotice, Loading, Pager, UserFilter};
use crate::error::AppError;
use crate::model::{ApiKeyView, KeyFilter, KeyStatus, PersonView, Role};

/// Which dialog is open.
#[derive(Clone)]
enum OpenDialog {
    None,
    Generate,
    Revoke(ApiKeyView),
    Roll(ApiKeyView),
    Allowlist(ApiKeyView),
    Delete(ApiKeyView),
}

#[component]
pub fn KeysPanel(
    /// The heading of the card.
    title: &'static str,
    /// The empty-state suggestion.
    empty_hint: &'static str,
) -> impl IntoView {
    let me = use_current_user();
    let filter = RwSignal::new(KeyFilter::default());
    let version = RwSignal::new(0u32);
    let keys = Resource::new(move || (filter.get(), version.get()), |(filter, _)| list_keys(filter));
    let people = Resource::new(|| (), |_| list_people());
    let setup = Resource::new(|| (), |_| get_key_setup());
    let dialog = RwSignal::new(OpenDialog::None);
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    let close = Callback::new(move |_: ()| dialog.set(OpenDialog::None));

    view! {
        <section class="card keys-card" aria-labelledby="api-keys-title">
            <div class="card-head">
                <div>
                    <h2 id="api-keys-title">{title}</h2>
                    <p class="muted">"Let AI assistants read your care data through MCP. Keys act with your permissions."</p>
                </div>
                <Suspense fallback=|| ()>
                    {move || Suspend::new(async move {
                        match setup.await.ok().and_then(|setup| setup.refusal) {
                            Some(refusal) => view! { <p class="muted key-refusal">{refusal}</p> }.into_any(),
                            None => view! {
                                <button type="button" class="button teal" on:click=move |_| dialog.set(OpenDialog::Generate)>
                                    <span aria-hidden="true">"+"</span>
                                    " Generate New API Key"
                                </button>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    let is_root = matches!(me.await, Ok(user) if user.role == Role::Root);
                    view! {
                        {is_root.then(|| view! { <KeyFilters filter people/> })}
                        <Transition fallback=Loading>
                            {move || Suspend::new(async move {
                                match keys.await {
                                    Ok(page) if page.total == 0 && filter.with(is_unfiltered) => view! {
                                        <div class="empty">
                                            <p class="empty-title">"No API keys yet"</p>
                                            <p>{empty_hint}</p>
                                        </div>
                                    }.into_any(),
                                    Ok(page) => {
                                        let on_revoke = Callback::new(move |key| dialog.set(OpenDialog::Revoke(key)));
                                        let on_roll = Callback::new(move |key| dialog.set(OpenDialog::Roll(key)));
                                        let on_allowlist = Callback::new(move |key| dialog.set(OpenDialog::Allowlist(key)));
                                        let on_delete = is_root.then(|| Callback::new(move |key| dialog.set(OpenDialog::Delete(key))));
                                        view! {
                                            <KeysTable page=page.clone() show_owner=is_root on_revoke on_roll on_allowlist on_delete/>
                                            <Pagination total=page.total page=page.page per_page=page.per_page filter/>
                                        }.into_any()
                                    }
                                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                                }
                            })}
                        </Transition>
                    }
                })}
            </Suspense>
            // Connecting an app obeys the same policy as generating a key: offered to those who may do either.
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    setup.await.ok().filter(|setup| setup.refusal.is_none()).map(|setup| view! { <ConnectWithoutKey mcp_url=setup.mcp_url/> })
                })}
            </Suspense>
        </section>
        {move || match dialog.get() {
            OpenDialog::None => ().into_any(),
            OpenDialog::Generate => view! { <GenerateFlow on_close=close on_minted=refresh/> }.into_any(),
            OpenDialog::Revoke(key) => view! { <RevokeDialog key on_close=close on_done=refresh/> }.into_any(),
            OpenDialog::Roll(key) => view! { <RollFlow key on_close=close on_rolled=refresh/> }.into_any(),
            OpenDialog::Allowlist(key) => view! { <AllowlistDialog key on_close=close on_done=refresh/> }.into_any(),
            OpenDialog::Delete(key) => view! { <DeleteDialog key on_close=close on_done=refresh/> }.into_any(),
        }}
    }
}

fn is_unfiltered(filter: &KeyFilter) -> bool {
    filter.user_id.is_none() && filter.status.is_none() && filter.search.as_deref().unwrap_or_default().is_empty() && filter.page == 1
}

#[component]
fn KeyFilters(filter: RwSignal<KeyFilter>, people: Resource<Result<Vec<PersonView>, AppError>>) -> impl IntoView {
    view! {
        <div class="filters" role="search">
            <UserFilter people on_change=Callback::new(move |user_id| filter.update(|f| {
                f.user_id = user_id;
                f.page = 1;
            }))/>
            <select
                aria-label="Filter by status"
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    filter.update(|f| {
                        f.status = KeyStatus::parse(&value);
                        f.page = 1;
                    });
                }
            >
                <option value="">"All statuses"</option>
                {KeyStatus::ALL.into_iter().map(|status| view! { <option value=status.as_str()>{status.as_str()}</option> }).collect_view()}
            </select>
            <input
                type="search"
                aria-label="Search labels"
                placeholder="Search labels"
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    filter.update(|f| {
                        f.search = Some(value);
                        f.page = 1;
                    });
                }
            />
        </div>
    }
}

#[component]
fn Pagination(total: u64, page: u32, per_page: u32, filter: RwSignal<KeyFilter>) -> impl IntoView {
    let pages = total.div_ceil(u64::from(per_page)).max(1) as u32;
    let first = if total == 0 { 0 } else { u64::from(page - 1) * u64::from(per_page) + 1 };
    let last = (u64::from(page) * u64::from(per_page)).min(total);
    (pages > 1 || total == 0).then(|| {
        view! {
            <Pager
                label="Pages of API keys"
                summary=format!("{first}–{last} of {total}")
                position=format!("Page {page} of {pages}")
                back_text="Previous"
                forward_text="Next"
                can_go_back={page > 1}
                can_go_forward={page < pages}
                on_back=Callback::new(move |_| filter.update(|f| f.page -= 1))
                on_forward=Callback::new(move |_| filter.update(|f| f.page += 1))
            />
        }
    })
}
