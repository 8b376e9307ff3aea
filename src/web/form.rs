//! `Form<T>`: axum's form extractor with its rejections turned into our
//! errors, so a malformed form gets a clear message in the app's own page.

use axum::{
    body::{Body, Bytes},
    extract::{FromRequest, Request, rejection::FormRejection},
    http::{HeaderMap, header},
};
use serde::de::DeserializeOwned;

use crate::error::AppError;

pub struct Form<T>(pub T);

impl<T, S> FromRequest<S> for Form<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = AppError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Form::<T>::from_request(request, state).await {
            Ok(axum::Form(value)) => Ok(Form(value)),
            Err(rejection) => Err(match rejection {
                FormRejection::InvalidFormContentType(_) => AppError::UnsupportedMediaType(
                    "Send this form as application/x-www-form-urlencoded.".into(),
                ),
                FormRejection::FailedToDeserializeForm(err) => {
                    AppError::BadRequest(format!("The form could not be read: {}", err.body_text()))
                }
                FormRejection::FailedToDeserializeFormBody(err) => {
                    AppError::BadRequest(format!("The form could not be read: {}", err.body_text()))
                }
                FormRejection::BytesRejection(err)
                    if err.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE =>
                {
                    AppError::PayloadTooLarge("The form is larger than allowed.".into())
                }
                other => AppError::BadRequest(format!("The form could not be read: {}", other.body_text())),
            }),
        }
    }
}

/// Messages for the fields of a form that did not parse, shown next to
/// each field while the form is re-rendered with the user's input.
#[derive(Debug, Default, Clone)]
pub struct FormErrors(Vec<(&'static str, String)>);

impl FormErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push((field, message.into()));
    }

    /// Keeps the value, or notes the message against `field`.
    pub fn check<T>(&mut self, field: &'static str, parsed: Result<T, String>) -> Option<T> {
        match parsed {
            Ok(value) => Some(value),
            Err(message) => {
                self.add(field, message);
                None
            }
        }
    }

    pub fn get(&self, field: &str) -> Option<&str> {
        self.0.iter().find(|(name, _)| *name == field).map(|(_, message)| message.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl FormErrors {
    /// All messages on one line, `field: message; ...`, for the API.
    pub fn summary(&self) -> String {
        self.0.iter().map(|(field, message)| format!("{field}: {message}")).collect::<Vec<_>>().join("; ")
    }
}

/// The `version` field every edit form carries.
pub fn parse_version(raw: &str) -> Result<i32, AppError> {
    raw.trim()
        .parse()
        .map_err(|_| AppError::BadRequest("The form has no version; reload the page and try again.".into()))
}

/// Reads a form or JSON body whole, within `limit` bytes, for the layers
/// that look into a body before its handler does.
pub async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<Bytes, AppError> {
    let too_large = || AppError::PayloadTooLarge(format!("The body is larger than the {limit}-byte limit."));
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|_| too_large())
}
