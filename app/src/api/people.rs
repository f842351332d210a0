//! The People page (Root Users): list, invite, renew or cancel an invitation, change a role, deactivate and
//! reactivate; and the invitation page anyone with a link may open.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{InvitationLink, InvitationView, PeopleFilter, PeoplePage, PersonChangeView, Role, UserId};

/// The company's people, by name (Root Users only).
#[server(prefix = "/api", endpoint = "people/list", input = leptos::server_fn::codec::Json)]
pub async fn list_people_page(filter: PeopleFilter) -> Result<PeoplePage, AppError> {
    let user = crate::api::auth::require_user().await?;
    Ok(domain::people::list(&crate::state::app_state().db, &user, filter, chrono::Utc::now()).await?)
}

/// Invites a person; the answer carries the one-time link, shown once.
#[server(prefix = "/api", endpoint = "people/invite")]
pub async fn invite_person(name: String, email: String, role: Role) -> Result<InvitationLink, AppError> {
    let user = crate::api::auth::require_user().await?;
    let origin = crate::api::auth::request_origin();
    let state = crate::state::app_state();
    let person = domain::invitations::NewPerson { email: &email, name: &name, role };
    let actor = domain::actor::Actor::User(&user);
    let invited = domain::invitations::invite(&state.db, &actor, user.company_id, person, &origin, chrono::Utc::now()).await?;
    let emailed = domain::invitations::send(&state.mailer, &invited, &state.public_url).await;
    Ok(invitation_link(&invited, &state.public_url, emailed))
}

/// A new link for someone who has not accepted yet; earlier links stop working.
#[server(prefix = "/api", endpoint = "people/invite-again")]
pub async fn renew_invitation(user_id: UserId) -> Result<InvitationLink, AppError> {
    let user = crate::api::auth::require_user().await?;
    let origin = crate::api::auth::request_origin();
    let state = crate::state::app_state();
    let invited = domain::invitations::renew(&state.db, &domain::actor::Actor::User(&user), user_id, &origin, chrono::Utc::now()).await?;
    let emailed = domain::invitations::send(&state.mailer, &invited, &state.public_url).await;
    Ok(invitation_link(&invited, &state.public_url, emailed))
}

/// Withdraws an invitation that has not been accepted.
#[server(prefix = "/api", endpoint = "people/cancel-invitation")]
pub async fn cancel_invitation(user_id: UserId) -> Result<(), AppError> {
    let user = crate::api::auth::require_user().await?;
    let origin = crate::api::auth::request_origin();
    domain::invitations::cancel(&crate::state::app_state().db, &domain::actor::Actor::User(&user), user_id, &origin, chrono::Utc::now()).await?;
    Ok(())
}

/// Deactivates a person: sessions end and their keys stop working on the next request.
#[server(prefix = "/api", endpoint = "people/deactivate")]
pub async fn deactivate_person(user_id: UserId) -> Result<PersonChangeView, AppError> {
    let user = crate::api::auth::require_user().await?;
    let origin = crate::api::auth::request_origin();
    let changed =
        domain::people::deactivate(&crate::state::app_state().db, &domain::actor::Actor::User(&user), user_id, &origin, chrono::Utc::now()).await?;
    Ok(change_view(changed))
}

/// Reactivates a deactivated person.
#[server(prefix = "/api", endpoint = "people/activate")]
pub async fn activate_person(user_id: UserId) -> Result<PersonChangeView, AppError> {
    let user = crate::api::auth::require_user().await?;
    let origin = crate::api::auth::request_origin();
    let changed =
        domain::people::activate(&crate::state::app_state().db, &domain::actor::Actor::User(&user), user_id, &origin, chrono::Utc::now()).await?;
    Ok(change_view(changed))
}

/// Gives a person another role.
#[server(prefix = "/api", endpoint = "people/set-role")]
pub async fn set_person_role(user_id: UserId, role: Role) -> Result<PersonChangeView, AppError> {
    let user = crate::api::auth::require_user().await?;
    let origin = crate::api::auth::request_origin();
    let actor = domain::actor::Actor::User(&user);
    let changed = domain::people::set_role(&crate::state::app_state().db, &actor, user_id, role, &origin, chrono::Utc::now()).await?;
    Ok(change_view(changed))
}

/// What an invitation link leads to (no session needed: the link is the credential).
#[server(prefix = "/api", endpoint = "invitation/show")]
pub async fn get_invitation(secret: String) -> Result<InvitationView, AppError> {
    let secret = domain::invitations::InvitationSecret::from_link(&secret);
    Ok(domain::invitations::lookup(&crate::state::app_state().db, &secret, chrono::Utc::now()).await?)
}

/// Sets the invitee's password, signs them in and sends them to their home page.
#[server(prefix = "/api", endpoint = "invitation/accept")]
pub async fn accept_invitation(secret: String, password: String, confirm: String) -> Result<(), AppError> {
    let state = crate::state::app_state();
    let origin = crate::api::auth::request_origin();
    let secret = domain::invitations::InvitationSecret::from_link(&secret);
    let user = domain::invitations::accept(&state.db, &secret, &password, &confirm, &origin, chrono::Utc::now()).await?;
    let token = domain::sessions::start(&state.db, user.id).await?;
    crate::api::auth::set_session_cookie(&token, state.secure_cookies);
    leptos_axum::redirect(user.role.home_path());
    Ok(())
}

#[cfg(feature = "ssr")]
fn invitation_link(invited: &domain::invitations::Invitation, public_url: &str, emailed: bool) -> InvitationLink {
    InvitationLink {
        name: invited.account.name.clone(),
        email: invited.account.email.clone(),
        link: crate::model::RevealedToken::new(invited.secret.link(public_url)),
        expires_at: invited.expires_at,
        emailed,
    }
}

#[cfg(feature = "ssr")]
fn change_view(changed: domain::people::PersonChanged) -> PersonChangeView {
    PersonChangeView { name: changed.account.name, role: changed.account.role, status: changed.account.status, live_keys: changed.live_keys }
}
