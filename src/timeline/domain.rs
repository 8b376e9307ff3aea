//! Timeline values: what kind of moment an event is, and a hypothesis's state.

use std::fmt;

use serde::{Deserialize, Serialize};

/// What kind of moment a timeline event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
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
