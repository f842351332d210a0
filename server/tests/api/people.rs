//! Managing people through the people service and the operator commands: deactivation ends sessions and stops
//! keys on the next request on every node, reactivation brings live keys back, roles change, a company keeps an
//! active Root User, and only a company's Root Users (or the operator) may do any of it.
use app::api::session::GetCurrentUser;
use chrono::Utc;
use domain::activity::Origin;
use domain::actor::Actor;
use domain::model::{Action, CurrentUser, UserId};
use domain::people::{self, LAST_ROOT};
use domain::{DomainError, Role};
use http::StatusCode;

use crate::helpers::{backend_test, fresh_sqlite, sign_in, TestApp};

async fn signed_in(app: &TestApp, email: &str) -> CurrentUser {
    let id = id_of(app, email).await;
    domain::accounts::current_user(&app.state.db, id).await.unwrap().expect("an active user")
}

async fn id_of(app: &TestApp, email: &str) -> UserId {
    domain::accounts::find_user_by_email(&app.state.db, email).await.unwrap().id
}

backend_test!(deactivating_a_caregiver_ends_her_sessions_and_stops_her_keys_on_every_node_until_she_is_reactivated);
async fn deactivating_a_caregiver_ends_her_sessions_and_stops_her_keys_on_every_node_until_she_is_reactivated(app: TestApp) {
    let other_node = app.another_node();
    let cookie = app.login_for_keys("barbara@sunrise.test").await;
    let (_, token) = app.mint_ok(&cookie, "Barbara's Claude").await;
    assert_eq!(other_node.me(&token).await.status, StatusCode::OK, "the other node has verified the key once");
    let root = signed_in(&app, "root@sunrise.test").await;
    let barbara = id_of(&app, "barbara@sunrise.test").await;

    let changed = people::deactivate(&app.state.db, &Actor::User(&root), barbara, &Origin::default(), Utc::now()).await.unwrap();
    assert!(!changed.account.active);
    assert_eq!(changed.live_keys, 1);
    assert_eq!(app.call(GetCurrentUser {}, Some(&cookie)).await.status, StatusCode::UNAUTHORIZED, "her open browser is signed out");
    for node in [&app, &other_node] {
        let refused = node.me(&token).await;
        assert_eq!(refused.status, StatusCode::UNAUTHORIZED, "{}", refused.body);
        assert_eq!(refused.json()["code"], "inactive_user");
    }
    let again = app.call(sign_in("barbara@sunrise.test", domain::demo::DEMO_PASSWORD), None).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED);

    let changed = people::activate(&app.state.db, &Actor::User(&root), barbara, &Origin::default(), Utc::now()).await.unwrap();
    assert!(changed.account.active);
    assert_eq!(changed.live_keys, 1);
    for node in [&app, &other_node] {
        assert_eq!(node.me(&token).await.status, StatusCode::OK, "the key works again");
    }
    assert_eq!(app.call(GetCurrentUser {}, Some(&cookie)).await.status, StatusCode::UNAUTHORIZED, "ended sessions stay ended");
    app.login("barbara@sunrise.test").await;

    let feed = domain::activity::list(&app.state.db, &root, Default::default()).await.unwrap();
    let people_events: Vec<(Action, &str)> = feed
        .events
        .iter()
        .filter(|event| matches!(event.action, Action::UserActivated | Action::UserDeactivated))
        .map(|event| (event.action, event.target.as_str()))
        .collect();
    assert_eq!(
        people_events,
        vec![
            (Action::UserActivated, "Barbara Lee (barbara@sunrise.test): 1 API key works again"),
            (Action::UserDeactivated, "Barbara Lee (barbara@sunrise.test): sessions ended, 1 API key stopped working"),
        ]
    );
    assert!(feed.events.iter().filter(|event| event.action == Action::UserDeactivated).all(|event| event.actor_id == Some(root.id)));
}

backend_test!(a_new_role_changes_what_the_persons_keys_may_read_on_the_next_request);
async fn a_new_role_changes_what_the_persons_keys_may_read_on_the_next_request(app: TestApp) {
    let cookie = app.login_for_keys("office@sunrise.test").await;
    let (_, token) = app.mint_ok(&cookie, "Office assistant").await;
    let before = app.me(&token).await.json();
    assert!(before["key"]["scopes"].as_array().unwrap().iter().any(|scope| scope == "read:patients"), "{before}");

    let root = signed_in(&app, "root@sunrise.test").await;
    let office = id_of(&app, "office@sunrise.test").await;
    let changed = people::set_role(&app.state.db, &Actor::User(&root), office, Role::Caregiver, &Origin::default(), Utc::now()).await.unwrap();
    assert_eq!(changed.account.role, Role::Caregiver);

    let after = app.me(&token).await.json();
    assert!(!after["key"]["scopes"].as_array().unwrap().iter().any(|scope| scope == "read:patients"), "{after}");
    let unchanged = people::set_role(&app.state.db, &Actor::User(&root), office, Role::Caregiver, &Origin::default(), Utc::now()).await;
    assert_eq!(unchanged.unwrap_err().to_string(), "Owen Price is already a Caregiver");
}

backend_test!(a_company_always_keeps_an_active_root_user);
async fn a_company_always_keeps_an_active_root_user(app: TestApp) {
    let root = signed_in(&app, "root@sunrise.test").await;
    let origin = Origin::default();
    let myself = Actor::User(&root);
    for refused in [
        people::deactivate(&app.state.db, &myself, root.id, &origin, Utc::now()).await,
        people::set_role(&app.state.db, &myself, root.id, Role::User, &origin, Utc::now()).await,
    ] {
        assert!(matches!(refused, Err(DomainError::Conflict(ref message)) if message == LAST_ROOT), "{refused:?}");
    }

    let office = id_of(&app, "office@sunrise.test").await;
    people::set_role(&app.state.db, &myself, office, Role::Root, &origin, Utc::now()).await.unwrap();
    let second_root = signed_in(&app, "office@sunrise.test").await;
    let (as_first, as_second) = (Actor::User(&root), Actor::User(&second_root));
    let (first, second) = tokio::join!(
        people::set_role(&app.state.db, &as_first, second_root.id, Role::User, &origin, Utc::now()),
        people::set_role(&app.state.db, &as_second, root.id, Role::User, &origin, Utc::now()),
    );
    let refusals = [&first, &second].iter().filter(|outcome| matches!(outcome, Err(DomainError::Conflict(message)) if message == LAST_ROOT)).count();
    assert_eq!((first.is_ok() as u8 + second.is_ok() as u8, refusals), (1, 1), "{first:?} / {second:?}");
    let company = app.state.db.clone();
    let roots: Vec<_> = domain::accounts::people(&company, &root).await.unwrap().into_iter().filter(|person| person.role == Role::Root).collect();
    assert_eq!(roots.len(), 1, "exactly one Root User is left: {roots:?}");
}

backend_test!(only_root_users_manage_people_and_only_people_of_their_own_company);
async fn only_root_users_manage_people_and_only_people_of_their_own_company(app: TestApp) {
    let origin = Origin::default();
    let barbara = id_of(&app, "barbara@sunrise.test").await;
    for email in ["office@sunrise.test", "carl@sunrise.test"] {
        let not_root = signed_in(&app, email).await;
        let refused = people::deactivate(&app.state.db, &Actor::User(&not_root), barbara, &origin, Utc::now()).await;
        assert!(matches!(refused, Err(DomainError::Forbidden(_))), "{email}: {refused:?}");
    }
    let other_company = signed_in(&app, "root@harbor.test").await;
    let hidden = people::deactivate(&app.state.db, &Actor::User(&other_company), barbara, &origin, Utc::now()).await;
    assert!(matches!(hidden, Err(DomainError::NotFound("User"))), "{hidden:?}");
    let unknown = people::activate(&app.state.db, &Actor::Operator, UserId(999_999), &origin, Utc::now()).await;
    assert!(matches!(unknown, Err(DomainError::NotFound("User"))), "{unknown:?}");
    assert!(signed_in(&app, "barbara@sunrise.test").await.role == Role::Caregiver, "nothing changed");
}
#[tokio::test(flavor = "multi_thread")]
async fn operators_deactivate_reactivate_and_change_roles_from_the_command_line() {
    let (url, _dir) = fresh_sqlite();
    let db = domain::db::connect(&url).await.unwrap();
    domain::db::migrate(&db).await.unwrap();
    domain::demo::seed(&db).await.unwrap();

    let (ok, out, err) = crate::cli::caregate(&url, &["user", "deactivate", "--email", "carl@sunrise.test"], "");
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "Deactivated carl@sunrise.test: their sessions ended and 0 active API key(s) stopped working");
    let (ok, _, err) = crate::cli::caregate(&url, &["user", "deactivate", "--email", "carl@sunrise.test"], "");
    assert!(!ok);
    assert_eq!(err.trim(), "error: Carl Jensen is already deactivated");
    let (ok, out, err) = crate::cli::caregate(&url, &["user", "activate", "--email", "carl@sunrise.test"], "");
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "Reactivated carl@sunrise.test: 0 API key(s) within their expiry work again");

    let (ok, out, err) = crate::cli::caregate(&url, &["user", "set-role", "--email", "carl@sunrise.test", "--role", "user"], "");
    assert!(ok, "{out}{err}");
    assert_eq!(out.trim(), "carl@sunrise.test is now a User (was a Caregiver)");
    let (ok, _, err) = crate::cli::caregate(&url, &["user", "set-role", "--email", "root@harbor.test", "--role", "caregiver"], "");
    assert!(!ok);
    assert_eq!(err.trim(), format!("error: {LAST_ROOT}"));
    let (ok, _, err) = crate::cli::caregate(&url, &["user", "deactivate", "--email", "nobody@sunrise.test"], "");
    assert!(!ok);
    assert_eq!(err.trim(), "error: User not found");

    let carl = domain::accounts::find_user_by_email(&db, "carl@sunrise.test").await.unwrap();
    assert_eq!((carl.role, carl.active), (Role::User, true));
    assert_eq!(domain::activity::count_for_action(&db, Action::UserRoleChanged).await.unwrap(), 1, "the refused change left no event");
    assert_eq!(domain::activity::count_for_action(&db, Action::UserDeactivated).await.unwrap(), 1);
}
