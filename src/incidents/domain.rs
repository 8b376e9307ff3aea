//! Incident values parsed from user input.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::figures::{figures_text, parse_figures};
use crate::web::clock::{moment_text, parse_moment};
use time::{OffsetDateTime, macros::format_description};

/// How bad it was, SEV1 the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema)]
pub enum Severity {
    #[serde(rename = "SEV1")]
    Sev1,
    #[serde(rename = "SEV2")]
    Sev2,
    #[serde(rename = "SEV3")]
    Sev3,
    #[serde(rename = "SEV4")]
    Sev4,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Severity::Sev1, Severity::Sev2, Severity::Sev3, Severity::Sev4];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Sev1 => "SEV1",
            Severity::Sev2 => "SEV2",
            Severity::Sev3 => "SEV3",
            Severity::Sev4 => "SEV4",
        }
    }

    pub fn parse(raw: &str) -> Result<Severity, String> {
        match raw.trim().to_ascii_uppercase().as_str() {
            "SEV1" | "1" => Ok(Severity::Sev1),
            "SEV2" | "2" => Ok(Severity::Sev2),
            "SEV3" | "3" => Ok(Severity::Sev3),
            "SEV4" | "4" => Ok(Severity::Sev4),
            _ => Err("Choose a severity from SEV1 (worst) to SEV4.".into()),
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where the postmortem is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    InReview,
    Published,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::InReview => "in_review",
            Status::Published => "published",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::InReview => "in review",
            Status::Published => "published",
        }
    }

    pub fn parse(raw: &str) -> Result<Status, String> {
        match raw.trim() {
            "draft" => Ok(Status::Draft),
            "in_review" => Ok(Status::InReview),
            "published" => Ok(Status::Published),
            _ => Err("The status is draft, in_review or published.".into()),
        }
    }
}

/// A short title, like "Checkout 5xx: goroutine leak in the payment client".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Title(String);

impl Title {
    pub fn parse(raw: &str) -> Result<Title, String> {
        let title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
        if title.is_empty() {
            return Err("Give the incident a title.".into());
        }
        if title.chars().count() > 200 {
            return Err("A title has at most 200 characters.".into());
        }
        Ok(Title(title))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A list of services or tags as typed: comma separated, trimmed,
/// lower-cased, without duplicates.
pub fn parse_labels(raw: &str, what: &str) -> Result<Vec<String>, String> {
    let mut labels: Vec<String> = Vec::new();
    for label in raw.split(',').map(|l| l.trim().to_lowercase()).filter(|l| !l.is_empty()) {
        if label.chars().count() > 60 || label.chars().any(char::is_control) {
            return Err(format!("Each {what} name has at most 60 printable characters."));
        }
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    if labels.len() > 30 {
        return Err(format!("At most 30 {what}s."));
    }
    Ok(labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severities_parse_in_several_spellings() {
        assert_eq!(Severity::parse("sev2").unwrap(), Severity::Sev2);
        assert_eq!(Severity::parse(" 1 ").unwrap(), Severity::Sev1);
        assert!(Severity::parse("SEV5").is_err());
        assert!(Severity::Sev1 < Severity::Sev4);
    }

    #[test]
    fn titles_are_squeezed_and_bounded() {
        assert_eq!(Title::parse("  Checkout   5xx \n spike ").unwrap().as_str(), "Checkout 5xx spike");
        assert!(Title::parse("   ").is_err());
        assert!(Title::parse(&"x".repeat(201)).is_err());
    }

    #[test]
    fn labels_are_normalised() {
        assert_eq!(
            parse_labels(" Checkout, payments ,checkout,, ", "service").unwrap(),
            ["checkout", "payments"]
        );
        assert!(parse_labels(&"x".repeat(61), "tag").is_err());
    }
}

/// What the new-incident form (or API call) asks for, as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct NewIncidentInput {
    pub title: String,
    pub severity: String,
    pub started_at: String,
    pub services: String,
    pub tags: String,
    pub summary: String,
}

/// A new incident that parsed.
pub struct NewIncidentFields {
    pub title: Title,
    pub severity: Severity,
    pub started_at: OffsetDateTime,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    pub summary: String,
}

impl NewIncidentInput {
    /// Parses every field, collecting a message for each one that is wrong;
    /// `read_time` reads the start (in the writer's zone, for forms).
    pub fn parse(
        &self,
        read_time: &dyn Fn(&str) -> Result<OffsetDateTime, String>,
    ) -> Result<NewIncidentFields, crate::web::FormErrors> {
        let mut errors = crate::web::FormErrors::default();
        let title = errors.check("title", Title::parse(&self.title));
        let severity = errors.check("severity", Severity::parse(&self.severity));
        let started_at = errors.check("started_at", read_time(&self.started_at));
        let services = errors.check("services", parse_labels(&self.services, "service"));
        let tags = errors.check("tags", parse_labels(&self.tags, "tag"));
        let summary = errors.check("summary", crate::web::markdown::accept(&self.summary, "summary"));
        match (title, severity, started_at, services, tags, summary) {
            (Some(title), Some(severity), Some(started_at), Some(services), Some(tags), Some(summary)) => {
                Ok(NewIncidentFields { title, severity, started_at, services, tags, summary })
            }
            _ => Err(errors),
        }
    }
}

/// An editable field of an incident, with how it is shown and prompted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    Title,
    Severity,
    Status,
    Services,
    Tags,
    StartedAt,
    DetectedAt,
    MitigatedAt,
    ResolvedAt,
    Summary,
    Impact,
    ImpactFigures,
    Trigger,
    Detection,
    Resolution,
    WentWell,
    WentBadly,
    GotLucky,
}

impl Field {
    pub const ALL: [Field; 18] = [
        Field::Title,
        Field::Severity,
        Field::Status,
        Field::Services,
        Field::Tags,
        Field::StartedAt,
        Field::DetectedAt,
        Field::MitigatedAt,
        Field::ResolvedAt,
        Field::Summary,
        Field::Impact,
        Field::ImpactFigures,
        Field::Trigger,
        Field::Detection,
        Field::Resolution,
        Field::WentWell,
        Field::WentBadly,
        Field::GotLucky,
    ];

    /// The name in forms, the API and the history.
    pub fn name(self) -> &'static str {
        match self {
            Field::Title => "title",
            Field::Severity => "severity",
            Field::Status => "status",
            Field::Services => "services",
            Field::Tags => "tags",
            Field::StartedAt => "started_at",
            Field::DetectedAt => "detected_at",
            Field::MitigatedAt => "mitigated_at",
            Field::ResolvedAt => "resolved_at",
            Field::Summary => "summary",
            Field::Impact => "impact",
            Field::ImpactFigures => "impact_figures",
            Field::Trigger => "trigger",
            Field::Detection => "detection",
            Field::Resolution => "resolution",
            Field::WentWell => "went_well",
            Field::WentBadly => "went_badly",
            Field::GotLucky => "got_lucky",
        }
    }

    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|field| field.name() == name)
    }

    pub fn label(self) -> &'static str {
        match self {
            Field::Title => "Title",
            Field::Severity => "Severity",
            Field::Status => "Status",
            Field::Services => "Services",
            Field::Tags => "Tags",
            Field::StartedAt => "Started",
            Field::DetectedAt => "Detected",
            Field::MitigatedAt => "Mitigated",
            Field::ResolvedAt => "Resolved",
            Field::Summary => "Summary",
            Field::Impact => "Impact",
            Field::ImpactFigures => "Figures",
            Field::Trigger => "Trigger",
            Field::Detection => "Detection",
            Field::Resolution => "Resolution",
            Field::WentWell => "What went well",
            Field::WentBadly => "What went badly",
            Field::GotLucky => "Where we got lucky",
        }
    }

    /// One line of blameless guidance, shown while the section is empty.
    pub fn guidance(self) -> &'static str {
        match self {
            Field::Summary => {
                "In two or three sentences: what users experienced, for how long, and what ended it."
            }
            Field::Impact => {
                "Who and what was affected, with figures: requests failed, latency, QPS before and after, duration."
            }
            Field::ImpactFigures => {
                "One per line: what, before -> after, for how long, like QPS 12,800 -> 3,000 for 47 min."
            }
            Field::Trigger => {
                "The change or event that set the failure off; describe the system, not who touched it."
            }
            Field::Detection => {
                "How we found out: which signal fired, how long after the start, and what could have shown it sooner."
            }
            Field::Resolution => "What restored service and what made the fix stick.",
            Field::WentWell => "What helped: tools, signals, practices and people working well together.",
            Field::WentBadly => "Where the system or the process made the response harder.",
            Field::GotLucky => "What limited the damage by chance rather than by design.",
            Field::Services => "Comma separated, such as checkout, payments.",
            Field::Tags => "Comma separated, such as goroutine-leak, timeouts.",
            _ => "",
        }
    }

    pub fn is_markdown(self) -> bool {
        matches!(
            self,
            Field::Summary
                | Field::Impact
                | Field::Trigger
                | Field::Detection
                | Field::Resolution
                | Field::WentWell
                | Field::WentBadly
                | Field::GotLucky
        )
    }

    /// Typed in a box of several lines.
    pub fn is_multiline(self) -> bool {
        self.is_markdown() || self == Field::ImpactFigures
    }

    pub fn is_moment(self) -> bool {
        matches!(self, Field::StartedAt | Field::DetectedAt | Field::MitigatedAt | Field::ResolvedAt)
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Status {
    /// The workflow: draft -> in_review -> published, one step at a time,
    /// either way.
    pub fn can_move_to(self, next: Status) -> bool {
        matches!(
            (self, next),
            (Status::Draft, Status::InReview)
                | (Status::InReview, Status::Draft)
                | (Status::InReview, Status::Published)
                | (Status::Published, Status::InReview)
        )
    }
}

/// An optional moment: empty clears it.
pub fn parse_optional_moment(raw: &str) -> Result<Option<OffsetDateTime>, String> {
    if raw.trim().is_empty() { Ok(None) } else { parse_moment(raw).map(Some) }
}

/// A moment as a form's `datetime-local` value wants it (UTC).
pub fn moment_input(at: &Option<OffsetDateTime>) -> String {
    let format = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    at.and_then(|at| at.to_offset(time::UtcOffset::UTC).format(&format).ok()).unwrap_or_default()
}

impl super::db::Incident {
    /// A field's value as text: what forms show and the history records.
    pub fn text_of(&self, field: Field) -> String {
        match field {
            Field::Title => self.title.clone(),
            Field::Severity => self.severity.to_string(),
            Field::Status => self.status.as_str().to_owned(),
            Field::Services => self.services.join(", "),
            Field::Tags => self.tags.join(", "),
            Field::StartedAt => moment_text(&Some(self.started_at)),
            Field::DetectedAt => moment_text(&self.detected_at),
            Field::MitigatedAt => moment_text(&self.mitigated_at),
            Field::ResolvedAt => moment_text(&self.resolved_at),
            Field::Summary => self.summary.clone(),
            Field::Impact => self.impact.clone(),
            Field::ImpactFigures => figures_text(&self.impact_figures),
            Field::Trigger => self.trigger.clone(),
            Field::Detection => self.detection.clone(),
            Field::Resolution => self.resolution.clone(),
            Field::WentWell => self.went_well.clone(),
            Field::WentBadly => self.went_badly.clone(),
            Field::GotLucky => self.got_lucky.clone(),
        }
    }

    /// A field's value as a form input shows it.
    pub fn input_of(&self, field: Field) -> String {
        match field {
            Field::StartedAt => moment_input(&Some(self.started_at)),
            Field::DetectedAt => moment_input(&self.detected_at),
            Field::MitigatedAt => moment_input(&self.mitigated_at),
            Field::ResolvedAt => moment_input(&self.resolved_at),
            other => self.text_of(other),
        }
    }

    /// Sets a field from what was typed (or sent to the API).
    pub fn set(&mut self, field: Field, raw: &str) -> Result<(), String> {
        match field {
            Field::Title => self.title = Title::parse(raw)?.as_str().to_owned(),
            Field::Severity => self.severity = Severity::parse(raw)?,
            Field::Status => {
                let next = Status::parse(raw)?;
                if next != self.status && !self.status.can_move_to(next) {
                    return Err(format!(
                        "A {} postmortem cannot become {} directly: it goes draft, in review, published.",
                        self.status.label(),
                        next.label()
                    ));
                }
                self.status = next;
            }
            Field::Services => self.services = parse_labels(raw, "service")?,
            Field::Tags => self.tags = parse_labels(raw, "tag")?,
            Field::StartedAt => self.started_at = parse_moment(raw)?,
            Field::DetectedAt => self.detected_at = parse_optional_moment(raw)?,
            Field::MitigatedAt => self.mitigated_at = parse_optional_moment(raw)?,
            Field::ResolvedAt => self.resolved_at = parse_optional_moment(raw)?,
            Field::Summary => self.summary = crate::web::markdown::accept(raw, "summary")?,
            Field::Impact => self.impact = crate::web::markdown::accept(raw, "impact")?,
            Field::ImpactFigures => self.impact_figures = parse_figures(raw)?,
            Field::Trigger => self.trigger = crate::web::markdown::accept(raw, "trigger")?,
            Field::Detection => self.detection = crate::web::markdown::accept(raw, "detection")?,
            Field::Resolution => self.resolution = crate::web::markdown::accept(raw, "resolution")?,
            Field::WentWell => self.went_well = crate::web::markdown::accept(raw, "section")?,
            Field::WentBadly => self.went_badly = crate::web::markdown::accept(raw, "section")?,
            Field::GotLucky => self.got_lucky = crate::web::markdown::accept(raw, "section")?,
        }
        Ok(())
    }

    /// Milestones happen in order: started, detected, mitigated, resolved.
    pub fn check_milestones(&self) -> Result<(), (Field, String)> {
        milestones_in_order(self.started_at, [self.detected_at, self.mitigated_at, self.resolved_at])
    }
}

/// Whether the detected, mitigated and resolved moments (each optional)
/// come in that order after the start; the first out of order, if not.
pub fn milestones_in_order(
    started_at: OffsetDateTime,
    [detected, mitigated, resolved]: [Option<OffsetDateTime>; 3],
) -> Result<(), (Field, String)> {
    let milestones =
        [(Field::DetectedAt, detected), (Field::MitigatedAt, mitigated), (Field::ResolvedAt, resolved)];
    let mut previous = (Field::StartedAt, started_at);
    for (field, at) in milestones {
        let Some(at) = at else { continue };
        if at < previous.1 {
            let message =
                format!("{} cannot be before {}.", field.label(), previous.0.label().to_lowercase());
            return Err((field, message));
        }
        previous = (field, at);
    }
    Ok(())
}

/// A part of the postmortem edited as one form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Details,
    Milestones,
    Summary,
    Impact,
    Trigger,
    Detection,
    Resolution,
    Lessons,
}

impl Section {
    pub fn parse(name: &str) -> Option<Section> {
        Some(match name {
            "details" => Section::Details,
            "milestones" => Section::Milestones,
            "summary" => Section::Summary,
            "impact" => Section::Impact,
            "trigger" => Section::Trigger,
            "detection" => Section::Detection,
            "resolution" => Section::Resolution,
            "lessons" => Section::Lessons,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Section::Details => "details",
            Section::Milestones => "milestones",
            Section::Summary => "summary",
            Section::Impact => "impact",
            Section::Trigger => "trigger",
            Section::Detection => "detection",
            Section::Resolution => "resolution",
            Section::Lessons => "lessons",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Section::Details => "Title, severity, services and tags",
            Section::Milestones => "Milestones",
            Section::Lessons => "Lessons",
            other => other.fields()[0].label(),
        }
    }

    pub fn fields(self) -> &'static [Field] {
        match self {
            Section::Details => &[Field::Title, Field::Severity, Field::Services, Field::Tags],
            Section::Milestones => {
                &[Field::StartedAt, Field::DetectedAt, Field::MitigatedAt, Field::ResolvedAt]
            }
            Section::Summary => &[Field::Summary],
            Section::Impact => &[Field::Impact, Field::ImpactFigures],
            Section::Trigger => &[Field::Trigger],
            Section::Detection => &[Field::Detection],
            Section::Resolution => &[Field::Resolution],
            Section::Lessons => &[Field::WentWell, Field::WentBadly, Field::GotLucky],
        }
    }
}
