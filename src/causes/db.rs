//! SQL for causes and the category taxonomy.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use uuid::Uuid;

use super::domain::{CauseFields, CauseKind};
use crate::{
    error::{AppError, Result},
    incidents::versioned::Versioned,
};

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Cause {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub kind: CauseKind,
    pub category: String,
    pub description: String,
    pub whys: Vec<String>,
    pub version: i32,
}

#[derive(sqlx::FromRow)]
struct CauseRow {
    id: Uuid,
    incident_id: Uuid,
    kind: String,
    category: String,
    description: String,
    whys: Vec<String>,
    version: i32,
}

impl TryFrom<CauseRow> for Cause {
    type Error = AppError;

    fn try_from(row: CauseRow) -> Result<Cause> {
        let kind = CauseKind::parse(&row.kind).map_err(|e| anyhow::anyhow!("cause {}: {e}", row.id))?;
        Ok(Cause {
            id: row.id,
            incident_id: row.incident_id,
            kind,
            category: row.category,
            description: row.description,
            whys: row.whys,
            version: row.version,
        })
    }
}

const SELECT: &str = "select id, incident_id, kind, category, description, whys, version from cause";

/// The incident's causes: root first, then trigger, then contributing.
#[tracing::instrument(skip_all)]
pub async fn list_causes(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<Cause>> {
    let sql = format!(
        "{SELECT} where incident_id = $1 \
         order by array_position(array['root', 'trigger', 'contributing'], kind), created_at, id"
    );
    let rows = sqlx::query_as::<_, CauseRow>(&sql).bind(incident_id).fetch_all(db).await?;
    rows.into_iter().map(Cause::try_from).collect()
}

/// The cause `id`, if it belongs to `incident` (any, when `None`); locked
/// until the transaction ends when `lock` is set.
#[tracing::instrument(skip_all)]
pub async fn find_cause(
    db: impl PgExecutor<'_>,
    incident: Option<Uuid>,
    id: Uuid,
    lock: bool,
) -> Result<Option<Cause>> {
    let lock = if lock { " for update" } else { "" };
    let sql = format!("{SELECT} where id = $1 and ($2::uuid is null or incident_id = $2){lock}");
    let row = sqlx::query_as::<_, CauseRow>(&sql).bind(id).bind(incident).fetch_optional(db).await?;
    row.map(Cause::try_from).transpose()
}

#[tracing::instrument(skip_all)]
pub async fn insert_cause(db: impl PgExecutor<'_>, incident_id: Uuid, fields: &CauseFields) -> Result<Cause> {
    let sql = "insert into cause (id, incident_id, kind, category, description, whys) values ($1, $2, $3, $4, $5, $6) \
         returning id, incident_id, kind, category, description, whys, version".to_string();
    let row = sqlx::query_as::<_, CauseRow>(&sql)
        .bind(Uuid::now_v7())
        .bind(incident_id)
        .bind(fields.kind.as_str())
        .bind(&fields.category)
        .bind(&fields.description)
        .bind(&fields.whys)
        .fetch_one(db)
        .await?;
    Cause::try_from(row)
}

#[tracing::instrument(skip_all)]
pub async fn save_cause(db: impl PgExecutor<'_>, id: Uuid, fields: &CauseFields) -> Result<Cause> {
    let sql = "update cause set kind = $2, category = $3, description = $4, whys = $5, version = version + 1, \
               updated_at = now() where id = $1 returning id, incident_id, kind, category, description, whys, version";
    let row = sqlx::query_as::<_, CauseRow>(sql)
        .bind(id)
        .bind(fields.kind.as_str())
        .bind(&fields.category)
        .bind(&fields.description)
        .bind(&fields.whys)
        .fetch_optional(db)
        .await?
        .ok_or(AppError::NotFound)?;
    Cause::try_from(row)
}

#[tracing::instrument(skip_all)]
pub async fn delete_cause(db: impl PgExecutor<'_>, id: Uuid) -> Result<()> {
    sqlx::query("delete from cause where id = $1").bind(id).execute(db).await?;
    Ok(())
}

/// The shared taxonomy, alphabetically.
#[tracing::instrument(skip_all)]
pub async fn list_categories(db: impl PgExecutor<'_>) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar("select name from cause_category order by name").fetch_all(db).await?)
}

/// Adds a category; false if it already exists.
#[tracing::instrument(skip_all)]
pub async fn insert_category(db: impl PgExecutor<'_>, name: &str) -> Result<bool> {
    let done = sqlx::query("insert into cause_category (name) values ($1) on conflict do nothing")
        .bind(name)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

impl Cause {
    pub fn fields(&self) -> CauseFields {
        CauseFields {
            kind: self.kind,
            category: self.category.clone(),
            description: self.description.clone(),
            whys: self.whys.clone(),
        }
    }

    /// The cause as the history records it.
    pub fn history_text(&self) -> String {
        let mut text = format!("{} ({}): {}", self.kind.label(), self.category, self.description.trim());
        for (index, why) in self.whys.iter().enumerate() {
            text.push_str(&format!("\n  why {}: {why}", index + 1));
        }
        text
    }
}

impl Versioned for Cause {
    const HISTORY_FIELD: &'static str = "causes";
    type Fields = CauseFields;

    fn incident_id(&self) -> Uuid {
        self.incident_id
    }

    fn version(&self) -> i32 {
        self.version
    }

    fn history_text(&self) -> String {
        Cause::history_text(self)
    }

    async fn find(
        db: &mut PgConnection,
        incident: Option<Uuid>,
        id: Uuid,
        lock: bool,
    ) -> Result<Option<Self>> {
        find_cause(db, incident, id, lock).await
    }

    async fn save(db: &mut PgConnection, id: Uuid, fields: &CauseFields) -> Result<Self> {
        save_cause(db, id, fields).await
    }

    async fn delete(db: &mut PgConnection, id: Uuid) -> Result<()> {
        delete_cause(db, id).await
    }
}
