//! Care data for the pages: visits, the week's schedule, patients and messages, as the caller may see them.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{MessageView, OpenShiftView, PatientView, VisitView};

/// Visits the caller may see: the company's for office roles, their own for caregivers.
#[server(prefix = "/api", endpoint = "care/visits")]
pub async fn list_visits() -> Result<Vec<VisitView>, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::care::visits(&crate::state::app_state().db, &user, None).await?)
}

/// The caller's visits from the start of today (UTC) over the next seven days.
#[server(prefix = "/api", endpoint = "care/schedule")]
pub async fn list_schedule() -> Result<Vec<VisitView>, AppError> {
    let user = crate::api::auth::require_user().await?;
    let window = domain::care::Window::seven_days_from(chrono::Utc::now().date_naive());
    Ok(domain::care::visits(&crate::state::app_state().db, &user, Some(window)).await?)
}

/// The company's patients (office roles only).
#[server(prefix = "/api", endpoint = "care/patients")]
pub async fn list_patients() -> Result<Vec<PatientView>, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::care::patients(&crate::state::app_state().db, &user).await?)
}

/// Messages the caller sent or received.
#[server(prefix = "/api", endpoint = "care/messages")]
pub async fn list_messages() -> Result<Vec<MessageView>, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::care::messages(&crate::state::app_state().db, &user).await?)
}

/// Open shifts of the caller's company (what the MCP tool `list_open_shifts` returns).
#[server(prefix = "/api", endpoint = "care/open_shifts")]
pub async fn list_open_shifts() -> Result<Vec<OpenShiftView>, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::care::open_shifts(&crate::state::app_state().db, &user).await?)
}
