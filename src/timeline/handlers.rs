//! Timeline changes from the incident page.

use axum::{
    extract::{Extension, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    db::TimelineEvent,
    domain::{EventFields, EventInput, HypothesisStatus},
    part::{KEY, TimelineView, milestone_offers},
    paste::{RejectedLine, parse_pasted},
};
use crate::{
    error::{AppError, Result, WriteError, render},
    incidents::{
        db::Incident,
        document::{self, PartRequest},
        path::IncidentPath,
        versioned,
    },
    state::AppState,
    web::{
        CurrentUser, Flash, Form, FormErrors, PageCtx, clock::Zone, confirm::ConfirmPage,
        form::parse_version, path::RecordId,
    },
};

/// The timeline part for a form shown again: in edit mode, since the
/// reader was editing it.
async fn editing_view(state: &AppState, incident: &Incident, request: &PartRequest) -> Result<TimelineView> {
    let mut ctx = request.part_ctx(incident, KEY);
    ctx.editing = true;
    TimelineView::load(state, incident, ctx).await
}

/// `POST /incidents/{reference}/timeline`: one event.
#[tracing::instrument(skip_all)]
pub async fn create_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    request: PartRequest,
    Form(form): Form<EventInput>,
) -> Result<Response> {
    let zone = request.ctx.zone.clone();
    match form.parse(&|raw: &str| zone.read_local(raw)) {
        Ok(fields) => {
            let written = [fields.body.clone(), fields.evidence.clone()];
            super::add_events(&state, incident.id, &[fields], &user.0).await?;
            let notes = crate::wording::after_save(&state, &[&written[0], &written[1]]).await;
            let flash = notes.unwrap_or_else(|| Flash::success("Event added to the timeline."));
            document::saved(&state, request, &incident, KEY, flash).await
        }
        Err(errors) => {
            let mut view = editing_view(&state, &incident, &request).await?;
            view.event_form = form;
            view.event_errors = errors;
            document::refused(&state, request, incident, Box::new(view), StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PasteForm {
    lines: String,
}

/// `POST /incidents/{reference}/timeline/paste`: one event per line that
/// starts with a time; the other lines are given back with their reasons,
/// and milestones the new events could set are offered.
#[tracing::instrument(skip_all)]
pub async fn create_pasted_events(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    mut request: PartRequest,
    Form(form): Form<PasteForm>,
) -> Result<Response> {
    let zone = request.ctx.zone.clone();
    let day = zone.date_of(&incident.started_at);
    let pasted = parse_pasted(&form.lines, day, &|local| zone.to_utc(local));
    let mut rejected = pasted.rejected;
    let mut fields = Vec::with_capacity(pasted.events.len());
    for event in &pasted.events {
        let status = (event.kind == super::domain::EventKind::Hypothesis).then_some(HypothesisStatus::Open);
        match EventFields::new(event.at, event.kind, &event.body, status, "") {
            Ok(parsed) => fields.push(parsed),
            Err((_, reason)) => {
                rejected.push(RejectedLine { line: event.line, text: event.body.clone(), reason });
            }
        }
    }
    rejected.sort_by_key(|line| line.line);
    let added = if fields.is_empty() {
        Vec::new()
    } else {
        super::add_events(&state, incident.id, &fields, &user.0).await?
    };
    let message = match added.len() {
        1 => "Added 1 event to the timeline.".to_owned(),
        n => format!("Added {n} events to the timeline."),
    };
    let mut view = editing_view(&state, &incident, &request).await?;
    view.offers = milestone_offers(&incident, &added, &view.ctx);
    if rejected.is_empty() && view.offers.is_empty() {
        return document::saved(&state, request, &incident, KEY, Flash::success(message)).await;
    }
    // Lines to fix, or milestones to offer: the part is shown again.
    if !added.is_empty() {
        request.ctx.flashes.push(Flash::success(message));
    }
    view.paste = rejected.iter().map(|line| line.text.as_str()).collect::<Vec<_>>().join("\n");
    view.rejected = rejected;
    let status = if added.is_empty() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    document::refused(&state, request, incident, Box::new(view), status).await
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
    pub theirs: Option<TimelineEvent>,
}

impl EditEventPage {
    pub fn kinds(&self) -> [super::domain::EventKind; 8] {
        super::domain::EventKind::ALL
    }

    pub fn statuses(&self) -> [HypothesisStatus; 3] {
        HypothesisStatus::ALL
    }

    /// A unique id for one of the form's fields: the form is also opened
    /// within the incident page, beside the add-an-event form.
    pub fn id_of(&self, field: &str) -> String {
        format!("event-{}-{field}", self.event_id)
    }
}

fn input_of(event: &TimelineEvent, zone: &Zone) -> EventInput {
    EventInput {
        occurred_at: zone.input(&event.occurred_at),
        kind: event.kind.to_string(),
        body: event.body.clone(),
        hypothesis_status: event.hypothesis_status.map(|s| s.to_string()).unwrap_or_default(),
        evidence: event.evidence.clone(),
    }
}

/// `GET /incidents/{reference}/timeline/{id}/edit`
#[tracing::instrument(skip_all)]
pub async fn edit_event_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
) -> Result<Html<String>> {
    let event: TimelineEvent = versioned::find(&state, incident.id, id).await?;
    let form = input_of(&event, &ctx.zone);
    let version = event.version;
    render(&EditEventPage {
        ctx,
        incident,
        event_id: id,
        version,
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
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    request: PartRequest,
    Form(form): Form<EventEditForm>,
) -> Result<Response> {
    let version = parse_version(&form.version)?;
    let zone = request.ctx.zone.clone();
    let fields = match form.event.parse(&|raw: &str| zone.read_local(raw)) {
        Ok(fields) => fields,
        Err(errors) => {
            let ctx = request.ctx;
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
    match super::edit_event(&state, Some(incident.id), id, version, &fields, &user.0).await {
        Ok(_) => {
            document::saved(&state, request, &incident, KEY, Flash::success("Timeline event saved.")).await
        }
        Err(WriteError::Stale(current)) => {
            let page = EditEventPage {
                ctx: request.ctx,
                incident,
                event_id: id,
                version: current.version,
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
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    request: PartRequest,
    Form(form): Form<HypothesisForm>,
) -> Result<Response> {
    let version = parse_version(&form.version)?;
    let status = HypothesisStatus::parse(&form.hypothesis_status).map_err(AppError::Unprocessable)?;
    let flash = match super::set_hypothesis_status(&state, incident.id, id, version, status, &user.0).await {
        Ok(_) => Flash::success(format!("Hypothesis marked {status}.")),
        Err(WriteError::Stale(_)) => {
            Flash::error("Someone changed that hypothesis a moment ago; check it and try again.")
        }
        Err(WriteError::Failed(err)) => return Err(err),
    };
    document::saved(&state, request, &incident, KEY, flash).await
}

/// `GET /incidents/{reference}/timeline/{id}/delete`: asks first.
#[tracing::instrument(skip_all)]
pub async fn confirm_delete_event(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
) -> Result<Html<String>> {
    let event: TimelineEvent = versioned::find(&state, incident.id, id).await?;
    render(&ConfirmPage {
        ctx,
        question: "Delete this event from the timeline?".into(),
        detail: format!("{} — {}", event.kind, event.body.chars().take(300).collect::<String>()),
        action: format!("/incidents/{}/timeline/{id}/delete", incident.reference),
        confirm: "Delete the event".into(),
        back: format!("/incidents/{}#timeline", incident.reference),
    })
}

/// `POST /incidents/{reference}/timeline/{id}/delete`
#[tracing::instrument(skip_all)]
pub async fn delete_event(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    request: PartRequest,
) -> Result<Response> {
    super::remove_event(&state, Some(incident.id), id, &user.0).await?;
    document::saved(&state, request, &incident, KEY, Flash::success("Event deleted from the timeline.")).await
}
