//! SQL for the open-items page: one page of the items the filters keep,
//! and how many they keep in all.

use sqlx::{PgExecutor, Postgres, QueryBuilder};
use time::Date;
use uuid::Uuid;

use super::{
    db::{ActionItem, ActionItemRow, COLUMNS, OpenActionItem},
    domain::ActionStatus,
};
use crate::error::Result;

/// Which statuses to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// Open or in progress: what is still to be done.
    Unfinished,
    Only(ActionStatus),
    All,
}

/// Whose items to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OwnerFilter {
    Anyone,
    Person(Uuid),
    Nobody,
}

/// The order of the rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    /// Soonest due first; undated last.
    DueAsc,
    /// Latest due first; undated still last.
    DueDesc,
    /// Newest incident first.
    IncidentDesc,
    /// Oldest incident first.
    IncidentAsc,
}

/// What the page was asked to show, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    pub owner: OwnerFilter,
    pub status: StatusFilter,
    pub overdue: bool,
    pub incident: Option<i32>,
}

impl Default for Filters {
    fn default() -> Filters {
        Filters {
            owner: OwnerFilter::Anyone,
            status: StatusFilter::Unfinished,
            overdue: false,
            incident: None,
        }
    }
}

fn push_where<'a>(sql: &mut QueryBuilder<'a, Postgres>, filters: &'a Filters, today: Date) {
    sql.push(" where true");
    match filters.status {
        StatusFilter::Unfinished => {
            sql.push(" and a.status in ('open', 'in_progress')");
        }
        StatusFilter::Only(status) => {
            sql.push(" and a.status = ").push_bind(status.as_str());
        }
        StatusFilter::All => {}
    }
    match filters.owner {
        OwnerFilter::Anyone => {}
        OwnerFilter::Person(id) => {
            sql.push(" and a.owner_id = ").push_bind(id);
        }
        OwnerFilter::Nobody => {
            sql.push(" and a.owner_id is null");
        }
    }
    if filters.overdue {
        // Overdue as the rows mark it: still to be done and due before today.
        sql.push(" and a.status in ('open', 'in_progress') and a.due_on < ").push_bind(today);
    }
    if let Some(number) = filters.incident {
        sql.push(" and i.number = ").push_bind(number);
    }
}

const FROM: &str = " from action_item a join incident i on i.id = a.incident_id \
                    left join app_user u on u.id = a.owner_id";

/// How many items the filters keep, and how many of those are overdue.
#[tracing::instrument(skip_all)]
pub async fn count_items(db: impl PgExecutor<'_>, filters: &Filters, today: Date) -> Result<(i64, i64)> {
    let mut sql = QueryBuilder::new(
        "select count(*), count(*) filter (where a.status in ('open', 'in_progress') and a.due_on < ",
    );
    sql.push_bind(today).push(")").push(FROM);
    push_where(&mut sql, filters, today);
    Ok(sql.build_query_as::<(i64, i64)>().fetch_one(db).await?)
}

#[derive(sqlx::FromRow)]
struct Row {
    #[sqlx(flatten)]
    item: ActionItemRow,
    incident_number: i32,
    incident_title: String,
}

/// `limit` items the filters keep, from `offset` on, in `sort` order.
#[tracing::instrument(skip_all)]
pub async fn list_items(
    db: impl PgExecutor<'_>,
    filters: &Filters,
    today: Date,
    sort: Sort,
    limit: i64,
    offset: i64,
) -> Result<Vec<OpenActionItem>> {
    let mut sql = QueryBuilder::new(format!(
        "select {COLUMNS}, i.number as incident_number, i.title as incident_title"
    ));
    sql.push(FROM);
    push_where(&mut sql, filters, today);
    // The id last, so that rows equal on every other key keep their place
    // from one page to the next.
    sql.push(match sort {
        Sort::DueAsc => " order by a.due_on asc nulls last, a.priority, i.number desc, a.id",
        Sort::DueDesc => " order by a.due_on desc nulls last, a.priority, i.number desc, a.id",
        Sort::IncidentDesc => " order by i.number desc, a.due_on nulls last, a.priority, a.id",
        Sort::IncidentAsc => " order by i.number asc, a.due_on nulls last, a.priority, a.id",
    });
    sql.push(" limit ").push_bind(limit).push(" offset ").push_bind(offset);
    let rows = sql.build_query_as::<Row>().fetch_all(db).await?;
    rows.into_iter().map(open_item).collect()
}

fn open_item(row: Row) -> Result<OpenActionItem> {
    let item = ActionItem::try_from(row.item)?;
    Ok(OpenActionItem { item, incident_number: row.incident_number, incident_title: row.incident_title })
}
