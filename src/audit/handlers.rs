//! The audit trail for admins: the page, its download as JSON lines, and
//! the API's list. Each takes the same filters.

use axum::{
    Extension, Json,
    body::Body,
    extract::{Query, State},
    http::{HeaderValue, header},
    response::{Html, IntoResponse, Response},
};
use bytes::Bytes;
use futures_util::TryStreamExt;
use sqlx::PgPool;
use time::OffsetDateTime;

use super::{
    db::{self, AuditRow, Place},
    domain::{AuditFilter, AuditQuery, Paging},
    views::AuditPage,
};
use crate::{
    error::{AppError, Result, render},
    state::AppState,
    web::{CurrentUser, PageCtx, clock::Zone},
};

/// Events read per step of a download: the most held at once.
const DOWNLOAD_BATCH: i64 = 500;

/// `GET /admin/audit`: newest first, paged, days read in the reader's zone.
#[tracing::instrument(skip_all)]
pub async fn list_events(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(query): Query<AuditQuery>,
) -> Result<Html<String>> {
    let filter = query.filter(&ctx.zone).map_err(AppError::BadRequest)?;
    let paging = query.paging().map_err(AppError::BadRequest)?;
    let (events, total) = page_of(&state.pool, &filter, paging).await?;
    render(&AuditPage::new(ctx, query, events, total, paging))
}

/// `GET /api/v1/audit`: the same, days in UTC;
/// `{"events":[{"id","at","action","actor_id","actor","address","target","detail"}],"total","page","per_page"}`.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/audit",
    tag = "audit",
    summary = "Audit events, newest first (admins)",
    params(AuditQuery),
    responses((status = 200, description = "OK", body = EventsPage), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn api_list_events(
    State(state): State<AppState>,
    Query(query): Query<AuditQuery>,
) -> Result<Json<EventsPage>> {
    let filter = query.filter(&Zone::utc()).map_err(AppError::BadRequest)?;
    let paging = query.paging().map_err(AppError::BadRequest)?;
    let (events, total) = page_of(&state.pool, &filter, paging).await?;
    Ok(Json(EventsPage { events, total, page: paging.page, per_page: paging.per_page }))
}

/// Audit events, newest first, paged.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[schema(as = AuditPage)]
pub struct EventsPage {
    events: Vec<AuditRow>,
    total: i64,
    page: i64,
    per_page: i64,
}

async fn page_of(pool: &PgPool, filter: &AuditFilter, paging: Paging) -> Result<(Vec<AuditRow>, i64)> {
    let events = db::list(pool, filter, paging.per_page, paging.offset()).await?;
    let total = db::count(pool, filter).await?;
    Ok((events, total))
}

/// `GET /admin/audit.jsonl`: every event the filters find, newest first,
/// one JSON object a line, as the API shows them. Streamed a batch at a
/// time as the client reads, so a trail of any length costs one batch of
/// memory, and no connection is held between batches.
#[tracing::instrument(skip_all)]
pub async fn download_events(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(query): Query<AuditQuery>,
) -> Result<Response> {
    // The reader's zone, as the page reads the days; not `PageCtx`, which
    // would take the flash messages a download never shows.
    let filter = query.filter(&Zone::or_utc(&user.0.time_zone)).map_err(AppError::BadRequest)?;
    let walk = Walk { pool: state.pool.clone(), filter, after: None, done: false };
    let body = futures_util::stream::try_unfold(walk, next_lines).map_err(|err| {
        // The body ends broken, so the client sees a failed download,
        // never a short file that looks whole.
        tracing::error!(error = ?err, "the audit trail download could not be read");
        std::io::Error::other("the audit trail could not be read")
    });
    let name = format!("debrief-audit-{}.jsonl", OffsetDateTime::now_utc().date());
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/x-ndjson")),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        Body::from_stream(body),
    )
        .into_response())
}

/// How far a download has read.
struct Walk {
    pool: PgPool,
    filter: AuditFilter,
    after: Option<Place>,
    done: bool,
}

/// The next batch of the download as JSON lines, or the end.
async fn next_lines(mut walk: Walk) -> Result<Option<(Bytes, Walk)>> {
    if walk.done {
        return Ok(None);
    }
    let rows = db::batch_after(&walk.pool, &walk.filter, walk.after, DOWNLOAD_BATCH).await?;
    let Some(last) = rows.last() else { return Ok(None) };
    walk.after = Some((last.at, last.id));
    walk.done = rows.len() < usize::try_from(DOWNLOAD_BATCH).unwrap_or(usize::MAX);
    let mut lines = Vec::with_capacity(rows.len() * 256);
    for row in &rows {
        serde_json::to_writer(&mut lines, row).map_err(anyhow::Error::from)?;
        lines.push(b'\n');
    }
    Ok(Some((Bytes::from(lines), walk)))
}
