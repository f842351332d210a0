//! The page guard and server-side rendering: who is sent where, and what the first HTML shows.
use http::StatusCode;

use crate::helpers::spawn_apps;

#[tokio::test(flavor = "multi_thread")]
async fn signed_out_visitors_are_sent_to_sign_in_and_back() {
    for app in spawn_apps().await {
        let response = app.get("/patients", None).await;
        assert_eq!(response.status, StatusCode::SEE_OTHER, "[{}]", app.backend);
        assert_eq!(response.location(), Some("/login?next=/patients"));
        let login = app.get("/login?next=/patients", None).await;
        assert_eq!(login.status, StatusCode::OK);
        assert!(login.body.contains("Sign in"), "{}", login.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn people_opening_the_other_layout_are_sent_to_their_own_home() {
    for app in spawn_apps().await {
        let barbara = app.login("barbara@sunrise.test").await;
        assert_eq!(app.get("/visits", Some(&barbara)).await.location(), Some("/portal"));
        assert_eq!(app.get("/", Some(&barbara)).await.location(), Some("/portal"));
        assert_eq!(app.get("/login", Some(&barbara)).await.location(), Some("/portal"));
        let root = app.login("root@sunrise.test").await;
        assert_eq!(app.get("/portal/visits", Some(&root)).await.location(), Some("/"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_office_dashboard_renders_who_is_signed_in() {
    for app in spawn_apps().await {
        let root = app.login("root@sunrise.test").await;
        let page = app.get("/", Some(&root)).await;
        assert_eq!(page.status, StatusCode::OK, "[{}]", app.backend);
        assert!(page.body.contains("Rosa Martinez"), "{}", page.body);
        assert!(page.body.contains("Sunrise Home Care"));
        assert!(page.body.contains("href=\"/patients\""));
        assert!(!page.body.contains("/portal/schedule"), "the office sidebar lists only office pages");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_portal_lists_only_the_caregivers_own_visits() {
    for app in spawn_apps().await {
        let barbara = app.login("barbara@sunrise.test").await;
        let page = app.get("/portal/visits", Some(&barbara)).await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Margaret Ellis"), "[{}] {}", app.backend, page.body);
        assert!(!page.body.contains("Dorothy Nguyen"), "Carl's patient never appears on Barbara's page");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unknown_page_is_a_404() {
    for app in spawn_apps().await {
        let root = app.login("root@sunrise.test").await;
        let page = app.get("/no-such-page", Some(&root)).await;
        assert_eq!(page.status, StatusCode::NOT_FOUND, "[{}]", app.backend);
        assert!(page.body.contains("Page not found"));
    }
}
