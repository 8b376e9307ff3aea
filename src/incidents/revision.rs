//! Revisions: every saved change to a postmortem, with who made it, the
//! fields it touched and the whole document as it then stood. Every part
//! of the page records its changes here, in the transaction that made them.

use serde::{Deserialize, Serialize};
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::document::Document;
use crate::error::Result;

/// One field's change within a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// A revision as the history page lists it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Revision {
    pub id: i64,
    pub author_name: Option<String>,
    pub summary: String,
    pub changes: sqlx::types::Json<Vec<Change>>,
    pub after_publication: bool,
    pub created_at: OffsetDateTime,
}

/// How many changes a postmortem has had, and the last of them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChangeCount {
    pub changes: i64,
    pub last_by: Option<String>,
    pub last_at: Option<OffsetDateTime>,
}

/// Records a saved change with the postmortem as it now stands. Call it in
/// the transaction that made the change.
#[tracing::instrument(skip_all)]
pub async fn record(
    tx: &mut PgConnection,
    document: &Document,
    incident_id: Uuid,
    author_id: Uuid,
    summary: &str,
    changes: &[Change],
    after_publication: bool,
) -> Result<()> {
    let snapshot = document.snapshot(&mut *tx, incident_id).await?;
    sqlx::query(
        "insert into incident_revision (incident_id, author_id, summary, changes, after_publication, snapshot) \
         values ($1, $2, $3, $4, $5, $6)",
    )
    .bind(incident_id)
    .bind(author_id)
    .bind(summary)
    .bind(sqlx::types::Json(changes))
    .bind(after_publication)
    .bind(snapshot)
    .execute(tx)
    .await?;
    Ok(())
}

/// Records a change to a part of the postmortem (timeline, causes, action
/// items), marked as after publication when the incident is published.
#[tracing::instrument(skip_all)]
pub async fn record_part(
    tx: &mut PgConnection,
    document: &Document,
    incident_id: Uuid,
    author_id: Uuid,
    summary: &str,
    changes: &[Change],
) -> Result<()> {
    let status: String = sqlx::query_scalar("select status from incident where id = $1")
        .bind(incident_id)
        .fetch_one(&mut *tx)
        .await?;
    record(tx, document, incident_id, author_id, summary, changes, status == "published").await
}

/// Every revision of the incident, newest first.
#[tracing::instrument(skip_all)]
pub async fn list(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<Revision>> {
    let sql = "select r.id, u.name as author_name, r.summary, r.changes, r.after_publication, r.created_at \
               from incident_revision r left join app_user u on u.id = r.author_id \
               where r.incident_id = $1 order by r.id desc";
    Ok(sqlx::query_as(sql).bind(incident_id).fetch_all(db).await?)
}

/// The number of changes and who made the last, for the page's head.
#[tracing::instrument(skip_all)]
pub async fn count(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<ChangeCount> {
    let sql = "select (select count(*) from incident_revision where incident_id = $1) as changes, \
               last.name as last_by, last.created_at as last_at \
               from (select 1) one left join lateral ( \
                 select u.name, r.created_at from incident_revision r \
                 left join app_user u on u.id = r.author_id \
                 where r.incident_id = $1 order by r.id desc limit 1) last on true";
    Ok(sqlx::query_as(sql).bind(incident_id).fetch_one(db).await?)
}

/// The postmortem as it stood after a revision.
#[tracing::instrument(skip_all)]
pub async fn snapshot_of(
    db: impl PgExecutor<'_>,
    incident_id: Uuid,
    revision_id: i64,
) -> Result<Option<String>> {
    let sql = "select snapshot from incident_revision where incident_id = $1 and id = $2";
    Ok(sqlx::query_scalar(sql).bind(incident_id).bind(revision_id).fetch_optional(db).await?)
}

/// The changes saved after the incident was published, newest first.
#[tracing::instrument(skip_all)]
pub async fn after_publication(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<Revision>> {
    let sql = "select r.id, u.name as author_name, r.summary, r.changes, r.after_publication, r.created_at \
               from incident_revision r left join app_user u on u.id = r.author_id \
               where r.incident_id = $1 and r.after_publication order by r.id desc limit 20";
    Ok(sqlx::query_as(sql).bind(incident_id).fetch_all(db).await?)
}
