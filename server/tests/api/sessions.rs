//! Signing in and out through the real server functions, with the status codes a browser sees.
use app::api::account::ChangePassword;
use app::api::care::{ListMessages, ListPatients, ListSchedule, ListVisits};
use app::api::keys::ConfirmPassword;
use app::api::session::{GetCurrentUser, Login, Logout};
use app::error::AppError;
use app::model::Role;
use http::StatusCode;
use leptos::server_fn::ServerFn;

use crate::helpers::{backend_test, server_fn_request, sign_in, TestApp, TestResponse};

backend_test!(signing_in_sets_a_hardened_session_cookie_and_redirects_home);
async fn signing_in_sets_a_hardened_session_cookie_and_redirects_home(app: TestApp) {
    let response = app.call(sign_in("Barbara@Sunrise.test", "caregate-demo"), None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    let cookie = response.headers.get(http::header::SET_COOKIE).unwrap().to_str().unwrap();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "plain-http test deployments do not mark cookies Secure");
    assert_eq!(response.location(), Some("/portal"));

    let me = app.call(GetCurrentUser {}, Some(&response.session_cookie().unwrap())).await;
    assert_eq!(me.status, StatusCode::OK);
    let me = me.output();
    assert_eq!(me.email, "barbara@sunrise.test");
    assert_eq!(me.role, Role::Caregiver);
    assert_eq!(me.company_name, "Sunrise Home Care");
}

backend_test!(sign_in_follows_next_only_to_the_users_own_pages);
async fn sign_in_follows_next_only_to_the_users_own_pages(app: TestApp) {
    let going_to = |next: &str| Login { next: Some(next.to_owned()), ..sign_in("root@sunrise.test", "caregate-demo") };
    let to_patients = app.call(going_to("/patients"), None).await;
    assert_eq!(to_patients.location(), Some("/patients"));
    let off_site = app.call(going_to("//evil.test"), None).await;
    assert_eq!(off_site.location(), Some("/"));
}

backend_test!(a_wrong_password_and_an_unknown_email_get_the_same_401);
async fn a_wrong_password_and_an_unknown_email_get_the_same_401(app: TestApp) {
    let wrong = app.call(sign_in("root@sunrise.test", "not-the-password"), None).await;
    let unknown = app.call(sign_in("nobody@sunrise.test", "caregate-demo"), None).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.body, unknown.body);
    assert!(wrong.error().to_string().contains("Invalid email or password"), "{}", wrong.body);
    assert!(wrong.session_cookie().is_none());
}

backend_test!(an_inactive_user_cannot_sign_in_and_loses_their_session);
async fn an_inactive_user_cannot_sign_in_and_loses_their_session(app: TestApp) {
    let cookie = app.login("carl@sunrise.test").await;
    let carl = domain::accounts::find_user_by_email(&app.state.db, "carl@sunrise.test").await.unwrap();
    domain::accounts::set_active(&app.state.db, carl.id, false).await.unwrap();

    let again = app.call(sign_in("carl@sunrise.test", "caregate-demo"), None).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);
    assert!(again.error().to_string().contains("Invalid email or password"));
    assert_eq!(app.call(GetCurrentUser {}, Some(&cookie)).await.status, StatusCode::UNAUTHORIZED);
}

backend_test!(server_functions_without_a_session_answer_401_not_500);
async fn server_functions_without_a_session_answer_401_not_500(app: TestApp) {
    let responses: [(&str, TestResponse); 5] = [
        ("me", app.call(GetCurrentUser {}, None).await.into()),
        ("visits", app.call(ListVisits {}, None).await.into()),
        ("schedule", app.call(ListSchedule {}, None).await.into()),
        ("patients", app.call(ListPatients {}, None).await.into()),
        ("messages", app.call(ListMessages {}, None).await.into()),
    ];
    for (function, response) in responses {
        assert_eq!(response.status, StatusCode::UNAUTHORIZED, "{function}: {}", response.body);
        assert_eq!(response.error(), AppError::Unauthorized("Please sign in to continue".to_owned()));
    }
    let forged = app.call(GetCurrentUser {}, Some("caregate_session=0000")).await;
    assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
}

backend_test!(signing_out_ends_the_session_on_the_server);
async fn signing_out_ends_the_session_on_the_server(app: TestApp) {
    let cookie = app.login("office@sunrise.test").await;
    assert_eq!(app.call(GetCurrentUser {}, Some(&cookie)).await.status, StatusCode::OK);
    let out = app.call(Logout {}, Some(&cookie)).await;
    assert_eq!(out.status, StatusCode::OK);
    assert_eq!(out.location(), Some("/login"));
    assert_eq!(out.session_cookie().as_deref(), Some("caregate_session="));
    assert_eq!(app.call(GetCurrentUser {}, Some(&cookie)).await.status, StatusCode::UNAUTHORIZED, "the replayed cookie is dead");
}

backend_test!(a_session_is_found_by_its_token_and_only_its_digest_is_stored);
async fn a_session_is_found_by_its_token_and_only_its_digest_is_stored(app: TestApp) {
    use sea_orm::{ConnectionTrait, Statement};
    let user = domain::accounts::find_user_by_email(&app.state.db, "root@harbor.test").await.unwrap();
    let token = domain::sessions::start(&app.state.db, user.id).await.unwrap();
    let session = domain::sessions::resolve(&app.state.db, &token).await.unwrap().expect("session found");
    assert_eq!(session.user.email, "root@harbor.test");
    assert_eq!(session.user.company_name, "Harbor Care");
    assert!(!session.recently_reauthenticated(chrono::Utc::now()));

    let backend = app.state.db.get_database_backend();
    let stored = app.state.db.query_all(Statement::from_string(backend, "SELECT id FROM sessions".to_owned())).await.unwrap();
    for row in stored {
        let id: String = row.try_get("", "id").unwrap();
        assert_ne!(id, token.cookie_value(), "the raw token is never stored");
    }
    domain::sessions::end(&app.state.db, &token).await.unwrap();
    assert!(domain::sessions::resolve(&app.state.db, &token).await.unwrap().is_none());
}

backend_test!(wrong_passwords_for_one_account_are_refused_with_429_and_retry_after_while_others_still_sign_in);
async fn wrong_passwords_for_one_account_are_refused_with_429_and_retry_after_while_others_still_sign_in(app: TestApp) {
    for _ in 0..domain::throttle::SIGN_IN_FAILURES_PER_ACCOUNT {
        let wrong = app.call(sign_in("office@sunrise.test", "guess"), None).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    }
    let refused = app.call(sign_in("OFFICE@sunrise.test", domain::demo::DEMO_PASSWORD), None).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "even the right password waits: {}", refused.body);
    let retry_after: u64 = refused.headers.get(http::header::RETRY_AFTER).expect("Retry-After").to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert!(refused.error().to_string().contains("Too many attempts"), "{}", refused.body);
    assert!(refused.session_cookie().is_none());
    app.login("root@sunrise.test").await;
}

backend_test!(one_address_guessing_across_accounts_is_refused_with_429);
async fn one_address_guessing_across_accounts_is_refused_with_429(app: TestApp) {
    let from = |email: String| app.send_from("203.0.113.7", server_fn_request(&sign_in(&email, "guess"), None));
    for n in 0..domain::throttle::SIGN_IN_FAILURES_PER_IP {
        assert_eq!(from(format!("nobody{n}@sunrise.test")).await.status, StatusCode::UNAUTHORIZED);
    }
    let refused = from("someone-else@sunrise.test".into()).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    assert!(refused.headers.contains_key(http::header::RETRY_AFTER));
    app.login("office@sunrise.test").await;
}

backend_test!(a_stolen_session_cannot_guess_the_password_through_re_authentication);
async fn a_stolen_session_cannot_guess_the_password_through_re_authentication(app: TestApp) {
    let cookie = app.login("barbara@sunrise.test").await;
    let confirm = |password: &str| ConfirmPassword { password: password.to_owned() };
    for _ in 0..domain::throttle::SIGN_IN_FAILURES_PER_ACCOUNT {
        let wrong = app.call(confirm("guess"), Some(&cookie)).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "{}", wrong.body);
    }
    let refused = app.call(confirm(domain::demo::DEMO_PASSWORD), Some(&cookie)).await;
    assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "{}", refused.body);
    let new = "a-brand-new-passphrase".to_owned();
    let change = app.call(ChangePassword { current: "guess-again".to_owned(), new: new.clone(), confirm: new }, Some(&cookie)).await;
    assert_eq!(change.status, StatusCode::TOO_MANY_REQUESTS, "password changes share the bound: {}", change.body);
}

backend_test!(a_cross_site_form_post_is_refused_even_with_the_victims_cookie);
async fn a_cross_site_form_post_is_refused_even_with_the_victims_cookie(app: TestApp) {
    let cookie = app.login("root@sunrise.test").await;
    // A browser's form post, not the app's fetch: no `Accept: application/json`, an empty body.
    let post = |headers: Vec<(&'static str, &'static str)>| {
        let mut request = http::Request::post(<ListVisits as ServerFn>::PATH)
            .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header(http::header::COOKIE, &cookie)
            .header(http::header::HOST, "127.0.0.1:3000");
        for (name, value) in headers {
            request = request.header(name, value);
        }
        request.body(axum::body::Body::empty()).unwrap()
    };
    let forged = app.send(post(vec![("origin", "https://evil.example")])).await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    let fetched = app.send(post(vec![("sec-fetch-site", "cross-site")])).await;
    assert_eq!(fetched.status, StatusCode::FORBIDDEN);
    let own = app.send(post(vec![("origin", "http://127.0.0.1:3000"), ("sec-fetch-site", "same-origin")])).await;
    assert_eq!(own.status, StatusCode::OK, "{}", own.body);
}

backend_test!(a_session_cookie_replayed_after_sign_out_is_refused);
async fn a_session_cookie_replayed_after_sign_out_is_refused(app: TestApp) {
    let cookie = app.login("barbara@sunrise.test").await;
    assert_eq!(app.call(ListVisits {}, Some(&cookie)).await.status, StatusCode::OK);
    assert_eq!(app.call(Logout {}, Some(&cookie)).await.status, StatusCode::OK);
    let replayed = app.call(ListVisits {}, Some(&cookie)).await;
    assert_eq!(replayed.status, StatusCode::UNAUTHORIZED, "{}", replayed.body);
    assert_eq!(app.get("/portal", Some(&cookie)).await.location().map(|l| l.starts_with("/login")), Some(true));
}
