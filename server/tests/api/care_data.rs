//! Care data is scoped like the app: the company for office roles, one's own rows for caregivers.
use app::api::care::{ListMessages, ListPatients, ListSchedule, ListVisits};
use app::model::VisitView;
use http::StatusCode;

use crate::helpers::{backend_test, Answer, TestApp};

backend_test!(a_caregivers_visit_query_never_returns_another_caregivers_rows);
async fn a_caregivers_visit_query_never_returns_another_caregivers_rows(app: TestApp) {
    let barbara = domain::accounts::find_user_by_email(&app.state.db, "barbara@sunrise.test").await.unwrap();
    let cookie = app.login("barbara@sunrise.test").await;
    let answers: [(&str, Answer<Vec<VisitView>>); 2] =
        [("visits", app.call(ListVisits {}, Some(&cookie)).await), ("schedule", app.call(ListSchedule {}, Some(&cookie)).await)];
    for (list, response) in answers {
        assert_eq!(response.status, StatusCode::OK, "{list}");
        let visits = response.output();
        assert!(!visits.is_empty() || list == "schedule", "barbara has visits");
        for visit in visits {
            assert_eq!(visit.caregiver_id, barbara.id, "{list}: {visit:?}");
            assert_eq!(visit.caregiver_name, "Barbara Lee");
        }
    }
}

backend_test!(office_users_see_every_caregivers_visits_of_their_company_only);
async fn office_users_see_every_caregivers_visits_of_their_company_only(app: TestApp) {
    let cookie = app.login("office@sunrise.test").await;
    let visits = app.call(ListVisits {}, Some(&cookie)).await;
    let names: std::collections::BTreeSet<String> = visits.output().into_iter().map(|v| v.caregiver_name).collect();
    assert_eq!(names.into_iter().collect::<Vec<_>>(), vec!["Barbara Lee", "Carl Jensen"]);
    assert!(!visits.body.contains("Ingrid"), "no Harbor patient leaks into Sunrise");

    let harbor = app.login("root@harbor.test").await;
    let harbor_visits = app.call(ListVisits {}, Some(&harbor)).await.output();
    assert!(harbor_visits.iter().all(|v| v.patient_name == "Ingrid Larsen"));
    let harbor_patients = app.call(ListPatients {}, Some(&harbor)).await.output();
    assert_eq!(harbor_patients.len(), 1);
}

backend_test!(caregivers_cannot_list_patients);
async fn caregivers_cannot_list_patients(app: TestApp) {
    let cookie = app.login("carl@sunrise.test").await;
    let response = app.call(ListPatients {}, Some(&cookie)).await;
    assert_eq!(response.status, StatusCode::FORBIDDEN, "{}", response.body);
    let office = app.login("office@sunrise.test").await;
    let patients = app.call(ListPatients {}, Some(&office)).await.output();
    assert_eq!(patients.len(), 4);
}

backend_test!(messages_are_the_callers_own);
async fn messages_are_the_callers_own(app: TestApp) {
    let cookie = app.login("carl@sunrise.test").await;
    let messages = app.call(ListMessages {}, Some(&cookie)).await.output();
    assert_eq!(messages.len(), 2);
    for message in messages {
        assert!(message.sender_name == "Carl Jensen" || message.recipient_name == "Carl Jensen", "{message:?}");
    }
}
