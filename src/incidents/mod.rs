//! Incidents: the postmortems. Opening, reading and editing them, with
//! every write checked against the version it was based on.

pub mod api;
pub mod db;
pub mod deletion;
pub mod document;
pub mod domain;
pub mod figures;
pub mod handlers;
pub mod listing;
pub mod page_cache;
pub mod parts;
pub mod path;
pub mod report;
pub mod revision;
pub mod versioned;
pub mod views;

use axum::{
    Router, middleware,
    routing::{get, post},
};
use sqlx::PgConnection;
use uuid::Uuid;

use self::{
    db::Incident,
    document::Document,
    domain::{Field, NewIncidentFields, Status},
    revision::Change,
};
use crate::{
    auth::{db::User, domain::Role},
    error::AppError,
    state::AppState,
    web::{FormErrors, require_role},
};

/// Pages: reading needs a viewer, writing an editor.
pub fn router() -> Router<AppState> {
    let read = Router::new()
        .route("/incidents/{reference}", get(handlers::show_incident))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let write = Router::new()
        .route("/incidents/new", get(handlers::new_incident_form).post(handlers::create_incident))
        .route(
            "/incidents/{reference}/edit/{section}",
            get(handlers::edit_section_form).post(handlers::update_section),
        )
        .route("/incidents/{reference}/status", post(handlers::update_status))
        .route("/incidents/{reference}/milestones/set", post(handlers::set_milestone))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    let admin = Router::new()
        .route(
            "/incidents/{reference}/delete",
            get(deletion::delete_incident_form).post(deletion::delete_incident),
        )
        .route_layer(middleware::from_fn_with_state(Role::Admin, require_role));
    read.merge(write).merge(admin)
}

/// API routes, mounted under `/api/v1` behind bearer tokens.
pub fn api_router() -> Router<AppState> {
    let read = Router::new()
        .route("/incidents/{id}", get(api::show_incident))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let write = Router::new()
        .route("/incidents", post(api::create_incident))
        .route("/incidents/{id}", axum::routing::patch(api::update_incident))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    read.merge(write)
}

/// Opens a postmortem and records it as the first revision.
pub async fn open_incident(
    state: &AppState,
    fields: &NewIncidentFields,
    author: &User,
) -> Result<Incident, AppError> {
    let mut tx = state.pool.begin().await?;
    let incident = db::insert_incident(&mut *tx, fields, author.id).await?;
    let opened = "Opened the postmortem";
    revision::record(&mut tx, &state.document, incident.id, author.id, opened, &[], false).await?;
    tx.commit().await?;
    Ok(incident)
}

/// Why an edit was not saved.
#[derive(Debug)]
pub enum EditError {
    /// The edit was based on an older version: nothing was saved. Holds
    /// the incident as it now is.
    Stale(Box<Incident>),
    /// Some fields did not parse: nothing was saved.
    Invalid(FormErrors),
    Failed(AppError),
}

impl From<AppError> for EditError {
    fn from(err: AppError) -> Self {
        EditError::Failed(err)
    }
}

impl From<sqlx::Error> for EditError {
    fn from(err: sqlx::Error) -> Self {
        EditError::Failed(err.into())
    }
}

/// Applies `edits` to the incident if it is still at `base_version`, and
/// records the revision. Nothing is written unless every field parses and
/// the version matches; an edit that changes nothing writes nothing.
pub async fn edit_incident(
    state: &AppState,
    id: Uuid,
    base_version: i32,
    edits: &[(Field, String)],
    author: &User,
) -> Result<Incident, EditError> {
    let mut tx = state.pool.begin().await?;
    // Locked until commit: two saves of the same version cannot both pass.
    let current = db::lock_incident(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    if current.version != base_version {
        return Err(EditError::Stale(Box::new(current)));
    }
    let saved = apply_edits(&mut tx, &state.document, current, edits, author.id).await?;
    tx.commit().await?;
    tracing::info!(incident = %saved.reference, version = saved.version, "incident edited");
    Ok(saved)
}

/// Applies `edits` to `current`, locked in the transaction `tx`, and
/// records the revision. Nothing is written unless every field parses; an
/// edit that changes nothing writes nothing and returns `current`.
pub async fn apply_edits(
    tx: &mut PgConnection,
    document: &Document,
    current: Incident,
    edits: &[(Field, String)],
    author_id: Uuid,
) -> Result<Incident, EditError> {
    let mut next = current.clone();
    let mut errors = FormErrors::default();
    for (field, raw) in edits {
        if let Err(message) = next.set(*field, raw) {
            errors.add(field.name(), message);
        }
    }
    if errors.is_empty()
        && let Err((field, message)) = next.check_milestones()
    {
        errors.add(field.name(), message);
    }
    if errors.is_empty() && next.status != current.status {
        let refusals = document.refusals(&mut *tx, &current, next.status).await?;
        if !refusals.is_empty() {
            let to = next.status.label();
            errors.add(Field::Status.name(), format!("It cannot be {to} yet: {}.", refusals.join("; ")));
        }
    }
    if !errors.is_empty() {
        return Err(EditError::Invalid(errors));
    }
    let changes: Vec<Change> = Field::ALL
        .into_iter()
        .filter(|field| current.text_of(*field) != next.text_of(*field))
        .map(|field| Change {
            field: field.name().to_owned(),
            old: current.text_of(field),
            new: next.text_of(field),
        })
        .collect();
    if changes.is_empty() {
        return Ok(current);
    }
    let saved = db::save_incident(&mut *tx, &next).await?;
    let summary = describe(&current, &saved, &changes);
    let after_publication = current.status == Status::Published;
    revision::record(&mut *tx, document, current.id, author_id, &summary, &changes, after_publication)
        .await?;
    if saved.status != current.status {
        document.moved(&mut *tx, &saved, current.status, author_id).await?;
    }
    Ok(saved)
}

/// "Edited summary and impact", "Moved to in review".
fn describe(before: &Incident, after: &Incident, changes: &[Change]) -> String {
    if before.status != after.status && changes.len() == 1 {
        return format!("Moved to {}", after.status.label());
    }
    let names: Vec<String> = changes
        .iter()
        .filter_map(|change| Field::from_name(&change.field))
        .map(|field| field.label().to_lowercase())
        .collect();
    match names.as_slice() {
        [] => "Edited".to_owned(),
        [one] => format!("Edited {one}"),
        [rest @ .., last] => format!("Edited {} and {last}", rest.join(", ")),
    }
}
