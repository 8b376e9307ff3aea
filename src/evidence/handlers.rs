//! The evidence pages: attaching files from the incident page, an
//! artifact's own page, and removing one.

use askama::Template;
use axum::{
    extract::{Extension, Multipart, Query, State},
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;

use super::{
    db::{self, Artifact},
    page::{Compared, Shown, wait_text},
    part::{KEY, human_size},
    upload::{self, TokenCheck},
};
use crate::{
    error::{AppError, Result, render},
    incidents::{
        db::Incident,
        document::{self, PartRequest},
        path::IncidentPath,
    },
    state::AppState,
    web::{CurrentUser, Flash, Form, PageCtx, confirm::ConfirmPage, csrf::MultipartToken, path::RecordId},
};

/// `POST /incidents/{reference}/artifacts`: the upload form, with or
/// without the page's script (which sends the token as a header and wants
/// the part back).
#[tracing::instrument(skip_all)]
pub async fn upload(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    token: Option<Extension<MultipartToken>>,
    request: PartRequest,
    multipart: std::result::Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<Response> {
    let mut multipart = multipart
        .map_err(|_| AppError::UnsupportedMediaType("The upload form sends multipart/form-data.".into()))?;
    let check = match &token {
        Some(Extension(MultipartToken(expected))) => TokenCheck::Field(expected),
        None => TokenCheck::Done,
    };
    let limit = state.config.max_upload_bytes;
    let received =
        upload::receive(&mut multipart, &state.analyser.store, limit, check, &state.metrics).await?;
    let artifacts = upload::attach(&state, incident.id, received, user.0.id).await?;
    super::record_attached(&state, incident.id, &artifacts, &user.0).await?;
    let flash = match artifacts.as_slice() {
        [one] => Flash::success(format!("Attached {}.", one.file_name)),
        many => Flash::success(format!("Attached {} files.", many.len())),
    };
    let linked = artifacts.iter().any(|artifact| artifact.timeline_event_id.is_some());
    let also: &[&str] = if linked { &[crate::timeline::part::KEY] } else { &[] };
    document::saved_with(&state, request, &incident, KEY, also, flash).await
}

#[derive(Template)]
#[template(path = "evidence/show.html")]
pub struct ArtifactPage {
    pub query: super::ProfileQuery,
    pub ctx: PageCtx,
    pub incident: Incident,
    pub artifact: Artifact,
    pub shown: Shown,
    /// The incident's other artifacts this one can be compared with.
    pub comparable: Vec<Artifact>,
    /// The incident's events, to link the artifact to one.
    pub events: Vec<db::EventChoice>,
    /// A profile's flame graph, as inline SVG drawn here (escaped, no script).
    pub flame: Option<String>,
}

impl ArtifactPage {
    fn size(&self) -> String {
        human_size(self.artifact.size)
    }

    /// What the reader typed in a field of the profile form.
    fn typed(&self, field: &str) -> String {
        let value = match field {
            "focus" => &self.query.focus,
            "ignore" => &self.query.ignore,
            _ => &self.query.peek,
        };
        value.clone().unwrap_or_default()
    }

    fn wait(&self, min: &Option<u32>, max: &Option<u32>) -> String {
        wait_text(*min, *max)
    }
}

/// `GET /incidents/{reference}/artifacts/{id}[?sample_type=T]`
#[tracing::instrument(skip_all)]
pub async fn show_artifact(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    Query(query): Query<super::ProfileQuery>,
) -> Result<Html<String>> {
    let artifact = find_of(&state, &incident, id).await?;
    let stored = db::analysis_of(&state.pool, id).await?;
    // A profile is read again for the view asked (sample type, focus,
    // ignore, peek) and its labels; anything else shows what is stored.
    let (analysis, flame) = if artifact.format == "pprof" && stored.is_some() {
        let title = format!("Flame graph of {}", artifact.file_name);
        let (view, flame) = super::profile_page(&state, &artifact, &query, Some(title)).await?;
        (Some(view), flame)
    } else {
        (super::analysis_for(&state, &artifact, stored, query.sample_type.as_deref()).await?, None)
    };
    let comparable = db::list_for_incident(&state.pool, incident.id)
        .await?
        .into_iter()
        .filter(|other| {
            other.id != artifact.id && other.format == artifact.format && other.analysis_status == "done"
        })
        .collect();
    let events =
        if ctx.is_editor() { db::event_choices(&state.pool, incident.id).await? } else { Vec::new() };
    let shown = Shown::of(analysis.as_ref());
    state.cpu.render(ArtifactPage { query, ctx, incident, shown, artifact, comparable, events, flame }).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CompareQuery {
    with: String,
    sample_type: Option<String>,
    /// Compare each frame's share of its own profile's total.
    normalize: bool,
}

#[derive(Template)]
#[template(path = "evidence/compare.html")]
pub struct ComparePage {
    pub ctx: PageCtx,
    pub incident: Incident,
    pub base: Artifact,
    pub target: Artifact,
    pub compared: Compared,
    pub flame: Option<String>,
    pub normalize: bool,
}

/// `GET /incidents/{reference}/artifacts/{id}/compare?with={other}`: the
/// other artifact minus this one.
#[tracing::instrument(skip_all)]
pub async fn compare_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    Query(query): Query<CompareQuery>,
) -> Result<Html<String>> {
    let base = find_of(&state, &incident, id).await?;
    let other = uuid::Uuid::parse_str(query.with.trim())
        .map_err(|_| AppError::BadRequest("Choose the file to compare with.".into()))?;
    let target = find_of(&state, &incident, other).await?;
    let flame =
        super::diff_flame_svg(&state, &base, &target, query.sample_type.as_deref(), query.normalize).await?;
    let diff = super::compare(&state, &base, &target, query.sample_type).await?;
    let compared =
        Compared::of(&diff, &target).ok_or_else(|| anyhow::anyhow!("a comparison of an unknown shape"))?;
    let normalize = query.normalize;
    state.cpu.render(ComparePage { ctx, incident, base, target, compared, flame, normalize }).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct LinkForm {
    note: String,
    timeline_event_id: String,
    version: i32,
}

/// `POST /incidents/{reference}/artifacts/{id}/edit`: the note and the
/// event it was taken at (or is the evidence for), saved only if nobody
/// changed them since the form was shown.
#[tracing::instrument(skip_all)]
pub async fn update_link(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    session: tower_sessions::Session,
    Form(form): Form<LinkForm>,
) -> Result<Response> {
    let current = find_of(&state, &incident, id).await?;
    let note = form.note.trim();
    if note.chars().count() > upload::MAX_NOTE_CHARS {
        return Err(AppError::BadRequest(format!(
            "The note is longer than {} characters.",
            upload::MAX_NOTE_CHARS
        )));
    }
    let event = match form.timeline_event_id.trim() {
        "" => None,
        raw => {
            let event = uuid::Uuid::parse_str(raw)
                .map_err(|_| AppError::BadRequest("Choose one of the timeline's events.".into()))?;
            if !db::event_of_incident(&state.pool, incident.id, event).await? {
                return Err(AppError::BadRequest("The timeline event is not one of this incident's.".into()));
            }
            Some(event)
        }
    };
    let mut tx = state.pool.begin().await?;
    let Some(saved) = db::update_link(&mut tx, id, form.version, note, event).await? else {
        return Err(AppError::Conflict(format!(
            "Someone changed {} since you opened it, so nothing was saved. Reload the page to see their change.",
            current.file_name
        )));
    };
    let change = crate::incidents::revision::Change {
        field: KEY.into(),
        old: <super::part::Evidence as crate::incidents::document::Records>::history_text(&current),
        new: <super::part::Evidence as crate::incidents::document::Records>::history_text(&saved),
    };
    let summary = format!("Edited the note of {}", saved.file_name);
    crate::incidents::revision::record_part(
        &mut tx,
        &state.document,
        incident.id,
        user.0.id,
        &summary,
        &[change],
    )
    .await?;
    tx.commit().await?;
    crate::web::session::push_flash(&session, Flash::success(format!("Saved {}.", saved.file_name))).await?;
    Ok(Redirect::to(&format!("/incidents/{}/artifacts/{id}", incident.reference)).into_response())
}

/// `GET /incidents/{reference}/artifacts/{id}/delete`: the confirmation,
/// for a browser without the page's script.
#[tracing::instrument(skip_all)]
pub async fn confirm_remove(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
) -> Result<Html<String>> {
    let artifact = find_of(&state, &incident, id).await?;
    render(&ConfirmPage {
        ctx,
        question: "Remove this file from the postmortem?".into(),
        detail: format!("{} ({}, {})", artifact.file_name, artifact.format, human_size(artifact.size)),
        action: format!("/incidents/{}/artifacts/{id}/delete", incident.reference),
        confirm: "Remove the file".into(),
        back: format!("/incidents/{}#evidence", incident.reference),
    })
}

/// `POST /incidents/{reference}/artifacts/{id}/delete`
#[tracing::instrument(skip_all)]
pub async fn remove(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    request: PartRequest,
) -> Result<Response> {
    let removed = super::remove_artifact(&state, Some(incident.id), id, &user.0).await?;
    let flash = Flash::success(format!("Removed {}.", removed.file_name));
    let also: &[&str] = if removed.timeline_event_id.is_some() { &[crate::timeline::part::KEY] } else { &[] };
    document::saved_with(&state, request, &incident, KEY, also, flash).await
}

async fn find_of(state: &AppState, incident: &Incident, id: uuid::Uuid) -> Result<Artifact> {
    db::find_artifact(&state.pool, id)
        .await?
        .filter(|a| a.incident_id == incident.id)
        .ok_or(AppError::NotFound)
}
