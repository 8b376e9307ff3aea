//! Timeline calls of the JSON API.

use axum::{
    Json,
    extract::{Extension, State, rejection::JsonRejection},
    http::StatusCode,
};
use serde_json::{Value, json};

use super::{
    db::{self, TimelineEvent},
    domain::EventInput,
};
use crate::{
    error::{AppError, Result, WriteError},
    incidents::path::IncidentPath,
    state::AppState,
    web::json::{json_rejection, required_version},
    web::{CurrentUser, path::RecordId},
};

/// API times carry their offset: RFC 3339.
fn read_rfc3339(raw: &str) -> std::result::Result<time::OffsetDateTime, String> {
    time::OffsetDateTime::parse(raw.trim(), &time::format_description::well_known::Rfc3339)
        .map_err(|_| "Send an RFC 3339 time like 2026-11-20T14:02:00Z.".into())
}

/// `POST /api/v1/incidents/{id}/timeline`: 201 with the event.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/timeline",
    tag = "timeline",
    summary = "Add a timeline entry",
    params(crate::web::api_schemas::IncidentId),
    request_body = NewTimelineEvent,
    responses((status = 201, description = "OK", body = crate::timeline::db::TimelineEvent), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn create_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    body: std::result::Result<Json<EventInput>, JsonRejection>,
) -> Result<(StatusCode, Json<TimelineEvent>)> {
    let Json(input) = body.map_err(json_rejection)?;
    let fields = input.parse(&read_rfc3339).map_err(|errors| AppError::Unprocessable(errors.summary()))?;
    let mut added = super::add_events(&state, incident.id, &[fields], &user.0).await?;
    let event = added.pop().ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(event)))
}

/// `PATCH /api/v1/timeline/{id}`: any fields, with the event's `version`.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    patch,
    path = "/api/v1/timeline/{id}",
    tag = "timeline",
    summary = "Update a timeline entry",
    params(crate::web::api_schemas::RecordId),
    request_body = TimelineChanges,
    responses((status = 200, description = "OK", body = crate::timeline::db::TimelineEvent), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn update_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    RecordId(id): RecordId,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<Json<TimelineEvent>> {
    let Json(body) = body.map_err(json_rejection)?;
    let current = db::find_event(&state.pool, None, id, false).await?.ok_or(AppError::NotFound)?;
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
    match super::edit_event(&state, Some(current.incident_id), id, version, &fields, &user.0).await {
        Ok(event) => Ok(Json(event)),
        Err(WriteError::Stale(now)) => Err(AppError::stale("timeline event", version, now.version)),
        Err(WriteError::Failed(err)) => Err(err),
    }
}

/// `DELETE /api/v1/timeline/{id}`: 204.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    delete,
    path = "/api/v1/timeline/{id}",
    tag = "timeline",
    summary = "Delete a timeline entry",
    params(crate::web::api_schemas::RecordId),
    responses((status = 204, description = "Done"), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn delete_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    RecordId(id): RecordId,
) -> Result<StatusCode> {
    super::remove_event(&state, None, id, &user.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

// The request bodies as the OpenAPI document describes them: the
// handlers read them field by field, to name the field at fault.

/// `POST /api/v1/incidents/{id}/timeline`.
#[derive(utoipa::ToSchema)]
pub struct NewTimelineEvent {
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: String,
    /// `observation` when not given.
    pub kind: Option<crate::timeline::domain::EventKind>,
    #[schema(min_length = 1)]
    pub body: String,
    /// For a hypothesis: `open` when not given.
    pub hypothesis_status: Option<crate::timeline::domain::HypothesisStatus>,
    /// What supports or refutes a hypothesis.
    pub evidence: Option<String>,
}

/// `PATCH /api/v1/timeline/{id}`: the `version` and the fields to change.
#[derive(utoipa::ToSchema)]
pub struct TimelineChanges {
    pub version: i32,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub occurred_at: Option<String>,
    pub kind: Option<crate::timeline::domain::EventKind>,
    #[schema(min_length = 1)]
    pub body: Option<String>,
    pub hypothesis_status: Option<crate::timeline::domain::HypothesisStatus>,
    pub evidence: Option<String>,
}
