//! The pieces of the Markdown report every part writes its section with:
//! tables whose cells stay cells whatever users wrote, users' own Markdown
//! kept intact between markers a reader never sees (HTML comments) and an
//! import can find, and the YAML front matter of the incident's fields.

use std::fmt::Write;

use time::OffsetDateTime;

use super::{db::Incident, views::span};
use crate::web::clock::moment_text;

/// How a report is written.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// People are named by their role in Debrief, not by name.
    pub roles: bool,
    /// Where the app is (`https://debrief.example.com`), for links back.
    pub origin: String,
    /// The comments are added at the end.
    pub comments: bool,
}

impl ExportOptions {
    /// A person as the report names them.
    pub fn person(&self, name: Option<&str>, role: Option<&str>) -> String {
        match (self.roles, name, role) {
            (true, _, Some(role)) => {
                let article = if role.starts_with(['a', 'e', 'i', 'o', 'u']) { "an" } else { "a" };
                format!("{article} {role}")
            }
            (true, _, None) | (false, None, _) => "nobody".to_owned(),
            (false, Some(name), _) => name.to_owned(),
        }
    }
}

/// The format's version, in the front matter.
pub const FORMAT: &str = "debrief-postmortem/1";

/// Text as one GFM table cell: a pipe is escaped, each line break becomes
/// `<br>`, so a multi-line event stays on its row.
pub fn cell(text: &str) -> String {
    let text = text.trim().replace("\r\n", "\n").replace('|', "\\|");
    text.split('\n').map(str::trim_end).collect::<Vec<_>>().join("<br>")
}

/// A GFM table: a header row, its delimiter row, then one row per entry.
pub fn table(headers: &[&str], rows: impl IntoIterator<Item = Vec<String>>) -> String {
    let mut out = format!("| {} |\n|{}\n", headers.join(" | "), "---|".repeat(headers.len()));
    for row in rows {
        let cells: Vec<String> =
            row.iter().map(|c| if c.is_empty() { " ".to_owned() } else { cell(c) }).collect();
        let _ = writeln!(out, "| {} |", cells.join(" | "));
    }
    out
}

/// A user's Markdown as written, between the markers of `name`; a line
/// saying so when there is none.
pub fn block(name: &str, markdown: &str) -> String {
    let text = markdown.trim_end();
    if text.trim().is_empty() {
        return format!("<!-- debrief:{name} -->\n<!-- /debrief:{name} -->\n\n_Not written._\n");
    }
    format!("<!-- debrief:{name} -->\n\n{text}\n\n<!-- /debrief:{name} -->\n")
}

/// A value in the front matter: JSON's quoting, which YAML reads too.
pub fn yaml_value(value: &serde_json::Value) -> String {
    value.to_string()
}

fn moment(at: &Option<OffsetDateTime>) -> serde_json::Value {
    match at {
        Some(_) => serde_json::Value::String(moment_text(at)),
        None => serde_json::Value::Null,
    }
}

/// The front matter: the incident's fields a machine reads back, and the
/// times to detect, mitigate and resolve it.
pub fn front_matter(incident: &Incident) -> String {
    let figures = serde_json::to_value(&incident.impact_figures).unwrap_or_default();
    let fields: Vec<(&str, serde_json::Value)> = vec![
        ("format", FORMAT.into()),
        ("id", incident.id.to_string().into()),
        ("number", incident.number.into()),
        ("ref", incident.reference.clone().into()),
        ("title", incident.title.clone().into()),
        ("severity", incident.severity.as_str().into()),
        ("status", incident.status.as_str().into()),
        ("services", incident.services.clone().into()),
        ("tags", incident.tags.clone().into()),
        ("started_at", moment(&Some(incident.started_at))),
        ("detected_at", moment(&incident.detected_at)),
        ("mitigated_at", moment(&incident.mitigated_at)),
        ("resolved_at", moment(&incident.resolved_at)),
        ("time_to_detect", span_value(incident, &incident.detected_at)),
        ("time_to_mitigate", span_value(incident, &incident.mitigated_at)),
        ("time_to_resolve", span_value(incident, &incident.resolved_at)),
        ("impact_figures", figures),
    ];
    let mut out = String::from("---\n");
    for (name, value) in fields {
        let _ = writeln!(out, "{name}: {}", yaml_value(&value));
    }
    out.push_str("---\n\n");
    out
}

fn span_value(incident: &Incident, at: &Option<OffsetDateTime>) -> serde_json::Value {
    let text = span(&incident.started_at, at);
    if text.is_empty() { serde_json::Value::Null } else { text.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_keeps_its_row_whatever_it_holds() {
        assert_eq!(cell("a | b\r\nsecond line  \nthird"), "a \\| b<br>second line<br>third");
        assert_eq!(cell("  plain  "), "plain");
    }

    #[test]
    fn a_table_has_its_delimiter_row_and_empty_cells_stay_cells() {
        let out = table(&["A", "B"], [vec!["x".to_owned(), String::new()]]);
        assert_eq!(out, "| A | B |\n|---|---|\n| x |   |\n");
    }

    #[test]
    fn a_block_keeps_the_markdown_between_markers() {
        assert_eq!(
            block("summary", "## Mine\n\n- a\n"),
            "<!-- debrief:summary -->\n\n## Mine\n\n- a\n\n<!-- /debrief:summary -->\n"
        );
        assert!(block("trigger", "  ").contains("_Not written._"));
    }

    #[test]
    fn people_are_named_or_given_their_role() {
        let names = ExportOptions::default();
        let roles = ExportOptions { roles: true, ..Default::default() };
        assert_eq!(names.person(Some("Bo Lee"), Some("editor")), "Bo Lee");
        assert_eq!(roles.person(Some("Bo Lee"), Some("editor")), "an editor");
        assert_eq!(roles.person(Some("Al"), Some("viewer")), "a viewer");
        assert_eq!(names.person(None, None), "nobody");
    }
}

/// What is wrong with a report that is imported, and on which line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct ReportError {
    pub line: usize,
    pub message: String,
}

impl ReportError {
    pub fn new(line: usize, message: impl Into<String>) -> ReportError {
        ReportError { line, message: message.into() }
    }
}

impl From<ReportError> for crate::error::AppError {
    fn from(err: ReportError) -> Self {
        crate::error::AppError::Unprocessable(format!("The report cannot be imported: {err}."))
    }
}

/// A report as read back: its front matter, the users' Markdown between
/// the markers, and its `##` sections line by line, each line numbered as
/// in the file (from 1), so that every complaint can name its line.
#[derive(Debug, Default)]
pub struct Report {
    pub front: Vec<(String, serde_json::Value, usize)>,
    blocks: Vec<(String, String)>,
    sections: Vec<ReportSection>,
}

#[derive(Debug)]
struct ReportSection {
    heading: String,
    lines: Vec<(usize, String)>,
}

/// One row of a table in a report: its line and its cells, unescaped.
pub type Row = (usize, Vec<String>);

/// A line of a report, numbered as in the file.
pub type Line = (usize, String);

/// A `### title` part of a section: its line, its title, its lines.
pub type Subsection = (usize, String, Vec<Line>);

/// The most rows one table of an imported report may hold: each row is an
/// insert that re-indexes the incident, so an import stays a bounded cost.
pub const MAX_ROWS: usize = 1000;

impl Report {
    pub fn parse(text: &str) -> Result<Report, ReportError> {
        let lines: Vec<&str> = text.lines().collect();
        if lines.first().map(|l| l.trim_end()) != Some("---") {
            return Err(ReportError::new(1, "a report starts with its front matter, a line `---`"));
        }
        let end = lines
            .iter()
            .skip(1)
            .position(|l| l.trim_end() == "---")
            .map(|at| at + 1)
            .ok_or_else(|| ReportError::new(1, "the front matter is not closed by a line `---`"))?;
        let mut report = Report::default();
        for (index, line) in lines.iter().enumerate().take(end).skip(1) {
            let number = index + 1;
            if line.trim().is_empty() || line.trim_start().starts_with('#') {
                continue;
            }
            let (key, raw) = line
                .split_once(':')
                .ok_or_else(|| ReportError::new(number, "a front matter line is `name: value`"))?;
            let raw = raw.trim();
            let value = match serde_json::from_str::<serde_json::Value>(raw) {
                Ok(value) => value,
                // Plain YAML scalars, as a person may write them.
                Err(_) if raw.starts_with(['"', '[', '{']) => {
                    return Err(ReportError::new(
                        number,
                        format!("the value of `{}` cannot be read", key.trim()),
                    ));
                }
                Err(_) if raw == "~" || raw.is_empty() => serde_json::Value::Null,
                Err(_) => serde_json::Value::String(raw.trim_matches('\'').to_owned()),
            };
            report.front.push((key.trim().to_owned(), value, number));
        }
        let mut open: Option<(String, usize, Vec<&str>)> = None;
        let mut section: Option<ReportSection> = None;
        for (index, line) in lines.iter().enumerate().skip(end + 1) {
            let number = index + 1;
            if let Some((name, _, body)) = open.as_mut() {
                if line.trim() != format!("<!-- /debrief:{name} -->") {
                    body.push(line);
                    continue;
                }
                let markdown = body.join("\n").trim_matches('\n').to_owned();
                report.blocks.push((std::mem::take(name), markdown));
                open = None;
                continue;
            }
            if let Some(name) = line.trim().strip_prefix("<!-- debrief:").and_then(|l| l.strip_suffix(" -->"))
            {
                open = Some((name.to_owned(), number, Vec::new()));
                continue;
            }
            if let Some(heading) = line.strip_prefix("## ") {
                report.sections.extend(section.take());
                section = Some(ReportSection { heading: heading.trim().to_owned(), lines: Vec::new() });
                continue;
            }
            if let Some(section) = section.as_mut() {
                section.lines.push((number, (*line).to_owned()));
            }
        }
        if let Some((name, start, _)) = open {
            return Err(ReportError::new(
                start,
                format!("the text of `{name}` is not closed by `<!-- /debrief:{name} -->`"),
            ));
        }
        report.sections.extend(section);
        Ok(report)
    }

    /// The value of a front matter field, and its line.
    pub fn field(&self, name: &str) -> Option<(&serde_json::Value, usize)> {
        self.front.iter().find(|(key, _, _)| key == name).map(|(_, value, line)| (value, *line))
    }

    /// A user's Markdown as the report holds it between its markers.
    pub fn block(&self, name: &str) -> Option<&str> {
        self.blocks.iter().find(|(key, _)| key == name).map(|(_, text)| text.as_str())
    }

    /// The lines of the `## heading` section, numbered.
    pub fn section(&self, heading: &str) -> Option<&[(usize, String)]> {
        self.sections.iter().find(|s| s.heading == heading).map(|s| s.lines.as_slice())
    }

    /// The rows of the first table of the `## heading` section whose header
    /// is `headers`; none when the section has no such table.
    pub fn table(&self, heading: &str, headers: &[&str]) -> Result<Vec<Row>, ReportError> {
        let Some(lines) = self.section(heading) else { return Ok(Vec::new()) };
        Report::rows(lines, headers, &format!("## {heading}"))
    }

    /// The `### title` parts of the `## heading` section, in order: each
    /// title's line, the title, and the lines under it.
    pub fn subsections(&self, heading: &str) -> Vec<Subsection> {
        let mut parts: Vec<Subsection> = Vec::new();
        for (number, line) in self.section(heading).unwrap_or_default() {
            if let Some(title) = line.strip_prefix("### ") {
                parts.push((*number, title.trim().to_owned(), Vec::new()));
            } else if let Some((_, _, lines)) = parts.last_mut() {
                lines.push((*number, line.clone()));
            }
        }
        parts
    }

    /// The rows of the first table of `lines` (under `what`, for the
    /// messages) whose header is `headers`; none when there is no table.
    pub fn rows(lines: &[(usize, String)], headers: &[&str], what: &str) -> Result<Vec<Row>, ReportError> {
        let mut rows = Vec::new();
        let mut found = false;
        let mut iter = lines.iter().skip_while(|(_, l)| !l.trim_start().starts_with('|')).peekable();
        while let Some((number, line)) = iter.next() {
            if !line.trim_start().starts_with('|') {
                break;
            }
            let cells = split_row(line);
            if !found {
                if cells != headers {
                    return Err(ReportError::new(
                        *number,
                        format!("the table under `{what}` has the columns {}", headers.join(", ")),
                    ));
                }
                found = true;
                // The delimiter row.
                iter.next();
                continue;
            }
            if rows.len() == MAX_ROWS {
                return Err(ReportError::new(*number, format!("`{what}` has more than {MAX_ROWS} rows")));
            }
            if cells.len() != headers.len() {
                return Err(ReportError::new(
                    *number,
                    format!("a row of `{what}` has {} cells, not {}", cells.len(), headers.len()),
                ));
            }
            rows.push((*number, cells));
        }
        Ok(rows)
    }
}

/// The cells of a table row, each unescaped as [`cell`] escaped it.
fn split_row(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|');
    let inner = inner.strip_suffix('|').unwrap_or(inner);
    let mut cells = Vec::new();
    let mut current = String::new();
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                current.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut current)),
            c => current.push(c),
        }
    }
    cells.push(current);
    cells.into_iter().map(|c| c.trim().replace("<br>", "\n")).collect()
}

#[cfg(test)]
mod reading {
    use super::*;

    #[test]
    fn a_report_reads_back_what_was_written() {
        let text = format!(
            "---\ntitle: \"A | b\"\nseverity: SEV2\n---\n\n## Summary\n\n{}\n## Timeline\n\n{}",
            block("summary", "Line one\n\n## Own heading\n"),
            table(&["A", "B"], [vec!["x | y\nz".to_owned(), String::new()]])
        );
        let report = Report::parse(&text).unwrap();
        assert_eq!(report.field("title").unwrap().0, "A | b");
        assert_eq!(report.field("severity").unwrap(), (&serde_json::json!("SEV2"), 3));
        assert_eq!(report.block("summary"), Some("Line one\n\n## Own heading"));
        let rows = report.table("Timeline", &["A", "B"]).unwrap();
        assert_eq!(rows, [(20, vec!["x | y\nz".to_owned(), String::new()])]);
    }

    #[test]
    fn broken_reports_name_their_line() {
        assert_eq!(Report::parse("# no front matter").unwrap_err().line, 1);
        assert_eq!(Report::parse("---\ntitle: \"open\n---\n").unwrap_err().line, 2);
        let unclosed = Report::parse("---\n---\n<!-- debrief:summary -->\ntext\n").unwrap_err();
        assert_eq!(unclosed.line, 3);
        let report = Report::parse("---\n---\n## T\n\n| A | B |\n|---|---|\n| only one |\n").unwrap();
        assert_eq!(report.table("T", &["A", "B"]).unwrap_err().line, 7);
        let long = format!("---\n---\n## T\n\n| A |\n|---|\n{}", "| x |\n".repeat(MAX_ROWS + 1));
        let too_long = Report::parse(&long).unwrap().table("T", &["A"]).unwrap_err();
        assert_eq!((too_long.line, too_long.message.contains("more than 1000 rows")), (MAX_ROWS + 7, true));
    }
}
