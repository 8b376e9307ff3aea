//! SQL for action items.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use time::Date;
use uuid::Uuid;

use super::domain::{ActionItemFields, ActionKind, ActionStatus, Priority};
use crate::{
    error::{AppError, Result},
    incidents::versioned::Versioned,
};

time::serde::format_description!(iso_date, Date, "[year]-[month]-[day]");

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionItem {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub title: String,
    pub kind: ActionKind,
    pub owner_id: Option<Uuid>,
    pub owner_name: Option<String>,
    /// The owner's role, for a report that names roles instead of people.
    #[serde(skip)]
    pub owner_role: Option<String>,
    #[serde(with = "iso_date::option")]
    pub due_on: Option<Date>,
    pub priority: Priority,
    pub status: ActionStatus,
    pub tracker_url: Option<String>,
    pub version: i32,
}

#[derive(sqlx::FromRow)]
pub(super) struct ActionItemRow {
    id: Uuid,
    incident_id: Uuid,
    title: String,
    kind: String,
    owner_id: Option<Uuid>,
    owner_name: Option<String>,
    owner_role: Option<String>,
    due_on: Option<Date>,
    priority: String,
    status: String,
    tracker_url: Option<String>,
    version: i32,
}

impl TryFrom<ActionItemRow> for ActionItem {
    type Error = AppError;

    fn try_from(row: ActionItemRow) -> Result<ActionItem> {
        let corrupt = |e: String| AppError::Internal(anyhow::anyhow!("action item {}: {e}", row.id));
        Ok(ActionItem {
            kind: ActionKind::parse(&row.kind).map_err(corrupt)?,
            priority: Priority::parse(&row.priority).map_err(corrupt)?,
            status: ActionStatus::parse(&row.status).map_err(corrupt)?,
            id: row.id,
            incident_id: row.incident_id,
            title: row.title,
            owner_id: row.owner_id,
            owner_name: row.owner_name,
            owner_role: row.owner_role,
            due_on: row.due_on,
            tracker_url: row.tracker_url,
            version: row.version,
        })
    }
}

const SELECT: &str = "select a.id, a.incident_id, a.title, a.kind, a.owner_id, u.name as owner_name, u.role as owner_role, a.due_on, \
                      a.priority, a.status, a.tracker_url, a.version \
                      from action_item a left join app_user u on u.id = a.owner_id";

/// The incident's action items: open first, then by priority and due date.
#[tracing::instrument(skip_all)]
pub async fn list_for_incident(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<ActionItem>> {
    let sql = format!(
        "{SELECT} where a.incident_id = $1 \
         order by a.status not in ('open', 'in_progress'), a.priority, a.due_on nulls last, a.created_at"
    );
    let rows = sqlx::query_as::<_, ActionItemRow>(&sql).bind(incident_id).fetch_all(db).await?;
    rows.into_iter().map(ActionItem::try_from).collect()
}

/// An open action item with the incident it came from.
#[derive(Debug, Clone)]
pub struct OpenActionItem {
    pub item: ActionItem,
    pub incident_number: i32,
    pub incident_title: String,
}

/// The item `id`, if it belongs to `incident` (any, when `None`); locked
/// until the transaction ends when `lock` is set.
#[tracing::instrument(skip_all)]
pub async fn find_item(
    db: impl PgExecutor<'_>,
    incident: Option<Uuid>,
    id: Uuid,
    lock: bool,
) -> Result<Option<ActionItem>> {
    let lock = if lock { " for update of a" } else { "" };
    let sql = format!("{SELECT} where a.id = $1 and ($2::uuid is null or a.incident_id = $2){lock}");
    let row = sqlx::query_as::<_, ActionItemRow>(&sql).bind(id).bind(incident).fetch_optional(db).await?;
    row.map(ActionItem::try_from).transpose()
}

/// The columns of an item, read from `a` joined with its owner `u`.
pub(super) const COLUMNS: &str = "a.id, a.incident_id, a.title, a.kind, a.owner_id, u.name as owner_name, u.role as owner_role, a.due_on, \
                       a.priority, a.status, a.tracker_url, a.version";

/// Adds an item and returns it as saved.
#[tracing::instrument(skip_all)]
pub async fn insert_item(
    db: impl PgExecutor<'_>,
    incident_id: Uuid,
    fields: &ActionItemFields,
) -> Result<ActionItem> {
    let sql = format!(
        "with a as (insert into action_item \
           (id, incident_id, title, kind, owner_id, due_on, priority, status, tracker_url) \
           values ($1, $2, $3, $4, $5, $6, $7, $8, $9) returning *) \
         select {COLUMNS} from a left join app_user u on u.id = a.owner_id"
    );
    let row = sqlx::query_as::<_, ActionItemRow>(&sql)
        .bind(Uuid::now_v7())
        .bind(incident_id)
        .bind(&fields.title)
        .bind(fields.kind.as_str())
        .bind(fields.owner_id)
        .bind(fields.due_on)
        .bind(fields.priority.as_str())
        .bind(fields.status.as_str())
        .bind(&fields.tracker_url)
        .fetch_one(db)
        .await?;
    row.try_into()
}

/// Writes the item's fields, moves its version on and returns it as saved.
#[tracing::instrument(skip_all)]
pub async fn save_item(db: impl PgExecutor<'_>, id: Uuid, fields: &ActionItemFields) -> Result<ActionItem> {
    let sql = format!(
        "with a as (update action_item set title = $2, kind = $3, owner_id = $4, due_on = $5, priority = $6, \
           status = $7, tracker_url = $8, version = version + 1, updated_at = now() where id = $1 returning *) \
         select {COLUMNS} from a left join app_user u on u.id = a.owner_id"
    );
    let row = sqlx::query_as::<_, ActionItemRow>(&sql)
        .bind(id)
        .bind(&fields.title)
        .bind(fields.kind.as_str())
        .bind(fields.owner_id)
        .bind(fields.due_on)
        .bind(fields.priority.as_str())
        .bind(fields.status.as_str())
        .bind(&fields.tracker_url)
        .fetch_optional(db)
        .await?
        .ok_or(AppError::NotFound)?;
    row.try_into()
}

#[tracing::instrument(skip_all)]
pub async fn delete_item(db: impl PgExecutor<'_>, id: Uuid) -> Result<()> {
    sqlx::query("delete from action_item where id = $1").bind(id).execute(db).await?;
    Ok(())
}

impl ActionItem {
    pub fn fields(&self) -> ActionItemFields {
        ActionItemFields {
            title: self.title.clone(),
            kind: self.kind,
            owner_id: self.owner_id,
            due_on: self.due_on,
            priority: self.priority,
            status: self.status,
            tracker_url: self.tracker_url.clone(),
        }
    }

    /// Open and due before `today`.
    pub fn is_overdue(&self, today: &Date) -> bool {
        self.status.is_open() && self.due_on.is_some_and(|due| due < *today)
    }

    /// The item as the history records it.
    pub fn history_text(&self) -> String {
        let owner = self.owner_name.as_deref().unwrap_or("no owner");
        let due = self.due_on.map(|d| format!(", due {d}")).unwrap_or_default();
        let link = self.tracker_url.as_deref().map(|u| format!(" <{u}>")).unwrap_or_default();
        format!("[{}] {} {}: {} ({owner}{due}){link}", self.status, self.priority, self.kind, self.title)
    }
}

impl Versioned for ActionItem {
    const HISTORY_FIELD: &'static str = "action_items";
    type Fields = ActionItemFields;

    fn incident_id(&self) -> Uuid {
        self.incident_id
    }

    fn version(&self) -> i32 {
        self.version
    }

    fn history_text(&self) -> String {
        ActionItem::history_text(self)
    }

    async fn find(
        db: &mut PgConnection,
        incident: Option<Uuid>,
        id: Uuid,
        lock: bool,
    ) -> Result<Option<Self>> {
        find_item(db, incident, id, lock).await
    }

    async fn save(db: &mut PgConnection, id: Uuid, fields: &ActionItemFields) -> Result<Self> {
        save_item(db, id, fields).await
    }

    async fn delete(db: &mut PgConnection, id: Uuid) -> Result<()> {
        delete_item(db, id).await
    }
}
