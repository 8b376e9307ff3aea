//! Incident pages.

use axum::{
    extract::{Extension, Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;

use std::collections::HashMap;

use super::{
    EditError,
    db::{self, Incident},
    document::{self, EditMode, PartRequest},
    domain::{Field, NewIncidentInput, Section, Severity},
    page_cache::PageKey,
    path::{IncidentPath, IncidentRef},
    revision,
    views::{Conflict, EditSectionPage, FieldInput, NewIncidentPage, input_in_zone},
};
use crate::{
    error::{AppError, Result, render},
    state::AppState,
    web::{CurrentUser, Flash, Form, FormErrors, PageCtx, form::parse_version, session},
};

/// `GET /incidents/new`
#[tracing::instrument(skip_all)]
pub async fn new_incident_form(State(state): State<AppState>, ctx: PageCtx) -> Result<Html<String>> {
    let form = NewIncidentInput {
        severity: Severity::Sev3.to_string(),
        started_at: ctx.zone.input(&time::OffsetDateTime::now_utc()),
        ..Default::default()
    };
    let known = db::known_labels(&state.pool).await?;
    render(&NewIncidentPage { ctx, form, errors: FormErrors::default(), severities: Severity::ALL, known })
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
    let zone = ctx.zone.clone();
    let parsed = form.parse(&|raw: &str| zone.read_local(raw));
    let fields = match parsed {
        Ok(fields) => fields,
        Err(errors) => {
            let known = db::known_labels(&state.pool).await?;
            let page = NewIncidentPage { ctx, form, errors, severities: Severity::ALL, known };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    let incident = super::open_incident(&state, &fields, &user.0).await?;
    tracing::info!(incident = %incident.reference, "incident created");
    session::push_flash(&session, Flash::success(format!("{} is open as a draft.", incident.reference)))
        .await?;
    Ok(Redirect::to(&format!("/incidents/{}", incident.reference)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ShowQuery {
    /// Switches what the reader edits: `all`, a part's key, or `off`.
    edit: Option<String>,
}

/// `GET /incidents/{reference}`: the whole postmortem as one document, in
/// read mode unless the reader switched to editing it (`?edit=all`, or
/// `?edit=<section>` for one section; `?edit=off` to read again).
#[tracing::instrument(skip_all)]
pub async fn show_incident(
    State(state): State<AppState>,
    session: Session,
    ctx: PageCtx,
    Path(reference): Path<String>,
    Query(query): Query<ShowQuery>,
) -> Result<Response> {
    let number = match IncidentRef::parse(&reference) {
        Some(IncidentRef::Number(number)) => number,
        _ => return Err(AppError::NotFound),
    };
    let (incident, stamp) = db::find_for_page(&state.pool, number).await?.ok_or(AppError::NotFound)?;
    if let Some(scope) = query.edit {
        return switch_mode(&state, &session, &ctx, &incident, &scope).await;
    }
    let mode = EditMode::read(&session).await?;
    // A page with a flash message on it is shown once, so it is not kept.
    let reader = ctx.user.as_ref().filter(|_| ctx.flashes.is_empty()).map(|user| user.id);
    let Some(reader) = reader else {
        return Ok(document::render_page(&state, ctx, &mode, incident, None).await?.into_response());
    };
    let editing = if ctx.is_editor() { mode.scope_on(incident.id).to_owned() } else { String::new() };
    let key = PageKey {
        incident: incident.id,
        reader,
        path: ctx.path.clone(),
        today: ctx.zone.date_of(&time::OffsetDateTime::now_utc()),
        editing,
        unread: ctx.unread,
    };
    if let Some(page) = state.pages.get(&key, stamp, &ctx.csrf) {
        return Ok(Html(page).into_response());
    }
    let _turn = state.pages.turn(&key).await;
    if let Some(page) = state.pages.get(&key, stamp, &ctx.csrf) {
        return Ok(Html(page).into_response());
    }
    let mut ctx = ctx;
    let csrf = std::mem::replace(&mut ctx.csrf, state.pages.marker().to_owned());
    let Html(rendered) = document::render_page(&state, ctx, &mode, incident, None).await?;
    Ok(Html(state.pages.keep(key, stamp, &rendered, &csrf)).into_response())
}

/// Starts editing the whole postmortem or one part, or goes back to
/// reading, and shows the page at that part.
async fn switch_mode(
    state: &AppState,
    session: &Session,
    ctx: &PageCtx,
    incident: &Incident,
    scope: &str,
) -> Result<Response> {
    let scope = match scope {
        "off" | "" => "",
        EditMode::ALL => EditMode::ALL,
        key if state.document.has_part(key) => key,
        _ => return Err(AppError::NotFound),
    };
    if ctx.is_editor() {
        EditMode::set(session, incident.id, scope).await?;
    }
    let anchor = if scope.is_empty() || scope == EditMode::ALL { String::new() } else { format!("#{scope}") };
    Ok(Redirect::to(&format!("/incidents/{}{anchor}", incident.reference)).into_response())
}

/// `GET /incidents/{reference}/edit/{section}`
#[tracing::instrument(skip_all)]
pub async fn edit_section_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    Path((_, section)): Path<(String, String)>,
) -> Result<Html<String>> {
    let section = Section::parse(&section).ok_or(AppError::NotFound)?;
    let fields = section.fields().iter().map(|field| FieldInput::of(&incident, *field, &ctx.zone)).collect();
    let version = incident.version;
    let known = db::known_labels(&state.pool).await?;
    render(&EditSectionPage { ctx, incident, section, fields, version, conflict: None, known })
}

/// `POST /incidents/{reference}/edit/{section}`: saved only if nobody saved
/// in between; otherwise the newer text is shown beside the user's to merge.
#[tracing::instrument(skip_all)]
pub async fn update_section(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    Path((_, section)): Path<(String, String)>,
    request: PartRequest,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    let section = Section::parse(&section).ok_or(AppError::NotFound)?;
    let ctx = request.ctx.clone();
    let version = parse_version(form.get("version").map_or("", String::as_str))?;
    let typed = |field: Field| form.get(field.name()).cloned().unwrap_or_default();
    let zone = ctx.zone.clone();
    // Moments are typed in the writer's zone; the incident keeps them in UTC.
    let mut zone_errors = FormErrors::default();
    let mut edits: Vec<(Field, String)> = Vec::new();
    for field in section.fields() {
        let raw = typed(*field);
        if field.is_moment() && !raw.trim().is_empty() {
            match zone.read_local(&raw) {
                Ok(at) => edits.push((*field, crate::web::clock::moment_text(&Some(at)))),
                Err(message) => zone_errors.add(field.name(), message),
            }
        } else {
            edits.push((*field, raw));
        }
    }
    let outcome = if zone_errors.is_empty() {
        super::edit_incident(&state, incident.id, version, &edits, &user.0).await
    } else {
        Err(EditError::Invalid(zone_errors))
    };
    match outcome {
        Ok(saved) => {
            // Saved whatever it says; wording that blames is pointed out after.
            let written: Vec<&str> = edits
                .iter()
                .filter(|(field, _)| field.is_markdown())
                .map(|(_, text)| text.as_str())
                .collect();
            let flash = match crate::wording::after_save(&state, &written).await {
                Some(notes) => notes,
                None => Flash::success(format!("{} saved.", section.title())),
            };
            document::saved(&state, request, &saved, section.name(), flash).await
        }
        Err(EditError::Invalid(errors)) => {
            let fields = section
                .fields()
                .iter()
                .map(|field| FieldInput {
                    value: typed(*field),
                    error: errors.get(field.name()).map(str::to_owned),
                    ..FieldInput::of(&incident, *field, &zone)
                })
                .collect();
            let known = db::known_labels(&state.pool).await?;
            let page = EditSectionPage { ctx, incident, section, fields, version, conflict: None, known };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(EditError::Stale(current)) => {
            let current = *current;
            let fields = section
                .fields()
                .iter()
                .map(|field| {
                    let theirs = input_in_zone(&current, *field, &zone);
                    let mine = typed(*field);
                    FieldInput {
                        theirs: (theirs != mine).then_some(theirs),
                        value: mine,
                        ..FieldInput::of(&current, *field, &zone)
                    }
                })
                .collect();
            let last = revision::list(&state.pool, current.id).await?.into_iter().next();
            let by = last.and_then(|revision| revision.author_name).unwrap_or_else(|| "Someone".into());
            let conflict = Conflict { by, version: current.version };
            // The form now carries the newer version: saving it again merges.
            let version = current.version;
            let known = db::known_labels(&state.pool).await?;
            let page = EditSectionPage {
                ctx,
                incident: current,
                section,
                fields,
                version,
                conflict: Some(conflict),
                known,
            };
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(EditError::Failed(err)) => Err(err),
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct StatusForm {
    status: String,
    version: String,
}

/// `POST /incidents/{reference}/status`: draft -> in review -> published.
#[tracing::instrument(skip_all)]
pub async fn update_status(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    IncidentPath(incident): IncidentPath,
    Form(form): Form<StatusForm>,
) -> Result<Response> {
    let version = parse_version(&form.version)?;
    let edit = [(Field::Status, form.status)];
    let flash = match super::edit_incident(&state, incident.id, version, &edit, &user.0).await {
        Ok(saved) => Flash::success(format!("{} is now {}.", saved.reference, saved.status.label())),
        Err(EditError::Stale(_)) => Flash::error(
            "Someone changed this postmortem a moment ago, so it was not moved. Check it and try again.",
        ),
        Err(EditError::Invalid(errors)) => {
            Flash::error(errors.get("status").unwrap_or("That status is not allowed.").to_owned())
        }
        Err(EditError::Failed(err)) => return Err(err),
    };
    session::push_flash(&session, flash).await?;
    Ok(Redirect::to(&format!("/incidents/{}", incident.reference)).into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct MilestoneForm {
    field: String,
    at: String,
    version: String,
}

/// `POST /incidents/{reference}/milestones/set`: one milestone, set from a
/// pasted event the page offered it from.
#[tracing::instrument(skip_all)]
pub async fn set_milestone(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    request: PartRequest,
    Form(form): Form<MilestoneForm>,
) -> Result<Response> {
    let field = Field::from_name(&form.field)
        .filter(|field| Section::Milestones.fields().contains(field) && *field != Field::StartedAt)
        .ok_or_else(|| {
            AppError::Unprocessable("Only detected, mitigated and resolved are offered.".into())
        })?;
    let version = parse_version(&form.version)?;
    let flash = match super::edit_incident(&state, incident.id, version, &[(field, form.at)], &user.0).await {
        Ok(_) => Flash::success(format!("{} set.", field.label())),
        Err(EditError::Stale(_)) => Flash::error(
            "Someone changed this postmortem a moment ago, so the milestone was not set. Check it and try again.",
        ),
        Err(EditError::Invalid(errors)) => Flash::error(errors.summary()),
        Err(EditError::Failed(err)) => return Err(err),
    };
    document::saved(&state, request, &incident, Section::Milestones.name(), flash).await
}
