//! `GET /incidents`: the list of incidents, newest first, or, with any
//! search parameter, what the search finds.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};

use super::{
    SearchParams,
    views::{IncidentListPage, SearchForm, SearchPage, SimilarPage},
};
use crate::{
    error::{Result, render},
    incidents::path::IncidentPath,
    state::AppState,
    web::PageCtx,
};

/// Incidents a page of the list, or of a search by filters alone.
const PER_PAGE: i64 = 50;
/// Hits a page of a text search, each with its passage.
const HITS_PER_PAGE: i64 = 20;

#[tracing::instrument(skip_all)]
pub async fn list_incidents(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(params): Query<SearchParams>,
) -> Result<Response> {
    let categories = crate::causes::db::list_categories(&state.pool).await?;
    if params.is_search() {
        let texted = params.q.as_deref().is_some_and(|q| !q.trim().is_empty());
        let per_page = if texted { HITS_PER_PAGE } else { PER_PAGE };
        let search = match params.parse(per_page, per_page) {
            Ok(search) => search,
            Err(problem) => {
                let page = SearchPage::refused(ctx, params, categories, problem);
                return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
            }
        };
        let results = super::run(&state, &search, &ctx.zone).await?;
        return Ok(render(&SearchPage::new(ctx, params, categories, search, results))?.into_response());
    }
    let page = params.page.unwrap_or(1).clamp(1, 1_000_000);
    let listed = state.list_places.page(&state.pool, PER_PAGE, (page - 1) * PER_PAGE).await?;
    let total = listed.total;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let form = SearchForm::of(&params, categories);
    Ok(render(&IncidentListPage { ctx, incidents: listed.incidents, total, page, pages, form })?
        .into_response())
}

/// `GET /incidents/{ref}/similar`: "seen this before?", as a page of its
/// own; the incident page loads it into its head.
#[tracing::instrument(skip_all)]
pub async fn similar_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
) -> Result<Response> {
    let similar = super::similar::similar(&state.pool, incident.id).await?;
    Ok(render(&SimilarPage { ctx, incident, similar })?.into_response())
}
