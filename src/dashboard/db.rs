//! SQL for the dashboard: a few short lists, each bounded, each with the
//! number of rows it was cut from.

use sqlx::PgExecutor;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use crate::{
    action_items::domain::{ActionStatus, Priority},
    error::{AppError, Result},
    incidents::{
        db::reference,
        domain::{Severity, Status},
    },
};

/// Some rows of a list and how many there are in all.
#[derive(Debug)]
pub struct Cut<T> {
    pub rows: Vec<T>,
    pub total: i64,
}

impl<T> Cut<T> {
    /// More rows than are shown.
    pub fn is_cut(&self) -> bool {
        self.total > self.rows.len() as i64
    }
}

/// An open action item of the reader's, with its incident.
#[derive(Debug, Clone)]
pub struct MyItem {
    pub title: String,
    pub due_on: Option<Date>,
    pub priority: Priority,
    pub status: ActionStatus,
    pub incident_reference: String,
    pub incident_title: String,
}

impl MyItem {
    /// Due before `today`.
    pub fn is_overdue(&self, today: &Date) -> bool {
        self.due_on.is_some_and(|due| due < *today)
    }
}

/// The reader's open items and how many of them are overdue.
#[derive(Debug)]
pub struct MyItems {
    pub items: Cut<MyItem>,
    pub overdue: i64,
}

/// The open (or in progress) items owned by `owner`: overdue first, then
/// soonest due, undated last.
#[tracing::instrument(skip_all)]
pub async fn my_open_items(db: impl PgExecutor<'_>, owner: Uuid, today: Date, limit: i64) -> Result<MyItems> {
    #[derive(sqlx::FromRow)]
    struct Row {
        title: String,
        due_on: Option<Date>,
        priority: String,
        status: String,
        incident_number: i32,
        incident_title: String,
        total: i64,
        overdue: i64,
    }
    let sql = "select a.title, a.due_on, a.priority, a.status, i.number as incident_number, \
               i.title as incident_title, count(*) over () as total, \
               count(*) filter (where a.due_on < $2) over () as overdue \
               from action_item a join incident i on i.id = a.incident_id \
               where a.owner_id = $1 and a.status in ('open', 'in_progress') \
               order by a.due_on < $2 desc nulls last, a.due_on nulls last, a.priority, i.number desc \
               limit $3";
    let rows = sqlx::query_as::<_, Row>(sql).bind(owner).bind(today).bind(limit).fetch_all(db).await?;
    let (total, overdue) = rows.first().map(|row| (row.total, row.overdue)).unwrap_or((0, 0));
    let corrupt = |e: String| AppError::Internal(anyhow::anyhow!("action item: {e}"));
    let items = rows
        .into_iter()
        .map(|row| {
            Ok(MyItem {
                priority: Priority::parse(&row.priority).map_err(corrupt)?,
                status: ActionStatus::parse(&row.status).map_err(corrupt)?,
                title: row.title,
                due_on: row.due_on,
                incident_reference: reference(row.incident_number),
                incident_title: row.incident_title,
            })
        })
        .collect::<Result<_>>()?;
    Ok(MyItems { items: Cut { rows: items, total }, overdue })
}

/// An incident as the dashboard's short lists show it.
#[derive(Debug, Clone)]
pub struct ShortIncident {
    pub reference: String,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct ShortRow {
    number: i32,
    title: String,
    severity: String,
    status: String,
    updated_at: OffsetDateTime,
    total: i64,
}

fn short_list(rows: Vec<ShortRow>) -> Result<Cut<ShortIncident>> {
    let total = rows.first().map(|row| row.total).unwrap_or(0);
    let rows = rows
        .into_iter()
        .map(|row| {
            let corrupt = |e: String| AppError::Internal(anyhow::anyhow!("incident {}: {e}", row.number));
            Ok(ShortIncident {
                severity: Severity::parse(&row.severity).map_err(corrupt)?,
                status: Status::parse(&row.status).map_err(corrupt)?,
                reference: reference(row.number),
                title: row.title,
                updated_at: row.updated_at,
            })
        })
        .collect::<Result<_>>()?;
    Ok(Cut { rows, total })
}

/// The reader's drafts: incidents still in draft that `author` opened or
/// saved any change to (every saved change is a revision with its author),
/// most recently changed first.
#[tracing::instrument(skip_all)]
pub async fn my_drafts(db: impl PgExecutor<'_>, author: Uuid, limit: i64) -> Result<Cut<ShortIncident>> {
    let sql = "select i.number, i.title, i.severity, i.status, i.updated_at, count(*) over () as total \
               from incident i \
               where i.status = 'draft' and (i.created_by = $1 or exists ( \
                   select 1 from incident_revision r where r.incident_id = i.id and r.author_id = $1)) \
               order by i.updated_at desc, i.number desc limit $2";
    let rows = sqlx::query_as::<_, ShortRow>(sql).bind(author).bind(limit).fetch_all(db).await?;
    short_list(rows)
}

/// Every incident waiting for its review, the longest waiting first.
#[tracing::instrument(skip_all)]
pub async fn in_review(db: impl PgExecutor<'_>, limit: i64) -> Result<Cut<ShortIncident>> {
    let sql = "select number, title, severity, status, updated_at, count(*) over () as total \
               from incident where status = 'in_review' \
               order by updated_at, number limit $1";
    let rows = sqlx::query_as::<_, ShortRow>(sql).bind(limit).fetch_all(db).await?;
    short_list(rows)
}
