//! The timeline of an incident: events in time order, decisions and
//! hypotheses standing out, quick entry by pasting lines.

pub mod api;
pub mod db;
pub mod domain;
pub mod handlers;
pub mod part;
pub mod paste;

use axum::{
    Router, middleware,
    routing::{delete, get, patch, post},
};
use uuid::Uuid;

use self::{
    db::TimelineEvent,
    domain::{EventFields, HypothesisStatus},
};
use crate::{
    auth::{db::User, domain::Role},
    error::{AppError, Result, WriteError},
    incidents::{revision, versioned},
    state::AppState,
    web::require_role,
};

/// Pages: every change needs an editor.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{reference}/timeline", post(handlers::create_event))
        .route("/incidents/{reference}/timeline/paste", post(handlers::create_pasted_events))
        .route(
            "/incidents/{reference}/timeline/{id}/edit",
            get(handlers::edit_event_form).post(handlers::update_event),
        )
        .route("/incidents/{reference}/timeline/{id}/hypothesis", post(handlers::update_hypothesis))
        .route(
            "/incidents/{reference}/timeline/{id}/delete",
            get(handlers::confirm_delete_event).post(handlers::delete_event),
        )
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role))
}

/// API routes, mounted under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/timeline", post(api::create_event))
        .route("/timeline/{id}", patch(api::update_event).merge(delete(api::delete_event)))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role))
}

/// Adds events to the incident in one transaction, with one revision.
pub async fn add_events(
    state: &AppState,
    incident_id: Uuid,
    events: &[EventFields],
    author: &User,
) -> Result<Vec<TimelineEvent>> {
    let mut tx = state.pool.begin().await?;
    let mut added = Vec::with_capacity(events.len());
    for fields in events {
        added.push(db::insert_event(&mut *tx, incident_id, fields, author.id).await?);
    }
    let changes: Vec<_> = added.iter().map(versioned::added).collect();
    let summary = match events.len() {
        1 => "Added a timeline event".to_owned(),
        n => format!("Added {n} timeline events"),
    };
    revision::record_part(&mut tx, &state.document, incident_id, author.id, &summary, &changes).await?;
    tx.commit().await?;
    Ok(added)
}

/// Saves new fields for an event (of `incident`, when given), if it is
/// still at `version`.
pub async fn edit_event(
    state: &AppState,
    incident: Option<Uuid>,
    id: Uuid,
    version: i32,
    fields: &EventFields,
    author: &User,
) -> std::result::Result<TimelineEvent, WriteError<TimelineEvent>> {
    versioned::edit(state, incident, id, version, fields, author, |before: &TimelineEvent, after| {
        match (before.hypothesis_status, after.hypothesis_status) {
            (Some(was), Some(now)) if was != now && after.body == before.body => {
                format!("Marked a hypothesis {now}")
            }
            _ => "Edited a timeline event".to_owned(),
        }
    })
    .await
}

/// Changes only a hypothesis's status.
pub async fn set_hypothesis_status(
    state: &AppState,
    incident_id: Uuid,
    id: Uuid,
    version: i32,
    status: HypothesisStatus,
    author: &User,
) -> std::result::Result<TimelineEvent, WriteError<TimelineEvent>> {
    let event: TimelineEvent = versioned::find(state, incident_id, id).await?;
    if event.hypothesis_status.is_none() {
        return Err(WriteError::Failed(AppError::Unprocessable("Only a hypothesis has a status.".into())));
    }
    let fields = EventFields { hypothesis_status: Some(status), ..event.fields() };
    edit_event(state, Some(incident_id), id, version, &fields, author).await
}

/// Deletes one event (of `incident`, when given), and only it.
pub async fn remove_event(state: &AppState, incident: Option<Uuid>, id: Uuid, author: &User) -> Result<()> {
    versioned::remove::<TimelineEvent>(state, incident, id, author, "Deleted a timeline event").await?;
    Ok(())
}
