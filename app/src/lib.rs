//! caregate's web app: the HTML shell, routes, pages and the server functions the browser calls.
pub mod api;
mod components;
pub mod error;
mod format;
pub mod model;
mod pages;
pub mod setup_snippets;
#[cfg(feature = "ssr")]
pub mod state;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, MetaTags, Stylesheet, Title};
use leptos_router::components::{ParentRoute, Route, Router, Routes};
use leptos_router::{path, Lazy, SsrMode};

use components::{OfficeLayout, PortalLayout};
use pages::*;

/// The HTML document the server renders around the app.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let policy = content_security_policy(&options);
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta http-equiv="Content-Security-Policy" content=policy/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The page's script policy, as a `<meta>` because only the rendered page knows this response's nonce
/// (Leptos puts it on its inline hydration and streaming scripts): scripts from this origin or with the nonce,
/// WebAssembly compilation, nothing else from elsewhere. The server adds the rest (framing, base URI, form
/// targets, plugins) as a header on every response. Under `cargo leptos watch` (`LEPTOS_WATCH`, the variable
/// [`AutoReload`] checks) the page may also open cargo-leptos' live-reload socket, on its own port.
fn content_security_policy(options: &LeptosOptions) -> String {
    let nonce = leptos::nonce::use_nonce().map(|nonce| format!(" 'nonce-{nonce}'")).unwrap_or_default();
    let live_reload = if std::env::var_os("LEPTOS_WATCH").is_some() {
        let port = options.reload_external_port.unwrap_or(options.reload_port);
        format!(" ws://*:{port} wss://*:{port}")
    } else {
        String::new()
    };
    format!(
        "default-src 'self'; script-src 'self'{nonce} 'wasm-unsafe-eval'; style-src 'self'; img-src 'self' data:; connect-src 'self'{live_reload}"
    )
}

/// The routes: the sign-in and invitation pages, the OAuth consent page (every signed-in role, outside both
/// layouts), the caregiver portal under `/portal`, and the office layout at `/`. The invitation and consent
/// pages render once their data is loaded, so their status (404 for an unknown link or request) is the server
/// function's.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    mark_hydrated();
    view! {
        <Stylesheet id="leptos" href="/pkg/caregate.css"/>
        <Title formatter=|page: String| if page.is_empty() { "caregate".to_owned() } else { format!("{page} · caregate") }/>
        <Router>
            <Routes fallback=NotFoundPage>
                <Route path=path!("/login") view=LoginPage/>
                <Route path=path!("/login/code") view=LoginCodePage/>
                <Route path=path!("/invite/:secret") view=InvitationPage ssr=SsrMode::Async/>
                <Route path=path!("/oauth/authorize") view=OAuthConsentPage ssr=SsrMode::Async/>
                <ParentRoute path=path!("/portal") view=PortalLayout>
                    <Route path=path!("") view=PortalDashboardPage/>
                    <Route path=path!("visits") view=PortalVisitsPage/>
                    <Route path=path!("open-shifts") view=PortalOpenShiftsPage/>
                    <Route path=path!("schedule") view=PortalSchedulePage/>
                    <Route path=path!("messages") view=PortalMessagesPage/>
                    <Route path=path!("alerts") view=AlertsPage/>
                    <Route path=path!("profile") view=PortalProfilePage/>
                    <Route path=path!("settings") view={Lazy::<PortalSettingsRoute>::new()}/>
                </ParentRoute>
                <ParentRoute path=path!("") view=OfficeLayout>
                    <Route path=path!("") view=OfficeDashboardPage/>
                    <Route path=path!("visits") view=OfficeVisitsPage/>
                    <Route path=path!("patients") view=OfficePatientsPage/>
                    <Route path=path!("activity") view=OfficeActivityPage/>
                    <Route path=path!("alerts") view=AlertsPage/>
                    <Route path=path!("people") view={Lazy::<PeopleRoute>::new()}/>
                    <Route path=path!("settings") view={Lazy::<OfficeSettingsRoute>::new()}/>
                </ParentRoute>
            </Routes>
        </Router>
    }
}

/// Marks `<body data-hydrated="true">` once the WebAssembly app has taken over the server-rendered page,
/// so browser tests (and curious people) can tell a live page from static HTML.
fn mark_hydrated() {
    #[cfg(feature = "hydrate")]
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });
}
