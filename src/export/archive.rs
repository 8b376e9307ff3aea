//! Every postmortem a search finds, or every one there is, as a zip of
//! Markdown reports, streamed: the archive is written a few incidents at a
//! time while the client reads it, so its size costs neither memory nor
//! a connection held while a slow client reads.
//!
//! One task writes each archive and the response body owns it: the task
//! ends when the archive is whole, when the client goes away (the body is
//! dropped, which aborts it), or when the client stops reading for
//! [`SEND_TIMEOUT`]. At most [`AT_ONCE`] archives are written at once.

use std::{
    io::Write,
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Body,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use bytes::Bytes;
use flate2::{Compression, write::DeflateEncoder};
use rawzip::{CompressionMethod, ZipArchiveWriter, time::UtcDateTime};
use time::OffsetDateTime;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};
use tokio_util::task::AbortOnDropHandle;

use crate::{
    error::{AppError, Result},
    incidents::{db::find_incidents, report::ExportOptions},
    search::{Search, db},
    state::AppState,
    web::cpu::take_turn,
};

/// Archives written at once; a further request waits [`WAIT`] for a turn,
/// then gets 503.
pub const AT_ONCE: usize = 2;
const WAIT: Duration = Duration::from_secs(10);
/// Incidents read and written per step: the most reports held at once.
const STEP: i64 = 50;
/// How long the writer waits for the client to take the next chunk.
const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// Chunks written ahead of the client.
const AHEAD: usize = 4;

/// The turns to write an archive.
pub fn turns() -> Arc<Semaphore> {
    Arc::new(Semaphore::new(AT_ONCE))
}

/// What an archive holds: the hits of `search` (every incident, for one
/// with neither text nor filters), its dates read as `range`.
pub struct Selection {
    pub search: Search,
    pub range: (Option<OffsetDateTime>, Option<OffsetDateTime>),
}

/// The archive as a download, streamed.
pub async fn download(state: &AppState, selection: Selection, options: ExportOptions) -> Result<Response> {
    let turn = take_turn(&state.bulk_exports, WAIT, "the archive writers", 30).await?;
    let (chunks, body) = mpsc::channel::<std::io::Result<Bytes>>(AHEAD);
    let writer = tokio::spawn(write(state.clone(), selection, options, chunks, turn));
    let stream = Chunks { body, _writer: AbortOnDropHandle::new(writer) };
    let name = format!("debrief-{}.zip", OffsetDateTime::now_utc().date());
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/zip")),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// The body: the chunks the writer sends, and the writer itself, which
/// ends with it.
struct Chunks {
    body: mpsc::Receiver<std::io::Result<Bytes>>,
    _writer: AbortOnDropHandle<()>,
}

impl futures_util::Stream for Chunks {
    type Item = std::io::Result<Bytes>;

    fn poll_next(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Self::Item>> {
        self.body.poll_recv(cx)
    }
}

/// Writes the archive into `chunks` until it is whole; a failure ends the
/// body with an error, so the client sees a broken download, never a
/// short archive that looks whole.
async fn write(
    state: AppState,
    selection: Selection,
    options: ExportOptions,
    chunks: mpsc::Sender<std::io::Result<Bytes>>,
    _turn: OwnedSemaphorePermit,
) {
    match write_all(&state, &selection, &options, &chunks).await {
        Ok(()) => {}
        Err(Stop::Gone) => tracing::info!("an archive's client went away before it was whole"),
        Err(Stop::Failed(err)) => {
            tracing::error!(error = ?err, "an archive could not be written");
            let _ = chunks
                .send_timeout(Err(std::io::Error::other("the archive could not be written")), SEND_TIMEOUT)
                .await;
        }
    }
}

enum Stop {
    /// The client went away or stopped reading.
    Gone,
    Failed(AppError),
}

impl From<AppError> for Stop {
    fn from(err: AppError) -> Stop {
        Stop::Failed(err)
    }
}

async fn write_all(
    state: &AppState,
    selection: &Selection,
    options: &ExportOptions,
    chunks: &mpsc::Sender<std::io::Result<Bytes>>,
) -> std::result::Result<(), Stop> {
    let written = Written::default();
    let mut archive = Some(ZipArchiveWriter::new(written.clone()));
    let mut after = None;
    loop {
        let hits = db::hits_after(&state.pool, &selection.search, selection.range, after, STEP).await?;
        let Some((_, last)) = hits.last() else { break };
        after = Some(*last);
        let reports = reports(state, &hits, options).await?;
        let zip = archive.take().ok_or_else(|| AppError::from(anyhow::anyhow!("the archive is gone")))?;
        archive = Some(state.cpu.run(move || add(zip, reports)).await??);
        send(chunks, written.take()).await?;
        if hits.len() < usize::try_from(STEP).unwrap_or(usize::MAX) {
            break;
        }
    }
    if let Some(zip) = archive {
        state.cpu.run(move || zip.finish().map_err(zip_error)).await??;
    }
    send(chunks, written.take()).await
}

/// Each of `hits` as its file name, last change and report, in the hits'
/// order (an incident deleted meanwhile is left out), on one connection
/// given back before the reports are compressed and sent.
async fn reports(
    state: &AppState,
    hits: &[(uuid::Uuid, db::Place)],
    options: &ExportOptions,
) -> Result<Vec<(String, OffsetDateTime, String)>> {
    let mut conn = state.pool.acquire().await?;
    let ids: Vec<uuid::Uuid> = hits.iter().map(|(id, _)| *id).collect();
    let mut incidents = find_incidents(&mut *conn, &ids).await?;
    let mut reports = Vec::with_capacity(incidents.len());
    for (id, _) in hits {
        let Some(at) = incidents.iter().position(|incident| incident.id == *id) else { continue };
        let incident = incidents.swap_remove(at);
        let report = state.document.export(&mut conn, &incident, options).await?;
        reports.push((format!("{}.md", incident.reference), incident.updated_at, report));
    }
    Ok(reports)
}

/// Adds each report to the archive, deflated.
fn add(
    mut zip: ZipArchiveWriter<Written>,
    reports: Vec<(String, OffsetDateTime, String)>,
) -> Result<ZipArchiveWriter<Written>> {
    for (name, changed, report) in reports {
        let (mut entry, config) = zip
            .new_file(name.as_str())
            .compression_method(CompressionMethod::DEFLATE)
            .last_modified(UtcDateTime::from_unix(changed.unix_timestamp()))
            .unix_permissions(0o644)
            .start()
            .map_err(zip_error)?;
        let mut data = config.wrap(DeflateEncoder::new(&mut entry, Compression::default()));
        data.write_all(report.as_bytes()).map_err(|err| AppError::from(anyhow::Error::from(err)))?;
        let (encoder, descriptor) = data.finish().map_err(zip_error)?;
        encoder.finish().map_err(|err| AppError::from(anyhow::Error::from(err)))?;
        entry.finish(descriptor).map_err(zip_error)?;
    }
    Ok(zip)
}

fn zip_error(err: rawzip::Error) -> AppError {
    anyhow::anyhow!("writing the archive failed: {err}").into()
}

/// Hands `bytes` to the client, waiting at most [`SEND_TIMEOUT`] for it to
/// take them.
async fn send(
    chunks: &mpsc::Sender<std::io::Result<Bytes>>,
    bytes: Vec<u8>,
) -> std::result::Result<(), Stop> {
    if bytes.is_empty() {
        return Ok(());
    }
    chunks.send_timeout(Ok(Bytes::from(bytes)), SEND_TIMEOUT).await.map_err(|_| Stop::Gone)
}

/// What the archive has written and the client has not yet been sent:
/// shared between the archive, which owns its writer, and the loop that
/// sends it.
#[derive(Clone, Default)]
struct Written(Arc<Mutex<Vec<u8>>>);

impl Written {
    fn take(&self) -> Vec<u8> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()))
    }
}

impl Write for Written {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
