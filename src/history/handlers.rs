//! The history page.

use axum::{
    extract::{Query, State},
    response::Html,
};
use serde::Deserialize;

use super::{
    domain::{Comparison, compare},
    views::HistoryPage,
};
use crate::{
    error::{AppError, Result, render},
    incidents::{path::IncidentPath, revision as db},
    state::AppState,
    web::PageCtx,
};

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct CompareQuery {
    from: Option<i64>,
    to: Option<i64>,
}

/// `GET /incidents/{reference}/history[?from=A&to=B]`: the revisions, and
/// the diff between two of them (by default the last change).
#[tracing::instrument(skip_all)]
pub async fn show_history(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    Query(query): Query<CompareQuery>,
) -> Result<Html<String>> {
    let revisions = db::list(&state.pool, incident.id).await?;
    let default = match revisions.as_slice() {
        [latest, previous, ..] => Some((previous.id, latest.id)),
        _ => None,
    };
    let compared = match (query.from, query.to) {
        (Some(from), Some(to)) => Some((from.min(to), from.max(to))),
        _ => default,
    };
    let snapshots = match compared {
        Some((from, to)) => {
            let old = db::snapshot_of(&state.pool, incident.id, from).await?.ok_or(AppError::NotFound)?;
            let new = db::snapshot_of(&state.pool, incident.id, to).await?.ok_or(AppError::NotFound)?;
            Some((old, new))
        }
        None => None,
    };
    // Comparing and showing two large revisions is CPU work: bounded, and
    // off the async workers.
    state
        .cpu
        .run(move || {
            let diff =
                snapshots.map(|(old, new)| compare(&old, &new, 3)).unwrap_or(Comparison::Lines(Vec::new()));
            render(&HistoryPage { ctx, incident, revisions, compared, diff })
        })
        .await?
}
