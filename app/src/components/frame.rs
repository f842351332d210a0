//! The signed-in frame: a sidebar with the layout's pages (the People page for Root Users only), who is signed
//! in, and sign-out.
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

use super::alerts::AlertSummaryResource;
use super::toast::ToastRegion;
use crate::api::alerts::get_alert_summary;
use crate::api::session::{get_current_user, Logout};
use crate::error::AppError;
use crate::model::{CurrentUser, Role};

/// The signed-in user, loaded once per layout and shared with its pages through context.
pub type CurrentUserResource = Resource<Result<CurrentUser, AppError>>;

/// The layout's signed-in user, for pages inside a layout.
pub fn use_current_user() -> CurrentUserResource {
    expect_context::<CurrentUserResource>()
}

struct NavItem {
    href: &'static str,
    label: &'static str,
    /// Shown to Root Users only (the page guard sends everyone else home from it anyway).
    root_only: bool,
    /// Carries the unread-alerts count.
    alerts: bool,
}

const OFFICE_NAV: &[NavItem] = &[
    NavItem { href: "/", label: "Dashboard", root_only: false, alerts: false },
    NavItem { href: "/visits", label: "Visits", root_only: false, alerts: false },
    NavItem { href: "/patients", label: "Patients", root_only: false, alerts: false },
    NavItem { href: "/activity", label: "Activity", root_only: false, alerts: false },
    NavItem { href: "/alerts", label: "Alerts", root_only: false, alerts: true },
    NavItem { href: "/people", label: "People", root_only: true, alerts: false },
    NavItem { href: "/settings", label: "Settings", root_only: false, alerts: false },
];

const PORTAL_NAV: &[NavItem] = &[
    NavItem { href: "/portal", label: "Dashboard", root_only: false, alerts: false },
    NavItem { href: "/portal/visits", label: "My Visits", root_only: false, alerts: false },
    NavItem { href: "/portal/open-shifts", label: "Open Shifts", root_only: false, alerts: false },
    NavItem { href: "/portal/schedule", label: "My Schedule", root_only: false, alerts: false },
    NavItem { href: "/portal/messages", label: "Messages", root_only: false, alerts: false },
    NavItem { href: "/portal/alerts", label: "Alerts", root_only: false, alerts: true },
    NavItem { href: "/portal/profile", label: "My Profile", root_only: false, alerts: false },
    NavItem { href: "/portal/settings", label: "Settings", root_only: false, alerts: false },
];

/// The office layout (Root Users and Users), at `/`.
#[component]
pub fn OfficeLayout() -> impl IntoView {
    view! { <Frame area="Office" nav=OFFICE_NAV/> }
}

/// The caregiver portal layout, at `/portal`.
#[component]
pub fn PortalLayout() -> impl IntoView {
    view! { <Frame area="Caregiver Portal" nav=PORTAL_NAV/> }
}

/// Checks the session again on every move to another page of the layout: a page changed in the browser does
/// not pass the server's page guard, so without this someone deactivated (or signed out elsewhere) would keep
/// browsing an open tab, every list failing. Once the session has ended the page is loaded afresh, and the page
/// guard sends the person to the sign-in page, back to this page afterwards. Leaving the layout (signing out
/// goes to the sign-in page) cancels a check still under way.
fn reload_when_the_session_ends() {
    #[cfg(feature = "hydrate")]
    {
        use std::sync::atomic::{AtomicBool, Ordering};
        use std::sync::Arc;

        let mounted = Arc::new(AtomicBool::new(true));
        on_cleanup({
            let mounted = Arc::clone(&mounted);
            move || mounted.store(false, Ordering::Relaxed)
        });
        let location = leptos_router::hooks::use_location();
        Effect::new(move |previous: Option<String>| {
            let path = location.pathname.get();
            if previous.is_some_and(|previous| previous != path) {
                let mounted = Arc::clone(&mounted);
                leptos::task::spawn_local(async move {
                    let ended = matches!(get_current_user().await, Err(AppError::Unauthorized(_)));
                    if ended && mounted.load(Ordering::Relaxed) {
                        let _ = window().location().reload();
                    }
                });
            }
            path
        });
    }
}

#[component]
fn Frame(area: &'static str, nav: &'static [NavItem]) -> impl IntoView {
    let me: CurrentUserResource = Resource::new(|| (), |_| get_current_user());
    provide_context(me);
    let location = leptos_router::hooks::use_location();
    let alerts: AlertSummaryResource = Resource::new(move || location.pathname.get(), |_| get_alert_summary());
    provide_context(alerts);
    let unread = move || {
        Suspend::new(async move {
            alerts.await.ok().filter(|summary| summary.unread > 0).map(|summary| {
                view! { <span class="badge amber nav-count" aria-label=format!("{} unread", summary.unread)>{summary.unread.to_string()}</span> }
            })
        })
    };
    reload_when_the_session_ends();
    let logout = ServerAction::<Logout>::new();
    let who = move || {
        Suspend::new(async move {
            me.await.ok().map(|user| {
                view! {
                    <div class="who">
                        <span class="who-name">{user.name}</span>
                        <span class="who-meta">{user.role.display_name()} " · " {user.company_name}</span>
                    </div>
                }
            })
        })
    };
    view! {
        <div class="frame">
            <aside class="sidebar">
                <div class="brand">
                    <span class="brand-mark" aria-hidden="true">"cg"</span>
                    <span class="brand-name">"caregate"</span>
                    <span class="brand-area">{area}</span>
                </div>
                <nav aria-label="Main">
                    <ul>
                        {nav.iter().map(|item| {
                            let link = move || view! {
                                <li>
                                    <A href=item.href exact=true>
                                        {item.label}
                                        {item.alerts.then(|| view! { <Suspense fallback=|| ()>{unread}</Suspense> })}
                                    </A>
                                </li>
                            };
                            if item.root_only {
                                view! {
                                    <Suspense fallback=|| ()>
                                        {move || Suspend::new(async move { matches!(me.await, Ok(user) if user.role == Role::Root).then(link) })}
                                    </Suspense>
                                }.into_any()
                            } else {
                                link().into_any()
                            }
                        }).collect_view()}
                    </ul>
                </nav>
                <div class="sidebar-foot">
                    <Suspense fallback=|| ()>{who}</Suspense>
                    <ActionForm action=logout>
                        <button type="submit" class="button ghost">"Sign out"</button>
                    </ActionForm>
                </div>
            </aside>
            <main class="content" id="main">
                <ToastRegion>
                    <Outlet/>
                </ToastRegion>
            </main>
        </div>
    }
}
