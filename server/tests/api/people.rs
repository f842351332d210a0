//! Managing people through the people service and the operator commands: deactivation ends sessions and stops
//! keys on the next request on every node, reactivation brings live keys back, roles change, a company keeps an
//! active Root User, and only a company's Root Users (or the operator) may do any of it.
use app::api::people::{AcceptInvitation, CancelInvitation, DeactivatePerson, GetInvitation, InvitePerson, ListPeoplePage, SetPersonRole};
use app::api::session::GetCurrentUser;
use app::error::AppError;
use chrono::Utc;
use domain::activity::Origin;
use domain::actor::Actor;
use domain::model::{Action, CurrentUser, KeyFilter, PeopleFilter, PersonStatus, UserId};
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
    assert_eq!(changed.account.status, PersonStatus::Deactivated);
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
    assert_eq!(changed.account.status, PersonStatus::Active);
    assert_eq!(changed.live_keys, 1);
    // Giving access back does not wait: it applies once the copies the nodes read are older than the bound.
    tokio::time::sleep(domain::keys::freshness::STALENESS).await;
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
    assert_eq!((carl.role, carl.status), (Role::User, PersonStatus::Active));
    assert_eq!(domain::activity::count_for_action(&db, Action::UserRoleChanged).await.unwrap(), 1, "the refused change left no event");
    assert_eq!(domain::activity::count_for_action(&db, Action::UserDeactivated).await.unwrap(), 1);
}

/// The link's secret: the last path segment of the invitation link.
fn secret_of(link: &str) -> String {
    assert!(link.starts_with("http://127.0.0.1:3000/invite/"), "{link}");
    link.rsplit('/').next().unwrap().to_owned()
}

async fn invite(app: &TestApp, cookie: &str, name: &str, email: &str, role: Role) -> String {
    let invited = app.call(InvitePerson { name: name.to_owned(), email: email.to_owned(), role }, Some(cookie)).await.output();
    assert_eq!(invited.email, email.to_lowercase());
    secret_of(invited.link.expose())
}

fn people_filter(search: Option<&str>, role: Option<Role>, status: Option<PersonStatus>) -> ListPeoplePage {
    ListPeoplePage { filter: PeopleFilter { search: search.map(str::to_owned), role, status, ..PeopleFilter::default() } }
}

fn accept(secret: &str, password: &str, confirm: &str) -> AcceptInvitation {
    AcceptInvitation { secret: secret.to_owned(), password: password.to_owned(), confirm: confirm.to_owned() }
}

fn show(secret: &str) -> GetInvitation {
    GetInvitation { secret: secret.to_owned() }
}

backend_test!(an_invited_caregiver_sets_her_password_once_and_lands_signed_in);
async fn an_invited_caregiver_sets_her_password_once_and_lands_signed_in(app: TestApp) {
    let root = app.login("root@sunrise.test").await;
    let secret = invite(&app, &root, "Nina Ray", "Nina@Sunrise.test", Role::Caregiver).await;
    let listed = app.call(people_filter(Some("nina"), None, None), Some(&root)).await.output();
    let row = &listed.people[0];
    assert_eq!((row.email.as_str(), row.status, row.active_keys), ("nina@sunrise.test", PersonStatus::Invited, 0));
    let signed_out = app.call(sign_in("nina@sunrise.test", ""), None).await;
    assert_eq!(signed_out.status, StatusCode::UNAUTHORIZED, "an invited person has no password to sign in with");

    let shown = app.call(show(&secret), None).await.output();
    assert_eq!((shown.company_name.as_str(), shown.role, shown.name.as_str()), ("Sunrise Home Care", Role::Caregiver, "Nina Ray"));

    let mismatch = app.call(accept(&secret, "a-long-new-password", "another"), None).await;
    assert_eq!(mismatch.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", mismatch.body);
    assert_eq!(mismatch.error(), AppError::Invalid("The passwords do not match".to_owned()));
    let short = app.call(accept(&secret, "short", "short"), None).await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", short.body);

    let accepted = app.call(accept(&secret, "a-long-new-password", "a-long-new-password"), None).await;
    assert_eq!(accepted.status, StatusCode::OK, "{}", accepted.body);
    assert_eq!(accepted.location(), Some("/portal"));
    let cookie = accepted.session_cookie().expect("signed in");
    let me = app.call(GetCurrentUser {}, Some(&cookie)).await.output();
    assert_eq!((me.email.as_str(), me.role), ("nina@sunrise.test", Role::Caregiver));

    let again = app.call(accept(&secret, "a-long-new-password", "a-long-new-password"), None).await;
    assert_eq!(again.status, StatusCode::CONFLICT, "a link works once: {}", again.body);
    assert!(matches!(again.error(), AppError::Conflict(message) if message.starts_with("This invitation has already been used")));
    assert_eq!(app.call(show(&secret), None).await.status, StatusCode::CONFLICT);
    assert_eq!(app.call(sign_in("nina@sunrise.test", "a-long-new-password"), None).await.status, StatusCode::OK);

    let listed = app.call(people_filter(Some("nina"), None, Some(PersonStatus::Active)), Some(&root)).await.output();
    assert!(listed.people[0].last_sign_in_at.is_some());
    let root_user = signed_in(&app, "root@sunrise.test").await;
    let feed = domain::activity::list(&app.state.db, &root_user, Default::default()).await.unwrap();
    let actions: Vec<Action> = feed.events.iter().map(|event| event.action).collect();
    assert_eq!(actions, vec![Action::UserJoined, Action::UserInvited]);
    assert!(!app.stored_text().await.contains(&secret), "the link's secret is not stored");
}

backend_test!(unknown_expired_and_replaced_links_say_what_is_wrong);
async fn unknown_expired_and_replaced_links_say_what_is_wrong(app: TestApp) {
    let root = signed_in(&app, "root@sunrise.test").await;
    let three_days_ago = Utc::now() - chrono::Duration::hours(73);
    let person = domain::invitations::NewPerson { email: "late@sunrise.test", name: "Lena Late", role: Role::User };
    let old =
        domain::invitations::invite(&app.state.db, &Actor::User(&root), root.company_id, person, &Origin::default(), three_days_ago).await.unwrap();
    let old_secret = secret_of(&old.secret.link("http://127.0.0.1:3000"));

    let expired = app.call(show(&old_secret), None).await;
    assert_eq!(expired.status, StatusCode::CONFLICT, "{}", expired.body);
    assert!(matches!(expired.error(), AppError::Conflict(message) if message.starts_with("This invitation expired on ")), "{}", expired.body);

    let renewed = domain::invitations::renew(&app.state.db, &Actor::User(&root), old.account.id, &Origin::default(), Utc::now()).await.unwrap();
    let replaced = app.call(show(&old_secret), None).await;
    assert_eq!(replaced.status, StatusCode::NOT_FOUND, "a replaced link no longer works: {}", replaced.body);
    assert_eq!(replaced.error(), AppError::NotFound("Invitation not found".to_owned()));
    let new_secret = secret_of(&renewed.secret.link("http://127.0.0.1:3000"));
    assert_eq!(app.call(show(&new_secret), None).await.status, StatusCode::OK);

    for nonsense in ["", "abc", &"0".repeat(64), "../../etc/passwd"] {
        let unknown = app.call(show(nonsense), None).await;
        assert_eq!(unknown.status, StatusCode::NOT_FOUND, "{nonsense:?}: {}", unknown.body);
    }
}

backend_test!(root_users_cancel_invitations_but_not_accounts_and_others_may_not_invite);
async fn root_users_cancel_invitations_but_not_accounts_and_others_may_not_invite(app: TestApp) {
    let root = app.login("root@sunrise.test").await;
    let secret = invite(&app, &root, "Otto Other", "otto@sunrise.test", Role::User).await;
    let otto = id_of(&app, "otto@sunrise.test").await;
    app.call(CancelInvitation { user_id: otto }, Some(&root)).await.output();
    assert_eq!(app.call(show(&secret), None).await.status, StatusCode::NOT_FOUND);
    assert!(domain::accounts::find_user_by_email(&app.state.db, "otto@sunrise.test").await.is_err(), "the account is gone");

    let barbara = id_of(&app, "barbara@sunrise.test").await;
    let joined = app.call(CancelInvitation { user_id: barbara }, Some(&root)).await;
    assert_eq!(joined.error(), AppError::Conflict("Barbara Lee has already accepted the invitation".to_owned()));
    let taken = app.call(InvitePerson { name: "B".into(), email: "barbara@sunrise.test".into(), role: Role::Caregiver }, Some(&root)).await;
    assert_eq!(taken.status, StatusCode::CONFLICT, "{}", taken.body);

    for email in ["office@sunrise.test", "barbara@sunrise.test"] {
        let cookie = app.login(email).await;
        let refused = app.call(InvitePerson { name: "Sneaky".into(), email: "sneaky@sunrise.test".into(), role: Role::Root }, Some(&cookie)).await;
        assert_eq!(refused.status, StatusCode::FORBIDDEN, "{email}: {}", refused.body);
        assert_eq!(app.call(people_filter(None, None, None), Some(&cookie)).await.status, StatusCode::FORBIDDEN, "{email}");
        assert_eq!(app.call(DeactivatePerson { user_id: barbara }, Some(&cookie)).await.status, StatusCode::FORBIDDEN, "{email}");
        let page = app.get("/people", Some(&cookie)).await;
        assert!(page.status.is_redirection(), "{email} is sent home from /people: {}", page.status);
    }
    let harbor = app.login("root@harbor.test").await;
    assert_eq!(app.call(DeactivatePerson { user_id: barbara }, Some(&harbor)).await.status, StatusCode::NOT_FOUND);
}

backend_test!(the_people_list_filters_by_role_status_and_text_and_counts_working_keys);
async fn the_people_list_filters_by_role_status_and_text_and_counts_working_keys(app: TestApp) {
    let root = app.login("root@sunrise.test").await;
    let barbara_cookie = app.login_for_keys("barbara@sunrise.test").await;
    app.mint_ok(&barbara_cookie, "One").await;
    app.mint_ok(&barbara_cookie, "Two").await;

    let everyone = app.call(people_filter(None, None, None), Some(&root)).await.output();
    let names: Vec<&str> = everyone.people.iter().map(|person| person.name.as_str()).collect();
    assert_eq!(names, vec!["Barbara Lee", "Carl Jensen", "Owen Price", "Rosa Martinez"], "one company, by name");
    assert_eq!((everyone.total, everyone.people[0].active_keys), (4, 2));
    assert_eq!(app.call(people_filter(None, Some(Role::Caregiver), None), Some(&root)).await.output().total, 2);
    assert_eq!(app.call(people_filter(Some("SUNRISE.test"), None, None), Some(&root)).await.output().total, 4, "search matches emails, any case");
    let second_page = ListPeoplePage { filter: PeopleFilter { page: 2, per_page: 3, ..PeopleFilter::default() } };
    let paged = app.call(second_page, Some(&root)).await.output();
    assert_eq!((paged.people.len(), paged.total), (1, 4));

    let barbara = id_of(&app, "barbara@sunrise.test").await;
    let changed = app.call(DeactivatePerson { user_id: barbara }, Some(&root)).await.output();
    assert_eq!((changed.status, changed.live_keys), (PersonStatus::Deactivated, 2));
    let deactivated = app.call(people_filter(None, None, Some(PersonStatus::Deactivated)), Some(&root)).await.output();
    assert_eq!(deactivated.people.iter().map(|person| person.name.as_str()).collect::<Vec<_>>(), vec!["Barbara Lee"]);
    let keys = app.list_keys(&root, KeyFilter::default()).await;
    let barbaras: Vec<_> = keys.keys.iter().filter(|key| key.owner_name == "Barbara Lee").collect();
    assert!(barbaras.len() == 2 && barbaras.iter().all(|key| !key.owner_active), "keys lists show the owner deactivated");

    let myself = id_of(&app, "root@sunrise.test").await;
    let last_root = app.call(SetPersonRole { user_id: myself, role: Role::User }, Some(&root)).await;
    assert_eq!(last_root.error(), AppError::Conflict(LAST_ROOT.to_owned()));
}

#[tokio::test(flavor = "multi_thread")]
async fn operators_invite_from_the_command_line_and_the_link_is_printed_once() {
    let (url, _dir) = fresh_sqlite();
    let (ok, out, err) =
        crate::cli::caregate(&url, &["company", "create", "--name", "Lakeside Care", "--root-email", "boss@lakeside.test"], "a-long-root-password\n");
    assert!(ok, "{out}{err}");
    let account = out.split("account number ").nth(1).and_then(|rest| rest.split(')').next()).unwrap().to_owned();
    let args = ["user", "invite", "--company-account", &account, "--email", "nina@lakeside.test", "--name", "Nina Ray", "--role", "caregiver"];
    let (ok, out, err) = crate::cli::caregate(&url, &args, "");
    assert!(ok, "{out}{err}");
    let link = out.lines().last().unwrap();
    assert!(out.starts_with("Invited nina@lakeside.test (Caregiver) to Lakeside Care; the link works until "), "{out}");
    let secret = domain::invitations::InvitationSecret::from_link(link.rsplit('/').next().unwrap());

    let (ok, again, err) = crate::cli::caregate(&url, &["user", "invite-again", "--email", "nina@lakeside.test"], "");
    assert!(ok, "{again}{err}");
    let db = domain::db::connect(&url).await.unwrap();
    assert!(domain::invitations::lookup(&db, &secret, Utc::now()).await.is_err(), "the first link stopped working");
    let renewed = domain::invitations::InvitationSecret::from_link(again.lines().last().unwrap().rsplit('/').next().unwrap());
    let nina =
        domain::invitations::accept(&db, &renewed, "nina-sets-a-password", "nina-sets-a-password", &Origin::default(), Utc::now()).await.unwrap();
    assert_eq!((nina.role, nina.company_name.as_str()), (Role::Caregiver, "Lakeside Care"));
    let (ok, _, err) = crate::cli::caregate(&url, &["user", "invite-again", "--email", "nina@lakeside.test"], "");
    assert!(!ok);
    assert_eq!(err.trim(), "error: Nina Ray has already accepted the invitation");
}

backend_test!(an_invitation_link_opens_the_join_form_and_a_bad_one_a_page_that_says_why);
async fn an_invitation_link_opens_the_join_form_and_a_bad_one_a_page_that_says_why(app: TestApp) {
    let root = signed_in(&app, "root@sunrise.test").await;
    let person = domain::invitations::NewPerson { email: "nina@sunrise.test", name: "Nina Ray", role: Role::Caregiver };
    let invited =
        domain::invitations::invite(&app.state.db, &Actor::User(&root), root.company_id, person, &Origin::default(), Utc::now()).await.unwrap();
    let secret = secret_of(&invited.secret.link("http://127.0.0.1:3000"));

    let page = app.get(&format!("/invite/{secret}"), None).await;
    assert_eq!(page.status, StatusCode::OK, "{}", page.body);
    for expected in ["Join Sunrise Home Care as a Caregiver", "Nina Ray", "nina@sunrise.test", "New password", "Set password and join"] {
        assert!(page.body.contains(expected), "the join form shows {expected:?}: {}", page.body);
    }
    let barbara = app.login("barbara@sunrise.test").await;
    assert_eq!(app.get(&format!("/invite/{secret}"), Some(&barbara)).await.status, StatusCode::OK, "signed-in people may open a link too");

    let unknown = app.get(&format!("/invite/{}", "0".repeat(64)), None).await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    for expected in ["This invitation link cannot be used", "Invitation not found", "href=\"/login\""] {
        assert!(unknown.body.contains(expected), "an unknown link's page shows {expected:?}: {}", unknown.body);
    }
    assert!(!unknown.body.contains("New password"));
    assert_eq!(app.get("/invite/not-even-hex", None).await.status, StatusCode::NOT_FOUND);

    let used = domain::invitations::InvitationSecret::from_link(&secret);
    domain::invitations::accept(&app.state.db, &used, "nina-sets-a-password", "nina-sets-a-password", &Origin::default(), Utc::now()).await.unwrap();
    let page = app.get(&format!("/invite/{secret}"), None).await;
    assert_eq!(page.status, StatusCode::CONFLICT);
    assert!(page.body.contains("This invitation has already been used."), "{}", page.body);
    assert!(page.body.contains("href=\"/login\""));
}
