//! SQL for the review: who is asked, their verdicts, and the rules of
//! publishing.

use serde::Serialize;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{error::Result, incidents::domain::Severity};

/// Someone asked to review, with their latest verdict if they gave one.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Reviewer {
    pub user_id: Uuid,
    pub name: String,
    pub requested_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub requested_at: OffsetDateTime,
    /// `approve` or `request_changes`; None while they have not reviewed.
    pub verdict: Option<String>,
    pub note: Option<String>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub reviewed_at: Option<OffsetDateTime>,
    /// Changes to the postmortem since their verdict (status moves aside).
    pub edits_since: i64,
}

impl Reviewer {
    pub fn approved(&self) -> bool {
        self.verdict.as_deref() == Some("approve")
    }

    pub fn requested_changes(&self) -> bool {
        self.verdict.as_deref() == Some("request_changes")
    }
}

/// One verdict, as the API lists it.
#[derive(Debug, Clone, Serialize, sqlx::FromRow, utoipa::ToSchema)]
pub struct Review {
    pub id: Uuid,
    pub reviewer_id: Uuid,
    pub reviewer_name: String,
    pub verdict: String,
    pub note: String,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// What publishing a postmortem of one severity needs.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct Rule {
    pub severity: String,
    /// Gap keys that must not be open: section names, `root_cause`, ...
    pub required: Vec<String>,
    pub approvals: i32,
}

/// Content changes are revisions other than status moves.
const EDITS_SINCE: &str = "(select count(*) from incident_revision r \
     where r.incident_id = q.incident_id and r.id > v.revision_id and r.summary not like 'Moved to %')";

/// Everyone asked to review the incident, in the order they were asked,
/// and anyone who reviewed without being asked.
pub async fn reviewers(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<Reviewer>> {
    let sql = format!(
        "with asked as ( \
             select incident_id, reviewer_id, requested_by, requested_at from review_request where incident_id = $1 \
             union all \
             (select distinct on (reviewer_id) incident_id, reviewer_id, null::uuid, created_at from review \
               where incident_id = $1 \
                 and reviewer_id not in (select reviewer_id from review_request where incident_id = $1) \
               order by reviewer_id, created_at) \
         ) \
         select q.reviewer_id as user_id, u.name, q.requested_by, q.requested_at, \
                v.verdict, v.note, v.created_at as reviewed_at, \
                coalesce({EDITS_SINCE}, 0) as edits_since \
         from asked q join app_user u on u.id = q.reviewer_id \
         left join lateral (select verdict, note, created_at, revision_id from review \
                             where incident_id = q.incident_id and reviewer_id = q.reviewer_id \
                             order by created_at desc, id desc limit 1) v on true \
         order by q.requested_at, u.name"
    );
    Ok(sqlx::query_as(&sql).bind(incident_id).fetch_all(db).await?)
}

/// Every verdict given on the incident, newest first.
pub async fn reviews(db: impl PgExecutor<'_>, incident_id: Uuid) -> Result<Vec<Review>> {
    Ok(sqlx::query_as(
        "select r.id, r.reviewer_id, u.name as reviewer_name, r.verdict, r.note, r.created_at \
         from review r join app_user u on u.id = r.reviewer_id \
         where r.incident_id = $1 order by r.created_at desc, r.id desc limit 500",
    )
    .bind(incident_id)
    .fetch_all(db)
    .await?)
}

/// Asks `reviewer` to review; false when they already were.
pub async fn ask(db: &mut PgConnection, incident_id: Uuid, reviewer: Uuid, by: Uuid) -> Result<bool> {
    let done = sqlx::query(
        "insert into review_request (incident_id, reviewer_id, requested_by) values ($1, $2, $3) \
         on conflict do nothing",
    )
    .bind(incident_id)
    .bind(reviewer)
    .bind(by)
    .execute(db)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// No longer asks `reviewer`; their verdicts stay on record.
pub async fn withdraw(db: impl PgExecutor<'_>, incident_id: Uuid, reviewer: Uuid) -> Result<bool> {
    let done = sqlx::query("delete from review_request where incident_id = $1 and reviewer_id = $2")
        .bind(incident_id)
        .bind(reviewer)
        .execute(db)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a verdict against the incident's latest revision.
pub async fn insert_review(
    db: &mut PgConnection,
    incident_id: Uuid,
    reviewer: Uuid,
    verdict: &str,
    note: &str,
) -> Result<Review> {
    Ok(sqlx::query_as(
        "with added as ( \
             insert into review (id, incident_id, reviewer_id, verdict, note, revision_id) \
             values ($1, $2, $3, $4, $5, \
                     coalesce((select max(id) from incident_revision where incident_id = $2), 0)) \
             returning id, reviewer_id, verdict, note, created_at) \
         select a.id, a.reviewer_id, u.name as reviewer_name, a.verdict, a.note, a.created_at \
         from added a join app_user u on u.id = a.reviewer_id",
    )
    .bind(Uuid::now_v7())
    .bind(incident_id)
    .bind(reviewer)
    .bind(verdict)
    .bind(note)
    .fetch_one(db)
    .await?)
}

pub async fn rules(db: impl PgExecutor<'_>) -> Result<Vec<Rule>> {
    Ok(sqlx::query_as("select severity, required, approvals from review_rule order by severity")
        .fetch_all(db)
        .await?)
}

/// The rule for `severity`; none needed when an admin removed it.
pub async fn rule(db: impl PgExecutor<'_>, severity: Severity) -> Result<Rule> {
    let rule = sqlx::query_as("select severity, required, approvals from review_rule where severity = $1")
        .bind(severity.as_str())
        .fetch_optional(db)
        .await?;
    Ok(rule.unwrap_or_else(|| Rule {
        severity: severity.as_str().into(),
        required: Vec::new(),
        approvals: 0,
    }))
}

pub async fn save_rule(db: impl PgExecutor<'_>, rule: &Rule) -> Result<()> {
    sqlx::query(
        "insert into review_rule (severity, required, approvals) values ($1, $2, $3) \
         on conflict (severity) do update set required = excluded.required, approvals = excluded.approvals",
    )
    .bind(&rule.severity)
    .bind(&rule.required)
    .bind(rule.approvals)
    .execute(db)
    .await?;
    Ok(())
}

/// A postmortem on a reader's review list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Waiting {
    pub reference: String,
    pub title: String,
    pub severity: String,
    /// `asked` (no verdict yet), `edited` (changed since their approval) or
    /// `changes_requested` (theirs, by someone).
    pub why: String,
    pub at: OffsetDateTime,
}

/// In-review postmortems the reader was asked to review and has not, or
/// that changed since they approved them.
pub async fn waiting_for(db: impl PgExecutor<'_>, reader: Uuid, limit: i64) -> Result<(Vec<Waiting>, i64)> {
    let sql = format!(
        "with mine as ( \
             select i.number, i.title, i.severity, q.requested_at, v.verdict, v.created_at as reviewed_at, \
                    {EDITS_SINCE} as edits_since \
             from review_request q join incident i on i.id = q.incident_id and i.status = 'in_review' \
             left join lateral (select verdict, created_at, revision_id from review \
                                 where incident_id = q.incident_id and reviewer_id = q.reviewer_id \
                                 order by created_at desc, id desc limit 1) v on true \
             where q.reviewer_id = $1) \
         select 'INC-' || number as reference, title, severity, \
                case when verdict is null then 'asked' else 'edited' end as why, \
                coalesce(reviewed_at, requested_at) as at, count(*) over () as total \
         from mine where verdict is null or edits_since > 0 \
         order by at desc limit $2"
    );
    let rows: Vec<(String, String, String, String, OffsetDateTime, i64)> =
        sqlx::query_as(&sql).bind(reader).bind(limit).fetch_all(db).await?;
    let total = rows.first().map_or(0, |row| row.5);
    let waiting = rows
        .into_iter()
        .map(|(reference, title, severity, why, at, _)| Waiting { reference, title, severity, why, at })
        .collect();
    Ok((waiting, total))
}

/// The reader's postmortems (they opened them) where a reviewer's latest
/// verdict asks for changes.
pub async fn changes_requested_of(
    db: impl PgExecutor<'_>,
    reader: Uuid,
    limit: i64,
) -> Result<(Vec<Waiting>, i64)> {
    let rows: Vec<(String, String, String, OffsetDateTime, i64)> = sqlx::query_as(
        "select 'INC-' || i.number, i.title, i.severity, max(v.created_at), count(*) over () \
         from incident i \
         join lateral (select distinct on (reviewer_id) verdict, created_at from review \
                        where incident_id = i.id order by reviewer_id, created_at desc, id desc) v \
              on v.verdict = 'request_changes' \
         where i.created_by = $1 and i.status <> 'published' \
         group by i.id order by max(v.created_at) desc limit $2",
    )
    .bind(reader)
    .bind(limit)
    .fetch_all(db)
    .await?;
    let total = rows.first().map_or(0, |row| row.4);
    let waiting = rows
        .into_iter()
        .map(|(reference, title, severity, at, _)| Waiting {
            reference,
            title,
            severity,
            why: "changes_requested".into(),
            at,
        })
        .collect();
    Ok((waiting, total))
}
