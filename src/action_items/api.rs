//! Action item calls of the JSON API.

use axum::{
    Json,
    extract::{Extension, State, rejection::JsonRejection},
    http::StatusCode,
};
use serde_json::Value;

use super::{
    db::{self, ActionItem},
    domain::ActionItemInput,
};
use crate::{
    auth,
    error::{AppError, Result, WriteError},
    incidents::path::IncidentPath,
    state::AppState,
    web::json::{json_rejection, required_version},
    web::{CurrentUser, path::RecordId},
};

const FIELDS: [&str; 7] = ["title", "kind", "owner_id", "due_on", "priority", "status", "tracker_url"];

/// Overlays the body's fields (strings or null) on `base`.
fn input_from(body: &serde_json::Map<String, Value>, base: &ActionItemInput) -> Result<ActionItemInput> {
    if let Some(name) = body.keys().find(|k| k.as_str() != "version" && !FIELDS.contains(&k.as_str())) {
        return Err(AppError::Unprocessable(format!("{name}: not a field of an action item.")));
    }
    let field = |name: &str, fallback: &str| -> Result<String> {
        match body.get(name) {
            None => Ok(fallback.to_owned()),
            Some(Value::Null) => Ok(String::new()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(_) => Err(AppError::Unprocessable(format!("{name}: expected a string or null."))),
        }
    };
    Ok(ActionItemInput {
        title: field("title", &base.title)?,
        kind: field("kind", &base.kind)?,
        owner_id: field("owner_id", &base.owner_id)?,
        due_on: field("due_on", &base.due_on)?,
        priority: field("priority", &base.priority)?,
        status: field("status", &base.status)?,
        tracker_url: field("tracker_url", &base.tracker_url)?,
    })
}

/// `POST /api/v1/incidents/{id}/action_items`: 201 with the item.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/action_items",
    tag = "action_items",
    summary = "Add an action item",
    params(crate::web::api_schemas::IncidentId),
    request_body = NewActionItem,
    responses((status = 201, description = "OK", body = crate::action_items::db::ActionItem), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn create_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<(StatusCode, Json<ActionItem>)> {
    let Json(body) = body.map_err(json_rejection)?;
    let input = input_from(&body, &ActionItemInput::default())?;
    let users = auth::db::list_users(&state.pool).await?;
    let fields = input.parse(&users).map_err(|errors| AppError::Unprocessable(errors.summary()))?;
    let item = super::add_item(&state, incident.id, &fields, &user.0).await?;
    Ok((StatusCode::CREATED, Json(item)))
}

/// `PATCH /api/v1/action_items/{id}`: any fields, with the item's `version`.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    patch,
    path = "/api/v1/action_items/{id}",
    tag = "action_items",
    summary = "Update an action item",
    params(crate::web::api_schemas::RecordId),
    request_body = ActionItemChanges,
    responses((status = 200, description = "OK", body = crate::action_items::db::ActionItem), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn update_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    RecordId(id): RecordId,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<Json<ActionItem>> {
    let Json(body) = body.map_err(json_rejection)?;
    let current = db::find_item(&state.pool, None, id, false).await?.ok_or(AppError::NotFound)?;
    let version = required_version(&body)?;
    let input = input_from(&body, &super::handlers::input_of(&current))?;
    let users = auth::db::list_users(&state.pool).await?;
    let fields = input.parse(&users).map_err(|errors| AppError::Unprocessable(errors.summary()))?;
    match super::edit_item(&state, Some(current.incident_id), id, version, &fields, &user.0).await {
        Ok(item) => Ok(Json(item)),
        Err(WriteError::Stale(now)) => Err(AppError::stale("action item", version, now.version)),
        Err(WriteError::Failed(err)) => Err(err),
    }
}

/// `DELETE /api/v1/action_items/{id}`: 204.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    delete,
    path = "/api/v1/action_items/{id}",
    tag = "action_items",
    summary = "Delete an action item",
    params(crate::web::api_schemas::RecordId),
    responses((status = 204, description = "Done"), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn delete_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    RecordId(id): RecordId,
) -> Result<StatusCode> {
    super::remove_item(&state, None, id, &user.0).await?;
    Ok(StatusCode::NO_CONTENT)
}

// The request bodies as the OpenAPI document describes them: the
// handlers read them field by field, to name the field at fault.

/// `POST /api/v1/incidents/{id}/action_items`.
#[derive(utoipa::ToSchema)]
pub struct NewActionItem {
    #[schema(min_length = 1)]
    pub title: String,
    pub kind: crate::action_items::domain::ActionKind,
    /// Nobody yet when not given.
    pub owner_id: Option<uuid::Uuid>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<String>,
    /// `P2` when not given.
    pub priority: Option<crate::action_items::domain::Priority>,
    /// `open` when not given.
    pub status: Option<crate::action_items::domain::ActionStatus>,
    /// A link to the item in the team's tracker (http or https).
    pub tracker_url: Option<String>,
}

/// `PATCH /api/v1/action_items/{id}`: the `version` and the fields to change.
#[derive(utoipa::ToSchema)]
pub struct ActionItemChanges {
    pub version: i32,
    pub title: Option<String>,
    pub kind: Option<crate::action_items::domain::ActionKind>,
    pub owner_id: Option<uuid::Uuid>,
    #[schema(value_type = Option<String>, format = Date)]
    pub due_on: Option<String>,
    pub priority: Option<crate::action_items::domain::Priority>,
    pub status: Option<crate::action_items::domain::ActionStatus>,
    pub tracker_url: Option<String>,
}
