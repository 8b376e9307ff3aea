//! Incident pages.

use askama::Template;
use time::OffsetDateTime;

use super::{
    db::{Incident, IncidentListing},
    domain::{Field, NewIncidentInput, Section, Severity, Status},
};
use crate::{
    action_items::{db::ActionItem, domain::ActionItemInput, handlers::Choices},
    auth::db::User,
    causes::{
        db::Cause,
        domain::{CauseInput, CauseKind},
    },
    history::db::Revision,
    timeline::{
        db::TimelineEvent,
        domain::{EventInput, EventKind, HypothesisStatus},
        paste::RejectedLine,
    },
    web::{FormErrors, PageCtx, clock::Zone, markdown},
};

#[derive(Template)]
#[template(path = "incidents/list.html")]
pub struct IncidentListPage {
    pub ctx: PageCtx,
    pub incidents: Vec<IncidentListing>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

#[derive(Template)]
#[template(path = "incidents/new.html")]
pub struct NewIncidentPage {
    pub ctx: PageCtx,
    pub form: NewIncidentInput,
    pub errors: FormErrors,
    pub severities: [Severity; 4],
    pub known: KnownLabels,
}

/// Services and tags already in use, offered to pick from.
#[derive(Debug, Default, Clone)]
pub struct KnownLabels {
    pub services: Vec<String>,
    pub tags: Vec<String>,
}

impl KnownLabels {
    pub fn of(&self, field: &str) -> &[String] {
        match field {
            "services" => &self.services,
            "tags" => &self.tags,
            _ => &[],
        }
    }
}

impl NewIncidentPage {
    pub fn selected(&self, severity: &Severity) -> bool {
        Severity::parse(&self.form.severity).ok() == Some(*severity)
    }
}

/// The postmortem as one document.
#[derive(Template)]
#[template(path = "incidents/show.html")]
pub struct IncidentPage {
    pub ctx: PageCtx,
    pub incident: Incident,
    /// The Markdown sections, rendered and sanitised, in reading order.
    pub sections: Vec<RenderedSection>,
    pub lessons: Vec<RenderedSection>,
    pub durations: Vec<(&'static str, String)>,
    /// The moves the workflow allows from here: (status, button label).
    pub moves: Vec<(Status, &'static str)>,
    pub events: Vec<EventView>,
    /// The add-an-event form, with what was typed and its errors.
    pub event_form: EventInput,
    pub event_errors: FormErrors,
    /// The quick-entry box: lines given back because they could not be read.
    pub paste: String,
    pub rejected: Vec<RejectedLine>,
    pub kinds: [EventKind; 8],
    pub causes: Vec<CauseView>,
    pub cause_form: CauseInput,
    pub cause_errors: FormErrors,
    pub cause_kinds: [CauseKind; 3],
    pub categories: Vec<String>,
    /// Where the add-a-cause form posts, and (when editing) its version.
    pub cause_action: String,
    pub cause_version: Option<i32>,
    pub items: Vec<ActionItem>,
    pub item_form: ActionItemInput,
    pub item_errors: FormErrors,
    pub item_action: String,
    pub item_version: Option<i32>,
    pub owners: Vec<User>,
    pub choices: Choices,
    /// Today in the reader's zone, to mark overdue items.
    pub today: time::Date,
    /// What changed after publication, newest first: shown on the page.
    pub after_publication: Vec<Revision>,
}

/// A cause with its description rendered.
pub struct CauseView {
    pub cause: Cause,
    pub description_html: String,
}

/// A timeline event as the page shows it, in the reader's zone.
pub struct EventView {
    pub event: TimelineEvent,
    pub when: String,
    pub day: String,
    /// Set on the first event of each day.
    pub new_day: bool,
    pub body_html: String,
    pub evidence_html: String,
}

pub struct RenderedSection {
    pub section: &'static str,
    pub field: Field,
    pub html: String,
}

impl IncidentPage {
    pub fn new(
        ctx: PageCtx,
        incident: Incident,
        events: Vec<TimelineEvent>,
        causes: Vec<Cause>,
        categories: Vec<String>,
        items: Vec<ActionItem>,
        owners: Vec<User>,
    ) -> IncidentPage {
        let item_action = format!("/incidents/{}/action_items", incident.reference);
        let today = ctx.zone.date_of(&OffsetDateTime::now_utc());
        let causes = causes
            .into_iter()
            .map(|cause| CauseView { description_html: markdown::render(&cause.description), cause })
            .collect();
        let cause_action = format!("/incidents/{}/causes", incident.reference);
        let mut previous_day = String::new();
        let events = events
            .into_iter()
            .map(|event| {
                let day = ctx.zone.date_of(&event.occurred_at).to_string();
                let new_day = day != previous_day;
                previous_day.clone_from(&day);
                EventView {
                    when: ctx.zone.time_of_day(&event.occurred_at),
                    day,
                    new_day,
                    body_html: markdown::render(&event.body),
                    evidence_html: markdown::render(&event.evidence),
                    event,
                }
            })
            .collect();
        let rendered = |section: Section, field: Field| RenderedSection {
            section: section.name(),
            field,
            html: markdown::render(&incident.text_of(field)),
        };
        let sections =
            [Section::Summary, Section::Impact, Section::Trigger, Section::Detection, Section::Resolution]
                .into_iter()
                .map(|section| rendered(section, section.fields()[0]))
                .collect();
        let lessons =
            Section::Lessons.fields().iter().map(|field| rendered(Section::Lessons, *field)).collect();
        let durations = [
            ("Time to detect", &incident.detected_at),
            ("Time to mitigate", &incident.mitigated_at),
            ("Time to resolve", &incident.resolved_at),
        ]
        .into_iter()
        .map(|(label, at)| (label, span(&incident.started_at, at)))
        .filter(|(_, span)| !span.is_empty())
        .collect();
        let moves = match incident.status {
            Status::Draft => vec![(Status::InReview, "Send for review")],
            Status::InReview => vec![(Status::Published, "Publish"), (Status::Draft, "Back to draft")],
            Status::Published => vec![(Status::InReview, "Reopen for review")],
        };
        IncidentPage {
            ctx,
            incident,
            sections,
            lessons,
            durations,
            moves,
            events,
            event_form: EventInput { kind: "observation".into(), ..Default::default() },
            event_errors: FormErrors::default(),
            paste: String::new(),
            rejected: Vec::new(),
            kinds: EventKind::ALL,
            causes,
            cause_form: CauseInput { kind: "root".into(), ..Default::default() },
            cause_errors: FormErrors::default(),
            cause_kinds: CauseKind::ALL,
            categories,
            cause_action,
            cause_version: None,
            items,
            item_form: ActionItemInput {
                kind: "prevent".into(),
                priority: "P2".into(),
                status: "open".into(),
                ..Default::default()
            },
            item_errors: FormErrors::default(),
            item_action,
            item_version: None,
            owners,
            choices: Choices,
            today,
            after_publication: Vec::new(),
        }
    }
}

impl EventView {
    /// The moment, machine-readable, for `<time datetime>`.
    pub fn iso(&self) -> String {
        crate::web::clock::moment_text(&Some(self.event.occurred_at))
    }
}

impl IncidentPage {
    /// `2026-11-20 15:02 CET` for a revision, in the reader's zone.
    pub fn revision_time(&self, revision: &Revision) -> String {
        self.ctx.time(&revision.created_at)
    }

    pub fn statuses(&self) -> [HypothesisStatus; 3] {
        HypothesisStatus::ALL
    }
}

/// One field of a section's edit form.
#[derive(Debug, Clone)]
pub struct FieldInput {
    pub field: Field,
    pub value: String,
    pub error: Option<String>,
    /// On a conflict: the newer saved value, when it differs from the user's.
    pub theirs: Option<String>,
}

impl FieldInput {
    /// The field's value as the form shows it, moments in the reader's zone.
    pub fn of(incident: &Incident, field: Field, zone: &Zone) -> FieldInput {
        FieldInput { field, value: input_in_zone(incident, field, zone), error: None, theirs: None }
    }
}

/// A field's input value; moments as `datetime-local` values in `zone`.
pub fn input_in_zone(incident: &Incident, field: Field, zone: &Zone) -> String {
    let moment = match field {
        Field::StartedAt => Some(incident.started_at),
        Field::DetectedAt => incident.detected_at,
        Field::MitigatedAt => incident.mitigated_at,
        Field::ResolvedAt => incident.resolved_at,
        other => return incident.input_of(other),
    };
    moment.map(|at| zone.input(&at)).unwrap_or_default()
}

/// Someone saved while the user was editing.
pub struct Conflict {
    pub by: String,
    pub version: i32,
}

#[derive(Template)]
#[template(path = "incidents/edit_section.html")]
pub struct EditSectionPage {
    pub ctx: PageCtx,
    pub incident: Incident,
    pub section: Section,
    pub fields: Vec<FieldInput>,
    pub version: i32,
    pub conflict: Option<Conflict>,
    pub known: KnownLabels,
}

impl EditSectionPage {
    pub fn severities(&self) -> [Severity; 4] {
        Severity::ALL
    }
}

/// `1 h 05 min` between two moments, or nothing if either is missing.
pub fn span(from: &OffsetDateTime, to: &Option<OffsetDateTime>) -> String {
    let Some(to) = to else { return String::new() };
    let minutes = (*to - *from).whole_minutes();
    if minutes < 0 {
        return String::new();
    }
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, m) if h < 48 => format!("{h} h {m:02} min"),
        (h, _) => format!("{} d {} h", h / 24, h % 24),
    }
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::span;

    #[test]
    fn durations_read_naturally() {
        let start = datetime!(2026-11-20 14:00 UTC);
        assert_eq!(span(&start, &Some(datetime!(2026-11-20 14:07 UTC))), "7 min");
        assert_eq!(span(&start, &Some(datetime!(2026-11-20 15:05 UTC))), "1 h 05 min");
        assert_eq!(span(&start, &Some(datetime!(2026-11-23 16:00 UTC))), "3 d 2 h");
        assert_eq!(span(&start, &None), "");
    }
}
