//! The company's say over key creation: who may create keys (Root Users, office staff, everyone), whether a
//! new key needs two-factor, and revoking every key of a role or a person at once.
use app::api::keys::{ConfirmCode, GetKeySetup, RevokeAllKeys, UpdateKeyPolicy};
use app::error::AppError;
use app::model::{KeyCreators, KeyPolicy, RevokeAllOf, Role, UserId};
use domain::keys::service::TWO_FACTOR_REQUIRED;
use domain::model::Action;
use http::StatusCode;

use crate::helpers::{backend_test, TestApp};
use crate::two_factor::{code, enroll};

async fn set_policy(app: &TestApp, root: &str, policy: KeyPolicy) {
    app.call(UpdateKeyPolicy { policy }, Some(root)).await.output();
}

backend_test!(who_may_create_keys_follows_the_company_policy_and_existing_keys_keep_working);
async fn who_may_create_keys_follows_the_company_policy_and_existing_keys_keep_working(app: TestApp) {
    let root = app.login_for_keys("root@sunrise.test").await;
    let office = app.login_for_keys("office@sunrise.test").await;
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let (_, barbaras_key) = app.mint_ok(&barbara, "Before the change").await;

    set_policy(&app, &root, KeyPolicy { creators: KeyCreators::Root, ..KeyPolicy::default() }).await;
    for cookie in [&office, &barbara] {
        let refused = app.mint(cookie, "Not allowed").await;
        assert_eq!(refused.error(), AppError::Forbidden(KeyCreators::Root.refusal().to_owned()));
        assert_eq!(app.call(GetKeySetup {}, Some(cookie)).await.output().refusal.as_deref(), Some(KeyCreators::Root.refusal()));
    }
    assert_eq!(app.call(GetKeySetup {}, Some(&root)).await.output().refusal, None);
    app.mint_ok(&root, "Root may").await;
    assert_eq!(app.me(&barbaras_key).await.status, StatusCode::OK, "keys minted before the change keep working");

    set_policy(&app, &root, KeyPolicy { creators: KeyCreators::Office, ..KeyPolicy::default() }).await;
    app.mint_ok(&office, "Office may").await;
    assert_eq!(app.mint(&barbara, "Caregivers may not").await.status, StatusCode::FORBIDDEN);

    let cli = domain::keys::service::mint(
        &app.state.db,
        &domain::actor::Actor::Operator,
        &domain::accounts::current_user(&app.state.db, domain::accounts::find_user_by_email(&app.state.db, "barbara@sunrise.test").await.unwrap().id)
            .await
            .unwrap()
            .unwrap(),
        domain::model::MintRequest { label: "Operator".to_owned(), expiry: None, scopes: vec!["read:visits".to_owned()], allowed_ips: vec![] },
        domain::keys::token::TokenEnvironment::Test,
        &domain::activity::Origin::operator(),
        chrono::Utc::now(),
    )
    .await;
    assert!(matches!(cli, Err(domain::DomainError::Forbidden(_))), "the command line mints under the same policy");

    set_policy(&app, &root, KeyPolicy::default()).await;
    app.mint_ok(&barbara, "Everyone may again").await;
}

backend_test!(a_company_that_requires_two_factor_for_keys_sends_people_to_set_it_up_first);
async fn a_company_that_requires_two_factor_for_keys_sends_people_to_set_it_up_first(app: TestApp) {
    let root = app.login_for_keys("root@sunrise.test").await;
    set_policy(&app, &root, KeyPolicy { require_two_factor: true, ..KeyPolicy::default() }).await;
    let office = app.login_for_keys("office@sunrise.test").await;
    assert!(app.call(GetKeySetup {}, Some(&office)).await.output().needs_two_factor);
    let refused = app.mint(&office, "Without two-factor").await;
    assert_eq!(refused.error(), AppError::Forbidden(TWO_FACTOR_REQUIRED.to_owned()));

    let (seed, cookie, _) = enroll(&app, "office@sunrise.test").await;
    assert!(!app.call(GetKeySetup {}, Some(&cookie)).await.output().needs_two_factor);
    app.call(ConfirmCode { code: code(&seed, 1) }, Some(&cookie)).await.output();
    app.mint_ok(&cookie, "With two-factor").await;
}

backend_test!(root_users_revoke_every_key_of_a_role_or_of_a_person_at_once);
async fn root_users_revoke_every_key_of_a_role_or_of_a_person_at_once(app: TestApp) {
    let root = app.login_for_keys("root@sunrise.test").await;
    let mut caregiver_keys = Vec::new();
    for email in ["barbara@sunrise.test", "barbara@sunrise.test", "carl@sunrise.test"] {
        let cookie = app.login_for_keys(email).await;
        caregiver_keys.push(app.mint_ok(&cookie, "Caregiver key").await.1);
    }
    let office = app.login_for_keys("office@sunrise.test").await;
    let (_, office_key) = app.mint_ok(&office, "Office key").await;
    let harbor = app.login_for_keys("root@harbor.test").await;
    let (_, harbor_key) = app.mint_ok(&harbor, "Harbor key").await;

    let revoked = app.call(RevokeAllKeys { of: RevokeAllOf::Role(Role::Caregiver) }, Some(&root)).await.output();
    assert_eq!(revoked, 3);
    for key in &caregiver_keys {
        assert_eq!(app.me(key).await.json()["code"], "revoked_key");
    }
    assert_eq!(app.me(&office_key).await.status, StatusCode::OK);
    let office_id = domain::accounts::find_user_by_email(&app.state.db, "office@sunrise.test").await.unwrap().id;
    assert_eq!(app.call(RevokeAllKeys { of: RevokeAllOf::Person(office_id) }, Some(&root)).await.output(), 1);
    assert_eq!(app.me(&office_key).await.json()["code"], "revoked_key");
    assert_eq!(app.call(RevokeAllKeys { of: RevokeAllOf::Role(Role::Root) }, Some(&harbor)).await.output(), 1, "Harbor's own Root User key only");
    assert_eq!(app.me(&harbor_key).await.json()["code"], "revoked_key");

    let harbor_person = app.call(RevokeAllKeys { of: RevokeAllOf::Person(office_id) }, Some(&harbor)).await.output();
    assert_eq!(harbor_person, 0, "another company's person has no keys here");
    assert_eq!(app.call(RevokeAllKeys { of: RevokeAllOf::Person(UserId(999_999)) }, Some(&office)).await.status, StatusCode::FORBIDDEN);
    let root_user =
        domain::accounts::current_user(&app.state.db, domain::accounts::find_user_by_email(&app.state.db, "root@sunrise.test").await.unwrap().id)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        domain::activity::list(&app.state.db, &root_user, Default::default())
            .await
            .unwrap()
            .events
            .iter()
            .filter(|e| e.action == Action::KeyRevoked)
            .count(),
        4
    );
}
