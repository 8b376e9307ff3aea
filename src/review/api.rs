//! The review's calls of the JSON API: moving a postmortem through its
//! workflow, asking reviewers, giving verdicts, and where it stands.

use axum::{
    Json,
    extract::{Extension, State, rejection::JsonRejection},
    http::StatusCode,
};
use serde_json::{Value, json};
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
    request_body = crate::web::api_schemas::StatusMove,
    responses((status = 200, description = "OK", body = crate::web::api_schemas::Incident), crate::web::api_schemas::WriteErrors),
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
    request_body = crate::web::api_schemas::AskReviewer,
    responses((status = 201, description = "Done"), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn ask_reviewer(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    body: Body,
) -> Result<(StatusCode, Json<Value>)> {
    let Json(body) = body.map_err(json_rejection)?;
    let reviewer: Uuid = text_field(&body, "user_id", "the id of the person to ask.")?
        .parse()
        .map_err(|_| AppError::Unprocessable("user_id: the id of the person to ask.".into()))?;
    let (reviewer, added) = super::ask(&state, &incident, reviewer, &user.0).await?;
    let status = if added { StatusCode::CREATED } else { StatusCode::OK };
    let body = json!({ "reviewer": { "user_id": reviewer.id, "name": reviewer.name }, "asked": added });
    Ok((status, Json(body)))
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
    request_body = crate::web::api_schemas::Verdict,
    responses((status = 201, description = "OK", body = crate::web::api_schemas::Review), crate::web::api_schemas::WriteErrors),
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
    responses((status = 200, description = "OK", body = crate::web::api_schemas::ReviewList), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn list_reviews(
    State(state): State<AppState>,
    IncidentPath(incident): IncidentPath,
) -> Result<Json<Value>> {
    let mut db = state.pool.acquire().await?;
    let reviewers = db::reviewers(&mut *db, incident.id).await?;
    let reviews = db::reviews(&mut *db, incident.id).await?;
    let readiness = Readiness::of(&mut db, &state.document, &incident).await?;
    Ok(Json(json!({ "reviewers": reviewers, "reviews": reviews, "readiness": readiness_json(&readiness) })))
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
    responses((status = 200, description = "OK", body = crate::web::api_schemas::Readiness), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn readiness(
    State(state): State<AppState>,
    IncidentPath(incident): IncidentPath,
) -> Result<Json<Value>> {
    let mut db = state.pool.acquire().await?;
    let readiness = Readiness::of(&mut db, &state.document, &incident).await?;
    Ok(Json(readiness_json(&readiness)))
}

fn readiness_json(readiness: &Readiness) -> Value {
    let gaps: Vec<Value> = readiness
        .gaps
        .iter()
        .map(|gap| json!({ "key": gap.key, "text": gap.text, "required": readiness.is_required(gap) }))
        .collect();
    let refusals = readiness.refusals();
    json!({
        "gaps": gaps,
        "approvals": readiness.approvals,
        "approvals_needed": readiness.approvals_needed,
        "changes_requested_by": readiness.changes_requested_by,
        "can_publish": refusals.is_empty(),
        "missing": refusals,
    })
}
