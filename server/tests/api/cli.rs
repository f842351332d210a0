//! The operator commands, run as the real `caregate` binary against a fresh database.
use std::io::Write;
use std::process::{Command, Stdio};

use domain::password::Password;

use crate::helpers::fresh_sqlite;

pub fn caregate(database_url: &str, args: &[&str], stdin: &str) -> (bool, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_caregate"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run caregate");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let output = child.wait_with_output().unwrap();
    (output.status.success(), String::from_utf8_lossy(&output.stdout).into_owned(), String::from_utf8_lossy(&output.stderr).into_owned())
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_create_a_company_and_add_users_who_can_then_sign_in() {
    let (url, _dir) = fresh_sqlite();
    let (ok, out, err) =
        caregate(&url, &["company", "create", "--name", "Lakeside Care", "--root-email", "Boss@Lakeside.test"], "a-long-root-password\n");
    assert!(ok, "{out}{err}");
    assert!(!out.contains("a-long-root-password"), "a password from stdin is never echoed");
    let account: i64 = out.split("account number ").nth(1).and_then(|rest| rest.split(')').next()).unwrap().parse().unwrap();

    let (ok, out, err) = caregate(
        &url,
        &["user", "add", "--company-account", &account.to_string(), "--email", "nina@lakeside.test", "--name", "Nina Ray", "--role", "caregiver"],
        "",
    );
    assert!(ok, "{out}{err}");
    let generated = out.split("Generated password (shown once): ").nth(1).unwrap().trim().to_owned();
    assert_eq!(generated.len(), 20);

    let db = domain::db::connect(&url).await.unwrap();
    let boss = domain::accounts::authenticate(&db, "boss@lakeside.test", Password::new("a-long-root-password")).await.unwrap();
    assert_eq!(boss.role, domain::Role::Root);
    assert_eq!(boss.company_account, account);
    let nina = domain::accounts::authenticate(&db, "nina@lakeside.test", Password::new(generated)).await.unwrap();
    assert_eq!(nina.role, domain::Role::Caregiver);
}

#[tokio::test(flavor = "multi_thread")]
async fn operator_mistakes_get_clear_errors_and_change_nothing() {
    let (url, _dir) = fresh_sqlite();
    let (ok, _, err) = caregate(
        &url,
        &["user", "add", "--company-account", "12345678", "--email", "x@y.test", "--name", "X", "--role", "caregiver"],
        "long-enough-pass\n",
    );
    assert!(!ok);
    assert!(err.contains("Company not found"), "{err}");
    let (ok, _, err) = caregate(&url, &["user", "add", "--company-account", "1", "--email", "x@y.test", "--name", "X", "--role", "admin"], "");
    assert!(!ok);
    assert!(err.contains("unknown role"), "{err}");
    let (ok, _, err) = caregate(&url, &["company", "create", "--name", "Tiny", "--root-email", "not-an-email"], "long-enough-pass\n");
    assert!(!ok);
    assert!(err.contains("is not an email address"), "{err}");
    let (ok, _, err) = caregate(&url, &["company", "create", "--name", "Tiny", "--root-email", "a@tiny.test"], "short\n");
    assert!(!ok);
    assert!(err.contains("at least 10 characters"), "{err}");

    let db = domain::db::connect(&url).await.unwrap();
    use sea_orm::{ConnectionTrait, Statement};
    let row =
        db.query_one(Statement::from_string(db.get_database_backend(), "SELECT COUNT(*) AS n FROM companies".to_owned())).await.unwrap().unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 0, "a failed create leaves no half-made company");
}

#[tokio::test(flavor = "multi_thread")]
async fn seeding_prints_the_demo_sign_ins() {
    let (url, _dir) = fresh_sqlite();
    let (ok, out, err) = caregate(&url, &["seed", "--demo"], "");
    assert!(ok, "{err}");
    for email in ["root@sunrise.test", "office@sunrise.test", "barbara@sunrise.test", "carl@sunrise.test", "root@harbor.test"] {
        assert!(out.contains(email), "{out}");
    }
    assert!(out.contains("caregate-demo"));
    let (ok, out, _) = caregate(&url, &["seed", "--demo"], "");
    assert!(ok && out.contains("already present"), "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_data_is_never_loaded_beside_a_real_company() {
    let (url, _dir) = fresh_sqlite();
    let (ok, out, err) =
        caregate(&url, &["company", "create", "--name", "Lakeside Care", "--root-email", "boss@lakeside.test"], "a-long-root-password\n");
    assert!(ok, "{out}{err}");
    let (ok, out, err) = caregate(&url, &["seed", "--demo"], "");
    assert!(!ok, "{out}");
    assert!(err.contains("already holds 1 company") && err.contains("DATABASE_URL"), "{err}");
    let db = domain::db::connect(&url).await.unwrap();
    assert!(domain::accounts::find_user_by_email(&db, "root@sunrise.test").await.is_err(), "no demo account was added");

    let (demo_url, _demo_dir) = fresh_sqlite();
    assert!(caregate(&demo_url, &["seed", "--demo"], "").0);
    let (ok, out, err) =
        caregate(&demo_url, &["company", "create", "--name", "Real Agency", "--root-email", "boss@real.test"], "a-long-root-password\n");
    assert!(!ok, "{out}");
    assert!(err.contains("holds the demo companies"), "nor a real company beside the demo data: {err}");
}

/// Runs `caregate args` with its stdout a pipe whose reader is already gone; the exit and stderr.
fn into_a_closed_pipe(database_url: &str, args: &[&str]) -> (std::process::Output, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_caregate"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    (output, stderr)
}

#[tokio::test(flavor = "multi_thread")]
async fn output_to_a_closed_pipe_ends_a_command_quietly() {
    let (url, _dir) = fresh_sqlite();
    assert!(caregate(&url, &["seed", "--demo"], "").0);
    for _ in 0..3 {
        assert!(Command::new(env!("CARGO_BIN_EXE_caregate"))
            .args(["keys", "mint", "--email", "root@sunrise.test", "--label", "Piped", "--all-scopes"])
            .env("DATABASE_URL", &url)
            .output()
            .unwrap()
            .status
            .success());
    }
    let (output, stderr) = into_a_closed_pipe(&url, &["keys", "list"]);
    assert!(output.status.success(), "exit {:?}: {stderr}", output.status);
    assert!(!stderr.contains("panicked") && !stderr.contains("Broken pipe"), "{stderr}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_token_that_cannot_be_printed_is_a_failure_that_says_what_to_revoke() {
    let (url, _dir) = fresh_sqlite();
    assert!(caregate(&url, &["seed", "--demo"], "").0);
    let (output, stderr) = into_a_closed_pipe(&url, &["keys", "mint", "--email", "root@sunrise.test", "--label", "Lost", "--all-scopes"]);
    assert!(!output.status.success(), "a lost secret is not a success");
    assert!(stderr.contains("caregate keys revoke "), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}
