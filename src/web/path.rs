//! Values read from a route's path, refused in our own words: a page
//! answers 404 for an address that names nothing, the API 400 for an id it
//! cannot read, and neither repeats the parser's message.

use axum::{
    extract::{FromRequestParts, OriginalUri, RawPathParams},
    http::request::Parts,
};
use uuid::Uuid;

use crate::error::AppError;

/// The raw value of the path parameter `name`.
pub async fn param<S: Send + Sync>(parts: &mut Parts, state: &S, name: &str) -> Result<String, AppError> {
    let params = RawPathParams::from_request_parts(parts, state).await.map_err(|_| AppError::NotFound)?;
    params
        .iter()
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.to_owned())
        .ok_or_else(|| anyhow::anyhow!("the route has no path parameter `{name}`").into())
}

/// Whether the request is one of the API's, which answers in JSON. The
/// original address is asked: within the API's router the prefix is gone.
pub fn is_api(parts: &Parts) -> bool {
    let path = parts.extensions.get::<OriginalUri>().map_or(parts.uri.path(), |original| original.path());
    path.starts_with("/api/")
}

/// The `{id}` of a record in the path (a timeline event, a cause, an
/// action item).
#[derive(Debug, Clone, Copy)]
pub struct RecordId(pub Uuid);

impl<S: Send + Sync> FromRequestParts<S> for RecordId {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = param(parts, state, "id").await?;
        match Uuid::parse_str(&raw) {
            Ok(id) => Ok(RecordId(id)),
            Err(_) if is_api(parts) => {
                Err(AppError::BadRequest(format!("“{}” is not an id: ids are UUIDs.", shorten(&raw))))
            }
            Err(_) => Err(AppError::NotFound),
        }
    }
}

/// At most 40 characters of what was sent, to quote it back.
pub fn shorten(raw: &str) -> String {
    let mut out: String = raw.chars().take(40).collect();
    if raw.chars().count() > 40 {
        out.push('…');
    }
    out
}
