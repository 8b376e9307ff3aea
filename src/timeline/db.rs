//! SQL for timeline events.

use serde::Serialize;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{EventFields, EventKind, HypothesisStatus};
use crate::error::{AppError, Result};

#[derive(Debug, Clone, Serialize)]
pub struct TimelineEvent {
    pub id: Uuid,
    pub incident_id: Uuid,
    #[serde(with = "time::serde::rfc3339")]
    pub occurred_at: OffsetDateTime,
    pub kind: EventKind,
    pub body: String,
    pub author_id: Option<Uuid>,
    pub author_name: Option<String>,
    pub hypothesis_status: Option<HypothesisStatus>,
    pub evidence: String,
    pub version: i32,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: Uuid,
    incident_id: Uuid,
    occurred_at: OffsetDateTime,
    kind: String,
    body: String,
    author_id: Option<Uuid>,
    author_name: Option<String>,
    hypothesis_status: Option<String>,
    evidence: String,
    version: i32,
}

impl TryFrom<EventRow> for TimelineEvent {
    type Error = AppError;

    fn try_from(row: EventRow) -> Result<TimelineEvent> {
        let kind = EventKind::parse(&row.kind).map_err(|e| anyhow::anyhow!("event {}: {e}", row.id))?;
        let hypothesis_status = row
            .hypothesis_status
            .as_deref()
            .map(HypothesisStatus::parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!("event {}: {e}", row.id))?;
        Ok(TimelineEvent {
            id: row.id,
            incident_id: row.incident_id,
            occurred_at: row.occurred_at,
            kind,
            body: row.body,
            author_id: row.author_id,
            author_name: row.author_name,
            hypothesis_status,
            evidence: row.evidence,
            version: row.version,
        })
    }
}

const SELECT: &str = "select e.id, e.incident_id, e.occurred_at, e.kind, e.body, e.author_id, u.name as author_name, \
                      e.hypothesis_status, e.evidence, e.version \
                      from timeline_event e left join app_user u on u.id = e.author_id";

/// The incident's timeline, in time order.
#[tracing::instrument(skip_all)]
pub async fn list_events(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<TimelineEvent>> {
    let sql = format!("{SELECT} where e.incident_id = $1 order by e.occurred_at, e.created_at, e.id");
    let rows = sqlx::query_as::<_, EventRow>(&sql).bind(incident_id).fetch_all(db).await?;
    rows.into_iter().map(TimelineEvent::try_from).collect()
}

#[tracing::instrument(skip_all)]
pub async fn find_event(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<TimelineEvent>> {
    let sql = format!("{SELECT} where e.id = $1");
    let row = sqlx::query_as::<_, EventRow>(&sql).bind(id).fetch_optional(db).await?;
    row.map(TimelineEvent::try_from).transpose()
}

/// The event, locked until the transaction ends.
#[tracing::instrument(skip_all)]
pub async fn lock_event(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<TimelineEvent>> {
    let sql = format!("{SELECT} where e.id = $1 for update of e");
    let row = sqlx::query_as::<_, EventRow>(&sql).bind(id).fetch_optional(db).await?;
    row.map(TimelineEvent::try_from).transpose()
}

#[tracing::instrument(skip_all)]
pub async fn insert_event(
    db: impl PgExecutor<'_>,
    incident_id: Uuid,
    fields: &EventFields,
    author_id: Uuid,
) -> Result<Uuid> {
    let sql = "insert into timeline_event (id, incident_id, occurred_at, kind, body, author_id, hypothesis_status, evidence) \
               values ($1, $2, $3, $4, $5, $6, $7, $8) returning id";
    let id = sqlx::query_scalar(sql)
        .bind(Uuid::now_v7())
        .bind(incident_id)
        .bind(fields.occurred_at)
        .bind(fields.kind.as_str())
        .bind(&fields.body)
        .bind(author_id)
        .bind(fields.hypothesis_status.map(HypothesisStatus::as_str))
        .bind(&fields.evidence)
        .fetch_one(db)
        .await?;
    Ok(id)
}

/// Writes the event's fields and moves its version on.
#[tracing::instrument(skip_all)]
pub async fn save_event(db: impl PgExecutor<'_>, id: Uuid, fields: &EventFields) -> Result<()> {
    let sql = "update timeline_event set occurred_at = $2, kind = $3, body = $4, hypothesis_status = $5, \
               evidence = $6, version = version + 1, updated_at = now() where id = $1";
    sqlx::query(sql)
        .bind(id)
        .bind(fields.occurred_at)
        .bind(fields.kind.as_str())
        .bind(&fields.body)
        .bind(fields.hypothesis_status.map(HypothesisStatus::as_str))
        .bind(&fields.evidence)
        .execute(db)
        .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_event(db: impl PgExecutor<'_>, id: Uuid) -> Result<bool> {
    let done = sqlx::query("delete from timeline_event where id = $1").bind(id).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

impl TimelineEvent {
    /// The event's fields, to edit from.
    pub fn fields(&self) -> EventFields {
        EventFields {
            occurred_at: self.occurred_at,
            kind: self.kind,
            body: self.body.clone(),
            hypothesis_status: self.hypothesis_status,
            evidence: self.evidence.clone(),
        }
    }

    /// One line for the history: `2026-11-20T14:02:00Z alert: 5xx > 5%`.
    pub fn history_text(&self) -> String {
        let at = crate::web::clock::moment_text(&Some(self.occurred_at));
        let status = self.hypothesis_status.map(|s| format!(" ({s})")).unwrap_or_default();
        let evidence =
            if self.evidence.is_empty() { String::new() } else { format!("\n  evidence: {}", self.evidence) };
        format!("{at} {}{status}: {}{evidence}", self.kind, self.body)
    }
}
