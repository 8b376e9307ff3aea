//! The audit trail, for admins: sign-ins, role changes, tokens, deletions,
//! exports and the like, as the features record them through
//! [`crate::web::audit`]. Shown with filters, downloaded as JSON lines,
//! listed by the API, and pruned after the configured retention.

pub mod db;
pub mod domain;
pub mod handlers;
// The API's list lives with the pages; the OpenAPI document names it here.
pub use handlers::__path_api_list_events;
pub mod views;

use std::time::Duration;

use axum::{Router, middleware, routing::get};
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::{auth::domain::Role, state::AppState, web::require_role};

/// How often events past their retention are pruned.
const PRUNE_EVERY: Duration = Duration::from_secs(60 * 60);

/// Pages, for admins only.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/audit", get(handlers::list_events))
        .route("/admin/audit.jsonl", get(handlers::download_events))
        .route_layer(middleware::from_fn_with_state(Role::Admin, require_role))
}

/// API routes, mounted under `/api/v1`, for admins only.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/audit", get(handlers::api_list_events))
        .route_layer(middleware::from_fn_with_state(Role::Admin, require_role))
}

/// Prunes the events older than `retention_days` now and every hour, until
/// stopped; `0` keeps them forever. A failure (database away) is logged
/// and retried at the next turn.
pub async fn prune_forever(pool: PgPool, retention_days: u32, stop: CancellationToken) {
    if retention_days == 0 {
        return;
    }
    loop {
        match db::prune(&pool, retention_days).await {
            Ok(0) => {}
            Ok(pruned) => tracing::info!(events = pruned, "pruned audit events past their retention"),
            Err(err) => tracing::warn!(error = %err, "could not prune the audit trail"),
        }
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = stop.cancelled() => return,
        }
    }
}
