//! Causes of an incident: root, trigger and contributing factors, each
//! with a category from a shared taxonomy and an ordered "why" chain.

pub mod api;
pub mod db;
pub mod domain;
pub mod handlers;

use axum::{
    Router, middleware,
    routing::{delete, get, patch, post},
};
use sqlx::PgPool;
use uuid::Uuid;

use self::{db::Cause, domain::CauseFields};
use crate::{
    auth::{db::User, domain::Role},
    error::{AppError, Result, WriteError},
    history::{self, domain::Change},
    state::AppState,
    web::require_role,
};

/// Pages: editors change causes; admins grow the taxonomy.
pub fn router() -> Router<AppState> {
    let editors = Router::new()
        .route("/incidents/{reference}/causes", post(handlers::create_cause))
        .route(
            "/incidents/{reference}/causes/{id}/edit",
            get(handlers::edit_cause_form).post(handlers::update_cause),
        )
        .route("/incidents/{reference}/causes/{id}/delete", post(handlers::delete_cause))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    let admins = Router::new()
        .route("/admin/categories", get(handlers::list_categories).post(handlers::create_category))
        .route_layer(middleware::from_fn_with_state(Role::Admin, require_role));
    editors.merge(admins)
}

/// API routes, mounted under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/causes", post(api::create_cause))
        .route("/causes/{id}", patch(api::update_cause).merge(delete(api::delete_cause)))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role))
}

/// Adds a cause and records the revision.
pub async fn add_cause(
    pool: &PgPool,
    incident_id: Uuid,
    fields: &CauseFields,
    author: &User,
) -> Result<Cause> {
    let mut tx = pool.begin().await?;
    let cause = db::insert_cause(&mut *tx, incident_id, fields).await?;
    let change = Change { field: "causes".into(), old: String::new(), new: cause.history_text() };
    let summary = format!("Added a {}", cause.kind.label().to_lowercase());
    history::db::record_part(&mut tx, incident_id, author.id, &summary, &[change]).await?;
    tx.commit().await?;
    Ok(cause)
}

/// Saves a cause of `incident_id` if it is still at `version`.
pub async fn edit_cause(
    pool: &PgPool,
    incident_id: Uuid,
    id: Uuid,
    version: i32,
    fields: &CauseFields,
    author: &User,
) -> std::result::Result<Cause, WriteError<Cause>> {
    let mut tx = pool.begin().await?;
    let current = db::lock_cause(&mut *tx, id)
        .await?
        .filter(|c| c.incident_id == incident_id)
        .ok_or(AppError::NotFound)?;
    if current.version != version {
        return Err(WriteError::Stale(Box::new(current)));
    }
    let saved = db::save_cause(&mut *tx, id, fields).await?;
    if saved.history_text() != current.history_text() {
        let change =
            Change { field: "causes".into(), old: current.history_text(), new: saved.history_text() };
        history::db::record_part(&mut tx, incident_id, author.id, "Edited a cause", &[change]).await?;
    }
    tx.commit().await?;
    Ok(saved)
}

/// Deletes one cause of `incident_id`.
pub async fn remove_cause(pool: &PgPool, incident_id: Uuid, id: Uuid, author: &User) -> Result<()> {
    let mut tx = pool.begin().await?;
    let cause = db::lock_cause(&mut *tx, id)
        .await?
        .filter(|c| c.incident_id == incident_id)
        .ok_or(AppError::NotFound)?;
    db::delete_cause(&mut *tx, id).await?;
    let change = Change { field: "causes".into(), old: cause.history_text(), new: String::new() };
    history::db::record_part(&mut tx, incident_id, author.id, "Deleted a cause", &[change]).await?;
    tx.commit().await?;
    Ok(())
}
