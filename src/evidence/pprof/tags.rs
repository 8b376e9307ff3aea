//! The `-tags` breakdown: how a sample type's value splits by each label
//! (`handler: checkout 51.77%`), as `go tool pprof -tags` reports it.

use std::collections::BTreeMap;

use super::format::{percentage, scale, scaled_label};
use super::model::Profile;

/// One label key and the value under each of its values, heaviest first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TagBreakdown {
    pub key: String,
    pub total: i64,
    pub values: Vec<TagValue>,
}

/// One label value and the sum of the samples that carry it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct TagValue {
    pub value: String,
    pub total: i64,
}

/// Every label key of the profile (by name) with its values, for the
/// sample type `index`. Numeric labels count too, named by their value.
pub fn tags(profile: &Profile, index: usize) -> Vec<TagBreakdown> {
    let mut by_key: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for sample in &profile.samples {
        let value = sample.values[index];
        for (key, label) in &sample.labels {
            add(&mut by_key, profile.str(*key), profile.str(*label).to_string(), value);
        }
        for (key, number) in &sample.num_labels {
            let key = profile.str(*key);
            // pprof reads a numeric label's key as its unit (`bytes`).
            add(&mut by_key, key, scaled_label(*number, key, "minimum"), value);
        }
    }
    by_key
        .into_iter()
        .map(|(key, values)| {
            let total = values.values().fold(0i64, |sum, v| sum.wrapping_add(*v));
            let mut values: Vec<TagValue> =
                values.into_iter().map(|(value, total)| TagValue { value, total }).collect();
            values.sort_by(|a, b| {
                b.total.unsigned_abs().cmp(&a.total.unsigned_abs()).then_with(|| a.value.cmp(&b.value))
            });
            TagBreakdown { key, total, values }
        })
        .collect()
}

fn add(by_key: &mut BTreeMap<String, BTreeMap<String, i64>>, key: &str, value: String, amount: i64) {
    let sum = by_key.entry(key.to_string()).or_default().entry(value).or_insert(0);
    *sum = sum.wrapping_add(amount);
}

/// The breakdown as `go tool pprof -tags` prints it (right-aligned columns,
/// a blank line after each key), `unit` being the sample type's unit.
pub fn tags_text(breakdowns: &[TagBreakdown], unit: &str) -> String {
    let short = |value: i64| {
        let (scaled, label) = scale(value, unit, "minimum");
        format!("{scaled:.1}{label}")
    };
    let mut out = String::new();
    for breakdown in breakdowns {
        let key = format!("{}:", breakdown.key);
        let cells: Vec<(String, &str)> = breakdown
            .values
            .iter()
            .map(|v| {
                let cell = if breakdown.total > 0 {
                    format!("{} ({}):", short(v.total), percentage(v.total, breakdown.total))
                } else {
                    format!("{}:", short(v.total))
                };
                (cell, v.value.as_str())
            })
            .collect();
        let first = key.chars().count().max(usize::from(!cells.is_empty())) + 1;
        let second = cells.iter().map(|(cell, _)| cell.chars().count()).max().unwrap_or(0) + 1;
        out.push_str(&format!("{key:>first$} Total {}\n", short(breakdown.total)));
        for (cell, value) in &cells {
            out.push_str(&format!("{:first$}{cell:>second$} {value}\n", ""));
        }
        out.push('\n');
    }
    out
}
