//! What an artifact's page shows of its analysis: a profile's top table in
//! pprof's numbers, a dump's groups and suspects, a crash's panic first.

use serde::Deserialize;
use serde_json::Value;

use super::{
    goroutines::{DumpAnalysis, DumpDiff},
    pprof::format::{label, percentage, scaled_label, table_unit},
};

/// The analysis, shaped for the page.
pub enum Shown {
    Profile(ProfileShown),
    Dump(Box<DumpAnalysis>),
    Trace { go_version: String, written_by: String },
    Nothing,
}

/// A profile's analysis as the stored JSON has it.
#[derive(Debug, Deserialize)]
struct StoredProfile {
    sample_types: Vec<StoredType>,
    default_sample_type: String,
    sample_type: String,
    duration_nanos: i64,
    total: i64,
    top: Vec<StoredRow>,
    #[serde(default)]
    tags: Vec<StoredTag>,
    #[serde(default)]
    peek: Option<Vec<StoredPeek>>,
    #[serde(default)]
    suspects: Vec<StoredSuspect>,
}

#[derive(Debug, Deserialize)]
pub struct StoredSuspect {
    pub key: String,
    pub signature: String,
    pub explanation: String,
    pub cause_category: String,
}

#[derive(Debug, Deserialize)]
struct StoredTag {
    key: String,
    values: Vec<StoredTagValue>,
}

#[derive(Debug, Deserialize)]
struct StoredTagValue {
    value: String,
    total: i64,
}

#[derive(Debug, Deserialize)]
struct StoredPeek {
    function: String,
    cum: i64,
    callers: Vec<StoredCall>,
    callees: Vec<StoredCall>,
}

#[derive(Debug, Deserialize)]
struct StoredCall {
    function: String,
    value: i64,
}

#[derive(Debug, Deserialize)]
struct StoredType {
    #[serde(rename = "type")]
    name: String,
    unit: String,
}

#[derive(Debug, Deserialize)]
struct StoredRow {
    function: String,
    flat: i64,
    cum: i64,
}

pub struct ProfileShown {
    pub sample_types: Vec<String>,
    pub default_sample_type: String,
    pub sample_type: String,
    pub total: String,
    pub duration: String,
    pub rows: Vec<ProfileRow>,
    /// Per label key: each value with its share, as `-tags` lists them.
    pub tags: Vec<(String, Vec<TagShown>)>,
    /// Each peeked function: its cum, its callers and its callees.
    pub peek: Option<Vec<PeekShown>>,
    /// What the profile shows of a known leak.
    pub suspects: Vec<StoredSuspect>,
}

/// A label value: the value, its total and its share, formatted.
pub type TagShown = (String, String, String);

pub struct PeekShown {
    pub function: String,
    pub cum: String,
    pub callers: Vec<(String, String)>,
    pub callees: Vec<(String, String)>,
}

/// A row of the top table, as `go tool pprof -top` prints it.
pub struct ProfileRow {
    pub function: String,
    pub flat: String,
    pub flat_pct: String,
    pub sum_pct: String,
    pub cum: String,
    pub cum_pct: String,
}

impl Shown {
    pub fn of(analysis: Option<&Value>) -> Shown {
        let Some(analysis) = analysis else { return Shown::Nothing };
        match analysis["format"].as_str() {
            Some("pprof") => serde_json::from_value::<StoredProfile>(analysis.clone())
                .map(|stored| Shown::Profile(profile_shown(stored)))
                .unwrap_or(Shown::Nothing),
            Some("goroutine_dump") => serde_json::from_value::<DumpAnalysis>(analysis.clone())
                .map(|dump| Shown::Dump(Box::new(dump)))
                .unwrap_or(Shown::Nothing),
            Some("go_trace") => Shown::Trace {
                go_version: analysis["go_version"].as_str().unwrap_or_default().to_owned(),
                written_by: analysis["written_by"].as_str().unwrap_or_default().to_owned(),
            },
            _ => Shown::Nothing,
        }
    }
}

fn profile_shown(stored: StoredProfile) -> ProfileShown {
    let unit = stored
        .sample_types
        .iter()
        .find(|t| t.name == stored.sample_type)
        .map(|t| t.unit.clone())
        .unwrap_or_default();
    // One unit for the whole table, picked as pprof picks it.
    let shown_unit = display_unit(stored.top.iter().map(|row| (row.flat, row.cum)), stored.total, &unit);
    let mut running = 0i64;
    let rows = stored
        .top
        .iter()
        .map(|row| {
            running += row.flat;
            ProfileRow {
                function: row.function.clone(),
                flat: scaled_label(row.flat, &unit, &shown_unit),
                flat_pct: percentage(row.flat, stored.total).trim().to_owned(),
                sum_pct: percentage(running, stored.total).trim().to_owned(),
                cum: scaled_label(row.cum, &unit, &shown_unit),
                cum_pct: percentage(row.cum, stored.total).trim().to_owned(),
            }
        })
        .collect();
    let tags = stored
        .tags
        .iter()
        .map(|tag| {
            let values = tag
                .values
                .iter()
                .map(|value| {
                    let share = percentage(value.total, stored.total).trim().to_owned();
                    (value.value.clone(), label(value.total, &unit), share)
                })
                .collect();
            (tag.key.clone(), values)
        })
        .collect();
    let calls = |calls: &[StoredCall]| -> Vec<(String, String)> {
        calls
            .iter()
            .map(|call| (call.function.clone(), scaled_label(call.value, &unit, &shown_unit)))
            .collect()
    };
    let peek = stored.peek.as_ref().map(|peeked| {
        peeked
            .iter()
            .map(|one| PeekShown {
                function: one.function.clone(),
                cum: scaled_label(one.cum, &unit, &shown_unit),
                callers: calls(&one.callers),
                callees: calls(&one.callees),
            })
            .collect()
    });
    ProfileShown {
        tags,
        peek,
        suspects: stored.suspects,
        sample_types: stored.sample_types.iter().map(|t| t.name.clone()).collect(),
        default_sample_type: stored.default_sample_type,
        sample_type: stored.sample_type,
        total: label(stored.total, &unit),
        duration: if stored.duration_nanos > 0 {
            label(stored.duration_nanos, "nanoseconds")
        } else {
            String::new()
        },
        rows,
    }
}

/// The unit of the smallest row (its flat, or its cum when flat is 0),
/// adjusted as pprof adjusts it for the total.
fn display_unit(rows: impl Iterator<Item = (i64, i64)>, total: i64, unit: &str) -> String {
    let smallest = rows
        .map(|(flat, cum)| if flat != 0 { flat.unsigned_abs() } else { cum.unsigned_abs() })
        .filter(|value| *value > 0)
        .min()
        .map_or(0, |value| i64::try_from(value).unwrap_or(i64::MAX));
    table_unit(smallest, total, unit)
}

/// Wait minutes as a reader says them: `1–3 min`, `5 min`, `under a minute`.
pub fn wait_text(min: Option<u32>, max: Option<u32>) -> String {
    match (min, max) {
        (_, None) => String::new(),
        (_, Some(0)) => "under a minute".to_owned(),
        (Some(min), Some(max)) if min != max => format!("{min}–{max} min"),
        (_, Some(max)) => format!("{max} min"),
    }
}

/// A comparison of two artifacts, shaped for the page.
pub enum Compared {
    /// Per function: the delta of flat and of cum, formatted, with flat's
    /// share of the base's total.
    Profiles {
        sample_type: String,
        rows: Vec<DeltaRow>,
    },
    Dumps(DumpDiff),
}

pub struct DeltaRow {
    pub function: String,
    pub flat: String,
    pub flat_pct: String,
    pub cum: String,
    pub grew: bool,
}

#[derive(Debug, Deserialize)]
struct StoredDiff {
    sample_type: String,
    top: Vec<StoredDeltaRow>,
}

#[derive(Debug, Deserialize)]
struct StoredDeltaRow {
    function: String,
    flat: i64,
    flat_pct: f64,
    cum: i64,
}

impl Compared {
    /// The comparison's JSON, for the page; `target` names the unit.
    pub fn of(diff: &Value, target: &super::db::Artifact) -> Option<Compared> {
        let _ = target;
        match diff["format"].as_str()? {
            "pprof_diff" => {
                let stored: StoredDiff = serde_json::from_value(diff.clone()).ok()?;
                let unit = unit_of(&stored.sample_type);
                let total = stored.top.iter().map(|row| row.flat.abs()).sum();
                let shown_unit = display_unit(stored.top.iter().map(|row| (row.flat, row.cum)), total, unit);
                let rows = stored
                    .top
                    .iter()
                    .map(|row| DeltaRow {
                        function: row.function.clone(),
                        flat: signed(scaled_label(row.flat, unit, &shown_unit), row.flat),
                        flat_pct: format!("{:+.2}%", row.flat_pct),
                        cum: signed(scaled_label(row.cum, unit, &shown_unit), row.cum),
                        grew: row.flat > 0,
                    })
                    .collect();
                Some(Compared::Profiles { sample_type: stored.sample_type, rows })
            }
            "goroutine_diff" => serde_json::from_value(diff.clone()).ok().map(Compared::Dumps),
            _ => None,
        }
    }
}

/// The unit Go's profiles give a sample type of that name.
fn unit_of(sample_type: &str) -> &'static str {
    match sample_type {
        "cpu" | "delay" | "wall" => "nanoseconds",
        "alloc_space" | "inuse_space" | "space" => "bytes",
        _ => "count",
    }
}

fn signed(text: String, value: i64) -> String {
    if value > 0 { format!("+{text}") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_read_as_minutes() {
        assert_eq!(wait_text(Some(1), Some(3)), "1–3 min");
        assert_eq!(wait_text(Some(5), Some(5)), "5 min");
        assert_eq!(wait_text(Some(0), Some(0)), "under a minute");
        assert_eq!(wait_text(None, None), "");
    }

    #[test]
    fn a_stored_profile_reads_back_as_pprof_prints_it() {
        let stored = serde_json::json!({
            "format": "pprof", "sample_types": [{"type": "samples", "unit": "count"}, {"type": "cpu", "unit": "nanoseconds"}],
            "default_sample_type": "cpu", "sample_type": "cpu", "duration_nanos": 3_000_000_000i64, "total": 200_000_000,
            "top": [{"function": "main.burn", "flat": 150_000_000, "cum": 150_000_000},
                    {"function": "main.main", "flat": 50_000_000, "cum": 200_000_000}]
        });
        let Shown::Profile(shown) = Shown::of(Some(&stored)) else { panic!("a profile") };
        assert_eq!((shown.total.as_str(), shown.duration.as_str()), ("200ms", "3s"));
        assert_eq!(shown.rows[0].flat, "150ms");
        assert_eq!(shown.rows[0].flat_pct, "75.00%");
        assert_eq!(shown.rows[1].sum_pct, "100%");
        assert_eq!(shown.rows[1].cum_pct, "100%");
    }
}
