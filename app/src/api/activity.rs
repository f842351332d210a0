//! The activity feed.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ActivityFilter, ActivityPage};

/// Events newest first: the company's for Root Users, one's own for everyone else.
#[server(prefix = "/api", endpoint = "activity/list", input = leptos::server_fn::codec::Json)]
pub async fn list_activity(filter: ActivityFilter) -> Result<ActivityPage, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::activity::list(&crate::state::app_state().db, &user, filter).await?)
}
