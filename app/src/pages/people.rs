//! `/people` (Root Users): the company's people with their role, status, working keys and last sign-in;
//! search and filters, paging, and the dialogs that invite, renew or cancel an invitation, change a role,
//! deactivate and reactivate.
use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::people::list_people_page;
use crate::components::people::{
    AddPersonDialog, CancelInvitationDialog, DeactivateDialog, PeopleTable, PersonAction, ReactivateDialog, RenewDialog, RoleDialog,
};
use crate::components::{use_toasts, ErrorNotice, Loading, Pager};
use crate::model::{PeopleFilter, PersonRow, PersonStatus, Role};

/// The People page as a route whose code the browser loads when it is first opened: only Root Users ever
/// open it, so nobody else downloads its dialogs.
pub struct PeopleRoute;

#[leptos_router::lazy_route]
impl leptos_router::LazyRoute for PeopleRoute {
    fn data() -> Self {
        PeopleRoute
    }

    fn view(_this: Self) -> AnyView {
        view! { <PeoplePage/> }.into_any()
    }
}

/// Which dialog is open.
#[derive(Clone)]
enum OpenDialog {
    None,
    Add,
    Row(PersonAction, PersonRow),
}

#[component]
pub fn PeoplePage() -> impl IntoView {
    let filter = RwSignal::new(PeopleFilter::default());
    let version = RwSignal::new(0u32);
    let people = Resource::new(move || (filter.get(), version.get()), |(filter, _)| list_people_page(filter));
    let dialog = RwSignal::new(OpenDialog::None);
    let toasts = use_toasts();
    let refresh = Callback::new(move |_: ()| version.update(|v| *v += 1));
    let close = Callback::new(move |_: ()| dialog.set(OpenDialog::None));
    let done = Callback::new(move |message: String| {
        refresh.run(());
        dialog.set(OpenDialog::None);
        toasts.show(message);
    });
    let on_action = Callback::new(move |(action, person)| dialog.set(OpenDialog::Row(action, person)));
    view! {
        <Title text="People"/>
        <header class="page-head page-head-actions">
            <div>
                <h1>"People"</h1>
                <p class="muted">"Everyone in your company who signs in to caregate: invite people, change their role, or deactivate them."</p>
            </div>
            <button type="button" class="button teal" on:click=move |_| dialog.set(OpenDialog::Add)>
                <span aria-hidden="true">"+"</span>
                " Add a person"
            </button>
        </header>
        <PeopleFilters filter/>
        <Transition fallback=Loading>
            {move || Suspend::new(async move {
                match people.await {
                    Ok(page) if page.people.is_empty() => view! {
                        <div class="empty">
                            <p class="empty-title">"No people found"</p>
                            <p>"Nobody matches this search and these filters."</p>
                        </div>
                    }.into_any(),
                    Ok(page) => view! {
                        <PeopleTable people=page.people.clone() on_action/>
                        <Pagination total=page.total page=page.page per_page=page.per_page filter/>
                    }.into_any(),
                    Err(error) => view! { <ErrorNotice error/> }.into_any(),
                }
            })}
        </Transition>
        {move || match dialog.get() {
            OpenDialog::None => ().into_any(),
            OpenDialog::Add => view! { <AddPersonDialog on_close=close on_invited=refresh on_done=done/> }.into_any(),
            OpenDialog::Row(action, person) => match action {
                PersonAction::NewLink => view! { <RenewDialog person on_close=close on_done=done/> }.into_any(),
                PersonAction::CancelInvitation => view! { <CancelInvitationDialog person on_close=close on_done=done/> }.into_any(),
                PersonAction::ChangeRole => view! { <RoleDialog person on_close=close on_done=done/> }.into_any(),
                PersonAction::Deactivate => view! { <DeactivateDialog person on_close=close on_done=done/> }.into_any(),
                PersonAction::Reactivate => view! { <ReactivateDialog person on_close=close on_done=done/> }.into_any(),
            },
        }}
    }
}

#[component]
fn PeopleFilters(filter: RwSignal<PeopleFilter>) -> impl IntoView {
    view! {
        <div class="filters" role="search">
            <input
                type="search"
                aria-label="Search people"
                placeholder="Search names and emails"
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    filter.update(|f| {
                        f.search = Some(value);
                        f.page = 1;
                    });
                }
            />
            <select
                aria-label="Filter by role"
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    filter.update(|f| {
                        f.role = Role::parse(&value);
                        f.page = 1;
                    });
                }
            >
                <option value="">"All roles"</option>
                {Role::ALL.into_iter().map(|role| view! { <option value=role.as_str()>{role.display_name()}</option> }).collect_view()}
            </select>
            <select
                aria-label="Filter by status"
                on:change=move |ev| {
                    let value = event_target_value(&ev);
                    filter.update(|f| {
                        f.status = PersonStatus::ALL.into_iter().find(|status| status.label() == value);
                        f.page = 1;
                    });
                }
            >
                <option value="">"All statuses"</option>
                {PersonStatus::ALL.into_iter().map(|status| view! { <option value=status.label()>{status.label()}</option> }).collect_view()}
            </select>
        </div>
    }
}

#[component]
fn Pagination(total: u64, page: u32, per_page: u32, filter: RwSignal<PeopleFilter>) -> impl IntoView {
    let pages = total.div_ceil(u64::from(per_page.max(1))).max(1) as u32;
    let first = u64::from(page.saturating_sub(1)) * u64::from(per_page) + 1;
    let last = (u64::from(page) * u64::from(per_page)).min(total);
    (pages > 1).then(|| {
        view! {
            <Pager
                label="Pages of people"
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
