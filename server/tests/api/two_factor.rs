//! Two-factor authentication end to end through the server functions: set-up with a first code and recovery
//! codes, sign-in with a code step, codes that work once and one step either side, recovery codes that work
//! once, re-authentication with a code, the shared guessing bound, turning it off, and a seed that the database
//! alone does not reveal.
use app::api::account::{BeginTwoFactorSetup, ConfirmTwoFactorSetup, DisableTwoFactor, GetTwoFactorStatus, RenewRecoveryCodes};
use app::api::keys::{ConfirmCode, GetKeySetup};
use app::api::people::ListPeoplePage;
use app::api::session::{GetCurrentUser, SubmitSignInCode};
use app::error::AppError;
use app::model::PeopleFilter;
use chrono::{Duration, Utc};
use domain::model::Action;
use domain::two_factor::totp;
use http::header::SET_COOKIE;
use http::StatusCode;
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{backend_test, sign_in, TestApp, TestResponse};

const BARBARA: &str = "barbara@sunrise.test";

/// The `name=value` of the two-factor challenge cookie a response sets.
fn challenge_cookie(response: &TestResponse) -> Option<String> {
    response
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("caregate_two_factor=") && !value.starts_with("caregate_two_factor=;"))
        .map(|value| value.split(';').next().unwrap_or_default().to_owned())
}

/// An authenticator app after set-up: its seed and the time step whose code turned two-factor on. Codes are
/// counted from that step, not from the clock at the moment of asking, so a test that crosses a 30-second
/// boundary still sends the codes it means (the server accepts one step either side of its own clock).
pub(crate) struct Authenticator {
    seed: Vec<u8>,
    enrolled_step: i64,
}

/// The code of `app` `steps` steps after the one that turned two-factor on.
pub(crate) fn code(app: &Authenticator, steps: i64) -> String {
    totp::code(&app.seed, app.enrolled_step + steps)
}

/// Turns two-factor on for `email` through the Account tab's server functions; returns the authenticator (its
/// seed read from the text shown for typing by hand), the session cookie and the recovery codes.
pub(crate) async fn enroll(app: &TestApp, email: &str) -> (Authenticator, String, Vec<String>) {
    let cookie = app.login(email).await;
    let setup = app.call(BeginTwoFactorSetup {}, Some(&cookie)).await.output();
    assert!(setup.qr_svg.starts_with("<svg") && setup.qr_svg.trim_end().ends_with("</svg>"), "a QR code drawn by the server");
    assert!(setup.otpauth_uri.expose().starts_with("otpauth://totp/caregate:"), "{}", setup.otpauth_uri.expose());
    let seed = totp::base32_decode(setup.secret.expose()).expect("base32");
    assert_eq!(seed.len(), totp::SEED_BYTES);
    let seed = Authenticator { seed, enrolled_step: totp::step_at(Utc::now()) };
    let password = || domain::demo::DEMO_PASSWORD.to_owned();
    let wrong = app.call(ConfirmTwoFactorSetup { password: password(), code: "000000".to_owned() }, Some(&cookie)).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", wrong.body);
    let no_password = app.call(ConfirmTwoFactorSetup { password: "guess".to_owned(), code: code(&seed, 0) }, Some(&cookie)).await;
    assert_eq!(no_password.status, StatusCode::UNAUTHORIZED, "a stolen session cannot enrol its own app: {}", no_password.body);
    let codes = app.call(ConfirmTwoFactorSetup { password: password(), code: code(&seed, 0) }, Some(&cookie)).await.output();
    (seed, cookie, codes.codes.iter().map(|code| code.expose().to_owned()).collect())
}

/// Signs in with the password of a person with two-factor on: the challenge cookie (no session yet).
async fn password_step(app: &TestApp, email: &str) -> String {
    let response = app.call(sign_in(email, domain::demo::DEMO_PASSWORD), None).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
    assert!(response.session_cookie().is_none(), "no session before the code");
    assert_eq!(response.location(), Some("/login/code"));
    challenge_cookie(&response).expect("a challenge cookie")
}

async fn code_step(app: &TestApp, challenge: &str, code: &str) -> TestResponse {
    app.call(SubmitSignInCode { code: code.to_owned(), next: None }, Some(challenge)).await.into()
}

backend_test!(a_caregiver_turns_on_two_factor_and_signs_in_with_a_code_that_works_once);
async fn a_caregiver_turns_on_two_factor_and_signs_in_with_a_code_that_works_once(app: TestApp) {
    let (seed, cookie, recovery) = enroll(&app, BARBARA).await;
    assert_eq!(recovery.len(), 10);
    let status = app.call(GetTwoFactorStatus {}, Some(&cookie)).await.output();
    assert!(status.enabled && status.recovery_codes_left == 10);
    let root = app.login("root@sunrise.test").await;
    let listed = app.call(ListPeoplePage { filter: PeopleFilter::default() }, Some(&root)).await.output();
    let two_factor: Vec<(&str, bool)> = listed.people.iter().map(|person| (person.email.as_str(), person.two_factor)).collect();
    assert_eq!(
        two_factor,
        vec![("barbara@sunrise.test", true), ("carl@sunrise.test", false), ("office@sunrise.test", false), ("root@sunrise.test", false)],
        "the People page shows who has two-factor on"
    );
    let again = app.call(BeginTwoFactorSetup {}, Some(&cookie)).await;
    assert_eq!(again.error(), AppError::Conflict("Two-factor authentication is already on".to_owned()));

    let challenge = password_step(&app, BARBARA).await;
    let replayed = code_step(&app, &challenge, &code(&seed, 0)).await;
    assert_eq!(replayed.status, StatusCode::UNPROCESSABLE_ENTITY, "the set-up code was used already: {}", replayed.body);
    let too_late = code_step(&app, &challenge, &code(&seed, -2)).await;
    assert_eq!(too_late.status, StatusCode::UNPROCESSABLE_ENTITY, "two steps old: {}", too_late.body);
    let signed_in = code_step(&app, &challenge, &code(&seed, 1)).await;
    assert_eq!(signed_in.status, StatusCode::OK, "one step ahead is fine: {}", signed_in.body);
    assert_eq!(signed_in.location(), Some("/portal"));
    let session = signed_in.session_cookie().expect("a session after the code");
    assert_eq!(app.call(GetCurrentUser {}, Some(&session)).await.output().email, BARBARA);
    let answered_twice = code_step(&app, &challenge, &code(&seed, 1)).await;
    assert_eq!(answered_twice.status, StatusCode::UNPROCESSABLE_ENTITY, "an answered challenge is gone: {}", answered_twice.body);

    let second = password_step(&app, BARBARA).await;
    let reused = code_step(&app, &second, &code(&seed, 1)).await;
    assert_eq!(reused.status, StatusCode::UNPROCESSABLE_ENTITY, "a code works once, across sign-ins: {}", reused.body);
    let by_recovery = code_step(&app, &second, &recovery[0].to_uppercase()).await;
    assert_eq!(by_recovery.status, StatusCode::OK, "a recovery code, typed in capitals: {}", by_recovery.body);
    let third = password_step(&app, BARBARA).await;
    assert_eq!(code_step(&app, &third, &recovery[0]).await.status, StatusCode::UNPROCESSABLE_ENTITY, "a recovery code works once");
    let status = app.call(GetTwoFactorStatus {}, Some(&session)).await.output();
    assert_eq!(status.recovery_codes_left, 9);

    let barbara = domain::accounts::find_user_by_email(&app.state.db, BARBARA).await.unwrap();
    let me = domain::accounts::current_user(&app.state.db, barbara.id).await.unwrap().unwrap();
    let actions: Vec<Action> =
        domain::activity::list(&app.state.db, &me, Default::default()).await.unwrap().events.iter().map(|e| e.action).collect();
    assert_eq!(actions, vec![Action::RecoveryCodeUsed, Action::TwoFactorEnabled]);
}

backend_test!(turning_on_two_factor_signs_the_person_out_everywhere_else);
async fn turning_on_two_factor_signs_the_person_out_everywhere_else(app: TestApp) {
    let elsewhere = app.login(BARBARA).await;
    let (_, here, _) = enroll(&app, BARBARA).await;
    assert_eq!(app.call(GetCurrentUser {}, Some(&elsewhere)).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.call(GetCurrentUser {}, Some(&here)).await.output().email, BARBARA, "the session that turned it on stays");
}

backend_test!(minting_accepts_a_current_code_instead_of_the_password_but_not_a_recovery_code);
async fn minting_accepts_a_current_code_instead_of_the_password_but_not_a_recovery_code(app: TestApp) {
    let (seed, cookie, recovery) = enroll(&app, "office@sunrise.test").await;
    let refused = app.call(ConfirmCode { code: recovery[0].clone() }, Some(&cookie)).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", refused.body);
    assert!(!app.call(GetKeySetup {}, Some(&cookie)).await.output().reauthenticated);
    app.call(ConfirmCode { code: code(&seed, 1) }, Some(&cookie)).await.output();
    assert!(app.call(GetKeySetup {}, Some(&cookie)).await.output().reauthenticated);
    app.mint_ok(&cookie, "Confirmed with a code").await;
}

backend_test!(guessing_codes_counts_against_the_password_bound);
async fn guessing_codes_counts_against_the_password_bound(app: TestApp) {
    let (seed, _, _) = enroll(&app, BARBARA).await;
    let challenge = password_step(&app, BARBARA).await;
    // Enrolling already failed twice (a wrong first code, a wrong password): the bound has that many fewer left.
    let left = domain::throttle::SIGN_IN_FAILURES_PER_ACCOUNT as usize - 2;
    let mut statuses = Vec::new();
    for _ in 0..=left {
        statuses.push(code_step(&app, &challenge, "123456").await.status);
    }
    assert!(statuses[..left].iter().all(|status| *status == StatusCode::UNPROCESSABLE_ENTITY), "{statuses:?}");
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let right = code_step(&app, &challenge, &code(&seed, 1)).await;
    assert_eq!(right.status, StatusCode::TOO_MANY_REQUESTS, "over the bound nothing is checked, not even a right code");
    let password = app.call(sign_in(BARBARA, domain::demo::DEMO_PASSWORD), None).await;
    assert_eq!(password.status, StatusCode::TOO_MANY_REQUESTS, "codes and passwords share one bound");
}

backend_test!(a_slow_second_step_and_a_forged_challenge_ask_to_sign_in_again);
async fn a_slow_second_step_and_a_forged_challenge_ask_to_sign_in_again(app: TestApp) {
    let (seed, _, _) = enroll(&app, BARBARA).await;
    let barbara = domain::accounts::find_user_by_email(&app.state.db, BARBARA).await.unwrap();
    let old = domain::two_factor::challenge(&app.state.db, barbara.id, Utc::now() - Duration::minutes(6)).await.unwrap();
    let expired = code_step(&app, &format!("caregate_two_factor={}", old.cookie_value()), &code(&seed, 1)).await;
    assert_eq!(expired.error(), AppError::Invalid("The sign-in took too long. Please sign in again.".to_owned()));
    let forged = code_step(&app, &format!("caregate_two_factor={}", "f".repeat(64)), &code(&seed, 1)).await;
    assert_eq!(forged.status, StatusCode::UNPROCESSABLE_ENTITY);
    let without = app.call(SubmitSignInCode { code: code(&seed, 1), next: None }, None).await;
    assert_eq!(without.status, StatusCode::UNAUTHORIZED);
    let session = app.login("office@sunrise.test").await;
    let mixed = format!("{session}; caregate_two_factor={}", "0".repeat(64));
    let request = app.call(SubmitSignInCode { code: code(&seed, 1), next: None }, Some(&mixed)).await;
    assert_eq!(request.status, StatusCode::UNPROCESSABLE_ENTITY, "a session does not stand in for a challenge");
}

backend_test!(turning_two_factor_off_takes_the_password_and_a_code);
async fn turning_two_factor_off_takes_the_password_and_a_code(app: TestApp) {
    let (seed, cookie, _) = enroll(&app, BARBARA).await;
    let wrong_password = app.call(DisableTwoFactor { password: "guess".to_owned(), code: code(&seed, 1) }, Some(&cookie)).await;
    assert_eq!(wrong_password.status, StatusCode::UNAUTHORIZED);
    let wrong_code = app.call(DisableTwoFactor { password: domain::demo::DEMO_PASSWORD.to_owned(), code: "000000".to_owned() }, Some(&cookie)).await;
    assert_eq!(wrong_code.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(app.call(RenewRecoveryCodes { code: "000000".to_owned() }, Some(&cookie)).await.status == StatusCode::UNPROCESSABLE_ENTITY);
    let renewed = app.call(RenewRecoveryCodes { code: code(&seed, 1) }, Some(&cookie)).await.output();
    assert_eq!(renewed.codes.len(), 10);
    app.call(DisableTwoFactor { password: domain::demo::DEMO_PASSWORD.to_owned(), code: renewed.codes[0].expose().to_owned() }, Some(&cookie))
        .await
        .output();
    assert!(!app.call(GetTwoFactorStatus {}, Some(&cookie)).await.output().enabled);
    let plain = app.call(sign_in(BARBARA, domain::demo::DEMO_PASSWORD), None).await;
    assert!(plain.session_cookie().is_some(), "without two-factor the password signs in");
}

backend_test!(the_database_alone_does_not_reveal_a_seed);
async fn the_database_alone_does_not_reveal_a_seed(app: TestApp) {
    let (seed, _, recovery) = enroll(&app, BARBARA).await;
    let backend = app.state.db.get_database_backend();
    let rows = app
        .state
        .db
        .query_all(Statement::from_string(backend, "SELECT totp_secret FROM users WHERE totp_secret IS NOT NULL".to_owned()))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1);
    let stored: String = rows[0].try_get("", "totp_secret").unwrap();
    for revealing in [totp::base32(&seed.seed), domain::hex::encode(&seed.seed)] {
        assert!(!stored.to_uppercase().contains(&revealing.to_uppercase()), "the stored seed is sealed");
    }
    let codes = app.state.db.query_all(Statement::from_string(backend, "SELECT code_hash FROM recovery_codes".to_owned())).await.unwrap();
    for row in codes {
        let hash: String = row.try_get("", "code_hash").unwrap();
        assert!(recovery.iter().all(|code| !hash.contains(&code.replace('-', ""))), "recovery codes are stored as digests");
    }
    if let Some(file) = domain::db::sqlite_file(&app.database_url) {
        let mut bytes = std::fs::read(&file).unwrap();
        bytes.extend(std::fs::read(format!("{}-wal", file.display())).unwrap_or_default());
        let text = String::from_utf8_lossy(&bytes).to_uppercase();
        assert!(text.contains(&stored.to_uppercase()), "the check reads where the rows are");
        assert!(
            !text.contains(&totp::base32(&seed.seed)) && !text.contains(&domain::hex::encode(&seed.seed).to_uppercase()),
            "nor does the database file"
        );
    }
}
