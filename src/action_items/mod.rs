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
    notify::{self, Actor, Event, Kind},
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
    if let Some(owner) = item.owner_id {
        tell_owner(&mut tx, state, &item, owner, author).await?;
    }
    tx.commit().await?;
    state.webhooks.wake();
    Ok(item)
}

/// Tells `owner` that `item` is now theirs (nobody is told of their own).
async fn tell_owner(
    tx: &mut sqlx::PgConnection,
    state: &AppState,
    item: &ActionItem,
    owner: Uuid,
    by: &User,
) -> Result<()> {
    let incident = crate::incidents::db::find_incident(&mut *tx, item.incident_id)
        .await?
        .ok_or(crate::error::AppError::NotFound)?;
    let text = format!("{} gave you an action item on {}: {}", by.name, incident.reference, item.title);
    let event = Event {
        kind: Kind::ActionItemAssigned,
        incident: &incident,
        actor: Some(&Actor::from(by)),
        recipients: vec![owner],
        text,
        path: format!("/incidents/{}#action-items", incident.reference),
    };
    notify::emit(tx, &state.origin, &event).await
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
    let mut reassigned = None;
    let saved =
        versioned::edit(state, incident, id, version, fields, author, |before: &ActionItem, after| {
            if after.owner_id != before.owner_id {
                reassigned = after.owner_id;
            }
            if after.status != before.status {
                format!("Marked an action item {}", after.status.label())
            } else {
                "Edited an action item".to_owned()
            }
        })
        .await?;
    // Told once the change has landed; a failure to tell is not the edit's.
    if let Some(owner) = reassigned {
        let told = async {
            let mut tx = state.pool.begin().await?;
            tell_owner(&mut tx, state, &saved, owner, author).await?;
            tx.commit().await?;
            state.webhooks.wake();
            Ok::<_, crate::error::AppError>(())
        };
        if let Err(err) = told.await {
            tracing::warn!(error = %err, item = %saved.id, "the new owner of an action item was not told");
        }
    }
    Ok(saved)
}

/// Deletes one item (of `incident`, when given).
pub async fn remove_item(state: &AppState, incident: Option<Uuid>, id: Uuid, author: &User) -> Result<()> {
    versioned::remove::<ActionItem>(state, incident, id, author, "Deleted an action item").await?;
    Ok(())
}
