//! SQL for the in-app notifications.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::Event;
use crate::error::Result;

/// One notification, as its reader sees it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub incident_id: Option<Uuid>,
    pub text: String,
    pub link: String,
    pub read: bool,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

pub async fn insert_notifications(db: &mut PgConnection, users: &[Uuid], event: &Event<'_>) -> Result<()> {
    sqlx::query(
        "insert into notification (id, user_id, kind, incident_id, actor_id, text, link) \
         select gen_random_uuid(), recipient, $2, $3, $4, $5, $6 from unnest($1::uuid[]) as recipient \
         join app_user on app_user.id = recipient and not app_user.disabled",
    )
    .bind(users)
    .bind(event.kind.as_str())
    .bind(event.incident.id)
    .bind(event.actor.map(|actor| actor.id))
    .bind(&event.text)
    .bind(&event.path)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn unread_count(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar("select count(*) from notification where user_id = $1 and read_at is null")
        .bind(user_id)
        .fetch_one(db)
        .await?)
}

/// The reader's newest notifications, `limit` at most, from `offset`.
pub async fn list(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    limit: i64,
    offset: i64,
) -> Result<Vec<Notification>> {
    Ok(sqlx::query_as(
        "select id, kind, incident_id, text, link, read_at is not null as read, created_at \
         from notification where user_id = $1 order by created_at desc, id desc limit $2 offset $3",
    )
    .bind(user_id)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?)
}

pub async fn total(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<i64> {
    Ok(sqlx::query_scalar("select count(*) from notification where user_id = $1")
        .bind(user_id)
        .fetch_one(db)
        .await?)
}

/// Marks one of the reader's notifications read; its link, when it is theirs.
pub async fn mark_read(db: impl PgExecutor<'_>, user_id: Uuid, id: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "update notification set read_at = coalesce(read_at, now()) where id = $1 and user_id = $2 returning link",
    )
    .bind(id)
    .bind(user_id)
    .fetch_optional(db)
    .await?)
}

pub async fn mark_all_read(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<u64> {
    Ok(sqlx::query("update notification set read_at = now() where user_id = $1 and read_at is null")
        .bind(user_id)
        .execute(db)
        .await?
        .rows_affected())
}
