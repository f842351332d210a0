//! The page for unknown paths, answered with status 404.
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found"/>
        <main class="login-page">
            <section class="card login-card">
                <h1>"Page not found"</h1>
                <p class="muted">"There is no page at this address."</p>
                <a class="button primary" href="/">"Go to your dashboard"</a>
            </section>
        </main>
    }
}
