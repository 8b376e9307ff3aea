//! SQL for the assistant's rules: the admins' phrases and switches, and the
//! people a text may name.

use sqlx::PgExecutor;
use uuid::Uuid;

use super::rules::{CustomRule, Rules};
use crate::error::Result;

/// Everything a check needs: who the app knows, the phrases admins added,
/// the built-in rules switched off.
#[tracing::instrument(skip_all)]
pub async fn rules(pool: &sqlx::PgPool) -> Result<Rules> {
    let people: Vec<String> = sqlx::query_scalar("select name from app_user").fetch_all(pool).await?;
    let disabled: Vec<String> =
        sqlx::query_scalar("select key from wording_rule_switch where not enabled").fetch_all(pool).await?;
    let custom = phrases(pool).await?;
    Ok(Rules { disabled, custom, people })
}

/// The phrases admins added, oldest first.
pub async fn phrases(db: impl PgExecutor<'_>) -> Result<Vec<CustomRule>> {
    let rows: Vec<(Uuid, String, String, String)> =
        sqlx::query_as("select id, phrase, message, suggestion from wording_rule order by created_at, id")
            .fetch_all(db)
            .await?;
    Ok(rows
        .into_iter()
        .map(|(id, phrase, message, suggestion)| CustomRule {
            key: format!("custom-{id}"),
            phrase,
            message,
            suggestion,
        })
        .collect())
}

/// Adds a phrase; false when it is there already.
pub async fn add_phrase(
    db: impl PgExecutor<'_>,
    phrase: &str,
    message: &str,
    suggestion: &str,
    by: Uuid,
) -> Result<bool> {
    let added = sqlx::query(
        "insert into wording_rule (id, phrase, message, suggestion, created_by) values ($1, $2, $3, $4, $5) \
         on conflict (phrase) do nothing",
    )
    .bind(Uuid::now_v7())
    .bind(phrase)
    .bind(message)
    .bind(suggestion)
    .bind(by)
    .execute(db)
    .await?;
    Ok(added.rows_affected() == 1)
}

pub async fn remove_phrase(db: impl PgExecutor<'_>, id: Uuid) -> Result<()> {
    sqlx::query("delete from wording_rule where id = $1").bind(id).execute(db).await?;
    Ok(())
}

/// Switches a built-in rule on or off.
pub async fn switch(db: impl PgExecutor<'_>, key: &str, enabled: bool) -> Result<()> {
    sqlx::query(
        "insert into wording_rule_switch (key, enabled) values ($1, $2) \
         on conflict (key) do update set enabled = excluded.enabled, updated_at = now()",
    )
    .bind(key)
    .bind(enabled)
    .execute(db)
    .await?;
    Ok(())
}
