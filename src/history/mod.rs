//! The history of a postmortem: every saved change as a revision (who,
//! when, which fields, old and new values), and a readable diff between any
//! two revisions.

pub mod domain;
pub mod handlers;
pub mod views;

use axum::{Router, middleware, routing::get};

use crate::{auth::domain::Role, state::AppState, web::require_role};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{reference}/history", get(handlers::show_history))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role))
}
