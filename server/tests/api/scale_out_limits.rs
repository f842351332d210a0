//! Limits across server processes: with PostgreSQL, two nodes on one database share a key's request budget
//! (within the sync interval), the bound on wrong secrets for a Key ID, and the bound on wrong passwords for an
//! account. SQLite deployments are one process, so there each node keeps its own counts (also tested, so the
//! difference is a decision, not an accident).
use std::time::Duration;

use app::api::keys::UpdateKeyPolicy;
use domain::keys::verifier::MAX_FAILURES_PER_KEY;
use domain::model::KeyPolicy;
use domain::throttle::{SIGN_IN_FAILURES_PER_ACCOUNT, SIGN_IN_WINDOW};
use http::StatusCode;
use sea_orm::{ConnectionTrait, DbBackend};

use crate::helpers::{backend_test, clear_of_a_window_boundary, forge_secret, sign_in, TestApp};
use crate::metrics::metric;

fn shares_counts(app: &TestApp) -> bool {
    app.state.db.get_database_backend() == DbBackend::Postgres
}

backend_test!(a_keys_request_budget_is_the_deployments_not_each_nodes);
async fn a_keys_request_budget_is_the_deployments_not_each_nodes(app: TestApp) {
    let node_b = app.another_node();
    let root = app.login_for_keys("root@sunrise.test").await;
    let policy = KeyPolicy { requests_per_minute: 10, ..KeyPolicy::default() };
    assert_eq!(app.call(UpdateKeyPolicy { policy }, Some(&root)).await.status, StatusCode::OK);
    let (_, token) = app.mint_ok(&root, "Shared budget").await;
    clear_of_a_window_boundary(Duration::from_secs(60), Duration::from_secs(10)).await;
    let mut statuses = Vec::new();
    for n in 0..12 {
        let node = if n % 2 == 0 { &app } else { &node_b };
        statuses.push(node.me(&token).await.status.as_u16());
        // What the node's sync task does every 100 ms, done here at once so the test does not depend on timing:
        // it sends the request it admitted and reads the deployment's total back.
        node.state.verifier.sync_budgets().await.unwrap();
    }
    if shares_counts(&app) {
        let admitted = statuses.iter().filter(|status| **status == 200).count();
        assert!(statuses[..10].iter().all(|status| *status == 200), "{statuses:?}");
        // Each node decides on the total it read at its own last sync, so the other node's one request since
        // then may pass: the stated bound (what the others admit in a sync's blind spot), here one request.
        assert!(admitted <= 11, "ten a minute in all, whichever node answers, give or take the bound: {statuses:?}");
        assert_eq!(statuses.last(), Some(&429), "then refused, on either node: {statuses:?}");
    } else {
        assert_eq!(statuses, [200; 12], "on SQLite each process counts its own (a deployment is one process)");
    }
}

backend_test!(each_nodes_sync_task_tells_it_what_the_others_admitted);
async fn each_nodes_sync_task_tells_it_what_the_others_admitted(app: TestApp) {
    if !shares_counts(&app) {
        return;
    }
    let node_b = app.another_node();
    let root = app.login_for_keys("root@sunrise.test").await;
    let policy = KeyPolicy { requests_per_minute: 10, ..KeyPolicy::default() };
    assert_eq!(app.call(UpdateKeyPolicy { policy }, Some(&root)).await.status, StatusCode::OK);
    let (_, token) = app.mint_ok(&root, "Synced in the background").await;
    clear_of_a_window_boundary(Duration::from_secs(60), Duration::from_secs(15)).await;
    for n in 0..10 {
        assert_eq!(app.me(&token).await.status, StatusCode::OK, "request {n} on node A");
    }
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut accepted_by_b = 0;
    loop {
        match node_b.me(&token).await.status {
            StatusCode::OK => accepted_by_b += 1,
            StatusCode::TOO_MANY_REQUESTS => break,
            other => panic!("unexpected {other}"),
        }
        assert!(std::time::Instant::now() < deadline, "node B never learned of node A's requests");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(accepted_by_b <= 10, "the overshoot is what B admitted before the next sync: {accepted_by_b}");
}

backend_test!(wrong_secrets_for_a_key_id_are_bounded_once_for_every_node);
async fn wrong_secrets_for_a_key_id_are_bounded_once_for_every_node(app: TestApp) {
    let node_b = app.another_node();
    let cookie = app.login_for_keys("barbara@sunrise.test").await;
    let (_, token) = app.mint_ok(&cookie, "Target").await;
    for node in [&app, &node_b] {
        assert_eq!(node.me(&token).await.status, StatusCode::OK, "the owner's client is warm on both nodes");
    }
    clear_of_a_window_boundary(Duration::from_secs(60), Duration::from_secs(20)).await;
    let mut refused = Vec::new();
    for n in 0..MAX_FAILURES_PER_KEY + 2 {
        let node = if n % 2 == 0 { &app } else { &node_b };
        refused.push(node.me(&forge_secret(&token)).await.status.as_u16());
    }
    let argon2_runs = |node: &TestApp| metric(&node.state, "caregate_key_checks_total{path=\"cold\"}");
    if shares_counts(&app) {
        assert!(refused[..MAX_FAILURES_PER_KEY as usize].iter().all(|status| *status == 401), "{refused:?}");
        assert_eq!(refused[MAX_FAILURES_PER_KEY as usize..], [429, 429], "the bound is counted once for both nodes");
        let guesses_checked = argon2_runs(&app) + argon2_runs(&node_b) - 2;
        assert_eq!(guesses_checked, u64::from(MAX_FAILURES_PER_KEY), "no more argon2 work than one node allows");
    } else {
        assert!(refused.iter().all(|status| *status == 401), "each process counts its own on SQLite: {refused:?}");
    }
    assert_eq!(node_b.me(&token).await.status, StatusCode::OK, "the owner's client still works");
}

backend_test!(wrong_passwords_for_an_account_are_bounded_once_for_every_node);
async fn wrong_passwords_for_an_account_are_bounded_once_for_every_node(app: TestApp) {
    let node_b = app.another_node();
    clear_of_a_window_boundary(SIGN_IN_WINDOW, Duration::from_secs(20)).await;
    let mut statuses = Vec::new();
    for n in 0..SIGN_IN_FAILURES_PER_ACCOUNT + 1 {
        let node = if n % 2 == 0 { &app } else { &node_b };
        statuses.push(node.call(sign_in("office@sunrise.test", "not the password"), None).await.status.as_u16());
    }
    let right_on_b = node_b.call(sign_in("office@sunrise.test", domain::demo::DEMO_PASSWORD), None).await.status;
    if shares_counts(&app) {
        assert!(statuses[..SIGN_IN_FAILURES_PER_ACCOUNT as usize].iter().all(|status| *status == 401), "{statuses:?}");
        assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
        assert_eq!(right_on_b, StatusCode::TOO_MANY_REQUESTS, "over the bound nothing is checked, on any node");
    } else {
        assert!(statuses.iter().all(|status| *status == 401), "{statuses:?}");
        assert_eq!(right_on_b, StatusCode::OK);
    }
}

backend_test!(ended_counter_windows_are_swept_from_the_shared_table);
async fn ended_counter_windows_are_swept_from_the_shared_table(app: TestApp) {
    let backend = app.state.db.get_database_backend();
    let insert = "INSERT INTO limit_counters (name, window_start, expires_at, hits) VALUES ('old', 0, 60, 3), ('live', 0, 99999999999, 1)";
    app.state.db.execute(sea_orm::Statement::from_string(backend, insert.to_owned())).await.unwrap();
    let swept = domain::limits::sweep(&app.state.db).await.unwrap();
    let left = app.state.db.query_all(sea_orm::Statement::from_string(backend, "SELECT name FROM limit_counters".to_owned())).await.unwrap();
    let names: Vec<String> = left.iter().map(|row| row.try_get("", "name").unwrap()).collect();
    if shares_counts(&app) {
        assert_eq!((swept, names), (1, vec!["live".to_owned()]));
    } else {
        assert_eq!(swept, 0, "SQLite keeps its counts in memory: nothing to sweep");
    }
}
