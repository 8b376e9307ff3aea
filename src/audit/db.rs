//! SQL for reading the audit trail, and for its retention prune: the only
//! delete the table lets through (see the migration's trigger).

use serde::Serialize;
use sqlx::{PgExecutor, PgPool, Postgres, QueryBuilder};
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{AuditFilter, like_escaped};
use crate::error::Result;

/// Events deleted per statement by the prune, so it never holds many
/// locks, nor one long transaction, however much has expired.
const PRUNE_BATCH: i64 = 1000;

/// One event of the trail, as the page, the download and the API show it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = AuditEvent)]
pub struct AuditRow {
    pub id: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub action: String,
    pub actor_id: Option<Uuid>,
    pub actor: Option<String>,
    pub address: Option<String>,
    pub target: Option<String>,
    /// What else the event records, by its action.
    pub detail: serde_json::Value,
}

const COLUMNS: &str = "select id, at, action, actor_id, actor, address, target, detail from audit_event";

/// ` where …` narrowing to the filter (always a where: `true` when unset).
fn push_filter(query: &mut QueryBuilder<'_, Postgres>, filter: &AuditFilter) {
    query.push(" where true");
    if let Some(action) = filter.action {
        query.push(" and action = ").push_bind(action.as_str());
    }
    if let Some(actor) = &filter.actor {
        query.push(" and actor ilike ").push_bind(format!("%{}%", like_escaped(actor)));
    }
    if let Some(address) = &filter.address {
        query.push(" and address like ").push_bind(format!("{}%", like_escaped(address)));
    }
    if let Some(from) = filter.from {
        query.push(" and at >= ").push_bind(from);
    }
    if let Some(before) = filter.before {
        query.push(" and at < ").push_bind(before);
    }
}

/// The filter's events, newest first, `limit` from `offset`.
#[tracing::instrument(skip_all)]
pub async fn list(
    db: impl PgExecutor<'_>,
    filter: &AuditFilter,
    limit: i64,
    offset: i64,
) -> Result<Vec<AuditRow>> {
    let mut query = QueryBuilder::new(COLUMNS);
    push_filter(&mut query, filter);
    query.push(" order by at desc, id desc limit ").push_bind(limit).push(" offset ").push_bind(offset);
    Ok(query.build_query_as().fetch_all(db).await?)
}

/// How many events the filter finds.
#[tracing::instrument(skip_all)]
pub async fn count(db: impl PgExecutor<'_>, filter: &AuditFilter) -> Result<i64> {
    let mut query = QueryBuilder::new("select count(*) from audit_event");
    push_filter(&mut query, filter);
    Ok(query.build_query_scalar().fetch_one(db).await?)
}

/// Where a walk through the events, newest first, has got to.
pub type Place = (OffsetDateTime, i64);

/// The filter's next `limit` events after `after`, newest first: a
/// download reads the trail this way, batch by batch, at any depth at the
/// same cost.
#[tracing::instrument(skip_all)]
pub async fn batch_after(
    db: impl PgExecutor<'_>,
    filter: &AuditFilter,
    after: Option<Place>,
    limit: i64,
) -> Result<Vec<AuditRow>> {
    let mut query = QueryBuilder::new(COLUMNS);
    push_filter(&mut query, filter);
    if let Some((at, id)) = after {
        query.push(" and (at, id) < (").push_bind(at).push(", ").push_bind(id).push(")");
    }
    query.push(" order by at desc, id desc limit ").push_bind(limit);
    Ok(query.build_query_as().fetch_all(db).await?)
}

/// Deletes the events older than `days` days, in batches, each in its own
/// short transaction; returns how many went. `0` days keeps them forever.
#[tracing::instrument(skip_all)]
pub async fn prune(pool: &PgPool, days: u32) -> Result<u64> {
    if days == 0 {
        return Ok(0);
    }
    let mut pruned = 0;
    loop {
        let mut tx = pool.begin().await?;
        // The one delete the append-only trigger lets through, and only for
        // this transaction.
        sqlx::query("select set_config('debrief.audit_prune', 'on', true)").execute(&mut *tx).await?;
        let deleted = sqlx::query(
            "delete from audit_event where id in (select id from audit_event \
             where at < now() - make_interval(days => $1) order by at limit $2)",
        )
        .bind(i32::try_from(days).unwrap_or(i32::MAX))
        .bind(PRUNE_BATCH)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        tx.commit().await?;
        pruned += deleted;
        if deleted < PRUNE_BATCH as u64 {
            return Ok(pruned);
        }
    }
}
