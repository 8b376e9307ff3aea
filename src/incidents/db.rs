//! SQL for incidents.

use serde::Serialize;
use sqlx::{PgExecutor, PgPool};
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    domain::{NewIncidentFields, Severity, Status},
    figures::Figure,
    views::KnownLabels,
};
use crate::error::{AppError, Result};

/// An incident, the postmortem document.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Incident {
    pub id: Uuid,
    pub number: i32,
    #[serde(rename = "ref")]
    pub reference: String,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub detected_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub mitigated_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    pub summary: String,
    pub impact: String,
    pub impact_figures: Vec<Figure>,
    pub trigger: String,
    pub detection: String,
    pub resolution: String,
    pub went_well: String,
    pub went_badly: String,
    pub got_lucky: String,
    pub version: i32,
    pub created_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

/// An incident row: the columns a list reads, and the Markdown sections.
#[derive(sqlx::FromRow)]
struct IncidentRow {
    #[sqlx(flatten)]
    listing: ListingRow,
    summary: String,
    impact: String,
    impact_figures: sqlx::types::Json<Vec<Figure>>,
    trigger: String,
    detection: String,
    resolution: String,
    went_well: String,
    went_badly: String,
    got_lucky: String,
}

impl TryFrom<IncidentRow> for Incident {
    type Error = AppError;

    fn try_from(row: IncidentRow) -> Result<Incident> {
        let listed = IncidentListing::try_from(row.listing)?;
        Ok(Incident {
            id: listed.id,
            number: listed.number,
            reference: listed.reference,
            title: listed.title,
            severity: listed.severity,
            status: listed.status,
            services: listed.services,
            tags: listed.tags,
            started_at: listed.started_at,
            detected_at: listed.detected_at,
            mitigated_at: listed.mitigated_at,
            resolved_at: listed.resolved_at,
            summary: row.summary,
            impact: row.impact,
            impact_figures: row.impact_figures.0,
            trigger: row.trigger,
            detection: row.detection,
            resolution: row.resolution,
            went_well: row.went_well,
            went_badly: row.went_badly,
            got_lucky: row.got_lucky,
            version: listed.version,
            created_by: listed.created_by,
            created_at: listed.created_at,
            updated_at: listed.updated_at,
        })
    }
}

/// `INC-42`
pub fn reference(number: i32) -> String {
    format!("INC-{number}")
}

const COLUMNS: &str = "id, number, title, severity, status, services, tags, started_at, detected_at, \
                       mitigated_at, resolved_at, summary, impact, impact_figures, trigger, detection, resolution, \
                       went_well, went_badly, got_lucky, version, created_by, created_at, updated_at";

#[tracing::instrument(skip_all)]
pub async fn insert_incident(
    db: impl PgExecutor<'_>,
    new: &NewIncidentFields,
    created_by: Uuid,
) -> Result<Incident> {
    let sql = format!(
        "insert into incident (id, title, severity, started_at, services, tags, summary, created_by) \
         values ($1, $2, $3, $4, $5, $6, $7, $8) returning {COLUMNS}"
    );
    let row = sqlx::query_as::<_, IncidentRow>(&sql)
        .bind(Uuid::now_v7())
        .bind(new.title.as_str())
        .bind(new.severity.as_str())
        .bind(new.started_at)
        .bind(&new.services)
        .bind(&new.tags)
        .bind(&new.summary)
        .bind(created_by)
        .fetch_one(db)
        .await?;
    Incident::try_from(row)
}

#[tracing::instrument(skip_all)]
pub async fn find_incident(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Incident>> {
    let sql = format!("select {COLUMNS} from incident where id = $1");
    let row = sqlx::query_as::<_, IncidentRow>(&sql).bind(id).fetch_optional(db).await?;
    row.map(Incident::try_from).transpose()
}

/// The incidents of `ids` that exist, in no particular order.
#[tracing::instrument(skip_all)]
pub async fn find_incidents(db: impl PgExecutor<'_>, ids: &[Uuid]) -> Result<Vec<Incident>> {
    let sql = format!("select {COLUMNS} from incident where id = any($1)");
    let rows = sqlx::query_as::<_, IncidentRow>(&sql).bind(ids).fetch_all(db).await?;
    rows.into_iter().map(Incident::try_from).collect()
}

#[tracing::instrument(skip_all)]
pub async fn find_incident_by_number(db: impl PgExecutor<'_>, number: i32) -> Result<Option<Incident>> {
    let sql = format!("select {COLUMNS} from incident where number = $1");
    let row = sqlx::query_as::<_, IncidentRow>(&sql).bind(number).fetch_optional(db).await?;
    row.map(Incident::try_from).transpose()
}

/// What an incident page shows changes exactly when one of these does: a
/// rendered page is reused only while both are the same.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct PageStamp {
    pub page_version: i64,
    pub directory_version: i64,
}

#[derive(sqlx::FromRow)]
struct StampedRow {
    #[sqlx(flatten)]
    incident: IncidentRow,
    #[sqlx(flatten)]
    stamp: PageStamp,
}

/// The incident for its page, with the stamp of everything the page shows,
/// in one round trip.
#[tracing::instrument(skip_all)]
pub async fn find_for_page(db: impl PgExecutor<'_>, number: i32) -> Result<Option<(Incident, PageStamp)>> {
    let sql = format!(
        "select {COLUMNS}, (select page_version from incident_stamp where incident_id = incident.id) as page_version, \
         (select version from directory_version) as directory_version from incident where number = $1"
    );
    let row = sqlx::query_as::<_, StampedRow>(&sql).bind(number).fetch_optional(db).await?;
    row.map(|row| Ok((Incident::try_from(row.incident)?, row.stamp))).transpose()
}

/// One page of incidents, newest first, and how many there are in all.
/// An incident as a list shows it: everything but the Markdown sections,
/// which a list never shows and which make a row thousands of times wider.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct IncidentListing {
    pub id: Uuid,
    pub number: i32,
    #[serde(rename = "ref")]
    pub reference: String,
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339::option")]
    pub detected_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub mitigated_at: Option<OffsetDateTime>,
    #[serde(with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    pub version: i32,
    pub created_by: Option<Uuid>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
pub(crate) struct ListingRow {
    id: Uuid,
    number: i32,
    title: String,
    severity: String,
    status: String,
    services: Vec<String>,
    tags: Vec<String>,
    started_at: OffsetDateTime,
    detected_at: Option<OffsetDateTime>,
    mitigated_at: Option<OffsetDateTime>,
    resolved_at: Option<OffsetDateTime>,
    version: i32,
    created_by: Option<Uuid>,
    created_at: OffsetDateTime,
    updated_at: OffsetDateTime,
}

impl TryFrom<ListingRow> for IncidentListing {
    type Error = AppError;

    fn try_from(row: ListingRow) -> Result<IncidentListing> {
        // The schema's checks keep these to the known values.
        let corrupt =
            |what: &str, value: &str| anyhow::anyhow!("incident {} has an unknown {what} {value:?}", row.id);
        Ok(IncidentListing {
            severity: Severity::parse(&row.severity).map_err(|_| corrupt("severity", &row.severity))?,
            status: Status::parse(&row.status).map_err(|_| corrupt("status", &row.status))?,
            reference: reference(row.number),
            id: row.id,
            number: row.number,
            title: row.title,
            services: row.services,
            tags: row.tags,
            started_at: row.started_at,
            detected_at: row.detected_at,
            mitigated_at: row.mitigated_at,
            resolved_at: row.resolved_at,
            version: row.version,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub(crate) const LISTING_COLUMNS: &str = "id, number, title, severity, status, services, tags, started_at, detected_at, \
                               mitigated_at, resolved_at, version, created_by, created_at, updated_at";

/// [`LISTING_COLUMNS`], each of the table `alias`.
pub(crate) fn listing_columns(alias: &str) -> String {
    LISTING_COLUMNS
        .split(", ")
        .map(|column| format!("{alias}.{}", column.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// How many incidents there are, and the version of their order; both kept
/// by triggers.
#[tracing::instrument(skip_all)]
pub async fn list_counts(db: impl PgExecutor<'_>) -> Result<(i64, i64)> {
    Ok(sqlx::query_as("select total, order_version from incident_list").fetch_one(db).await?)
}

/// Some incidents of the list, with the counts of [`list_counts`] as they
/// were when the page was read (none when the page is empty).
pub struct ListedRows {
    pub incidents: Vec<IncidentListing>,
    pub counts: Option<(i64, i64)>,
}

#[derive(sqlx::FromRow)]
struct CountedListingRow {
    #[sqlx(flatten)]
    listing: ListingRow,
    total: i64,
    order_version: i64,
}

/// `limit` incidents newest first, skipping `skip`, from the incident with
/// `key` on (or from the newest), and the list's counts, in one round trip.
/// The skipped rows are counted off the list's index alone, never read.
#[tracing::instrument(skip_all)]
pub async fn list_from(
    db: impl PgExecutor<'_>,
    key: Option<(OffsetDateTime, i32)>,
    limit: i64,
    skip: i64,
) -> Result<ListedRows> {
    // With no key, the newest key there could be.
    let (started_at, number) =
        key.unwrap_or((OffsetDateTime::new_utc(time::Date::MAX, time::Time::MIDNIGHT), i32::MAX));
    let sql = format!(
        "select {LISTING_COLUMNS}, (select total from incident_list) as total, \
                (select order_version from incident_list) as order_version from incident \
         where (started_at, number) <= (select started_at, number from incident \
                                        where (started_at, number) <= ($3, $4) \
                                        order by started_at desc, number desc offset $2 limit 1) \
         order by started_at desc, number desc limit $1"
    );
    let rows = sqlx::query_as::<_, CountedListingRow>(&sql)
        .bind(limit)
        .bind(skip)
        .bind(started_at)
        .bind(number)
        .fetch_all(db)
        .await?;
    let counts = rows.first().map(|row| (row.total, row.order_version));
    let incidents =
        rows.into_iter().map(|row| IncidentListing::try_from(row.listing)).collect::<Result<_>>()?;
    Ok(ListedRows { incidents, counts })
}

/// The sort keys of the incidents at positions 0, `every`, 2 × `every`...,
/// `count` of them at most, read off the list's index.
#[tracing::instrument(skip_all)]
pub async fn list_keys_every(
    db: impl PgExecutor<'_>,
    every: i64,
    count: i64,
) -> Result<Vec<(OffsetDateTime, i32)>> {
    let sql = "select started_at, number from ( \
                   select started_at, number, row_number() over (order by started_at desc, number desc) - 1 as position \
                   from (select started_at, number from incident order by started_at desc, number desc limit $2) firsts \
               ) numbered where position % $1 = 0 order by position";
    Ok(sqlx::query_as(sql).bind(every).bind(every.saturating_mul(count)).fetch_all(db).await?)
}

/// The incident, locked until the transaction ends, for a read-modify-write.
#[tracing::instrument(skip_all)]
pub async fn lock_incident(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<Incident>> {
    let sql = format!("select {COLUMNS} from incident where id = $1 for update");
    let row = sqlx::query_as::<_, IncidentRow>(&sql).bind(id).fetch_optional(db).await?;
    row.map(Incident::try_from).transpose()
}

/// Writes every editable field and moves the version on by one.
#[tracing::instrument(skip_all)]
pub async fn save_incident(db: impl PgExecutor<'_>, incident: &Incident) -> Result<Incident> {
    let sql = format!(
        "update incident set title = $2, severity = $3, status = $4, services = $5, tags = $6, started_at = $7, \
         detected_at = $8, mitigated_at = $9, resolved_at = $10, summary = $11, impact = $12, trigger = $13, \
         detection = $14, resolution = $15, went_well = $16, went_badly = $17, got_lucky = $18, \
         impact_figures = $19, version = version + 1, updated_at = now() where id = $1 returning {COLUMNS}"
    );
    let row = sqlx::query_as::<_, IncidentRow>(&sql)
        .bind(incident.id)
        .bind(&incident.title)
        .bind(incident.severity.as_str())
        .bind(incident.status.as_str())
        .bind(&incident.services)
        .bind(&incident.tags)
        .bind(incident.started_at)
        .bind(incident.detected_at)
        .bind(incident.mitigated_at)
        .bind(incident.resolved_at)
        .bind(&incident.summary)
        .bind(&incident.impact)
        .bind(&incident.trigger)
        .bind(&incident.detection)
        .bind(&incident.resolution)
        .bind(&incident.went_well)
        .bind(&incident.went_badly)
        .bind(&incident.got_lucky)
        .bind(sqlx::types::Json(&incident.impact_figures))
        .fetch_one(db)
        .await?;
    Incident::try_from(row)
}

/// Services and tags already used on incidents, most used first.
#[tracing::instrument(skip_all)]
pub async fn known_labels(db: &PgPool) -> Result<KnownLabels> {
    let sql = |column: &str| {
        format!(
            "select label from (select unnest({column}) as label from incident) labels \
             group by label order by count(*) desc, label limit 40"
        )
    };
    let services = sqlx::query_scalar(&sql("services")).fetch_all(db).await?;
    let tags = sqlx::query_scalar(&sql("tags")).fetch_all(db).await?;
    Ok(KnownLabels { services, tags })
}
