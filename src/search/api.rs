//! `GET /api/v1/search`: hits best first, as DESIGN.md gives them.

use axum::{
    Json,
    extract::{Query, State},
};
use serde::Serialize;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{SearchParams, run};
use crate::{
    error::{AppError, Result},
    incidents::{
        db::IncidentListing,
        domain::{Severity, Status},
    },
    state::AppState,
    web::clock::Zone,
};

/// Search hits, best first, paged.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SearchResults)]
pub struct SearchBody {
    hits: Vec<HitBody>,
    /// How many hits: all of them when `more` is false; otherwise hits
    /// are not counted past this page, and this is one more than its end.
    total: i64,
    /// Whether another page follows.
    more: bool,
    page: i64,
    per_page: i64,
    /// The query as corrected, when the words as typed found nothing.
    corrected: Option<String>,
}

/// A hit: the incident's listed fields, its snippet and its score.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = SearchHit)]
struct HitBody {
    id: Uuid,
    number: i32,
    #[serde(rename = "ref")]
    reference: String,
    title: String,
    severity: Severity,
    status: Status,
    services: Vec<String>,
    tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    started_at: OffsetDateTime,
    /// HTML: the incident's text escaped, the matched words in `<mark>`.
    snippet: String,
    score: f32,
}

/// `GET /api/v1/search?q=...`: dates in UTC.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "search",
    summary = "Search incidents, best first",
    params(SearchParams),
    responses((status = 200, description = "OK", body = SearchBody), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn search(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
) -> Result<Json<SearchBody>> {
    let search = params.parse(20, 100).map_err(AppError::BadRequest)?;
    let results = run(&state, &search, &Zone::utc()).await?;
    let hits = results
        .hits
        .into_iter()
        .map(|hit| HitBody {
            id: hit.incident.id,
            number: hit.incident.number,
            reference: hit.incident.reference,
            title: hit.incident.title,
            severity: hit.incident.severity,
            status: hit.incident.status,
            services: hit.incident.services,
            tags: hit.incident.tags,
            started_at: hit.incident.started_at,
            snippet: hit.snippet.html(),
            score: hit.score,
        })
        .collect();
    Ok(Json(SearchBody {
        hits,
        total: results.total,
        more: results.more,
        page: search.page,
        per_page: search.per_page,
        corrected: results.corrected,
    }))
}

// Serialised as it is: a list is read often, so no detour through a JSON tree.
/// The body of `GET /api/v1/incidents`: a page of incidents, newest first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IncidentList {
    incidents: Vec<IncidentListing>,
    /// How many incidents; with filters, as a search's `total`: all of
    /// them when `more` is false, else one more than this page's end.
    total: i64,
    /// Whether another page follows.
    more: bool,
    page: i64,
    per_page: i64,
}

/// `GET /api/v1/incidents`: newest first, paged; with the filters of
/// search (dates in UTC), what they let through.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/incidents",
    tag = "incidents",
    summary = "List incidents, newest first",
    params(SearchParams),
    responses((status = 200, description = "OK", body = IncidentList), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn list_incidents(
    State(state): State<AppState>,
    Query(query): Query<SearchParams>,
) -> Result<Json<IncidentList>> {
    if query.is_search() {
        let mut search = query.parse(50, 200).map_err(AppError::BadRequest)?;
        if query.sort.is_none() {
            search.sort = super::Sort::Newest;
        }
        let results = run(&state, &search, &Zone::utc()).await?;
        let incidents = results.hits.into_iter().map(|hit| hit.incident).collect();
        return Ok(Json(IncidentList {
            incidents,
            total: results.total,
            more: results.more,
            page: search.page,
            per_page: search.per_page,
        }));
    }
    let per_page = query.per_page.unwrap_or(50).clamp(1, 200);
    let page = query.page.unwrap_or(1).clamp(1, 1_000_000);
    let listed = state.list_places.page(&state.pool, per_page, (page - 1) * per_page).await?;
    Ok(Json(IncidentList { incidents: listed.incidents, total: listed.total, more: false, page, per_page }))
}

/// `GET /api/v1/incidents/{id}/similar`: `{"similar":[{"id","number","title","score","reasons"},...]}`.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}/similar",
    tag = "search",
    summary = "Past incidents like this one",
    params(crate::web::api_schemas::IncidentId),
    responses((status = 200, description = "OK", body = SimilarList), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn similar(
    State(state): State<AppState>,
    crate::incidents::path::IncidentPath(incident): crate::incidents::path::IncidentPath,
) -> Result<Json<SimilarList>> {
    let similar = super::similar::similar(&state.pool, incident.id).await?;
    Ok(Json(SimilarList { similar }))
}

/// Past incidents like this one, best first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SimilarList {
    similar: Vec<super::similar::Similar>,
}
