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
        db::ActionItem,
        domain::{ActionItemFields, ActionKind, ActionStatus, Priority},
    },
    auth::domain::{NewPassword, Role},
    causes::{
        self,
        domain::{CauseFields, CauseKind},
    },
    error::{AppError, Result},
    evidence::{part::Evidence, store::ArtifactStore},
    incidents::document::Records,
    incidents::{
        self, EditError,
        domain::{Field, Severity, Status},
        revision::{self, Change},
        versioned::{self, Versioned},
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
    /// A starter playbook applied to it, and how far its steps got.
    #[serde(default)]
    pub checklist: Option<ChecklistEntry>,
    /// The review's threads.
    #[serde(default)]
    pub comments: Vec<CommentEntry>,
}

/// A starter playbook applied by `by`, its steps (counted from 0, nested
/// ones included) ticked done or not applicable, some with a note.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChecklistEntry {
    pub playbook: String,
    pub by: CastIndex,
    pub done: Vec<usize>,
    pub not_applicable: Vec<usize>,
    #[serde(default)]
    pub notes: std::collections::BTreeMap<usize, String>,
}

/// A thread of the review on `on` (`cause:0`, `action_item:1` or
/// `section:trigger`), its replies, and whether it was resolved.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentEntry {
    pub on: String,
    pub by: CastIndex,
    pub body: String,
    #[serde(default)]
    pub replies: Vec<ReplyEntry>,
    #[serde(default)]
    pub resolved: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReplyEntry {
    pub by: CastIndex,
    pub body: String,
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
    /// When it was opened: once the incident was detected.
    fn opened_at(&self) -> OffsetDateTime {
        self.detected_at.unwrap_or(self.started_at) + Duration::minutes(4)
    }

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
    pub artifacts: usize,
    pub checklists: usize,
    pub comments: usize,
    /// Every cast member, and whether this load created their account.
    pub users: Vec<(Persona, bool)>,
}

impl LoadReport {
    /// "Loaded 12 postmortems, 170 timeline events, ..."
    pub fn summary(&self) -> String {
        format!(
            "Loaded {} postmortems, {} timeline events, {} causes, {} action items, {} evidence files, {} \
             checklists and {} comments.",
            self.postmortems,
            self.timeline_events,
            self.causes,
            self.action_items,
            self.artifacts,
            self.checklists,
            self.comments
        )
    }
}

/// Loads the demo into a database without incidents, creating the cast
/// members that do not exist yet with `password`. A database that has
/// incidents is refused with [`AppError::Conflict`] and left as it was.
#[tracing::instrument(skip_all)]
pub async fn load_demo(pool: &PgPool, store: &ArtifactStore, password: &NewPassword) -> Result<LoadReport> {
    let postmortems = postmortems()?;
    // The starter playbooks the demo's checklists are made from (the
    // server adds them at start too).
    crate::playbooks::library::load(pool).await?;
    let mut tx = pool.begin().await?;
    refuse_unless_empty(&mut tx).await?;
    let mut users = Vec::with_capacity(CAST.len());
    for persona in &CAST {
        let (id, created) = ensure_user(&mut tx, persona, password).await?;
        users.push((id, created));
    }
    let cast: Vec<Uuid> = users.iter().map(|(id, _)| *id).collect();
    let mut artifacts = 0;
    for (index, postmortem) in postmortems.iter().enumerate() {
        artifacts += insert_postmortem(&mut tx, store, index + 1, postmortem, &cast).await?;
    }
    tx.commit().await?;
    Ok(LoadReport {
        postmortems: postmortems.len(),
        timeline_events: postmortems.iter().map(|p| p.timeline.len()).sum(),
        causes: postmortems.iter().map(|p| p.causes.len()).sum(),
        action_items: postmortems.iter().map(|p| p.action_items.len()).sum(),
        artifacts,
        checklists: postmortems.iter().filter(|p| p.checklist.is_some()).count(),
        comments: postmortems.iter().flat_map(|p| &p.comments).map(|thread| 1 + thread.replies.len()).sum(),
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

/// Writes one postmortem the way its team wrote it, each step a revision
/// dated when it happened: opened once the incident was detected, its
/// timeline logged as it unfolded by whoever was at the keyboard, its
/// sections and causes written in the days after by several of the cast,
/// sent for review, published, and for a published one the action items
/// closed after publication by their owners.
async fn insert_postmortem(
    tx: &mut PgConnection,
    store: &ArtifactStore,
    number: usize,
    postmortem: &Postmortem,
    cast: &[Uuid],
) -> Result<usize> {
    let document = crate::postmortem::document("");
    let author = |index: CastIndex| cast[index.0];
    let opened_by = postmortem.opened_by().map(author).unwrap_or(cast[0]);
    // The one who writes the analysis and the one who reviews it: the next
    // two of the cast after the opener, so every postmortem has three hands.
    let position = cast.iter().position(|id| *id == opened_by).unwrap_or(0);
    let analyst = cast[(position + 1) % WRITERS];
    let reviewer = cast[(position + 2) % WRITERS];
    let mut history = History::new(postmortem.opened_at());

    let incident_id = insert_incident(&mut *tx, postmortem, opened_by).await?;
    revision::record(&mut *tx, &document, incident_id, opened_by, REVISION_SUMMARY, &[], false).await?;
    history.date_last(tx, incident_id, postmortem.opened_at()).await?;

    // Events are logged in runs: one revision per run of one author.
    let mut events: Vec<&TimelineEntry> = postmortem.timeline.iter().collect();
    events.sort_by_key(|event| event.at);
    for run in events.chunk_by(|a, b| a.author == b.author) {
        let mut changes = Vec::with_capacity(run.len());
        for event in run {
            let saved =
                timeline::db::insert_event(&mut *tx, incident_id, &event.fields(), author(event.author))
                    .await?;
            changes.push(versioned::added(&saved));
        }
        let summary = match run.len() {
            1 => "Added a timeline event".to_owned(),
            n => format!("Added {n} timeline events"),
        };
        let by = author(run[0].author);
        revision::record(&mut *tx, &document, incident_id, by, &summary, &changes, false).await?;
        let logged = run.iter().map(|event| event.at).max().unwrap_or(postmortem.started_at);
        history.date_last(tx, incident_id, logged + Duration::minutes(3)).await?;
    }

    // The evidence taken during the incident, attached once it was over.
    let attached = super::evidence::attach(&mut *tx, store, number, incident_id, opened_by).await?;
    if !attached.is_empty() {
        let changes: Vec<Change> = attached
            .iter()
            .map(|artifact| Change {
                field: "evidence".into(),
                old: String::new(),
                new: Evidence::history_text(artifact),
            })
            .collect();
        let summary = format!("Attached {} files", attached.len());
        revision::record(&mut *tx, &document, incident_id, opened_by, &summary, &changes, false).await?;
        let over = postmortem.resolved_at.or(postmortem.mitigated_at).unwrap_or(postmortem.started_at);
        history.date_last(tx, incident_id, over + Duration::minutes(20)).await?;
    }

    let day_after =
        postmortem.closed_on().next_day().unwrap_or(postmortem.closed_on()).midnight().assume_utc();
    let figures = postmortem.impact_figures.join("\n");
    let first_pass = [
        (Field::Summary, postmortem.summary.as_str()),
        (Field::Impact, postmortem.impact.as_str()),
        (Field::ImpactFigures, figures.as_str()),
    ];
    edit(tx, &document, incident_id, &first_pass, opened_by).await?;
    history.date_last(tx, incident_id, day_after + Duration::hours(9) + Duration::minutes(40)).await?;
    let analysis = [
        (Field::Trigger, postmortem.trigger.as_str()),
        (Field::Detection, postmortem.detection.as_str()),
        (Field::Resolution, postmortem.resolution.as_str()),
    ];
    edit(tx, &document, incident_id, &analysis, analyst).await?;
    history.date_last(tx, incident_id, day_after + Duration::hours(11) + Duration::minutes(5)).await?;

    let mut cause_ids = Vec::with_capacity(postmortem.causes.len());
    for cause in &postmortem.causes {
        let saved = causes::db::insert_cause(&mut *tx, incident_id, &cause.fields()).await?;
        cause_ids.push(saved.id);
        let summary = format!("Added a {}", saved.kind.label().to_lowercase());
        revision::record(
            &mut *tx,
            &document,
            incident_id,
            analyst,
            &summary,
            &[versioned::added(&saved)],
            false,
        )
        .await?;
        history.date_last(tx, incident_id, day_after + Duration::hours(14)).await?;
    }

    let published = postmortem.status == Status::Published;
    // Items done by now were, for a published postmortem, done after it:
    // they are added open and closed below, after the publication.
    let mut to_close = Vec::new();
    let mut item_ids = Vec::with_capacity(postmortem.action_items.len());
    for item in &postmortem.action_items {
        let due_on = postmortem.closed_on() + Duration::days(item.due_in_days);
        let mut fields = item.fields(author(item.owner), due_on);
        let closed_later = published && item.status == ActionStatus::Done;
        if closed_later {
            fields.status = ActionStatus::Open;
        }
        let saved = action_items::db::insert_item(&mut *tx, incident_id, &fields).await?;
        item_ids.push(saved.id);
        let changes = [versioned::added(&saved)];
        revision::record(
            &mut *tx,
            &document,
            incident_id,
            opened_by,
            "Added an action item",
            &changes,
            false,
        )
        .await?;
        history.date_last(tx, incident_id, day_after + Duration::hours(15)).await?;
        if closed_later {
            to_close.push((saved, fields, author(item.owner)));
        }
    }

    if let Some(checklist) = &postmortem.checklist {
        let applied = day_after + Duration::hours(15) + Duration::minutes(30);
        let ticked = day_after + Duration::days(1) + Duration::hours(12);
        apply_checklist(tx, &document, incident_id, checklist, author(checklist.by), ticked).await?;
        history.date_last(tx, incident_id, applied).await?;
    }

    let lessons = [
        (Field::WentWell, postmortem.went_well.as_str()),
        (Field::WentBadly, postmortem.went_badly.as_str()),
        (Field::GotLucky, postmortem.got_lucky.as_str()),
    ];
    edit(tx, &document, incident_id, &lessons, reviewer).await?;
    history.date_last(tx, incident_id, day_after + Duration::days(1) + Duration::hours(10)).await?;

    if matches!(postmortem.status, Status::InReview | Status::Published) {
        edit(tx, &document, incident_id, &[(Field::Status, Status::InReview.as_str())], opened_by).await?;
        history.date_last(tx, incident_id, day_after + Duration::days(1) + Duration::hours(16)).await?;
    }
    if matches!(postmortem.status, Status::InReview | Status::Published) {
        crate::review::db::ask(tx, incident_id, reviewer, opened_by).await?;
    }
    let targets = Targets { causes: &cause_ids, action_items: &item_ids };
    let review_day = day_after + Duration::days(2) + Duration::hours(10);
    for (n, thread) in postmortem.comments.iter().enumerate() {
        let at = review_day + Duration::minutes(25 * i64::try_from(n).unwrap_or(0));
        add_thread(tx, incident_id, thread, &targets, cast, at).await?;
    }
    if published {
        let note = "Reads well: the timeline and the causes agree with the evidence.";
        crate::review::db::insert_review(tx, incident_id, reviewer, "approve", note).await?;
        edit(tx, &document, incident_id, &[(Field::Status, Status::Published.as_str())], reviewer).await?;
        history.date_last(tx, incident_id, day_after + Duration::days(3) + Duration::hours(11)).await?;
    }
    to_close.sort_by_key(|(item, _, _)| item.due_on);
    for (item, mut fields, owner) in to_close {
        fields.status = ActionStatus::Done;
        let saved = action_items::db::save_item(&mut *tx, item.id, &fields).await?;
        let change = Change {
            field: ActionItem::HISTORY_FIELD.to_owned(),
            old: item.history_text(),
            new: saved.history_text(),
        };
        let summary = format!("Marked an action item {}", saved.status.label());
        revision::record(&mut *tx, &document, incident_id, owner, &summary, &[change], true).await?;
        let closed =
            item.due_on.unwrap_or(postmortem.closed_on()).midnight().assume_utc() - Duration::hours(8);
        history.date_last(tx, incident_id, closed).await?;
    }
    history.date_incident(tx, incident_id).await?;
    Ok(attached.len())
}

/// Applies the starter playbook `entry` names to the incident, as `by`,
/// and ticks its steps as they stood at `ticked`.
async fn apply_checklist(
    tx: &mut PgConnection,
    document: &crate::incidents::document::Document,
    incident_id: Uuid,
    entry: &ChecklistEntry,
    by: Uuid,
    ticked: OffsetDateTime,
) -> Result<()> {
    use crate::playbooks::{db as playbooks, domain::ItemState};
    let playbook = playbooks::find(&mut *tx, &entry.playbook)
        .await?
        .ok_or_else(|| anyhow::anyhow!("the demo's playbook {} is missing", entry.playbook))?;
    let steps = playbook.steps.len();
    if let Some(past) = entry.done.iter().chain(&entry.not_applicable).find(|index| **index >= steps) {
        return Err(anyhow::anyhow!("{} has {steps} steps, not a step {past}", entry.playbook).into());
    }
    // As in the app, a step is not applicable for a reason.
    if let Some(bare) = entry.not_applicable.iter().find(|index| !entry.notes.contains_key(index)) {
        return Err(
            anyhow::anyhow!("{}'s step {bare} is not applicable without a note", entry.playbook).into()
        );
    }
    let checklist = playbooks::insert_checklist(
        tx,
        Some(incident_id),
        Some(playbook.id),
        &playbook.slug,
        playbook.version,
        &playbook.title,
        &playbook.steps,
        Some(by),
    )
    .await?;
    let states = entry.done.iter().map(|index| (*index, ItemState::Done));
    let states = states.chain(entry.not_applicable.iter().map(|index| (*index, ItemState::NotApplicable)));
    for (index, state) in states {
        let note = entry.notes.get(&index).map_or("", String::as_str);
        let position = i32::try_from(index + 1).unwrap_or(i32::MAX);
        playbooks::restore_item(tx, checklist, position, state, note, Some(by), Some(ticked)).await?;
    }
    let summary = format!("Applied the playbook \u{201c}{}\u{201d}", playbook.title);
    let change = Change {
        field: "checklists".into(),
        old: String::new(),
        new: format!("{} (version {}, {steps} steps)", playbook.title, playbook.version),
    };
    revision::record_part(tx, document, incident_id, by, &summary, &[change]).await
}

/// The records of one postmortem a thread may be on, in the JSON's order.
struct Targets<'a> {
    causes: &'a [Uuid],
    action_items: &'a [Uuid],
}

impl Targets<'_> {
    /// `cause:0` -> (`cause`, its id); `section:trigger` -> (`section`, `trigger`).
    fn find(&self, on: &str) -> Result<(&'static str, String)> {
        let (kind, which) = on.split_once(':').unwrap_or((on, ""));
        let record = |ids: &[Uuid]| which.parse::<usize>().ok().and_then(|n| ids.get(n)).map(Uuid::to_string);
        let found = match kind {
            "cause" => record(self.causes).map(|id| ("cause", id)),
            "action_item" => record(self.action_items).map(|id| ("action_item", id)),
            "section" => crate::comments::part_key("section", which).map(|_| ("section", which.to_owned())),
            _ => None,
        };
        found.ok_or_else(|| anyhow::anyhow!("a demo comment is on {on}, which is not there").into())
    }
}

/// One thread of the review, written at `at` and its replies after it.
async fn add_thread(
    tx: &mut PgConnection,
    incident_id: Uuid,
    thread: &CommentEntry,
    targets: &Targets<'_>,
    cast: &[Uuid],
    at: OffsetDateTime,
) -> Result<()> {
    use crate::comments::db::{NewComment, insert, set_resolved};
    let (kind, target) = targets.find(&thread.on)?;
    let new = NewComment {
        incident_id,
        target_kind: kind,
        target_id: &target,
        parent_id: None,
        author_id: cast[thread.by.0],
        body: &thread.body,
    };
    let root = insert(tx, &new).await?;
    date_comment(tx, root.id, at).await?;
    for (n, reply) in thread.replies.iter().enumerate() {
        let new =
            NewComment { parent_id: Some(root.id), author_id: cast[reply.by.0], body: &reply.body, ..new };
        let saved = insert(tx, &new).await?;
        date_comment(tx, saved.id, at + Duration::hours(2 + i64::try_from(n).unwrap_or(0))).await?;
    }
    if thread.resolved {
        set_resolved(&mut *tx, root.id, true, cast[thread.by.0]).await?;
        let resolved = at + Duration::hours(4);
        sqlx::query("update comment set resolved_at = $2 where id = $1")
            .bind(root.id)
            .bind(resolved)
            .execute(&mut *tx)
            .await?;
    }
    Ok(())
}

async fn date_comment(tx: &mut PgConnection, id: Uuid, at: OffsetDateTime) -> Result<()> {
    sqlx::query("update comment set created_at = $2 where id = $1")
        .bind(id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
    Ok(())
}

/// How many of [`CAST`] write postmortems: the last only reads.
const WRITERS: usize = 5;

/// One edit of the postmortem's own fields, through the same path as an
/// edit in the app.
async fn edit(
    tx: &mut PgConnection,
    document: &crate::incidents::document::Document,
    incident_id: Uuid,
    edits: &[(Field, &str)],
    author_id: Uuid,
) -> Result<()> {
    let current = incidents::db::lock_incident(&mut *tx, incident_id).await?.ok_or(AppError::NotFound)?;
    let edits: Vec<(Field, String)> = edits.iter().map(|(field, raw)| (*field, (*raw).to_owned())).collect();
    match incidents::apply_edits(tx, document, current, &edits, author_id).await {
        Ok(_) => Ok(()),
        Err(EditError::Failed(err)) => Err(err),
        Err(other) => Err(anyhow::anyhow!("the demo data is invalid, an edit was refused: {other:?}").into()),
    }
}

/// The dates of a postmortem's revisions: each at the moment its step
/// happened, never before the one it follows, never in the future.
struct History {
    first: OffsetDateTime,
    last: OffsetDateTime,
}

impl History {
    fn new(opened_at: OffsetDateTime) -> History {
        History { first: opened_at, last: opened_at }
    }

    /// Dates the incident's latest revision `at`, or just after the one
    /// before it when `at` is earlier.
    async fn date_last(
        &mut self,
        tx: &mut PgConnection,
        incident_id: Uuid,
        at: OffsetDateTime,
    ) -> Result<()> {
        let now = OffsetDateTime::now_utc() - Duration::minutes(1);
        let at = at.max(self.last + Duration::seconds(30)).min(now.max(self.last));
        self.last = at;
        let sql = "update incident_revision set created_at = $2 \
                   where id = (select max(id) from incident_revision where incident_id = $1)";
        sqlx::query(sql).bind(incident_id).bind(at).execute(&mut *tx).await?;
        Ok(())
    }

    /// The incident was created with its first revision and last changed
    /// with its last.
    async fn date_incident(&self, tx: &mut PgConnection, incident_id: Uuid) -> Result<()> {
        sqlx::query("update incident set created_at = $2, updated_at = $3 where id = $1")
            .bind(incident_id)
            .bind(self.first)
            .bind(self.last)
            .execute(&mut *tx)
            .await?;
        Ok(())
    }
}

/// The postmortem as it was opened: a draft with its title, labels and
/// milestones, every section still to write.
#[tracing::instrument(skip_all)]
async fn insert_incident(tx: &mut PgConnection, postmortem: &Postmortem, created_by: Uuid) -> Result<Uuid> {
    let sql = "insert into incident (id, title, severity, status, services, tags, started_at, detected_at, \
               mitigated_at, resolved_at, created_by) \
               values ($1, $2, $3, 'draft', $4, $5, $6, $7, $8, $9, $10) returning id";
    let id = sqlx::query_scalar(sql)
        .bind(Uuid::now_v7())
        .bind(&postmortem.title)
        .bind(postmortem.severity.as_str())
        .bind(&postmortem.services)
        .bind(&postmortem.tags)
        .bind(postmortem.started_at)
        .bind(postmortem.detected_at)
        .bind(postmortem.mitigated_at)
        .bind(postmortem.resolved_at)
        .bind(created_by)
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
