//! "Seen this before?": the other incidents most like one, each with the
//! reasons it matched. Evidence weighs most (the same kind of suspect in
//! their goroutine dumps or profiles), then the same cause category, then
//! a shared service, then how well their text matches this one's title.

use serde::Serialize;
use sqlx::PgPool;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Result;

/// At most this many are shown.
pub const LIMIT: usize = 5;

/// Each way of matching looks at no more than this many incidents, so a
/// category or service shared by thousands costs the same as one shared
/// by a few.
const CANDIDATES_PER_WAY: i64 = 300;

/// A past incident like the one asked about, with why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = SimilarIncident)]
pub struct Similar {
    pub id: Uuid,
    pub number: i32,
    #[serde(rename = "ref")]
    pub reference: String,
    pub title: String,
    pub severity: String,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    pub score: f32,
    pub reasons: Vec<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: Uuid,
    number: i32,
    title: String,
    severity: String,
    started_at: OffsetDateTime,
    shared_keys: Vec<String>,
    shared_categories: Vec<String>,
    shared_services: Vec<String>,
    text_rank: f32,
}

const SQL: &str = "\
with me as (
    select i.id, i.services,
           coalesce((select array_agg(distinct k) from artifact a, unnest(a.suspect_keys) k
                      where a.incident_id = i.id), '{}') as keys,
           coalesce((select array_agg(distinct c.category) from cause c where c.incident_id = i.id), '{}') as categories,
           (select string_agg(quote_literal(lexeme), ' | ')::tsquery
              from unnest(to_tsvector('english', i.title))) as words
      from incident i where i.id = $1
),
candidates as (
    (select a.incident_id as id from artifact a, me
      where a.suspect_keys && me.keys and a.incident_id <> me.id order by a.created_at desc limit $2)
    union
    (select c.incident_id from cause c, me
      where c.category = any(me.categories) and c.incident_id <> me.id order by c.created_at desc limit $2)
    union
    (select i.id from incident i, me
      where i.services && me.services and i.id <> me.id order by i.started_at desc limit $2)
    union
    (select s.incident_id from incident_search s, me
      where me.words is not null and s.document @@ me.words and s.incident_id <> me.id limit $2)
)
select i.id, i.number, i.title, i.severity, i.started_at,
       coalesce((select array_agg(distinct k order by k) from artifact a, unnest(a.suspect_keys) k
                  where a.incident_id = i.id and k = any(me.keys)), '{}') as shared_keys,
       coalesce((select array_agg(distinct c.category order by c.category) from cause c
                  where c.incident_id = i.id and c.category = any(me.categories)), '{}') as shared_categories,
       array(select unnest(i.services) intersect select unnest(me.services) order by 1) as shared_services,
       case when me.words is null then 0 else ts_rank(s.document, me.words) end as text_rank
  from candidates join incident i using (id) join incident_search s on s.incident_id = i.id, me";

/// The incidents most like `incident`, best first.
pub async fn similar(pool: &PgPool, incident: Uuid) -> Result<Vec<Similar>> {
    let rows: Vec<Row> = sqlx::query_as(SQL).bind(incident).bind(CANDIDATES_PER_WAY).fetch_all(pool).await?;
    let signatures = suspect_signatures(pool, incident).await?;
    let mut found: Vec<Similar> = rows.into_iter().filter_map(|row| scored(row, &signatures)).collect();
    found.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.started_at.cmp(&a.started_at)));
    found.truncate(LIMIT);
    Ok(found)
}

/// The plain words of each kind of suspect this incident's evidence shows.
async fn suspect_signatures(pool: &PgPool, incident: Uuid) -> Result<Vec<(String, String)>> {
    let sql = "select distinct on (s ->> 'key') s ->> 'key', coalesce(s ->> 'signature', s ->> 'key') \
               from artifact a, jsonb_array_elements(case when jsonb_typeof(a.analysis -> 'suspects') = 'array' \
                                                       then a.analysis -> 'suspects' else '[]'::jsonb end) s \
               where a.incident_id = $1 and s ->> 'key' is not null order by s ->> 'key'";
    Ok(sqlx::query_as(sql).bind(incident).fetch_all(pool).await?)
}

/// Weights: a suspect says most, words least: however alike the text,
/// it counts for less than one shared service.
const SUSPECT: f32 = 3.0;
const CATEGORY: f32 = 2.0;
const SERVICE: f32 = 1.0;
const MAX_WORDS: f32 = 0.9;
/// Text this alike (by rank against the title's words) is a reason of its own.
const ALIKE_WORDS: f32 = 0.05;

fn scored(row: Row, signatures: &[(String, String)]) -> Option<Similar> {
    let mut reasons = Vec::new();
    for key in &row.shared_keys {
        let signature = signatures.iter().find(|(k, _)| k == key).map_or(key.as_str(), |(_, s)| s.as_str());
        reasons.push(format!("same suspect: {signature}"));
    }
    reasons.extend(row.shared_categories.iter().map(|c| format!("same category: {c}")));
    reasons.extend(row.shared_services.iter().map(|s| format!("same service: {s}")));
    let alike = row.text_rank >= ALIKE_WORDS;
    if alike {
        reasons.push("similar words".to_owned());
    }
    if reasons.is_empty() {
        return None;
    }
    let score = SUSPECT * row.shared_keys.len() as f32
        + CATEGORY * row.shared_categories.len() as f32
        + SERVICE * row.shared_services.len() as f32
        + (row.text_rank * 5.0).min(MAX_WORDS);
    Some(Similar {
        id: row.id,
        number: row.number,
        reference: crate::incidents::db::reference(row.number),
        title: row.title,
        severity: row.severity,
        started_at: row.started_at,
        score,
        reasons,
    })
}
