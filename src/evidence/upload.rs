//! Receiving artifacts: a multipart body read field by field, each file
//! streamed to a spool file while it is hashed, then kept and recorded,
//! all of it or none of it.

use axum::extract::{Multipart, multipart::MultipartError};
use uuid::Uuid;

use super::{
    analysis::{Analysed, AnalysisError, analyse, is_analysed},
    db::{self, AnalysisState, Artifact, NewArtifact},
    detect::{Format, detect},
    store::{ArtifactStore, Spooled, StoreError},
};
use crate::{
    error::{AppError, Result},
    state::AppState,
    web::secret::secrets_match,
};

/// At most this many files in one upload.
pub const MAX_FILES: usize = 20;

/// The most a note says.
pub const MAX_NOTE_CHARS: usize = 2000;

/// Names that say "profile" of bytes that are not one: refused rather than
/// kept as a plain attachment, since the uploader meant evidence.
const PROFILE_NAMES: [&str; 5] = [".pb.gz", ".pb", ".pprof", ".prof", ".pprof.gz"];

/// The fields of an upload, its files spooled.
#[derive(Debug, Default)]
pub struct Upload {
    pub note: String,
    pub timeline_event_id: Option<Uuid>,
    pub files: Vec<(String, Spooled)>,
}

/// Where the upload's CSRF token is checked: the page's form sends it as a
/// field before its files; the API authenticates otherwise.
pub enum TokenCheck<'a> {
    /// The `csrf_token` field must come before any file and match.
    Field(&'a str),
    /// Checked already (a header, or a bearer token).
    Done,
}

/// Reads the whole multipart body: `note`, `timeline_event_id`, and one or
/// more `file` fields, each spooled within `limit` bytes.
pub async fn receive(
    multipart: &mut Multipart,
    store: &ArtifactStore,
    limit: u64,
    check: TokenCheck<'_>,
    metrics: &crate::metrics::Metrics,
) -> Result<Upload> {
    let mut upload = Upload::default();
    let mut token_ok = matches!(check, TokenCheck::Done);
    while let Some(mut field) = multipart.next_field().await.map_err(multipart_error)? {
        let name = field.name().unwrap_or_default().to_owned();
        match name.as_str() {
            "csrf_token" => {
                let given = field.text().await.map_err(multipart_error)?;
                if let TokenCheck::Field(expected) = check {
                    token_ok = secrets_match(expected, given.trim());
                }
            }
            _ if !token_ok => return Err(expired_form()),
            "note" => {
                let note = field.text().await.map_err(multipart_error)?;
                let note = note.trim();
                // PostgreSQL text cannot hold a NUL: refused here, not by the database.
                if note.contains('\0') {
                    return Err(AppError::Unprocessable(
                        "The note contains a NUL character; remove it.".into(),
                    ));
                }
                if note.chars().count() > MAX_NOTE_CHARS {
                    return Err(AppError::BadRequest(format!(
                        "The note is longer than {MAX_NOTE_CHARS} characters."
                    )));
                }
                upload.note = note.to_owned();
            }
            "timeline_event_id" => {
                let raw = field.text().await.map_err(multipart_error)?;
                let raw = raw.trim();
                if !raw.is_empty() {
                    let id = Uuid::parse_str(raw).map_err(|_| {
                        AppError::BadRequest("timeline_event_id is not the id of a timeline event.".into())
                    })?;
                    upload.timeline_event_id = Some(id);
                }
            }
            "file" => {
                let file_name = safe_file_name(field.file_name().unwrap_or_default());
                if upload.files.len() == MAX_FILES {
                    return Err(AppError::BadRequest(format!("At most {MAX_FILES} files go in one upload.")));
                }
                let mut spool = store.spool(limit).await.map_err(store_error)?;
                while let Some(chunk) = field.chunk().await.map_err(multipart_error)? {
                    metrics.uploaded(chunk.len());
                    spool.write(&chunk).await.map_err(store_error)?;
                }
                let spooled = spool.finish().await.map_err(store_error)?;
                // A file input left empty sends a nameless, empty part.
                if spooled.size == 0 && field.file_name().unwrap_or_default().is_empty() {
                    continue;
                }
                upload.files.push((file_name, spooled));
            }
            other => {
                return Err(AppError::BadRequest(format!(
                    "An upload has the fields file, note and timeline_event_id; {other:?} is not one of them."
                )));
            }
        }
    }
    if !token_ok {
        return Err(expired_form());
    }
    if upload.files.is_empty() {
        return Err(AppError::BadRequest("Choose a file to upload (the field is called file).".into()));
    }
    Ok(upload)
}

/// Keeps every file of the upload and records them on the incident, or,
/// when any is refused, keeps none.
pub async fn attach(
    state: &AppState,
    incident_id: Uuid,
    upload: Upload,
    uploader: Uuid,
) -> Result<Vec<Artifact>> {
    if let Some(event) = upload.timeline_event_id
        && !db::event_of_incident(&state.pool, incident_id, event).await?
    {
        return Err(AppError::BadRequest("The timeline event is not one of this incident's.".into()));
    }
    let mut prepared = Vec::with_capacity(upload.files.len());
    for (file_name, spooled) in &upload.files {
        if spooled.size == 0 {
            return Err(AppError::BadRequest(format!("{file_name} is empty: there is nothing to attach.")));
        }
        let format = detect(&spooled.prefix);
        if format == Format::Other && claims_to_be_a_profile(file_name) {
            return Err(AppError::Unprocessable(format!(
                "{file_name} is named like a profile, but its bytes are not a pprof profile, a dump or a trace."
            )));
        }
        let analysis =
            first_analysis(state, &format, spooled).await.map_err(|err| refused(file_name, err))?;
        prepared.push((file_name, spooled, format, analysis));
    }
    for (_, spooled, _, _) in &prepared {
        db::touch_blob(&state.pool, &spooled.sha256, spooled.size).await?;
        state.analyser.store.keep(spooled).await.map_err(store_error)?;
    }
    let mut tx = state.pool.begin().await?;
    let mut saved = Vec::with_capacity(prepared.len());
    for (file_name, spooled, format, analysis) in prepared {
        let new = NewArtifact {
            incident_id,
            sha256: spooled.sha256.clone(),
            size: spooled.size,
            file_name: file_name.clone(),
            format: format.name(),
            format_detail: format_detail(&format),
            note: upload.note.clone(),
            timeline_event_id: upload.timeline_event_id,
            uploaded_by: uploader,
            analysis,
        };
        saved.push(db::insert_artifact(&mut tx, &new).await?);
    }
    tx.commit().await?;
    if saved.iter().any(|artifact| artifact.analysis_status == "pending") {
        state.analyser.wake.notify_one();
    }
    Ok(saved)
}

/// A small recognised file is analysed now: one that cannot be read is
/// refused before anything is kept. A large one is queued.
async fn first_analysis(
    state: &AppState,
    format: &Format,
    spooled: &Spooled,
) -> std::result::Result<AnalysisState, AnalysisError> {
    if !is_analysed(format) {
        return Ok(AnalysisState::None);
    }
    // A small file is analysed at once, so the uploader sees the findings
    // with the upload's answer.
    if spooled.size > state.config.analyse_inline_bytes {
        return Ok(AnalysisState::Pending);
    }
    // Read within the CPU pool's turn: a burst of uploads waiting for a
    // turn holds spool files, not their bytes.
    let path = spooled.path().to_owned();
    let format = format.clone();
    let limit = state.config.max_analysis_bytes;
    let analysed: std::result::Result<Analysed, AnalysisError> = state
        .cpu
        .run(move || {
            let bytes = std::fs::read(&path).map_err(|err| AnalysisError::Unreadable(err.to_string()))?;
            analyse(&format, &bytes, limit)
        })
        .await
        .map_err(|err| AnalysisError::Unreadable(err.to_string()))?;
    let analysed = analysed?;
    Ok(AnalysisState::Done { analysis: analysed.analysis, summary: analysed.summary })
}

fn refused(file_name: &str, err: AnalysisError) -> AppError {
    match err {
        AnalysisError::TooLarge(reason) => AppError::PayloadTooLarge(format!("{file_name}: {reason}")),
        AnalysisError::Unreadable(reason) => {
            AppError::Unprocessable(format!("{file_name} cannot be read: {reason}"))
        }
    }
}

fn format_detail(format: &Format) -> String {
    match format {
        Format::GoTrace { go_version } => go_version.clone(),
        Format::GoroutineDump { kind, .. } => format!("{kind:?}").to_lowercase(),
        Format::PprofText { kind, .. } => format!("{kind:?}").to_lowercase(),
        Format::Pprof { .. } | Format::Other => String::new(),
    }
}

fn claims_to_be_a_profile(file_name: &str) -> bool {
    let lower = file_name.to_ascii_lowercase();
    PROFILE_NAMES.iter().any(|suffix| lower.ends_with(suffix))
}

/// The uploader's file name, fit to offer as a download's name: its last
/// path part, without control characters or quotes, at most 255 bytes.
pub fn safe_file_name(raw: &str) -> String {
    let last = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = last
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';'))
        .collect::<String>()
        .trim()
        .to_owned();
    let mut name =
        if cleaned.is_empty() || cleaned == "." || cleaned == ".." { "artifact".to_owned() } else { cleaned };
    while name.len() > 255 {
        name.pop();
    }
    name
}

fn expired_form() -> AppError {
    AppError::Forbidden(
        "This form has expired or did not come from Debrief, so nothing was uploaded. Reload the page and try again."
            .into(),
    )
}

fn store_error(err: StoreError) -> AppError {
    match err {
        StoreError::TooLarge { limit } => AppError::PayloadTooLarge(format!(
            "The file is larger than the upload limit of {} MiB.",
            limit.div_ceil(1024 * 1024)
        )),
        other => AppError::Internal(anyhow::anyhow!(other)),
    }
}

/// A body past the limit reads as an error of the multipart stream.
fn multipart_error(err: MultipartError) -> AppError {
    let status = err.status();
    if status == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::PayloadTooLarge("The upload is larger than the upload limit.".into())
    } else {
        AppError::BadRequest(format!("The upload could not be read: {}", err.body_text()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_name_is_kept_only_as_a_safe_last_part() {
        assert_eq!(safe_file_name("goroutines.txt"), "goroutines.txt");
        assert_eq!(safe_file_name("../../etc/passwd"), "passwd");
        assert_eq!(safe_file_name("C:\\Users\\bo\\cpu.pb.gz"), "cpu.pb.gz");
        assert_eq!(safe_file_name("a\"b;\r\nc.txt"), "abc.txt");
        assert_eq!(safe_file_name(""), "artifact");
        assert_eq!(safe_file_name(".."), "artifact");
        assert_eq!(safe_file_name(&"é".repeat(200)).len(), 254);
    }

    #[test]
    fn profile_names_are_told() {
        assert!(claims_to_be_a_profile("CPU.PB.GZ"));
        assert!(claims_to_be_a_profile("heap.pprof"));
        assert!(!claims_to_be_a_profile("notes.txt"));
    }
}
