//! The analysis worker: one task per app process, owned by the app and
//! stopped with it, that takes queued analyses one at a time and runs each
//! on a blocking thread, bounded in size and time.

use std::{sync::Arc, time::Duration};

use sqlx::PgPool;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::{
    analysis::{AnalysisError, analyse},
    db,
    detect::detect,
    queue::{self, Job, Outcome},
    store::{ArtifactStore, StoreError},
};

/// How often an idle worker looks for work others queued.
const POLL: Duration = Duration::from_secs(2);
/// How often content no artifact holds any more is removed from the store.
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);

/// What the worker needs, shared with the uploads that wake it.
#[derive(Clone)]
pub struct Analyser {
    pub pool: PgPool,
    pub store: ArtifactStore,
    /// Files larger than this are not analysed.
    pub max_bytes: u64,
    /// An analysis taking longer than this is given up.
    pub timeout: Duration,
    /// How long a claim lasts between renewals.
    pub lease: Duration,
    /// Who this worker is, in the job's lease.
    pub name: Arc<str>,
    /// Rung when this process queues a job, so it starts at once.
    pub wake: Arc<Notify>,
}

impl std::fmt::Debug for Analyser {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Analyser").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Analyser {
    /// Takes and runs jobs until `stop`. A failure of the database is
    /// logged and retried at the next poll; a job is never lost with it.
    pub async fn run_until_stopped(self, stop: CancellationToken) {
        let mut swept = tokio::time::Instant::now() - SWEEP_EVERY;
        loop {
            if swept.elapsed() >= SWEEP_EVERY {
                swept = tokio::time::Instant::now();
                match self.sweep().await {
                    Ok(0) => {}
                    Ok(removed) => tracing::info!(removed, "removed content no artifact holds"),
                    Err(err) => tracing::warn!(error = %err, "could not sweep the artifact store"),
                }
            }
            loop {
                if stop.is_cancelled() {
                    return;
                }
                match queue::claim(&self.pool, &self.name, self.lease).await {
                    Ok(Some(job)) => self.run_job(job).await,
                    Ok(None) => break,
                    Err(err) => {
                        tracing::warn!(error = %err, "could not take an analysis job");
                        break;
                    }
                }
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = self.wake.notified() => {}
                _ = tokio::time::sleep(POLL) => {}
            }
        }
    }

    /// Runs every job that is ready now, then returns; for tests and the CLI.
    pub async fn run_ready(&self) -> crate::error::Result<usize> {
        let mut ran = 0;
        while let Some(job) = queue::claim(&self.pool, &self.name, self.lease).await? {
            self.run_job(job).await;
            ran += 1;
        }
        Ok(ran)
    }

    /// Removes from the store the content that no artifact has held for an
    /// hour; says how much.
    pub async fn sweep(&self) -> crate::error::Result<usize> {
        let mut removed = 0;
        loop {
            let batch = db::sweep_blobs(&self.pool, 100).await?;
            for sha in &batch {
                // Forgotten already: a failure here leaves an orphan file, not a broken artifact.
                if let Err(err) = self.store.remove(sha).await {
                    tracing::warn!(error = %err, sha256 = %sha, "could not remove content from the store");
                }
            }
            removed += batch.len();
            if batch.len() < 100 {
                return Ok(removed);
            }
        }
    }

    #[tracing::instrument(skip_all, fields(artifact = %job.artifact_id, attempt = job.attempts))]
    async fn run_job(&self, job: Job) {
        let outcome = if job.attempts > queue::MAX_ATTEMPTS {
            // The last claim ended without a result: the process running
            // it died, perhaps of this very file. Not again.
            Outcome::Failed(format!("gave up after {} attempts that did not finish", job.attempts - 1))
        } else {
            self.renewing(&job, self.outcome(&job)).await
        };
        tracing::info!(outcome = outcome_name(&outcome), "analysis finished");
        match queue::finish(&self.pool, &job, &self.name, outcome).await {
            Ok(true) => {}
            Ok(false) => tracing::warn!("the analysis ran past its lease; another worker has the job"),
            Err(err) => tracing::warn!(error = %err, "could not store an analysis; it will run again"),
        }
    }

    /// Runs `work` while renewing the lease on `job` a few times per lease,
    /// so a live worker keeps its job however long the analysis runs.
    async fn renewing(&self, job: &Job, work: impl Future<Output = Outcome>) -> Outcome {
        let mut work = std::pin::pin!(work);
        let every = self.lease / 3;
        let mut renew = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        renew.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                outcome = &mut work => return outcome,
                _ = renew.tick() => match queue::renew(&self.pool, job, &self.name, self.lease).await {
                    Ok(true) => {}
                    Ok(false) => tracing::warn!("the lease on an analysis ran out; another worker may take it"),
                    Err(err) => tracing::warn!(error = %err, "could not renew the lease on an analysis"),
                },
            }
        }
    }

    async fn outcome(&self, job: &Job) -> Outcome {
        let artifact = match db::find_artifact(&self.pool, job.artifact_id).await {
            Ok(Some(artifact)) => artifact,
            Ok(None) => return Outcome::Failed("the artifact is gone".into()),
            Err(err) => return Outcome::Retry(format!("the database failed: {err}")),
        };
        let bytes = match self.store.read(&artifact.sha256, self.max_bytes).await {
            Ok(bytes) => bytes,
            Err(StoreError::TooLarge { limit }) => {
                return Outcome::Failed(format!(
                    "the file is larger than the {limit} bytes Debrief analyses"
                ));
            }
            Err(err) => return Outcome::Retry(err.to_string()),
        };
        let max_bytes = self.max_bytes;
        let work = tokio::task::spawn_blocking(move || {
            let format = detect(&bytes[..bytes.len().min(super::detect::PREFIX_BYTES)]);
            analyse(&format, &bytes, max_bytes)
        });
        match tokio::time::timeout(self.timeout, work).await {
            Ok(Ok(Ok(analysed))) => Outcome::Done { analysis: analysed.analysis, summary: analysed.summary },
            Ok(Ok(Err(AnalysisError::TooLarge(reason) | AnalysisError::Unreadable(reason)))) => {
                Outcome::Failed(reason)
            }
            Ok(Err(panicked)) => {
                tracing::error!(error = %panicked, "an analysis panicked");
                Outcome::Failed("the analysis failed on this file; it has been logged".into())
            }
            Err(_) => Outcome::Failed(format!("the analysis took longer than {} s", self.timeout.as_secs())),
        }
    }
}

fn outcome_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Done { .. } => "done",
        Outcome::Failed(_) => "failed",
        Outcome::Retry(_) => "retry",
    }
}
