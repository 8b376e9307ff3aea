//! SQL for the comments.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::error::Result;

/// One comment. A thread is a comment without a parent, and its replies.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Comment {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub target_kind: String,
    pub target_id: String,
    pub parent_id: Option<Uuid>,
    pub author_id: Option<Uuid>,
    pub author_name: Option<String>,
    pub body: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub edited_at: Option<OffsetDateTime>,
    /// Whether its thread is resolved (kept on the thread's first comment).
    pub resolved: bool,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    pub resolved_by_name: Option<String>,
}

const COLUMNS: &str = "c.id, c.incident_id, c.target_kind, c.target_id, c.parent_id, c.author_id, \
     a.name as author_name, c.body, c.created_at, c.edited_at, t.resolved_at is not null as resolved, \
     t.resolved_at, r.name as resolved_by_name";

/// Each comment with its thread's first comment `t`, which says whether the
/// thread is resolved.
const FROM: &str = "comment c join comment t on t.id = coalesce(c.parent_id, c.id) \
     left join app_user a on a.id = c.author_id left join app_user r on r.id = t.resolved_by";

/// Every comment on the incident, oldest first.
pub async fn list(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<Comment>> {
    let sql = format!("select {COLUMNS} from {FROM} where c.incident_id = $1 order by c.created_at, c.id");
    Ok(sqlx::query_as(&sql).bind(incident_id).fetch_all(db).await?)
}

pub async fn find(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Comment>> {
    let sql = format!("select {COLUMNS} from {FROM} where c.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(db).await?)
}

pub async fn count(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar("select count(*) from comment where incident_id = $1")
        .bind(incident_id)
        .fetch_one(db)
        .await?)
}

/// A new comment's fields.
pub struct NewComment<'a> {
    pub incident_id: Uuid,
    pub target_kind: &'a str,
    pub target_id: &'a str,
    pub parent_id: Option<Uuid>,
    pub author_id: Uuid,
    pub body: &'a str,
}

pub async fn insert(db: &mut PgConnection, new: &NewComment<'_>) -> Result<Comment> {
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into comment (id, incident_id, target_kind, target_id, parent_id, author_id, body) \
         values ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(id)
    .bind(new.incident_id)
    .bind(new.target_kind)
    .bind(new.target_id)
    .bind(new.parent_id)
    .bind(new.author_id)
    .bind(new.body)
    .execute(&mut *db)
    .await?;
    find(db, id).await?.ok_or_else(|| anyhow::anyhow!("a comment just written is gone").into())
}

/// Resolves (or reopens) the thread whose first comment is `root`.
pub async fn set_resolved(db: impl PgExecutor<'_>, root: Uuid, resolved: bool, by: Uuid) -> Result<()> {
    sqlx::query(
        "update comment set resolved_at = case when $2 then coalesce(resolved_at, now()) end, \
                            resolved_by = case when $2 then coalesce(resolved_by, $3) end \
         where id = $1",
    )
    .bind(root)
    .bind(resolved)
    .bind(by)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_body(db: impl PgExecutor<'_>, id: Uuid, body: &str) -> Result<()> {
    sqlx::query("update comment set body = $2, edited_at = now() where id = $1")
        .bind(id)
        .bind(body)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether the record `target_id` of `kind` is one of the incident's own.
pub async fn target_exists(
    db: impl PgExecutor<'_>,
    incident_id: Uuid,
    kind: &str,
    target_id: Uuid,
) -> Result<bool> {
    let table = match kind {
        "timeline_event" => "timeline_event",
        "cause" => "cause",
        "action_item" => "action_item",
        _ => return Ok(false),
    };
    let sql = format!("select exists (select 1 from {table} where id = $1 and incident_id = $2)");
    Ok(sqlx::query_scalar(&sql).bind(target_id).bind(incident_id).fetch_one(db).await?)
}

/// A record a comment may be on, as the picker names it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Target {
    pub kind: String,
    pub id: Uuid,
    pub at: Option<OffsetDateTime>,
    pub text: String,
}

/// The incident's timeline events, causes and action items, in the order
/// their parts show them.
pub async fn targets(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<Target>> {
    Ok(sqlx::query_as(
        "select kind, id, at, text from ( \
           (select 'timeline_event' as kind, id, occurred_at as at, body as text, 0 as part, \
                   row_number() over (order by occurred_at, id) as seq \
              from timeline_event where incident_id = $1 limit 2000) \
           union all \
           (select 'cause', id, null, kind || ': ' || description, 1, \
                   row_number() over (order by case kind when 'root' then 0 when 'trigger' then 1 else 2 end, id) \
              from cause where incident_id = $1 limit 500) \
           union all \
           (select 'action_item', id, null, title, 2, row_number() over (order by id) \
              from action_item where incident_id = $1 limit 1000) \
         ) t order by part, seq",
    )
    .bind(incident_id)
    .fetch_all(db)
    .await?)
}

/// Active users who may be mentioned: id, name and email.
pub async fn people(db: impl PgExecutor<'_>) -> Result<Vec<(Uuid, String, String)>> {
    Ok(sqlx::query_as(
        "select id, name, email from app_user where not disabled order by created_at limit 10000",
    )
    .fetch_all(db)
    .await?)
}
