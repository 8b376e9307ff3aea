//! The SQL of search: PostgreSQL's text search over `incident_search`,
//! which triggers keep current (see the migration), filters on the
//! incident and its parts, and the nearest known words for a query that
//! finds nothing.

use sqlx::{PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use super::query::{Search, Sort};
use crate::{
    error::Result,
    incidents::db::{IncidentListing, LISTING_COLUMNS, ListingRow},
};

/// One incident a search found, with its rank (0 when there is no text).
pub struct Found {
    pub listing: IncidentListing,
    pub score: f32,
}

#[derive(sqlx::FromRow)]
struct FoundRow {
    #[sqlx(flatten)]
    listing: ListingRow,
    score: f32,
    total: i64,
}

/// Marks around each matched word in a snippet: characters no text holds
/// (they are removed from the text first), so user text can be escaped
/// whole and the marks turned into highlighting afterwards.
pub const MARK_START: char = '\u{E000}';
pub const MARK_END: char = '\u{E001}';
/// What `<` and `>` stand as while the snippet is cut: the headline's parser
/// would take `<nil>` or `<script>` for markup and drop it, and a reader
/// must see what was written.
pub const LESS: char = '\u{E002}';
pub const GREATER: char = '\u{E003}';

/// A page of what `search` finds, with `start` and `end` the bounds of its
/// date range in the reader's zone, and how many there are in all.
pub async fn find(
    pool: &PgPool,
    search: &Search,
    start: Option<OffsetDateTime>,
    end: Option<OffsetDateTime>,
) -> Result<(Vec<Found>, i64)> {
    let mut sql = QueryBuilder::<Postgres>::new(format!("select {LISTING_COLUMNS}, "));
    let text = !search.text.is_empty();
    if text {
        sql.push("ts_rank(s.document, query) as score, count(*) over () as total from incident i ");
        sql.push("join incident_search s on s.incident_id = i.id, websearch_to_tsquery('english', ");
        sql.push_bind(&search.text);
        sql.push(") query where s.document @@ query");
    } else {
        sql.push("0::real as score, count(*) over () as total from incident i where true");
    }
    if let Some(severity) = search.severity {
        sql.push(" and i.severity = ").push_bind(severity.as_str());
    }
    if let Some(status) = search.status {
        sql.push(" and i.status = ").push_bind(status.as_str());
    }
    if let Some(service) = &search.service {
        sql.push(" and i.services @> array[").push_bind(service).push("]::text[]");
    }
    if let Some(tag) = &search.tag {
        sql.push(" and i.tags @> array[").push_bind(tag).push("]::text[]");
    }
    if let Some(cause) = &search.cause {
        sql.push(" and exists (select 1 from cause c where c.incident_id = i.id and c.category = ")
            .push_bind(cause)
            .push(")");
    }
    if let Some(format) = search.format {
        sql.push(" and exists (select 1 from artifact a where a.incident_id = i.id and a.format = ")
            .push_bind(format)
            .push(")");
    }
    if let Some(start) = start {
        sql.push(" and i.started_at >= ").push_bind(start);
    }
    if let Some(end) = end {
        sql.push(" and i.started_at < ").push_bind(end);
    }
    sql.push(match search.sort {
        Sort::Relevance => " order by score desc, i.started_at desc, i.number desc",
        Sort::Newest => " order by i.started_at desc, i.number desc",
        Sort::Oldest => " order by i.started_at, i.number",
    });
    sql.push(" limit ").push_bind(search.per_page).push(" offset ").push_bind(search.offset());
    let rows: Vec<FoundRow> = sql.build_query_as().fetch_all(pool).await?;
    let total = match rows.first() {
        Some(row) => row.total,
        // Past the last page, or nothing at all: count without a page.
        None if search.page > 1 => {
            let first = Search { page: 1, per_page: 1, ..search.clone() };
            return Ok((Vec::new(), Box::pin(find(pool, &first, start, end)).await?.1));
        }
        None => 0,
    };
    let found = rows
        .into_iter()
        .map(|row| Ok(Found { listing: IncidentListing::try_from(row.listing)?, score: row.score }))
        .collect::<Result<_>>()?;
    Ok((found, total))
}

/// For each of `ids`, the passages of its text that match `text`, with
/// the matched words between [`MARK_START`] and [`MARK_END`].
pub async fn snippets(pool: &PgPool, text: &str, ids: &[Uuid]) -> Result<Vec<(Uuid, String)>> {
    let options = format!(
        "StartSel={MARK_START}, StopSel={MARK_END}, MaxFragments=2, MaxWords=24, MinWords=8, \
         FragmentDelimiter=\" … \""
    );
    let sql = "select s.incident_id, \
                      ts_headline('english', translate(s.body, $4, $5), websearch_to_tsquery('english', $1), $2) \
               from incident_search s where s.incident_id = any($3)";
    // `<` and `>` become their stand-ins; the marks, if written, go.
    let from: String = ['<', '>', MARK_START, MARK_END].into_iter().collect();
    let to: String = [LESS, GREATER].into_iter().collect();
    let rows: Vec<(Uuid, String)> =
        sqlx::query_as(sql).bind(text).bind(options).bind(ids).bind(from).bind(to).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|(id, marked)| (id, marked.replace(LESS, "<").replace(GREATER, ">"))).collect())
}

/// How alike (by trigrams, 0 to 1) a known word must be to a query word
/// to stand in for it: low enough for `leek` to find `leak`.
const NEAR_ENOUGH: f32 = 0.25;

/// The known word nearest to `word` by trigrams, if any is near enough and
/// `word` itself is not known.
pub async fn nearest_word(pool: &PgPool, word: &str) -> Result<Option<String>> {
    // The nearest first, off the trigram index; then whether it is near enough.
    let sql = "select word from (select w.word, similarity(w.word, $1) as alike from search_word w \
                                 order by w.word <-> $1, w.word limit 1) nearest \
               where alike >= $2 and not exists (select 1 from search_word k where k.word = $1)";
    Ok(sqlx::query_scalar(sql).bind(word).bind(NEAR_ENOUGH).fetch_optional(pool).await?)
}
