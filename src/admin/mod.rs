//! User administration: add users, change roles, disable and enable.

pub mod handlers;
pub mod views;

use axum::{
    Router,
    routing::{get, post},
};

use crate::state::AppState;

/// Routes for admins only (the guard is applied where this is mounted).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/users", get(handlers::list_users).post(handlers::create_user))
        .route("/admin/users/{id}/role", post(handlers::update_user_role))
        .route("/admin/users/{id}/disable", post(handlers::disable_user))
        .route("/admin/users/{id}/enable", post(handlers::enable_user))
}
