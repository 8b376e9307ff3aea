//! Insights, for everyone: how long incidents take to detect, mitigate and
//! resolve, month by month; how many there are by severity; which cause
//! categories and suspects come most often, and which come back after an
//! action item meant to prevent them was done; how action items progress,
//! by owner; which playbooks are used. Filtered by a range of days (on each
//! incident's start), a service, a severity and a cause category. The page
//! and `GET /api/v1/insights` give the same figures.
//!
//! Choices:
//! - Medians and 90th percentiles are PostgreSQL's `percentile_cont`
//!   (interpolated), said on the page too; see `db`.
//! - Months and days are the reader's, in their zone, as the incident
//!   list's `from` and `to` are, so that the list behind a month shows
//!   exactly its incidents; the API reads them in UTC.
//! - Charts are SVG written by hand on the server; `chart` says why.
//! - The figures are not precomputed: they are computed by plain queries
//!   (one read-only transaction, a few narrow indexes) and kept in memory
//!   until the database says something they read changed, through a
//!   counter moved by triggers; while they are computed again, readers get
//!   the figures kept before. `cache` says how. Tables of aggregates kept
//!   by triggers could not give medians, nor every combination of filters;
//!   a computation takes 75 to 430 ms on 100,000 incidents, and a kept
//!   page about ten milliseconds (see `benches/insights.sh`).

pub mod api;
pub mod cache;
pub mod chart;
pub mod db;
pub mod domain;
pub mod figures;
mod handlers;
mod views;

use std::sync::Arc;

use axum::{Router, middleware, routing::get};
use futures_util::FutureExt;
use time::{Date, OffsetDateTime};

use self::{
    cache::Key,
    db::{Range, Recurring},
    domain::{Filters, day_start},
    figures::{Insights, Rows, recurrence_day},
};
use crate::{
    auth::domain::Role,
    error::Result,
    state::AppState,
    web::{clock::Zone, require_role},
};

/// Pages: the insights and the lists behind their figures. Readers only.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/insights", get(handlers::show_insights))
        .route("/insights/incidents", get(handlers::list_incidents))
        .route("/insights/action-items", get(handlers::list_action_items))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role))
}

/// API routes, mounted under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/insights", get(api::show_insights))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role))
}

/// Today in `zone`.
pub fn today_in(zone: &Zone) -> Date {
    zone.date_of(&OffsetDateTime::now_utc())
}

/// The range of `filters` in `zone`, as the queries take it.
pub fn range_of(filters: &Filters, zone: &Zone) -> Range {
    let (start, end) = filters.range(zone);
    Range { start, end }
}

/// The figures for `filters`, read in `zone` on `today`: as kept, unless
/// what they read has changed since (see `cache`).
pub async fn load(state: &AppState, filters: &Filters, zone: &Zone, today: Date) -> Result<Arc<Insights>> {
    let counter = db::change_counter(&state.pool).await?;
    let key = Key { filters: filters.query(), zone: zone.name().to_owned(), today };
    let (state, filters, zone) = (state.clone(), filters.clone(), zone.clone());
    state
        .insights
        .clone()
        .get(key, counter, move || async move { compute(&state, &filters, &zone, today).await }.boxed())
        .await
}

/// How much memory each sort of a computation may take before it spills
/// to disk: the medians sort a year of durations.
const WORK_MEM: &str = "32MB";

/// The figures for `filters`, computed now, in one read-only transaction:
/// one connection, and every figure from the same snapshot.
#[tracing::instrument(skip_all)]
pub async fn compute(state: &AppState, filters: &Filters, zone: &Zone, today: Date) -> Result<Insights> {
    let range = range_of(filters, zone);
    let month_starts: Vec<OffsetDateTime> =
        filters.months().into_iter().map(|day| day_start(day, zone)).collect();
    let mut tx = state.pool.begin().await?;
    sqlx::query("set transaction isolation level repeatable read, read only").execute(&mut *tx).await?;
    sqlx::query("select set_config('work_mem', $1, true)").bind(WORK_MEM).execute(&mut *tx).await?;
    let months = db::months(&mut *tx, filters, range, &month_starts).await?;
    let categories = db::top_categories(&mut *tx, filters, range).await?;
    let suspects = db::top_suspects(&mut *tx, filters, range).await?;
    let mut recurring = Vec::new();
    for what in [Recurring::Category, Recurring::Suspect] {
        let closures = db::closures(&mut *tx, what).await?;
        recurring.push(recurrences(&mut tx, what, filters, range, zone, closures).await?);
    }
    let owners = db::action_items_by_owner(&mut *tx, filters, range, today).await?;
    let done = db::done_by_month(&mut *tx, filters, range, &month_starts).await?;
    let playbooks = db::playbook_use(&mut *tx, filters, range).await?;
    tx.commit().await?;
    let suspect_recurrences = recurring.pop().unwrap_or_default();
    let category_recurrences = recurring.pop().unwrap_or_default();
    let rows = Rows {
        months,
        categories,
        suspects,
        category_recurrences,
        suspect_recurrences,
        owners,
        done,
        playbooks,
    };
    Ok(figures::build(filters, zone, today, OffsetDateTime::now_utc(), rows))
}

/// Each closure that can recur within the range, with how many selected
/// incidents it recurred in.
async fn recurrences(
    tx: &mut sqlx::PgConnection,
    what: Recurring,
    filters: &Filters,
    range: Range,
    zone: &Zone,
    closures: Vec<db::Closure>,
) -> Result<Vec<(db::Closure, i64)>> {
    let closures: Vec<(db::Closure, OffsetDateTime)> = closures
        .into_iter()
        .map(|closure| {
            let since = day_start(recurrence_day(closure.done_at, zone), zone);
            (closure, since)
        })
        .filter(|(_, since)| *since < range.end)
        .collect();
    if closures.is_empty() {
        return Ok(Vec::new());
    }
    let asked: Vec<(String, OffsetDateTime, uuid::Uuid)> =
        closures.iter().map(|(closure, since)| (closure.name.clone(), *since, closure.incident_id)).collect();
    let counts = db::recurrences(&mut *tx, what, filters, range, &asked).await?;
    Ok(closures
        .into_iter()
        .map(|(closure, _)| {
            let count = counts.iter().find(|(name, _)| *name == closure.name).map_or(0, |(_, count)| *count);
            (closure, count)
        })
        .collect())
}
