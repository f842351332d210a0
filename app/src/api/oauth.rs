//! OAuth consent: what the consent page shows about a pending authorization request, and the person's
//! decision, which answers the URL the browser goes back to the client with.
use leptos::prelude::*;

use crate::error::AppError;
use crate::model::{ConsentDecision, ConsentView};

/// The pending request `request` as the signed-in person's consent page shows it; 404 when it is unknown,
/// expired, already decided or someone else's.
#[server(prefix = "/api", endpoint = "oauth/consent")]
pub async fn get_consent(request: String) -> Result<ConsentView, AppError> {
    let state = crate::state::app_state();
    let session = crate::api::auth::require_session().await?;
    Ok(domain::oauth::service::consent_view(&state.db, &session, &request, chrono::Utc::now()).await?)
}

/// Allows or denies the pending request `request`; answers the client's redirect URL (with a code, or
/// `error=access_denied`), which the page opens with a full navigation.
#[server(prefix = "/api", endpoint = "oauth/decide", input = leptos::server_fn::codec::Json)]
pub async fn decide_consent(request: String, decision: ConsentDecision) -> Result<String, AppError> {
    let state = crate::state::app_state();
    let session = crate::api::auth::require_session().await?;
    let origin = crate::api::auth::request_origin();
    Ok(domain::oauth::service::decide(&state.db, &session, &request, decision, &state.public_url, &origin, chrono::Utc::now()).await?)
}
