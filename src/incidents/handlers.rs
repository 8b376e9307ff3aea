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
    domain::{Field, NewIncidentInput, Section, Severity},
    page_cache::PageKey,
    views::{
        Conflict, EditSectionPage, FieldInput, IncidentListPage, IncidentPage, NewIncidentPage, input_in_zone,
    },
};
use crate::{
    action_items, auth, causes,
    error::{AppError, Result, render},
    history,
    state::AppState,
    timeline,
    web::{CurrentUser, Flash, Form, FormErrors, PageCtx, form::parse_version, session},
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
    let listed = state.list_places.page(&state.pool, PER_PAGE, (page - 1) * PER_PAGE).await?;
    let total = listed.total;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    render(&IncidentListPage { ctx, incidents: listed.incidents, total, page, pages })
}

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
    let incident = super::open_incident(&state.pool, &fields, &user.0).await?;
    tracing::info!(incident = %incident.reference, "incident created");
    session::push_flash(&session, Flash::success(format!("{} is open as a draft.", incident.reference)))
        .await?;
    Ok(Redirect::to(&format!("/incidents/{}", incident.reference)).into_response())
}

/// The incident a path names, by `INC-42` or `42`.
pub async fn find_by_reference(state: &AppState, reference: &str) -> Result<Incident> {
    db::find_incident_by_number(&state.pool, number_of(reference)?).await?.ok_or(AppError::NotFound)
}

fn number_of(reference: &str) -> Result<i32> {
    reference.strip_prefix("INC-").unwrap_or(reference).parse::<i32>().map_err(|_| AppError::NotFound)
}

/// `GET /incidents/{reference}`: the whole postmortem as one document.
#[tracing::instrument(skip_all)]
pub async fn show_incident(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(reference): Path<String>,
) -> Result<Html<String>> {
    let (incident, stamp) =
        db::find_for_page(&state.pool, number_of(&reference)?).await?.ok_or(AppError::NotFound)?;
    // A page with a flash message on it is shown once, so it is not kept.
    let reader = ctx.user.as_ref().filter(|_| ctx.flashes.is_empty()).map(|user| user.id);
    let Some(reader) = reader else {
        return state.cpu.render(incident_page(&state, ctx, incident).await?).await;
    };
    let key = PageKey {
        incident: incident.id,
        reader,
        path: ctx.path.clone(),
        today: ctx.zone.date_of(&time::OffsetDateTime::now_utc()),
    };
    if let Some(page) = state.pages.get(&key, stamp, &ctx.csrf) {
        return Ok(Html(page));
    }
    let _turn = state.pages.turn(&key).await;
    if let Some(page) = state.pages.get(&key, stamp, &ctx.csrf) {
        return Ok(Html(page));
    }
    let mut ctx = ctx;
    let csrf = std::mem::replace(&mut ctx.csrf, state.pages.marker().to_owned());
    let Html(rendered) = state.cpu.render(incident_page(&state, ctx, incident).await?).await?;
    Ok(Html(state.pages.keep(key, stamp, &rendered, &csrf)))
}

/// The incident page with its timeline, ready to render or to fill in. Its
/// Markdown is rendered on the CPU pool, off the async workers.
pub async fn incident_page(state: &AppState, ctx: PageCtx, incident: Incident) -> Result<IncidentPage> {
    let events = timeline::db::list_events(&state.pool, incident.id).await?;
    let causes = causes::db::list_causes(&state.pool, incident.id).await?;
    let categories = causes::db::list_categories(&state.pool).await?;
    let items = action_items::db::list_for_incident(&state.pool, incident.id).await?;
    let owners = if ctx.is_editor() { auth::db::list_users(&state.pool).await? } else { Vec::new() };
    let after_publication = history::db::after_publication(&state.pool, incident.id).await?;
    let mut page = state
        .cpu
        .run(move || IncidentPage::new(ctx, incident, events, causes, categories, items, owners))
        .await?;
    page.after_publication = after_publication;
    Ok(page)
}

/// `GET /incidents/{reference}/edit/{section}`
#[tracing::instrument(skip_all)]
pub async fn edit_section_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((reference, section)): Path<(String, String)>,
) -> Result<Html<String>> {
    let section = Section::parse(&section).ok_or(AppError::NotFound)?;
    let incident = find_by_reference(&state, &reference).await?;
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
    session: Session,
    ctx: PageCtx,
    Path((reference, section)): Path<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response> {
    let section = Section::parse(&section).ok_or(AppError::NotFound)?;
    let incident = find_by_reference(&state, &reference).await?;
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
        super::edit_incident(&state.pool, incident.id, version, &edits, &user.0).await
    } else {
        Err(EditError::Invalid(zone_errors))
    };
    match outcome {
        Ok(saved) => {
            session::push_flash(&session, Flash::success(format!("{} saved.", section.title()))).await?;
            Ok(Redirect::to(&format!("/incidents/{}#{}", saved.reference, section.name())).into_response())
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
            let last = history::db::list(&state.pool, current.id).await?.into_iter().next();
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
    Path(reference): Path<String>,
    Form(form): Form<StatusForm>,
) -> Result<Response> {
    let incident = find_by_reference(&state, &reference).await?;
    let version = parse_version(&form.version)?;
    let edit = [(Field::Status, form.status)];
    let flash = match super::edit_incident(&state.pool, incident.id, version, &edit, &user.0).await {
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
