//! A key's details panel: its settings and usage (requests per day, addresses and clients, tool calls).
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::KeyUsage;

/// One key's details: owners their own keys, Root Users any of their company's; otherwise 404.
#[server(prefix = "/api", endpoint = "keys/usage")]
pub async fn get_key_usage(key_id: String) -> Result<KeyUsage, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::usage::for_key(&crate::state::app_state().db, &user, &key_id, chrono::Utc::now()).await?)
}
