//! The timeline of an incident: events in time order, decisions and
//! hypotheses standing out, quick entry by pasting lines.

pub mod api;
pub mod db;
pub mod domain;
pub mod handlers;
pub mod paste;

use axum::{
    Router, middleware,
    routing::{delete, get, patch, post},
};
use sqlx::PgPool;
use uuid::Uuid;

use self::{
    db::TimelineEvent,
    domain::{EventFields, HypothesisStatus},
};
use crate::{
    auth::{db::User, domain::Role},
    error::{AppError, Result, WriteError},
    history::{self, domain::Change},
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
        .route("/incidents/{reference}/timeline/{id}/delete", post(handlers::delete_event))
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
    pool: &PgPool,
    incident_id: Uuid,
    events: &[EventFields],
    author: &User,
) -> Result<Vec<Uuid>> {
    let mut tx = pool.begin().await?;
    let mut ids = Vec::with_capacity(events.len());
    let mut changes = Vec::with_capacity(events.len());
    for fields in events {
        let id = db::insert_event(&mut *tx, incident_id, fields, author.id).await?;
        let event = db::find_event(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
        changes.push(Change { field: "timeline".into(), old: String::new(), new: event.history_text() });
        ids.push(id);
    }
    let summary = match events.len() {
        1 => "Added a timeline event".to_owned(),
        n => format!("Added {n} timeline events"),
    };
    history::db::record_part(&mut tx, incident_id, author.id, &summary, &changes).await?;
    tx.commit().await?;
    Ok(ids)
}

/// Saves new fields for an event of `incident_id`, if it is still at `version`.
pub async fn edit_event(
    pool: &PgPool,
    incident_id: Uuid,
    id: Uuid,
    version: i32,
    fields: &EventFields,
    author: &User,
) -> std::result::Result<TimelineEvent, WriteError<TimelineEvent>> {
    let mut tx = pool.begin().await?;
    let current = db::lock_event(&mut *tx, id)
        .await?
        .filter(|e| e.incident_id == incident_id)
        .ok_or(AppError::NotFound)?;
    if current.version != version {
        return Err(WriteError::Stale(Box::new(current)));
    }
    db::save_event(&mut *tx, id, fields).await?;
    let saved = db::find_event(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    if saved.history_text() != current.history_text() {
        let summary = match (current.hypothesis_status, saved.hypothesis_status) {
            (Some(before), Some(after)) if before != after && saved.body == current.body => {
                format!("Marked a hypothesis {after}")
            }
            _ => "Edited a timeline event".to_owned(),
        };
        let change =
            Change { field: "timeline".into(), old: current.history_text(), new: saved.history_text() };
        history::db::record_part(&mut tx, incident_id, author.id, &summary, &[change]).await?;
    }
    tx.commit().await?;
    Ok(saved)
}

/// Changes only a hypothesis's status.
pub async fn set_hypothesis_status(
    pool: &PgPool,
    incident_id: Uuid,
    id: Uuid,
    version: i32,
    status: HypothesisStatus,
    author: &User,
) -> std::result::Result<TimelineEvent, WriteError<TimelineEvent>> {
    let event =
        db::find_event(pool, id).await?.filter(|e| e.incident_id == incident_id).ok_or(AppError::NotFound)?;
    if event.hypothesis_status.is_none() {
        return Err(WriteError::Failed(AppError::Unprocessable("Only a hypothesis has a status.".into())));
    }
    let fields = EventFields { hypothesis_status: Some(status), ..event.fields() };
    edit_event(pool, incident_id, id, version, &fields, author).await
}

/// Deletes one event of `incident_id`, and only it.
pub async fn remove_event(pool: &PgPool, incident_id: Uuid, id: Uuid, author: &User) -> Result<()> {
    let mut tx = pool.begin().await?;
    let event = db::lock_event(&mut *tx, id)
        .await?
        .filter(|e| e.incident_id == incident_id)
        .ok_or(AppError::NotFound)?;
    db::delete_event(&mut *tx, id).await?;
    let change = Change { field: "timeline".into(), old: event.history_text(), new: String::new() };
    history::db::record_part(&mut tx, incident_id, author.id, "Deleted a timeline event", &[change]).await?;
    tx.commit().await?;
    Ok(())
}
