//! Incident values parsed from user input.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{
    OffsetDateTime, PrimitiveDateTime, format_description::well_known::Rfc3339, macros::format_description,
};

/// How bad it was, SEV1 the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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

/// A moment typed in a form (`2026-11-22T14:02`, read as UTC) or sent to
/// the API (RFC 3339, with its offset).
pub fn parse_moment(raw: &str) -> Result<OffsetDateTime, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("Enter a date and time.".into());
    }
    if let Ok(at) = OffsetDateTime::parse(raw, &Rfc3339) {
        return Ok(at);
    }
    let minutes = format_description!("[year]-[month]-[day]T[hour]:[minute]");
    let seconds = format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]");
    PrimitiveDateTime::parse(raw, &minutes)
        .or_else(|_| PrimitiveDateTime::parse(raw, &seconds))
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| "Enter a date and time like 2026-11-22T14:02.".into())
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
    use time::macros::datetime;

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
    fn moments_come_from_forms_and_from_the_api() {
        assert_eq!(parse_moment("2026-11-22T14:02").unwrap(), datetime!(2026-11-22 14:02 UTC));
        assert_eq!(parse_moment("2026-11-22T14:02:30").unwrap(), datetime!(2026-11-22 14:02:30 UTC));
        assert_eq!(parse_moment("2026-11-22T15:02:00+01:00").unwrap(), datetime!(2026-11-22 14:02 UTC));
        for bad in ["", "yesterday", "2026-13-01T00:00", "14:02"] {
            assert!(parse_moment(bad).is_err(), "{bad:?}");
        }
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
    /// Parses every field, collecting a message for each one that is wrong.
    pub fn parse(&self) -> Result<NewIncidentFields, crate::web::FormErrors> {
        let mut errors = crate::web::FormErrors::default();
        let title = errors.check("title", Title::parse(&self.title));
        let severity = errors.check("severity", Severity::parse(&self.severity));
        let started_at = errors.check("started_at", parse_moment(&self.started_at));
        let services = errors.check("services", parse_labels(&self.services, "service"));
        let tags = errors.check("tags", parse_labels(&self.tags, "tag"));
        let summary = errors.check("summary", bounded_text(&self.summary, "summary"));
        match (title, severity, started_at, services, tags, summary) {
            (Some(title), Some(severity), Some(started_at), Some(services), Some(tags), Some(summary)) => {
                Ok(NewIncidentFields { title, severity, started_at, services, tags, summary })
            }
            _ => Err(errors),
        }
    }
}

/// Markdown fields are kept as typed, up to a generous size.
pub fn bounded_text(raw: &str, what: &str) -> Result<String, String> {
    const MAX_CHARS: usize = 100_000;
    if raw.chars().count() > MAX_CHARS {
        return Err(format!("The {what} has at most {MAX_CHARS} characters."));
    }
    Ok(raw.replace("\r\n", "\n"))
}
