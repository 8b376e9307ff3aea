//! Deleting an incident, for admins: a confirmation page that asks for the
//! reference to be typed, then one transaction that removes the incident
//! with everything that belongs to it and records who deleted what.

use askama::Template;
use axum::{
    extract::{Extension, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use sqlx::{Postgres, Transaction};
use tower_sessions::Session;
use uuid::Uuid;

use super::{db::Incident, path::IncidentPath};
use crate::{
    auth::db::User,
    error::{AppError, Result, render},
    state::AppState,
    web::{
        CurrentUser, Flash, Form, PageCtx,
        audit::{self, Action, Actor, AuditEvent},
        session,
    },
};

#[derive(Template)]
#[template(path = "incidents/delete.html")]
pub struct DeleteIncidentPage {
    pub ctx: PageCtx,
    pub incident: Incident,
    /// What the admin typed, kept when the form is shown again.
    pub typed: String,
    pub error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct DeleteForm {
    /// The incident's reference, typed by hand to confirm.
    confirm: String,
}

/// Whether `typed` names the incident `reference` (`INC-7`, any case).
fn confirms(typed: &str, reference: &str) -> bool {
    typed.trim().eq_ignore_ascii_case(reference)
}

/// `GET /incidents/{reference}/delete`
#[tracing::instrument(skip_all)]
pub async fn delete_incident_form(
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
) -> Result<Html<String>> {
    render(&DeleteIncidentPage { ctx, incident, typed: String::new(), error: None })
}

/// `POST /incidents/{reference}/delete`
#[tracing::instrument(skip_all)]
pub async fn delete_incident(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    actor: Actor,
    session: Session,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    Form(form): Form<DeleteForm>,
) -> Result<Response> {
    if !confirms(&form.confirm, &incident.reference) {
        let error = Some(format!("Type {} to confirm. Nothing was deleted.", incident.reference));
        let page = DeleteIncidentPage { ctx, incident, typed: form.confirm, error };
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let mut tx = state.pool.begin().await?;
    let deleted = delete(&mut tx, incident.id).await?.ok_or(AppError::NotFound)?;
    record_deletion(&mut tx, &deleted, &user.0).await?;
    let event = AuditEvent::new(&actor, Action::IncidentDeleted)
        .target(incident.reference.clone())
        .detail(serde_json::json!({ "incident_id": deleted.id, "title": deleted.title }));
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    tracing::info!(
        incident = %incident.reference,
        id = %deleted.id,
        deleted_by = %user.0.id,
        "incident deleted"
    );
    session::push_flash(&session, Flash::success(format!("{} deleted.", incident.reference))).await?;
    Ok(Redirect::to("/incidents").into_response())
}

/// The incident as it was when it was deleted.
#[derive(Debug, sqlx::FromRow)]
struct DeletedIncident {
    id: Uuid,
    number: i32,
    title: String,
}

/// Deletes the incident; its timeline, causes, action items, revisions and
/// page stamp go with it (`on delete cascade` on each of their keys).
/// `None` if it was already gone.
#[tracing::instrument(skip_all)]
async fn delete(tx: &mut Transaction<'_, Postgres>, id: Uuid) -> sqlx::Result<Option<DeletedIncident>> {
    sqlx::query_as::<_, DeletedIncident>("delete from incident where id = $1 returning id, number, title")
        .bind(id)
        .fetch_optional(&mut **tx)
        .await
}

#[tracing::instrument(skip_all)]
async fn record_deletion(
    tx: &mut Transaction<'_, Postgres>,
    deleted: &DeletedIncident,
    by: &User,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into incident_deletion (incident_id, incident_number, title, deleted_by, deleted_by_name) \
         values ($1, $2, $3, $4, $5)",
    )
    .bind(deleted.id)
    .bind(deleted.number)
    .bind(&deleted.title)
    .bind(by.id)
    .bind(&by.name)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::confirms;

    #[test]
    fn only_the_incidents_own_reference_confirms() {
        for typed in ["INC-7", "inc-7", "  INC-7 "] {
            assert!(confirms(typed, "INC-7"), "{typed:?}");
        }
        for typed in ["", "7", "INC-77", "INC-1", "yes", "INC-"] {
            assert!(!confirms(typed, "INC-7"), "{typed:?}");
        }
    }
}
