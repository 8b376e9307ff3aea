//! The JSON API under `/api/v1`, authenticated with bearer tokens only:
//! it never reads the session cookie, so it needs no CSRF token.

pub mod auth;
pub mod docs;
pub mod handlers;
pub mod openapi;

use axum::{Router, middleware, routing::get};

use crate::{
    action_items,
    auth::domain::Role,
    causes, incidents,
    state::AppState,
    timeline,
    web::{require_role, text_guard},
};

pub fn router(state: AppState) -> Router<AppState> {
    let me = Router::new()
        .route("/me", get(handlers::show_me))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    Router::new()
        .merge(me)
        .merge(incidents::api_router())
        .merge(crate::search::api_router())
        .merge(crate::insights::api_router())
        .merge(crate::export::api_router())
        .merge(crate::audit::api_router())
        .merge(timeline::api_router())
        .merge(causes::api_router())
        .merge(action_items::api_router())
        .merge(crate::playbooks::api_router())
        .merge(crate::wording::api_router())
        .merge(crate::notify::api_router())
        .merge(crate::review::api_router())
        .merge(crate::comments::api_router())
        .merge(crate::evidence::api_router(&state))
        // The token is checked first: nobody's body is read before that.
        .route_layer(middleware::from_fn_with_state(state.config.max_body_bytes, text_guard::refuse_nul))
        .route_layer(middleware::from_fn_with_state(state, auth::require_token))
}
