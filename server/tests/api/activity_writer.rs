//! The batched activity writer: nothing queued is lost, and a burst becomes a few multi-row INSERTs.
use std::sync::atomic::Ordering;

use app::api::activity::ListActivity;
use app::model::ActivityFilter;
use chrono::Utc;
use domain::activity::{Action, NewEvent, Origin};

use crate::helpers::{backend_test, TestApp};

backend_test!(a_burst_of_events_is_stored_whole_in_a_few_batches);
async fn a_burst_of_events_is_stored_whole_in_a_few_batches(app: TestApp) {
    let root = app.login("root@sunrise.test").await;
    let company_id = domain::accounts::find_user_by_email(&app.state.db, "root@sunrise.test").await.unwrap().company_id;
    let origin = Origin { ip: Some("10.1.2.3".into()), user_agent: Some("burst".into()) };
    let events = 1_234;
    let mut tasks = Vec::new();
    for n in 0..events {
        let writer = app.state.activity.clone();
        let origin = origin.clone();
        tasks.push(tokio::spawn(async move {
            writer
                .record(NewEvent {
                    company_id,
                    actor_user_id: None,
                    key_id: Some("Burst001"),
                    action: Action::KeyUsed,
                    target: format!("event {n}"),
                    origin: &origin,
                    at: Utc::now(),
                })
                .await;
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    app.state.activity.flush().await;
    let stats = &app.state.activity.stats;
    assert_eq!(stats.written.load(Ordering::Relaxed), events);
    assert_eq!(stats.lost.load(Ordering::Relaxed), 0);
    assert!(stats.batches.load(Ordering::Relaxed) < events / 2, "events are batched: {} batches", stats.batches.load(Ordering::Relaxed));
    let mut stored = std::collections::HashSet::new();
    for page in 1..=7 {
        let filter = ActivityFilter { key_id: Some("Burst001".to_owned()), page, per_page: 200, ..ActivityFilter::default() };
        let feed = app.call(ListActivity { filter }, Some(&root)).await.output();
        for event in feed.events {
            assert_eq!(event.ip.as_deref(), Some("10.1.2.3"));
            stored.insert(event.target);
        }
    }
    assert_eq!(stored.len() as u64, events, "every event is stored exactly once");
}
