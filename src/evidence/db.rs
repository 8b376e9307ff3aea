//! SQL for artifacts.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Result;

/// An artifact as the pages and the API show it, without its analysis.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = ArtifactRecord)]
pub struct Artifact {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub sha256: String,
    pub size: i64,
    pub file_name: String,
    pub format: String,
    pub format_detail: String,
    pub note: String,
    pub timeline_event_id: Option<Uuid>,
    pub uploaded_by: Option<Uuid>,
    pub uploader_name: Option<String>,
    pub analysis_status: String,
    pub analysis_error: Option<String>,
    pub summary: String,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

const COLUMNS: &str = "a.id, a.incident_id, a.sha256, a.size, a.file_name, a.format, a.format_detail, a.note, \
                       a.timeline_event_id, a.uploaded_by, u.name as uploader_name, a.analysis_status, \
                       a.analysis_error, a.summary, a.version, a.created_at";

/// What a new artifact is saved from.
#[derive(Debug, Clone)]
pub struct NewArtifact {
    pub incident_id: Uuid,
    pub sha256: String,
    pub size: u64,
    pub file_name: String,
    pub format: &'static str,
    pub format_detail: String,
    pub note: String,
    pub timeline_event_id: Option<Uuid>,
    pub uploaded_by: Uuid,
    pub analysis: AnalysisState,
}

/// Where a new artifact's analysis stands.
#[derive(Debug, Clone)]
pub enum AnalysisState {
    /// Nothing to analyse (a plain attachment).
    None,
    /// Queued.
    Pending,
    /// Analysed before the upload answered.
    Done { analysis: serde_json::Value, summary: String },
}

pub async fn insert_artifact(db: &mut PgConnection, new: &NewArtifact) -> Result<Artifact> {
    let (status, analysis, summary) = match &new.analysis {
        AnalysisState::None => ("none", None, ""),
        AnalysisState::Pending => ("pending", None, ""),
        AnalysisState::Done { analysis, summary } => ("done", Some(analysis), summary.as_str()),
    };
    let sql = format!(
        "with a as (insert into artifact (id, incident_id, sha256, size, file_name, format, format_detail, note, \
           timeline_event_id, uploaded_by, analysis_status, analysis, summary, analysed_at) \
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, case when $12::jsonb is null then null else now() end) \
         returning *) \
         select {COLUMNS} from a left join app_user u on u.id = a.uploaded_by"
    );
    let artifact = sqlx::query_as::<_, Artifact>(&sql)
        .bind(Uuid::now_v7())
        .bind(new.incident_id)
        .bind(&new.sha256)
        .bind(new.size as i64)
        .bind(&new.file_name)
        .bind(new.format)
        .bind(&new.format_detail)
        .bind(&new.note)
        .bind(new.timeline_event_id)
        .bind(new.uploaded_by)
        .bind(status)
        .bind(analysis.map(sqlx::types::Json))
        .bind(summary)
        .fetch_one(&mut *db)
        .await?;
    if status == "pending" {
        super::queue::enqueue(&mut *db, artifact.id).await?;
    }
    Ok(artifact)
}

/// The incident's artifacts, oldest first.
pub async fn list_for_incident(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<Artifact>> {
    let sql = format!(
        "select {COLUMNS} from artifact a left join app_user u on u.id = a.uploaded_by \
         where a.incident_id = $1 order by a.created_at, a.id"
    );
    Ok(sqlx::query_as(&sql).bind(incident_id).fetch_all(db).await?)
}

/// Attaches content this Debrief already holds to `incident` again, with
/// the analysis it has elsewhere; nothing when no artifact holds it.
pub async fn attach_again(
    db: &mut PgConnection,
    incident: Uuid,
    sha256: &str,
    file_name: &str,
    note: &str,
    author: Uuid,
) -> Result<bool> {
    let sql = "insert into artifact (id, incident_id, sha256, size, file_name, format, format_detail, note, \
                                     uploaded_by, analysis_status, analysis, analysis_error, summary, analysed_at) \
               select $1, $2, sha256, size, $3, format, format_detail, $4, $5, \
                      case when analysis_status = 'pending' then 'pending' else analysis_status end, \
                      analysis, analysis_error, summary, analysed_at \
               from artifact where sha256 = $6 order by created_at limit 1 \
               returning id, analysis_status";
    let name: String = file_name.chars().filter(|c| !c.is_control()).take(255).collect();
    let name = if name.trim().is_empty() { "file".to_owned() } else { name };
    let note: String = note.chars().take(2000).collect();
    let created: Option<(Uuid, String)> = sqlx::query_as(sql)
        .bind(Uuid::now_v7())
        .bind(incident)
        .bind(name)
        .bind(note)
        .bind(author)
        .bind(sha256)
        .fetch_optional(&mut *db)
        .await?;
    let Some((id, status)) = created else { return Ok(false) };
    sqlx::query("update artifact_blob set last_attached = now() where sha256 = $1")
        .bind(sha256)
        .execute(&mut *db)
        .await?;
    if status == "pending" {
        super::queue::enqueue(&mut *db, id).await?;
    }
    Ok(true)
}

pub async fn find_artifact(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Artifact>> {
    let sql = format!(
        "select {COLUMNS} from artifact a left join app_user u on u.id = a.uploaded_by where a.id = $1"
    );
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(db).await?)
}

/// The stored analysis of an artifact, when it is done.
pub async fn analysis_of(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<serde_json::Value>> {
    let analysis: Option<Option<sqlx::types::Json<serde_json::Value>>> =
        sqlx::query_scalar("select analysis from artifact where id = $1").bind(id).fetch_optional(db).await?;
    Ok(analysis.flatten().map(|json| json.0))
}

/// Deletes the artifact. Its content stays in the store until the sweep
/// finds nothing holds it.
pub async fn delete_artifact(db: &mut PgConnection, id: Uuid) -> Result<bool> {
    let deleted = sqlx::query("delete from artifact where id = $1").bind(id).execute(&mut *db).await?;
    Ok(deleted.rows_affected() == 1)
}

/// Claims content for an upload about to keep it: the sweep leaves it
/// alone for an hour from now.
pub async fn touch_blob(db: impl PgExecutor<'_>, sha256: &str, size: u64) -> Result<()> {
    sqlx::query(
        "insert into artifact_blob (sha256, size) values ($1, $2) \
         on conflict (sha256) do update set last_attached = now()",
    )
    .bind(sha256)
    .bind(size as i64)
    .execute(db)
    .await?;
    Ok(())
}

/// Forgets up to `limit` contents that no artifact has held for an hour,
/// and says which, for the store to remove.
pub async fn sweep_blobs(db: impl PgExecutor<'_>, limit: i64) -> Result<Vec<String>> {
    let sql = "delete from artifact_blob where sha256 in ( \
                 select b.sha256 from artifact_blob b \
                 where b.last_attached < now() - interval '1 hour' \
                 and not exists (select 1 from artifact a where a.sha256 = b.sha256) \
                 limit $1 for update skip locked) \
               returning sha256";
    Ok(sqlx::query_scalar(sql).bind(limit).fetch_all(db).await?)
}

/// Whether `event` is a timeline event of `incident`.
pub async fn event_of_incident(db: impl PgExecutor<'_>, incident_id: Uuid, event: Uuid) -> Result<bool> {
    let sql = "select exists (select 1 from timeline_event where id = $1 and incident_id = $2)";
    Ok(sqlx::query_scalar(sql).bind(event).bind(incident_id).fetch_one(db).await?)
}

/// A timeline event, as the upload form offers it to link to.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EventChoice {
    pub id: Uuid,
    pub occurred_at: OffsetDateTime,
    pub kind: String,
    pub excerpt: String,
}

/// The incident's timeline events, for linking an artifact to one.
pub async fn event_choices(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<EventChoice>> {
    let sql = "select id, occurred_at, kind, left(body, 80) as excerpt from timeline_event \
               where incident_id = $1 order by occurred_at, id limit 500";
    Ok(sqlx::query_as(sql).bind(incident_id).fetch_all(db).await?)
}

/// Changes the note and the linked event of an artifact still at `version`;
/// `None` when someone changed it since (or it is gone).
pub async fn update_link(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    note: &str,
    timeline_event_id: Option<Uuid>,
) -> Result<Option<Artifact>> {
    let sql = format!(
        "with a as (update artifact set note = $3, timeline_event_id = $4, version = version + 1 \
           where id = $1 and version = $2 returning *) \
         select {COLUMNS} from a left join app_user u on u.id = a.uploaded_by"
    );
    Ok(sqlx::query_as(&sql)
        .bind(id)
        .bind(version)
        .bind(note)
        .bind(timeline_event_id)
        .fetch_optional(db)
        .await?)
}
