//! The CPU-heavy steps of a request (rendering a large page, comparing two
//! revisions) run here: on blocking threads, never on the async workers
//! that serve every other request, and never more at once than there are
//! turns. A request that cannot get a turn in time is answered 503 with
//! `Retry-After` rather than piling up behind the others.

use std::{sync::Arc, time::Duration};

use askama::Template;
use axum::response::Html;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::{
    error::{AppError, Result, render},
    telemetry::spawn_blocking_with_tracing,
};

/// How long a request waits for a turn.
const WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone)]
pub struct CpuPool {
    turns: Arc<Semaphore>,
    wait: Duration,
}

impl CpuPool {
    /// At most `turns` steps at once.
    pub fn new(turns: usize) -> CpuPool {
        CpuPool { turns: Arc::new(Semaphore::new(turns.max(1))), wait: WAIT }
    }

    /// Runs `work` on a blocking thread once a turn is free. A panic in it
    /// becomes an internal error of this request alone.
    pub async fn run<R: Send + 'static>(&self, work: impl FnOnce() -> R + Send + 'static) -> Result<R> {
        let turn = take_turn(&self.turns, self.wait, "the CPU pool", 5).await?;
        let value = spawn_blocking_with_tracing(move || {
            let value = work();
            drop(turn);
            value
        })
        .await
        .map_err(|err| anyhow::anyhow!("a CPU-heavy step failed: {err}"))?;
        Ok(value)
    }

    /// Renders a page's template here.
    pub async fn render<T: Template + Send + 'static>(&self, page: T) -> Result<Html<String>> {
        self.run(move || render(&page)).await?
    }
}

/// One of `turns`, waiting up to `wait` for it; past that the request is
/// told to come back in `retry_after_secs` (503). `what` names the
/// resource in the log.
pub async fn take_turn(
    turns: &Arc<Semaphore>,
    wait: Duration,
    what: &str,
    retry_after_secs: u64,
) -> Result<OwnedSemaphorePermit> {
    match tokio::time::timeout(wait, Arc::clone(turns).acquire_owned()).await {
        Ok(Ok(turn)) => Ok(turn),
        Ok(Err(_)) => Err(anyhow::anyhow!("{what} is closed").into()),
        Err(_) => {
            tracing::warn!("{what} is at capacity; a request was turned away");
            Err(AppError::Busy { retry_after_secs })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn work_runs_off_the_async_workers_and_a_panic_is_an_error() {
        let pool = CpuPool::new(1);
        let name = pool.run(|| std::thread::current().name().map(str::to_owned)).await.unwrap();
        assert_ne!(name.as_deref(), Some("tokio-runtime-worker"));
        let failed = pool.run(|| -> u8 { panic!("a bug in a renderer") }).await;
        assert!(matches!(failed, Err(AppError::Internal(_))));
        assert_eq!(pool.run(|| 2 + 2).await.unwrap(), 4, "a panic gives its turn back");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn past_its_turns_a_request_is_turned_away() {
        let pool = CpuPool { turns: Arc::new(Semaphore::new(1)), wait: Duration::from_millis(20) };
        let slow = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(|| std::thread::sleep(Duration::from_millis(300))).await })
        };
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(matches!(pool.run(|| ()).await, Err(AppError::Busy { .. })));
        slow.await.unwrap().unwrap();
    }
}
