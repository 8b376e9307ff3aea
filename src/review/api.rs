//! The review's calls of the JSON API: moving a postmortem through its
//! workflow, asking reviewers, giving verdicts, and where it stands.

use axum::{
    Json,
    extract::{Extension, State, rejection::JsonRejection},
    http::StatusCode,
};
use serde::Serialize;
use serde_json::Value;
use uuid::Uuid;

use super::{Readiness, Verdict, db};
use crate::{
    error::{AppError, Result},
    incidents::{EditError, db::Incident, domain::Field, path::IncidentPath},
    state::AppState,
    web::{
        CurrentUser,
        json::{json_rejection, required_version},
    },
};

type Body = std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>;

fn text_field<'a>(body: &'a serde_json::Map<String, Value>, name: &str, what: &str) -> Result<&'a str> {
    match body.get(name) {
        Some(Value::String(text)) => Ok(text),
        None | Some(Value::Null) if name == "note" => Ok(""),
        _ => Err(AppError::Unprocessable(format!("{name}: {what}"))),
    }
}

/// `POST /api/v1/incidents/{id}/status`: `{"status","version"}`, one step of
/// draft -> in_review -> published. 409 when stale; 422 naming what is
/// missing (the sections the severity requires, approvals, changes asked).
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/status",
    tag = "review",
    summary = "Move the incident one workflow step",
    params(crate::web::api_schemas::IncidentId),
    request_body = StatusMove,
    responses((status = 200, description = "OK", body = crate::incidents::db::Incident), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn move_status(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    body: Body,
) -> Result<Json<Incident>> {
    let Json(body) = body.map_err(json_rejection)?;
    let version = required_version(&body)?;
    let status = text_field(&body, "status", "draft, in_review or published.")?;
    let edit = [(Field::Status, status.to_owned())];
    match crate::incidents::edit_incident(&state, incident.id, version, &edit, &user.0).await {
        Ok(saved) => {
            state.webhooks.wake();
            Ok(Json(saved))
        }
        Err(EditError::Stale(current)) => Err(AppError::stale("incident", version, current.version)),
        Err(EditError::Invalid(errors)) => Err(AppError::Unprocessable(errors.summary())),
        Err(EditError::Failed(err)) => Err(err),
    }
}

/// `POST /api/v1/incidents/{id}/reviewers`: `{"user_id"}`, 201 with who was
/// asked (200 when they already were).
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/reviewers",
    tag = "review",
    summary = "Ask someone to review",
    params(crate::web::api_schemas::IncidentId),
    request_body = AskReviewer,
    responses((status = 201, description = "Asked", body = Asked), (status = 200, description = "Already asked", body = Asked), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn ask_reviewer(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    body: Body,
) -> Result<(StatusCode, Json<Asked>)> {
    let Json(body) = body.map_err(json_rejection)?;
    let reviewer: Uuid = text_field(&body, "user_id", "the id of the person to ask.")?
        .parse()
        .map_err(|_| AppError::Unprocessable("user_id: the id of the person to ask.".into()))?;
    let (reviewer, added) = super::ask(&state, &incident, reviewer, &user.0).await?;
    let status = if added { StatusCode::CREATED } else { StatusCode::OK };
    let body = Asked { reviewer: AskedReviewer { user_id: reviewer.id, name: reviewer.name }, asked: added };
    Ok((status, Json(body)))
}

/// Who was asked to review, and whether this call asked them (false when
/// they already were).
#[derive(Serialize, utoipa::ToSchema)]
pub struct Asked {
    reviewer: AskedReviewer,
    asked: bool,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct AskedReviewer {
    user_id: Uuid,
    name: String,
}

/// `POST /api/v1/incidents/{id}/reviews`: `{"verdict","note"}` by the
/// token's user; 201 with the review.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/reviews",
    tag = "review",
    summary = "Give a verdict",
    params(crate::web::api_schemas::IncidentId),
    request_body = VerdictInput,
    responses((status = 201, description = "OK", body = db::Review), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn give_verdict(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    body: Body,
) -> Result<(StatusCode, Json<db::Review>)> {
    let Json(body) = body.map_err(json_rejection)?;
    let verdict = Verdict::parse(text_field(&body, "verdict", "approve or request_changes.")?)?;
    let note = text_field(&body, "note", "a string.")?;
    let review = super::give_verdict(&state, &incident, &user.0, verdict, note).await?;
    Ok((StatusCode::CREATED, Json(review)))
}

/// `GET /api/v1/incidents/{id}/reviews`: the reviewers with their latest
/// verdicts, every verdict newest first, and the readiness.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}/reviews",
    tag = "review",
    summary = "Reviewers and verdicts",
    params(crate::web::api_schemas::IncidentId),
    responses((status = 200, description = "OK", body = ReviewList), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn list_reviews(
    State(state): State<AppState>,
    IncidentPath(incident): IncidentPath,
) -> Result<Json<ReviewList>> {
    let mut db = state.pool.acquire().await?;
    let reviewers = db::reviewers(&mut *db, incident.id).await?;
    let reviews = db::reviews(&mut *db, incident.id).await?;
    let readiness = Readiness::of(&mut db, &state.document, &incident).await?;
    Ok(Json(ReviewList { reviewers, reviews, readiness: ReadinessBody::of(&readiness) }))
}

/// The reviewers with their latest verdicts, every verdict newest first,
/// and what publishing still needs.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewList {
    reviewers: Vec<db::Reviewer>,
    reviews: Vec<db::Review>,
    readiness: ReadinessBody,
}

/// `GET /api/v1/incidents/{id}/readiness`: what is missing, and whether it
/// may be published.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}/readiness",
    tag = "review",
    summary = "What publishing still needs",
    params(crate::web::api_schemas::IncidentId),
    responses((status = 200, description = "OK", body = ReadinessBody), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn readiness(
    State(state): State<AppState>,
    IncidentPath(incident): IncidentPath,
) -> Result<Json<ReadinessBody>> {
    let mut db = state.pool.acquire().await?;
    let readiness = Readiness::of(&mut db, &state.document, &incident).await?;
    Ok(Json(ReadinessBody::of(&readiness)))
}

/// What publishing still needs.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Readiness)]
pub struct ReadinessBody {
    /// Everything still missing, in reading order.
    gaps: Vec<GapBody>,
    /// Approvals from someone other than the author.
    approvals: i32,
    approvals_needed: i32,
    /// The names of those asking for changes (their latest verdict).
    changes_requested_by: Vec<String>,
    can_publish: bool,
    /// Why it cannot be published yet, each said in a sentence.
    missing: Vec<String>,
}

/// One thing missing: `key` is what a review rule names to require it.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Gap)]
pub struct GapBody {
    key: &'static str,
    text: String,
    /// Whether the rule for the incident's severity requires it.
    required: bool,
}

impl ReadinessBody {
    fn of(readiness: &Readiness) -> ReadinessBody {
        let gaps = readiness
            .gaps
            .iter()
            .map(|gap| GapBody { key: gap.key, text: gap.text.clone(), required: readiness.is_required(gap) })
            .collect();
        let missing = readiness.refusals();
        ReadinessBody {
            gaps,
            approvals: readiness.approvals,
            approvals_needed: readiness.approvals_needed,
            changes_requested_by: readiness.changes_requested_by.clone(),
            can_publish: missing.is_empty(),
            missing,
        }
    }
}

// The request bodies as the OpenAPI document describes them: the
// handlers read them field by field, to name the field at fault.

/// `{"status","version"}`: a move held to the review's rules.
#[derive(utoipa::ToSchema)]
pub struct StatusMove {
    pub status: crate::incidents::domain::Status,
    pub version: i32,
}

/// `{"user_id":".."}`: an editor or admin other than the author.
#[derive(utoipa::ToSchema)]
pub struct AskReviewer {
    pub user_id: uuid::Uuid,
}

/// A reviewer's verdict; asking for changes needs a note.
#[derive(utoipa::ToSchema)]
#[schema(as = Verdict)]
pub struct VerdictInput {
    #[schema(pattern = "^(approve|request_changes)$")]
    pub verdict: String,
    pub note: Option<String>,
}
