//! Incident pages.

use axum::{
    extract::{Extension, Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use super::{
    db,
    domain::{NewIncidentInput, Severity},
    views::{IncidentListPage, IncidentPage, NewIncidentPage},
};
use crate::{
    error::{AppError, Result, render},
    state::AppState,
    web::{CurrentUser, Flash, Form, FormErrors, PageCtx, session},
};

const PER_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PageQuery {
    page: Option<i64>,
}

/// `GET /incidents`
#[tracing::instrument(skip_all)]
pub async fn list_incidents(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(query): Query<PageQuery>,
) -> Result<Html<String>> {
    let page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let (incidents, total) = db::list_incidents(&state.pool, PER_PAGE, (page - 1) * PER_PAGE).await?;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    render(&IncidentListPage { ctx, incidents, total, page, pages })
}

/// `GET /incidents/new`
#[tracing::instrument(skip_all)]
pub async fn new_incident_form(ctx: PageCtx) -> Result<Html<String>> {
    let now = time::OffsetDateTime::now_utc();
    let format = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let form = NewIncidentInput {
        severity: Severity::Sev3.to_string(),
        started_at: now.format(&format).unwrap_or_default(),
        ..Default::default()
    };
    render(&NewIncidentPage { ctx, form, errors: FormErrors::default(), severities: Severity::ALL })
}

/// `POST /incidents/new`
#[tracing::instrument(skip_all)]
pub async fn create_incident(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    ctx: PageCtx,
    Form(form): Form<NewIncidentInput>,
) -> Result<Response> {
    let fields = match form.parse() {
        Ok(fields) => fields,
        Err(errors) => {
            let page = NewIncidentPage { ctx, form, errors, severities: Severity::ALL };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let incident = db::insert_incident(&state.pool, &fields, user.0.id).await?;
    tracing::info!(incident = %incident.reference, "incident created");
    session::push_flash(&session, Flash::success(format!("{} is open as a draft.", incident.reference)))
        .await?;
    Ok(Redirect::to(&format!("/incidents/{}", incident.reference)).into_response())
}

/// `GET /incidents/{reference}`, by `INC-42` or `42`.
#[tracing::instrument(skip_all)]
pub async fn show_incident(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(reference): Path<String>,
) -> Result<Html<String>> {
    let number = reference
        .strip_prefix("INC-")
        .unwrap_or(&reference)
        .parse::<i32>()
        .map_err(|_| AppError::NotFound)?;
    let incident = db::find_incident_by_number(&state.pool, number).await?.ok_or(AppError::NotFound)?;
    render(&IncidentPage { ctx, incident })
}
