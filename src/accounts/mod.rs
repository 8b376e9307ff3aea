//! The account page: one's own password and API tokens.

pub mod handlers;
pub mod views;

use axum::{
    Router,
    routing::{get, post},
};

use crate::state::AppState;

/// Routes for any signed-in user.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/account", get(handlers::show_account))
        .route("/account/password", post(handlers::update_password))
        .route("/account/time_zone", post(handlers::update_time_zone))
        .route("/account/tokens", post(handlers::create_token))
        .route("/account/tokens/{id}/revoke", post(handlers::revoke_token))
}
