//! Action items: what the team will do so it does not happen again, with
//! an owner, a due date and a link to the tracker; and the list of every
//! open item across incidents.

pub mod api;
pub mod db;
pub mod domain;
pub mod handlers;
pub mod open;
pub mod open_db;
pub mod part;

use axum::{
    Router, middleware,
    routing::{delete, get, patch, post},
};
use uuid::Uuid;

use self::{db::ActionItem, domain::ActionItemFields};
use crate::{
    auth::{db::User, domain::Role},
    error::{Result, WriteError},
    incidents::{revision, versioned},
    state::AppState,
    web::require_role,
};

/// Pages: everyone reads the open list; editors change items.
pub fn router() -> Router<AppState> {
    let readers = Router::new()
        .route("/action-items", get(open::list_open_items))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let editors = Router::new()
        .route("/incidents/{reference}/action_items", post(handlers::create_item))
        .route(
            "/incidents/{reference}/action_items/{id}/edit",
            get(handlers::edit_item_form).post(handlers::update_item),
        )
        .route(
            "/incidents/{reference}/action_items/{id}/delete",
            get(handlers::confirm_delete_item).post(handlers::delete_item),
        )
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
    state: &AppState,
    incident_id: Uuid,
    fields: &ActionItemFields,
    author: &User,
) -> Result<ActionItem> {
    let mut tx = state.pool.begin().await?;
    let item = db::insert_item(&mut *tx, incident_id, fields).await?;
    let changes = [versioned::added(&item)];
    let summary = "Added an action item";
    revision::record_part(&mut tx, &state.document, incident_id, author.id, summary, &changes).await?;
    tx.commit().await?;
    Ok(item)
}

/// Saves an item (of `incident`, when given) if it is still at `version`.
pub async fn edit_item(
    state: &AppState,
    incident: Option<Uuid>,
    id: Uuid,
    version: i32,
    fields: &ActionItemFields,
    author: &User,
) -> std::result::Result<ActionItem, WriteError<ActionItem>> {
    versioned::edit(state, incident, id, version, fields, author, |before: &ActionItem, after| {
        if after.status != before.status {
            format!("Marked an action item {}", after.status.label())
        } else {
            "Edited an action item".to_owned()
        }
    })
    .await
}

/// Deletes one item (of `incident`, when given).
pub async fn remove_item(state: &AppState, incident: Option<Uuid>, id: Uuid, author: &User) -> Result<()> {
    versioned::remove::<ActionItem>(state, incident, id, author, "Deleted an action item").await?;
    Ok(())
}
