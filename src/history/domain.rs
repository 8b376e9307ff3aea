//! What a revision records, and line diffs between two texts.

use std::time::Duration;

use similar::{ChangeTag, TextDiff};

use crate::incidents::domain::Field;
pub use crate::incidents::revision::Change;

/// The name a reader knows a changed field by: `Started` for `started_at`.
pub fn field_label(name: &str) -> String {
    match name {
        // "Figures" is its label beside the impact; alone in a list it needs its noun.
        "impact_figures" => "Impact figures".into(),
        "timeline" => "Timeline".into(),
        "causes" => "Causes".into(),
        "action_items" => "Action items".into(),
        _ => match Field::from_name(name) {
            Some(field) => field.label().into(),
            None => {
                let words = name.replace('_', " ");
                let mut chars = words.chars();
                chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
            }
        },
    }
}

/// The readable names of the fields changed, in order, each once.
pub fn field_labels<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let mut labels: Vec<String> = Vec::new();
    for label in names.into_iter().map(field_label) {
        if !labels.contains(&label) {
            labels.push(label);
        }
    }
    labels.join(", ")
}

/// A line of a diff: kept, removed or added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    /// `same`, `removed` or `added`.
    pub tag: &'static str,
    /// `heading`, `item` or `text`: what the line is in the postmortem's text.
    pub shape: &'static str,
    /// The line without its Markdown heading or list marker, which the page
    /// shows by the line's style instead: printed, the marker read as the
    /// diff's own `-` (`- - Status: draft`).
    pub text: String,
}

impl DiffLine {
    fn new(tag: &'static str, line: &str) -> DiffLine {
        let line = line.trim_end_matches(['\n', '\r']);
        let (shape, text) = if let Some(item) = line.strip_prefix("- ") {
            ("item", item)
        } else if let Some(heading) = line.strip_prefix("## ").or_else(|| line.strip_prefix("# ")) {
            ("heading", heading)
        } else {
            ("text", line)
        };
        DiffLine { tag, shape, text: text.to_owned() }
    }
}

/// Texts longer than this are not compared line by line: the work (and the
/// page showing it) would grow past what one request may cost.
pub const MAX_DIFF_LINES: usize = 20_000;

/// The longest a line diff may search for the smallest set of changes; past
/// it the diff is still right, only coarser.
pub const DIFF_TIME_BUDGET: Duration = Duration::from_millis(500);

/// Two revisions compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Comparison {
    /// A unified line diff; `None` marks a gap of skipped lines.
    Lines(Vec<Option<DiffLine>>),
    /// Too large to compare line by line: how many lines each side has.
    TooLarge { old_lines: usize, new_lines: usize },
}

/// Compares `old` and `new` line by line, within [`MAX_DIFF_LINES`] and
/// [`DIFF_TIME_BUDGET`].
pub fn compare(old: &str, new: &str, context: usize) -> Comparison {
    let (old_lines, new_lines) = (old.lines().count(), new.lines().count());
    if old_lines > MAX_DIFF_LINES || new_lines > MAX_DIFF_LINES {
        return Comparison::TooLarge { old_lines, new_lines };
    }
    Comparison::Lines(diff_lines(old, new, context))
}

/// The lines of `old` and `new` as a unified line diff with `context`
/// unchanged lines around each change; `None` marks a gap of skipped lines.
fn diff_lines(old: &str, new: &str, context: usize) -> Vec<Option<DiffLine>> {
    let diff = TextDiff::configure().timeout(DIFF_TIME_BUDGET).diff_lines(old, new);
    let mut lines = Vec::new();
    for (index, group) in diff.grouped_ops(context).iter().enumerate() {
        if index > 0 {
            lines.push(None);
        }
        for op in group {
            for change in diff.iter_changes(op) {
                let tag = match change.tag() {
                    ChangeTag::Equal => "same",
                    ChangeTag::Delete => "removed",
                    ChangeTag::Insert => "added",
                };
                lines.push(Some(DiffLine::new(tag, change.value())));
            }
        }
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diff_shows_removed_and_added_lines_with_context() {
        let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
        let new = "a\nb\nc\nD\ne\nf\ng\nh\n";
        let lines: Vec<DiffLine> = diff_lines(old, new, 1).into_iter().flatten().collect();
        let rendered: Vec<String> = lines.iter().map(|l| format!("{} {}", l.tag, l.text)).collect();
        assert_eq!(rendered, ["same c", "removed d", "added D", "same e"]);
    }

    #[test]
    fn a_line_is_shown_without_its_markdown_marker_and_keeps_its_shape() {
        let old = "# INC-1: Checkout\n\n- Status: draft\n\n## Summary\n\nIt broke.\n";
        let new = "# INC-1: Checkout\n\n- Status: in review\n\n## Summary\n\nIt broke.\n";
        let lines: Vec<DiffLine> = diff_lines(old, new, 2).into_iter().flatten().collect();
        let rendered: Vec<String> =
            lines.iter().map(|l| format!("{} {} {}", l.tag, l.shape, l.text)).collect();
        assert_eq!(
            rendered,
            [
                "same heading INC-1: Checkout",
                "same text ",
                "removed item Status: draft",
                "added item Status: in review",
                "same text ",
                "same heading Summary",
            ]
        );
    }

    #[test]
    fn fields_are_named_as_readers_know_them() {
        assert_eq!(field_label("started_at"), "Started");
        assert_eq!(field_label("impact_figures"), "Impact figures");
        assert_eq!(field_label("went_well"), "What went well");
        assert_eq!(field_label("action_items"), "Action items");
        assert_eq!(field_label("something_new"), "Something new");
        assert_eq!(
            field_labels(["summary", "started_at", "summary", "timeline"]),
            "Summary, Started, Timeline"
        );
    }

    #[test]
    fn identical_texts_have_no_diff() {
        assert!(diff_lines("same\n", "same\n", 3).is_empty());
    }

    #[test]
    fn texts_past_the_line_cap_are_not_compared_line_by_line() {
        let old = "x\n".repeat(MAX_DIFF_LINES + 1);
        let new = "y\n".repeat(10);
        assert_eq!(
            compare(&old, &new, 3),
            Comparison::TooLarge { old_lines: MAX_DIFF_LINES + 1, new_lines: 10 }
        );
        assert!(matches!(compare("a\n", "b\n", 3), Comparison::Lines(lines) if lines.len() == 2));
    }

    #[test]
    fn the_worst_case_at_the_cap_still_gives_a_right_diff() {
        // Every line differs: the search for the smallest diff is quadratic.
        let old: String = (0..MAX_DIFF_LINES).map(|n| format!("old {n}\n")).collect();
        let new: String = (0..MAX_DIFF_LINES).map(|n| format!("new {}\n", n * 7 % 1000)).collect();
        let Comparison::Lines(lines) = compare(&old, &new, 0) else { panic!("within the cap") };
        let removed = lines.iter().flatten().filter(|line| line.tag == "removed").count();
        let kept = lines.iter().flatten().filter(|line| line.tag == "same").count();
        assert_eq!(removed + kept, MAX_DIFF_LINES, "every old line is accounted for");
    }

    #[test]
    fn distant_changes_are_separated_by_a_gap() {
        let old = (1..=20).map(|n| format!("{n}\n")).collect::<String>();
        let new = old.replace("2\n", "two\n").replacen("19\n", "nineteen\n", 1);
        let lines = diff_lines(&old, &new, 1);
        assert!(lines.iter().any(Option::is_none), "a gap between the two changes");
    }
}
