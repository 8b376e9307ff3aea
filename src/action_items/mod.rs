//! Action items: what the team will do so it does not happen again, with
//! an owner, a due date and a link to the tracker; and the list of every
//! open item across incidents.

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

use self::{db::ActionItem, domain::ActionItemFields};
use crate::{
    auth::{db::User, domain::Role},
    error::{AppError, Result, WriteError},
    history::{self, domain::Change},
    state::AppState,
    web::require_role,
};

/// Pages: everyone reads the open list; editors change items.
pub fn router() -> Router<AppState> {
    let readers = Router::new()
        .route("/action-items", get(handlers::list_open_items))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let editors = Router::new()
        .route("/incidents/{reference}/action_items", post(handlers::create_item))
        .route(
            "/incidents/{reference}/action_items/{id}/edit",
            get(handlers::edit_item_form).post(handlers::update_item),
        )
        .route("/incidents/{reference}/action_items/{id}/delete", post(handlers::delete_item))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    readers.merge(editors)
}

/// API routes, mounted under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/action_items", post(api::create_item))
        .route("/action_items/{id}", patch(api::update_item).merge(delete(api::delete_item)))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role))
}

/// Adds an item and records the revision.
pub async fn add_item(
    pool: &PgPool,
    incident_id: Uuid,
    fields: &ActionItemFields,
    author: &User,
) -> Result<ActionItem> {
    let mut tx = pool.begin().await?;
    let id = db::insert_item(&mut *tx, incident_id, fields).await?;
    let item = db::find_item(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    let change = Change { field: "action_items".into(), old: String::new(), new: item.history_text() };
    history::db::record_part(&mut tx, incident_id, author.id, "Added an action item", &[change]).await?;
    tx.commit().await?;
    Ok(item)
}

/// Saves an item of `incident_id` if it is still at `version`.
pub async fn edit_item(
    pool: &PgPool,
    incident_id: Uuid,
    id: Uuid,
    version: i32,
    fields: &ActionItemFields,
    author: &User,
) -> std::result::Result<ActionItem, WriteError<ActionItem>> {
    let mut tx = pool.begin().await?;
    let current = db::lock_item(&mut *tx, id)
        .await?
        .filter(|i| i.incident_id == incident_id)
        .ok_or(AppError::NotFound)?;
    if current.version != version {
        return Err(WriteError::Stale(Box::new(current)));
    }
    db::save_item(&mut *tx, id, fields).await?;
    let saved = db::find_item(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    if saved.history_text() != current.history_text() {
        let summary = if saved.status != current.status {
            format!("Marked an action item {}", saved.status.label())
        } else {
            "Edited an action item".to_owned()
        };
        let change =
            Change { field: "action_items".into(), old: current.history_text(), new: saved.history_text() };
        history::db::record_part(&mut tx, incident_id, author.id, &summary, &[change]).await?;
    }
    tx.commit().await?;
    Ok(saved)
}

/// Deletes one item of `incident_id`.
pub async fn remove_item(pool: &PgPool, incident_id: Uuid, id: Uuid, author: &User) -> Result<()> {
    let mut tx = pool.begin().await?;
    let item = db::lock_item(&mut *tx, id)
        .await?
        .filter(|i| i.incident_id == incident_id)
        .ok_or(AppError::NotFound)?;
    db::delete_item(&mut *tx, id).await?;
    let change = Change { field: "action_items".into(), old: item.history_text(), new: String::new() };
    history::db::record_part(&mut tx, incident_id, author.id, "Deleted an action item", &[change]).await?;
    tx.commit().await?;
    Ok(())
}
