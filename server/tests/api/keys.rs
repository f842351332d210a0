//! The API key lifecycle through the real server functions: mint once, hash at rest, list by role, revoke,
//! expire, delete, the active-key limit under concurrency, and the activity feed.
use app::api::activity::ListActivity;
use app::api::keys::{ConfirmPassword, DeleteKey, GetKeySetup, ListKeys, RevokeKey, UpdateKeyPolicy};
use app::error::AppError;
use app::model::{ActivityFilter, ActivityPage, ExpiryChoice, KeyPage, KeyPolicy, KeyStatus, Scope};
use chrono::{Duration, NaiveDate, Utc};
use domain::keys::principal::KeyAuthError;
use domain::keys::service::{self, Actor, LIMIT_REACHED};
use domain::keys::token::TokenEnvironment;
use domain::model::KeyFilter;
use http::StatusCode;

use crate::helpers::{authenticate, backend_test, new_key, TestApp};

async fn user(app: &TestApp, email: &str) -> domain::model::CurrentUser {
    let row = domain::accounts::find_user_by_email(&app.state.db, email).await.unwrap();
    domain::accounts::current_user(&app.state.db, row.id).await.unwrap().unwrap()
}

/// The activity feed as the caller of `cookie` sees it through `filter`.
async fn feed(app: &TestApp, cookie: &str, filter: ActivityFilter) -> ActivityPage {
    app.call(ListActivity { filter }, Some(cookie)).await.output()
}

backend_test!(minting_requires_a_recent_password_confirmation);
async fn minting_requires_a_recent_password_confirmation(app: TestApp) {
    let cookie = app.login("root@sunrise.test").await;
    let refused = app.mint(&cookie, "Claude Code").await;
    assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
    assert_eq!(refused.error(), AppError::Unauthorized("Please confirm your password to continue".to_owned()));

    let wrong = app.call(ConfirmPassword { password: "guess".to_owned() }, Some(&cookie)).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert_eq!(wrong.error(), AppError::Unauthorized("That password is not correct".to_owned()));
    assert_eq!(app.mint(&cookie, "Claude Code").await.status, StatusCode::UNAUTHORIZED);

    let setup = app.call(GetKeySetup {}, Some(&cookie)).await.output();
    assert!(!setup.reauthenticated);
    let right = app.call(ConfirmPassword { password: "caregate-demo".to_owned() }, Some(&cookie)).await;
    assert_eq!(right.status, StatusCode::OK);
    let setup = app.call(GetKeySetup {}, Some(&cookie)).await.output();
    assert!(setup.reauthenticated);
    assert_eq!(setup.mcp_url, "http://127.0.0.1:3000/api/mcp");
    assert_eq!(app.mint(&cookie, "Claude Code").await.status, StatusCode::OK);

    let root = user(&app, "root@sunrise.test").await;
    let events = domain::activity::list(&app.state.db, &root, Default::default()).await.unwrap();
    let actions: Vec<&str> = events.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["key.minted", "reauth.succeeded", "reauth.failed"]);
}

backend_test!(a_minted_token_is_shown_once_and_only_its_argon2id_hash_is_stored);
async fn a_minted_token_is_shown_once_and_only_its_argon2id_hash_is_stored(app: TestApp) {
    let cookie = app.login_for_keys("barbara@sunrise.test").await;
    let minted = app.mint(&cookie, "  Barbara's Claude  ").await;
    assert_eq!(minted.status, StatusCode::OK, "{}", minted.body);
    let minted = minted.output();
    let (token, key) = (minted.token.expose(), &minted.key);
    assert!(token.starts_with(&format!("cg_test_{}", key.key_id)) && token.len() == 44, "{token}");
    assert_eq!(key.label, "Barbara's Claude");
    assert_eq!(key.status, KeyStatus::Active);
    assert_eq!(key.scopes, [Scope::ReadVisits, Scope::ReadSchedule, Scope::ReadProfile, Scope::ReadMessages]);
    let expires = key.expires_at.expect("an expiry");
    let days = (expires - Utc::now()).num_hours() as f64 / 24.0;
    assert!((89.9..=90.0).contains(&days), "90 days by default, got {days}");

    let stored = app.stored_text().await;
    assert!(!stored.contains(token), "the full token is stored nowhere");
    assert!(!stored.contains(&token[16..38]), "nor its secret part");
    assert!(stored.contains("$argon2id$v=19$m=19456,t=2,p=1$"), "the secret is an OWASP-strength argon2id hash");

    let listed = app.call(ListKeys { filter: KeyFilter::default() }, Some(&cookie)).await;
    assert_eq!(listed.output().keys[0].key_id, key.key_id);
    assert!(!listed.body.contains(&token[16..38]), "lists never carry the secret");
    assert!(!listed.body.contains("argon2"), "lists never carry the hash");
}

backend_test!(a_revoked_key_is_refused_on_the_very_next_request);
async fn a_revoked_key_is_refused_on_the_very_next_request(app: TestApp) {
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let (key_id, token) = app.mint_ok(&cookie, "Cursor").await;
    let principal = authenticate(&app.state.db, &token, Utc::now()).await.unwrap();
    assert_eq!(principal.user.email, "office@sunrise.test");
    assert_eq!(principal.key_id.as_str(), key_id);

    let revoked = app.call(RevokeKey { key_id: key_id.clone() }, Some(&cookie)).await;
    assert_eq!(revoked.status, StatusCode::OK, "{}", revoked.body);
    assert_eq!(revoked.output().status, KeyStatus::Revoked);
    let next = authenticate(&app.state.db, &token, Utc::now()).await;
    assert!(matches!(next, Err(KeyAuthError::Revoked { .. })), "{next:?}");

    let again = app.call(RevokeKey { key_id: key_id.clone() }, Some(&cookie)).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.error(), AppError::Conflict("This key is already revoked".to_owned()));
}

backend_test!(wrong_secrets_unknown_key_ids_and_malformed_tokens_are_refused);
async fn wrong_secrets_unknown_key_ids_and_malformed_tokens_are_refused(app: TestApp) {
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let (_, token) = app.mint_ok(&cookie, "Cursor").await;
    let auth = |t: String| {
        let db = app.state.db.clone();
        async move { authenticate(&db, &t, Utc::now()).await }
    };
    assert!(matches!(auth(token[..43].to_owned()).await, Err(KeyAuthError::Malformed(_))));
    assert!(matches!(auth(token.replace("cg_test_", "cg_live_")).await, Err(KeyAuthError::Malformed(_))));
    let (other, _) = domain::keys::token::Token::generate(TokenEnvironment::Test);
    assert!(matches!(auth(other.expose().to_owned()).await, Err(KeyAuthError::Invalid { known: None })));
    let forged = crate::helpers::forge_secret(&token);
    assert!(matches!(auth(forged).await, Err(KeyAuthError::Invalid { known: Some(_) })), "right Key ID, wrong secret");
    assert!(auth(token).await.is_ok());
}

backend_test!(keys_expire_by_the_clock_and_deactivated_or_demoted_owners_lose_their_power);
async fn keys_expire_by_the_clock_and_deactivated_or_demoted_owners_lose_their_power(app: TestApp) {
    let cookie = app.login_for_keys("root@sunrise.test").await;
    let (key_id, token) = app.mint_ok(&cookie, "Root key").await;
    let root = user(&app, "root@sunrise.test").await;
    let later = Utc::now() + Duration::days(91);
    assert!(matches!(authenticate(&app.state.db, &token, later).await, Err(KeyAuthError::Expired { .. })));
    let page = service::list(&app.state.db, &Actor::User(&root), KeyFilter::default(), later).await.unwrap();
    let row = page.keys.iter().find(|k| k.key_id == key_id).unwrap();
    assert_eq!(row.status, domain::model::KeyStatus::Expired, "computed from the clock");

    let principal = authenticate(&app.state.db, &token, Utc::now()).await.unwrap();
    assert_eq!(principal.scopes.len(), 7);
    use sea_orm::{ConnectionTrait, Statement};
    let backend = app.state.db.get_database_backend();
    app.state.db.execute(Statement::from_string(backend, format!("UPDATE users SET role = 'caregiver' WHERE id = {}", root.id))).await.unwrap();
    let demoted = authenticate(&app.state.db, &token, Utc::now()).await.unwrap();
    assert_eq!(demoted.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(), vec!["read:visits", "read:schedule", "read:profile", "read:messages"]);

    domain::accounts::set_active(&app.state.db, root.id, false).await.unwrap();
    assert!(matches!(authenticate(&app.state.db, &token, Utc::now()).await, Err(KeyAuthError::InactiveUser { .. })));
}

backend_test!(bad_mint_input_gets_a_422_with_a_reason_and_creates_nothing);
async fn bad_mint_input_gets_a_422_with_a_reason_and_creates_nothing(app: TestApp) {
    let cookie = app.login_for_keys("barbara@sunrise.test").await;
    let long_ago = NaiveDate::from_ymd_opt(2001, 1, 1).unwrap();
    let cases = [
        (new_key("   ", None, &["read:visits"]), "Give the key a label"),
        (new_key(&"x".repeat(101), None, &["read:visits"]), "at most 100 characters"),
        (new_key("ok", None, &["read:everything"]), "Unknown scope"),
        (new_key("ok", None, &["read:patients"]), "cannot grant read:patients"),
        (new_key("ok", Some(ExpiryChoice::Days(91)), &["read:visits"]), "at most 90 days"),
        (new_key("ok", Some(ExpiryChoice::Never), &["read:visits"]), "every key to expire"),
        (new_key("ok", Some(ExpiryChoice::Until(long_ago)), &["read:visits"]), "in the future"),
    ];
    for (mint, message) in cases {
        let request = mint.request.clone();
        let response = app.call(mint, Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "{request:?}: {}", response.body);
        let AppError::Invalid(reason) = response.error() else { panic!("{request:?}: {}", response.body) };
        assert!(reason.contains(message), "{}", response.body);
    }
    assert_eq!(app.list_keys(&cookie, KeyFilter::default()).await.total, 0, "nothing was created");
    let custom = app.call(new_key("Two weeks", Some(ExpiryChoice::Days(14)), &["read:visits"]), Some(&cookie)).await;
    assert_eq!(custom.status, StatusCode::OK);
    assert_eq!(custom.output().key.scopes, [Scope::ReadVisits]);
}

backend_test!(the_eleventh_active_key_is_refused_with_409);
async fn the_eleventh_active_key_is_refused_with_409(app: TestApp) {
    let cookie = app.login_for_keys("carl@sunrise.test").await;
    for n in 0..10 {
        app.mint_ok(&cookie, &format!("Key {n}")).await;
    }
    let eleventh = app.mint(&cookie, "Key 10").await;
    assert_eq!(eleventh.status, StatusCode::CONFLICT, "{}", eleventh.body);
    assert_eq!(eleventh.error(), AppError::Conflict(LIMIT_REACHED.to_owned()));

    let first = app.list_keys(&cookie, KeyFilter { search: Some("Key 0".to_owned()), ..KeyFilter::default() }).await.keys[0].key_id.clone();
    app.call(RevokeKey { key_id: first }, Some(&cookie)).await;
    app.mint_ok(&cookie, "After a revoke").await;
}

backend_test!(the_limit_holds_under_twenty_concurrent_mints);
async fn the_limit_holds_under_twenty_concurrent_mints(app: TestApp) {
    let cookie = app.login_for_keys("office@sunrise.test").await;
    for n in 0..3 {
        app.mint_ok(&cookie, &format!("Existing {n}")).await;
    }
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..20 {
        let (app, cookie) = (app.clone(), cookie.clone());
        tasks.spawn(async move { app.mint(&cookie, &format!("Parallel {n}")).await.status });
    }
    let statuses = tasks.join_all().await;
    let created = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((created, refused), (7, 13), "exactly the remaining slots succeed: {statuses:?}");
    assert_eq!(app.list_keys(&cookie, KeyFilter { status: Some(KeyStatus::Active), ..KeyFilter::default() }).await.total, 10);
}

backend_test!(root_users_see_the_company_others_only_their_own_and_no_one_another_company);
async fn root_users_see_the_company_others_only_their_own_and_no_one_another_company(app: TestApp) {
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let office = app.login_for_keys("office@sunrise.test").await;
    let root = app.login_for_keys("root@sunrise.test").await;
    let harbor = app.login_for_keys("root@harbor.test").await;
    let (barbara_key, _) = app.mint_ok(&barbara, "Barbara's key").await;
    app.mint_ok(&office, "Office key").await;
    let (harbor_key, _) = app.mint_ok(&harbor, "Harbor key").await;

    let owners = |page: KeyPage| -> Vec<String> { page.keys.into_iter().map(|k| k.owner_name).collect() };
    assert_eq!(owners(app.list_keys(&root, KeyFilter::default()).await), vec!["Owen Price", "Barbara Lee"], "newest first");
    assert_eq!(owners(app.list_keys(&barbara, KeyFilter::default()).await), vec!["Barbara Lee"]);
    assert_eq!(owners(app.list_keys(&office, KeyFilter::default()).await), vec!["Owen Price"]);
    let barbara_id = user(&app, "barbara@sunrise.test").await.id;
    assert_eq!(
        owners(app.list_keys(&office, KeyFilter { user_id: Some(barbara_id), ..KeyFilter::default() }).await),
        Vec::<String>::new(),
        "a user filter cannot widen a user's view"
    );
    assert_eq!(owners(app.list_keys(&harbor, KeyFilter::default()).await), vec!["Hugo Andersen"]);

    for (cookie, key) in [(&harbor, &barbara_key), (&root, &harbor_key), (&office, &barbara_key)] {
        let response = app.call(RevokeKey { key_id: key.clone() }, Some(cookie)).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{}", response.body);
        assert_eq!(response.error(), AppError::NotFound("API key not found".to_owned()));
    }
    assert_eq!(app.call(RevokeKey { key_id: "nonsense!".to_owned() }, Some(&root)).await.status, StatusCode::NOT_FOUND);
    let by_root = app.call(RevokeKey { key_id: barbara_key.clone() }, Some(&root)).await;
    assert_eq!(by_root.status, StatusCode::OK, "a Root User revokes any key of the company");
}

backend_test!(only_root_users_delete_and_only_dead_keys);
async fn only_root_users_delete_and_only_dead_keys(app: TestApp) {
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let root = app.login_for_keys("root@sunrise.test").await;
    let harbor = app.login("root@harbor.test").await;
    let (key_id, _) = app.mint_ok(&barbara, "Soon gone").await;
    let delete = || DeleteKey { key_id: key_id.clone() };

    let active = app.call(delete(), Some(&root)).await;
    assert_eq!(active.status, StatusCode::CONFLICT, "{}", active.body);
    assert_eq!(active.error(), AppError::Conflict("Revoke this key before deleting it".to_owned()));
    app.call(RevokeKey { key_id: key_id.clone() }, Some(&barbara)).await;

    let by_owner = app.call(delete(), Some(&barbara)).await;
    assert_eq!(by_owner.status, StatusCode::FORBIDDEN);
    let office = app.login("office@sunrise.test").await;
    assert_eq!(app.call(delete(), Some(&office)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.call(delete(), Some(&harbor)).await.status, StatusCode::NOT_FOUND);

    let deleted = app.call(delete(), Some(&root)).await;
    assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
    assert_eq!(app.list_keys(&root, KeyFilter::default()).await.total, 0);
    assert_eq!(app.list_keys(&barbara, KeyFilter::default()).await.total, 0);
    assert_eq!(app.call(delete(), Some(&root)).await.status, StatusCode::NOT_FOUND);
}

backend_test!(root_users_filter_search_and_page_through_keys);
async fn root_users_filter_search_and_page_through_keys(app: TestApp) {
    let root = app.login_for_keys("root@sunrise.test").await;
    let carl = app.login_for_keys("carl@sunrise.test").await;
    for label in ["Claude desktop", "Cursor laptop", "CLAUDE server", "100%_weird"] {
        app.mint_ok(&root, label).await;
    }
    let (carl_key, _) = app.mint_ok(&carl, "Carl's Claude").await;
    app.call(RevokeKey { key_id: carl_key.clone() }, Some(&carl)).await;

    let search = |text: &str| KeyFilter { search: Some(text.to_owned()), ..KeyFilter::default() };
    assert_eq!(app.list_keys(&root, search("claude")).await.total, 3, "case-insensitive");
    assert_eq!(app.list_keys(&root, search("%_")).await.total, 1, "wildcards are literal");
    assert_eq!(app.list_keys(&root, KeyFilter { status: Some(KeyStatus::Revoked), ..KeyFilter::default() }).await.keys[0].key_id, carl_key);
    let carl_id = user(&app, "carl@sunrise.test").await.id;
    assert_eq!(app.list_keys(&root, KeyFilter { user_id: Some(carl_id), ..KeyFilter::default() }).await.total, 1);
    let first = app.list_keys(&root, KeyFilter { per_page: 2, page: 1, ..KeyFilter::default() }).await;
    let third = app.list_keys(&root, KeyFilter { per_page: 2, page: 3, ..KeyFilter::default() }).await;
    assert_eq!(first.total, 5);
    assert_eq!(first.keys.len(), 2);
    assert_eq!(third.keys.len(), 1);
    assert_eq!(first.keys[0].label, "Carl's Claude", "newest first");
}

backend_test!(the_activity_feed_records_key_events_with_the_apps_visibility);
async fn the_activity_feed_records_key_events_with_the_apps_visibility(app: TestApp) {
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let root = app.login_for_keys("root@sunrise.test").await;
    let (key_id, token) = app.mint_ok(&barbara, "Feed key").await;
    app.call(RevokeKey { key_id: key_id.clone() }, Some(&root)).await;
    app.call(DeleteKey { key_id: key_id.clone() }, Some(&root)).await;

    let company = feed(&app, &root, ActivityFilter { key_id: Some(key_id.clone()), ..ActivityFilter::default() }).await;
    let actions: Vec<&str> = company.events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["key.deleted", "key.revoked", "key.minted"]);
    assert_eq!(company.events[2].actor_name.as_deref(), Some("Barbara Lee"));
    assert_eq!(company.events[0].actor_name.as_deref(), Some("Rosa Martinez"));

    let own = feed(&app, &barbara, ActivityFilter::default()).await;
    assert!(own.events.iter().all(|e| e.actor_name.as_deref() == Some("Barbara Lee")), "{own:?}");
    let harbor = app.login("root@harbor.test").await;
    let foreign = feed(&app, &harbor, ActivityFilter::default()).await.events;
    assert!(foreign.is_empty(), "{foreign:?}");
    let first = feed(&app, &root, ActivityFilter { per_page: 2, ..ActivityFilter::default() }).await;
    assert_eq!(first.events.len(), 2);
    assert!(first.has_more, "the pager knows an older page exists without counting");
    let last = feed(&app, &root, ActivityFilter { per_page: 2, page: 50, ..ActivityFilter::default() }).await;
    assert!(!last.has_more);
    assert!(!app.stored_text().await.contains(&token[16..38]), "no event holds the secret");
}

backend_test!(root_users_set_the_key_policy_within_its_bounds);
async fn root_users_set_the_key_policy_within_its_bounds(app: TestApp) {
    let office = app.login_for_keys("office@sunrise.test").await;
    let root = app.login_for_keys("root@sunrise.test").await;
    let policy = |days: u32, never: bool, max: u32| UpdateKeyPolicy {
        policy: KeyPolicy { lifetime_days: days, allow_non_expiring: never, max_active_keys: max, ..KeyPolicy::default() },
    };
    assert_eq!(app.call(policy(30, false, 5), Some(&office)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.call(policy(0, false, 5), Some(&root)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(app.call(policy(366, false, 5), Some(&root)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let set = app.call(policy(30, true, 2), Some(&root)).await;
    assert_eq!(set.status, StatusCode::OK, "{}", set.body);

    let sixty = app.call(new_key("60", Some(ExpiryChoice::Days(60)), &["read:visits"]), Some(&office)).await;
    assert_eq!(sixty.status, StatusCode::UNPROCESSABLE_ENTITY);
    let default = app.mint(&office, "Default").await.output();
    let expires = default.key.expires_at.expect("an expiry");
    assert!((expires - Utc::now()).num_days() <= 30, "the default shrinks to the policy");
    let never = app.call(new_key("Forever", Some(ExpiryChoice::Never), &["read:visits"]), Some(&office)).await;
    assert_eq!(never.status, StatusCode::OK);
    assert_eq!(never.output().key.expires_at, None);
    assert_eq!(app.mint(&office, "Third").await.status, StatusCode::CONFLICT, "the limit is now 2");
}
