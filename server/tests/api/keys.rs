//! The API key lifecycle through the real server functions: mint once, hash at rest, list by role, revoke,
//! expire, delete, the active-key limit under concurrency, and the activity feed.
use chrono::{Duration, Utc};
use domain::keys::principal::KeyAuthError;
use domain::keys::service::{self, Actor, LIMIT_REACHED};
use domain::keys::token::TokenEnvironment;
use domain::model::KeyFilter;
use http::StatusCode;
use serde_json::json;

use crate::helpers::{authenticate, spawn_apps, TestApp};

async fn user(app: &TestApp, email: &str) -> domain::model::CurrentUser {
    let row = domain::accounts::find_user_by_email(&app.state.db, email).await.unwrap();
    domain::accounts::current_user(&app.state.db, row.id).await.unwrap().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn minting_requires_a_recent_password_confirmation() {
    for app in spawn_apps().await {
        let cookie = app.login("root@sunrise.test").await;
        let refused = app.mint(&cookie, "Claude Code").await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "[{}] {}", app.backend, refused.body);
        assert_eq!(refused.json()["Unauthorized"], "Please confirm your password to continue");

        let wrong = app.call("keys/confirm-password", &[("password", "guess")], Some(&cookie)).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        assert_eq!(wrong.json()["Unauthorized"], "That password is not correct");
        assert_eq!(app.mint(&cookie, "Claude Code").await.status, StatusCode::UNAUTHORIZED);

        let setup = app.call("keys/setup", &[], Some(&cookie)).await.json();
        assert_eq!(setup["reauthenticated"], false);
        let right = app.call("keys/confirm-password", &[("password", "caregate-demo")], Some(&cookie)).await;
        assert_eq!(right.status, StatusCode::OK);
        let setup = app.call("keys/setup", &[], Some(&cookie)).await.json();
        assert_eq!(setup["reauthenticated"], true);
        assert_eq!(setup["mcp_url"], "http://127.0.0.1:3000/api/mcp");
        assert_eq!(app.mint(&cookie, "Claude Code").await.status, StatusCode::OK);

        let root = user(&app, "root@sunrise.test").await;
        let events = domain::activity::list(&app.state.db, &root, Default::default()).await.unwrap();
        let actions: Vec<&str> = events.events.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, vec!["key.minted", "reauth.succeeded", "reauth.failed"], "[{}]", app.backend);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_minted_token_is_shown_once_and_only_its_argon2id_hash_is_stored() {
    for app in spawn_apps().await {
        let cookie = app.login_for_keys("barbara@sunrise.test").await;
        let minted = app.mint(&cookie, "  Barbara's Claude  ").await;
        assert_eq!(minted.status, StatusCode::OK, "{}", minted.body);
        let json = minted.json();
        let token = json["token"].as_str().unwrap();
        let key_id = json["key"]["key_id"].as_str().unwrap();
        assert!(token.starts_with(&format!("cg_test_{key_id}")) && token.len() == 44, "{token}");
        assert_eq!(json["key"]["label"], "Barbara's Claude");
        assert_eq!(json["key"]["status"], "Active");
        assert_eq!(json["key"]["scopes"], json!(["read:visits", "read:schedule", "read:profile", "read:messages"]));
        let expires = chrono::DateTime::parse_from_rfc3339(json["key"]["expires_at"].as_str().unwrap()).unwrap();
        let days = (expires.with_timezone(&Utc) - Utc::now()).num_hours() as f64 / 24.0;
        assert!((89.9..=90.0).contains(&days), "90 days by default, got {days}");

        let stored = app.stored_text().await;
        assert!(!stored.contains(token), "[{}] the full token is stored nowhere", app.backend);
        assert!(!stored.contains(&token[16..38]), "nor its secret part");
        assert!(stored.contains("$argon2id$v=19$m=19456,t=2,p=1$"), "the secret is an OWASP-strength argon2id hash");

        let listed = app.list_keys(&cookie, json!({})).await;
        assert_eq!(listed["keys"][0]["key_id"], key_id);
        assert!(!listed.to_string().contains(&token[16..38]), "lists never carry the secret");
        assert!(!listed.to_string().contains("argon2"), "lists never carry the hash");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_key_is_refused_on_the_very_next_request() {
    for app in spawn_apps().await {
        let cookie = app.login_for_keys("office@sunrise.test").await;
        let (key_id, token) = app.mint_ok(&cookie, "Cursor").await;
        let principal = authenticate(&app.state.db, &token, Utc::now()).await.unwrap();
        assert_eq!(principal.user.email, "office@sunrise.test");
        assert_eq!(principal.key_id.as_str(), key_id);

        let revoked = app.call("keys/revoke", &[("key_id", &key_id)], Some(&cookie)).await;
        assert_eq!(revoked.status, StatusCode::OK, "[{}] {}", app.backend, revoked.body);
        assert_eq!(revoked.json()["status"], "Revoked");
        let next = authenticate(&app.state.db, &token, Utc::now()).await;
        assert!(matches!(next, Err(KeyAuthError::Revoked { .. })), "{next:?}");

        let again = app.call("keys/revoke", &[("key_id", &key_id)], Some(&cookie)).await;
        assert_eq!(again.status, StatusCode::CONFLICT);
        assert_eq!(again.json()["Conflict"], "This key is already revoked");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_secrets_unknown_key_ids_and_malformed_tokens_are_refused() {
    for app in spawn_apps().await {
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
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_expire_by_the_clock_and_deactivated_or_demoted_owners_lose_their_power() {
    for app in spawn_apps().await {
        let cookie = app.login_for_keys("root@sunrise.test").await;
        let (key_id, token) = app.mint_ok(&cookie, "Root key").await;
        let root = user(&app, "root@sunrise.test").await;
        let later = Utc::now() + Duration::days(91);
        assert!(matches!(authenticate(&app.state.db, &token, later).await, Err(KeyAuthError::Expired { .. })));
        let page = service::list(&app.state.db, &Actor::User(&root), KeyFilter::default(), later).await.unwrap();
        let row = page.keys.iter().find(|k| k.key_id == key_id).unwrap();
        assert_eq!(row.status, domain::model::KeyStatus::Expired, "[{}] computed from the clock", app.backend);

        let principal = authenticate(&app.state.db, &token, Utc::now()).await.unwrap();
        assert_eq!(principal.scopes.len(), 7);
        use sea_orm::{ConnectionTrait, Statement};
        let backend = app.state.db.get_database_backend();
        app.state.db.execute(Statement::from_string(backend, format!("UPDATE users SET role = 'caregiver' WHERE id = {}", root.id))).await.unwrap();
        let demoted = authenticate(&app.state.db, &token, Utc::now()).await.unwrap();
        assert_eq!(
            demoted.scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            vec!["read:visits", "read:schedule", "read:profile", "read:messages"]
        );

        domain::accounts::set_active(&app.state.db, root.id, false).await.unwrap();
        assert!(matches!(authenticate(&app.state.db, &token, Utc::now()).await, Err(KeyAuthError::InactiveUser { .. })));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_mint_input_gets_a_422_with_a_reason_and_creates_nothing() {
    for app in spawn_apps().await {
        let cookie = app.login_for_keys("barbara@sunrise.test").await;
        let cases = [
            (json!({ "label": "   ", "expiry": null, "scopes": ["read:visits"] }), "Give the key a label"),
            (json!({ "label": "x".repeat(101), "expiry": null, "scopes": ["read:visits"] }), "at most 100 characters"),
            (json!({ "label": "ok", "expiry": null, "scopes": ["read:everything"] }), "Unknown scope"),
            (json!({ "label": "ok", "expiry": null, "scopes": ["read:patients"] }), "cannot grant read:patients"),
            (json!({ "label": "ok", "expiry": { "days": 91 }, "scopes": ["read:visits"] }), "at most 90 days"),
            (json!({ "label": "ok", "expiry": "never", "scopes": ["read:visits"] }), "every key to expire"),
            (json!({ "label": "ok", "expiry": { "until": "2001-01-01" }, "scopes": ["read:visits"] }), "in the future"),
        ];
        for (request, message) in cases {
            let response = app.call_json("keys/mint", json!({ "request": request }), Some(&cookie)).await;
            assert_eq!(response.status, StatusCode::UNPROCESSABLE_ENTITY, "[{}] {request}: {}", app.backend, response.body);
            assert!(response.json()["Invalid"].as_str().unwrap().contains(message), "{}", response.body);
        }
        assert_eq!(app.list_keys(&cookie, json!({})).await["total"], 0, "nothing was created");
        let custom = app
            .call_json(
                "keys/mint",
                json!({ "request": { "label": "Two weeks", "expiry": { "days": 14 }, "scopes": ["read:visits"] } }),
                Some(&cookie),
            )
            .await;
        assert_eq!(custom.status, StatusCode::OK);
        assert_eq!(custom.json()["key"]["scopes"], json!(["read:visits"]));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_eleventh_active_key_is_refused_with_409() {
    for app in spawn_apps().await {
        let cookie = app.login_for_keys("carl@sunrise.test").await;
        for n in 0..10 {
            app.mint_ok(&cookie, &format!("Key {n}")).await;
        }
        let eleventh = app.mint(&cookie, "Key 10").await;
        assert_eq!(eleventh.status, StatusCode::CONFLICT, "[{}] {}", app.backend, eleventh.body);
        assert_eq!(eleventh.json()["Conflict"], LIMIT_REACHED);

        let first = app.list_keys(&cookie, json!({ "search": "Key 0" })).await["keys"][0]["key_id"].as_str().unwrap().to_owned();
        app.call("keys/revoke", &[("key_id", &first)], Some(&cookie)).await;
        app.mint_ok(&cookie, "After a revoke").await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_limit_holds_under_twenty_concurrent_mints() {
    for app in spawn_apps().await {
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
        assert_eq!((created, refused), (7, 13), "[{}] exactly the remaining slots succeed: {statuses:?}", app.backend);
        assert_eq!(app.list_keys(&cookie, json!({ "status": "Active" })).await["total"], 10);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn root_users_see_the_company_others_only_their_own_and_no_one_another_company() {
    for app in spawn_apps().await {
        let barbara = app.login_for_keys("barbara@sunrise.test").await;
        let office = app.login_for_keys("office@sunrise.test").await;
        let root = app.login_for_keys("root@sunrise.test").await;
        let harbor = app.login_for_keys("root@harbor.test").await;
        let (barbara_key, _) = app.mint_ok(&barbara, "Barbara's key").await;
        app.mint_ok(&office, "Office key").await;
        let (harbor_key, _) = app.mint_ok(&harbor, "Harbor key").await;

        let owners = |page: serde_json::Value| -> Vec<String> {
            page["keys"].as_array().unwrap().iter().map(|k| k["owner_name"].as_str().unwrap().to_owned()).collect()
        };
        assert_eq!(owners(app.list_keys(&root, json!({})).await), vec!["Owen Price", "Barbara Lee"], "[{}] newest first", app.backend);
        assert_eq!(owners(app.list_keys(&barbara, json!({})).await), vec!["Barbara Lee"]);
        assert_eq!(owners(app.list_keys(&office, json!({})).await), vec!["Owen Price"]);
        let barbara_id = user(&app, "barbara@sunrise.test").await.id;
        assert_eq!(
            owners(app.list_keys(&office, json!({ "user_id": barbara_id })).await),
            Vec::<String>::new(),
            "a user filter cannot widen a user's view"
        );
        assert_eq!(owners(app.list_keys(&harbor, json!({})).await), vec!["Hugo Andersen"]);

        for (cookie, key) in [(&harbor, &barbara_key), (&root, &harbor_key), (&office, &barbara_key)] {
            let response = app.call("keys/revoke", &[("key_id", key)], Some(cookie)).await;
            assert_eq!(response.status, StatusCode::NOT_FOUND, "[{}] {}", app.backend, response.body);
            assert_eq!(response.json()["NotFound"], "API key not found");
        }
        assert_eq!(app.call("keys/revoke", &[("key_id", "nonsense!")], Some(&root)).await.status, StatusCode::NOT_FOUND);
        let by_root = app.call("keys/revoke", &[("key_id", &barbara_key)], Some(&root)).await;
        assert_eq!(by_root.status, StatusCode::OK, "a Root User revokes any key of the company");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn only_root_users_delete_and_only_dead_keys() {
    for app in spawn_apps().await {
        let barbara = app.login_for_keys("barbara@sunrise.test").await;
        let root = app.login_for_keys("root@sunrise.test").await;
        let harbor = app.login("root@harbor.test").await;
        let (key_id, _) = app.mint_ok(&barbara, "Soon gone").await;

        let active = app.call("keys/delete", &[("key_id", &key_id)], Some(&root)).await;
        assert_eq!(active.status, StatusCode::CONFLICT, "[{}] {}", app.backend, active.body);
        assert_eq!(active.json()["Conflict"], "Revoke this key before deleting it");
        app.call("keys/revoke", &[("key_id", &key_id)], Some(&barbara)).await;

        let by_owner = app.call("keys/delete", &[("key_id", &key_id)], Some(&barbara)).await;
        assert_eq!(by_owner.status, StatusCode::FORBIDDEN);
        let office = app.login("office@sunrise.test").await;
        assert_eq!(app.call("keys/delete", &[("key_id", &key_id)], Some(&office)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.call("keys/delete", &[("key_id", &key_id)], Some(&harbor)).await.status, StatusCode::NOT_FOUND);

        let deleted = app.call("keys/delete", &[("key_id", &key_id)], Some(&root)).await;
        assert_eq!(deleted.status, StatusCode::OK, "{}", deleted.body);
        assert_eq!(app.list_keys(&root, json!({})).await["total"], 0);
        assert_eq!(app.list_keys(&barbara, json!({})).await["total"], 0);
        assert_eq!(app.call("keys/delete", &[("key_id", &key_id)], Some(&root)).await.status, StatusCode::NOT_FOUND);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn root_users_filter_search_and_page_through_keys() {
    for app in spawn_apps().await {
        let root = app.login_for_keys("root@sunrise.test").await;
        let carl = app.login_for_keys("carl@sunrise.test").await;
        for label in ["Claude desktop", "Cursor laptop", "CLAUDE server", "100%_weird"] {
            app.mint_ok(&root, label).await;
        }
        let (carl_key, _) = app.mint_ok(&carl, "Carl's Claude").await;
        app.call("keys/revoke", &[("key_id", &carl_key)], Some(&carl)).await;

        assert_eq!(app.list_keys(&root, json!({ "search": "claude" })).await["total"], 3, "[{}] case-insensitive", app.backend);
        assert_eq!(app.list_keys(&root, json!({ "search": "%_" })).await["total"], 1, "wildcards are literal");
        assert_eq!(app.list_keys(&root, json!({ "status": "Revoked" })).await["keys"][0]["key_id"], carl_key);
        let carl_id = user(&app, "carl@sunrise.test").await.id;
        assert_eq!(app.list_keys(&root, json!({ "user_id": carl_id })).await["total"], 1);
        let first = app.list_keys(&root, json!({ "per_page": 2, "page": 1 })).await;
        let third = app.list_keys(&root, json!({ "per_page": 2, "page": 3 })).await;
        assert_eq!(first["total"], 5);
        assert_eq!(first["keys"].as_array().unwrap().len(), 2);
        assert_eq!(third["keys"].as_array().unwrap().len(), 1);
        assert_eq!(first["keys"][0]["label"], "Carl's Claude", "newest first");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_activity_feed_records_key_events_with_the_apps_visibility() {
    for app in spawn_apps().await {
        let barbara = app.login_for_keys("barbara@sunrise.test").await;
        let root = app.login_for_keys("root@sunrise.test").await;
        let (key_id, token) = app.mint_ok(&barbara, "Feed key").await;
        app.call("keys/revoke", &[("key_id", &key_id)], Some(&root)).await;
        app.call("keys/delete", &[("key_id", &key_id)], Some(&root)).await;

        let feed = |cookie: String, filter: serde_json::Value| {
            let app = app.clone();
            async move {
                let mut full = json!({ "user_id": null, "key_id": null, "page": 1, "per_page": 50 });
                for (k, v) in filter.as_object().unwrap() {
                    full[k] = v.clone();
                }
                let response = app.call_json("activity/list", json!({ "filter": full }), Some(&cookie)).await;
                assert_eq!(response.status, StatusCode::OK, "{}", response.body);
                response.json()
            }
        };
        let company = feed(root.clone(), json!({ "key_id": key_id })).await;
        let actions: Vec<&str> = company["events"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert_eq!(actions, vec!["key.deleted", "key.revoked", "key.minted"], "[{}]", app.backend);
        assert_eq!(company["events"][2]["actor_name"], "Barbara Lee");
        assert_eq!(company["events"][0]["actor_name"], "Rosa Martinez");

        let own = feed(barbara.clone(), json!({})).await;
        assert!(own["events"].as_array().unwrap().iter().all(|e| e["actor_name"] == "Barbara Lee"), "{own}");
        let harbor = app.login("root@harbor.test").await;
        assert_eq!(feed(harbor, json!({})).await["events"], json!([]));
        let first = feed(root.clone(), json!({ "per_page": 2 })).await;
        assert_eq!(first["events"].as_array().unwrap().len(), 2);
        assert_eq!(first["has_more"], true, "the pager knows an older page exists without counting");
        let last = feed(root.clone(), json!({ "per_page": 2, "page": 50 })).await;
        assert_eq!(last["has_more"], false);
        assert!(!app.stored_text().await.contains(&token[16..38]), "no event holds the secret");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn root_users_set_the_key_policy_within_its_bounds() {
    for app in spawn_apps().await {
        let office = app.login_for_keys("office@sunrise.test").await;
        let root = app.login_for_keys("root@sunrise.test").await;
        let policy =
            |days: u32, never: bool, max: u32| json!({ "policy": { "lifetime_days": days, "allow_non_expiring": never, "max_active_keys": max } });
        assert_eq!(app.call_json("keys/policy", policy(30, false, 5), Some(&office)).await.status, StatusCode::FORBIDDEN);
        assert_eq!(app.call_json("keys/policy", policy(0, false, 5), Some(&root)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(app.call_json("keys/policy", policy(366, false, 5), Some(&root)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
        let set = app.call_json("keys/policy", policy(30, true, 2), Some(&root)).await;
        assert_eq!(set.status, StatusCode::OK, "[{}] {}", app.backend, set.body);

        let sixty = app
            .call_json("keys/mint", json!({ "request": { "label": "60", "expiry": { "days": 60 }, "scopes": ["read:visits"] } }), Some(&office))
            .await;
        assert_eq!(sixty.status, StatusCode::UNPROCESSABLE_ENTITY);
        let default = app.mint(&office, "Default").await.json();
        let expires = chrono::DateTime::parse_from_rfc3339(default["key"]["expires_at"].as_str().unwrap()).unwrap();
        assert!((expires.with_timezone(&Utc) - Utc::now()).num_days() <= 30, "the default shrinks to the policy");
        let never = app
            .call_json("keys/mint", json!({ "request": { "label": "Forever", "expiry": "never", "scopes": ["read:visits"] } }), Some(&office))
            .await;
        assert_eq!(never.status, StatusCode::OK);
        assert_eq!(never.json()["key"]["expires_at"], serde_json::Value::Null);
        assert_eq!(app.mint(&office, "Third").await.status, StatusCode::CONFLICT, "the limit is now 2");
    }
}
