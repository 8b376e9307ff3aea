//! Figures as last computed, reused until what they read changes.
//!
//! Computing the figures reads a year of incidents, their causes, action
//! items, artifacts and checklists: a few hundred milliseconds on 100,000
//! incidents, while the page must answer within tens. The figures change
//! only when those tables do, so each set is kept with the value of the
//! change counter (`insights_change`, moved by triggers on every write to
//! them, see the migration) it was computed at, and served while the
//! counter has not moved: one cheap read per request.
//!
//! The counter moves when a write runs, a moment before it commits, so a
//! computation that starts in that moment misses the write yet keeps the
//! new value; figures are therefore also retired after [`MAX_AGE`], which
//! bounds such staleness. When many requests want figures that are not
//! kept, one computes them while the others wait for its result.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use time::Date;

use super::figures::Insights;
use crate::error::Result;

/// Figures older than this are computed again even if the counter did not move.
pub const MAX_AGE: Duration = Duration::from_secs(60);
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

struct Kept {
    counter: i64,
    computed: Instant,
    figures: Arc<Insights>,
}

#[derive(Default)]
pub struct FiguresCache {
    kept: Mutex<HashMap<Key, Kept>>,
    /// A lock per set of figures being computed, while anyone holds or awaits it.
    computing: Mutex<HashMap<Key, Arc<tokio::sync::Mutex<()>>>>,
}

impl FiguresCache {
    fn fresh(&self, key: &Key, counter: i64) -> Option<Arc<Insights>> {
        let kept = self.kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        kept.get(key)
            .filter(|kept| kept.counter == counter && kept.computed.elapsed() < MAX_AGE)
            .map(|kept| Arc::clone(&kept.figures))
    }

    fn keep(&self, key: Key, counter: i64, figures: Arc<Insights>) {
        let mut kept = self.kept.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if kept.len() >= MAX_KEPT && !kept.contains_key(&key) {
            // The oldest set goes: figures are cheap to compute again.
            if let Some(oldest) =
                kept.iter().min_by_key(|(_, kept)| kept.computed).map(|(key, _)| key.clone())
            {
                kept.remove(&oldest);
            }
        }
        kept.insert(key, Kept { counter, computed: Instant::now(), figures });
    }

    /// The figures of `key` kept at `counter`, or those `compute` gives,
    /// computed once however many requests ask at the same time.
    pub async fn get_or_compute<F, Fut>(&self, key: Key, counter: i64, compute: F) -> Result<Arc<Insights>>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Insights>>,
    {
        if let Some(figures) = self.fresh(&key, counter) {
            return Ok(figures);
        }
        let lock = {
            let mut computing = self.computing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            Arc::clone(computing.entry(key.clone()).or_default())
        };
        let result = {
            let _turn = lock.lock().await;
            match self.fresh(&key, counter) {
                Some(figures) => Ok(figures),
                None => match compute().await {
                    Ok(figures) => {
                        let figures = Arc::new(figures);
                        self.keep(key.clone(), counter, Arc::clone(&figures));
                        Ok(figures)
                    }
                    Err(err) => Err(err),
                },
            }
        };
        let mut computing = self.computing.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        // Ours and the map's: nobody else holds or awaits this lock.
        if Arc::strong_count(&lock) == 2 {
            computing.remove(&key);
        }
        result
    }
}
