//! SQL for playbooks, their versions, and the checklists made from them.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{ItemState, PlaybookFields, Step};
use crate::error::{AppError, Result};

/// A playbook at its current version.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = PlaybookVersion)]
pub struct Playbook {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub owner_id: Option<Uuid>,
    pub owner_name: Option<String>,
    pub standing: bool,
    pub version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub reviewed_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub retired_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
    pub body: String,
    pub categories: Vec<String>,
    pub suspect_keys: Vec<String>,
    #[sqlx(json)]
    pub steps: Vec<Step>,
    /// Who saved the current version.
    pub saved_by: Option<String>,
}

const PLAYBOOK: &str = "select p.id, p.slug, p.title, p.owner_id, o.name as owner_name, p.standing, p.version, \
                        p.reviewed_at, p.retired_at, p.created_at, p.updated_at, v.body, v.categories, \
                        v.suspect_keys, v.steps, a.name as saved_by \
                        from playbook p join playbook_version v on v.playbook_id = p.id and v.version = p.version \
                        left join app_user o on o.id = p.owner_id left join app_user a on a.id = v.created_by";

/// The playbook with this id or slug.
#[tracing::instrument(skip_all)]
pub async fn find(db: impl PgExecutor<'_>, key: &str) -> Result<Option<Playbook>> {
    let sql = match Uuid::parse_str(key) {
        Ok(_) => format!("{PLAYBOOK} where p.id = $1::uuid"),
        Err(_) => format!("{PLAYBOOK} where p.slug = $1"),
    };
    Ok(sqlx::query_as(&sql).bind(key).fetch_optional(db).await?)
}

/// Every playbook, titles in order; retired ones too when asked.
#[tracing::instrument(skip_all)]
pub async fn list(db: impl PgExecutor<'_>, retired: bool) -> Result<Vec<Playbook>> {
    let sql = format!("{PLAYBOOK} where $1 or p.retired_at is null order by lower(p.title), p.slug");
    Ok(sqlx::query_as(&sql).bind(retired).fetch_all(db).await?)
}

/// One saved version of a playbook.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Version {
    pub version: i32,
    pub title: String,
    pub body: String,
    pub categories: Vec<String>,
    pub suspect_keys: Vec<String>,
    #[sqlx(json)]
    pub steps: Vec<Step>,
    pub saved_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

const VERSION: &str = "select v.version, v.title, v.body, v.categories, v.suspect_keys, v.steps, \
                       u.name as saved_by, v.created_at \
                       from playbook_version v left join app_user u on u.id = v.created_by";

/// Every version of a playbook, newest first.
#[tracing::instrument(skip_all)]
pub async fn versions(db: impl PgExecutor<'_>, playbook_id: Uuid) -> Result<Vec<Version>> {
    let sql = format!("{VERSION} where v.playbook_id = $1 order by v.version desc");
    Ok(sqlx::query_as(&sql).bind(playbook_id).fetch_all(db).await?)
}

#[tracing::instrument(skip_all)]
pub async fn version(db: impl PgExecutor<'_>, playbook_id: Uuid, version: i32) -> Result<Option<Version>> {
    let sql = format!("{VERSION} where v.playbook_id = $1 and v.version = $2");
    Ok(sqlx::query_as(&sql).bind(playbook_id).bind(version).fetch_optional(db).await?)
}

/// A slug no playbook has yet (nor a page of its own): `wanted`, or
/// `wanted-2`, `wanted-3`...
async fn free_slug(db: &mut PgConnection, wanted: &str) -> Result<String> {
    let taken: Vec<String> = sqlx::query_scalar(
        "select slug from playbook where slug = $1 or (left(slug, length($1) + 1) = $1 || '-' \
         and substr(slug, length($1) + 2) ~ '^[0-9]+$')",
    )
    .bind(wanted)
    .fetch_all(&mut *db)
    .await?;
    // `/playbooks/new` is the form for a new one.
    if !taken.iter().any(|slug| slug == wanted) && wanted != "new" {
        return Ok(wanted.to_owned());
    }
    let mut n = 2;
    while taken.contains(&format!("{wanted}-{n}")) {
        n += 1;
    }
    Ok(format!("{wanted}-{n}"))
}

/// Creates a playbook at version 1 under `slug` (or the next free one).
#[tracing::instrument(skip_all)]
pub async fn insert(
    tx: &mut PgConnection,
    slug: &str,
    fields: &PlaybookFields,
    author: Option<Uuid>,
) -> Result<Playbook> {
    let slug = free_slug(&mut *tx, slug).await?;
    let id = Uuid::now_v7();
    sqlx::query(
        "insert into playbook (id, slug, title, owner_id, standing, version, created_by) \
         values ($1, $2, $3, $4, $5, 1, $6)",
    )
    .bind(id)
    .bind(&slug)
    .bind(&fields.title)
    .bind(fields.owner_id)
    .bind(fields.standing)
    .bind(author)
    .execute(&mut *tx)
    .await?;
    insert_version(&mut *tx, id, 1, fields, author).await?;
    find(&mut *tx, &id.to_string()).await?.ok_or(AppError::NotFound)
}

async fn insert_version(
    db: &mut PgConnection,
    playbook_id: Uuid,
    version: i32,
    fields: &PlaybookFields,
    author: Option<Uuid>,
) -> Result<()> {
    sqlx::query(
        "insert into playbook_version (playbook_id, version, title, body, categories, suspect_keys, steps, created_by) \
         values ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(playbook_id)
    .bind(version)
    .bind(&fields.title)
    .bind(&fields.body)
    .bind(&fields.categories)
    .bind(&fields.suspect_keys)
    .bind(sqlx::types::Json(&fields.steps))
    .bind(author)
    .execute(db)
    .await?;
    Ok(())
}

/// The playbook `id`, locked until the transaction ends.
pub async fn lock(tx: &mut PgConnection, id: Uuid) -> Result<Option<Playbook>> {
    sqlx::query("select 1 from playbook where id = $1 for update").bind(id).execute(&mut *tx).await?;
    find(tx, &id.to_string()).await
}

/// Saves `fields` on the locked playbook `current`: a new version when its
/// title, body, categories or suspects change; its owner and whether it
/// is standing are the playbook's own and change in place.
pub async fn save(
    tx: &mut PgConnection,
    current: &Playbook,
    fields: &PlaybookFields,
    author: Uuid,
) -> Result<Playbook> {
    let changed = current.title != fields.title
        || current.body != fields.body
        || current.categories != fields.categories
        || current.suspect_keys != fields.suspect_keys;
    let version = if changed { current.version + 1 } else { current.version };
    if changed {
        insert_version(&mut *tx, current.id, version, fields, Some(author)).await?;
    }
    sqlx::query(
        "update playbook set title = $2, owner_id = $3, standing = $4, version = $5, updated_at = now() where id = $1",
    )
    .bind(current.id)
    .bind(&fields.title)
    .bind(fields.owner_id)
    .bind(fields.standing)
    .bind(version)
    .execute(&mut *tx)
    .await?;
    find(tx, &current.id.to_string()).await?.ok_or(AppError::NotFound)
}

/// Marks a playbook reviewed now.
pub async fn mark_reviewed(db: impl PgExecutor<'_>, id: Uuid) -> Result<()> {
    sqlx::query("update playbook set reviewed_at = now() where id = $1").bind(id).execute(db).await?;
    Ok(())
}

/// Retires a playbook (no longer suggested or applied), or brings it back.
pub async fn set_retired(db: impl PgExecutor<'_>, id: Uuid, retired: bool) -> Result<()> {
    sqlx::query(
        "update playbook set retired_at = case when $2 then coalesce(retired_at, now()) end where id = $1",
    )
    .bind(id)
    .bind(retired)
    .execute(db)
    .await?;
    Ok(())
}

/// A kind of suspect an incident's evidence shows: its key, how the
/// analysis worded it, the playbook the analysis names first for it, and
/// how many goroutines its group holds.
pub type SuspectLink = (String, String, Option<String>, i64);

/// What an incident holds that a playbook may be linked to: the cause
/// categories of its causes, and the kinds of suspect its evidence shows.
pub async fn incident_links(
    db: &mut PgConnection,
    incident_id: Uuid,
) -> Result<(Vec<String>, Vec<SuspectLink>)> {
    let categories: Vec<String> =
        sqlx::query_scalar("select distinct category from cause where incident_id = $1 order by 1")
            .bind(incident_id)
            .fetch_all(&mut *db)
            .await?;
    let suspects: Vec<SuspectLink> = sqlx::query_as(
        "select distinct on (s ->> 'key') s ->> 'key', coalesce(s ->> 'signature', s ->> 'key'), \
                s -> 'playbooks' ->> 0, \
                coalesce(case when jsonb_typeof(s -> 'group') = 'number' \
                              then (a.analysis -> 'groups' -> (s ->> 'group')::int ->> 'count')::bigint end, 0) \
         from artifact a, jsonb_array_elements(case when jsonb_typeof(a.analysis -> 'suspects') = 'array' \
                                                 then a.analysis -> 'suspects' else '[]'::jsonb end) s \
         where a.incident_id = $1 and s ->> 'key' is not null order by s ->> 'key', 4 desc",
    )
    .bind(incident_id)
    .fetch_all(&mut *db)
    .await?;
    Ok((categories, suspects))
}

/// The playbooks in use (not retired, not standing) linked to any of
/// `categories` or `suspect_keys`.
pub async fn linked(
    db: impl PgExecutor<'_>,
    categories: &[String],
    suspect_keys: &[String],
) -> Result<Vec<Playbook>> {
    let sql = format!(
        "{PLAYBOOK} where p.retired_at is null and not p.standing \
         and (v.categories && $1 or v.suspect_keys && $2) order by lower(p.title)"
    );
    Ok(sqlx::query_as(&sql).bind(categories).bind(suspect_keys).fetch_all(db).await?)
}

/// A checklist: a playbook version's steps, on an incident or as a run of
/// a standing playbook.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Checklist {
    pub id: Uuid,
    pub incident_id: Option<Uuid>,
    pub playbook_id: Option<Uuid>,
    pub playbook_slug: String,
    pub playbook_version: i32,
    pub title: String,
    /// The playbook's current version, when it is in this Debrief.
    pub latest_version: Option<i32>,
    pub created_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[sqlx(skip)]
    pub items: Vec<Item>,
}

impl Checklist {
    /// How many steps are done, not applicable, and still open.
    pub fn progress(&self) -> (usize, usize, usize) {
        let count = |state| self.items.iter().filter(|item| item.state == state).count();
        (count(ItemState::Done), count(ItemState::NotApplicable), count(ItemState::Open))
    }

    /// A newer version of its playbook, if one has been saved since.
    pub fn newer_version(&self) -> Option<i32> {
        self.latest_version.filter(|latest| *latest > self.playbook_version)
    }
}

/// One step of a checklist and where it stands.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
#[schema(as = ChecklistItem)]
pub struct Item {
    pub id: Uuid,
    pub checklist_id: Uuid,
    #[serde(skip)]
    pub incident_id: Option<Uuid>,
    pub position: i32,
    pub depth: i32,
    pub text: String,
    pub state: ItemState,
    pub note: String,
    pub changed_by: Option<Uuid>,
    pub changed_by_name: Option<String>,
    #[serde(skip)]
    pub changed_by_role: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub changed_at: Option<OffsetDateTime>,
    pub action_item_id: Option<Uuid>,
    pub version: i32,
}

impl Item {
    /// Who moved the step last, and when, in `zone`: `Ana Ops, 2026-11-20 14:05 UTC`.
    pub fn moved_by(&self, zone: &crate::web::clock::Zone) -> String {
        match (&self.changed_by_name, &self.changed_at) {
            (Some(name), Some(at)) => format!("{name}, {}", zone.format(at)),
            (None, Some(at)) => zone.format(at),
            _ => String::new(),
        }
    }

    /// What a tick based on an older state is told: where the step is now.
    pub fn changed_first(&self) -> String {
        let by = self.changed_by_name.as_deref().unwrap_or("someone");
        format!(
            "{by} changed step {} first: it is {} now. Nothing was saved; look again and choose.",
            self.position,
            self.state.label()
        )
    }
}

const CHECKLIST: &str = "select c.id, c.incident_id, c.playbook_id, c.playbook_slug, c.playbook_version, c.title, \
                         p.version as latest_version, u.name as created_by, c.created_at \
                         from checklist c left join playbook p on p.id = c.playbook_id \
                         left join app_user u on u.id = c.created_by";

const ITEM: &str = "select i.id, i.checklist_id, i.incident_id, i.position, i.depth, i.text, i.state, i.note, \
                    i.changed_by, u.name as changed_by_name, u.role as changed_by_role, i.changed_at, \
                    i.action_item_id, i.version \
                    from checklist_item i left join app_user u on u.id = i.changed_by";

/// The checklists of an incident with their steps, oldest first.
#[tracing::instrument(skip_all)]
pub async fn checklists(db: &mut PgConnection, incident_id: Uuid) -> Result<Vec<Checklist>> {
    let sql = format!("{CHECKLIST} where c.incident_id = $1 order by c.created_at, c.id");
    let mut lists: Vec<Checklist> = sqlx::query_as(&sql).bind(incident_id).fetch_all(&mut *db).await?;
    let sql = format!("{ITEM} where i.incident_id = $1 order by i.checklist_id, i.position");
    let items: Vec<Item> = sqlx::query_as(&sql).bind(incident_id).fetch_all(&mut *db).await?;
    for item in items {
        if let Some(list) = lists.iter_mut().find(|list| list.id == item.checklist_id) {
            list.items.push(item);
        }
    }
    Ok(lists)
}

/// One checklist with its steps.
#[tracing::instrument(skip_all)]
pub async fn checklist(db: &mut PgConnection, id: Uuid) -> Result<Option<Checklist>> {
    let sql = format!("{CHECKLIST} where c.id = $1");
    let Some(mut list): Option<Checklist> = sqlx::query_as(&sql).bind(id).fetch_optional(&mut *db).await?
    else {
        return Ok(None);
    };
    let sql = format!("{ITEM} where i.checklist_id = $1 order by i.position");
    list.items = sqlx::query_as(&sql).bind(id).fetch_all(&mut *db).await?;
    Ok(Some(list))
}

/// The runs of a standing playbook, newest first, with their steps.
#[tracing::instrument(skip_all)]
pub async fn runs(db: &mut PgConnection, playbook_id: Uuid) -> Result<Vec<Checklist>> {
    let sql = format!(
        "{CHECKLIST} where c.playbook_id = $1 and c.incident_id is null order by c.created_at desc limit 50"
    );
    let mut lists: Vec<Checklist> = sqlx::query_as(&sql).bind(playbook_id).fetch_all(&mut *db).await?;
    let ids: Vec<Uuid> = lists.iter().map(|list| list.id).collect();
    let sql = format!("{ITEM} where i.checklist_id = any($1) order by i.checklist_id, i.position");
    let items: Vec<Item> = sqlx::query_as(&sql).bind(&ids).fetch_all(&mut *db).await?;
    for item in items {
        if let Some(list) = lists.iter_mut().find(|list| list.id == item.checklist_id) {
            list.items.push(item);
        }
    }
    Ok(lists)
}

/// A new checklist of `steps` on `incident_id` (or of no incident, for a
/// standing playbook's run). `Conflict` when the incident has it already.
#[allow(clippy::too_many_arguments)]
pub async fn insert_checklist(
    tx: &mut PgConnection,
    incident_id: Option<Uuid>,
    playbook_id: Option<Uuid>,
    slug: &str,
    version: i32,
    title: &str,
    steps: &[Step],
    author: Option<Uuid>,
) -> Result<Uuid> {
    let id = Uuid::now_v7();
    let inserted = sqlx::query(
        "insert into checklist (id, incident_id, playbook_id, playbook_slug, playbook_version, title, created_by) \
         values ($1, $2, $3, $4, $5, $6, $7) on conflict (incident_id, playbook_slug) do nothing",
    )
    .bind(id)
    .bind(incident_id)
    .bind(playbook_id)
    .bind(slug)
    .bind(version)
    .bind(title)
    .bind(author)
    .execute(&mut *tx)
    .await?;
    if inserted.rows_affected() == 0 {
        return Err(AppError::Conflict(format!(
            "This incident has the checklist of \u{201c}{title}\u{201d} already."
        )));
    }
    let ids: Vec<Uuid> = steps.iter().map(|_| Uuid::now_v7()).collect();
    let texts: Vec<&str> = steps.iter().map(|step| step.text.as_str()).collect();
    let depths: Vec<i32> = steps.iter().map(|step| i32::try_from(step.depth).unwrap_or(i32::MAX)).collect();
    sqlx::query(
        "insert into checklist_item (id, checklist_id, incident_id, position, depth, text) \
         select step.id, $2, $3, step.n, step.depth, step.text \
         from unnest($1::uuid[], $4::int[], $5::text[]) with ordinality as step (id, depth, text, n)",
    )
    .bind(&ids)
    .bind(id)
    .bind(incident_id)
    .bind(&depths)
    .bind(&texts)
    .execute(&mut *tx)
    .await?;
    Ok(id)
}

/// Restores a step's state as a report showed it (an import).
pub async fn restore_item(
    tx: &mut PgConnection,
    checklist_id: Uuid,
    position: i32,
    state: ItemState,
    note: &str,
    by: Option<Uuid>,
    at: Option<OffsetDateTime>,
) -> Result<()> {
    sqlx::query(
        "update checklist_item set state = $3, note = $4, changed_by = $5, changed_at = $6 \
         where checklist_id = $1 and position = $2",
    )
    .bind(checklist_id)
    .bind(position)
    .bind(state)
    .bind(note)
    .bind(by)
    .bind(at)
    .execute(tx)
    .await?;
    Ok(())
}

/// The step `id`, locked until the transaction ends when `lock` is set.
pub async fn find_item(db: &mut PgConnection, id: Uuid, lock: bool) -> Result<Option<Item>> {
    if lock {
        sqlx::query("select 1 from checklist_item where id = $1 for update")
            .bind(id)
            .execute(&mut *db)
            .await?;
    }
    let sql = format!("{ITEM} where i.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(db).await?)
}

/// Moves the step `id` to `state` if it is still at `version`: the saved
/// step, or `None` when someone changed it first.
pub async fn tick(
    db: &mut PgConnection,
    id: Uuid,
    version: i32,
    state: ItemState,
    note: &str,
    by: Uuid,
) -> Result<Option<Item>> {
    let updated = sqlx::query(
        "update checklist_item set state = $3, note = $4, changed_by = $5, changed_at = now(), version = version + 1 \
         where id = $1 and version = $2",
    )
    .bind(id)
    .bind(version)
    .bind(state)
    .bind(note)
    .bind(by)
    .execute(&mut *db)
    .await?;
    if updated.rows_affected() == 0 {
        return Ok(None);
    }
    find_item(db, id, false).await
}

/// Links a step to the action item made from it.
pub async fn link_action_item(db: impl PgExecutor<'_>, id: Uuid, action_item_id: Uuid) -> Result<()> {
    sqlx::query("update checklist_item set action_item_id = $2, version = version + 1 where id = $1")
        .bind(id)
        .bind(action_item_id)
        .execute(db)
        .await?;
    Ok(())
}

/// An incident a playbook was applied to.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Use {
    pub incident_id: Uuid,
    pub number: i32,
    pub title: String,
    pub version: i32,
    pub done: i64,
    pub steps: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub applied_at: OffsetDateTime,
}

/// The incidents a playbook was applied to, newest first.
#[tracing::instrument(skip_all)]
pub async fn uses(db: impl PgExecutor<'_>, playbook_id: Uuid) -> Result<Vec<Use>> {
    let sql = "select c.incident_id, i.number, i.title, c.playbook_version as version, \
               (select count(*) from checklist_item s where s.checklist_id = c.id and s.state = 'done') as done, \
               (select count(*) from checklist_item s where s.checklist_id = c.id) as steps, c.created_at as applied_at \
               from checklist c join incident i on i.id = c.incident_id \
               where c.playbook_id = $1 order by c.created_at desc limit 100";
    Ok(sqlx::query_as(sql).bind(playbook_id).fetch_all(db).await?)
}

/// How often one step was done, called not applicable, or left open,
/// across every checklist made from the playbook (steps matched by text,
/// so a step keeps its figures from one version to the next).
#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct StepFigures {
    pub text: String,
    pub done: i64,
    pub not_applicable: i64,
    pub open: i64,
}

#[tracing::instrument(skip_all)]
pub async fn step_figures(db: impl PgExecutor<'_>, playbook_id: Uuid) -> Result<Vec<StepFigures>> {
    let sql = "select i.text, count(*) filter (where i.state = 'done') as done, \
               count(*) filter (where i.state = 'not_applicable') as not_applicable, \
               count(*) filter (where i.state = 'open') as open \
               from checklist c join checklist_item i on i.checklist_id = c.id \
               where c.playbook_id = $1 group by i.text";
    Ok(sqlx::query_as(sql).bind(playbook_id).fetch_all(db).await?)
}

/// The playbook of a slug, if this Debrief has it: its id and whether it
/// has `version`.
pub async fn slug_version(db: &mut PgConnection, slug: &str, version: i32) -> Result<Option<(Uuid, bool)>> {
    let found: Option<(Uuid, bool)> = sqlx::query_as(
        "select p.id, exists (select 1 from playbook_version v where v.playbook_id = p.id and v.version = $2) \
         from playbook p where p.slug = $1",
    )
    .bind(slug)
    .bind(version)
    .fetch_optional(db)
    .await?;
    Ok(found)
}
