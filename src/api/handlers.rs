//! API handlers that belong to no feature of their own.

use axum::{Extension, Json};
use serde_json::{Value, json};

use crate::web::CurrentUser;

/// `GET /api/v1/me`: the token's user.
pub async fn show_me(Extension(user): Extension<CurrentUser>) -> Json<Value> {
    let user = user.0;
    Json(json!({ "id": user.id, "email": user.email, "name": user.name, "role": user.role }))
}
