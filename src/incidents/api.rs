//! Incident calls of the JSON API.

use axum::{
    Json,
    extract::{Extension, State, rejection::JsonRejection},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::Value;

use super::{
    EditError,
    db::Incident,
    domain::{Field, NewIncidentInput},
    figures::Figure,
    path::IncidentPath,
};
use crate::{
    error::{AppError, Result},
    state::AppState,
    web::CurrentUser,
    web::json::{json_rejection, required_version},
};

/// `GET /api/v1/incidents/{id}`: the whole postmortem, every part of it.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}",
    tag = "incidents",
    summary = "The whole postmortem",
    params(crate::web::api_schemas::IncidentId),
    responses((status = 200, description = "The whole postmortem: schema `Postmortem`, described from the parts it is made of"), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn show_incident(
    State(state): State<AppState>,
    IncidentPath(incident): IncidentPath,
) -> Result<Json<Value>> {
    Ok(Json(state.document.json(&state, &incident).await?))
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
#[utoipa::path(
    post,
    path = "/api/v1/incidents",
    tag = "incidents",
    summary = "Create an incident",
    request_body = NewIncident,
    responses((status = 201, description = "OK", body = crate::incidents::db::Incident), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
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
    let fields = input
        .parse(&crate::web::clock::parse_moment)
        .map_err(|errors| AppError::Unprocessable(errors.summary()))?;
    let incident = super::open_incident(&state, &fields, &user.0).await?;
    tracing::info!(incident = %incident.reference, "incident created through the API");
    Ok((StatusCode::CREATED, Json(incident)))
}

/// `PATCH /api/v1/incidents/{id}`: any fields, with the `version` the
/// change was based on; a stale version gets 409 and changes nothing.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    patch,
    path = "/api/v1/incidents/{id}",
    tag = "incidents",
    summary = "Update an incident (partial, with its version)",
    params(crate::web::api_schemas::IncidentId),
    request_body = IncidentChanges,
    responses((status = 200, description = "OK", body = crate::incidents::db::Incident), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn update_incident(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<Json<Incident>> {
    let Json(body) = body.map_err(json_rejection)?;
    let version = required_version(&body)?;
    let mut edits = Vec::new();
    for (name, value) in body.iter().filter(|(name, _)| name.as_str() != "version") {
        let field = Field::from_name(name)
            .ok_or_else(|| AppError::Unprocessable(format!("{name}: not a field that can be changed.")))?;
        let raw = match value {
            Value::Null => String::new(),
            Value::String(text) => text.clone(),
            Value::Array(items) if field == Field::ImpactFigures => figure_lines(items).ok_or_else(|| {
                AppError::Unprocessable(format!(
                    "{name}: a list of figures, each a string like \"QPS 12,800 -> 3,000 for 47 min\" \
                         or an object with metric, before, after and optionally for."
                ))
            })?,
            Value::Array(items) if matches!(field, Field::Services | Field::Tags) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| AppError::Unprocessable(format!("{name}: a list of strings.")))?
                .join(","),
            _ => return Err(AppError::Unprocessable(format!("{name}: expected a string."))),
        };
        edits.push((field, raw));
    }
    match super::edit_incident(&state, incident.id, version, &edits, &user.0).await {
        Ok(incident) => Ok(Json(incident)),
        Err(EditError::Stale(current)) => Err(AppError::stale("incident", version, current.version)),
        Err(EditError::Invalid(errors)) => Err(AppError::Unprocessable(errors.summary())),
        Err(EditError::Failed(err)) => Err(err),
    }
}

/// Figures sent as strings or as objects, one line each, to be read as the
/// form's lines are (so both are checked the same way).
fn figure_lines(items: &[Value]) -> Option<String> {
    let line = |item: &Value| match item {
        Value::String(line) => Some(line.clone()),
        Value::Object(_) => {
            serde_json::from_value::<Figure>(item.clone()).ok().map(|figure| figure.to_string())
        }
        _ => None,
    };
    Some(items.iter().map(line).collect::<Option<Vec<_>>>()?.join("\n"))
}

// The request bodies as the OpenAPI document describes them: the
// handlers read them field by field, to name the field at fault.

/// An impact figure: a line like `QPS 12,800 -> 3,000 for 47 min`, or its parts.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum FigureInput {
    Line(String),
    Parts(crate::incidents::figures::Figure),
}

/// `POST /api/v1/incidents`.
#[derive(utoipa::ToSchema)]
pub struct NewIncident {
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub severity: crate::incidents::domain::Severity,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: String,
    #[schema(default)]
    pub services: Vec<String>,
    #[schema(default)]
    pub tags: Vec<String>,
    /// Markdown.
    #[schema(default)]
    pub summary: String,
}

/// `PATCH /api/v1/incidents/{id}`: the `version` it was based on and the
/// fields to change; `null` or `""` empties a field. No other field is taken.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentChanges {
    pub version: i32,
    #[schema(min_length = 1, max_length = 200)]
    pub title: Option<String>,
    pub severity: Option<crate::incidents::domain::Severity>,
    /// Moves are held to the review's rules, as `POST .../status` is.
    pub status: Option<crate::incidents::domain::Status>,
    pub services: Option<crate::web::api_schemas::Labels>,
    pub tags: Option<crate::web::api_schemas::Labels>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub started_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub detected_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub mitigated_at: Option<String>,
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resolved_at: Option<String>,
    /// Markdown, as are impact, trigger, detection, resolution and the three lessons.
    pub summary: Option<String>,
    pub impact: Option<String>,
    pub impact_figures: Option<Vec<FigureInput>>,
    pub trigger: Option<String>,
    pub detection: Option<String>,
    pub resolution: Option<String>,
    pub went_well: Option<String>,
    pub went_badly: Option<String>,
    pub got_lucky: Option<String>,
}
