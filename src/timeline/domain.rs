//! Timeline values: what kind of moment an event is, and a hypothesis's state.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of moment a timeline event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Observation,
    Alert,
    Decision,
    Hypothesis,
    Action,
    Mitigation,
    Communication,
    Resolution,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::Observation,
        EventKind::Alert,
        EventKind::Decision,
        EventKind::Hypothesis,
        EventKind::Action,
        EventKind::Mitigation,
        EventKind::Communication,
        EventKind::Resolution,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Observation => "observation",
            EventKind::Alert => "alert",
            EventKind::Decision => "decision",
            EventKind::Hypothesis => "hypothesis",
            EventKind::Action => "action",
            EventKind::Mitigation => "mitigation",
            EventKind::Communication => "communication",
            EventKind::Resolution => "resolution",
        }
    }

    pub fn parse(raw: &str) -> Result<EventKind, String> {
        let raw = raw.trim().to_ascii_lowercase();
        EventKind::ALL
            .into_iter()
            .find(|kind| kind.as_str() == raw)
            .ok_or_else(|| "Choose a kind: observation, alert, decision, hypothesis, action, mitigation, communication or resolution.".into())
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a hypothesis stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HypothesisStatus {
    Open,
    Confirmed,
    Refuted,
}

impl HypothesisStatus {
    pub const ALL: [HypothesisStatus; 3] =
        [HypothesisStatus::Open, HypothesisStatus::Confirmed, HypothesisStatus::Refuted];

    pub fn as_str(self) -> &'static str {
        match self {
            HypothesisStatus::Open => "open",
            HypothesisStatus::Confirmed => "confirmed",
            HypothesisStatus::Refuted => "refuted",
        }
    }

    pub fn parse(raw: &str) -> Result<HypothesisStatus, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(HypothesisStatus::Open),
            "confirmed" => Ok(HypothesisStatus::Confirmed),
            "refuted" => Ok(HypothesisStatus::Refuted),
            _ => Err("A hypothesis is open, confirmed or refuted.".into()),
        }
    }
}

impl fmt::Display for HypothesisStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event as typed in a form or sent to the API.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(default)]
pub struct EventInput {
    pub occurred_at: String,
    pub kind: String,
    pub body: String,
    pub hypothesis_status: String,
    pub evidence: String,
}

/// An event that parsed.
#[derive(Debug, Clone)]
pub struct EventFields {
    pub occurred_at: time::OffsetDateTime,
    pub kind: EventKind,
    pub body: String,
    /// Set exactly when the kind is a hypothesis.
    pub hypothesis_status: Option<HypothesisStatus>,
    pub evidence: String,
}

impl EventInput {
    /// Parses every field; `read_time` reads the moment (in the writer's
    /// zone for forms, RFC 3339 for the API).
    pub fn parse(
        &self,
        read_time: &dyn Fn(&str) -> Result<time::OffsetDateTime, String>,
    ) -> Result<EventFields, crate::web::FormErrors> {
        let mut errors = crate::web::FormErrors::default();
        let occurred_at = errors.check("occurred_at", read_time(&self.occurred_at));
        let kind = errors.check("kind", EventKind::parse(&self.kind));
        let body = errors.check("body", parse_body(&self.body));
        let status = match kind {
            Some(EventKind::Hypothesis) if self.hypothesis_status.trim().is_empty() => {
                Some(Some(HypothesisStatus::Open))
            }
            Some(EventKind::Hypothesis) => {
                errors.check("hypothesis_status", HypothesisStatus::parse(&self.hypothesis_status)).map(Some)
            }
            _ => Some(None),
        };
        let evidence = errors.check("evidence", crate::web::markdown::accept(&self.evidence, "evidence"));
        let (Some(occurred_at), Some(kind), Some(body), Some(hypothesis_status), Some(evidence)) =
            (occurred_at, kind, body, status, evidence)
        else {
            return Err(errors);
        };
        EventFields::new(occurred_at, kind, &body, hypothesis_status, &evidence).map_err(
            |(field, message)| {
                errors.add(field, message);
                errors
            },
        )
    }
}

impl EventFields {
    /// The one way to make an event's fields, typed, pasted or sent to the
    /// API alike: the body is required and bounded like every Markdown
    /// text, the evidence kept only for a hypothesis. An error names its
    /// field.
    pub fn new(
        occurred_at: time::OffsetDateTime,
        kind: EventKind,
        body: &str,
        hypothesis_status: Option<HypothesisStatus>,
        evidence: &str,
    ) -> Result<EventFields, (&'static str, String)> {
        let body = parse_body(body).map_err(|message| ("body", message))?;
        let hypothesis_status = match (kind, hypothesis_status) {
            (EventKind::Hypothesis, status) => Some(status.unwrap_or(HypothesisStatus::Open)),
            _ => None,
        };
        let evidence = if hypothesis_status.is_some() {
            crate::web::markdown::accept(evidence.trim(), "evidence")
                .map_err(|message| ("evidence", message))?
        } else {
            String::new()
        };
        Ok(EventFields { occurred_at, kind, body, hypothesis_status, evidence })
    }
}

fn parse_body(raw: &str) -> Result<String, String> {
    let body = raw.trim();
    if body.is_empty() {
        return Err("Say what happened.".into());
    }
    crate::web::markdown::accept(body, "event's text")
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    fn read(raw: &str) -> Result<time::OffsetDateTime, String> {
        crate::web::clock::parse_moment(raw)
    }

    #[test]
    fn a_hypothesis_starts_open_and_keeps_its_evidence() {
        let input = EventInput {
            occurred_at: "2026-11-20T14:11".into(),
            kind: "hypothesis".into(),
            body: " connection pool exhausted ".into(),
            evidence: "pool wait time 2 s in the dashboard".into(),
            ..Default::default()
        };
        let fields = input.parse(&read).unwrap();
        assert_eq!(fields.occurred_at, datetime!(2026-11-20 14:11 UTC));
        assert_eq!(fields.hypothesis_status, Some(HypothesisStatus::Open));
        assert_eq!(fields.body, "connection pool exhausted");
        assert_eq!(fields.evidence, "pool wait time 2 s in the dashboard");
    }

    #[test]
    fn other_kinds_carry_no_hypothesis_state() {
        let input = EventInput {
            occurred_at: "2026-11-20T14:02".into(),
            kind: "alert".into(),
            body: "5xx > 5%".into(),
            hypothesis_status: "confirmed".into(),
            evidence: "ignored".into(),
        };
        let fields = input.parse(&read).unwrap();
        assert_eq!((fields.hypothesis_status, fields.evidence.as_str()), (None, ""));
    }

    #[test]
    fn every_bad_field_is_named() {
        let input = EventInput { kind: "rumour".into(), ..Default::default() };
        let errors = input.parse(&read).unwrap_err();
        for field in ["occurred_at", "kind", "body"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
    }
}
