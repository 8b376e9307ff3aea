//! The demo's evidence: real goroutine dumps, crash output and profiles made
//! by the fixture programs under `tests/fixtures/go/`, attached to the demo
//! postmortems they match, so a newcomer sees what Debrief reads in them.

use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    error::{AppError, Result},
    evidence::{
        analysis::{analyse, is_analysed},
        db::{self, AnalysisState, Artifact, NewArtifact},
        detect::{PREFIX_BYTES, detect},
        store::ArtifactStore,
    },
    timeline::domain::EventKind,
};

/// One file of the demo, and where it goes.
pub struct DemoFile {
    /// The demo postmortem's place in time order (INC-1 is 1).
    pub postmortem: usize,
    pub file_name: &'static str,
    pub bytes: &'static [u8],
    pub note: &'static str,
    /// Linked to the first event of this kind, when there is one.
    pub taken_at: Option<EventKind>,
}

macro_rules! fixture {
    ($path:literal) => {
        include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/", $path))
    };
}

pub const FILES: [DemoFile; 10] = [
    DemoFile {
        postmortem: 1,
        file_name: "checkout-7f9c-goroutines.txt",
        bytes: fixture!("dumps/httpleak.goroutine.debug2.txt"),
        note: "/debug/pprof/goroutine?debug=2 from one checkout pod while QPS was down",
        taken_at: Some(EventKind::Alert),
    },
    DemoFile {
        postmortem: 1,
        file_name: "checkout-7f9c-cpu.pb.gz",
        bytes: fixture!("pprof/httpleak.cpu.pb.gz"),
        note: "CPU profile of the same pod during the stall",
        taken_at: Some(EventKind::Hypothesis),
    },
    DemoFile {
        postmortem: 2,
        file_name: "search-ranker-goroutines.txt",
        bytes: fixture!("dumps/ctxleak.goroutine.debug2.txt"),
        note: "ranker shard goroutines still waiting after their callers gave up",
        taken_at: Some(EventKind::Hypothesis),
    },
    DemoFile {
        postmortem: 3,
        file_name: "notifier-crash.log",
        bytes: fixture!("dumps/crash.panic.txt"),
        note: "stderr of the crashed worker",
        taken_at: Some(EventKind::Alert),
    },
    DemoFile {
        postmortem: 4,
        file_name: "auth-gateway-crash.log",
        bytes: fixture!("dumps/crash.map_writes.txt"),
        note: "the fatal error from one auth-gateway pod",
        taken_at: Some(EventKind::Hypothesis),
    },
    DemoFile {
        postmortem: 6,
        file_name: "ingest-goroutines.txt",
        bytes: fixture!("dumps/chansend.goroutine.debug2.txt"),
        note: "taken an hour before the next OOM kill",
        taken_at: Some(EventKind::Hypothesis),
    },
    DemoFile {
        postmortem: 7,
        file_name: "ledger-mutex.pb.gz",
        bytes: fixture!("pprof/mutex.mutex.pb.gz"),
        note: "mutex profile during the month-end run",
        taken_at: Some(EventKind::Hypothesis),
    },
    DemoFile {
        postmortem: 7,
        file_name: "ledger-goroutines.txt",
        bytes: fixture!("dumps/mutex.goroutine.debug2.txt"),
        note: "goroutines queued on the FX cache lock",
        taken_at: Some(EventKind::Alert),
    },
    DemoFile {
        postmortem: 8,
        file_name: "pricing-heap-before.pb.gz",
        bytes: fixture!("pprof/diff-before.heap.pb.gz"),
        note: "heap an hour after a restart",
        taken_at: None,
    },
    DemoFile {
        postmortem: 8,
        file_name: "pricing-heap-after.pb.gz",
        bytes: fixture!("pprof/diff-after.heap.pb.gz"),
        note: "heap five hours after the same restart: compare it with the one before",
        taken_at: Some(EventKind::Observation),
    },
];

/// Attaches the demo files of the `postmortem`-th demo postmortem to its
/// incident, analysed, as `author` uploaded them.
pub async fn attach(
    tx: &mut PgConnection,
    store: &ArtifactStore,
    postmortem: usize,
    incident_id: Uuid,
    author: Uuid,
) -> Result<Vec<Artifact>> {
    let mut attached = Vec::new();
    for file in FILES.iter().filter(|file| file.postmortem == postmortem) {
        let mut spool = store.spool(u64::MAX).await.map_err(store_error)?;
        spool.write(file.bytes).await.map_err(store_error)?;
        let spooled = spool.finish().await.map_err(store_error)?;
        db::touch_blob(&mut *tx, &spooled.sha256, spooled.size).await?;
        store.keep(&spooled).await.map_err(store_error)?;
        let format = detect(&file.bytes[..file.bytes.len().min(PREFIX_BYTES)]);
        let analysis = if is_analysed(&format) {
            let detected = format.clone();
            let analysed = tokio::task::spawn_blocking(move || analyse(&detected, file.bytes, 1 << 28))
                .await
                .map_err(|err| anyhow::anyhow!("analysing {}: {err}", file.file_name))?
                .map_err(|err| {
                    anyhow::anyhow!("the demo file {} cannot be analysed: {err}", file.file_name)
                })?;
            AnalysisState::Done { analysis: analysed.analysis, summary: analysed.summary }
        } else {
            AnalysisState::None
        };
        let timeline_event_id = match file.taken_at {
            Some(kind) => first_event(&mut *tx, incident_id, kind).await?,
            None => None,
        };
        let new = NewArtifact {
            incident_id,
            sha256: spooled.sha256.clone(),
            size: spooled.size,
            file_name: file.file_name.to_owned(),
            format: format.name(),
            format_detail: String::new(),
            note: file.note.to_owned(),
            timeline_event_id,
            uploaded_by: author,
            analysis,
        };
        attached.push(db::insert_artifact(&mut *tx, &new).await?);
    }
    Ok(attached)
}

async fn first_event(db: &mut PgConnection, incident_id: Uuid, kind: EventKind) -> Result<Option<Uuid>> {
    let sql =
        "select id from timeline_event where incident_id = $1 and kind = $2 order by occurred_at, id limit 1";
    Ok(sqlx::query_scalar(sql).bind(incident_id).bind(kind.to_string()).fetch_optional(db).await?)
}

fn store_error(err: crate::evidence::store::StoreError) -> AppError {
    AppError::Internal(anyhow::anyhow!(err))
}
