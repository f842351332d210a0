//! Care data is scoped like the app: the company for office roles, one's own rows for caregivers.
use http::StatusCode;

use crate::helpers::spawn_apps;

#[tokio::test(flavor = "multi_thread")]
async fn a_caregivers_visit_query_never_returns_another_caregivers_rows() {
    for app in spawn_apps().await {
        let barbara = domain::accounts::find_user_by_email(&app.state.db, "barbara@sunrise.test").await.unwrap();
        let cookie = app.login("barbara@sunrise.test").await;
        for endpoint in ["care/visits", "care/schedule"] {
            let response = app.call(endpoint, &[], Some(&cookie)).await;
            assert_eq!(response.status, StatusCode::OK, "[{}] {endpoint}", app.backend);
            let visits = response.json();
            let visits = visits.as_array().unwrap();
            assert!(!visits.is_empty() || endpoint == "care/schedule", "[{}] barbara has visits", app.backend);
            for visit in visits {
                assert_eq!(visit["caregiver_id"], barbara.id.0, "[{}] {endpoint}: {visit}", app.backend);
                assert_eq!(visit["caregiver_name"], "Barbara Lee");
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn office_users_see_every_caregivers_visits_of_their_company_only() {
    for app in spawn_apps().await {
        let cookie = app.login("office@sunrise.test").await;
        let visits = app.call("care/visits", &[], Some(&cookie)).await.json();
        let names: std::collections::BTreeSet<String> =
            visits.as_array().unwrap().iter().map(|v| v["caregiver_name"].as_str().unwrap().to_owned()).collect();
        assert_eq!(names.into_iter().collect::<Vec<_>>(), vec!["Barbara Lee", "Carl Jensen"], "[{}]", app.backend);
        assert!(!visits.to_string().contains("Ingrid"), "no Harbor patient leaks into Sunrise");

        let harbor = app.login("root@harbor.test").await;
        let harbor_visits = app.call("care/visits", &[], Some(&harbor)).await.json();
        assert!(harbor_visits.as_array().unwrap().iter().all(|v| v["patient_name"] == "Ingrid Larsen"));
        let harbor_patients = app.call("care/patients", &[], Some(&harbor)).await.json();
        assert_eq!(harbor_patients.as_array().unwrap().len(), 1);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn caregivers_cannot_list_patients() {
    for app in spawn_apps().await {
        let cookie = app.login("carl@sunrise.test").await;
        let response = app.call("care/patients", &[], Some(&cookie)).await;
        assert_eq!(response.status, StatusCode::FORBIDDEN, "[{}] {}", app.backend, response.body);
        let office = app.login("office@sunrise.test").await;
        let patients = app.call("care/patients", &[], Some(&office)).await.json();
        assert_eq!(patients.as_array().unwrap().len(), 4);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn messages_are_the_callers_own() {
    for app in spawn_apps().await {
        let cookie = app.login("carl@sunrise.test").await;
        let messages = app.call("care/messages", &[], Some(&cookie)).await.json();
        let messages = messages.as_array().unwrap();
        assert_eq!(messages.len(), 2, "[{}]", app.backend);
        for message in messages {
            assert!(message["sender_name"] == "Carl Jensen" || message["recipient_name"] == "Carl Jensen", "{message}");
        }
    }
}
