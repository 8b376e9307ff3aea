//! The state every handler can reach: the pool and the configuration.

use std::sync::Arc;

use axum::extract::FromRef;
use sqlx::PgPool;

use crate::{config::Config, incidents::page_cache::PageCache, web::current_user::RecentUsers};

#[derive(Clone)]
pub struct AppState {
    pub pool: PgPool,
    pub config: Arc<Config>,
    /// Our own origin (`scheme://host[:port]`), for same-origin checks.
    pub origin: Arc<str>,
    /// Incident pages as last rendered for each reader.
    pub pages: Arc<PageCache>,
    /// Signed-in users as read in the last second.
    pub users: Arc<RecentUsers>,
}

impl FromRef<AppState> for PgPool {
    fn from_ref(state: &AppState) -> PgPool {
        state.pool.clone()
    }
}
