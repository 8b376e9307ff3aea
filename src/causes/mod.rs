//! Causes of an incident: root, trigger and contributing factors, each
//! with a category from a shared taxonomy and an ordered "why" chain.

pub mod api;
pub mod db;
pub mod domain;
pub mod handlers;
pub mod part;

use axum::{
    Router, middleware,
    routing::{delete, get, patch, post},
};
use uuid::Uuid;

use self::{db::Cause, domain::CauseFields};
use crate::{
    auth::{db::User, domain::Role},
    error::{Result, WriteError},
    incidents::{revision, versioned},
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
        .route(
            "/incidents/{reference}/causes/{id}/delete",
            get(handlers::confirm_delete_cause).post(handlers::delete_cause),
        )
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
    state: &AppState,
    incident_id: Uuid,
    fields: &CauseFields,
    author: &User,
) -> Result<Cause> {
    let mut tx = state.pool.begin().await?;
    let cause = db::insert_cause(&mut *tx, incident_id, fields).await?;
    let summary = format!("Added a {}", cause.kind.label().to_lowercase());
    let changes = [versioned::added(&cause)];
    revision::record_part(&mut tx, &state.document, incident_id, author.id, &summary, &changes).await?;
    tx.commit().await?;
    Ok(cause)
}

/// Saves a cause (of `incident`, when given) if it is still at `version`.
pub async fn edit_cause(
    state: &AppState,
    incident: Option<Uuid>,
    id: Uuid,
    version: i32,
    fields: &CauseFields,
    author: &User,
) -> std::result::Result<Cause, WriteError<Cause>> {
    versioned::edit(state, incident, id, version, fields, author, |_: &Cause, _: &Cause| {
        "Edited a cause".to_owned()
    })
    .await
}

/// Deletes one cause (of `incident`, when given).
pub async fn remove_cause(state: &AppState, incident: Option<Uuid>, id: Uuid, author: &User) -> Result<()> {
    versioned::remove::<Cause>(state, incident, id, author, "Deleted a cause").await?;
    Ok(())
}
