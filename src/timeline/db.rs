//! SQL for timeline events.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{EventFields, EventKind, HypothesisStatus};
use crate::{
    error::{AppError, Result},
    incidents::versioned::Versioned,
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
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

/// The columns of an event, read from `e` joined with its author `u`.
const COLUMNS: &str = "e.id, e.incident_id, e.occurred_at, e.kind, e.body, e.author_id, u.name as author_name, \
                       e.hypothesis_status, e.evidence, e.version";

/// The event `id`, if it belongs to `incident` (any, when `None`); locked
/// until the transaction ends when `lock` is set.
#[tracing::instrument(skip_all)]
pub async fn find_event(
    db: impl PgExecutor<'_>,
    incident: Option<Uuid>,
    id: Uuid,
    lock: bool,
) -> Result<Option<TimelineEvent>> {
    let lock = if lock { " for update of e" } else { "" };
    let sql = format!("{SELECT} where e.id = $1 and ($2::uuid is null or e.incident_id = $2){lock}");
    let row = sqlx::query_as::<_, EventRow>(&sql).bind(id).bind(incident).fetch_optional(db).await?;
    row.map(TimelineEvent::try_from).transpose()
}

/// Adds an event and returns it as saved.
#[tracing::instrument(skip_all)]
pub async fn insert_event(
    db: impl PgExecutor<'_>,
    incident_id: Uuid,
    fields: &EventFields,
    author_id: Uuid,
) -> Result<TimelineEvent> {
    let sql = format!(
        "with e as (insert into timeline_event \
           (id, incident_id, occurred_at, kind, body, author_id, hypothesis_status, evidence) \
           values ($1, $2, $3, $4, $5, $6, $7, $8) returning *) \
         select {COLUMNS} from e left join app_user u on u.id = e.author_id"
    );
    let row = sqlx::query_as::<_, EventRow>(&sql)
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
    row.try_into()
}

/// Writes the event's fields, moves its version on and returns it as saved.
#[tracing::instrument(skip_all)]
pub async fn save_event(db: impl PgExecutor<'_>, id: Uuid, fields: &EventFields) -> Result<TimelineEvent> {
    let sql = format!(
        "with e as (update timeline_event set occurred_at = $2, kind = $3, body = $4, hypothesis_status = $5, \
           evidence = $6, version = version + 1, updated_at = now() where id = $1 returning *) \
         select {COLUMNS} from e left join app_user u on u.id = e.author_id"
    );
    let row = sqlx::query_as::<_, EventRow>(&sql)
        .bind(id)
        .bind(fields.occurred_at)
        .bind(fields.kind.as_str())
        .bind(&fields.body)
        .bind(fields.hypothesis_status.map(HypothesisStatus::as_str))
        .bind(&fields.evidence)
        .fetch_optional(db)
        .await?
        .ok_or(AppError::NotFound)?;
    row.try_into()
}

#[tracing::instrument(skip_all)]
pub async fn delete_event(db: impl PgExecutor<'_>, id: Uuid) -> Result<()> {
    sqlx::query("delete from timeline_event where id = $1").bind(id).execute(db).await?;
    Ok(())
}

impl Versioned for TimelineEvent {
    const HISTORY_FIELD: &'static str = "timeline";
    type Fields = EventFields;

    fn incident_id(&self) -> Uuid {
        self.incident_id
    }

    fn version(&self) -> i32 {
        self.version
    }

    fn history_text(&self) -> String {
        TimelineEvent::history_text(self)
    }

    async fn find(
        db: &mut PgConnection,
        incident: Option<Uuid>,
        id: Uuid,
        lock: bool,
    ) -> Result<Option<Self>> {
        find_event(db, incident, id, lock).await
    }

    async fn save(db: &mut PgConnection, id: Uuid, fields: &EventFields) -> Result<Self> {
        save_event(db, id, fields).await
    }

    async fn delete(db: &mut PgConnection, id: Uuid) -> Result<()> {
        delete_event(db, id).await
    }
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

/// An artifact as the timeline names it beside the event it was taken at.
/// Read here, from the evidence's table, so that the timeline needs nothing
/// of the evidence feature (which links its files to events).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct LinkedArtifact {
    pub id: Uuid,
    pub timeline_event_id: Uuid,
    pub file_name: String,
    pub format: String,
    pub analysis_status: String,
    pub summary: String,
}

/// The incident's artifacts that are linked to one of its events.
pub async fn linked_to_events(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<LinkedArtifact>> {
    let sql = "select id, timeline_event_id, file_name, format, analysis_status, summary from artifact \
               where incident_id = $1 and timeline_event_id is not null order by created_at, id";
    Ok(sqlx::query_as(sql).bind(incident_id).fetch_all(db).await?)
}
