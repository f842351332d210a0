//! Signing in and out, and who is signed in.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{CurrentUser, Role};

/// Signs in with email and password, sets the session cookie and sends the browser on to `next` (when it
/// is one of the user's own pages) or to the user's home.
#[server(prefix = "/api", endpoint = "session/login")]
pub async fn login(email: String, password: String, next: Option<String>) -> Result<(), AppError> {
    use crate::api::auth::set_session_cookie;
    use domain::{accounts, password::Password, sessions};

    let state = crate::state::app_state();
    let ip = crate::api::auth::request_origin().ip;
    let user = accounts::sign_in(&state.db, &state.password_attempts, &email, Password::new(password), ip.as_deref()).await?;
    let token = sessions::start(&state.db, user.id).await?;
    set_session_cookie(&token, state.secure_cookies);
    leptos_axum::redirect(&destination_after_login(next.as_deref(), user.role));
    Ok(())
}

/// Ends the session and sends the browser to the sign-in page.
#[server(prefix = "/api", endpoint = "session/logout")]
pub async fn logout() -> Result<(), AppError> {
    use crate::api::auth::{clear_session_cookie, require_token};

    let state = crate::state::app_state();
    if let Ok(token) = require_token() {
        domain::sessions::end(&state.db, &token).await?;
    }
    clear_session_cookie(state.secure_cookies);
    leptos_axum::redirect("/login");
    Ok(())
}

/// The signed-in user, or 401.
#[server(prefix = "/api", endpoint = "session/me")]
pub async fn get_current_user() -> Result<CurrentUser, AppError> {
    Ok(crate::api::auth::require_user().await?)
}

/// Where to go after signing in: `next` if it is a local path the role may open, else the role's home.
pub fn destination_after_login(next: Option<&str>, role: Role) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') && !path.starts_with("/login") => {
            let page = path.split(['?', '#']).next().unwrap_or(path);
            if role.may_open(page) {
                path.to_owned()
            } else {
                role.home_path().to_owned()
            }
        }
        _ => role.home_path().to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_in_returns_people_to_their_own_pages_only() {
        assert_eq!(destination_after_login(Some("/patients"), Role::Root), "/patients");
        assert_eq!(destination_after_login(Some("/visits?week=2"), Role::User), "/visits?week=2");
        assert_eq!(destination_after_login(Some("/patients"), Role::Caregiver), "/portal");
        assert_eq!(destination_after_login(Some("/portal/visits"), Role::Root), "/");
        assert_eq!(destination_after_login(None, Role::Caregiver), "/portal");
    }

    #[test]
    fn sign_in_never_redirects_off_site() {
        for next in ["//evil.example", "https://evil.example", "/\\evil.example", "evil", "/login"] {
            assert_eq!(destination_after_login(Some(next), Role::Root), "/", "{next}");
        }
    }
}
