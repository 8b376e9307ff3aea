//! Timeline calls of the JSON API.

use axum::{
    Json,
    extract::{Extension, Path, State, rejection::JsonRejection},
    http::StatusCode,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    db::{self, TimelineEvent},
    domain::EventInput,
};
use crate::{
    api::{json_rejection, required_version},
    error::{AppError, Result, WriteError},
    incidents::db as incidents_db,
    state::AppState,
    web::CurrentUser,
};

/// API times carry their offset: RFC 3339.
fn read_rfc3339(raw: &str) -> std::result::Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| "Send an RFC 3339 time like 2026-11-20T14:02:00Z.".into())
}

/// `POST /api/v1/incidents/{id}/timeline`: 201 with the event.
#[tracing::instrument(skip_all)]
pub async fn create_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(incident_id): Path<Uuid>,
    body: std::result::Result<Json<EventInput>, JsonRejection>,
) -> Result<(StatusCode, Json<TimelineEvent>)> {
    let Json(input) = body.map_err(json_rejection)?;
    incidents_db::find_incident(&state.pool, incident_id).await?.ok_or(AppError::NotFound)?;
    let fields = input.parse(&read_rfc3339).map_err(|errors| AppError::Unprocessable(errors.summary()))?;
    let ids = super::add_events(&state.pool, incident_id, &[fields], &user.0).await?;
    let event = db::find_event(&state.pool, ids[0]).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(event)))
}

/// `PATCH /api/v1/timeline/{id}`: any fields, with the event's `version`.
#[tracing::instrument(skip_all)]
pub async fn update_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<Uuid>,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<Json<TimelineEvent>> {
    let Json(body) = body.map_err(json_rejection)?;
    let current = db::find_event(&state.pool, id).await?.ok_or(AppError::NotFound)?;
    let version = required_version(&body)?;
    let mut merged = json!({
        "occurred_at": crate::web::clock::moment_text(&Some(current.occurred_at)),
        "kind": current.kind,
        "body": current.body,
        "hypothesis_status": current.hypothesis_status.map(|s| s.to_string()).unwrap_or_default(),
        "evidence": current.evidence,
    });
    for (name, value) in body.iter().filter(|(name, _)| name.as_str() != "version") {
        if merged.get(name).is_none() {
            return Err(AppError::Unprocessable(format!("{name}: not a field of a timeline event.")));
        }
        let text =
            value.as_str().ok_or_else(|| AppError::Unprocessable(format!("{name}: expected a string.")))?;
        merged[name] = json!(text);
    }
    let input: EventInput =
        serde_json::from_value(merged).map_err(|err| AppError::Unprocessable(err.to_string()))?;
    let fields = input.parse(&read_rfc3339).map_err(|errors| AppError::Unprocessable(errors.summary()))?;
    match super::edit_event(&state.pool, current.incident_id, id, version, &fields, &user.0).await {
        Ok(event) => Ok(Json(event)),
        Err(WriteError::Stale(now)) => Err(AppError::stale("timeline event", version, now.version)),
        Err(WriteError::Failed(err)) => Err(err),
    }
}

/// `DELETE /api/v1/timeline/{id}`: 204.
#[tracing::instrument(skip_all)]
pub async fn delete_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(id): Path<Uuid>,
) -> Result<StatusCode> {
    let event = db::find_event(&state.pool, id).await?.ok_or(AppError::NotFound)?;
    super::remove_event(&state.pool, event.incident_id, id, &user.0).await?;
    Ok(StatusCode::NO_CONTENT)
}
