//! Tenant and role isolation, exhaustively: every server function, page, HTTP route and MCP tool, tried by
//! every actor — anonymous; Sunrise's Root User, office User and caregiver; Harbor's Root User; and each of
//! those four through an API key with full scopes and with only `read:profile` — against their own rows,
//! a colleague's and the other company's. Each cell states the exact outcome. Server functions, pages and
//! MCP tools are enumerated from the app itself, so a new one that is missing from the table fails the test.
use std::collections::{BTreeMap, BTreeSet};

use app::api::account::{
    BeginTwoFactorSetup, ChangePassword, ConfirmTwoFactorSetup, DisableTwoFactor, GetNotificationPreferences, GetTwoFactorStatus, ListPeople,
    RenewRecoveryCodes, SetNotificationPreferences,
};
use app::api::activity::ListActivity;
use app::api::alerts::{GetAlertSummary, ListAlerts, MarkAlertRead, MarkAllAlertsRead};
use app::api::care::{ListMessages, ListOpenShifts, ListPatients, ListSchedule, ListVisits};
use app::api::disclosures::{GetRecordRetention, ListDisclosures, UpdateRecordRetention};
use app::api::keys::{
    ConfirmCode, ConfirmPassword, DeleteKey, GetKeySetup, ListKeys, MintKey, RevokeAllKeys, RevokeKey, RollKey, SetKeyAllowlist, UpdateKeyPolicy,
};
use app::api::oauth::{DecideConsent, GetConsent};
use app::api::people::{
    AcceptInvitation, ActivatePerson, CancelInvitation, DeactivatePerson, GetInvitation, InvitePerson, ListPeoplePage, RenewInvitation, SetPersonRole,
};
use app::api::session::{GetCurrentUser, Logout, SubmitSignInCode};
use app::api::usage::GetKeyUsage;
use app::model::{
    ActivityFilter, ConsentDecision, DisclosureFilter, KeyFilter, KeyPolicy, MintRequest, NotificationPreferences, PeopleFilter, RevokeAllOf, Role,
    RollOverlap, UserId,
};
use axum::body::Body;
use http::{Request, StatusCode};
use leptos::server_fn::ServerFn;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Value};

use crate::helpers::{backend_test, new_key, server_fn_request, sign_in, Answer, ArgumentCodec, TestApp};

/// An authorization request id of the right shape (43 base64url characters) that nobody's client started.
fn unknown_request() -> String {
    "A".repeat(43)
}

const PEOPLE: [&str; 4] = ["root@sunrise.test", "office@sunrise.test", "barbara@sunrise.test", "root@harbor.test"];

#[derive(Clone, Copy, Debug, PartialEq)]
enum Via {
    Anonymous,
    Session(usize),
    FullKey(usize),
    NarrowKey(usize),
}

/// Everything the probes use: each person's session, keys, and a few rows to aim at.
struct World {
    cookies: Vec<String>,
    full_keys: Vec<String>,
    narrow_keys: Vec<String>,
    /// Per person: a live key's and a revoked key's Key ID.
    live: Vec<String>,
    revoked: Vec<String>,
    /// Visits of barbara, of her colleague carl, and of Harbor's hank.
    visits: BTreeMap<&'static str, i64>,
    /// A patient of each company: Sunrise's whose visit is barbara's, Harbor's whose is hank's.
    patients: BTreeMap<&'static str, i32>,
    user_ids: Vec<UserId>,
}

async fn world(app: &TestApp) -> World {
    let mut world = World {
        cookies: vec![],
        full_keys: vec![],
        narrow_keys: vec![],
        live: vec![],
        revoked: vec![],
        visits: BTreeMap::new(),
        patients: BTreeMap::new(),
        user_ids: vec![],
    };
    for email in PEOPLE {
        let cookie = app.login_for_keys(email).await;
        let mint = |scopes: Vec<String>| {
            app.call(MintKey { request: MintRequest { label: "Isolation".to_owned(), expiry: None, scopes, allowed_ips: vec![] } }, Some(&cookie))
        };
        let every_scope = app.allowed_scopes(&cookie).await;
        let full = mint(every_scope.clone()).await.output();
        let narrow = mint(vec!["read:profile".to_owned()]).await.output();
        let doomed = mint(every_scope).await.output();
        let doomed_id = doomed.key.key_id;
        assert_eq!(app.call(RevokeKey { key_id: doomed_id.clone() }, Some(&cookie)).await.status, StatusCode::OK);
        world.full_keys.push(full.token.expose().to_owned());
        world.narrow_keys.push(narrow.token.expose().to_owned());
        world.live.push(full.key.key_id);
        world.revoked.push(doomed_id);
        world.user_ids.push(domain::accounts::find_user_by_email(&app.state.db, email).await.unwrap().id);
        world.cookies.push(cookie);
    }
    for (cookie, wanted) in [(&world.cookies[0], ["Barbara Lee", "Carl Jensen"].as_slice()), (&world.cookies[3], ["Hank Olsen"].as_slice())] {
        let visits = app.call(ListVisits {}, Some(cookie)).await.output();
        for name in wanted {
            let visit = visits.iter().find(|v| v.caregiver_name == *name).expect("a visit");
            world.visits.insert(first_name(name), i64::from(visit.id));
            world.patients.insert(first_name(name), visit.patient_id);
        }
    }
    world
}

fn first_name(name: &str) -> &'static str {
    match name.split(' ').next().unwrap_or_default() {
        "Rosa" => "rosa",
        "Owen" => "owen",
        "Barbara" => "barbara",
        "Carl" => "carl",
        "Hugo" => "hugo",
        "Hank" => "hank",
        other => panic!("unexpected person {other}"),
    }
}

/// Sorted, de-duplicated first names of `people`.
fn first_names<'a>(people: impl IntoIterator<Item = &'a str>) -> String {
    let set: BTreeSet<&str> = people.into_iter().map(first_name).collect();
    set.into_iter().collect::<Vec<_>>().join(",")
}

/// Sorted, de-duplicated first names found under `field` of each item.
fn names(items: &Value, fields: &[&str]) -> String {
    first_names(items.as_array().into_iter().flatten().flat_map(|item| fields.iter().filter_map(|f| item[*f].as_str())))
}

/// Calls the server function `F`, which must be the one at `/api/{endpoint}`, as `via`.
async fn server_fn<F>(app: &TestApp, world: &World, via: Via, endpoint: &str, arguments: F) -> Answer<F::Output>
where
    F: ServerFn + Serialize,
    F::Protocol: ArgumentCodec,
{
    assert_eq!(F::PATH, format!("/api/{endpoint}"), "the probe of {endpoint} calls another server function");
    let mut request = server_fn_request(&arguments, None);
    let credential = match via {
        Via::Anonymous => None,
        Via::Session(who) => Some((http::header::COOKIE, world.cookies[who].clone())),
        Via::FullKey(who) => Some((http::header::AUTHORIZATION, format!("Bearer {}", world.full_keys[who]))),
        Via::NarrowKey(who) => Some((http::header::AUTHORIZATION, format!("Bearer {}", world.narrow_keys[who]))),
    };
    if let Some((name, value)) = credential {
        request.headers_mut().insert(name, http::HeaderValue::from_str(&value).unwrap());
    }
    app.send(request).await.into()
}

/// The status, and for a success a summary of what came back.
fn outcome<T: DeserializeOwned>(response: &Answer<T>, summary: impl Fn(T) -> String) -> String {
    if response.status != StatusCode::OK {
        return response.status.as_u16().to_string();
    }
    let summary = summary(response.output());
    if summary.is_empty() {
        "200".to_owned()
    } else {
        format!("200 {summary}")
    }
}

/// Runs one server-function probe.
async fn probe_server_fn(app: &TestApp, world: &World, via: Via, case: &str) -> String {
    let who_target = |name: &str| -> usize { PEOPLE.iter().position(|p| p.starts_with(name)).unwrap() };
    let (endpoint, target) = case.split_once(' ').unwrap_or((case, ""));
    match endpoint {
        "session/login" => {
            outcome(&server_fn(app, world, via, endpoint, sign_in(&format!("nobody-{via:?}@sunrise.test"), "x")).await, |_| String::new())
        }
        "session/logout" => outcome(&server_fn(app, world, via, endpoint, Logout {}).await, |_| String::new()),
        "session/me" => outcome(&server_fn(app, world, via, endpoint, GetCurrentUser {}).await, |me| first_name(&me.name).to_owned()),
        "account/password" => {
            let change = ChangePassword { current: "x".to_owned(), new: "long-enough-passphrase".to_owned(), confirm: "does-not-match".to_owned() };
            outcome(&server_fn(app, world, via, endpoint, change).await, |_| String::new())
        }
        "account/notifications" => outcome(&server_fn(app, world, via, endpoint, GetNotificationPreferences {}).await, |_| String::new()),
        "keys/setup" => outcome(&server_fn(app, world, via, endpoint, GetKeySetup {}).await, |_| String::new()),
        "account/notifications/set" => {
            let preferences = NotificationPreferences { email: true, sms: false, push: true };
            outcome(&server_fn(app, world, via, endpoint, SetNotificationPreferences { preferences }).await, |_| String::new())
        }
        "account/people" => {
            outcome(&server_fn(app, world, via, endpoint, ListPeople {}).await, |people| first_names(people.iter().map(|p| p.name.as_str())))
        }
        "keys/confirm-password" => {
            outcome(&server_fn(app, world, via, endpoint, ConfirmPassword { password: "wrong".to_owned() }).await, |_| String::new())
        }
        "keys/mint" => outcome(&server_fn(app, world, via, endpoint, new_key("", None, &[])).await, |_| String::new()),
        "keys/list" => {
            let filter = KeyFilter { per_page: 100, ..KeyFilter::default() };
            outcome(&server_fn(app, world, via, endpoint, ListKeys { filter }).await, |page| {
                first_names(page.keys.iter().map(|k| k.owner_name.as_str()))
            })
        }
        "keys/revoke" => {
            let revoke = RevokeKey { key_id: world.revoked[who_target(target)].clone() };
            outcome(&server_fn(app, world, via, endpoint, revoke).await, |_| String::new())
        }
        "keys/roll" => {
            let roll = RollKey { key_id: world.revoked[who_target(target)].clone(), overlap: RollOverlap::OneHour };
            outcome(&server_fn(app, world, via, endpoint, roll).await, |_| String::new())
        }
        "keys/allowlist" => {
            let allowlist = SetKeyAllowlist { key_id: world.revoked[who_target(target)].clone(), allowed_ips: vec![] };
            outcome(&server_fn(app, world, via, endpoint, allowlist).await, |_| String::new())
        }
        "keys/delete" => {
            let delete = DeleteKey { key_id: world.live[who_target(target)].clone() };
            outcome(&server_fn(app, world, via, endpoint, delete).await, |_| String::new())
        }
        "keys/policy" => {
            let policy = KeyPolicy::default();
            outcome(&server_fn(app, world, via, endpoint, UpdateKeyPolicy { policy }).await, |_| String::new())
        }
        "activity/list" => {
            let (user_id, key_id) = match target {
                "" => (None, None),
                key if key.ends_with("-key") => (None, Some(world.live[who_target(key.trim_end_matches("-key"))].clone())),
                user => (Some(world.user_ids[who_target(user)]), None),
            };
            let filter = ActivityFilter { user_id, key_id, page: 1, per_page: 200 };
            outcome(&server_fn(app, world, via, endpoint, ListActivity { filter }).await, |page| {
                first_names(page.events.iter().filter_map(|e| e.actor_name.as_deref()))
            })
        }
        "care/visits" => outcome(&server_fn(app, world, via, endpoint, ListVisits {}).await, |visits| {
            first_names(visits.iter().map(|v| v.caregiver_name.as_str()))
        }),
        "care/schedule" => outcome(&server_fn(app, world, via, endpoint, ListSchedule {}).await, |visits| {
            first_names(visits.iter().map(|v| v.caregiver_name.as_str()))
        }),
        "care/patients" => outcome(&server_fn(app, world, via, endpoint, ListPatients {}).await, |patients| format!("n={}", patients.len())),
        "care/messages" => outcome(&server_fn(app, world, via, endpoint, ListMessages {}).await, |messages| {
            first_names(messages.iter().flat_map(|m| [m.sender_name.as_str(), m.recipient_name.as_str()]))
        }),
        "keys/usage" => {
            let usage = GetKeyUsage { key_id: world.live[who_target(target)].clone() };
            outcome(&server_fn(app, world, via, endpoint, usage).await, |usage| format!("{} days", usage.days.len()))
        }
        "care/open_shifts" => outcome(&server_fn(app, world, via, endpoint, ListOpenShifts {}).await, |shifts| format!("n={}", shifts.len())),
        "alerts/list" => outcome(&server_fn(app, world, via, endpoint, ListAlerts { page: 1 }).await, |page| format!("n={}", page.alerts.len())),
        "alerts/summary" => outcome(&server_fn(app, world, via, endpoint, GetAlertSummary {}).await, |summary| format!("unread={}", summary.unread)),
        "alerts/read" => outcome(&server_fn(app, world, via, endpoint, MarkAlertRead { alert_id: 999_999 }).await, |_| String::new()),
        "alerts/read_all" => outcome(&server_fn(app, world, via, endpoint, MarkAllAlertsRead {}).await, |_| String::new()),
        "account/two-factor" => {
            outcome(&server_fn(app, world, via, endpoint, GetTwoFactorStatus {}).await, |status| format!("on={}", status.enabled))
        }
        "account/two-factor/begin" => outcome(&server_fn(app, world, via, endpoint, BeginTwoFactorSetup {}).await, |_| String::new()),
        "account/two-factor/confirm" => outcome(
            &server_fn(
                app,
                world,
                via,
                endpoint,
                ConfirmTwoFactorSetup { password: domain::demo::DEMO_PASSWORD.to_owned(), code: "000000".to_owned() },
            )
            .await,
            |_| String::new(),
        ),
        "account/two-factor/recovery-codes" => {
            outcome(&server_fn(app, world, via, endpoint, RenewRecoveryCodes { code: "000000".to_owned() }).await, |_| String::new())
        }
        "account/two-factor/disable" => {
            let disable = DisableTwoFactor { password: "wrong".to_owned(), code: "000000".to_owned() };
            outcome(&server_fn(app, world, via, endpoint, disable).await, |_| String::new())
        }
        "session/code" => {
            outcome(&server_fn(app, world, via, endpoint, SubmitSignInCode { code: "000000".to_owned(), next: None }).await, |_| String::new())
        }
        "keys/confirm-code" => outcome(&server_fn(app, world, via, endpoint, ConfirmCode { code: "000000".to_owned() }).await, |_| String::new()),
        "keys/revoke-all" => {
            let revoke = RevokeAllKeys { of: RevokeAllOf::Person(UserId(999_999)) };
            outcome(&server_fn(app, world, via, endpoint, revoke).await, |count| format!("n={count}"))
        }
        "people/list" => {
            let list = ListPeoplePage { filter: PeopleFilter { per_page: 100, ..PeopleFilter::default() } };
            outcome(&server_fn(app, world, via, endpoint, list).await, |page| first_names(page.people.iter().map(|p| p.name.as_str())))
        }
        "people/invite" => {
            let invite = InvitePerson { name: "Probe".to_owned(), email: "not-an-email".to_owned(), role: Role::Caregiver };
            outcome(&server_fn(app, world, via, endpoint, invite).await, |_| String::new())
        }
        "people/invite-again" => {
            let renew = RenewInvitation { user_id: world.user_ids[who_target(target)] };
            outcome(&server_fn(app, world, via, endpoint, renew).await, |_| String::new())
        }
        "people/cancel-invitation" => {
            let cancel = CancelInvitation { user_id: world.user_ids[who_target(target)] };
            outcome(&server_fn(app, world, via, endpoint, cancel).await, |_| String::new())
        }
        "people/deactivate" => {
            let deactivate = DeactivatePerson { user_id: world.user_ids[who_target(target)] };
            outcome(&server_fn(app, world, via, endpoint, deactivate).await, |_| String::new())
        }
        "people/activate" => {
            let activate = ActivatePerson { user_id: world.user_ids[who_target(target)] };
            outcome(&server_fn(app, world, via, endpoint, activate).await, |_| String::new())
        }
        "people/set-role" => {
            let demote = SetPersonRole { user_id: world.user_ids[who_target(target)], role: Role::User };
            outcome(&server_fn(app, world, via, endpoint, demote).await, |_| String::new())
        }
        "invitation/show" => outcome(&server_fn(app, world, via, endpoint, GetInvitation { secret: "0".repeat(64) }).await, |_| String::new()),
        "invitation/accept" => {
            let accept = AcceptInvitation {
                secret: "0".repeat(64),
                password: "long-enough-passphrase".to_owned(),
                confirm: "long-enough-passphrase".to_owned(),
            };
            outcome(&server_fn(app, world, via, endpoint, accept).await, |_| String::new())
        }
        "disclosures/list" => {
            // After the MCP rows: the calls they made are in the writer's queue until flushed.
            app.state.activity.flush().await;
            let (patient_id, key_id) = match target.strip_suffix("-key") {
                Some(owner) => (None, Some(world.live[who_target(owner)].clone())),
                None => (Some(world.patients[target]), None),
            };
            let filter = DisclosureFilter { patient_id, key_id, from: None, to: None, page: 1, per_page: 200 };
            outcome(&server_fn(app, world, via, endpoint, ListDisclosures { filter }).await, |page| {
                first_names(page.rows.iter().map(|row| row.owner_name.as_str()))
            })
        }
        "disclosures/retention" => outcome(&server_fn(app, world, via, endpoint, GetRecordRetention {}).await, |years| format!("{years}y")),
        "disclosures/retention/update" => {
            outcome(&server_fn(app, world, via, endpoint, UpdateRecordRetention { years: 6 }).await, |years| format!("{years}y"))
        }
        "oauth/consent" => outcome(&server_fn(app, world, via, endpoint, GetConsent { request: unknown_request() }).await, |_| String::new()),
        "oauth/decide" => {
            let decide = DecideConsent { request: unknown_request(), decision: ConsentDecision { allow: true, scopes: vec![] } };
            outcome(&server_fn(app, world, via, endpoint, decide).await, |_| String::new())
        }
        other => panic!("no probe for server function {other}"),
    }
}

async fn probe_page(app: &TestApp, world: &World, via: Via, route: &str) -> String {
    // A route with a parameter is probed at a concrete address: the invitation page with a link nobody issued,
    // the consent page with an authorization request nobody started.
    let path = match route {
        "/oauth/authorize" => format!("{route}?request={}", unknown_request()),
        route => route.replace("{secret}", &"0".repeat(64)),
    };
    let mut request = Request::get(path);
    request = match via {
        Via::Session(who) => request.header(http::header::COOKIE, &world.cookies[who]),
        Via::FullKey(who) => request.header(http::header::AUTHORIZATION, format!("Bearer {}", world.full_keys[who])),
        _ => request,
    };
    let response = app.send(request.body(Body::empty()).unwrap()).await;
    match response.status {
        StatusCode::OK => {
            let foreign = match via {
                Via::Session(3) => "Sunrise",
                _ => "Harbor",
            };
            if response.body.contains(foreign) {
                "200 LEAK".to_owned()
            } else {
                "200".to_owned()
            }
        }
        StatusCode::SEE_OTHER => match response.location().unwrap_or_default() {
            location if location.starts_with("/login") => "login".to_owned(),
            location => format!("to {location}"),
        },
        other => other.as_u16().to_string(),
    }
}

async fn probe_mcp(app: &TestApp, world: &World, via: Via, case: &str) -> String {
    let (tool, target) = case.split_once(' ').unwrap_or((case, ""));
    let authorization = match via {
        Via::Anonymous => None,
        Via::Session(_) => None,
        Via::FullKey(who) => Some(format!("Bearer {}", world.full_keys[who])),
        Via::NarrowKey(who) => Some(format!("Bearer {}", world.narrow_keys[who])),
    };
    let mut headers = vec![];
    let cookie;
    if let Via::Session(who) = via {
        cookie = world.cookies[who].clone();
        headers.push(("cookie", cookie.as_str()));
    }
    if tool == "list_disclosures" {
        // The calls of the MCP rows above are in the writer's queue until flushed.
        app.state.activity.flush().await;
    }
    let arguments = match (tool, target) {
        ("get_visit", who) => json!({ "id": world.visits[who] }),
        ("list_visits", _) => json!({ "from": "2000-01-01", "to": "2100-01-01" }),
        ("list_disclosures", who) => json!({ "patient_id": world.patients[who] }),
        _ => json!({}),
    };
    let body = if tool == "tools/list" {
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {} })
    } else {
        json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": tool, "arguments": arguments } })
    };
    let response = app.mcp_post(authorization.as_deref(), body.to_string(), &headers).await;
    if response.status != StatusCode::OK {
        return response.status.as_u16().to_string();
    }
    let result = response.json()["result"].clone();
    if tool == "tools/list" {
        return format!("tools={}", result["tools"].as_array().unwrap().len());
    }
    if result["isError"] == true {
        let text = result["content"][0]["text"].as_str().unwrap_or_default();
        return if text.starts_with("Insufficient scope") { "scope".to_owned() } else { "refused".to_owned() };
    }
    let data = &result["structuredContent"];
    match tool {
        "whoami" => format!("ok {}", first_name(data["user"]["name"].as_str().unwrap())),
        "get_profile" => format!("ok {}", first_name(data["profile"]["name"].as_str().unwrap())),
        "list_visits" => format!("ok {}", names(&data["visits"], &["caregiver_name"])),
        "get_schedule" | "list_open_shifts" => "ok".to_owned(),
        "get_visit" => format!("ok {}", first_name(data["visit"]["caregiver_name"].as_str().unwrap())),
        "list_messages" => format!("ok {}", names(&data["messages"], &["sender_name", "recipient_name"])),
        "list_patients" => format!("ok n={}", data["patients"].as_array().unwrap().len()),
        "list_caregivers" => format!("ok {}", names(&data["caregivers"], &["name"])),
        "list_activity" => format!("ok {}", names(&data["events"], &["actor_name"])),
        "list_disclosures" => format!("ok {}", names(&data["disclosures"], &["owner_name"])),
        other => panic!("no probe for MCP tool {other}"),
    }
}

async fn probe_http(app: &TestApp, world: &World, via: Via, path: &str) -> String {
    let patient = |who: &str| world.patients[who].to_string();
    let target = match path.split_once(' ') {
        Some(("/api/disclosures.csv", who)) => {
            app.state.activity.flush().await;
            format!("/api/disclosures.csv?patient_id={}", patient(who))
        }
        _ => path.to_owned(),
    };
    let mut request = Request::get(target);
    request = match via {
        Via::Anonymous => request,
        Via::Session(who) => request.header(http::header::COOKIE, &world.cookies[who]),
        Via::FullKey(who) => request.header(http::header::AUTHORIZATION, format!("Bearer {}", world.full_keys[who])),
        Via::NarrowKey(who) => request.header(http::header::AUTHORIZATION, format!("Bearer {}", world.narrow_keys[who])),
    };
    let response = app.send(request.body(Body::empty()).unwrap()).await;
    match (path, response.status) {
        ("/api/v1/me", StatusCode::OK) => format!("200 {}", first_name(response.json()["user"]["name"].as_str().unwrap())),
        (csv, StatusCode::OK) if csv.starts_with("/api/disclosures.csv") => format!("200 rows={}", response.body.lines().count() - 1),
        (_, status) => status.as_u16().to_string(),
    }
}

/// One row: what to try and the outcome per actor, in the order
/// anonymous | sessions of rosa, owen, barbara, hugo | their full keys | their `read:profile` keys.
/// Deleting is for Root Users only: others get 403 for any Key ID, which tells them nothing about it.
struct Row {
    surface: &'static str,
    case: &'static str,
    outcomes: &'static str,
}

const ROWS: &[Row] = &[
    // Server functions: cookies only; an API key never opens them.
    Row { surface: "fn", case: "session/me", outcomes: "401 | 200 rosa, 200 owen, 200 barbara, 200 hugo | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "session/login", outcomes: "401 | 401 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "account/password", outcomes: "401 | 422 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "account/notifications", outcomes: "401 | 200 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "account/notifications/set", outcomes: "401 | 200 ×4 | 401 ×4 | 401 ×4" },
    Row {
        surface: "fn",
        case: "account/people",
        outcomes: "401 | 200 barbara,carl,owen,rosa, 200 owen, 200 barbara, 200 hank,hugo | 401 ×4 | 401 ×4",
    },
    // Two-factor: each person their own; the probes never turn it on (a wrong first code), so later rows sign in as before.
    Row { surface: "fn", case: "account/two-factor", outcomes: "401 | 200 on=false ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "account/two-factor/begin", outcomes: "401 | 200 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "account/two-factor/confirm", outcomes: "401 | 422 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "account/two-factor/recovery-codes", outcomes: "401 | 409 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "account/two-factor/disable", outcomes: "401 | 401 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "session/code", outcomes: "401 | 401 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/confirm-code", outcomes: "401 | 409 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/setup", outcomes: "401 | 200 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/list", outcomes: "401 | 200 barbara,owen,rosa, 200 owen, 200 barbara, 200 hugo | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/revoke root", outcomes: "401 | 409, 404, 404, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/revoke office", outcomes: "401 | 409, 409, 404, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/revoke barbara", outcomes: "401 | 409, 404, 409, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/revoke root@harbor", outcomes: "401 | 404, 404, 404, 409 | 401 ×4 | 401 ×4" },
    // Rolling and allowlists: what revoking allows, aimed at revoked keys (so nothing changes): 409 where the key is visible.
    Row { surface: "fn", case: "keys/roll root", outcomes: "401 | 409, 404, 404, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/roll office", outcomes: "401 | 409, 409, 404, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/roll barbara", outcomes: "401 | 409, 404, 409, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/roll root@harbor", outcomes: "401 | 404, 404, 404, 409 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/allowlist root", outcomes: "401 | 409, 404, 404, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/allowlist office", outcomes: "401 | 409, 409, 404, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/allowlist barbara", outcomes: "401 | 409, 404, 409, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/allowlist root@harbor", outcomes: "401 | 404, 404, 404, 409 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/delete root", outcomes: "401 | 409, 403, 403, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/delete office", outcomes: "401 | 409, 403, 403, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/delete barbara", outcomes: "401 | 409, 403, 403, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/delete root@harbor", outcomes: "401 | 404, 403, 403, 409 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/usage barbara", outcomes: "401 | 200 30 days, 404, 200 30 days, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/usage root@harbor", outcomes: "401 | 404, 404, 404, 200 30 days | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/revoke-all", outcomes: "401 | 200 n=0, 403, 403, 200 n=0 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/policy", outcomes: "401 | 200, 403, 403, 200 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/mint", outcomes: "401 | 422 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "keys/confirm-password", outcomes: "401 | 401 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "activity/list", outcomes: "401 | 200 barbara,owen,rosa, 200 owen, 200 barbara, 200 hugo | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "activity/list office", outcomes: "401 | 200 owen, 200 owen, 200 barbara, 200 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "activity/list root@harbor-key", outcomes: "401 | 200, 200, 200, 200 hugo | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "care/visits", outcomes: "401 | 200 barbara,carl, 200 barbara,carl, 200 barbara, 200 hank | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "care/schedule", outcomes: "401 | 200 barbara,carl, 200 barbara,carl, 200 barbara, 200 hank | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "care/patients", outcomes: "401 | 200 n=4, 200 n=4, 403, 200 n=1 | 401 ×4 | 401 ×4" },
    // People: Root Users of their own company; nothing here changes anyone (each probe is refused, or
    // aims at a change that would do nothing or break the last-Root rule).
    Row { surface: "fn", case: "people/list", outcomes: "401 | 200 barbara,carl,owen,rosa, 403, 403, 200 hank,hugo | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "people/invite", outcomes: "401 | 422, 403, 403, 422 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "people/invite-again barbara", outcomes: "401 | 409, 403, 403, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "people/cancel-invitation barbara", outcomes: "401 | 409, 403, 403, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "people/deactivate root@harbor", outcomes: "401 | 404, 403, 403, 409 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "people/activate barbara", outcomes: "401 | 409, 403, 403, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "people/set-role root", outcomes: "401 | 409, 403, 403, 404 | 401 ×4 | 401 ×4" },
    // Invitation links are their own credential: an unknown one is 404 for everybody.
    Row { surface: "fn", case: "invitation/show", outcomes: "404 | 404 ×4 | 404 ×4 | 404 ×4" },
    Row { surface: "fn", case: "invitation/accept", outcomes: "404 | 404 ×4 | 404 ×4 | 404 ×4" },
    // OAuth consent: every signed-in role may answer its own pending requests; an unknown one is 404 (before any
    // password confirmation), and API keys never reach it.
    Row { surface: "fn", case: "oauth/consent", outcomes: "401 | 404 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "oauth/decide", outcomes: "401 | 404 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "care/open_shifts", outcomes: "401 | 200 n=2, 200 n=2, 200 n=2, 200 n=1 | 401 ×4 | 401 ×4" },
    // Alerts: each person only their own (nobody has any here; the alerts tests raise and hide them); an id nobody owns is 404.
    Row { surface: "fn", case: "alerts/list", outcomes: "401 | 200 n=0 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "alerts/summary", outcomes: "401 | 200 unread=0 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "alerts/read", outcomes: "401 | 404 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "alerts/read_all", outcomes: "401 | 200 ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "care/messages", outcomes: "401 | 200, 200 barbara,carl,owen, 200 barbara,owen, 200 hank,hugo | 401 ×4 | 401 ×4" },
    // MCP: API keys only; a session cookie never opens it.
    Row { surface: "mcp", case: "tools/list", outcomes: "401 | 401 ×4 | tools=11, tools=9, tools=7, tools=11 | tools=2 ×4" },
    Row { surface: "mcp", case: "whoami", outcomes: "401 | 401 ×4 | ok rosa, ok owen, ok barbara, ok hugo | ok rosa, ok owen, ok barbara, ok hugo" },
    Row {
        surface: "mcp",
        case: "get_profile",
        outcomes: "401 | 401 ×4 | ok rosa, ok owen, ok barbara, ok hugo | ok rosa, ok owen, ok barbara, ok hugo",
    },
    Row { surface: "mcp", case: "list_visits", outcomes: "401 | 401 ×4 | ok barbara,carl, ok barbara,carl, ok barbara, ok hank | scope ×4" },
    Row { surface: "mcp", case: "get_visit barbara", outcomes: "401 | 401 ×4 | ok barbara, ok barbara, ok barbara, refused | scope ×4" },
    Row { surface: "mcp", case: "get_visit carl", outcomes: "401 | 401 ×4 | ok carl, ok carl, refused, refused | scope ×4" },
    Row { surface: "mcp", case: "get_visit hank", outcomes: "401 | 401 ×4 | refused, refused, refused, ok hank | scope ×4" },
    Row { surface: "mcp", case: "get_schedule", outcomes: "401 | 401 ×4 | ok ×4 | scope ×4" },
    Row { surface: "mcp", case: "list_messages", outcomes: "401 | 401 ×4 | ok, ok barbara,carl,owen, ok barbara,owen, ok hank,hugo | scope ×4" },
    Row { surface: "mcp", case: "list_open_shifts", outcomes: "401 | 401 ×4 | ok ×4 | scope ×4" },
    Row { surface: "mcp", case: "list_patients", outcomes: "401 | 401 ×4 | ok n=4, ok n=4, scope, ok n=1 | scope ×4" },
    Row { surface: "mcp", case: "list_caregivers", outcomes: "401 | 401 ×4 | ok barbara,carl, ok barbara,carl, scope, ok hank | scope ×4" },
    // Disclosures, after the MCP rows whose calls they list: Root Users the company's, everyone else their own keys'.
    Row { surface: "mcp", case: "list_disclosures barbara", outcomes: "401 | 401 ×4 | ok barbara,owen,rosa, scope, scope, refused | scope ×4" },
    Row { surface: "fn", case: "disclosures/list barbara", outcomes: "401 | 200 barbara,owen,rosa, 200 owen, 200 barbara, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "disclosures/list hank", outcomes: "401 | 404, 404, 404, 200 hugo | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "disclosures/list barbara-key", outcomes: "401 | 200 barbara, 404, 200 barbara, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "disclosures/retention", outcomes: "401 | 200 6y ×4 | 401 ×4 | 401 ×4" },
    Row { surface: "fn", case: "disclosures/retention/update", outcomes: "401 | 200 6y, 403, 403, 200 6y | 401 ×4 | 401 ×4" },
    Row { surface: "http", case: "/api/disclosures.csv barbara", outcomes: "401 | 200 rows=10, 200 rows=3, 200 rows=3, 404 | 401 ×4 | 401 ×4" },
    Row { surface: "mcp", case: "list_activity", outcomes: "401 | 401 ×4 | ok barbara,owen,rosa, scope, scope, ok hugo | scope ×4" },
    // Other HTTP routes.
    Row {
        surface: "http",
        case: "/api/v1/me",
        outcomes: "401 | 401 ×4 | 200 rosa, 200 owen, 200 barbara, 200 hugo | 200 rosa, 200 owen, 200 barbara, 200 hugo",
    },
    Row { surface: "http", case: "/healthz", outcomes: "200 | 200 ×4 | 200 ×4 | 200 ×4" },
    Row { surface: "http", case: "/readyz", outcomes: "200 | 200 ×4 | 200 ×4 | 200 ×4" },
    // The public leak report takes only POST (its own tests send reports).
    Row { surface: "http", case: "/api/v1/credentials/revoke", outcomes: "405 | 405 ×4 | 405 ×4 | 405 ×4" },
    Row { surface: "http", case: "/metrics", outcomes: "404 | 404 ×4 | 404 ×4 | 404 ×4" },
    // OAuth discovery documents are public; OpenID Connect discovery is a JSON 404.
    Row { surface: "http", case: "/.well-known/oauth-authorization-server", outcomes: "200 | 200 ×4 | 200 ×4 | 200 ×4" },
    Row { surface: "http", case: "/.well-known/oauth-protected-resource", outcomes: "200 | 200 ×4 | 200 ×4 | 200 ×4" },
    Row { surface: "http", case: "/.well-known/oauth-protected-resource/api/mcp", outcomes: "200 | 200 ×4 | 200 ×4 | 200 ×4" },
    Row { surface: "http", case: "/.well-known/openid-configuration", outcomes: "404 | 404 ×4 | 404 ×4 | 404 ×4" },
    Row { surface: "http", case: "/register", outcomes: "404 | 404 ×4 | 404 ×4 | 404 ×4" },
    // The OAuth endpoints clients POST to refuse a GET from anybody, signed in or not (they are not pages).
    Row { surface: "http", case: "/oauth/register", outcomes: "405 | 405 ×4 | 405 ×4 | 405 ×4" },
    Row { surface: "http", case: "/oauth/token", outcomes: "405 | 405 ×4 | 405 ×4 | 405 ×4" },
    Row { surface: "http", case: "/oauth/revoke", outcomes: "405 | 405 ×4 | 405 ×4 | 405 ×4" },
    // Pages: people see their own layout; keys never open pages.
    Row { surface: "page", case: "/login", outcomes: "200 | to /, to /, to /portal, to / | 200 ×4 | 200 ×4" },
    Row { surface: "page", case: "/login/code", outcomes: "200 | to /, to /, to /portal, to / | 200 ×4 | 200 ×4" },
    Row { surface: "page", case: "/", outcomes: "login | 200, 200, to /portal, 200 | login ×4 | login ×4" },
    Row { surface: "page", case: "/visits", outcomes: "login | 200, 200, to /portal, 200 | login ×4 | login ×4" },
    Row { surface: "page", case: "/patients", outcomes: "login | 200, 200, to /portal, 200 | login ×4 | login ×4" },
    Row { surface: "page", case: "/activity", outcomes: "login | 200, 200, to /portal, 200 | login ×4 | login ×4" },
    Row { surface: "page", case: "/settings", outcomes: "login | 200, 200, to /portal, 200 | login ×4 | login ×4" },
    Row { surface: "page", case: "/alerts", outcomes: "login | 200, 200, to /portal, 200 | login ×4 | login ×4" },
    Row { surface: "page", case: "/people", outcomes: "login | 200, to /, to /portal, 200 | login ×4 | login ×4" },
    // Open to anyone, the link being the credential; an unknown link's page says so with the server function's 404.
    Row { surface: "page", case: "/invite/{secret}", outcomes: "404 | 404 ×4 | 404 ×4 | 404 ×4" },
    // The consent page is outside both layouts, for every signed-in role; a request nobody started gets the server function's 404.
    Row { surface: "page", case: "/oauth/authorize", outcomes: "login | 404 ×4 | login ×4 | login ×4" },
    Row { surface: "page", case: "/portal", outcomes: "login | to /, to /, 200, to / | login ×4 | login ×4" },
    Row { surface: "page", case: "/portal/visits", outcomes: "login | to /, to /, 200, to / | login ×4 | login ×4" },
    Row { surface: "page", case: "/portal/schedule", outcomes: "login | to /, to /, 200, to / | login ×4 | login ×4" },
    Row { surface: "page", case: "/portal/messages", outcomes: "login | to /, to /, 200, to / | login ×4 | login ×4" },
    Row { surface: "page", case: "/portal/open-shifts", outcomes: "login | to /, to /, 200, to / | login ×4 | login ×4" },
    Row { surface: "page", case: "/portal/alerts", outcomes: "login | to /, to /, 200, to / | login ×4 | login ×4" },
    Row { surface: "page", case: "/portal/profile", outcomes: "login | to /, to /, 200, to / | login ×4 | login ×4" },
    Row { surface: "page", case: "/portal/settings", outcomes: "login | to /, to /, 200, to / | login ×4 | login ×4" },
    // Last: it ends the sessions the rows above use.
    Row { surface: "fn", case: "session/logout", outcomes: "200 | 200 ×4 | 200 ×4 | 200 ×4" },
];

/// "a, b | c ×4" → one outcome per actor (13).
fn expand(outcomes: &str) -> Vec<String> {
    let mut all = Vec::new();
    for group in outcomes.split(" | ") {
        for cell in group.split(", ").map(str::trim) {
            match cell.strip_suffix(" ×4") {
                Some(repeated) => all.extend(std::iter::repeat_n(repeated.to_owned(), 4)),
                None => all.push(cell.to_owned()),
            }
        }
    }
    assert_eq!(all.len(), 13, "13 actors in {outcomes:?}");
    all
}

fn actors() -> Vec<Via> {
    let mut actors = vec![Via::Anonymous];
    actors.extend((0..4).map(Via::Session));
    actors.extend((0..4).map(Via::FullKey));
    actors.extend((0..4).map(Via::NarrowKey));
    actors
}

#[test]
fn every_server_function_page_and_mcp_tool_has_a_row() {
    let covered = |surface: &str| -> BTreeSet<String> {
        ROWS.iter().filter(|row| row.surface == surface).map(|row| row.case.split(' ').next().unwrap().to_owned()).collect()
    };
    let functions: BTreeSet<String> =
        leptos::server_fn::axum::server_fn_paths().map(|(path, _)| path.trim_start_matches("/api/").to_owned()).collect();
    assert_eq!(functions, covered("fn"), "server functions and the isolation table differ");
    let pages: BTreeSet<String> = leptos_axum::generate_route_list(app::App).iter().map(|route| route.path().to_owned()).collect();
    assert_eq!(pages, covered("page"), "pages and the isolation table differ");
    let tools: BTreeSet<String> = server::mcp::CaregateMcp::tool_names().into_iter().collect();
    let mut table_tools = covered("mcp");
    table_tools.remove("tools/list");
    assert_eq!(tools, table_tools, "MCP tools and the isolation table differ");
}

backend_test!(every_actor_gets_exactly_the_expected_outcome_on_every_surface);
async fn every_actor_gets_exactly_the_expected_outcome_on_every_surface(app: TestApp) {
    let world = world(&app).await;
    let mut mismatches = Vec::new();
    for row in ROWS {
        for (via, expected) in actors().into_iter().zip(expand(row.outcomes)) {
            let actual = match row.surface {
                "fn" => probe_server_fn(&app, &world, via, row.case).await,
                "page" => probe_page(&app, &world, via, row.case).await,
                "mcp" => probe_mcp(&app, &world, via, row.case).await,
                "http" => probe_http(&app, &world, via, row.case).await,
                other => panic!("unknown surface {other}"),
            };
            let actual = actual.trim_end().to_owned();
            if actual != expected {
                mismatches.push(format!("{} {} as {via:?}: expected {expected:?}, got {actual:?}", row.surface, row.case));
            }
        }
    }
    assert!(mismatches.is_empty(), "{} mismatches:\n{}", mismatches.len(), mismatches.join("\n"));
}
