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
//! - The figures are computed by plain queries and kept until the database
//!   says something they read changed (a counter moved by triggers), so a
//!   page is served from memory; `cache` says how. Precomputed tables were
//!   not needed: a cold computation is a few hundred milliseconds on
//!   100,000 incidents (see `benches/insights.sh`), and tables of
//!   aggregates could not give medians or the cross of every filter.

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
/// what they read has changed since.
pub async fn load(state: &AppState, filters: &Filters, zone: &Zone, today: Date) -> Result<Arc<Insights>> {
    let counter = db::change_counter(&state.pool).await?;
    let key = Key { filters: filters.query(), zone: zone.name().to_owned(), today };
    state.insights.get_or_compute(key, counter, || compute(state, filters, zone, today)).await
}

/// The figures for `filters`, computed now: the queries run side by side.
#[tracing::instrument(skip_all)]
pub async fn compute(state: &AppState, filters: &Filters, zone: &Zone, today: Date) -> Result<Insights> {
    let pool = &state.pool;
    let range = range_of(filters, zone);
    let month_starts: Vec<OffsetDateTime> =
        filters.months().into_iter().map(|day| day_start(day, zone)).collect();
    let (months, categories, suspects, category_closures, suspect_closures, owners, done, playbooks) = tokio::try_join!(
        db::months(pool, filters, range, &month_starts),
        db::top_categories(pool, filters, range),
        db::top_suspects(pool, filters, range),
        db::closures(pool, Recurring::Category),
        db::closures(pool, Recurring::Suspect),
        db::action_items_by_owner(pool, filters, range, today),
        db::done_by_month(pool, filters, range, &month_starts),
        db::playbook_use(pool, filters, range),
    )?;
    let (category_recurrences, suspect_recurrences) = tokio::try_join!(
        recurrences(state, Recurring::Category, filters, range, zone, category_closures),
        recurrences(state, Recurring::Suspect, filters, range, zone, suspect_closures),
    )?;
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
    Ok(figures::build(filters, zone, today, rows))
}

/// Each closure that can recur within the range, with how many selected
/// incidents it recurred in.
async fn recurrences(
    state: &AppState,
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
    let counts = db::recurrences(&state.pool, what, filters, range, &asked).await?;
    Ok(closures
        .into_iter()
        .map(|(closure, _)| {
            let count = counts.iter().find(|(name, _)| *name == closure.name).map_or(0, |(_, count)| *count);
            (closure, count)
        })
        .collect())
}
