//! API handlers that belong to no feature of their own.

use crate::{auth::domain::Role, web::CurrentUser};
use axum::{Extension, Json};

/// `GET /api/v1/me`: the token's user.
#[utoipa::path(
    get,
    path = "/api/v1/me",
    tag = "account",
    summary = "The token's user",
    responses((status = 200, description = "OK", body = Me), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn show_me(Extension(user): Extension<CurrentUser>) -> Json<Me> {
    let user = user.0;
    Json(Me { id: user.id, email: user.email, name: user.name, role: user.role })
}

/// The token's user.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Me {
    id: uuid::Uuid,
    email: String,
    name: String,
    role: Role,
}
