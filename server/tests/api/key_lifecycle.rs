//! A key's life beyond mint and revoke: the public leak report (`POST /api/v1/credentials/revoke`), IP
//! allowlists through a trusted proxy, and rolling a key with an overlap — in the web app and at the command
//! line.
use std::sync::Arc;

use app::api::activity::ListActivity;
use app::api::alerts::ListAlerts;
use app::api::keys::{MintKey, RevokeKey, RollKey, SetKeyAllowlist, UpdateKeyPolicy};
use app::model::{Action, ActivityFilter, ActorKind, AlertKind, ExpiryChoice, KeyFilter, KeyPolicy, KeyStatus, MintRequest, RollOverlap};
use axum::body::Body;
use chrono::{Duration, Utc};
use domain::keys::leaks::{MAX_ARGON2_PER_REPORT, MAX_CREDENTIALS};
use domain::keys::principal::KeyAuthError;
use domain::keys::token::TokenEnvironment;
use domain::keys::verifier::Verifier;
use domain::mail::Mailer;
use domain::model::Scope;
use http::{Request, StatusCode};
use serde_json::json;

use crate::helpers::{authenticate, backend_test, forge_secret, fresh_sqlite, spawn_app_with, Backend, TestApp, TestResponse};
use crate::mail::{smtp_server, unfold};

const REPORT: &str = "/api/v1/credentials/revoke";
const PROXY: &str = "10.0.0.5";

/// A leak report with exactly `body`, from `peer`.
async fn report(app: &TestApp, peer: &str, body: impl Into<Body>) -> TestResponse {
    let request = Request::post(REPORT).header("content-type", "application/json").body(body.into()).unwrap();
    app.send_from(peer, request).await
}

/// `GET /api/v1/me` with `token`, through the trusted proxy for the client `client`.
async fn me_from(app: &TestApp, client: &str, token: &str) -> TestResponse {
    let request =
        Request::get("/api/v1/me").header("authorization", format!("Bearer {token}")).header("x-forwarded-for", client).body(Body::empty()).unwrap();
    app.send_from(PROXY, request).await
}

fn mint_request(label: &str, expiry: Option<ExpiryChoice>, allowed_ips: &[&str]) -> MintKey {
    MintKey {
        request: MintRequest {
            label: label.to_owned(),
            expiry,
            scopes: vec!["read:visits".to_owned()],
            allowed_ips: allowed_ips.iter().map(|ip| (*ip).to_owned()).collect(),
        },
    }
}

async fn feed(app: &TestApp, cookie: &str) -> Vec<domain::model::ActivityView> {
    app.call(ListActivity { filter: ActivityFilter { per_page: 200, ..ActivityFilter::default() } }, Some(cookie)).await.output().events
}

backend_test!(a_leaked_key_reported_by_anyone_is_revoked_and_its_owner_is_told);
async fn a_leaked_key_reported_by_anyone_is_revoked_and_its_owner_is_told(backend: Backend) {
    let (url, inbox) = smtp_server().await;
    let app = spawn_app_with(backend, |config| config.mailer = Arc::new(Mailer::new(Some(&url), "noreply@care.test").unwrap())).await;
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let (leaked_id, leaked) = app.mint_ok(&barbara, "Home Laptop – Cursor").await;
    let (_, kept) = app.mint_ok(&barbara, "Still private").await;

    let answer = report(&app, "198.51.100.23", json!({ "credentials": [leaked, forge_secret(&kept), "cg_test_not-even-a-key"] }).to_string()).await;
    assert_eq!(answer.status, StatusCode::ACCEPTED, "{}", answer.body);
    assert_eq!(answer.json(), json!({}), "the answer tells nothing about any token");
    assert_eq!(app.me(&leaked).await.json()["code"], "revoked_key", "the leaked key stops at once");
    assert_eq!(app.me(&kept).await.status, StatusCode::OK, "a forged secret with a real Key ID revokes nothing");

    let nothing = report(&app, "198.51.100.23", json!({ "credentials": ["cg_test_nonsense", "hello"] }).to_string()).await;
    assert_eq!((nothing.status, nothing.body.clone()), (answer.status, answer.body.clone()), "a report of nothing real looks the same");
    let again = report(&app, "198.51.100.23", json!({ "credentials": [leaked] }).to_string()).await;
    assert_eq!(again.status, StatusCode::ACCEPTED, "a token reported twice is still 202");

    let root = app.login("root@sunrise.test").await;
    let reported: Vec<_> = feed(&app, &root).await.into_iter().filter(|event| event.action == Action::KeyReportedLeaked).collect();
    assert_eq!(reported.len(), 1, "recorded once: {reported:?}");
    assert_eq!(reported[0].key_id.as_deref(), Some(leaked_id.as_str()));
    assert_eq!(reported[0].ip.as_deref(), Some("198.51.100.23"), "with the reporter's address");
    assert_eq!(reported[0].actor_kind, ActorKind::UnknownClient);
    assert!(reported[0].target.contains("revoked: reported as leaked"), "{}", reported[0].target);

    let alerts = app.call(ListAlerts { page: 1 }, Some(&barbara)).await.output().alerts;
    let alert = alerts.iter().find(|alert| alert.kind == AlertKind::KeyReportedLeaked).expect("an alert for the owner");
    assert_eq!(alert.message, "Your key 'Home Laptop – Cursor' was reported as leaked and has been revoked");
    assert_eq!(alert.key_id.as_deref(), Some(leaked_id.as_str()));

    let received = inbox.lock().unwrap().clone();
    assert_eq!(received.len(), 1, "one e-mail: {received:?}");
    assert_eq!(received[0].recipients, vec!["barbara@sunrise.test"]);
    let mail = unfold(&received[0].data);
    assert!(mail.contains("reported as leaked and has been revoked"), "{mail}");
    assert!(!mail.contains(&leaked), "the token is not mailed back");
}

backend_test!(a_leaked_oauth_token_revokes_its_connection);
async fn a_leaked_oauth_token_revokes_its_connection(app: TestApp) {
    for kind in ["access_token", "refresh_token"] {
        let (_, tokens) = crate::oauth::connect(&app, "office@sunrise.test", &[Scope::ReadVisits]).await;
        let access = tokens["access_token"].as_str().unwrap().to_owned();
        assert_eq!(crate::oauth::mcp(&app, &access, "tools/list", json!({})).await.status, StatusCode::OK);
        let answer = report(&app, "198.51.100.24", json!({ "credentials": [tokens[kind]] }).to_string()).await;
        assert_eq!(answer.status, StatusCode::ACCEPTED);
        assert_eq!(
            crate::oauth::mcp(&app, &access, "tools/list", json!({})).await.status,
            StatusCode::UNAUTHORIZED,
            "a leaked {kind} revokes the connection"
        );
    }
}

backend_test!(leak_reports_are_bounded_in_size_shape_and_rate);
async fn leak_reports_are_bounded_in_size_shape_and_rate(app: TestApp) {
    let peer = "198.51.100.30";
    let too_many: Vec<String> = (0..=MAX_CREDENTIALS).map(|n| format!("cg_test_{n}")).collect();
    assert_eq!(report(&app, peer, json!({ "credentials": too_many }).to_string()).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let at_most: Vec<String> = (0..MAX_CREDENTIALS).map(|n| format!("cg_test_{n}")).collect();
    assert_eq!(report(&app, peer, json!({ "credentials": at_most }).to_string()).await.status, StatusCode::ACCEPTED);
    for malformed in ["{", "[]", "{\"credentials\": \"cg_test_x\"}", "{\"tokens\": []}", ""] {
        assert_eq!(report(&app, peer, malformed).await.status, StatusCode::BAD_REQUEST, "{malformed:?}");
    }
    for _ in 7..60 {
        assert_eq!(report(&app, peer, "{\"credentials\": []}").await.status, StatusCode::ACCEPTED);
    }
    let limited = report(&app, peer, "{\"credentials\": []}").await;
    assert_eq!(limited.status, StatusCode::TOO_MANY_REQUESTS, "the 61st report of the hour");
    let retry: u64 = limited.headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((3_000..=3_600).contains(&retry), "until the hour that began with the first report ends: {retry}");
    assert_eq!(report(&app, "198.51.100.31", "{\"credentials\": []}").await.status, StatusCode::ACCEPTED, "another address is not held back");
}

backend_test!(one_report_runs_argon2_a_bounded_number_of_times);
async fn one_report_runs_argon2_a_bounded_number_of_times(app: TestApp) {
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let (_, token) = app.mint_ok(&barbara, "Target").await;
    let forged: Vec<String> = (0..MAX_ARGON2_PER_REPORT * 2).map(|_| forge_secret(&token)).chain([token.clone()]).collect();
    let done =
        domain::keys::leaks::revoke_reported(&app.state.db, &Mailer::log_only(), &forged, TokenEnvironment::Test, &Default::default(), Utc::now())
            .await
            .unwrap();
    assert_eq!(done.argon2_runs as usize, MAX_ARGON2_PER_REPORT, "the bound holds");
    assert_eq!(done.revoked, 0, "a real token past the bound is not checked");
    assert_eq!(app.me(&token).await.status, StatusCode::OK);
}

backend_test!(an_allowlisted_key_works_only_from_its_addresses_behind_a_trusted_proxy);
async fn an_allowlisted_key_works_only_from_its_addresses_behind_a_trusted_proxy(backend: Backend) {
    let app = spawn_app_with(backend, |config| config.trusted_proxies = domain::net::TrustedProxies::parse("10.0.0.0/24").unwrap()).await;
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let minted = app.call(mint_request("Office only", None, &["203.0.113.0/24, 2001:db8::/32", "198.51.100.7"]), Some(&barbara)).await.output();
    assert_eq!(minted.key.allowed_ips, ["203.0.113.0/24", "2001:db8::/32", "198.51.100.7"]);
    let token = minted.token.expose().to_owned();
    for allowed in ["203.0.113.9", "2001:db8:5::1", "198.51.100.7"] {
        assert_eq!(me_from(&app, allowed, &token).await.status, StatusCode::OK, "{allowed}");
    }
    for refused in ["198.51.100.8", "2001:db9::1", "192.0.2.1"] {
        let answer = me_from(&app, refused, &token).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{refused}");
        assert_eq!(answer.json()["code"], "ip_not_allowed");
    }
    let direct = Request::get("/api/v1/me").header("authorization", format!("Bearer {token}")).header("x-forwarded-for", "203.0.113.9");
    assert_eq!(
        app.send_from("192.0.2.50", direct.body(Body::empty()).unwrap()).await.status,
        StatusCode::FORBIDDEN,
        "only a trusted proxy says who the client is"
    );
    assert!(app.metrics().await.body.contains("ip_not_allowed"), "refusals are counted");

    app.state.activity.flush().await;
    let root = app.login("root@sunrise.test").await;
    let refusal = feed(&app, &root)
        .await
        .into_iter()
        .find(|event| event.action == Action::KeyAuthFailed && event.key_id.as_deref() == Some(minted.key.key_id.as_str()))
        .expect("the refusal is on the feed, naming the key");
    assert!(refusal.target.contains("may not be used from"), "{}", refusal.target);

    let wrong = app.call(SetKeyAllowlist { key_id: minted.key.key_id.clone(), allowed_ips: vec!["office".to_owned()] }, Some(&barbara)).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    let anywhere = app.call(SetKeyAllowlist { key_id: minted.key.key_id.clone(), allowed_ips: vec![] }, Some(&barbara)).await.output();
    assert!(anywhere.allowed_ips.is_empty());
    // Widening a list does not wait: it applies once the copy this node read is older than the bound.
    tokio::time::sleep(domain::keys::freshness::STALENESS).await;
    assert_eq!(me_from(&app, "192.0.2.1", &token).await.status, StatusCode::OK, "an emptied list allows any address");
    let narrowed = app.call(SetKeyAllowlist { key_id: minted.key.key_id.clone(), allowed_ips: vec!["192.0.2.0/24".to_owned()] }, Some(&root)).await;
    assert_eq!(narrowed.status, StatusCode::OK, "a Root User edits any key of the company");
    assert_eq!(me_from(&app, "203.0.113.9", &token).await.status, StatusCode::FORBIDDEN, "the change applies on the next request");
    let harbor = app.login("root@harbor.test").await;
    let foreign = app.call(SetKeyAllowlist { key_id: minted.key.key_id.clone(), allowed_ips: vec![] }, Some(&harbor)).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND);
}

backend_test!(a_rolled_key_works_until_its_overlap_ends_and_never_past_its_own_expiry);
async fn a_rolled_key_works_until_its_overlap_ends_and_never_past_its_own_expiry(app: TestApp) {
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let old = app.call(mint_request("Claude on my laptop", Some(ExpiryChoice::Days(30)), &["203.0.113.0/24"]), Some(&barbara)).await.output();
    let old_token = old.token.expose().to_owned();
    let rolled = app.call(RollKey { key_id: old.key.key_id.clone(), overlap: RollOverlap::OneHour }, Some(&barbara)).await.output();
    let new_token = rolled.token.expose().to_owned();
    assert_ne!(rolled.key.key_id, old.key.key_id);
    assert_eq!(
        (rolled.key.label.as_str(), rolled.key.scopes.clone(), rolled.key.allowed_ips.clone()),
        ("Claude on my laptop", old.key.scopes.clone(), old.key.allowed_ips.clone())
    );
    let lifetime = rolled.key.expires_at.unwrap() - rolled.key.created_at;
    assert_eq!(lifetime.num_days(), 30, "the new key lives as long as the old one was made to");

    let page = app.list_keys(&barbara, KeyFilter { per_page: 100, ..KeyFilter::default() }).await;
    let listed = page.keys.iter().find(|key| key.key_id == old.key.key_id).unwrap();
    assert_eq!(listed.rolled_to.as_deref(), Some(rolled.key.key_id.as_str()));
    assert_eq!(listed.status, KeyStatus::Active);
    let stops = listed.expires_at.unwrap() - Utc::now();
    assert!(stops <= Duration::hours(1) && stops > Duration::minutes(55), "{stops}");

    let db = &app.state.db;
    let verifier = Verifier::new(TokenEnvironment::Test, false);
    let office = Some("203.0.113.5");
    assert!(verifier.authenticate(db, &old_token, office, Utc::now()).await.is_ok(), "the old key works during the overlap");
    assert!(verifier.authenticate(db, &new_token, office, Utc::now()).await.is_ok());
    let later = Utc::now() + Duration::minutes(61);
    assert!(matches!(verifier.authenticate(db, &old_token, office, later).await, Err(KeyAuthError::Expired { .. })), "and not after it");
    assert!(verifier.authenticate(db, &new_token, office, later).await.is_ok());
    assert!(matches!(authenticate(db, &new_token, Utc::now()).await, Err(KeyAuthError::IpNotAllowed { .. })), "the allowlist came along");

    let twice = app.call(RollKey { key_id: old.key.key_id.clone(), overlap: RollOverlap::OneHour }, Some(&barbara)).await;
    assert_eq!(twice.status, StatusCode::CONFLICT, "a key is rolled once");
    let short = app.call(mint_request("Short", Some(ExpiryChoice::Days(1)), &[]), Some(&barbara)).await.output();
    let capped = app.call(RollKey { key_id: short.key.key_id.clone(), overlap: RollOverlap::SevenDays }, Some(&barbara)).await;
    assert_eq!(capped.status, StatusCode::OK);
    let page = app.list_keys(&barbara, KeyFilter { per_page: 100, ..KeyFilter::default() }).await;
    let short_now = page.keys.iter().find(|key| key.key_id == short.key.key_id).unwrap();
    assert_eq!(short_now.expires_at, short.key.expires_at, "a 7-day overlap never outlives the key's own expiry");

    let root = app.login("root@sunrise.test").await;
    let events = feed(&app, &root).await;
    let roll =
        events.iter().find(|event| event.action == Action::KeyRolled && event.key_id.as_deref() == Some(old.key.key_id.as_str())).expect("the roll");
    assert!(roll.target.contains(&old.key.key_id) && roll.target.contains(&rolled.key.key_id), "the feed names both keys: {}", roll.target);
    let minted =
        events.iter().find(|event| event.action == Action::KeyMinted && event.key_id.as_deref() == Some(rolled.key.key_id.as_str())).unwrap();
    assert!(minted.target.contains(&old.key.key_id), "{}", minted.target);

    let unconfirmed = app.login("barbara@sunrise.test").await;
    let fresh = app.call(mint_request("Another", None, &[]), Some(&barbara)).await.output();
    let refused = app.call(RollKey { key_id: fresh.key.key_id.clone(), overlap: RollOverlap::Now }, Some(&unconfirmed)).await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "rolling asks for the password again, as minting does");
    let by_root =
        app.call(RollKey { key_id: fresh.key.key_id.clone(), overlap: RollOverlap::Now }, Some(&app.login_for_keys("root@sunrise.test").await)).await;
    assert_eq!(by_root.status, StatusCode::OK, "a Root User rolls any key they can see");
    assert!(
        matches!(authenticate(db, fresh.token.expose(), Utc::now()).await, Err(KeyAuthError::Expired { .. })),
        "overlap now: the old key stops at once"
    );
    assert_eq!(app.call(RevokeKey { key_id: by_root.output().key.key_id }, Some(&barbara)).await.status, StatusCode::OK);
}

backend_test!(a_key_in_a_roll_counts_once_against_the_active_key_limit);
async fn a_key_in_a_roll_counts_once_against_the_active_key_limit(app: TestApp) {
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let user = domain::accounts::find_user_by_email(&app.state.db, "barbara@sunrise.test").await.unwrap();
    let before = domain::keys::service::count_active(&app.state.db, user.id, Utc::now()).await.unwrap() as u32;
    let root = app.login("root@sunrise.test").await;
    let policy = KeyPolicy { max_active_keys: before + 1, ..KeyPolicy::default() };
    assert_eq!(app.call(UpdateKeyPolicy { policy }, Some(&root)).await.status, StatusCode::OK);

    let (key_id, _) = app.mint_ok(&barbara, "The last one allowed").await;
    assert_eq!(app.mint(&barbara, "One too many").await.status, StatusCode::CONFLICT);
    let rolled = app.call(RollKey { key_id, overlap: RollOverlap::SevenDays }, Some(&barbara)).await;
    assert_eq!(rolled.status, StatusCode::OK, "rolling at the limit is allowed: {}", rolled.body);
    assert_eq!(domain::keys::service::count_active(&app.state.db, user.id, Utc::now()).await.unwrap() as u32, before + 1, "the pair counts once");
    let over = app.mint(&barbara, "Still one too many").await;
    assert_eq!(over.status, StatusCode::CONFLICT);

    assert_eq!(app.call(RevokeKey { key_id: rolled.output().key.key_id }, Some(&barbara)).await.status, StatusCode::OK);
    assert_eq!(
        domain::keys::service::count_active(&app.state.db, user.id, Utc::now()).await.unwrap() as u32,
        before + 1,
        "with its successor revoked, the rolled key counts again while it works"
    );
}

fn caregate(database_url: &str, args: &[&str]) -> (bool, String, String) {
    crate::cli::caregate(database_url, args, "")
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_mint_with_an_allowlist_and_roll_a_key_from_the_command_line() {
    let (url, _dir) = fresh_sqlite();
    assert!(caregate(&url, &["seed", "--demo"]).0);
    let mint = ["keys", "mint", "--email", "barbara@sunrise.test", "--label", "Ops", "--all-scopes", "--allow-ip", "203.0.113.0/24,2001:db8::/32"];
    let (ok, out, err) = caregate(&url, &mint);
    assert!(ok, "{err}");
    let old_token = out.trim().to_owned();
    let db = domain::db::connect(&url).await.unwrap();
    let verifier = Verifier::new(TokenEnvironment::Test, false);
    let old = verifier.authenticate(&db, &old_token, Some("2001:db8::7"), Utc::now()).await.unwrap();
    assert!(matches!(verifier.authenticate(&db, &old_token, Some("192.0.2.1"), Utc::now()).await, Err(KeyAuthError::IpNotAllowed { .. })));

    let (ok, out, err) = caregate(&url, &["keys", "roll", old.key_id.as_str(), "--overlap", "1h"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1, "only the new token on stdout: {out:?}");
    let new_token = out.trim();
    assert!(new_token.starts_with("cg_test_") && new_token != old_token);
    let new = verifier.authenticate(&db, new_token, Some("203.0.113.1"), Utc::now()).await.unwrap();
    assert_eq!(new.label, "Ops");
    assert!(verifier.authenticate(&db, &old_token, Some("203.0.113.1"), Utc::now()).await.is_ok(), "the old key works for the hour");
    // An hour on, a process reads the key afresh (this verifier's copy is younger than the bound, its clock is not).
    let later = Utc::now() + Duration::minutes(61);
    let fresh = Verifier::new(TokenEnvironment::Test, false);
    assert!(matches!(fresh.authenticate(&db, &old_token, Some("203.0.113.1"), later).await, Err(KeyAuthError::Expired { .. })));

    let (ok, _, err) = caregate(&url, &["keys", "roll", old.key_id.as_str()]);
    assert!(!ok && err.contains("already rolled"), "{err}");
    let (ok, _, err) = caregate(&url, &["keys", "roll", new.key_id.as_str(), "--overlap", "3h"]);
    assert!(!ok && err.contains("3h"), "{err}");
    let (ok, _, err) = caregate(&url, &["keys", "mint", "--email", "barbara@sunrise.test", "--label", "Bad", "--all-scopes", "--allow-ip", "office"]);
    assert!(!ok && err.contains("office"), "{err}");
}
