//! The page guard and server-side rendering: who is sent where, and what the first HTML shows.
use http::StatusCode;

use crate::helpers::{backend_test, TestApp};

backend_test!(signed_out_visitors_are_sent_to_sign_in_and_back);
async fn signed_out_visitors_are_sent_to_sign_in_and_back(app: TestApp) {
    let response = app.get("/patients", None).await;
    assert_eq!(response.status, StatusCode::SEE_OTHER);
    assert_eq!(response.location(), Some("/login?next=/patients"));
    let login = app.get("/login?next=/patients", None).await;
    assert_eq!(login.status, StatusCode::OK);
    assert!(login.body.contains("Sign in"), "{}", login.body);
}

backend_test!(people_opening_the_other_layout_are_sent_to_their_own_home);
async fn people_opening_the_other_layout_are_sent_to_their_own_home(app: TestApp) {
    let barbara = app.login("barbara@sunrise.test").await;
    assert_eq!(app.get("/visits", Some(&barbara)).await.location(), Some("/portal"));
    assert_eq!(app.get("/", Some(&barbara)).await.location(), Some("/portal"));
    assert_eq!(app.get("/login", Some(&barbara)).await.location(), Some("/portal"));
    let root = app.login("root@sunrise.test").await;
    assert_eq!(app.get("/portal/visits", Some(&root)).await.location(), Some("/"));
}

backend_test!(the_office_dashboard_renders_who_is_signed_in);
async fn the_office_dashboard_renders_who_is_signed_in(app: TestApp) {
    let root = app.login("root@sunrise.test").await;
    let page = app.get("/", Some(&root)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Rosa Martinez"), "{}", page.body);
    assert!(page.body.contains("Sunrise Home Care"));
    assert!(page.body.contains("href=\"/patients\""));
    assert!(!page.body.contains("/portal/schedule"), "the office sidebar lists only office pages");
}

backend_test!(the_portal_lists_only_the_caregivers_own_visits);
async fn the_portal_lists_only_the_caregivers_own_visits(app: TestApp) {
    let barbara = app.login("barbara@sunrise.test").await;
    let page = app.get("/portal/visits", Some(&barbara)).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Margaret Ellis"), "{}", page.body);
    assert!(!page.body.contains("Dorothy Nguyen"), "Carl's patient never appears on Barbara's page");
}

backend_test!(an_unknown_page_is_a_404);
async fn an_unknown_page_is_a_404(app: TestApp) {
    let root = app.login("root@sunrise.test").await;
    let page = app.get("/no-such-page", Some(&root)).await;
    assert_eq!(page.status, StatusCode::NOT_FOUND);
    assert!(page.body.contains("Page not found"));
}
