//! Accounting of disclosures through the router: which patients each MCP tool call returned, recorded through
//! the batching writer and listed, exported and deleted with the app's visibility and the company's retention.
use std::collections::{BTreeMap, BTreeSet};

use app::api::care::ListPatients;
use app::api::disclosures::{GetRecordRetention, ListDisclosures, UpdateRecordRetention};
use app::api::keys::MintKey;
use app::api::usage::GetKeyUsage;
use app::model::{DisclosureFilter, DisclosurePage, MintRequest, Scope};
use chrono::{Duration, Utc};
use domain::disclosures::NewDisclosure;
use http::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{backend_test, TestApp};

/// A key of `email`'s with every scope the role allows: (Key ID, token).
async fn key_for(app: &TestApp, email: &str, label: &str) -> (String, String) {
    let cookie = app.login_for_keys(email).await;
    let scopes = app.allowed_scopes(&cookie).await;
    let minted =
        app.call(MintKey { request: MintRequest { label: label.to_owned(), expiry: None, scopes, allowed_ips: vec![] } }, Some(&cookie)).await;
    assert_eq!(minted.status, StatusCode::OK, "{}", minted.body);
    let minted = minted.output();
    (minted.key.key_id, minted.token.expose().to_owned())
}

/// `tools/call` of `tool`: the whole `result`.
async fn call(app: &TestApp, token: &str, tool: &str, arguments: Value) -> Value {
    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": tool, "arguments": arguments } });
    let response = app.mcp_post(Some(&format!("Bearer {token}")), body.to_string(), &[]).await;
    assert_eq!(response.status, StatusCode::OK, "{tool}: {}", response.body);
    response.json()["result"].clone()
}

/// The patient ids in a value: every `patient_id`, and the `id` of every item under `patients`.
fn patient_ids(tool: &str, result: &Value) -> BTreeSet<i64> {
    let data = &result["structuredContent"];
    let items =
        |list: &str, field: &str| -> BTreeSet<i64> { data[list].as_array().into_iter().flatten().filter_map(|item| item[field].as_i64()).collect() };
    match tool {
        "list_visits" | "get_schedule" => items("visits", "patient_id"),
        "get_visit" => data["visit"]["patient_id"].as_i64().into_iter().collect(),
        "list_open_shifts" => items("open_shifts", "patient_id"),
        "list_patients" => items("patients", "id"),
        _ => BTreeSet::new(),
    }
}

fn by_key(key_id: &str) -> DisclosureFilter {
    DisclosureFilter { patient_id: None, key_id: Some(key_id.to_owned()), from: None, to: None, page: 1, per_page: 200 }
}

fn by_patient(patient_id: i32) -> DisclosureFilter {
    DisclosureFilter { patient_id: Some(patient_id), key_id: None, from: None, to: None, page: 1, per_page: 200 }
}

async fn list(app: &TestApp, cookie: &str, filter: DisclosureFilter) -> DisclosurePage {
    let answer = app.call(ListDisclosures { filter }, Some(cookie)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    answer.output()
}

/// Patient ids recorded per tool.
fn recorded(page: &DisclosurePage) -> BTreeMap<String, BTreeSet<i64>> {
    let mut tools: BTreeMap<String, BTreeSet<i64>> = BTreeMap::new();
    for row in &page.rows {
        tools.entry(row.tool.clone()).or_default().insert(i64::from(row.patient_id));
    }
    tools
}

backend_test!(each_data_tool_records_exactly_the_patients_it_returned_and_nothing_else_records_any);
async fn each_data_tool_records_exactly_the_patients_it_returned_and_nothing_else_records_any(app: TestApp) {
    let (key_id, token) = key_for(&app, "root@sunrise.test", "Compliance").await;
    let first_visit = call(&app, &token, "list_visits", json!({})).await["structuredContent"]["visits"][0]["id"].as_i64().unwrap();
    let mut expected = BTreeMap::new();
    for (tool, arguments) in [
        ("list_visits", json!({})),
        ("get_visit", json!({ "id": first_visit })),
        ("get_schedule", json!({})),
        ("list_open_shifts", json!({})),
        ("list_patients", json!({})),
        ("whoami", json!({})),
        ("get_profile", json!({})),
        ("list_messages", json!({})),
        ("list_caregivers", json!({})),
        ("get_visit", json!({ "id": 999_999 })),
    ] {
        let result = call(&app, &token, tool, arguments).await;
        let ids = patient_ids(tool, &result);
        if !ids.is_empty() {
            expected.entry(tool.to_owned()).or_insert_with(BTreeSet::new).extend(ids);
        }
    }
    assert!(expected.contains_key("list_patients") && expected.contains_key("get_visit"), "the demo data returns patients: {expected:?}");
    app.state.activity.flush().await;
    let cookie = app.login("root@sunrise.test").await;
    let page = list(&app, &cookie, by_key(&key_id)).await;
    assert_eq!(recorded(&page), expected);
    assert!(page
        .rows
        .iter()
        .all(|row| row.key_id == key_id && row.key_label == "Compliance" && row.owner_name == "Rosa Martinez" && row.connection.is_none()));

    // A refused call (a scope the key lacks, a visit the owner may not see) records nothing.
    let (barbara_key, barbara) = key_for(&app, "barbara@sunrise.test", "Phone").await;
    let refused = call(&app, &barbara, "list_patients", json!({})).await;
    assert_eq!(refused["isError"], true);
    assert_eq!(call(&app, &barbara, "get_visit", json!({ "id": 999_999 })).await["isError"], true);
    app.state.activity.flush().await;
    assert_eq!(list(&app, &cookie, by_key(&barbara_key)).await.total, 0);
}

backend_test!(a_caregivers_key_reading_her_visits_is_attributed_to_her_key);
async fn a_caregivers_key_reading_her_visits_is_attributed_to_her_key(app: TestApp) {
    let (key_id, token) = key_for(&app, "barbara@sunrise.test", "Barbara's assistant").await;
    let visits = call(&app, &token, "list_visits", json!({})).await;
    let patients = patient_ids("list_visits", &visits);
    let patient = *patients.iter().next().expect("barbara has visits") as i32;
    app.state.activity.flush().await;

    let root = app.login("root@sunrise.test").await;
    let page = list(&app, &root, by_patient(patient)).await;
    assert_eq!(page.total, 1);
    let row = &page.rows[0];
    assert_eq!((row.owner_name.as_str(), row.key_id.as_str(), row.key_label.as_str()), ("Barbara Lee", key_id.as_str(), "Barbara's assistant"));
    assert_eq!((row.tool.as_str(), row.client.as_deref()), ("list_visits", Some("mcp-test")), "the client as its User-Agent named itself");
    assert!(!row.patient_name.is_empty());

    let barbara = app.login("barbara@sunrise.test").await;
    let usage = app.call(GetKeyUsage { key_id: key_id.clone() }, Some(&barbara)).await.output();
    assert_eq!(usage.patients_read, patients.len() as u64);
    assert_eq!(usage.top_patients.len(), patients.len().min(5));
    assert!(usage.top_patients.iter().all(|top| top.reads == 1 && !top.patient_name.is_empty()));
}

backend_test!(disclosures_are_seen_only_within_the_company_and_the_viewers_own_keys);
async fn disclosures_are_seen_only_within_the_company_and_the_viewers_own_keys(app: TestApp) {
    let (root_key, root_token) = key_for(&app, "root@sunrise.test", "Root's").await;
    let (office_key, office_token) = key_for(&app, "office@sunrise.test", "Office's").await;
    let (barbara_key, barbara_token) = key_for(&app, "barbara@sunrise.test", "Barbara's").await;
    let barbaras_patients = patient_ids("list_visits", &call(&app, &barbara_token, "list_visits", json!({})).await);
    let barbara_patient = *barbaras_patients.iter().next().unwrap() as i32;
    call(&app, &root_token, "list_visits", json!({})).await;
    call(&app, &office_token, "list_visits", json!({})).await;
    app.state.activity.flush().await;
    let owners = |page: &DisclosurePage| page.rows.iter().map(|row| row.owner_name.clone()).collect::<BTreeSet<_>>();

    let root = app.login("root@sunrise.test").await;
    let all = list(&app, &root, by_patient(barbara_patient)).await;
    assert_eq!(owners(&all), BTreeSet::from(["Barbara Lee".to_owned(), "Owen Price".to_owned(), "Rosa Martinez".to_owned()]));
    let office = app.login("office@sunrise.test").await;
    assert_eq!(
        owners(&list(&app, &office, by_patient(barbara_patient)).await),
        BTreeSet::from(["Owen Price".to_owned()]),
        "office: only his own keys'"
    );
    let barbara = app.login("barbara@sunrise.test").await;
    assert_eq!(owners(&list(&app, &barbara, by_patient(barbara_patient)).await), BTreeSet::from(["Barbara Lee".to_owned()]));
    assert_eq!(app.call(ListDisclosures { filter: by_key(&root_key) }, Some(&barbara)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(ListDisclosures { filter: by_key(&office_key) }, Some(&barbara)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(list(&app, &root, by_key(&barbara_key)).await.total, barbaras_patients.len() as u64, "Root Users see every key's");

    let harbor = app.login("root@harbor.test").await;
    assert_eq!(app.call(ListDisclosures { filter: by_patient(barbara_patient) }, Some(&harbor)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.call(ListDisclosures { filter: by_key(&barbara_key) }, Some(&harbor)).await.status, StatusCode::NOT_FOUND);
    let unfiltered = DisclosureFilter { patient_id: None, key_id: None, from: None, to: None, page: 1, per_page: 10 };
    assert_eq!(app.call(ListDisclosures { filter: unfiltered }, Some(&root)).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // The CSV: the company's rows only, as an attachment, with the same visibility.
    let path = format!("/api/disclosures.csv?patient_id={barbara_patient}");
    let csv = app.get(&path, Some(&root)).await;
    assert_eq!(csv.status, StatusCode::OK, "{}", csv.body);
    assert_eq!(csv.headers["content-disposition"], format!("attachment; filename=\"disclosures-patient-{barbara_patient}.csv\""));
    assert_eq!(csv.headers["cache-control"], "no-store", "care data is never cached, despite the file name");
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "date,recipient,description,credential");
    assert_eq!(lines.len() - 1, all.rows.len());
    assert!(lines[1..].iter().any(|line| line.contains("Barbara Lee") && line.contains(&barbara_key)), "{}", csv.body);
    assert_eq!(app.get(&path, Some(&harbor)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(app.get(&path, None).await.status, StatusCode::UNAUTHORIZED);
    let own = app.get(&path, Some(&barbara)).await;
    assert!(own.body.lines().skip(1).all(|line| line.contains(&barbara_key)), "{}", own.body);
    let later = app.get(&format!("{path}&from={}", Utc::now().date_naive() + Duration::days(1)), Some(&root)).await;
    assert_eq!(later.body.lines().count(), 1, "a range with nothing in it: {}", later.body);
}

backend_test!(the_retention_job_deletes_only_rows_older_than_the_companys_retention);
async fn the_retention_job_deletes_only_rows_older_than_the_companys_retention(app: TestApp) {
    let root = app.login_for_keys("root@sunrise.test").await;
    let patient = app.call(ListPatients {}, Some(&root)).await.output()[0].id;
    let user = domain::accounts::find_user_by_email(&app.state.db, "root@sunrise.test").await.unwrap();
    let (key_id, _) = key_for(&app, "root@sunrise.test", "Old").await;
    let now = Utc::now();
    for (years, days) in [(0, 1), (2, 0), (7, 0)] {
        let disclosure = NewDisclosure {
            company_id: user.company_id,
            key_id: key_id.clone(),
            owner: user.id,
            label: "Old".to_owned(),
            connection: false,
            client: Some("=cmd".to_owned()),
            tool: "list_patients".to_owned(),
            at: now - Duration::days(365 * years + days),
            patients: vec![patient],
        };
        domain::disclosures::record(&app.state.activity, disclosure).await;
    }
    app.state.activity.flush().await;
    assert_eq!(list(&app, &root, by_patient(patient)).await.total, 3);

    assert_eq!(app.call(GetRecordRetention {}, Some(&root)).await.output(), 6);
    let purged = server::retention::run_once(&app.state.db).await.unwrap();
    assert_eq!(purged.disclosures, 1, "only the 7-year-old disclosure");
    assert_eq!(list(&app, &root, by_patient(patient)).await.total, 2);

    let office = app.login("office@sunrise.test").await;
    assert_eq!(app.call(UpdateRecordRetention { years: 1 }, Some(&office)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.call(GetRecordRetention {}, Some(&office)).await.output(), 6, "everyone sees it");
    for years in [0, 11] {
        assert_eq!(app.call(UpdateRecordRetention { years }, Some(&root)).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    }
    assert_eq!(app.call(UpdateRecordRetention { years: 1 }, Some(&root)).await.output(), 1);
    let harbor = app.login("root@harbor.test").await;
    assert_eq!(app.call(GetRecordRetention {}, Some(&harbor)).await.output(), 6, "another company's retention is its own");
    let purged = server::retention::run_once(&app.state.db).await.unwrap();
    assert_eq!(purged.disclosures, 1, "the 2-year-old one");
    let left = list(&app, &root, by_patient(patient)).await;
    assert_eq!(left.total, 1);
    assert!(left.rows[0].at > now - Duration::days(2));
    assert!(purged.events == 0, "the demo's activity is recent");
    let csv = app.get(&format!("/api/disclosures.csv?patient_id={patient}"), Some(&root)).await;
    assert!(csv.body.contains("\"'=cmd (for Rosa Martinez)\""), "a formula is defused: {}", csv.body);
}

backend_test!(an_oauth_connections_calls_are_recorded_with_the_connection);
async fn an_oauth_connections_calls_are_recorded_with_the_connection(app: TestApp) {
    let (_, tokens) = crate::oauth::connect(&app, "barbara@sunrise.test", &[Scope::ReadVisits]).await;
    let access = tokens["access_token"].as_str().unwrap();
    let visits = crate::oauth::mcp(&app, access, "tools/call", json!({ "name": "list_visits", "arguments": {} })).await.json()["result"].clone();
    let patient = *patient_ids("list_visits", &visits).iter().next().unwrap() as i32;
    app.state.activity.flush().await;
    let root = app.login("root@sunrise.test").await;
    let page = list(&app, &root, by_patient(patient)).await;
    assert_eq!(page.total, 1);
    let app_name = page.rows[0].connection.as_ref().map(|app| app.client_name.as_str());
    assert_eq!(
        (app_name, page.rows[0].key_label.as_str(), page.rows[0].owner_name.as_str()),
        (Some("Test Assistant"), "Test Assistant", "Barbara Lee")
    );
}

backend_test!(recording_can_be_turned_off_for_the_benchmark);
async fn recording_can_be_turned_off_for_the_benchmark(backend: crate::helpers::Backend) {
    let app = crate::helpers::spawn_app_with(backend, |config| config.disclosures = false).await;
    let (key_id, token) = key_for(&app, "root@sunrise.test", "Quiet").await;
    call(&app, &token, "list_patients", json!({})).await;
    app.state.activity.flush().await;
    let root = app.login("root@sunrise.test").await;
    assert_eq!(list(&app, &root, by_key(&key_id)).await.total, 0);
}

backend_test!(a_much_read_patients_listing_counts_up_to_the_cap_and_still_pages_on);
async fn a_much_read_patients_listing_counts_up_to_the_cap_and_still_pages_on(app: TestApp) {
    let root = app.login_for_keys("root@sunrise.test").await;
    let patient = app.call(ListPatients {}, Some(&root)).await.output()[0].id;
    let user = domain::accounts::find_user_by_email(&app.state.db, "root@sunrise.test").await.unwrap();
    let (key_id, _) = key_for(&app, "root@sunrise.test", "Busy").await;
    let cap = domain::disclosures::COUNT_CAP;
    let start = Utc::now() - Duration::days(1);
    for n in 0..cap + 2 {
        let disclosure = NewDisclosure {
            company_id: user.company_id,
            key_id: key_id.clone(),
            owner: user.id,
            label: "Busy".to_owned(),
            connection: false,
            client: None,
            tool: "list_visits".to_owned(),
            at: start + Duration::milliseconds(i64::try_from(n).unwrap()),
            patients: vec![patient],
        };
        domain::disclosures::record(&app.state.activity, disclosure).await;
    }
    app.state.activity.flush().await;

    let first = list(&app, &root, by_patient(patient)).await;
    assert_eq!((first.total, first.total_capped, first.rows.len()), (cap, true, 200), "counted up to the cap, which says so");
    let last_counted = list(&app, &root, DisclosureFilter { page: u32::try_from(cap / 200).unwrap(), ..by_patient(patient) }).await;
    let beyond = list(&app, &root, DisclosureFilter { page: u32::try_from(cap / 200).unwrap() + 1, ..by_patient(patient) }).await;
    assert_eq!((last_counted.rows.len(), beyond.rows.len()), (200, 2), "the rows past the cap are still listed");
    assert!((beyond.rows.last().unwrap().at - start).num_milliseconds().abs() < 1, "down to the oldest");
    let one_call = list(&app, &root, by_key(&key_id)).await;
    assert!(one_call.total_capped, "a key's listing is capped alike");
    let recent = DisclosureFilter { from: Some(Utc::now().date_naive() + Duration::days(1)), ..by_patient(patient) };
    let none = list(&app, &root, recent).await;
    assert_eq!((none.total, none.total_capped), (0, false));
}
