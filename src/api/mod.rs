//! The JSON API under `/api/v1`, authenticated with bearer tokens only:
//! it never reads the session cookie, so it needs no CSRF token.

pub mod auth;
pub mod handlers;

use axum::{Router, extract::rejection::JsonRejection, http::StatusCode, middleware, routing::get};

use crate::{
    action_items,
    auth::domain::Role,
    causes,
    error::AppError,
    incidents,
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
        .merge(timeline::api_router())
        .merge(causes::api_router())
        .merge(action_items::api_router())
        // The token is checked first: nobody's body is read before that.
        .route_layer(middleware::from_fn_with_state(state.config.max_body_bytes, text_guard::refuse_nul))
        .route_layer(middleware::from_fn_with_state(state, auth::require_token))
}

/// A JSON body that could not be taken as it is, in the API's terms.
pub fn json_rejection(rejection: JsonRejection) -> AppError {
    match rejection {
        JsonRejection::MissingJsonContentType(_) => AppError::UnsupportedMediaType(
            "Send the body as JSON with Content-Type: application/json.".into(),
        ),
        JsonRejection::JsonSyntaxError(err) => {
            AppError::BadRequest(format!("The body is not valid JSON: {}", err.body_text()))
        }
        JsonRejection::JsonDataError(err) => {
            AppError::Unprocessable(format!("The body does not fit: {}", err.body_text()))
        }
        JsonRejection::BytesRejection(err) if err.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            AppError::PayloadTooLarge("The body is larger than allowed.".into())
        }
        other => AppError::BadRequest(other.body_text()),
    }
}

/// The `version` a change was based on, which every PATCH must carry.
pub fn required_version(body: &serde_json::Map<String, serde_json::Value>) -> Result<i32, AppError> {
    body.get("version")
        .and_then(serde_json::Value::as_i64)
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| AppError::Unprocessable("version: send the version your change is based on.".into()))
}
