//! Signing in and out through the real server functions, with the status codes a browser sees.
use http::StatusCode;

use crate::helpers::spawn_apps;

#[tokio::test(flavor = "multi_thread")]
async fn signing_in_sets_a_hardened_session_cookie_and_redirects_home() {
    for app in spawn_apps().await {
        let response = app.call("session/login", &[("email", "Barbara@Sunrise.test"), ("password", "caregate-demo")], None).await;
        assert_eq!(response.status, StatusCode::OK, "[{}] {}", app.backend, response.body);
        let cookie = response.headers.get(http::header::SET_COOKIE).unwrap().to_str().unwrap();
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax") && cookie.contains("Path=/"), "{cookie}");
        assert!(!cookie.contains("Secure"), "plain-http test deployments do not mark cookies Secure");
        assert_eq!(response.location(), Some("/portal"));

        let me = app.call("session/me", &[], Some(&response.session_cookie().unwrap())).await;
        assert_eq!(me.status, StatusCode::OK);
        assert_eq!(me.json()["email"], "barbara@sunrise.test");
        assert_eq!(me.json()["role"], "caregiver");
        assert_eq!(me.json()["company_name"], "Sunrise Home Care");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn sign_in_follows_next_only_to_the_users_own_pages() {
    for app in spawn_apps().await {
        let to_patients =
            app.call("session/login", &[("email", "root@sunrise.test"), ("password", "caregate-demo"), ("next", "/patients")], None).await;
        assert_eq!(to_patients.location(), Some("/patients"));
        let off_site =
            app.call("session/login", &[("email", "root@sunrise.test"), ("password", "caregate-demo"), ("next", "//evil.test")], None).await;
        assert_eq!(off_site.location(), Some("/"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_password_and_an_unknown_email_get_the_same_401() {
    for app in spawn_apps().await {
        let wrong = app.call("session/login", &[("email", "root@sunrise.test"), ("password", "not-the-password")], None).await;
        let unknown = app.call("session/login", &[("email", "nobody@sunrise.test"), ("password", "caregate-demo")], None).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "[{}] {}", app.backend, wrong.body);
        assert_eq!(unknown.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.body, unknown.body);
        assert!(wrong.body.contains("Invalid email or password"), "{}", wrong.body);
        assert!(wrong.session_cookie().is_none());
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_inactive_user_cannot_sign_in_and_loses_their_session() {
    for app in spawn_apps().await {
        let cookie = app.login("carl@sunrise.test").await;
        let carl = domain::accounts::find_user_by_email(&app.state.db, "carl@sunrise.test").await.unwrap();
        domain::accounts::set_active(&app.state.db, carl.id, false).await.unwrap();

        let again = app.call("session/login", &[("email", "carl@sunrise.test"), ("password", "caregate-demo")], None).await;
        assert_eq!(again.status, StatusCode::UNAUTHORIZED);
        assert!(again.body.contains("Invalid email or password"));
        assert_eq!(app.call("session/me", &[], Some(&cookie)).await.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn server_functions_without_a_session_answer_401_not_500() {
    for app in spawn_apps().await {
        for endpoint in ["session/me", "care/visits", "care/schedule", "care/patients", "care/messages"] {
            let response = app.call(endpoint, &[], None).await;
            assert_eq!(response.status, StatusCode::UNAUTHORIZED, "[{}] {endpoint}: {}", app.backend, response.body);
            assert_eq!(response.json()["Unauthorized"], "Please sign in to continue");
        }
        let forged = app.call("session/me", &[], Some("caregate_session=0000")).await;
        assert_eq!(forged.status, StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn signing_out_ends_the_session_on_the_server() {
    for app in spawn_apps().await {
        let cookie = app.login("office@sunrise.test").await;
        assert_eq!(app.call("session/me", &[], Some(&cookie)).await.status, StatusCode::OK);
        let out = app.call("session/logout", &[], Some(&cookie)).await;
        assert_eq!(out.status, StatusCode::OK);
        assert_eq!(out.location(), Some("/login"));
        assert_eq!(out.session_cookie().as_deref(), Some("caregate_session="));
        assert_eq!(app.call("session/me", &[], Some(&cookie)).await.status, StatusCode::UNAUTHORIZED, "the replayed cookie is dead");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_is_found_by_its_token_and_only_its_digest_is_stored() {
    use sea_orm::{ConnectionTrait, Statement};
    for app in spawn_apps().await {
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
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_for_one_account_are_refused_with_429_and_retry_after_while_others_still_sign_in() {
    for app in spawn_apps().await {
        for _ in 0..domain::throttle::SIGN_IN_FAILURES_PER_ACCOUNT {
            let wrong = app.call("session/login", &[("email", "office@sunrise.test"), ("password", "guess")], None).await;
            assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "[{}] {}", app.backend, wrong.body);
        }
        let refused = app.call("session/login", &[("email", "OFFICE@sunrise.test"), ("password", domain::demo::DEMO_PASSWORD)], None).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "[{}] even the right password waits: {}", app.backend, refused.body);
        let retry_after: u64 = refused.headers.get(http::header::RETRY_AFTER).expect("Retry-After").to_str().unwrap().parse().unwrap();
        assert!((1..=900).contains(&retry_after), "{retry_after}");
        assert!(refused.body.contains("Too many attempts"), "{}", refused.body);
        assert!(refused.session_cookie().is_none());
        app.login("root@sunrise.test").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn one_address_guessing_across_accounts_is_refused_with_429() {
    for app in spawn_apps().await {
        let from = |email: String| {
            let body = format!("email={}&password=guess", email.replace('@', "%40"));
            let mut request = http::Request::post("/api/session/login")
                .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(http::header::ACCEPT, "application/json")
                .body(axum::body::Body::from(body))
                .unwrap();
            request.extensions_mut().insert(axum::extract::ConnectInfo(std::net::SocketAddr::from(([203, 0, 113, 7], 40000))));
            request
        };
        for n in 0..domain::throttle::SIGN_IN_FAILURES_PER_IP {
            assert_eq!(app.send(from(format!("nobody{n}@sunrise.test"))).await.status, StatusCode::UNAUTHORIZED);
        }
        let refused = app.send(from("someone-else@sunrise.test".into())).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "[{}] {}", app.backend, refused.body);
        assert!(refused.headers.contains_key(http::header::RETRY_AFTER));
        app.login("office@sunrise.test").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_stolen_session_cannot_guess_the_password_through_re_authentication() {
    for app in spawn_apps().await {
        let cookie = app.login("barbara@sunrise.test").await;
        for _ in 0..domain::throttle::SIGN_IN_FAILURES_PER_ACCOUNT {
            let wrong = app.call("keys/confirm-password", &[("password", "guess")], Some(&cookie)).await;
            assert_eq!(wrong.status, StatusCode::UNAUTHORIZED, "[{}] {}", app.backend, wrong.body);
        }
        let refused = app.call("keys/confirm-password", &[("password", domain::demo::DEMO_PASSWORD)], Some(&cookie)).await;
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS, "[{}] {}", app.backend, refused.body);
        let change = app
            .call(
                "account/password",
                &[("current", "guess-again"), ("new", "a-brand-new-passphrase"), ("confirm", "a-brand-new-passphrase")],
                Some(&cookie),
            )
            .await;
        assert_eq!(change.status, StatusCode::TOO_MANY_REQUESTS, "password changes share the bound: {}", change.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cross_site_form_post_is_refused_even_with_the_victims_cookie() {
    for app in spawn_apps().await {
        let cookie = app.login("root@sunrise.test").await;
        let post = |headers: Vec<(&'static str, &'static str)>| {
            let mut request = http::Request::post("/api/care/visits")
                .header(http::header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header(http::header::COOKIE, &cookie)
                .header(http::header::HOST, "127.0.0.1:3000");
            for (name, value) in headers {
                request = request.header(name, value);
            }
            request.body(axum::body::Body::empty()).unwrap()
        };
        let forged = app.send(post(vec![("origin", "https://evil.example")])).await;
        assert_eq!(forged.status, StatusCode::FORBIDDEN, "[{}] {}", app.backend, forged.body);
        let fetched = app.send(post(vec![("sec-fetch-site", "cross-site")])).await;
        assert_eq!(fetched.status, StatusCode::FORBIDDEN);
        let own = app.send(post(vec![("origin", "http://127.0.0.1:3000"), ("sec-fetch-site", "same-origin")])).await;
        assert_eq!(own.status, StatusCode::OK, "{}", own.body);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_session_cookie_replayed_after_sign_out_is_refused() {
    for app in spawn_apps().await {
        let cookie = app.login("barbara@sunrise.test").await;
        assert_eq!(app.call("care/visits", &[], Some(&cookie)).await.status, StatusCode::OK);
        assert_eq!(app.call("session/logout", &[], Some(&cookie)).await.status, StatusCode::OK);
        let replayed = app.call("care/visits", &[], Some(&cookie)).await;
        assert_eq!(replayed.status, StatusCode::UNAUTHORIZED, "[{}] {}", app.backend, replayed.body);
        assert_eq!(app.get("/portal", Some(&cookie)).await.location().map(|l| l.starts_with("/login")), Some(true));
    }
}
