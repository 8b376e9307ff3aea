//! Comments from the incident page.

use axum::{
    extract::{Extension, State},
    response::Redirect,
};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::{Draft, db};
use crate::{
    error::{AppError, Result},
    incidents::path::IncidentPath,
    state::AppState,
    web::{CurrentUser, Flash, Form, path::RecordId, session},
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CommentForm {
    /// `kind:id`, as the margin's picker gives it.
    target: String,
    parent_id: String,
    body: String,
}

/// `POST /incidents/{reference}/comments`: a new thread or a reply; back to
/// it on the page.
#[tracing::instrument(skip_all)]
pub async fn add(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    IncidentPath(incident): IncidentPath,
    Form(form): Form<CommentForm>,
) -> Result<Redirect> {
    let parent_id = match form.parent_id.trim() {
        "" => None,
        raw => Some(
            raw.parse::<Uuid>()
                .map_err(|_| AppError::BadRequest("That is not a comment to reply to.".into()))?,
        ),
    };
    let (target_kind, target_id) = form.target.split_once(':').unwrap_or(("", ""));
    let draft = Draft { target_kind, target_id, parent_id, body: &form.body };
    let back = |anchor: &str| format!("/incidents/{}#{anchor}", incident.reference);
    match super::add(&state, &incident, &user.0, &draft).await {
        Ok(comment) => {
            session::push_flash(&session, Flash::success("Comment added.")).await?;
            Ok(Redirect::to(&back(&format!("comment-{}", comment.id))))
        }
        Err(AppError::Unprocessable(message)) => {
            let text = message.split_once(": ").map_or(message.as_str(), |(_, text)| text).to_owned();
            session::push_flash(&session, Flash::error(format!("The comment was not added: {text}"))).await?;
            let anchor = super::part_key(target_kind, target_id).unwrap_or("details");
            Ok(Redirect::to(&back(anchor)))
        }
        Err(err) => Err(err),
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ResolveForm {
    resolved: String,
}

/// `POST /incidents/{reference}/comments/{id}/resolve`: folds the thread
/// away (or opens it again).
#[tracing::instrument(skip_all)]
pub async fn resolve(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    Form(form): Form<ResolveForm>,
) -> Result<Redirect> {
    let comment = db::find(&state.pool, id)
        .await?
        .filter(|comment| comment.incident_id == incident.id)
        .ok_or(AppError::NotFound)?;
    let resolved = form.resolved != "false";
    let thread = super::resolve(&state, &comment, resolved, &user.0).await?;
    let flash = if resolved { "Thread resolved." } else { "Thread reopened." };
    session::push_flash(&session, Flash::success(flash)).await?;
    Ok(Redirect::to(&format!("/incidents/{}#comment-{}", incident.reference, thread.id)))
}
