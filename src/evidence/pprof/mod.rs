//! Go pprof profiles read the way `go tool pprof` reads them: sample types,
//! the default sample type, totals, the top table by function, label
//! breakdowns, focus/ignore, peek and diffs, with numbers equal to pprof's.

pub mod diff;
pub mod flame;
pub mod format;
mod graph;
mod model;
mod proto;
mod read;
pub mod tags;
mod text;
pub mod top;

#[cfg(test)]
mod tests;

pub use graph::Inlining;
pub use model::{Profile, SampleType};
pub use read::{ProfileError, read_profile};
pub use top::{Filter, TopRow, TopTable, top_table};

/// How many functions an analysis lists: enough for every profile a page
/// shows in full, and well past the 50 heaviest the API promises.
pub const TOP_ROWS: usize = 200;

/// The `analysis` of a pprof artifact, in the API's shape.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PprofAnalysis {
    #[schema(value_type = String, pattern = "^pprof$")]
    pub format: &'static str,
    pub sample_types: Vec<SampleType>,
    pub default_sample_type: String,
    /// The sample type `top` is for (the default unless one was asked for).
    pub sample_type: String,
    pub duration_nanos: i64,
    pub period: i64,
    pub period_type: Option<SampleType>,
    /// Sum of the sample type's values over all samples, in its unit.
    pub total: i64,
    pub top: Vec<TopEntry>,
}

/// One function of a top table; values in the sample type's own unit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct TopEntry {
    pub function: String,
    pub flat: i64,
    pub flat_pct: f64,
    pub cum: i64,
    pub cum_pct: f64,
}

/// The difference of two profiles: target minus base, percentages of the
/// base's total (negative where the target has less).
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct PprofDiff {
    #[schema(value_type = String, pattern = "^pprof_diff$")]
    pub format: &'static str,
    pub sample_type: String,
    pub top: Vec<TopEntry>,
}

/// The index of sample type `name`, or of the default one when `None`;
/// an unknown name is an error listing the profile's sample types.
pub fn sample_index_for(profile: &Profile, name: Option<&str>) -> Result<usize, ProfileError> {
    let Some(name) = name else { return Ok(profile.default_sample_index()) };
    profile.sample_index(name).ok_or_else(|| ProfileError::UnknownSampleType {
        name: name.to_string(),
        available: profile.sample_types().iter().map(|t| t.name.as_str()).collect::<Vec<_>>().join(", "),
    })
}

/// The analysis of a profile for one sample type (the default when `None`).
pub fn analyse(profile: &Profile, sample_type: Option<&str>) -> Result<PprofAnalysis, ProfileError> {
    analyse_with(profile, sample_type, &Filter::default())
}

/// [`analyse`] of the samples `filter` keeps (`-focus`, `-ignore`).
pub fn analyse_with(
    profile: &Profile,
    sample_type: Option<&str>,
    filter: &Filter,
) -> Result<PprofAnalysis, ProfileError> {
    let index = sample_index_for(profile, sample_type)?;
    let sample_types = profile.sample_types();
    let table = top_table(profile, index, filter);
    Ok(PprofAnalysis {
        format: "pprof",
        default_sample_type: sample_types[profile.default_sample_index()].name.clone(),
        sample_type: sample_types[index].name.clone(),
        sample_types,
        duration_nanos: profile.duration_nanos,
        period: profile.period,
        period_type: profile.period_type(),
        total: table.total,
        top: entries(&table),
    })
}

/// Target minus base for one sample type (the target's default when `None`).
pub fn analyse_diff(
    base: &Profile,
    target: &Profile,
    sample_type: Option<&str>,
) -> Result<PprofDiff, ProfileError> {
    let (sample_type, table) = diff::diff_table(base, target, sample_type)?;
    Ok(PprofDiff { format: "pprof_diff", sample_type, top: entries(&table) })
}

/// The heaviest rows of a table, names without pprof's `(inline)` mark.
fn entries(table: &TopTable) -> Vec<TopEntry> {
    table
        .rows
        .iter()
        .take(TOP_ROWS)
        .map(|row| TopEntry {
            function: row.function.clone(),
            flat: row.flat,
            flat_pct: table.pct(row.flat),
            cum: row.cum,
            cum_pct: table.pct(row.cum),
        })
        .collect()
}
