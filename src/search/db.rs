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
    incidents::db::{IncidentListing, ListingRow, listing_columns},
};

/// One incident a search found, with its score: where the whole query
/// holds (1 the core, 2/3 the lead, 1/3 elsewhere; 0 with no text).
pub struct Found {
    pub listing: IncidentListing,
    pub score: f32,
}

/// A page of hits; how many were seen, which is all there are unless
/// `more`, else one past the page (a client that pages on while
/// `page * per_page < total` reads them all); and whether more follow.
pub struct Page {
    pub found: Vec<Found>,
    pub total: i64,
    pub more: bool,
}

/// The tiers of relevance, best first: the search row's vector where the
/// whole query must hold. Each holds the one before it, so a hit of a
/// better tier comes again in a worse one's rows and is kept once.
const TIERS: [(i32, &str); 3] = [(3, "core"), (2, "lead"), (1, "document")];

/// A hit's tier, on the search row `s` with the query `query`.
const TIER: &str = "case when s.core @@ query then 3 when s.lead @@ query then 2 else 1 end";

/// A search PostgreSQL guesses finds at most this many is taken for rare:
/// its hits are read off the text's index first (see [`Look`]). Well
/// below [`CAP`], so that a guess off by half still reads them all.
const RARE: f64 = 500.0;

/// How many of the newest rows the first look reads (see [`Look`]).
const GLANCE: i64 = 600;
/// How many matches the second look reads off the text's index at most.
const CAP: i64 = 1000;
/// How many of the newest rows the third look reads.
const WINDOW: i64 = 20_000;

/// A page of what `search` finds, with `start` and `end` the bounds of its
/// date range in the reader's zone.
///
/// By relevance, the tiers are asked in turn for their newest hits until
/// the page is full: a common word costs a page's worth of rows from the
/// best tier or two, never a ranking of every match. Hits are not counted
/// past the page (see [`Page`]): counting a common word's thousands cost
/// more than finding the page.
pub async fn find(
    pool: &PgPool,
    search: &Search,
    start: Option<OffsetDateTime>,
    end: Option<OffsetDateTime>,
) -> Result<Page> {
    // One past the page, to know whether another follows.
    let wanted = search.offset() + search.per_page + 1;
    let range = (start, end);
    let rare = guess(pool, search, range).await? <= RARE;
    let tier = if search.text.is_empty() { "0" } else { TIER };
    let hits = if !search.text.is_empty() && search.sort == Sort::Relevance {
        // Few hits: all of them, ranked, in one read.
        let all = Look { search, range, oldest_first: false, by_tier: true, column: "document", tier };
        match rare {
            true => match off_their_indexes(pool, all.matches(Some(CAP), wanted)).await? {
                (hits, true) => hits,
                (_, false) => by_tiers(pool, search, range, wanted).await?,
            },
            false => by_tiers(pool, search, range, wanted).await?,
        }
    } else {
        let oldest_first = search.sort == Sort::Oldest;
        let look = Look { search, range, oldest_first, by_tier: false, column: "document", tier };
        look.run(pool, wanted, rare).await?
    };
    let seen = i64::try_from(hits.len()).unwrap_or(i64::MAX);
    let page: Vec<(Uuid, i32)> = hits
        .into_iter()
        .skip(usize::try_from(search.offset()).unwrap_or(usize::MAX))
        .take(usize::try_from(search.per_page).unwrap_or(usize::MAX))
        .collect();
    let found = listings(pool, &page).await?;
    Ok(Page { found, total: seen, more: seen >= wanted })
}

/// The hits of `search` by relevance, best first, up to `wanted` of them.
async fn by_tiers(
    pool: &PgPool,
    search: &Search,
    range: (Option<OffsetDateTime>, Option<OffsetDateTime>),
    wanted: i64,
) -> Result<Vec<(Uuid, i32)>> {
    let mut hits: Vec<(Uuid, i32)> = Vec::new();
    for (tier, column) in TIERS {
        // The better tiers' hits may all come again: ask for that many more.
        let limit = wanted + i64::try_from(hits.len()).unwrap_or(i64::MAX);
        let number = tier.to_string();
        let look = Look { search, range, oldest_first: false, by_tier: false, column, tier: &number };
        for (id, tier) in look.run(pool, limit, false).await? {
            if !hits.iter().any(|(hit, _)| *hit == id) {
                hits.push((id, tier));
            }
        }
        if i64::try_from(hits.len()).unwrap_or(i64::MAX) >= wanted {
            hits.truncate(usize::try_from(wanted).unwrap_or(usize::MAX));
            break;
        }
    }
    Ok(hits)
}

/// One way of reading hits in date order: where the query must hold
/// (`column`, or nowhere without text) and the tier each hit is given.
///
/// Hits are found in date order either by walking the index of dates and
/// testing each row, cheap when hits are common, or by reading every match
/// off the text's own index and sorting them, cheap when they are rare.
/// PostgreSQL picks between the two by its guess of how common the words
/// are, which a phrase, two words that always come together or a filter
/// throws off a hundredfold, and a wrong pick read every row. So the looks
/// go from cheap to thorough, each bounded, each telling the next how
/// common the hits are: the newest [`GLANCE`] rows (enough for a common
/// word); then the matches off their index, up to [`CAP`] of them (all of
/// a rare word's); then, the hits known to be common, the newest
/// [`WINDOW`] rows; and only for hits common long ago but not lately,
/// every match.
struct Look<'a> {
    search: &'a Search,
    range: (Option<OffsetDateTime>, Option<OffsetDateTime>),
    oldest_first: bool,
    /// Best tier first, then by date (only where every match is read).
    by_tier: bool,
    column: &'a str,
    tier: &'a str,
}

impl Look<'_> {
    /// Up to `limit` hits, in date order, each with its tier; with no
    /// glance when the hits are guessed `rare`.
    async fn run(&self, pool: &PgPool, limit: i64, rare: bool) -> Result<Vec<(Uuid, i32)>> {
        let enough = |hits: &Vec<(Uuid, i32)>| i64::try_from(hits.len()).unwrap_or(i64::MAX) >= limit;
        if !rare {
            let hits = fetch_hits(pool, self.walk(GLANCE, limit)).await?;
            if enough(&hits) {
                return Ok(hits);
            }
        }
        let (hits, all) = off_their_indexes(pool, self.matches(Some(CAP), limit)).await?;
        if all {
            return Ok(hits);
        }
        let hits = fetch_hits(pool, self.walk(WINDOW, limit)).await?;
        if enough(&hits) {
            return Ok(hits);
        }
        Ok(off_their_indexes(pool, self.matches(None, limit)).await?.0)
    }

    fn order(&self) -> &'static str {
        if self.by_tier {
            " order by s.tier desc, s.started_at desc, s.number desc"
        } else {
            self.date_order()
        }
    }

    /// The hits among the newest `rows` rows of the date range, up to `limit`.
    fn walk(&self, rows: i64, limit: i64) -> QueryBuilder<'static, Postgres> {
        let mut sql = QueryBuilder::new("select s.incident_id, ");
        sql.push(self.tier).push(", 0::bigint from (select * from incident_search s where true");
        push_range(&mut sql, self.range);
        sql.push(self.date_order()).push(" limit ").push_bind(rows).push(") s");
        self.push_query(&mut sql);
        sql.push(" where true");
        self.push_conditions(&mut sql);
        sql.push(self.date_order()).push(" limit ").push_bind(limit);
        sql
    }

    fn date_order(&self) -> &'static str {
        if self.oldest_first {
            " order by s.started_at, s.number"
        } else {
            " order by s.started_at desc, s.number desc"
        }
    }

    /// The newest `limit` of the matches, up to `cap` of them read, with
    /// how many were read.
    fn matches(&self, cap: Option<i64>, limit: i64) -> QueryBuilder<'static, Postgres> {
        let mut sql =
            QueryBuilder::new("with m as materialized (select s.incident_id, s.started_at, s.number, ");
        sql.push(self.tier).push(" as tier from incident_search s");
        self.push_query(&mut sql);
        sql.push(" where true");
        self.push_conditions(&mut sql);
        push_range(&mut sql, self.range);
        if let Some(cap) = cap {
            sql.push(" limit ").push_bind(cap + 1);
        }
        sql.push(") select s.incident_id, s.tier, count(*) over () from m s");
        sql.push(self.order()).push(" limit ").push_bind(limit);
        sql
    }

    /// The query, as `query`, for the tier's expression.
    fn push_query(&self, sql: &mut QueryBuilder<'static, Postgres>) {
        if !self.search.text.is_empty() {
            sql.push(", websearch_to_tsquery('english', ")
                .push_bind(self.search.text.clone())
                .push(") query");
        }
    }

    /// Where the text must hold, and the filters but the date range.
    fn push_conditions(&self, sql: &mut QueryBuilder<'static, Postgres>) {
        if !self.search.text.is_empty() {
            sql.push(format!(" and s.{} @@ query", self.column));
            // `-word` may be missing from a part yet present in the whole.
            if self.column != "document" && excludes(&self.search.text) {
                sql.push(" and s.document @@ query");
            }
        }
        push_labels(sql, self.search);
    }
}

/// How many hits PostgreSQL guesses `search` finds: its planner's estimate,
/// near for common words and for words it has never seen, off for words
/// that come together. Only which look goes first rides on it.
async fn guess(
    pool: &PgPool,
    search: &Search,
    range: (Option<OffsetDateTime>, Option<OffsetDateTime>),
) -> Result<f64> {
    let mut sql = matching("explain (format json) select 1", search, range);
    let plan: serde_json::Value = sql.build_query_scalar().persistent(false).fetch_one(pool).await?;
    Ok(plan[0]["Plan"]["Plan Rows"].as_f64().unwrap_or(f64::MAX))
}

/// `select` over the search rows `s` that `search` finds in `range`, its
/// query as `query`, in no order.
fn matching(
    select: &str,
    search: &Search,
    range: (Option<OffsetDateTime>, Option<OffsetDateTime>),
) -> QueryBuilder<'static, Postgres> {
    let mut sql = QueryBuilder::new(format!("{select} from incident_search s"));
    if !search.text.is_empty() {
        sql.push(", websearch_to_tsquery('english', ").push_bind(search.text.clone()).push(") query");
    }
    sql.push(" where true");
    if !search.text.is_empty() {
        sql.push(" and s.document @@ query");
    }
    push_labels(&mut sql, search);
    push_range(&mut sql, range);
    sql
}

/// The hits a look's query reads, each with its tier. Planned afresh each
/// time: how common the words are decides the plan.
async fn fetch_hits(pool: &PgPool, mut sql: QueryBuilder<'static, Postgres>) -> Result<Vec<(Uuid, i32)>> {
    let rows: Vec<(Uuid, i32, i64)> = sql.build_query_as().persistent(false).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|(id, tier, _)| (id, tier)).collect())
}

/// The hits `sql` ([`Look::matches`]) reads off the indexes of the words
/// and labels, never by walking dates, and whether they are all there are
/// (fewer than its cap were read).
async fn off_their_indexes(
    pool: &PgPool,
    mut sql: QueryBuilder<'static, Postgres>,
) -> Result<(Vec<(Uuid, i32)>, bool)> {
    let mut tx = pool.begin().await?;
    sqlx::query(
        "select set_config('enable_indexscan', 'off', true), set_config('enable_seqscan', 'off', true)",
    )
    .execute(&mut *tx)
    .await?;
    let rows: Vec<(Uuid, i32, i64)> = sql.build_query_as().persistent(false).fetch_all(&mut *tx).await?;
    tx.commit().await?;
    let read = rows.first().map_or(0, |(_, _, read)| *read);
    Ok((rows.into_iter().map(|(id, tier, _)| (id, tier)).collect(), read <= CAP))
}

/// Whether a web-search query excludes a word (`-word`).
fn excludes(text: &str) -> bool {
    text.split_whitespace().any(|word| word.starts_with('-') && word.len() > 1)
}

#[derive(sqlx::FromRow)]
struct FoundRow {
    #[sqlx(flatten)]
    listing: ListingRow,
}

/// The incidents of a page's hits, in the hits' order.
async fn listings(pool: &PgPool, page: &[(Uuid, i32)]) -> Result<Vec<Found>> {
    if page.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<Uuid> = page.iter().map(|(id, _)| *id).collect();
    let sql = format!("select {} from incident i where i.id = any($1)", listing_columns("i"));
    let rows: Vec<FoundRow> = sqlx::query_as(&sql).bind(&ids).fetch_all(pool).await?;
    let mut listed: Vec<IncidentListing> =
        rows.into_iter().map(|row| IncidentListing::try_from(row.listing)).collect::<Result<_>>()?;
    let mut found = Vec::with_capacity(page.len());
    for (id, tier) in page {
        // An incident deleted since its hit was read is left out.
        if let Some(at) = listed.iter().position(|listing| listing.id == *id) {
            found.push(Found { listing: listed.swap_remove(at), score: *tier as f32 / 3.0 });
        }
    }
    Ok(found)
}

/// The filters of `search` but its date range, on the search row `s`.
fn push_labels(sql: &mut QueryBuilder<'static, Postgres>, search: &Search) {
    if let Some(severity) = search.severity {
        sql.push(" and s.severity = ").push_bind(severity.as_str());
    }
    if let Some(status) = search.status {
        sql.push(" and s.status = ").push_bind(status.as_str());
    }
    let arrays = [("services", &search.service), ("tags", &search.tag), ("categories", &search.cause)];
    for (column, value) in arrays {
        if let Some(value) = value {
            sql.push(format!(" and s.{column} @> array[")).push_bind(value.clone()).push("]::text[]");
        }
    }
    if let Some(format) = search.format {
        sql.push(" and s.formats @> array[").push_bind(format).push("]::text[]");
    }
}

/// The date range of a search, on the search row `s`.
fn push_range(
    sql: &mut QueryBuilder<'static, Postgres>,
    (start, end): (Option<OffsetDateTime>, Option<OffsetDateTime>),
) {
    if let Some(start) = start {
        sql.push(" and s.started_at >= ").push_bind(start);
    }
    if let Some(end) = end {
        sql.push(" and s.started_at < ").push_bind(end);
    }
}

/// The lexemes `text` searches for, and the text of each of `ids` that
/// its snippet is cut from, up to the bound a snippet reads.
pub async fn snippet_texts(
    pool: &PgPool,
    text: &str,
    ids: &[Uuid],
) -> Result<(Vec<String>, Vec<(Uuid, String)>)> {
    let bound = i32::try_from(super::snippet::MAX_TEXT_BYTES).unwrap_or(i32::MAX);
    let sql = "select s.incident_id, left(s.body, $2), query::text from incident_search_text s, \
               websearch_to_tsquery('english', $3) query where s.incident_id = any($1)";
    let rows: Vec<(Uuid, String, String)> =
        sqlx::query_as(sql).bind(ids).bind(bound).bind(text).fetch_all(pool).await?;
    let lexemes = rows.first().map(|(_, _, query)| super::snippet::wanted_lexemes(query)).unwrap_or_default();
    Ok((lexemes, rows.into_iter().map(|(id, text, _)| (id, text)).collect()))
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

/// Where a walk through every hit of a search stands: the last hit's
/// start and number.
pub type Place = (OffsetDateTime, i32);

/// The next `limit` hits of `search` after `after`, newest first, each
/// with its place, for reading every hit in turn (an export): no tiers,
/// no pages, whatever their number.
pub async fn hits_after(
    pool: &PgPool,
    search: &Search,
    range: (Option<OffsetDateTime>, Option<OffsetDateTime>),
    after: Option<Place>,
    limit: i64,
) -> Result<Vec<(Uuid, Place)>> {
    let mut sql = matching("select s.incident_id, s.started_at, s.number", search, range);
    if let Some((started_at, number)) = after {
        sql.push(" and (s.started_at, s.number) < (")
            .push_bind(started_at)
            .push(", ")
            .push_bind(number)
            .push(")");
    }
    sql.push(" order by s.started_at desc, s.number desc limit ").push_bind(limit);
    let rows: Vec<(Uuid, OffsetDateTime, i32)> =
        sql.build_query_as().persistent(false).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|(id, started_at, number)| (id, (started_at, number))).collect())
}
