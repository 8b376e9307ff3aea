//! The API's shared JSON handling: a rejected body in our own words, and
//! the version every change must carry.

use axum::{extract::rejection::JsonRejection, http::StatusCode};

use crate::error::AppError;

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
