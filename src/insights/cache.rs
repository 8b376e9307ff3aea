//! Figures as last computed, reused until what they read changes.
//!
//! Computing the figures reads a year of incidents, their causes, action
//! items, artifacts and checklists: 75 to 430 ms on 100,000 incidents
//! (see `benches/insights.sh`), while the page must answer within tens of
//! milliseconds. The figures change only when those tables do, so each set
//! is kept with the value of the change counter (`insights_change`, moved
//! by triggers on every write to them, see the migration) it was computed
//! at, and served while the counter has not moved: one cheap read per
//! request.
//!
//! When the counter has moved, the first request to see it starts one
//! computation (never two for the same figures) and waits for it up to
//! [`WAIT`]; past that, and for every request while it runs, the figures
//! kept before are served, then at most one computation behind the last
//! write. So a busy page stays fast while writes land, and a quiet one
//! shows a change at once. Figures nobody has asked for yet are waited
//! for, however long they take.
//!
//! The counter moves when a write runs, a moment before it commits, so a
//! computation that starts in that moment misses the write yet keeps the
//! new value; kept figures are therefore also computed again once older
//! than [`MAX_AGE`], which bounds such staleness.
//!
//! A computation runs on its own task, so that it finishes and is kept
//! even when the requests that wanted it have given up; at most
//! [`COMPUTATIONS`] run at once, each on one connection, and at most
//! [`FLIGHTS`] are under way or waiting, past which a request for figures
//! not kept is answered 503 with `Retry-After`: a burst of new filters
//! never takes the pool from the rest of the app nor queues without end.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use futures_util::{
    FutureExt,
    future::{BoxFuture, Shared},
};
use time::Date;
use tokio::sync::Semaphore;

use super::figures::Insights;
use crate::error::{AppError, Result};

/// Kept figures older than this are computed again even if the counter did not move.
pub const MAX_AGE: Duration = Duration::from_secs(60);
/// How long a request waits for figures being computed when older ones are kept.
pub const WAIT: Duration = Duration::from_millis(100);
/// At most this many computations at once.
const COMPUTATIONS: usize = 2;
/// At most this many computations started or waiting for their turn: a
/// burst of new filters past it is told to come back, not queued.
const FLIGHTS: usize = 16;
/// At most this many sets of figures are kept (a set is a few kilobytes).
const MAX_KEPT: usize = 256;

/// Which figures: everything they depend on besides the counter.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// The filters, as their query string says them.
    pub filters: String,
    /// The reader's zone, which months and days are read in.
    pub zone: String,
    /// Today there, which "overdue" counts against.
    pub today: Date,
}

/// A computation's result, shared by everyone waiting for it.
type Flight = Shared<BoxFuture<'static, Result<Arc<Insights>, Failure>>>;

/// Why a computation failed, as every waiting request reports it.
#[derive(Debug, Clone)]
pub enum Failure {
    Busy,
    Unavailable,
    Internal,
}

impl From<Failure> for AppError {
    fn from(failure: Failure) -> AppError {
        match failure {
            Failure::Busy => AppError::Busy { retry_after_secs: 5 },
            Failure::Unavailable => {
                AppError::Unavailable(anyhow::anyhow!("the insights could not be computed"))
            }
            Failure::Internal => AppError::Internal(anyhow::anyhow!("the insights could not be computed")),
        }
    }
}

struct Kept {
    counter: i64,
    computed: Instant,
    figures: Arc<Insights>,
}

#[derive(Default)]
struct Entries {
    kept: HashMap<Key, Kept>,
    /// The computation under way for each key, if any.
    flights: HashMap<Key, Flight>,
}

pub struct FiguresCache {
    entries: Mutex<Entries>,
    computations: Arc<Semaphore>,
}

impl Default for FiguresCache {
    fn default() -> Self {
        FiguresCache { entries: Mutex::default(), computations: Arc::new(Semaphore::new(COMPUTATIONS)) }
    }
}

impl FiguresCache {
    fn entries(&self) -> std::sync::MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The figures of `key` as of `counter`: kept, or computed by
    /// `compute` (see the module's doc for when each is served).
    pub async fn get<F>(self: &Arc<Self>, key: Key, counter: i64, compute: F) -> Result<Arc<Insights>>
    where
        F: FnOnce() -> BoxFuture<'static, Result<Insights>>,
    {
        let (stale, flight, launched) = {
            let mut entries = self.entries();
            let stale = match entries.kept.get(&key) {
                Some(kept) if kept.counter == counter && kept.computed.elapsed() < MAX_AGE => {
                    return Ok(Arc::clone(&kept.figures));
                }
                Some(kept) => Some(Arc::clone(&kept.figures)),
                None => None,
            };
            match entries.flights.get(&key) {
                Some(flight) => (stale, flight.clone(), false),
                None if entries.flights.len() >= FLIGHTS => {
                    return stale.ok_or(AppError::Busy { retry_after_secs: 5 });
                }
                None => {
                    let flight = self.launch(key.clone(), counter, compute());
                    entries.flights.insert(key, flight.clone());
                    (stale, flight, true)
                }
            }
        };
        match stale {
            None => Ok(flight.await?),
            // Only the request that saw the change first waits: the others
            // would wait for nothing newer than what is kept.
            Some(stale) if !launched => Ok(stale),
            Some(stale) => match tokio::time::timeout(WAIT, flight).await {
                Ok(Ok(figures)) => Ok(figures),
                // The figures kept before are better than none.
                Ok(Err(_)) | Err(_) => Ok(stale),
            },
        }
    }

    /// Starts computing `key`'s figures on a task of their own, which keeps
    /// them when done.
    fn launch(
        self: &Arc<Self>,
        key: Key,
        counter: i64,
        compute: BoxFuture<'static, Result<Insights>>,
    ) -> Flight {
        let cache = Arc::clone(self);
        let task = tokio::spawn(async move {
            let result = match Arc::clone(&cache.computations).acquire_owned().await {
                Ok(_turn) => compute.await.map(Arc::new),
                Err(_) => Err(anyhow::anyhow!("the insights' computations are closed").into()),
            };
            let mut entries = cache.entries();
            entries.flights.remove(&key);
            match result {
                Ok(figures) => {
                    keep(&mut entries.kept, key, counter, Arc::clone(&figures));
                    Ok(figures)
                }
                Err(err) => {
                    tracing::error!(error = ?err, "computing the insights failed");
                    Err(match err {
                        AppError::Busy { .. } => Failure::Busy,
                        AppError::Unavailable(_) => Failure::Unavailable,
                        _ => Failure::Internal,
                    })
                }
            }
        });
        async move { task.await.unwrap_or(Err(Failure::Internal)) }.boxed().shared()
    }
}

fn keep(kept: &mut HashMap<Key, Kept>, key: Key, counter: i64, figures: Arc<Insights>) {
    if kept.len() >= MAX_KEPT && !kept.contains_key(&key) {
        // The oldest set goes: figures can be computed again.
        if let Some(oldest) = kept.iter().min_by_key(|(_, kept)| kept.computed).map(|(key, _)| key.clone()) {
            kept.remove(&oldest);
        }
    }
    kept.insert(key, Kept { counter, computed: Instant::now(), figures });
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use time::macros::{date, datetime};
    use tokio::sync::Notify;

    use super::*;
    use crate::{
        insights::{
            domain::Filters,
            figures::{Rows, build},
        },
        web::clock::Zone,
    };

    const TODAY: Date = date!(2026 - 03 - 15);

    fn key(from: Date) -> Key {
        Key { filters: format!("from={from}"), zone: "UTC".to_owned(), today: TODAY }
    }

    /// Figures whose range starts at `from`, to tell computations apart.
    fn figures(from: Date) -> Insights {
        let filters = Filters { from, to: TODAY, service: None, severity: None, cause: None };
        build(&filters, &Zone::utc(), TODAY, datetime!(2026-03-15 10:00 UTC), Rows::default())
    }

    /// A computation that counts itself and, when `gate` is given, waits
    /// for it to open before it answers.
    fn computation(
        runs: &Arc<AtomicUsize>,
        gate: Option<Arc<Notify>>,
        from: Date,
    ) -> impl FnOnce() -> BoxFuture<'static, Result<Insights>> + use<> {
        let runs = Arc::clone(runs);
        move || {
            async move {
                runs.fetch_add(1, Ordering::SeqCst);
                if let Some(gate) = gate {
                    gate.notified().await;
                }
                Ok(figures(from))
            }
            .boxed()
        }
    }

    #[tokio::test]
    async fn many_asking_at_once_share_one_computation() {
        let cache = Arc::new(FiguresCache::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Notify::new());
        let from = date!(2026 - 01 - 01);
        let asks: Vec<_> = (0..8)
            .map(|_| {
                let (cache, compute) =
                    (Arc::clone(&cache), computation(&runs, Some(Arc::clone(&gate)), from));
                tokio::spawn(async move { cache.get(key(from), 1, compute).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        gate.notify_one();
        for ask in asks {
            assert_eq!(ask.await.unwrap().unwrap().filters.from, from.to_string());
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        // Kept: the counter has not moved, nothing is computed again.
        cache.get(key(from), 1, computation(&runs, None, from)).await.unwrap();
        assert_eq!(runs.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_change_is_computed_once_while_the_figures_kept_are_served() {
        let cache = Arc::new(FiguresCache::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let (old, new) = (date!(2026 - 01 - 01), date!(2026 - 02 - 01));
        cache.get(key(old), 1, computation(&runs, None, old)).await.unwrap();

        // The counter moved: the first to see it waits up to WAIT, then
        // has the figures kept before; so do the others meanwhile, without
        // starting a computation of their own.
        let gate = Arc::new(Notify::new());
        let first = cache.get(key(old), 2, computation(&runs, Some(Arc::clone(&gate)), new)).await.unwrap();
        assert_eq!(first.filters.from, old.to_string());
        let second = cache.get(key(old), 2, computation(&runs, None, new)).await.unwrap();
        assert_eq!(second.filters.from, old.to_string());
        assert_eq!(runs.load(Ordering::SeqCst), 2);

        // Once done, the new figures are kept and served.
        gate.notify_one();
        tokio::time::sleep(Duration::from_millis(50)).await;
        let after = cache.get(key(old), 2, computation(&runs, None, old)).await.unwrap();
        assert_eq!(after.filters.from, new.to_string());
        assert_eq!(runs.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn new_figures_past_the_bound_are_refused_not_queued() {
        let cache = Arc::new(FiguresCache::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let gate = Arc::new(Notify::new());
        let days = (1..=FLIGHTS as u8 + 1).map(|day| date!(2026 - 01 - 01).replace_day(day).unwrap());
        let asks: Vec<_> = days
            .clone()
            .take(FLIGHTS)
            .map(|from| {
                let (cache, compute) =
                    (Arc::clone(&cache), computation(&runs, Some(Arc::clone(&gate)), from));
                tokio::spawn(async move { cache.get(key(from), 1, compute).await })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Only COMPUTATIONS run; the rest wait their turn, up to FLIGHTS.
        assert_eq!(runs.load(Ordering::SeqCst), COMPUTATIONS);
        let one_more = days.clone().next_back().unwrap();
        let refused = cache.get(key(one_more), 1, computation(&runs, None, one_more)).await;
        assert!(matches!(refused, Err(AppError::Busy { .. })), "{refused:?}");

        for _ in 0..FLIGHTS {
            gate.notify_one();
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        for ask in asks {
            ask.await.unwrap().unwrap();
        }
        assert_eq!(runs.load(Ordering::SeqCst), FLIGHTS);
        cache.get(key(one_more), 1, computation(&runs, None, one_more)).await.unwrap();
    }
}
