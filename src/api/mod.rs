//! The JSON API under `/api/v1`, authenticated with bearer tokens only:
//! it never reads the session cookie, so it needs no CSRF token.

pub mod auth;
pub mod handlers;

use axum::{Router, middleware, routing::get};

use crate::{auth::domain::Role, state::AppState, web::require_role};

pub fn router(state: AppState) -> Router<AppState> {
    let viewer = Router::new()
        .route("/me", get(handlers::show_me))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    viewer.route_layer(middleware::from_fn_with_state(state, auth::require_token))
}
