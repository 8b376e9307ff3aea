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
