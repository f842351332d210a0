//! The signed-in user's own account: password, notification preferences, and the colleagues they may filter by.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{NotificationPreferences, PersonView};

/// Changes the password. Every session of the user ends; this browser gets a fresh one.
#[server(prefix = "/api", endpoint = "account/password")]
pub async fn change_password(current: String, new: String, confirm: String) -> Result<(), AppError> {
    let state = crate::state::app_state();
    let user = crate::api::auth::require_user().await?;
    let ip = crate::api::auth::request_origin().ip;
    let current = domain::password::Password::new(current);
    let token = domain::sessions::change_password(&state.db, &state.password_attempts, &user, current, &new, &confirm, ip.as_deref()).await?;
    crate::api::auth::set_session_cookie(&token, state.secure_cookies);
    Ok(())
}

#[server(prefix = "/api", endpoint = "account/notifications")]
pub async fn get_notification_preferences() -> Result<NotificationPreferences, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::accounts::notification_preferences(&crate::state::app_state().db, user.id).await?)
}

#[server(prefix = "/api", endpoint = "account/notifications/set", input = leptos::server_fn::codec::Json)]
pub async fn set_notification_preferences(preferences: NotificationPreferences) -> Result<NotificationPreferences, AppError> {
    let user = crate::api::auth::require_user().await?;
    domain::accounts::set_notification_preferences(&crate::state::app_state().db, user.id, preferences).await?;
    Ok(preferences)
}

/// The people the caller may filter keys and activity by.
#[server(prefix = "/api", endpoint = "account/people")]
pub async fn list_people() -> Result<Vec<PersonView>, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::accounts::people(&crate::state::app_state().db, &user).await?)
}
