//! Timeline changes from the incident page.

use axum::{
    extract::{Extension, Path, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    db,
    domain::{EventInput, HypothesisStatus},
    paste::parse_pasted,
};
use crate::{
    error::{AppError, Result, WriteError, render},
    incidents::{
        db::Incident,
        handlers::{find_by_reference, incident_page},
    },
    state::AppState,
    web::{CurrentUser, Flash, Form, FormErrors, PageCtx, clock::Zone, form::parse_version, session},
};

fn back_to_timeline(incident: &Incident) -> Response {
    Redirect::to(&format!("/incidents/{}#timeline", incident.reference)).into_response()
}

/// `POST /incidents/{reference}/timeline`: one event.
#[tracing::instrument(skip_all)]
pub async fn create_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    ctx: PageCtx,
    Path(reference): Path<String>,
    Form(form): Form<EventInput>,
) -> Result<Response> {
    let incident = find_by_reference(&state, &reference).await?;
    let zone = ctx.zone.clone();
    let reader = |raw: &str| zone.read_local(raw);
    let parsed = form.parse(&reader);
    match parsed {
        Ok(fields) => {
            super::add_events(&state.pool, incident.id, &[fields], &user.0).await?;
            session::push_flash(&session, Flash::success("Event added to the timeline.")).await?;
            Ok(back_to_timeline(&incident))
        }
        Err(errors) => {
            let mut page = incident_page(&state, ctx, incident).await?;
            page.event_form = form;
            page.event_errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, state.cpu.render(page).await?).into_response())
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PasteForm {
    lines: String,
}

/// `POST /incidents/{reference}/timeline/paste`: one event per line that
/// starts with a time; the other lines are given back with their reasons.
#[tracing::instrument(skip_all)]
pub async fn create_pasted_events(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    ctx: PageCtx,
    Path(reference): Path<String>,
    Form(form): Form<PasteForm>,
) -> Result<Response> {
    let incident = find_by_reference(&state, &reference).await?;
    let zone = ctx.zone.clone();
    let day = zone.date_of(&incident.started_at);
    let pasted = parse_pasted(&form.lines, day, &|local| zone.to_utc(local));
    let fields: Vec<_> = pasted
        .events
        .iter()
        .map(|event| super::domain::EventFields {
            occurred_at: event.at,
            kind: event.kind,
            body: event.body.clone(),
            hypothesis_status: (event.kind == super::domain::EventKind::Hypothesis)
                .then_some(HypothesisStatus::Open),
            evidence: String::new(),
        })
        .collect();
    if !fields.is_empty() {
        super::add_events(&state.pool, incident.id, &fields, &user.0).await?;
    }
    let added = match fields.len() {
        1 => "Added 1 event to the timeline.".to_owned(),
        n => format!("Added {n} events to the timeline."),
    };
    if pasted.rejected.is_empty() {
        session::push_flash(&session, Flash::success(added)).await?;
        return Ok(back_to_timeline(&incident));
    }
    // Some lines could not be read: show them back, in the box, with why.
    let mut page = incident_page(&state, ctx, incident).await?;
    if !fields.is_empty() {
        page.ctx.flashes.push(Flash::success(added));
    }
    page.paste = pasted.rejected.iter().map(|line| line.text.as_str()).collect::<Vec<_>>().join("\n");
    page.rejected = pasted.rejected;
    let status = if fields.is_empty() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, state.cpu.render(page).await?).into_response())
}

/// The edit page of one event.
#[derive(askama::Template)]
#[template(path = "timeline/edit.html")]
pub struct EditEventPage {
    pub ctx: PageCtx,
    pub incident: Incident,
    pub event_id: Uuid,
    pub version: i32,
    pub form: EventInput,
    pub errors: FormErrors,
    /// On a conflict: the newer saved event, to merge with.
    pub theirs: Option<db::TimelineEvent>,
}

impl EditEventPage {
    pub fn kinds(&self) -> [super::domain::EventKind; 8] {
        super::domain::EventKind::ALL
    }

    pub fn statuses(&self) -> [HypothesisStatus; 3] {
        HypothesisStatus::ALL
    }
}

fn input_of(event: &db::TimelineEvent, zone: &Zone) -> EventInput {
    EventInput {
        occurred_at: zone.input(&event.occurred_at),
        kind: event.kind.to_string(),
        body: event.body.clone(),
        hypothesis_status: event.hypothesis_status.map(|s| s.to_string()).unwrap_or_default(),
        evidence: event.evidence.clone(),
    }
}

async fn event_of(state: &AppState, incident: &Incident, id: Uuid) -> Result<db::TimelineEvent> {
    db::find_event(&state.pool, id)
        .await?
        .filter(|event| event.incident_id == incident.id)
        .ok_or(AppError::NotFound)
}

/// `GET /incidents/{reference}/timeline/{id}/edit`
#[tracing::instrument(skip_all)]
pub async fn edit_event_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((reference, id)): Path<(String, Uuid)>,
) -> Result<Html<String>> {
    let incident = find_by_reference(&state, &reference).await?;
    let event = event_of(&state, &incident, id).await?;
    let form = input_of(&event, &ctx.zone);
    render(&EditEventPage {
        ctx,
        incident,
        event_id: id,
        version: event.version,
        form,
        errors: FormErrors::default(),
        theirs: None,
    })
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct EventEditForm {
    version: String,
    #[serde(flatten)]
    event: EventInput,
}

/// `POST /incidents/{reference}/timeline/{id}/edit`
#[tracing::instrument(skip_all)]
pub async fn update_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    ctx: PageCtx,
    Path((reference, id)): Path<(String, Uuid)>,
    Form(form): Form<EventEditForm>,
) -> Result<Response> {
    let incident = find_by_reference(&state, &reference).await?;
    let version = parse_version(&form.version)?;
    let zone = ctx.zone.clone();
    let reader = |raw: &str| zone.read_local(raw);
    let parsed = form.event.parse(&reader);
    let fields = match parsed {
        Ok(fields) => fields,
        Err(errors) => {
            let page = EditEventPage {
                ctx,
                incident,
                event_id: id,
                version,
                form: form.event,
                errors,
                theirs: None,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, state.cpu.render(page).await?).into_response());
        }
    };
    match super::edit_event(&state.pool, incident.id, id, version, &fields, &user.0).await {
        Ok(_) => {
            session::push_flash(&session, Flash::success("Timeline event saved.")).await?;
            Ok(back_to_timeline(&incident))
        }
        Err(WriteError::Stale(current)) => {
            let version = current.version;
            let page = EditEventPage {
                ctx,
                incident,
                event_id: id,
                version,
                form: form.event,
                errors: FormErrors::default(),
                theirs: Some(*current),
            };
            Ok((StatusCode::CONFLICT, state.cpu.render(page).await?).into_response())
        }
        Err(WriteError::Failed(err)) => Err(err),
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct HypothesisForm {
    version: String,
    hypothesis_status: String,
}

/// `POST /incidents/{reference}/timeline/{id}/hypothesis`: confirmed or
/// refuted, in place.
#[tracing::instrument(skip_all)]
pub async fn update_hypothesis(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path((reference, id)): Path<(String, Uuid)>,
    Form(form): Form<HypothesisForm>,
) -> Result<Response> {
    let incident = find_by_reference(&state, &reference).await?;
    let version = parse_version(&form.version)?;
    let status = HypothesisStatus::parse(&form.hypothesis_status).map_err(AppError::Unprocessable)?;
    let flash =
        match super::set_hypothesis_status(&state.pool, incident.id, id, version, status, &user.0).await {
            Ok(_) => Flash::success(format!("Hypothesis marked {status}.")),
            Err(WriteError::Stale(_)) => {
                Flash::error("Someone changed that hypothesis a moment ago; check it and try again.")
            }
            Err(WriteError::Failed(err)) => return Err(err),
        };
    session::push_flash(&session, flash).await?;
    Ok(back_to_timeline(&incident))
}

/// `POST /incidents/{reference}/timeline/{id}/delete`
#[tracing::instrument(skip_all)]
pub async fn delete_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path((reference, id)): Path<(String, Uuid)>,
) -> Result<Response> {
    let incident = find_by_reference(&state, &reference).await?;
    super::remove_event(&state.pool, incident.id, id, &user.0).await?;
    session::push_flash(&session, Flash::success("Event deleted from the timeline.")).await?;
    Ok(back_to_timeline(&incident))
}
