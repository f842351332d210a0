//! The database going away: every surface answers 503 with a clear message (never a 500 or a panic), and
//! input that needs no database is still judged without it.
use app::api::care::ListVisits;
use app::error::AppError;
use http::StatusCode;
use serde_json::json;

use crate::helpers::{backend_test, TestApp};

backend_test!(with_the_database_gone_pages_server_functions_mcp_and_readiness_answer_503);
async fn with_the_database_gone_pages_server_functions_mcp_and_readiness_answer_503(app: TestApp) {
    let cookie = app.login("office@sunrise.test").await;
    let (_, token) = app.mint_ok(&app.login_for_keys("office@sunrise.test").await, "Outage").await;
    app.state.db.close_by_ref().await.unwrap();

    let page = app.get("/visits", Some(&cookie)).await;
    assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE, "{}", page.body);
    assert!(page.body.contains("temporarily unavailable"));

    let server_fn = app.call(ListVisits {}, Some(&cookie)).await;
    assert_eq!(server_fn.status, StatusCode::SERVICE_UNAVAILABLE, "{}", server_fn.body);
    assert_eq!(server_fn.error(), AppError::Unavailable, "the app shows its own message; no database error text: {}", server_fn.body);

    let body = json!({ "jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": { "name": "whoami", "arguments": {} } });
    let mcp = app.mcp_post(Some(&format!("Bearer {token}")), body.to_string(), &[]).await;
    assert_eq!(mcp.status, StatusCode::SERVICE_UNAVAILABLE, "{}", mcp.body);
    assert_eq!(mcp.json()["code"], "unavailable");

    let malformed = app.mcp_post(Some("Bearer cg_test_not-a-key"), body.to_string(), &[]).await;
    assert_eq!(malformed.status, StatusCode::UNAUTHORIZED, "malformed tokens are refused without the database");

    assert_eq!(app.get("/readyz", None).await.status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.get("/healthz", None).await.status, StatusCode::OK, "the process itself is alive");
}
