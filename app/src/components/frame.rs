//! The signed-in frame: a sidebar with the layout's pages, who is signed in, and sign-out.
use leptos::prelude::*;
use leptos_router::components::{Outlet, A};

use super::toast::ToastRegion;
use crate::api::session::{get_current_user, Logout};
use crate::error::AppError;
use crate::model::CurrentUser;

/// The signed-in user, loaded once per layout and shared with its pages through context.
pub type CurrentUserResource = Resource<Result<CurrentUser, AppError>>;

/// The layout's signed-in user, for pages inside a layout.
pub fn use_current_user() -> CurrentUserResource {
    expect_context::<CurrentUserResource>()
}

struct NavItem {
    href: &'static str,
    label: &'static str,
}

const OFFICE_NAV: &[NavItem] = &[
    NavItem { href: "/", label: "Dashboard" },
    NavItem { href: "/visits", label: "Visits" },
    NavItem { href: "/patients", label: "Patients" },
    NavItem { href: "/activity", label: "Activity" },
    NavItem { href: "/settings", label: "Settings" },
];

const PORTAL_NAV: &[NavItem] = &[
    NavItem { href: "/portal", label: "Dashboard" },
    NavItem { href: "/portal/visits", label: "My Visits" },
    NavItem { href: "/portal/schedule", label: "My Schedule" },
    NavItem { href: "/portal/messages", label: "Messages" },
    NavItem { href: "/portal/settings", label: "Settings" },
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

#[component]
fn Frame(area: &'static str, nav: &'static [NavItem]) -> impl IntoView {
    let me: CurrentUserResource = Resource::new(|| (), |_| get_current_user());
    provide_context(me);
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
                        {nav.iter().map(|item| view! { <li><A href=item.href exact=true>{item.label}</A></li> }).collect_view()}
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
