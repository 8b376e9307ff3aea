//! Incident calls of the JSON API.

use axum::{
    Json,
    extract::{Extension, Path, Query, State, rejection::JsonRejection},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::{
    db::{self, Incident},
    domain::NewIncidentInput,
};
use crate::{
    error::{AppError, Result},
    state::AppState,
    web::CurrentUser,
};

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    page: Option<i64>,
    per_page: Option<i64>,
}

/// `GET /api/v1/incidents`: newest first, paged.
#[tracing::instrument(skip_all)]
pub async fn list_incidents(
    State(state): State<AppState>,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>> {
    let per_page = query.per_page.unwrap_or(50).clamp(1, 200);
    let page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let (incidents, total) = db::list_incidents(&state.pool, per_page, (page - 1) * per_page).await?;
    Ok(Json(json!({ "incidents": incidents, "total": total, "page": page, "per_page": per_page })))
}

/// `GET /api/v1/incidents/{id}`
#[tracing::instrument(skip_all)]
pub async fn show_incident(State(state): State<AppState>, Path(id): Path<Uuid>) -> Result<Json<Incident>> {
    let incident = db::find_incident(&state.pool, id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(incident))
}

/// The body of `POST /api/v1/incidents`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CreateIncident {
    title: String,
    severity: String,
    started_at: String,
    services: Vec<String>,
    tags: Vec<String>,
    summary: String,
}

/// `POST /api/v1/incidents`: 201 with the incident.
#[tracing::instrument(skip_all)]
pub async fn create_incident(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    body: std::result::Result<Json<CreateIncident>, JsonRejection>,
) -> Result<(StatusCode, Json<Incident>)> {
    let Json(body) = body.map_err(json_rejection)?;
    let input = NewIncidentInput {
        title: body.title,
        severity: body.severity,
        started_at: body.started_at,
        services: body.services.join(","),
        tags: body.tags.join(","),
        summary: body.summary,
    };
    let fields = input.parse().map_err(|errors| AppError::Unprocessable(errors.summary()))?;
    let incident = db::insert_incident(&state.pool, &fields, user.0.id).await?;
    tracing::info!(incident = %incident.reference, "incident created through the API");
    Ok((StatusCode::CREATED, Json(incident)))
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
