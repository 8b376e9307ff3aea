//! The state every handler can reach: the pool, the configuration, and the
//! bounded places where heavy work runs.

use crate::evidence::worker::Analyser;
use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::{
    auth::credentials::Hashing,
    config::Config,
    incidents::{document::Document, listing::ListPlaces, page_cache::PageCache},
    web::{cpu::CpuPool, current_user::RecentUsers},
};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    /// Our own origin (`scheme://host[:port]`), for same-origin checks.
    pub origin: Arc<str>,
    /// The parts of a postmortem, in reading order.
    pub document: Document,
    /// Incident pages as last rendered for each reader.
    pub pages: Arc<PageCache>,
    /// Where the incident list's pages start, for paging deep.
    pub list_places: Arc<ListPlaces>,
    /// Signed-in users as read in the last second.
    pub users: Arc<RecentUsers>,
    /// Where passwords are hashed and checked, a few at a time.
    pub hashing: Hashing,
    /// Where the CPU-heavy steps of requests run, a few at a time.
    pub cpu: CpuPool,
    /// The artifact store and the worker that analyses what is queued.
    pub analyser: Analyser,
    /// Turns to hold an artifact's bytes in memory for a page or a call.
    pub artifact_reads: Arc<tokio::sync::Semaphore>,
    /// Turns to write a zip of reports (see `export::archive`).
    pub bulk_exports: Arc<tokio::sync::Semaphore>,
    /// The figures `/metrics` serves.
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The insights' figures as last computed (see `insights::cache`).
    pub insights: Arc<crate::insights::cache::FiguresCache>,
    /// The webhook deliverer, woken when a change has queued word of itself.
    pub webhooks: crate::notify::deliver::Deliverer,
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> PgPool {
        state.pool.clone()
    }
}
