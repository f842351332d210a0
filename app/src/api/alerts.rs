//! The signed-in person's alerts: the Alerts page, the sidebar's unread count and the dashboard banner.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{AlertPage, AlertSummary};

/// The caller's alerts, newest first.
#[server(prefix = "/api", endpoint = "alerts/list")]
pub async fn list_alerts(page: u32) -> Result<AlertPage, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::alerts::list(&crate::state::app_state().db, &user, page, 20).await?)
}

/// Unread alerts and the caller's keys expiring within seven days.
#[server(prefix = "/api", endpoint = "alerts/summary")]
pub async fn get_alert_summary() -> Result<AlertSummary, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::alerts::summary(&crate::state::app_state().db, &user, chrono::Utc::now()).await?)
}

/// Marks one of the caller's alerts read (another person's is "not found").
#[server(prefix = "/api", endpoint = "alerts/read")]
pub async fn mark_alert_read(alert_id: i32) -> Result<(), AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::alerts::mark_read(&crate::state::app_state().db, &user, alert_id, chrono::Utc::now()).await?)
}

/// Marks all of the caller's alerts read.
#[server(prefix = "/api", endpoint = "alerts/read_all")]
pub async fn mark_all_alerts_read() -> Result<(), AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::alerts::mark_all_read(&crate::state::app_state().db, &user, chrono::Utc::now()).await?)
}
