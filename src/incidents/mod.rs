//! Incidents: the postmortems. Creating and listing them, and the page that
//! shows one.

pub mod api;
pub mod db;
pub mod domain;
pub mod handlers;
pub mod views;

use axum::{Router, middleware, routing::get};

use crate::{auth::domain::Role, state::AppState, web::require_role};

/// Pages: reading needs a viewer, writing an editor.
pub fn router() -> Router<AppState> {
    let read = Router::new()
        .route("/incidents", get(handlers::list_incidents))
        .route("/incidents/{reference}", get(handlers::show_incident))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let write = Router::new()
        .route("/incidents/new", get(handlers::new_incident_form).post(handlers::create_incident))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    read.merge(write)
}

/// API routes, mounted under `/api/v1` behind bearer tokens.
pub fn api_router() -> Router<AppState> {
    let read = Router::new()
        .route("/incidents", get(api::list_incidents))
        .route("/incidents/{id}", get(api::show_incident))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let write = Router::new()
        .route("/incidents", axum::routing::post(api::create_incident))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    read.merge(write)
}
