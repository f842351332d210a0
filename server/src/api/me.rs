//! `GET /api/v1/me`: "is my key working?" — the caller's user, company and key.
use axum::{Extension, Json};
use domain::keys::principal::KeyPrincipal;
use serde_json::{json, Value};

pub async fn me(Extension(principal): Extension<std::sync::Arc<KeyPrincipal>>) -> Json<Value> {
    Json(describe(&principal))
}

/// Who a key acts for and what it may do: the answer of `/api/v1/me` and of the MCP `whoami` tool.
pub fn describe(principal: &KeyPrincipal) -> Value {
    let user = &principal.user;
    json!({
        "user": { "id": user.id, "name": user.name, "email": user.email, "role": user.role },
        "company": { "id": user.company_id, "name": user.company_name, "account_number": user.company_account },
        "key": {
            "key_id": principal.key_id.as_str(),
            "label": principal.label,
            "scopes": principal.scopes,
            "expires_at": principal.expires_at,
        },
    })
}
