//! `caregate keys mint|list|revoke`: the operator's way to the same key service and policy.
use std::process::Command;

use chrono::Utc;
use domain::keys::principal::KeyAuthError;

use crate::helpers::{authenticate, fresh_sqlite};

fn caregate(database_url: &str, args: &[&str]) -> (bool, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_caregate"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .output()
        .expect("run caregate");
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_mint_list_and_revoke_keys_from_the_command_line() {
    let (url, _dir) = fresh_sqlite();
    assert!(caregate(&url, &["seed", "--demo"]).0);

    let (ok, out, err) = caregate(
        &url,
        &["keys", "mint", "--email", "barbara@sunrise.test", "--label", "Ops key", "--days", "7", "--scopes", "read:visits,read:schedule"],
    );
    assert!(ok, "{err}");
    let token = out.trim().to_owned();
    assert_eq!(out.lines().count(), 1, "only the token on stdout: {out:?}");
    assert!(token.starts_with("cg_test_") && token.len() == 44, "{token}");

    let db = domain::db::connect(&url).await.unwrap();
    let principal = authenticate(&db, &token, Utc::now()).await.unwrap();
    assert_eq!(principal.user.email, "barbara@sunrise.test");
    assert_eq!(principal.scopes.len(), 2);
    let key_id = principal.key_id.to_string();

    let (ok, listing, _) = caregate(&url, &["keys", "list", "--email", "barbara@sunrise.test"]);
    assert!(ok);
    assert!(listing.contains(&key_id) && listing.contains("Ops key") && listing.contains("Active") && listing.contains("Never"), "{listing}");
    assert!(!listing.contains(&token[16..]), "no secret in the listing");

    let (ok, out, err) = caregate(&url, &["keys", "revoke", &key_id]);
    assert!(ok, "{err}");
    assert!(out.contains("Revoked"), "{out}");
    assert!(matches!(authenticate(&db, &token, Utc::now()).await, Err(KeyAuthError::Revoked { .. })));

    let (ok, _, err) = caregate(&url, &["keys", "revoke", &key_id]);
    assert!(!ok && err.contains("already revoked"), "{err}");
    let (ok, _, err) = caregate(&url, &["keys", "mint", "--email", "barbara@sunrise.test", "--label", "Too long", "--days", "400", "--all-scopes"]);
    assert!(!ok && err.contains("at most 90 days"), "{err}");
    let (ok, _, err) = caregate(&url, &["keys", "mint", "--email", "carl@sunrise.test", "--label", "x", "--scopes", "read:activity"]);
    assert!(!ok && err.contains("cannot grant read:activity"), "{err}");
    let (ok, _, err) = caregate(&url, &["keys", "mint", "--email", "carl@sunrise.test", "--label", "No scopes named"]);
    assert!(!ok && err.contains("--scopes"), "a key's scopes are always named: {err}");
    let (ok, out, err) = caregate(&url, &["keys", "mint", "--email", "carl@sunrise.test", "--label", "Everything", "--all-scopes"]);
    assert!(ok, "{err}");
    let everything = authenticate(&db, out.trim(), Utc::now()).await.unwrap();
    assert_eq!(everything.scopes, domain::scope::Scope::allowed_for(domain::Role::Caregiver));

    let root = domain::accounts::find_user_by_email(&db, "root@sunrise.test").await.unwrap();
    let events =
        domain::activity::list(&db, &domain::accounts::current_user(&db, root.id).await.unwrap().unwrap(), Default::default()).await.unwrap();
    let minted = events
        .events
        .iter()
        .find(|event| event.action == domain::model::Action::KeyMinted && event.target.contains("Ops key"))
        .expect("the mint is on the feed");
    assert_eq!(minted.actor_kind, domain::model::ActorKind::CommandLine, "the operator minted it, not Barbara");
    assert_eq!(minted.actor_name, None);
    assert!(minted.target.contains("Barbara"), "{}", minted.target);
    assert_eq!(minted.user_agent.as_deref(), Some("caregate command line"));
}
