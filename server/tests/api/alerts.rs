//! Alerts and expiry reminders: each reminder raised once however many processes run the job, catching up
//! after downtime, e-mailed through a real SMTP conversation (honouring a caregiver's Email switch); alerts
//! listed, counted and marked read by their owner only; the caregiver's Open Shifts and My Profile; and each
//! key's usage counters, as its details panel shows them.
use std::sync::Arc;

use app::api::account::SetNotificationPreferences;
use app::api::alerts::{GetAlertSummary, ListAlerts, MarkAlertRead, MarkAllAlertsRead};
use app::api::care::ListOpenShifts;
use app::api::session::GetCurrentUser;
use app::api::usage::GetKeyUsage;
use app::model::{AlertKind, ExpiryChoice, NotificationPreferences};
use axum::body::Body;
use chrono::{DateTime, Duration, NaiveTime, Utc};
use domain::alerts::{self, NewAlert};
use domain::mail::Mailer;
use http::{Request, StatusCode};
use sea_orm::{ConnectionTrait, Statement};

use crate::helpers::{backend_test, new_key, spawn_app_with, Backend, TestApp};
use crate::mail::smtp_server;

/// Mints a key as the signed-in `cookie` and sets its expiry to exactly `expires_at`; returns its Key ID.
async fn key_expiring(app: &TestApp, cookie: &str, label: &str, expires_at: DateTime<Utc>) -> String {
    let minted = app.call(new_key(label, Some(ExpiryChoice::Days(30)), &["read:visits"]), Some(cookie)).await.output();
    let backend = app.state.db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE api_keys SET expires_at = $1 WHERE key_id = $2",
        _ => "UPDATE api_keys SET expires_at = ? WHERE key_id = ?",
    };
    app.state.db.execute(Statement::from_sql_and_values(backend, sql, [expires_at.into(), minted.key.key_id.clone().into()])).await.unwrap();
    minted.key.key_id
}

/// The reminder job once, as the server runs it, at `now`.
async fn remind(app: &TestApp, now: DateTime<Utc>) -> alerts::ReminderRun {
    alerts::send_expiry_reminders(&app.state.db, &app.state.mailer, &app.state.public_url, now).await.unwrap()
}

/// The kinds of the caller's alerts about `key_id`, newest first.
async fn reminders_for(app: &TestApp, cookie: &str, key_id: &str) -> Vec<AlertKind> {
    let page = app.call(ListAlerts { page: 1 }, Some(cookie)).await.output();
    page.alerts.into_iter().filter(|alert| alert.key_id.as_deref() == Some(key_id)).map(|alert| alert.kind).collect()
}

async fn app_with_smtp(backend: Backend) -> (TestApp, Arc<std::sync::Mutex<Vec<crate::mail::Received>>>) {
    let (url, inbox) = smtp_server().await;
    let app = spawn_app_with(backend, |config| {
        config.mailer = Arc::new(Mailer::new(Some(&url), "caregate <noreply@care.test>").unwrap());
    })
    .await;
    (app, inbox)
}

backend_test!(each_reminder_is_raised_and_mailed_once_even_when_two_processes_run_the_job_together);
async fn each_reminder_is_raised_and_mailed_once_even_when_two_processes_run_the_job_together(backend: Backend) {
    let (app, inbox) = app_with_smtp(backend).await;
    let other = app.another_node();
    let now = Utc::now();
    remind(&app, now).await;
    inbox.lock().unwrap().clear();
    let office = app.login_for_keys("office@sunrise.test").await;
    let key_id = key_expiring(&app, &office, "Laptop – Cursor", now + Duration::days(3)).await;

    let mut raised = 0;
    for _ in 0..5 {
        let (one, two) = tokio::join!(remind(&app, now), remind(&other, now));
        raised += one.raised + two.raised;
    }

    assert_eq!(raised, 1, "one reminder between both processes");
    assert_eq!(reminders_for(&app, &office, &key_id).await, vec![AlertKind::KeyExpiresSoon]);
    let mails = inbox.lock().unwrap().clone();
    assert_eq!(mails.len(), 1, "one e-mail: {mails:?}");
    assert_eq!(mails[0].recipients, vec!["office@sunrise.test".to_owned()]);
    let body = crate::mail::unfold(&mails[0].data);
    assert!(body.contains("Laptop") && body.contains("expires in 3 days"), "{body}");
}

backend_test!(after_downtime_a_key_gets_only_the_reminders_that_still_make_sense);
async fn after_downtime_a_key_gets_only_the_reminders_that_still_make_sense(app: TestApp) {
    let office = app.login_for_keys("office@sunrise.test").await;
    let today = Utc::now().date_naive();
    let noon = |days: i64| (today + Duration::days(days)).and_time(NaiveTime::from_hms_opt(12, 0, 0).unwrap()).and_utc();
    let in_three_days = key_expiring(&app, &office, "In three days", noon(3)).await;
    let tonight = key_expiring(&app, &office, "Tonight", (today + Duration::days(1)).and_time(NaiveTime::MIN).and_utc() - Duration::minutes(1)).await;
    let yesterday = key_expiring(&app, &office, "Yesterday", noon(-1)).await;
    let next_month = key_expiring(&app, &office, "Next month", noon(30)).await;

    // The server was down while "In three days" entered its window and on the day "Tonight" expires.
    let now = today.and_time(NaiveTime::from_hms_opt(0, 30, 0).unwrap()).and_utc();
    remind(&app, now).await;

    assert_eq!(reminders_for(&app, &office, &in_three_days).await, vec![AlertKind::KeyExpiresSoon]);
    assert_eq!(reminders_for(&app, &office, &tonight).await, vec![AlertKind::KeyExpiresToday], "only today's, not a stale 7-day one");
    assert!(reminders_for(&app, &office, &yesterday).await.is_empty(), "an expired key gets nothing");
    assert!(reminders_for(&app, &office, &next_month).await.is_empty(), "not yet");

    // Three days later, on its expiry morning, after another outage: the day's reminder, once.
    remind(&app, noon(3) - Duration::hours(4)).await;
    remind(&app, noon(3) - Duration::hours(3)).await;
    assert_eq!(reminders_for(&app, &office, &in_three_days).await, vec![AlertKind::KeyExpiresToday, AlertKind::KeyExpiresSoon]);
}

backend_test!(a_caregiver_with_the_email_switch_off_gets_the_alert_but_no_e_mail);
async fn a_caregiver_with_the_email_switch_off_gets_the_alert_but_no_e_mail(backend: Backend) {
    let (app, inbox) = app_with_smtp(backend).await;
    let now = Utc::now();
    remind(&app, now).await;
    inbox.lock().unwrap().clear();
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let switched_off = NotificationPreferences { email: false, sms: false, push: false };
    assert_eq!(app.call(SetNotificationPreferences { preferences: switched_off }, Some(&barbara)).await.status, StatusCode::OK);
    let hers = key_expiring(&app, &barbara, "Phone – Claude", now + Duration::days(5)).await;
    let office = app.login_for_keys("office@sunrise.test").await;
    key_expiring(&app, &office, "Desk – Codex", now + Duration::days(5)).await;

    assert_eq!(remind(&app, now).await.raised, 2);

    assert_eq!(reminders_for(&app, &barbara, &hers).await, vec![AlertKind::KeyExpiresSoon]);
    let recipients: Vec<Vec<String>> = inbox.lock().unwrap().iter().map(|mail| mail.recipients.clone()).collect();
    assert_eq!(recipients, vec![vec!["office@sunrise.test".to_owned()]], "only the office user is e-mailed");
}

backend_test!(alerts_are_listed_newest_first_counted_and_marked_read_by_their_owner_only);
async fn alerts_are_listed_newest_first_counted_and_marked_read_by_their_owner_only(app: TestApp) {
    let barbara = app.login("barbara@sunrise.test").await;
    let office = app.login("office@sunrise.test").await;
    let me = app.call(GetCurrentUser {}, Some(&barbara)).await.output();
    let now = Utc::now();
    for (minutes, message) in [(2, "older"), (1, "newer")] {
        let alert =
            NewAlert { user_id: me.id, company_id: me.company_id, kind: AlertKind::KeyReportedLeaked, key_id: None, message: message.to_owned() };
        alerts::raise(&app.state.db, alert, now - Duration::minutes(minutes)).await.unwrap();
    }

    let page = app.call(ListAlerts { page: 1 }, Some(&barbara)).await.output();
    let messages: Vec<&str> = page.alerts.iter().map(|alert| alert.message.as_str()).collect();
    assert_eq!(messages, ["newer", "older"]);
    assert_eq!(app.call(GetAlertSummary {}, Some(&barbara)).await.output().unread, 2);

    let newer = page.alerts[0].id;
    assert!(app.call(ListAlerts { page: 1 }, Some(&office)).await.output().alerts.is_empty(), "another person's alerts are invisible");
    assert_eq!(app.call(MarkAlertRead { alert_id: newer }, Some(&office)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(MarkAlertRead { alert_id: newer }, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.call(GetAlertSummary {}, Some(&barbara)).await.output().unread, 2, "untouched by the refused attempts");

    assert_eq!(app.call(MarkAlertRead { alert_id: newer }, Some(&barbara)).await.status, StatusCode::OK);
    assert_eq!(app.call(MarkAlertRead { alert_id: newer }, Some(&barbara)).await.status, StatusCode::OK, "reading twice is fine");
    assert_eq!(app.call(GetAlertSummary {}, Some(&barbara)).await.output().unread, 1);
    assert_eq!(app.call(MarkAllAlertsRead {}, Some(&barbara)).await.status, StatusCode::OK);
    assert_eq!(app.call(GetAlertSummary {}, Some(&barbara)).await.output().unread, 0);
}

backend_test!(the_dashboard_banner_counts_the_callers_keys_that_expire_this_week);
async fn the_dashboard_banner_counts_the_callers_keys_that_expire_this_week(app: TestApp) {
    let office = app.login_for_keys("office@sunrise.test").await;
    let before = app.call(GetAlertSummary {}, Some(&office)).await.output().keys_expiring_this_week;
    let now = Utc::now();
    key_expiring(&app, &office, "Two days", now + Duration::days(2)).await;
    key_expiring(&app, &office, "Six days", now + Duration::days(6)).await;
    key_expiring(&app, &office, "Ten days", now + Duration::days(10)).await;
    assert_eq!(app.call(GetAlertSummary {}, Some(&office)).await.output().keys_expiring_this_week, before + 2);
}

backend_test!(open_shifts_and_the_profile_show_what_the_mcp_tools_return);
async fn open_shifts_and_the_profile_show_what_the_mcp_tools_return(app: TestApp) {
    let barbara = app.login("barbara@sunrise.test").await;
    let me = app.call(GetCurrentUser {}, Some(&barbara)).await.output();
    let shifts = app.call(ListOpenShifts {}, Some(&barbara)).await.output();
    assert!(!shifts.is_empty(), "the demo company has open shifts");
    assert_eq!(shifts, domain::care::open_shifts(&app.state.db, &me).await.unwrap(), "what list_open_shifts returns");
    assert_eq!((me.name.as_str(), me.email.as_str()), ("Barbara Lee", "barbara@sunrise.test"), "what get_profile returns");
    assert_eq!(app.call(ListOpenShifts {}, None).await.status, StatusCode::UNAUTHORIZED);
}

/// One MCP tool call with `token`, from `peer` by the client `client` (its `User-Agent`).
async fn mcp_call_from(app: &TestApp, peer: &str, client: &str, token: &str, tool: &str) {
    let body = serde_json::json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": tool, "arguments": {} } });
    let request = Request::post("/api/mcp")
        .header("host", "127.0.0.1:3000")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("mcp-protocol-version", "2025-06-18")
        .header("user-agent", client)
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = app.send_from(peer, request).await;
    assert_eq!(response.status, StatusCode::OK, "{}", response.body);
}

backend_test!(an_mcp_clients_calls_show_up_per_day_and_tool_with_its_address_and_name);
async fn an_mcp_clients_calls_show_up_per_day_and_tool_with_its_address_and_name(app: TestApp) {
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let (key_id, token) = app.mint_ok(&barbara, "Phone – Claude").await;
    let other = app.another_node();
    for tool in ["list_visits", "list_visits", "get_profile"] {
        mcp_call_from(&app, "203.0.113.7", "claude-code/2.0", &token, tool).await;
    }
    mcp_call_from(&other, "198.51.100.9", "codex/1.0", &token, "get_profile").await;
    app.state.activity.flush().await;
    other.state.activity.flush().await;

    let usage = app.call(GetKeyUsage { key_id: key_id.clone() }, Some(&barbara)).await.output();
    assert_eq!(usage.days.len(), 30);
    let today = usage.days.last().unwrap();
    assert_eq!((today.day, today.requests), (Utc::now().date_naive(), 4), "both processes' requests, on today's bar");
    assert_eq!(usage.days.iter().map(|day| day.requests).sum::<u64>(), 4);
    let tools: Vec<(&str, u64)> = usage.tools.iter().map(|tool| (tool.tool.as_str(), tool.calls)).collect();
    assert_eq!(tools, [("get_profile", 2), ("list_visits", 2)]);
    let sources: Vec<(Option<&str>, Option<&str>)> = usage.sources.iter().map(|source| (source.ip.as_deref(), source.client.as_deref())).collect();
    assert_eq!(sources, [(Some("198.51.100.9"), Some("codex/1.0")), (Some("203.0.113.7"), Some("claude-code/2.0"))], "most recent first");
    assert_eq!(usage.key.label, "Phone – Claude");

    let root = app.login("root@sunrise.test").await;
    assert_eq!(app.call(GetKeyUsage { key_id: key_id.clone() }, Some(&root)).await.status, StatusCode::OK, "a Root User sees any key of the company");
    let office = app.login("office@sunrise.test").await;
    assert_eq!(app.call(GetKeyUsage { key_id: key_id.clone() }, Some(&office)).await.status, StatusCode::NOT_FOUND);
    let harbor = app.login("root@harbor.test").await;
    assert_eq!(app.call(GetKeyUsage { key_id }, Some(&harbor)).await.status, StatusCode::NOT_FOUND);
}

backend_test!(a_rolled_key_is_neither_reminded_nor_counted_in_the_banner);
async fn a_rolled_key_is_neither_reminded_nor_counted_in_the_banner(app: TestApp) {
    let office = app.login_for_keys("office@sunrise.test").await;
    let now = Utc::now();
    let before = app.call(GetAlertSummary {}, Some(&office)).await.output().keys_expiring_this_week;
    let rolled = key_expiring(&app, &office, "Rolled", now + Duration::hours(20)).await;
    let backend = app.state.db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "UPDATE api_keys SET rolled_to = 'Successr' WHERE key_id = $1",
        _ => "UPDATE api_keys SET rolled_to = 'Successr' WHERE key_id = ?",
    };
    app.state.db.execute(Statement::from_sql_and_values(backend, sql, [rolled.clone().into()])).await.unwrap();

    remind(&app, now).await;

    assert!(reminders_for(&app, &office, &rolled).await.is_empty(), "its successor is the key to remind about");
    assert_eq!(app.call(GetAlertSummary {}, Some(&office)).await.output().keys_expiring_this_week, before);
}

backend_test!(a_key_used_from_many_places_keeps_only_its_latest_fifty_sources);
async fn a_key_used_from_many_places_keeps_only_its_latest_fifty_sources(app: TestApp) {
    let barbara = app.login_for_keys("barbara@sunrise.test").await;
    let (key_id, token) = app.mint_ok(&barbara, "Leaked?").await;
    for n in 0..55 {
        mcp_call_from(&app, &format!("203.0.113.{n}"), "scraper", &token, "get_profile").await;
        app.state.activity.flush().await;
    }
    let usage = app.call(GetKeyUsage { key_id: key_id.clone() }, Some(&barbara)).await.output();
    assert_eq!(usage.sources.first().and_then(|source| source.ip.as_deref()), Some("203.0.113.54"));
    let backend = app.state.db.get_database_backend();
    let sql = match backend {
        sea_orm::DatabaseBackend::Postgres => "SELECT COUNT(*) AS n FROM key_usage_sources WHERE key_id = $1",
        _ => "SELECT COUNT(*) AS n FROM key_usage_sources WHERE key_id = ?",
    };
    let row = app.state.db.query_one(Statement::from_sql_and_values(backend, sql, [key_id.into()])).await.unwrap().unwrap();
    assert_eq!(row.try_get::<i64>("", "n").unwrap(), 50);
    assert_eq!(usage.days.last().map(|day| day.requests), Some(55), "every request still counts");
}
