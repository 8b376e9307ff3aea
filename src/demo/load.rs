//! The demo postmortems: twelve realistic incidents from `postmortems.json`,
//! with their timelines, causes, action items and cast, loaded in one
//! transaction so a newcomer opens a populated app.

use serde::Deserialize;
use sqlx::{PgConnection, PgPool};
use time::{Date, Duration, OffsetDateTime};
use uuid::Uuid;

use super::{Persona, ensure_user};
use crate::{
    action_items::{
        self,
        domain::{ActionItemFields, ActionKind, ActionStatus, Priority},
    },
    auth::domain::{NewPassword, Role},
    causes::{
        self,
        domain::{CauseFields, CauseKind},
    },
    error::{AppError, Result},
    incidents::revision,
    incidents::{
        domain::{Severity, Status},
        figures::parse_figures,
    },
    timeline::{
        self,
        domain::{EventFields, EventKind, HypothesisStatus},
    },
};

/// The people of the demo: the first five are the authors and owners the
/// JSON counts into; the last only reads, to show the read-only view.
pub const CAST: [Persona; 6] = [
    Persona { email: "ana@demo.debrief.dev", name: "Ana Ops", role: Role::Admin },
    Persona { email: "bo@demo.debrief.dev", name: "Bo Rota", role: Role::Editor },
    Persona { email: "chen@demo.debrief.dev", name: "Chen Li", role: Role::Editor },
    Persona { email: "dee@demo.debrief.dev", name: "Dee Kay", role: Role::Editor },
    Persona { email: "eli@demo.debrief.dev", name: "Eli Moss", role: Role::Editor },
    Persona { email: "viv@demo.debrief.dev", name: "Viv Reader", role: Role::Viewer },
];

/// The summary of the first revision of every demo postmortem.
pub const REVISION_SUMMARY: &str = "Loaded from the demo data";

const POSTMORTEMS_JSON: &str = include_str!("postmortems.json");

/// One postmortem as `postmortems.json` writes it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Postmortem {
    pub title: String,
    pub severity: Severity,
    pub status: Status,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    pub started_at: OffsetDateTime,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub detected_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub mitigated_at: Option<OffsetDateTime>,
    #[serde(default, with = "time::serde::rfc3339::option")]
    pub resolved_at: Option<OffsetDateTime>,
    pub summary: String,
    pub impact: String,
    /// One figure per entry, as typed: `QPS 12,800 -> 3,000 for 47 min`.
    #[serde(default)]
    pub impact_figures: Vec<String>,
    pub trigger: String,
    pub detection: String,
    pub resolution: String,
    pub went_well: String,
    pub went_badly: String,
    pub got_lucky: String,
    pub timeline: Vec<TimelineEntry>,
    pub causes: Vec<CauseEntry>,
    pub action_items: Vec<ActionItemEntry>,
}

/// A timeline event; `author` counts into [`CAST`].
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimelineEntry {
    #[serde(with = "time::serde::rfc3339")]
    pub at: OffsetDateTime,
    pub kind: EventKind,
    pub body: String,
    pub author: CastIndex,
    pub hypothesis_status: Option<HypothesisStatus>,
    #[serde(default)]
    pub evidence: String,
}

/// A cause; its category is checked against the taxonomy by the schema.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CauseEntry {
    pub kind: CauseKind,
    pub category: String,
    pub description: String,
    pub whys: Vec<String>,
}

/// An action item, due `due_in_days` after the incident was resolved.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ActionItemEntry {
    pub title: String,
    pub kind: ActionKind,
    pub priority: Priority,
    pub status: ActionStatus,
    pub owner: CastIndex,
    pub due_in_days: i64,
    pub tracker_url: Option<String>,
}

/// A position in [`CAST`], checked when the JSON is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "usize")]
pub struct CastIndex(usize);

impl TryFrom<usize> for CastIndex {
    type Error = String;

    fn try_from(index: usize) -> Result<CastIndex, String> {
        if index < CAST.len() {
            Ok(CastIndex(index))
        } else {
            Err(format!("cast member {index} does not exist; the cast has {}", CAST.len()))
        }
    }
}

impl Postmortem {
    /// Who opened it: the author of its earliest timeline event.
    fn opened_by(&self) -> Option<CastIndex> {
        self.timeline.iter().min_by_key(|event| event.at).map(|event| event.author)
    }

    /// The day action items count their due dates from.
    fn closed_on(&self) -> Date {
        self.resolved_at.unwrap_or(self.started_at).date()
    }
}

impl TimelineEntry {
    fn fields(&self) -> EventFields {
        EventFields {
            occurred_at: self.at,
            kind: self.kind,
            body: self.body.clone(),
            hypothesis_status: self.hypothesis_status,
            evidence: self.evidence.clone(),
        }
    }
}

/// The demo postmortems, oldest first.
pub fn postmortems() -> Result<Vec<Postmortem>> {
    let mut postmortems: Vec<Postmortem> = serde_json::from_str(POSTMORTEMS_JSON)
        .map_err(|err| anyhow::anyhow!("the embedded postmortems.json is invalid: {err}"))?;
    postmortems.sort_by_key(|postmortem| postmortem.started_at);
    Ok(postmortems)
}

/// What loading the demo did.
#[derive(Debug)]
pub struct LoadReport {
    pub postmortems: usize,
    pub timeline_events: usize,
    pub causes: usize,
    pub action_items: usize,
    /// Every cast member, and whether this load created their account.
    pub users: Vec<(Persona, bool)>,
}

impl LoadReport {
    /// "Loaded 12 postmortems, 170 timeline events, ..."
    pub fn summary(&self) -> String {
        format!(
            "Loaded {} postmortems, {} timeline events, {} causes and {} action items.",
            self.postmortems, self.timeline_events, self.causes, self.action_items
        )
    }
}

/// Loads the demo into a database without incidents, creating the cast
/// members that do not exist yet with `password`. A database that has
/// incidents is refused with [`AppError::Conflict`] and left as it was.
#[tracing::instrument(skip_all)]
pub async fn load_demo(pool: &PgPool, password: &NewPassword) -> Result<LoadReport> {
    let postmortems = postmortems()?;
    let mut tx = pool.begin().await?;
    refuse_unless_empty(&mut tx).await?;
    let mut users = Vec::with_capacity(CAST.len());
    for persona in &CAST {
        let (id, created) = ensure_user(&mut tx, persona, password).await?;
        users.push((id, created));
    }
    let cast: Vec<Uuid> = users.iter().map(|(id, _)| *id).collect();
    for postmortem in &postmortems {
        insert_postmortem(&mut tx, postmortem, &cast).await?;
    }
    tx.commit().await?;
    Ok(LoadReport {
        postmortems: postmortems.len(),
        timeline_events: postmortems.iter().map(|p| p.timeline.len()).sum(),
        causes: postmortems.iter().map(|p| p.causes.len()).sum(),
        action_items: postmortems.iter().map(|p| p.action_items.len()).sum(),
        users: CAST.iter().copied().zip(users.iter().map(|(_, created)| *created)).collect(),
    })
}

/// Fails unless the database has no incident, and keeps it so until the
/// transaction ends: the lock makes writers wait, so no incident can slip in
/// between the check and the demo's own INC numbers.
async fn refuse_unless_empty(tx: &mut PgConnection) -> Result<()> {
    sqlx::query("lock table incident in exclusive mode").execute(&mut *tx).await?;
    let existing: i64 = sqlx::query_scalar("select count(*) from incident").fetch_one(&mut *tx).await?;
    if existing > 0 {
        return Err(AppError::Conflict(format!(
            "the database already has {existing} incident(s); `debrief demo` only loads into an empty \
             database (`debrief demo --incidents N` adds generated ones)"
        )));
    }
    Ok(())
}

/// Writes one postmortem with all its parts and its first revision.
async fn insert_postmortem(tx: &mut PgConnection, postmortem: &Postmortem, cast: &[Uuid]) -> Result<()> {
    let author = |index: CastIndex| cast[index.0];
    let opened_by = postmortem.opened_by().map(author).unwrap_or(cast[0]);
    let incident_id = insert_incident(&mut *tx, postmortem, opened_by).await?;
    for event in &postmortem.timeline {
        timeline::db::insert_event(&mut *tx, incident_id, &event.fields(), author(event.author)).await?;
    }
    for cause in &postmortem.causes {
        causes::db::insert_cause(&mut *tx, incident_id, &cause.fields()).await?;
    }
    for item in &postmortem.action_items {
        let due_on = postmortem.closed_on() + Duration::days(item.due_in_days);
        action_items::db::insert_item(&mut *tx, incident_id, &item.fields(author(item.owner), due_on))
            .await?;
    }
    // Loading is how the postmortem came to be, not a change after its
    // publication: the page would otherwise flag every demo incident.
    revision::record(tx, &crate::postmortem::document(), incident_id, opened_by, REVISION_SUMMARY, &[], false)
        .await
}

#[tracing::instrument(skip_all)]
async fn insert_incident(tx: &mut PgConnection, postmortem: &Postmortem, created_by: Uuid) -> Result<Uuid> {
    let figures = parse_figures(&postmortem.impact_figures.join("\n"))
        .map_err(|reason| anyhow::anyhow!("demo postmortem {:?}: {reason}", postmortem.title))?;
    let sql = "insert into incident (id, title, severity, status, services, tags, started_at, detected_at, \
               mitigated_at, resolved_at, summary, impact, trigger, detection, resolution, went_well, \
               went_badly, got_lucky, created_by, impact_figures) \
               values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
               $20) \
               returning id";
    let id = sqlx::query_scalar(sql)
        .bind(Uuid::now_v7())
        .bind(&postmortem.title)
        .bind(postmortem.severity.as_str())
        .bind(postmortem.status.as_str())
        .bind(&postmortem.services)
        .bind(&postmortem.tags)
        .bind(postmortem.started_at)
        .bind(postmortem.detected_at)
        .bind(postmortem.mitigated_at)
        .bind(postmortem.resolved_at)
        .bind(&postmortem.summary)
        .bind(&postmortem.impact)
        .bind(&postmortem.trigger)
        .bind(&postmortem.detection)
        .bind(&postmortem.resolution)
        .bind(&postmortem.went_well)
        .bind(&postmortem.went_badly)
        .bind(&postmortem.got_lucky)
        .bind(created_by)
        .bind(sqlx::types::Json(figures))
        .fetch_one(tx)
        .await?;
    Ok(id)
}

impl CauseEntry {
    fn fields(&self) -> CauseFields {
        CauseFields {
            kind: self.kind,
            category: self.category.clone(),
            description: self.description.clone(),
            whys: self.whys.clone(),
        }
    }
}

impl ActionItemEntry {
    fn fields(&self, owner_id: Uuid, due_on: Date) -> ActionItemFields {
        ActionItemFields {
            title: self.title.clone(),
            kind: self.kind,
            owner_id: Some(owner_id),
            due_on: Some(due_on),
            priority: self.priority,
            status: self.status,
            tracker_url: self.tracker_url.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_postmortems_parse_oldest_first() {
        let postmortems = postmortems().unwrap();

        assert_eq!(postmortems.len(), 12);
        assert!(postmortems.windows(2).all(|pair| pair[0].started_at <= pair[1].started_at));
    }

    #[test]
    fn every_demo_postmortem_has_one_root_cause_and_a_timeline() {
        for postmortem in postmortems().unwrap() {
            let roots = postmortem.causes.iter().filter(|cause| cause.kind == CauseKind::Root).count();
            assert_eq!(roots, 1, "{}", postmortem.title);
            assert!(postmortem.opened_by().is_some(), "{}", postmortem.title);
        }
    }

    #[test]
    fn exactly_the_hypotheses_carry_a_hypothesis_status() {
        for event in postmortems().unwrap().iter().flat_map(|p| &p.timeline) {
            assert_eq!(
                event.kind == EventKind::Hypothesis,
                event.hypothesis_status.is_some(),
                "{}",
                event.body
            );
        }
    }

    #[test]
    fn a_cast_index_past_the_cast_is_refused_when_read() {
        assert_eq!(serde_json::from_str::<CastIndex>("5").unwrap(), CastIndex(5));
        let err = serde_json::from_str::<CastIndex>("6").unwrap_err().to_string();
        assert!(err.contains("cast member 6 does not exist"), "{err}");
    }
}
