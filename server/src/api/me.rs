//! `GET /api/v1/me`: "is my key working?" — the caller's user, company and key.
use axum::{Extension, Json};
use domain::keys::service::KeyPrincipal;
use serde_json::{json, Value};

pub async fn me(Extension(principal): Extension<KeyPrincipal>) -> Json<Value> {
    let user = &principal.user;
    Json(json!({
        "user": { "id": user.id, "name": user.name, "email": user.email, "role": user.role },
        "company": { "id": user.company_id, "name": user.company_name, "account_number": user.company_account },
        "key": {
            "key_id": principal.key_id.as_str(),
            "label": principal.label,
            "scopes": principal.scopes,
            "expires_at": principal.expires_at,
        },
    }))
}
