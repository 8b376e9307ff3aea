//! Artifact calls of the JSON API.

use axum::{
    Json,
    extract::{Extension, Multipart, Path, Query, State},
    http::StatusCode,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    db::{self, Artifact},
    upload::{self, TokenCheck},
};
use crate::{
    error::{AppError, Result},
    incidents::path::IncidentPath,
    state::AppState,
    web::{
        CurrentUser,
        path::{RecordId, shorten},
    },
};

/// An artifact as the API shows it, with its analysis when there is one.
pub fn artifact_json(artifact: &Artifact, analysis: Option<Value>) -> Value {
    let mut value = serde_json::to_value(artifact).unwrap_or_else(|_| json!({}));
    value["analysis"] = analysis.unwrap_or(Value::Null);
    value
}

/// `POST /api/v1/incidents/{id}/artifacts`: multipart, a `file` field (or
/// several) and optional `note` and `timeline_event_id`; 201 with the
/// artifact, or with `{"artifacts": [...]}` for several files.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/artifacts",
    tag = "artifacts",
    summary = "Upload an artifact",
    params(crate::web::api_schemas::IncidentId),
    request_body(content = crate::web::api_schemas::ArtifactUpload, content_type = "multipart/form-data"),
    responses((status = 201, description = "OK", body = ArtifactCreated), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn upload(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    multipart: std::result::Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(StatusCode, Json<Value>)> {
    let mut multipart = multipart.map_err(|_| {
        AppError::UnsupportedMediaType("Send the upload as multipart/form-data with a file field.".into())
    })?;
    let limit = state.config.max_upload_bytes;
    let received =
        upload::receive(&mut multipart, &state.analyser.store, limit, TokenCheck::Done, &state.metrics)
            .await?;
    let artifacts = upload::attach(&state, incident.id, received, user.0.id).await?;
    super::record_attached(&state, incident.id, &artifacts, &user.0).await?;
    let mut shown = Vec::with_capacity(artifacts.len());
    for artifact in &artifacts {
        // Read again, the row with its analysis: a queued one may be done already.
        let (artifact, analysis) = with_analysis(&state, artifact.id).await?;
        shown.push(artifact_json(&artifact, analysis));
    }
    let body = match shown.len() {
        1 => shown.remove(0),
        _ => json!({ "artifacts": shown }),
    };
    Ok((StatusCode::CREATED, Json(body)))
}

/// `GET /api/v1/artifacts/{id}`: the artifact with its analysis (`null`
/// while `analysis_status` is `pending`).
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/artifacts/{id}",
    tag = "artifacts",
    summary = "An artifact and its analysis",
    params(crate::web::api_schemas::RecordId, crate::web::api_schemas::SampleType),
    responses((status = 200, description = "OK", body = ArtifactBody), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn show_artifact(
    State(state): State<AppState>,
    RecordId(id): RecordId,
    Query(query): Query<SampleTypeQuery>,
) -> Result<Json<Value>> {
    let (artifact, analysis) = with_analysis(&state, id).await?;
    let analysis = super::analysis_for(&state, &artifact, analysis, query.sample_type.as_deref()).await?;
    Ok(Json(artifact_json(&artifact, analysis)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SampleTypeQuery {
    pub sample_type: Option<String>,
}

/// `GET /api/v1/artifacts/{base}/diff/{target}`: target minus base.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/artifacts/{base}/diff/{target}",
    tag = "artifacts",
    summary = "Target minus base",
    params(("base" = Uuid, Path, description = "The base artifact"), ("target" = Uuid, Path, description = "The target artifact"), crate::web::api_schemas::SampleType),
    responses((status = 200, description = "OK", body = ArtifactDiff), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn diff(
    State(state): State<AppState>,
    Path((base, target)): Path<(String, String)>,
    Query(query): Query<SampleTypeQuery>,
) -> Result<Json<Value>> {
    let id = |raw: &str| {
        uuid::Uuid::parse_str(raw)
            .map_err(|_| AppError::BadRequest(format!("“{}” is not an id: ids are UUIDs.", shorten(raw))))
    };
    let (base, target) = (id(&base)?, id(&target)?);
    let base = db::find_artifact(&state.pool, base).await?.ok_or(AppError::NotFound)?;
    let target = db::find_artifact(&state.pool, target).await?.ok_or(AppError::NotFound)?;
    Ok(Json(super::compare(&state, &base, &target, query.sample_type).await?))
}

/// The artifact and its analysis as one snapshot, so the status shown and
/// the analysis agree.
async fn with_analysis(state: &AppState, id: uuid::Uuid) -> Result<(Artifact, Option<Value>)> {
    let mut tx = state.pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read read only").execute(&mut *tx).await?;
    let artifact = db::find_artifact(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    let analysis = db::analysis_of(&mut *tx, id).await?;
    tx.commit().await?;
    Ok((artifact, analysis))
}

/// `GET /api/v1/artifacts/{id}/profile?sample_type=&focus=&ignore=&peek=`:
/// a profile narrowed as pprof's flags narrow it, with its labels breakdown
/// and the callers and callees of the functions `peek` matches.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/artifacts/{id}/profile",
    tag = "artifacts",
    summary = "A profile's view for one sample type",
    params(crate::web::api_schemas::RecordId, crate::web::api_schemas::SampleType),
    responses((status = 200, description = "OK", body = ProfileView), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn profile(
    State(state): State<AppState>,
    RecordId(id): RecordId,
    Query(query): Query<super::ProfileQuery>,
) -> Result<Json<Value>> {
    let artifact = db::find_artifact(&state.pool, id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(super::profile_view(&state, &artifact, &query).await?))
}

// How the OpenAPI document describes the answers put together here as
// JSON (an artifact with its analysis, a comparison, a profile's view):
// never built, checked against real answers by `tests/app/api_contract.rs`.

/// An uploaded artifact and its analysis (`null` while `analysis_status`
/// is `pending`, and for a plain attachment).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = Artifact)]
pub struct ArtifactBody {
    #[serde(flatten)]
    pub artifact: crate::evidence::db::Artifact,
    pub analysis: Option<Analysis>,
}

/// What an upload answers: the artifact, or `{"artifacts":[...]}` for several files.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(clippy::large_enum_variant)] // never built: it describes an answer
pub enum ArtifactCreated {
    One(ArtifactBody),
    Several { artifacts: Vec<ArtifactBody> },
}

/// An artifact's analysis, by its `format`.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum Analysis {
    Pprof(ProfileAnalysis),
    GoroutineDump(crate::evidence::goroutines::DumpAnalysis),
    GoTrace(TraceAnalysis),
}

/// A profile's analysis for its default sample type, with what its heap
/// shows of known leaks.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ProfileAnalysis {
    #[serde(flatten)]
    pub analysis: crate::evidence::pprof::PprofAnalysis,
    /// Absent from analyses made before suspects were read from profiles.
    pub suspects: Option<Vec<HeapSuspect>>,
}

/// A leak a heap profile shows: timers made in a loop.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct HeapSuspect {
    pub key: String,
    pub signature: String,
    pub explanation: String,
    pub cause_category: String,
    pub playbooks: Vec<String>,
    pub evidence: HeapSuspectEvidence,
}

#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct HeapSuspectEvidence {
    pub function: String,
    pub cum: i64,
    pub cum_pct: f64,
    pub sample_type: String,
}

/// An execution trace: recognised from its header, not analysed further.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct TraceAnalysis {
    #[schema(pattern = "^go_trace$")]
    pub format: String,
    /// The trace format's version, `1.22`.
    pub go_version: String,
    /// The Go releases that write that version.
    pub written_by: String,
    pub size: i64,
}

/// Target minus base: two profiles, or two goroutine dumps.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
pub enum ArtifactDiff {
    Pprof(crate::evidence::pprof::PprofDiff),
    GoroutineDump(crate::evidence::goroutines::DumpDiff),
}

/// A profile narrowed as `focus` and `ignore` say, for one sample type,
/// with its labels' breakdown and the callers and callees `peek` matches.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct ProfileView {
    #[serde(flatten)]
    pub analysis: crate::evidence::pprof::PprofAnalysis,
    pub tags: Vec<crate::evidence::pprof::tags::TagBreakdown>,
    /// `null` unless `peek` was asked.
    pub peek: Option<Vec<crate::evidence::pprof::top::Peek>>,
    pub suspects: Vec<HeapSuspect>,
}
