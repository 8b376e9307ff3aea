//! What a revision records, and line diffs between two texts.

use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

/// One field's change within a revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    pub field: String,
    pub old: String,
    pub new: String,
}

/// A line of a diff: kept, removed or added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffLine {
    pub tag: &'static str,
    pub text: String,
}

/// The lines of `old` and `new` as a unified line diff with `context`
/// unchanged lines around each change; `None` marks a gap of skipped lines.
pub fn diff_lines(old: &str, new: &str, context: usize) -> Vec<Option<DiffLine>> {
    let diff = TextDiff::from_lines(old, new);
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
                let text = change.value().trim_end_matches('\n').to_owned();
                lines.push(Some(DiffLine { tag, text }));
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
    fn identical_texts_have_no_diff() {
        assert!(diff_lines("same\n", "same\n", 3).is_empty());
    }

    #[test]
    fn distant_changes_are_separated_by_a_gap() {
        let old = (1..=20).map(|n| format!("{n}\n")).collect::<String>();
        let new = old.replace("2\n", "two\n").replacen("19\n", "nineteen\n", 1);
        let lines = diff_lines(&old, &new, 1);
        assert!(lines.iter().any(Option::is_none), "a gap between the two changes");
    }
}
