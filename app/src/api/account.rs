//! The signed-in user's own account: password, notification preferences, and the colleagues they may filter by.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{NotificationPreferences, PersonView, RecoveryCodes, TwoFactorSetup, TwoFactorStatus};

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

/// Whether two-factor authentication is on, and how many recovery codes are left.
#[server(prefix = "/api", endpoint = "account/two-factor")]
pub async fn get_two_factor_status() -> Result<TwoFactorStatus, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::two_factor::status(&crate::state::app_state().db, user.id).await?)
}

/// Starts setting up two-factor: the seed as a QR code and as text (shown this once).
#[server(prefix = "/api", endpoint = "account/two-factor/begin")]
pub async fn begin_two_factor_setup() -> Result<TwoFactorSetup, AppError> {
    let state = crate::state::app_state();
    let user = crate::api::auth::require_user().await?;
    Ok(domain::two_factor::begin_setup(&state.db, &state.secret_key, &user).await?)
}

/// Turns two-factor on with the password and a first code from the app; answers the recovery codes (shown
/// once). The person's other sessions end.
#[server(prefix = "/api", endpoint = "account/two-factor/confirm")]
pub async fn confirm_two_factor_setup(password: String, code: String) -> Result<RecoveryCodes, AppError> {
    let state = crate::state::app_state();
    let session = crate::api::auth::require_session().await?;
    let token = crate::api::auth::require_token()?;
    let origin = crate::api::auth::request_origin();
    let password = domain::password::Password::new(password);
    let now = chrono::Utc::now();
    Ok(domain::sessions::turn_on_two_factor(&state.db, &state.secret_key, &state.password_attempts, &session, &token, password, &code, &origin, now)
        .await?)
}

/// New recovery codes in place of the old ones, after a current code.
#[server(prefix = "/api", endpoint = "account/two-factor/recovery-codes")]
pub async fn renew_recovery_codes(code: String) -> Result<RecoveryCodes, AppError> {
    let state = crate::state::app_state();
    let user = crate::api::auth::require_user().await?;
    let origin = crate::api::auth::request_origin();
    let now = chrono::Utc::now();
    Ok(domain::two_factor::renew_recovery_codes(&state.db, &state.secret_key, &state.password_attempts, &user, &code, &origin, now).await?)
}

/// Turns two-factor off, with the password and a code (or a recovery code).
#[server(prefix = "/api", endpoint = "account/two-factor/disable")]
pub async fn disable_two_factor(password: String, code: String) -> Result<(), AppError> {
    let state = crate::state::app_state();
    let user = crate::api::auth::require_user().await?;
    let origin = crate::api::auth::request_origin();
    let password = domain::password::Password::new(password);
    let now = chrono::Utc::now();
    Ok(domain::two_factor::disable(&state.db, &state.secret_key, &state.password_attempts, &user, password, &code, &origin, now).await?)
}
