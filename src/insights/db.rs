//! The SQL of the insights: each figure is one aggregate over the incidents
//! the filters select, read from the features' own tables. Months are
//! bucketed with `width_bucket` over month starts computed in the reader's
//! zone by the app, so PostgreSQL never needs to know the zone's name.
//!
//! Medians and 90th percentiles are `percentile_cont`: interpolated between
//! the two nearest values, as spreadsheets' MEDIAN and PERCENTILE do (the
//! median of 10, 20, 30, 40 minutes is 25 minutes).

use sqlx::{PgExecutor, Postgres, QueryBuilder};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::domain::Filters;
use crate::error::Result;

/// At most this many rows in a ranking (categories, suspects, playbooks).
pub const TOP: i64 = 10;
/// At most this many rows in a list behind a figure.
pub const LIST_LIMIT: i64 = 200;

/// The moments the page's range covers.
#[derive(Debug, Clone, Copy)]
pub struct Range {
    pub start: OffsetDateTime,
    pub end: OffsetDateTime,
}

/// The counter the database moves on every change the figures read (see
/// the migration): figures computed at one value hold until it moves.
#[tracing::instrument(skip_all)]
pub async fn change_counter(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar("select last_value from insights_change").fetch_one(db).await?)
}

/// The filters but the range, on the incident `i`.
fn push_labels(sql: &mut QueryBuilder<'_, Postgres>, filters: &Filters) {
    if let Some(severity) = filters.severity {
        sql.push(" and i.severity = ").push_bind(severity.as_str());
    }
    if let Some(service) = &filters.service {
        sql.push(" and i.services @> array[").push_bind(service.clone()).push("]::text[]");
    }
    if let Some(cause) = &filters.cause {
        sql.push(" and exists (select 1 from cause fc where fc.incident_id = i.id and fc.category = ")
            .push_bind(cause.clone())
            .push(")");
    }
}

/// Every filter, on the incident `i`.
fn push_filters(sql: &mut QueryBuilder<'_, Postgres>, filters: &Filters, range: Range) {
    sql.push(" and i.started_at >= ").push_bind(range.start);
    sql.push(" and i.started_at < ").push_bind(range.end);
    push_labels(sql, filters);
}

/// One month's incidents: how many, by severity, and the spread of each
/// milestone's duration (seconds from the start) over those that have it.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct MonthRow {
    /// 1-based index into the month starts the query was given.
    pub bucket: i32,
    pub incidents: i64,
    pub sev1: i64,
    pub sev2: i64,
    pub sev3: i64,
    pub sev4: i64,
    pub detected: i64,
    pub detect: Option<Vec<f64>>,
    pub mitigated: i64,
    pub mitigate: Option<Vec<f64>>,
    pub resolved: i64,
    pub resolve: Option<Vec<f64>>,
}

/// Per month (`months`: each month's first moment, oldest first).
#[tracing::instrument(skip_all)]
pub async fn months(
    db: impl PgExecutor<'_>,
    filters: &Filters,
    range: Range,
    months: &[OffsetDateTime],
) -> Result<Vec<MonthRow>> {
    // The milestone's column, the count's name, the spread's name.
    let spread = |at: &str, count: &str, name: &str| {
        format!(
            "count(i.{at}) as {count}, percentile_cont(array[0.5, 0.9]) within group \
             (order by extract(epoch from i.{at} - i.started_at)::float8) as {name}"
        )
    };
    let mut sql = QueryBuilder::new("select width_bucket(i.started_at, ");
    sql.push_bind(months.to_vec()).push(
        ") as bucket, count(*) as incidents, \
         count(*) filter (where i.severity = 'SEV1') as sev1, count(*) filter (where i.severity = 'SEV2') as sev2, \
         count(*) filter (where i.severity = 'SEV3') as sev3, count(*) filter (where i.severity = 'SEV4') as sev4, ",
    );
    sql.push(spread("detected_at", "detected", "detect"));
    sql.push(", ").push(spread("mitigated_at", "mitigated", "mitigate"));
    sql.push(", ").push(spread("resolved_at", "resolved", "resolve"));
    sql.push(" from incident i where true");
    push_filters(&mut sql, filters, range);
    sql.push(" group by 1 order by 1");
    Ok(sql.build_query_as().persistent(false).fetch_all(db).await?)
}

/// A name (a cause category, a suspect key) and how many incidents show it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CountRow {
    pub name: String,
    pub incidents: i64,
    /// A suspect's signature, as its analysis words it.
    pub signature: Option<String>,
}

/// The cause categories of the selected incidents, most frequent first.
#[tracing::instrument(skip_all)]
pub async fn top_categories(
    db: impl PgExecutor<'_>,
    filters: &Filters,
    range: Range,
) -> Result<Vec<CountRow>> {
    // Each incident once per category, however many causes of it it has:
    // hashed pairs, rather than a count of distinct ids sorted per category.
    let mut sql = QueryBuilder::new(
        "select p.category as name, count(*) as incidents, null::text as signature from \
         (select distinct c.incident_id, c.category from incident i join cause c on c.incident_id = i.id where true",
    );
    push_filters(&mut sql, filters, range);
    sql.push(") p group by p.category order by 2 desc, 1 limit ").push_bind(TOP);
    Ok(sql.build_query_as().persistent(false).fetch_all(db).await?)
}

/// The suspects the evidence of the selected incidents shows, by key, most
/// frequent first.
#[tracing::instrument(skip_all)]
pub async fn top_suspects(db: impl PgExecutor<'_>, filters: &Filters, range: Range) -> Result<Vec<CountRow>> {
    let mut sql = QueryBuilder::new(
        "select k.key as name, count(distinct i.id) as incidents, \
                min((select s ->> 'signature' from jsonb_array_elements(a.analysis -> 'suspects') s \
                      where s ->> 'key' = k.key limit 1)) as signature \
         from incident i join artifact a on a.incident_id = i.id cross join unnest(a.suspect_keys) k(key) \
         where true",
    );
    push_filters(&mut sql, filters, range);
    sql.push(" group by k.key order by 2 desc, 1 limit ").push_bind(TOP);
    Ok(sql.build_query_as().persistent(false).fetch_all(db).await?)
}

/// What is recurring: a cause category or a suspect key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recurring {
    Category,
    Suspect,
}

/// The first action item of kind `prevent` marked done on an incident
/// showing `name` (a category or a suspect key).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Closure {
    pub name: String,
    pub done_at: OffsetDateTime,
    pub title: String,
    pub incident_id: Uuid,
    pub incident_number: i32,
}

/// For each category (or suspect key) of any incident, the first
/// preventive action item done on an incident that shows it.
#[tracing::instrument(skip_all)]
pub async fn closures(db: impl PgExecutor<'_>, what: Recurring) -> Result<Vec<Closure>> {
    let sql = match what {
        // Categories are few and named in their table: for each, the walk
        // along the preventive items done, first done first, stops at the
        // first on an incident with that category.
        Recurring::Category => {
            "select k.name, f.done_at, f.title, i.id as incident_id, i.number as incident_number \
             from cause_category k cross join lateral ( \
                 select a.done_at, a.title, a.incident_id from action_item a \
                  where a.kind = 'prevent' and a.status = 'done' \
                    and exists (select 1 from cause c where c.incident_id = a.incident_id and c.category = k.name) \
                  order by a.done_at, a.id limit 1) f \
             join incident i on i.id = f.incident_id"
        }
        // Suspects are on the evidence, far rarer than incidents.
        Recurring::Suspect => {
            "select distinct on (s.name) s.name, a.done_at, a.title, i.id as incident_id, \
                    i.number as incident_number \
             from (select k.key as name, f.incident_id from artifact f cross join unnest(f.suspect_keys) k(key)) s \
             join action_item a on a.incident_id = s.incident_id join incident i on i.id = a.incident_id \
             where a.kind = 'prevent' and a.status = 'done' \
             order by s.name, a.done_at, a.id"
        }
    };
    Ok(sqlx::query_as(sql).persistent(false).fetch_all(db).await?)
}

/// How many selected incidents started from `since` on show each name,
/// other than the incident its preventive item was on.
#[tracing::instrument(skip_all)]
pub async fn recurrences(
    db: impl PgExecutor<'_>,
    what: Recurring,
    filters: &Filters,
    range: Range,
    closed: &[(String, OffsetDateTime, Uuid)],
) -> Result<Vec<(String, i64)>> {
    let names: Vec<String> = closed.iter().map(|(name, _, _)| name.clone()).collect();
    let sinces: Vec<OffsetDateTime> = closed.iter().map(|(_, since, _)| *since).collect();
    let ids: Vec<Uuid> = closed.iter().map(|(_, _, id)| *id).collect();
    let shows = match what {
        Recurring::Category => {
            "exists (select 1 from cause r where r.incident_id = i.id and r.category = n.name)"
        }
        Recurring::Suspect => {
            "exists (select 1 from artifact r where r.incident_id = i.id and r.suspect_keys @> array[n.name])"
        }
    };
    let mut sql = QueryBuilder::new("select n.name, count(i.id) from unnest(");
    sql.push_bind(names).push("::text[], ").push_bind(sinces).push("::timestamptz[], ").push_bind(ids).push(
        format!(
            "::uuid[]) n(name, since, prevented_on) join incident i on i.started_at >= n.since \
             and i.id <> n.prevented_on and {shows} where true"
        ),
    );
    push_filters(&mut sql, filters, range);
    sql.push(" group by n.name");
    Ok(sql.build_query_as().persistent(false).fetch_all(db).await?)
}

/// Action items of one owner (or of all, when `total`), as of `today` and
/// over the range.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OwnerRow {
    pub total: bool,
    pub owner_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub open: i64,
    pub overdue: i64,
    pub done: i64,
    /// Seconds from creation to done, over the items done in the range.
    pub median_close: Option<f64>,
}

/// Action items of the incidents the filters (but the range) select, by
/// owner, and for everyone: open and overdue now, done in the range.
#[tracing::instrument(skip_all)]
pub async fn action_items_by_owner(
    db: impl PgExecutor<'_>,
    filters: &Filters,
    range: Range,
    today: Date,
) -> Result<Vec<OwnerRow>> {
    // The open items and the items done in the range, each read off its
    // own narrow index, then counted by owner and for everyone.
    let mut sql = QueryBuilder::new(
        "select o.total, o.owner_id, u.name as owner_name, o.open, o.overdue, o.done, o.median_close from \
         (select grouping(x.owner_id) = 1 as total, x.owner_id, count(*) filter (where x.open) as open, \
                 count(*) filter (where x.overdue) as overdue, count(x.close) as done, \
                 percentile_cont(0.5) within group (order by x.close) as median_close \
          from (select a.owner_id, true as open, coalesce(a.due_on < ",
    );
    sql.push_bind(today).push(
        ", false) as overdue, null::float8 as close \
         from action_item a where a.status in ('open', 'in_progress')",
    );
    push_item_labels(&mut sql, filters);
    sql.push(
        " union all select a.owner_id, false, false, extract(epoch from a.done_at - a.created_at)::float8 \
         from action_item a where a.done_at >= ",
    )
    .push_bind(range.start)
    .push(" and a.done_at < ")
    .push_bind(range.end);
    push_item_labels(&mut sql, filters);
    sql.push(
        ") x group by grouping sets ((x.owner_id), ())) o left join app_user u on u.id = o.owner_id \
         order by o.total desc, o.open desc, o.done desc, u.name",
    );
    Ok(sql.build_query_as().persistent(false).fetch_all(db).await?)
}

/// The filters but the range, on the incident of the action item `a`;
/// nothing to join when there are none.
fn push_item_labels(sql: &mut QueryBuilder<'_, Postgres>, filters: &Filters) {
    if filters.severity.is_some() || filters.service.is_some() || filters.cause.is_some() {
        sql.push(" and exists (select 1 from incident i where i.id = a.incident_id");
        push_labels(sql, filters);
        sql.push(")");
    }
}

/// Action items done in one month: how many, and the median time to close.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DoneRow {
    pub bucket: i32,
    pub done: i64,
    pub median_close: Option<f64>,
}

/// Action items of the selected incidents (but the range) done in the
/// range, by the month they were done.
#[tracing::instrument(skip_all)]
pub async fn done_by_month(
    db: impl PgExecutor<'_>,
    filters: &Filters,
    range: Range,
    months: &[OffsetDateTime],
) -> Result<Vec<DoneRow>> {
    let mut sql = QueryBuilder::new("select width_bucket(a.done_at, ");
    sql.push_bind(months.to_vec())
        .push(
            ") as bucket, count(*) as done, \
             percentile_cont(0.5) within group (order by extract(epoch from a.done_at - a.created_at)::float8) \
             as median_close from action_item a where a.done_at >= ",
        )
        .push_bind(range.start)
        .push(" and a.done_at < ")
        .push_bind(range.end);
    push_item_labels(&mut sql, filters);
    sql.push(" group by 1 order by 1");
    Ok(sql.build_query_as().persistent(false).fetch_all(db).await?)
}

/// A playbook applied to selected incidents: how many checklists.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PlaybookRow {
    pub slug: String,
    pub title: String,
    pub checklists: i64,
}

/// The playbooks applied to the selected incidents, most used first.
#[tracing::instrument(skip_all)]
pub async fn playbook_use(
    db: impl PgExecutor<'_>,
    filters: &Filters,
    range: Range,
) -> Result<Vec<PlaybookRow>> {
    let mut sql = QueryBuilder::new(
        "select ch.playbook_slug as slug, max(coalesce(p.title, ch.title)) as title, count(*) as checklists \
         from checklist ch join incident i on i.id = ch.incident_id left join playbook p on p.id = ch.playbook_id \
         where true",
    );
    push_filters(&mut sql, filters, range);
    sql.push(" group by ch.playbook_slug order by 3 desc, 1 limit ").push_bind(TOP);
    Ok(sql.build_query_as().persistent(false).fetch_all(db).await?)
}

/// What narrows the incidents behind a figure, besides the filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Narrowing {
    /// A second cause category (the filters' `cause` is the first).
    pub category: Option<String>,
    pub suspect: Option<String>,
    pub playbook: Option<String>,
}

/// One incident of a list behind a figure.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct IncidentRow {
    pub number: i32,
    pub title: String,
    pub severity: String,
    pub started_at: OffsetDateTime,
    pub total: i64,
}

/// The selected incidents that `narrowing` keeps, newest first, up to
/// [`LIST_LIMIT`], each with how many there are in all.
#[tracing::instrument(skip_all)]
pub async fn incidents(
    db: impl PgExecutor<'_>,
    filters: &Filters,
    range: Range,
    narrowing: &Narrowing,
) -> Result<Vec<IncidentRow>> {
    let mut sql = QueryBuilder::new(
        "select i.number, i.title, i.severity, i.started_at, count(*) over () as total from incident i where true",
    );
    push_filters(&mut sql, filters, range);
    if let Some(category) = &narrowing.category {
        sql.push(" and exists (select 1 from cause c where c.incident_id = i.id and c.category = ")
            .push_bind(category.clone())
            .push(")");
    }
    if let Some(suspect) = &narrowing.suspect {
        sql.push(
            " and exists (select 1 from artifact f where f.incident_id = i.id and f.suspect_keys @> array[",
        )
        .push_bind(suspect.clone())
        .push("]::text[])");
    }
    if let Some(playbook) = &narrowing.playbook {
        sql.push(
            " and exists (select 1 from checklist ch where ch.incident_id = i.id and ch.playbook_slug = ",
        )
        .push_bind(playbook.clone())
        .push(")");
    }
    sql.push(" order by i.started_at desc, i.number desc limit ").push_bind(LIST_LIMIT);
    Ok(sql.build_query_as().persistent(false).fetch_all(db).await?)
}

/// Which action items a list behind a figure shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemState {
    /// Open or in progress now.
    Open,
    /// Open and due before today.
    Overdue,
    /// Done within the range.
    Done,
}

/// Whose action items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Owner {
    Anyone,
    Nobody,
    Person(Uuid),
}

/// One action item of a list behind a figure.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemRow {
    pub title: String,
    pub kind: String,
    pub status: String,
    pub owner_name: Option<String>,
    pub due_on: Option<Date>,
    pub created_at: OffsetDateTime,
    pub done_at: Option<OffsetDateTime>,
    pub incident_number: i32,
    pub incident_title: String,
    pub total: i64,
}

/// The action items of the selected incidents (but the range) in `state`,
/// of `owner`, up to [`LIST_LIMIT`], each with how many there are in all.
#[tracing::instrument(skip_all)]
pub async fn action_items(
    db: impl PgExecutor<'_>,
    filters: &Filters,
    range: Range,
    today: Date,
    state: ItemState,
    owner: Owner,
) -> Result<Vec<ItemRow>> {
    let mut sql = QueryBuilder::new(
        "select a.title, a.kind, a.status, u.name as owner_name, a.due_on, a.created_at, a.done_at, \
                i.number as incident_number, i.title as incident_title, count(*) over () as total \
         from action_item a join incident i on i.id = a.incident_id left join app_user u on u.id = a.owner_id \
         where true",
    );
    push_item_labels(&mut sql, filters);
    match state {
        ItemState::Open => {
            sql.push(" and a.status in ('open', 'in_progress')");
        }
        ItemState::Overdue => {
            sql.push(" and a.status in ('open', 'in_progress') and a.due_on < ").push_bind(today);
        }
        ItemState::Done => {
            sql.push(" and a.done_at >= ").push_bind(range.start);
            sql.push(" and a.done_at < ").push_bind(range.end);
        }
    }
    match owner {
        Owner::Anyone => {}
        Owner::Nobody => {
            sql.push(" and a.owner_id is null");
        }
        Owner::Person(id) => {
            sql.push(" and a.owner_id = ").push_bind(id);
        }
    }
    let order = match state {
        ItemState::Done => " order by a.done_at desc, a.id",
        _ => " order by a.due_on nulls last, i.number desc, a.id",
    };
    sql.push(order).push(" limit ").push_bind(LIST_LIMIT);
    Ok(sql.build_query_as().persistent(false).fetch_all(db).await?)
}
