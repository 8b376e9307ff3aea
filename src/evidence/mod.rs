//! Evidence: the files an on-call engineer attaches to a postmortem (Go
//! profiles, goroutine dumps, execution traces), recognised from their bytes
//! and read by Debrief itself, with no Go toolchain at run time.

pub mod analysis;
pub mod api;
pub mod db;
pub mod detect;
pub mod download;
pub mod goroutines;
pub mod gunzip;
pub mod handlers;
pub mod page;
pub mod part;
pub mod pprof;
pub mod queue;
pub mod store;
pub mod upload;
pub mod worker;

use axum::{
    Router,
    extract::DefaultBodyLimit,
    middleware,
    routing::{get, post},
};
use uuid::Uuid;

use self::db::Artifact;
use crate::{
    auth::{db::User, domain::Role},
    error::{AppError, Result},
    incidents::revision::{self, Change},
    state::AppState,
    web::require_role,
};

/// A multipart body may exceed the upload limit by this much: its field
/// headers, the note and the boundaries.
const MULTIPART_OVERHEAD: u64 = 64 * 1024;

/// The upload route's body limit: the upload limit, not the forms' one.
fn upload_limit(state: &AppState) -> DefaultBodyLimit {
    let limit = state.config.max_upload_bytes.saturating_add(MULTIPART_OVERHEAD);
    DefaultBodyLimit::max(usize::try_from(limit).unwrap_or(usize::MAX))
}

/// Pages: reading needs a viewer, attaching and removing an editor.
pub fn router(state: &AppState) -> Router<AppState> {
    let read = Router::new()
        .route("/incidents/{reference}/artifacts/{id}", get(handlers::show_artifact))
        .route("/incidents/{reference}/artifacts/{id}/download", get(download::download_page))
        .route("/incidents/{reference}/artifacts/{id}/compare", get(handlers::compare_page))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let write = Router::new()
        .route("/incidents/{reference}/artifacts", post(handlers::upload).layer(upload_limit(state)))
        .route("/incidents/{reference}/artifacts/{id}/edit", post(handlers::update_link))
        .route(
            "/incidents/{reference}/artifacts/{id}/delete",
            get(handlers::confirm_remove).post(handlers::remove),
        )
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    read.merge(write)
}

/// API routes, mounted under `/api/v1`.
pub fn api_router(state: &AppState) -> Router<AppState> {
    let read = Router::new()
        .route("/artifacts/{id}", get(api::show_artifact))
        .route("/artifacts/{id}/raw", get(download::download_api))
        .route("/artifacts/{base}/diff/{target}", get(api::diff))
        .route("/artifacts/{id}/profile", get(api::profile))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let write = Router::new()
        .route("/incidents/{id}/artifacts", post(api::upload).layer(upload_limit(state)))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    read.merge(write)
}

/// Whether a request is an upload, which gets the upload's time limit
/// rather than the one of every other request.
pub fn is_upload(method: &axum::http::Method, path: &str) -> bool {
    method == axum::http::Method::POST && path.ends_with("/artifacts")
}

/// Records the attachments in the postmortem's history.
pub async fn record_attached(
    state: &AppState,
    incident_id: Uuid,
    artifacts: &[Artifact],
    author: &User,
) -> Result<()> {
    let changes: Vec<Change> = artifacts
        .iter()
        .map(|artifact| Change {
            field: part::KEY.into(),
            old: String::new(),
            new: <part::Evidence as crate::incidents::document::Records>::history_text(artifact),
        })
        .collect();
    let summary = match artifacts {
        [one] => format!("Attached {}", one.file_name),
        many => format!("Attached {} files", many.len()),
    };
    let mut tx = state.pool.begin().await?;
    revision::record_part(&mut tx, &state.document, incident_id, author.id, &summary, &changes).await?;
    tx.commit().await?;
    Ok(())
}

/// Removes an artifact of `incident` (any incident when `None`) and records
/// it; the sweep drops its content from the store once nothing holds it.
pub async fn remove_artifact(
    state: &AppState,
    incident: Option<Uuid>,
    id: Uuid,
    author: &User,
) -> Result<Artifact> {
    let mut tx = state.pool.begin().await?;
    let artifact = db::find_artifact(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    if incident.is_some_and(|incident| incident != artifact.incident_id) {
        return Err(AppError::NotFound);
    }
    if !db::delete_artifact(&mut tx, id).await? {
        return Err(AppError::NotFound);
    }
    let change = Change {
        field: part::KEY.into(),
        old: <part::Evidence as crate::incidents::document::Records>::history_text(&artifact),
        new: String::new(),
    };
    let summary = format!("Removed {}", artifact.file_name);
    revision::record_part(&mut tx, &state.document, artifact.incident_id, author.id, &summary, &[change])
        .await?;
    tx.commit().await?;
    Ok(artifact)
}

/// The analysis of `artifact` to show: the stored one, or, for a profile
/// asked for another sample type, the profile read again for it (CPU work,
/// bounded like any analysis, on the CPU pool).
pub async fn analysis_for(
    state: &AppState,
    artifact: &Artifact,
    stored: Option<serde_json::Value>,
    sample_type: Option<&str>,
) -> Result<Option<serde_json::Value>> {
    let Some(wanted) = sample_type.map(str::trim).filter(|wanted| !wanted.is_empty()) else {
        return Ok(stored);
    };
    if artifact.format != "pprof" {
        return Err(AppError::BadRequest("sample_type applies to pprof profiles only.".into()));
    }
    if stored.as_ref().is_some_and(|analysis| analysis["sample_type"] == wanted) {
        return Ok(stored);
    }
    if stored.is_none() {
        return Ok(None);
    }
    let bytes = read_for_analysis(state, artifact).await?;
    let wanted = wanted.to_owned();
    let limit = state.config.max_analysis_bytes;
    let analysis = state
        .cpu
        .run(move || {
            let profile = pprof::read_profile(&bytes.bytes, limit)?;
            pprof::analyse(&profile, Some(&wanted))
        })
        .await?
        .map_err(|err| AppError::BadRequest(format!("{err}.")))?;
    Ok(Some(serde_json::to_value(analysis).map_err(anyhow::Error::from)?))
}

/// Target minus base: two profiles as `go tool pprof -top -diff_base` has
/// it, or two goroutine dumps' groups grown and shrunk.
pub async fn compare(
    state: &AppState,
    base: &Artifact,
    target: &Artifact,
    sample_type: Option<String>,
) -> Result<serde_json::Value> {
    match (base.format.as_str(), target.format.as_str()) {
        ("pprof", "pprof") => {
            let (before, after) =
                (read_for_analysis(state, base).await?, read_for_analysis(state, target).await?);
            let limit = state.config.max_analysis_bytes;
            let diff = state
                .cpu
                .run(move || {
                    let before = pprof::read_profile(&before.bytes, limit)?;
                    let after = pprof::read_profile(&after.bytes, limit)?;
                    pprof::analyse_diff(&before, &after, sample_type.as_deref().filter(|s| !s.is_empty()))
                })
                .await?
                .map_err(|err| {
                    AppError::Unprocessable(format!("These two profiles cannot be compared: {err}."))
                })?;
            Ok(serde_json::to_value(diff).map_err(anyhow::Error::from)?)
        }
        ("goroutine_dump", "goroutine_dump") => {
            let read = |analysis: Option<serde_json::Value>| {
                analysis
                    .and_then(|value| serde_json::from_value::<goroutines::DumpAnalysis>(value).ok())
                    .ok_or_else(|| {
                        AppError::Unprocessable(
                            "Both dumps must be analysed before they are compared.".into(),
                        )
                    })
            };
            let before = read(db::analysis_of(&state.pool, base.id).await?)?;
            let after = read(db::analysis_of(&state.pool, target.id).await?)?;
            Ok(serde_json::to_value(goroutines::diff_dumps(&before, &after)).map_err(anyhow::Error::from)?)
        }
        _ => Err(AppError::Unprocessable(
            "Two pprof profiles, or two goroutine dumps, can be compared; not these.".into(),
        )),
    }
}

/// An artifact's bytes read for a page or a call, with the turn that lets
/// it hold them: at most a few such reads (each up to the analysis limit)
/// are in memory at once, and one that waits too long is answered 503.
struct Read {
    bytes: Vec<u8>,
    _turn: tokio::sync::OwnedSemaphorePermit,
}

/// How long a read waits for its turn.
const READ_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn read_for_analysis(state: &AppState, artifact: &Artifact) -> Result<Read> {
    let turn = crate::web::cpu::take_turn(&state.artifact_reads, READ_WAIT, "the artifact reads", 5).await?;
    let bytes = read_bytes(state, artifact).await?;
    Ok(Read { bytes, _turn: turn })
}

async fn read_bytes(state: &AppState, artifact: &Artifact) -> Result<Vec<u8>> {
    state.analyser.store.read(&artifact.sha256, state.config.max_analysis_bytes).await.map_err(
        |err| match err {
            store::StoreError::TooLarge { limit } => AppError::PayloadTooLarge(format!(
                "{} is larger than the {limit} bytes Debrief analyses.",
                artifact.file_name
            )),
            other => AppError::Internal(anyhow::anyhow!(other)),
        },
    )
}

/// The most frames a flame graph on a page draws; the narrowest go first.
const PAGE_FLAME_NODES: usize = 4000;

/// The differential flame graph of two profile artifacts: red grew, blue
/// shrank; `normalize` compares each frame's share of its own total.
pub async fn diff_flame_svg(
    state: &AppState,
    base: &Artifact,
    target: &Artifact,
    sample_type: Option<&str>,
    normalize: bool,
) -> Result<Option<String>> {
    if base.format != "pprof" || target.format != "pprof" {
        return Ok(None);
    }
    let (before, after) = (read_for_analysis(state, base).await?, read_for_analysis(state, target).await?);
    let limit = state.config.max_analysis_bytes;
    let sample_type = sample_type.map(str::to_owned).filter(|s| !s.is_empty());
    let title = format!("{} against {}", target.file_name, base.file_name);
    let svg = state
        .cpu
        .run(move || {
            let before = pprof::read_profile(&before.bytes, limit)?;
            let after = pprof::read_profile(&after.bytes, limit)?;
            let graph = pprof::flame::diff_flame_graph(&before, &after, sample_type.as_deref())?;
            let unit = graph.unit.clone();
            let options = pprof::flame::FlameOptions { title, normalize, ..Default::default() };
            Ok::<_, pprof::ProfileError>(pprof::flame::render_svg(&graph, &unit, &options))
        })
        .await?
        .map_err(|err| AppError::Unprocessable(format!("These two profiles cannot be compared: {err}.")))?;
    Ok(Some(svg))
}

/// How a reader narrows a profile: as `go tool pprof`'s `-sample_index`,
/// `-focus`, `-ignore`, `-tags` and `-peek` do.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct ProfileQuery {
    pub sample_type: Option<String>,
    pub focus: Option<String>,
    pub ignore: Option<String>,
    pub peek: Option<String>,
}

/// The longest pattern a reader may give.
const MAX_PATTERN_CHARS: usize = 500;

fn pattern(name: &str, raw: &Option<String>) -> Result<Option<regex::Regex>> {
    let Some(raw) = raw.as_deref().map(str::trim).filter(|raw| !raw.is_empty()) else { return Ok(None) };
    if raw.chars().count() > MAX_PATTERN_CHARS {
        return Err(AppError::BadRequest(format!("{name} is longer than {MAX_PATTERN_CHARS} characters.")));
    }
    // The compiled size is bounded too, so a pattern cannot cost more than a page.
    regex::RegexBuilder::new(raw)
        .size_limit(1 << 20)
        .build()
        .map(Some)
        .map_err(|err| AppError::BadRequest(format!("{name} is not a regular expression: {err}")))
}

/// A profile artifact seen through `query`: its top table of the samples
/// kept, the labels breakdown and, when asked, the callers and callees of
/// the functions `peek` matches. CPU work on the CPU pool, bounded like
/// any analysis.
pub async fn profile_view(
    state: &AppState,
    artifact: &Artifact,
    query: &ProfileQuery,
) -> Result<serde_json::Value> {
    Ok(profile_page(state, artifact, query, None).await?.0)
}

/// [`profile_view`] and, when `flame_title` is given, the flame graph of
/// the same samples: one read of the file and one parse for a page.
pub async fn profile_page(
    state: &AppState,
    artifact: &Artifact,
    query: &ProfileQuery,
    flame_title: Option<String>,
) -> Result<(serde_json::Value, Option<String>)> {
    if artifact.format != "pprof" {
        return Err(AppError::BadRequest("This view is of pprof profiles only.".into()));
    }
    let filter =
        pprof::Filter { focus: pattern("focus", &query.focus)?, ignore: pattern("ignore", &query.ignore)? };
    let peek = pattern("peek", &query.peek)?;
    let bytes = read_for_analysis(state, artifact).await?;
    let limit = state.config.max_analysis_bytes;
    let sample_type = query.sample_type.clone().filter(|s| !s.trim().is_empty());
    state
        .cpu
        .run(move || {
            let profile = pprof::read_profile(&bytes.bytes, limit)?;
            let analysis = pprof::analyse_with(&profile, sample_type.as_deref(), &filter)?;
            let index = pprof::sample_index_for(&profile, sample_type.as_deref())?;
            let tags = pprof::tags::tags(&profile, index);
            let peeked = peek.as_ref().map(|re| {
                let mut found = pprof::top::peek(&profile, index, re);
                found.truncate(20);
                found
            });
            let mut value = serde_json::to_value(&analysis).unwrap_or_default();
            value["tags"] = serde_json::to_value(tags).unwrap_or_default();
            value["peek"] = serde_json::to_value(peeked).unwrap_or_default();
            value["suspects"] = serde_json::Value::Array(analysis::heap_suspects(&profile));
            let flame = flame_title.map(|title| {
                let limits = pprof::flame::FlameLimits { max_nodes: PAGE_FLAME_NODES, ..Default::default() };
                let graph = pprof::flame::flame_graph_within(&profile, index, &filter, &limits);
                let unit = graph.unit.clone();
                let options = pprof::flame::FlameOptions { title, ..Default::default() };
                pprof::flame::render_svg(&graph, &unit, &options)
            });
            Ok::<_, pprof::ProfileError>((value, flame))
        })
        .await?
        .map_err(|err| AppError::BadRequest(format!("{err}.")))
}
