//! API handlers that belong to no feature of their own.

use axum::{Extension, Json};
use serde_json::{Value, json};

use crate::web::CurrentUser;

/// `GET /api/v1/me`: the token's user.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "account",
    summary = "The token's user",
    responses((status = 200, description = "OK", body = crate::web::api_schemas::Me), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn show_me(Extension(user): Extension<CurrentUser>) -> Json<Value> {
    let user = user.0;
    Json(json!({ "id": user.id, "email": user.email, "name": user.name, "role": user.role }))
}
