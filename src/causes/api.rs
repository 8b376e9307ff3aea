//! Cause calls of the JSON API.

use axum::{
    Json,
    extract::{Extension, State, rejection::JsonRejection},
    http::StatusCode,
};
use serde_json::Value;

use super::{
    db::{self, Cause},
    domain::CauseInput,
};
use crate::{
    error::{AppError, Result, WriteError},
    incidents::path::IncidentPath,
    state::AppState,
    web::json::{json_rejection, required_version},
    web::{CurrentUser, path::RecordId},
};

/// The API sends whys as a list; the form as lines.
fn input_from(body: &serde_json::Map<String, Value>, base: CauseInput) -> Result<CauseInput> {
    let text = |name: &str, fallback: String| -> Result<String> {
        match body.get(name) {
            None => Ok(fallback),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(_) => Err(AppError::Unprocessable(format!("{name}: expected a string."))),
        }
    };
    let whys = match body.get("whys") {
        None => base.whys.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(|s| s.replace('\n', " ")))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| AppError::Unprocessable("whys: a list of strings.".into()))?
            .join("\n"),
        Some(_) => return Err(AppError::Unprocessable("whys: a list of strings.".into())),
    };
    if let Some(name) =
        body.keys().find(|k| !matches!(k.as_str(), "version" | "kind" | "category" | "description" | "whys"))
    {
        return Err(AppError::Unprocessable(format!("{name}: not a field of a cause.")));
    }
    Ok(CauseInput {
        kind: text("kind", base.kind)?,
        category: text("category", base.category)?,
        description: text("description", base.description)?,
        whys,
    })
}

/// `POST /api/v1/incidents/{id}/causes`: 201 with the cause.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/causes",
    tag = "causes",
    summary = "Add a cause",
    params(crate::web::api_schemas::IncidentId),
    request_body = NewCause,
    responses((status = 201, description = "OK", body = crate::causes::db::Cause), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn create_cause(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<(StatusCode, Json<Cause>)> {
    let Json(body) = body.map_err(json_rejection)?;
    let input = input_from(&body, CauseInput::default())?;
    let categories = db::list_categories(&state.pool).await?;
    let fields = input.parse(&categories).map_err(|errors| AppError::Unprocessable(errors.summary()))?;
    let cause = super::add_cause(&state, incident.id, &fields, &user.0).await?;
    Ok((StatusCode::CREATED, Json(cause)))
}

/// `PATCH /api/v1/causes/{id}`: any fields, with the cause's `version`.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    patch,
    path = "/api/v1/causes/{id}",
    tag = "causes",
    summary = "Update a cause",
    params(crate::web::api_schemas::RecordId),
    request_body = CauseChanges,
    responses((status = 200, description = "OK", body = crate::causes::db::Cause), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn update_cause(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    RecordId(id): RecordId,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<Json<Cause>> {
    let Json(body) = body.map_err(json_rejection)?;
    let current = db::find_cause(&state.pool, None, id, false).await?.ok_or(AppError::NotFound)?;
    let version = required_version(&body)?;
    let base = CauseInput {
        kind: current.kind.to_string(),
        category: current.category.clone(),
        description: current.description.clone(),
        whys: current.whys.join("\n"),
    };
    let input = input_from(&body, base)?;
    let categories = db::list_categories(&state.pool).await?;
    let fields = input.parse(&categories).map_err(|errors| AppError::Unprocessable(errors.summary()))?;
    match super::edit_cause(&state, Some(current.incident_id), id, version, &fields, &user.0).await {
        Ok(cause) => Ok(Json(cause)),
        Err(WriteError::Stale(now)) => Err(AppError::stale("cause", version, now.version)),
        Err(WriteError::Failed(err)) => Err(err),
    }
}

/// `DELETE /api/v1/causes/{id}`: 204.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    delete,
    path = "/api/v1/causes/{id}",
    tag = "causes",
    summary = "Delete a cause",
    params(crate::web::api_schemas::RecordId),
    responses((status = 204, description = "Done"), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn delete_cause(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    RecordId(id): RecordId,
) -> Result<StatusCode> {
    super::remove_cause(&state, None, id, &user.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

// The request bodies as the OpenAPI document describes them: the
// handlers read them field by field, to name the field at fault.

/// `POST /api/v1/incidents/{id}/causes`. No other field is taken.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCause {
    pub kind: crate::causes::domain::CauseKind,
    /// One of the admin's categories (`GET` the incident page's form lists them).
    #[schema(min_length = 1)]
    pub category: String,
    #[schema(min_length = 1)]
    pub description: String,
    /// The five whys, one answer each.
    #[schema(default)]
    pub whys: Vec<String>,
}

/// `PATCH /api/v1/causes/{id}`: the `version` and the fields to change.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CauseChanges {
    pub version: i32,
    pub kind: Option<crate::causes::domain::CauseKind>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub whys: Option<Vec<String>>,
}
