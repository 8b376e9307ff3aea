//! The comments' calls of the JSON API.

use axum::{
    Json,
    extract::{Extension, State, rejection::JsonRejection},
    http::StatusCode,
};
use serde_json::Value;
use uuid::Uuid;

use super::{Draft, db};
use crate::{
    error::{AppError, Result},
    incidents::path::IncidentPath,
    state::AppState,
    web::{CurrentUser, json::json_rejection, path::RecordId},
};

type Body = std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>;

/// `GET /api/v1/incidents/{id}/comments`: `{"comments":[...]}`, oldest
/// first; a reply carries its thread's `parent_id`.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}/comments",
    tag = "comments",
    summary = "An incident's comments",
    params(crate::web::api_schemas::IncidentId),
    responses((status = 200, description = "OK", body = CommentList), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    IncidentPath(incident): IncidentPath,
) -> Result<Json<CommentList>> {
    let comments = db::list(&state.pool, incident.id).await?;
    Ok(Json(CommentList { comments }))
}

/// `{"comments":[...]}`: every comment of the incident, oldest first.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct CommentList {
    comments: Vec<db::Comment>,
}

fn string<'a>(body: &'a serde_json::Map<String, Value>, name: &str) -> Result<&'a str> {
    match body.get(name) {
        Some(Value::String(text)) => Ok(text),
        None | Some(Value::Null) => Ok(""),
        _ => Err(AppError::Unprocessable(format!("{name}: a string."))),
    }
}

/// `POST /api/v1/incidents/{id}/comments`: `body`, `target_kind`,
/// `target_id`, optional `parent_id` (a reply takes its thread's target);
/// 201 with the comment.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/comments",
    tag = "comments",
    summary = "Comment on a part",
    params(crate::web::api_schemas::IncidentId),
    request_body = NewComment,
    responses((status = 201, description = "OK", body = db::Comment), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    body: Body,
) -> Result<(StatusCode, Json<db::Comment>)> {
    let Json(body) = body.map_err(json_rejection)?;
    let parent_id = match string(&body, "parent_id")? {
        "" => None,
        raw => Some(
            raw.parse::<Uuid>().map_err(|_| AppError::Unprocessable("parent_id: a comment's id.".into()))?,
        ),
    };
    let draft = Draft {
        target_kind: string(&body, "target_kind")?,
        target_id: string(&body, "target_id")?,
        parent_id,
        body: string(&body, "body")?,
    };
    let comment = super::add(&state, &incident, &user.0, &draft).await?;
    Ok((StatusCode::CREATED, Json(comment)))
}

/// `PATCH /api/v1/comments/{id}`: `{"resolved":bool}` resolves or reopens
/// its thread; `{"body"}` edits it (its author only).
#[tracing::instrument(skip_all)]
#[utoipa::path(
    patch,
    path = "/api/v1/comments/{id}",
    tag = "comments",
    summary = "Edit or resolve a comment",
    params(crate::web::api_schemas::RecordId),
    request_body = CommentChanges,
    responses((status = 200, description = "OK", body = db::Comment), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn update(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    RecordId(id): RecordId,
    body: Body,
) -> Result<Json<db::Comment>> {
    let Json(body) = body.map_err(json_rejection)?;
    let comment = db::find(&state.pool, id).await?.ok_or(AppError::NotFound)?;
    if body.keys().any(|key| key != "resolved" && key != "body") {
        return Err(AppError::Unprocessable("Only resolved and body can be changed.".into()));
    }
    if let Some(text) = body.get("body") {
        let text = text.as_str().ok_or_else(|| AppError::Unprocessable("body: a string.".into()))?;
        if comment.author_id != Some(user.0.id) {
            return Err(AppError::Forbidden("Only its author edits a comment.".into()));
        }
        let text = crate::web::markdown::accept(text.trim(), "comment").map_err(AppError::Unprocessable)?;
        if text.is_empty() || text.chars().count() > super::MAX_CHARS {
            return Err(AppError::Unprocessable(format!("body: 1 to {} characters.", super::MAX_CHARS)));
        }
        db::set_body(&state.pool, comment.id, &text).await?;
    }
    if let Some(resolved) = body.get("resolved") {
        let resolved =
            resolved.as_bool().ok_or_else(|| AppError::Unprocessable("resolved: true or false.".into()))?;
        super::resolve(&state, &comment, resolved, &user.0).await?;
    }
    Ok(Json(db::find(&state.pool, id).await?.ok_or(AppError::NotFound)?))
}

// The request bodies as the OpenAPI document describes them: the
// handlers read them field by field, to name the field at fault.

/// A new comment on a part of the postmortem, or a reply (`parent_id`),
/// which takes its thread's target.
#[derive(utoipa::ToSchema)]
pub struct NewComment {
    /// Markdown; `@name` mentions someone.
    #[schema(min_length = 1, max_length = 10000)]
    pub body: String,
    #[schema(pattern = "^(section|timeline_event|cause|action_item)$")]
    pub target_kind: Option<String>,
    /// A section's name (`summary`, `trigger`, ...) or a record's id.
    pub target_id: Option<String>,
    pub parent_id: Option<uuid::Uuid>,
}

/// A comment's edit: a new `body` (its author only), or the thread resolved or opened again.
#[derive(utoipa::ToSchema)]
pub struct CommentChanges {
    #[schema(min_length = 1, max_length = 10000)]
    pub body: Option<String>,
    pub resolved: Option<bool>,
}
