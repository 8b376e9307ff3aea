//! The timeline's part of the incident page.

use askama::Template;
use sqlx::PgConnection;

use super::{
    db::{self, LinkedArtifact, TimelineEvent},
    domain::{EventInput, EventKind, HypothesisStatus},
    paste::RejectedLine,
};
use crate::{
    error::Result,
    incidents::{
        db::Incident,
        document::{Gap, PartCtx, PartView, Records, TocEntry},
        domain::Field,
        report::{ExportOptions, Report, ReportError, table},
    },
    state::AppState,
    web::{FormErrors, markdown},
};

pub const KEY: &str = "timeline";

pub struct Timeline;

/// The timeline as one reader sees it, with its entry forms.
pub struct TimelineView {
    pub ctx: PartCtx,
    pub events: Vec<TimelineEvent>,
    /// The incident's version, for the milestone offers' forms.
    pub version: i32,
    /// The add-an-event form, with what was typed and its errors.
    pub event_form: EventInput,
    pub event_errors: FormErrors,
    /// The quick-entry box: lines given back because they could not be read.
    pub paste: String,
    pub rejected: Vec<RejectedLine>,
    /// Milestones the pasted events could set.
    pub offers: Vec<MilestoneOffer>,
    /// The evidence taken at each event, named beside it.
    pub artifacts: Vec<LinkedArtifact>,
}

/// "Set Detected to 14:02": a milestone the incident lacks, offered from a
/// pasted alert, mitigation or resolution.
pub struct MilestoneOffer {
    pub field: &'static str,
    pub label: &'static str,
    /// The moment, as the form sends it (RFC 3339).
    pub at: String,
    /// The moment, in the reader's zone.
    pub shown: String,
    /// The event it comes from.
    pub from: String,
}

/// The milestones the incident lacks that the first of the pasted `events`
/// of each kind could set: an alert the detection, a mitigation the
/// mitigation, a resolution the resolution.
pub fn milestone_offers(incident: &Incident, events: &[TimelineEvent], ctx: &PartCtx) -> Vec<MilestoneOffer> {
    let wanted = [
        (EventKind::Alert, Field::DetectedAt, incident.detected_at),
        (EventKind::Mitigation, Field::MitigatedAt, incident.mitigated_at),
        (EventKind::Resolution, Field::ResolvedAt, incident.resolved_at),
    ];
    wanted
        .into_iter()
        .filter(|(_, _, set)| set.is_none())
        .filter_map(|(kind, field, _)| {
            let event =
                events.iter().filter(|event| event.kind == kind).min_by_key(|event| event.occurred_at)?;
            Some(MilestoneOffer {
                field: field.name(),
                label: field.label(),
                at: crate::web::clock::moment_text(&Some(event.occurred_at)),
                shown: ctx.zone.format(&event.occurred_at),
                from: event.body.chars().take(80).collect(),
            })
        })
        .collect()
}

impl TimelineView {
    /// Loads the incident's events; the forms start empty, a new event on
    /// the incident's day.
    pub async fn load(state: &AppState, incident: &Incident, ctx: PartCtx) -> Result<TimelineView> {
        let events = db::list_events(&state.pool, incident.id).await?;
        let artifacts = db::linked_to_events(&state.pool, incident.id).await?;
        let event_form = EventInput {
            kind: EventKind::Observation.to_string(),
            occurred_at: ctx.zone.input(&incident.started_at),
            ..Default::default()
        };
        Ok(TimelineView {
            ctx,
            events,
            version: incident.version,
            event_form,
            event_errors: FormErrors::default(),
            paste: String::new(),
            rejected: Vec::new(),
            offers: Vec::new(),
            artifacts,
        })
    }
}

/// An event as the page shows it, in the reader's zone.
struct EventLine<'a> {
    event: &'a TimelineEvent,
    when: String,
    day: String,
    /// Set on the first event of each day.
    new_day: bool,
    body_html: String,
    evidence_html: String,
    /// The artifacts taken at this event.
    artifacts: Vec<&'a LinkedArtifact>,
}

impl EventLine<'_> {
    /// The moment, machine-readable, for `<time datetime>`.
    fn iso(&self) -> String {
        crate::web::clock::moment_text(&Some(self.event.occurred_at))
    }
}

#[derive(Template)]
#[template(path = "timeline/section.html")]
struct TimelineHtml<'a> {
    ctx: &'a PartCtx,
    events: Vec<EventLine<'a>>,
    version: i32,
    event_form: &'a EventInput,
    event_errors: &'a FormErrors,
    paste: &'a str,
    rejected: &'a [RejectedLine],
    offers: &'a [MilestoneOffer],
}

impl TimelineHtml<'_> {
    fn statuses(&self) -> [HypothesisStatus; 3] {
        HypothesisStatus::ALL
    }

    fn kinds(&self) -> [EventKind; 8] {
        EventKind::ALL
    }
}

impl PartView for TimelineView {
    fn key(&self) -> &'static str {
        KEY
    }

    fn toc(&self) -> Option<TocEntry> {
        let open = self.events.iter().filter(|e| e.hypothesis_status == Some(HypothesisStatus::Open)).count();
        let mut count = match self.events.len() {
            1 => "1 event".to_owned(),
            n => format!("{n} events"),
        };
        match open {
            0 => {}
            1 => count.push_str(", 1 open hypothesis"),
            n => count.push_str(&format!(", {n} open hypotheses")),
        }
        Some(TocEntry { anchor: KEY, title: "Timeline", count })
    }

    fn render(&self) -> Result<String> {
        let zone = &self.ctx.zone;
        let mut previous_day = String::new();
        let events = self
            .events
            .iter()
            .map(|event| {
                let day = zone.date_of(&event.occurred_at).to_string();
                let new_day = day != previous_day;
                previous_day.clone_from(&day);
                EventLine {
                    when: zone.time_of_day(&event.occurred_at),
                    day,
                    new_day,
                    body_html: markdown::render(&event.body),
                    evidence_html: markdown::render(&event.evidence),
                    artifacts: self.artifacts.iter().filter(|a| a.timeline_event_id == event.id).collect(),
                    event,
                }
            })
            .collect();
        let html = TimelineHtml {
            ctx: &self.ctx,
            events,
            version: self.version,
            event_form: &self.event_form,
            event_errors: &self.event_errors,
            paste: &self.paste,
            rejected: &self.rejected,
            offers: &self.offers,
        };
        Ok(html.render()?)
    }
}

impl Records for Timeline {
    const KEY: &'static str = KEY;
    const TITLE: &'static str = "Timeline";
    const JSON_NAME: &'static str = "timeline";

    type Record = TimelineEvent;

    async fn list(db: &mut PgConnection, incident_id: uuid::Uuid) -> Result<Vec<TimelineEvent>> {
        db::list_events(db, incident_id).await
    }

    fn history_text(record: &TimelineEvent) -> String {
        record.history_text()
    }

    fn gaps(records: &[TimelineEvent]) -> Vec<Gap> {
        let open: Vec<&TimelineEvent> =
            records.iter().filter(|event| event.hypothesis_status == Some(HypothesisStatus::Open)).collect();
        let text = match open.as_slice() {
            [] => return Vec::new(),
            [one] => format!("A hypothesis is still open: “{}”", crate::web::path::shorten(&one.body)),
            many => format!("{} hypotheses are still open", many.len()),
        };
        vec![Gap { key: "hypotheses", anchor: KEY, text }]
    }

    /// A table, one row per event; the event's Markdown in its cell.
    fn report(_incident: &Incident, records: &[TimelineEvent], _options: &ExportOptions) -> String {
        let mut out = String::from("## Timeline\n\n");
        if records.is_empty() {
            out.push_str("_No events._\n");
            return out;
        }
        let rows = records.iter().map(|event| {
            let kind = match event.hypothesis_status {
                Some(status) => format!("{} ({status})", event.kind),
                None => event.kind.to_string(),
            };
            let at = crate::web::clock::moment_text(&Some(event.occurred_at));
            vec![at, kind, event.body.clone(), event.evidence.clone()]
        });
        out.push_str(&table(&["Time (UTC)", "Kind", "Event", "Evidence"], rows));
        out
    }

    async fn import(
        db: &mut PgConnection,
        incident: Option<&Incident>,
        report: &Report,
        author: uuid::Uuid,
    ) -> Result<()> {
        for (line, cells) in report.table("Timeline", &["Time (UTC)", "Kind", "Event", "Evidence"])? {
            let (kind, status) = match cells[1].split_once(" (") {
                Some((kind, status)) => (kind.to_owned(), status.trim_end_matches(')').to_owned()),
                None => (cells[1].clone(), String::new()),
            };
            let input = EventInput {
                occurred_at: cells[0].clone(),
                kind,
                body: cells[2].clone(),
                hypothesis_status: status,
                evidence: cells[3].clone(),
            };
            let fields = input.parse(&crate::web::clock::parse_moment).map_err(|errors| {
                ReportError::new(line, format!("a timeline event: {}", errors.summary()))
            })?;
            if let Some(incident) = incident {
                db::insert_event(&mut *db, incident.id, &fields, author).await?;
            }
        }
        Ok(())
    }

    async fn view(state: &AppState, incident: &Incident, ctx: PartCtx) -> Result<Box<dyn PartView>> {
        Ok(Box::new(TimelineView::load(state, incident, ctx).await?))
    }
}
