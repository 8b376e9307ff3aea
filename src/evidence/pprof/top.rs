//! The top table by function, as `go tool pprof -top` computes it, with
//! `-focus`/`-ignore` filtering and a `-peek` at one function's callers and
//! callees.

use regex::Regex;

use super::format::{percentage, scaled_label, table_unit};
use super::graph::{Graph, Inlining};
use super::model::Profile;

/// Which samples count, as pprof's `-focus` and `-ignore` choose them:
/// a sample is kept whole when a frame matches `focus` (or there is no
/// focus) and no frame matches `ignore`.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub focus: Option<Regex>,
    pub ignore: Option<Regex>,
}

impl Filter {
    /// Whether the sample `index` of `profile` passes the filter.
    pub fn keeps(&self, profile: &Profile, index: usize) -> bool {
        if self.focus.is_none() && self.ignore.is_none() {
            return true;
        }
        let mut focused = false;
        for &location in &profile.samples[index].locations {
            if self.ignore.as_ref().is_some_and(|re| location_matches(profile, location, re)) {
                return false;
            }
            focused |= self.focus.as_ref().is_none_or(|re| location_matches(profile, location, re));
        }
        focused
    }
}

/// pprof matches a frame by its function's name or file, or its binary's file.
fn location_matches(profile: &Profile, location: usize, re: &Regex) -> bool {
    let location = &profile.locations[location];
    let function_matches = location.lines.iter().flatten().any(|f| {
        let function = &profile.functions[*f];
        re.is_match(profile.str(function.name)) || re.is_match(profile.str(function.filename))
    });
    function_matches || location.mapping.is_some_and(|m| re.is_match(profile.str(profile.mappings[m].file)))
}

/// One function's line of the top table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopRow {
    pub function: String,
    pub inlining: Inlining,
    pub flat: i64,
    pub cum: i64,
}

/// Every function with a value, in pprof's order, and the total that the
/// percentages are of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopTable {
    pub rows: Vec<TopRow>,
    pub total: i64,
    /// The sample type's unit, lower case (`nanoseconds`, `bytes`, `count`).
    pub unit: String,
}

/// The top table of one sample type. The total is of all samples, before
/// filtering, as pprof's percentages are.
pub fn top_table(profile: &Profile, index: usize, filter: &Filter) -> TopTable {
    let mut graph = Graph::default();
    graph.add_profile(profile, |values| values[index], |sample| filter.keeps(profile, sample));
    table_of(&graph, profile.total(index), profile.unit_of(index))
}

/// The rows of a built graph in pprof's order.
pub(super) fn table_of(graph: &Graph, total: i64, unit: String) -> TopTable {
    let inlinings = graph.inlinings();
    let rows = graph
        .sorted()
        .into_iter()
        .map(|n| {
            let node = &graph.nodes[n];
            TopRow { function: node.name.clone(), inlining: inlinings[n], flat: node.flat, cum: node.cum }
        })
        .collect();
    TopTable { rows, total, unit }
}

impl TopTable {
    /// The unit pprof prints the whole table in.
    pub fn display_unit(&self) -> String {
        let smallest = self
            .rows
            .iter()
            .map(|row| if row.flat != 0 { row.flat.unsigned_abs() } else { row.cum.unsigned_abs() })
            .filter(|v| *v > 0)
            .min()
            .map_or(0, |v| i64::try_from(v).unwrap_or(i64::MAX));
        table_unit(smallest, self.total, &self.unit)
    }

    /// A value in the table's unit, as pprof prints it.
    pub fn format(&self, value: i64, unit: &str) -> String {
        scaled_label(value, &self.unit, unit)
    }

    /// `Showing nodes accounting for X, Y% of Z total`.
    pub fn summary_line(&self) -> String {
        let unit = self.display_unit();
        let flat_sum = self.rows.iter().fold(0i64, |sum, row| sum.wrapping_add(row.flat));
        format!(
            "Showing nodes accounting for {}, {} of {} total",
            self.format(flat_sum, &unit),
            percentage(flat_sum, self.total).trim(),
            self.format(self.total, &unit)
        )
    }

    /// The table's lines exactly as `go tool pprof -top` prints them
    /// (`flat flat% sum% cum cum% name`), names with `(inline)`.
    pub fn text_rows(&self) -> Vec<String> {
        let unit = self.display_unit();
        let mut flat_sum = 0i64;
        self.rows
            .iter()
            .map(|row| {
                flat_sum = flat_sum.wrapping_add(row.flat);
                let suffix = match row.inlining {
                    Inlining::No => "",
                    Inlining::Inline => " (inline)",
                    Inlining::Partial => " (partial-inline)",
                };
                format!(
                    "{:>10} {} {} {:>10} {}  {}{}",
                    self.format(row.flat, &unit),
                    percentage(row.flat, self.total),
                    percentage(flat_sum, self.total),
                    self.format(row.cum, &unit),
                    percentage(row.cum, self.total),
                    row.function,
                    suffix
                )
            })
            .collect()
    }

    /// A value as a percentage of the total (0 when the total is 0).
    pub fn pct(&self, value: i64) -> f64 {
        if self.total == 0 { 0.0 } else { value as f64 / self.total as f64 * 100.0 }
    }
}

/// One function's callers and callees with the value through each call,
/// heaviest first, as `go tool pprof -peek` lists them.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Peek {
    pub function: String,
    pub flat: i64,
    pub cum: i64,
    pub callers: Vec<Call>,
    pub callees: Vec<Call>,
}

/// A caller or callee and the value through the call.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct Call {
    pub function: String,
    pub value: i64,
    pub inline: bool,
}

/// The callers and callees of every function whose name matches `re`,
/// in top-table order.
pub fn peek(profile: &Profile, index: usize, re: &Regex) -> Vec<Peek> {
    let mut graph = Graph::peeking(re);
    graph.add_profile(profile, |values| values[index], |_| true);
    graph
        .sorted()
        .into_iter()
        .filter(|n| re.is_match(&graph.nodes[*n].name))
        .map(|n| Peek {
            function: graph.nodes[n].name.clone(),
            flat: graph.nodes[n].flat,
            cum: graph.nodes[n].cum,
            callers: calls(&graph, |(caller, callee)| (callee == n).then_some(caller)),
            callees: calls(&graph, |(caller, callee)| (caller == n).then_some(callee)),
        })
        .collect()
}

fn calls(graph: &Graph, other_end: impl Fn((usize, usize)) -> Option<usize>) -> Vec<Call> {
    let mut calls: Vec<Call> = graph
        .edges
        .iter()
        .filter_map(|(ends, edge)| {
            other_end(*ends).map(|n| Call {
                function: graph.nodes[n].name.clone(),
                value: edge.weight,
                inline: edge.inline,
            })
        })
        .collect();
    calls.sort_by(|a, b| {
        b.value.unsigned_abs().cmp(&a.value.unsigned_abs()).then_with(|| a.function.cmp(&b.function))
    });
    calls
}
