//! Accounting of disclosures: which AI clients read which patients' records, and how long the company keeps
//! activity and disclosure records.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{DisclosureFilter, DisclosurePage};

/// One patient's or one key's disclosures, newest first, within what the caller may see (404 for another
/// company's patient or key).
#[server(prefix = "/api", endpoint = "disclosures/list", input = leptos::server_fn::codec::Json)]
pub async fn list_disclosures(filter: DisclosureFilter) -> Result<DisclosurePage, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::disclosures::list(&crate::state::app_state().db, &user, filter).await?)
}

/// How many years the company keeps activity and disclosure records.
#[server(prefix = "/api", endpoint = "disclosures/retention")]
pub async fn get_record_retention() -> Result<u32, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::disclosures::retention(&crate::state::app_state().db, &user).await?)
}

/// Changes how many years (1–10) the company keeps activity and disclosure records (Root Users only).
#[server(prefix = "/api", endpoint = "disclosures/retention/update", input = leptos::server_fn::codec::Json)]
pub async fn update_record_retention(years: u32) -> Result<u32, AppError> {
    let user = crate::api::auth::require_user().await?;
    let origin = crate::api::auth::request_origin();
    Ok(domain::disclosures::set_retention(&crate::state::app_state().db, &user, years, &origin, chrono::Utc::now()).await?)
}
