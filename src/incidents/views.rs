//! Incident pages.

use askama::Template;
use time::OffsetDateTime;

use super::{
    db::Incident,
    domain::{Field, NewIncidentInput, Section, Severity},
};
use crate::web::{FormErrors, PageCtx, clock::Zone};

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
    /// The field's id on the page: unique even when the form is opened
    /// within the incident page, whose sections are named like its fields.
    pub fn id(&self) -> String {
        format!("field-{}", self.field.name())
    }

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
