//! Impact figures: what was measured, its value before and during the
//! incident, and for how long, such as `QPS 12,800 -> 3,000 for 47 min`.
//! Written one per line; kept as structured values, so the page can set them
//! out and the API can hand them on.

use std::fmt;

use serde::{Deserialize, Serialize};

/// At most this many figures on an incident.
const MAX_FIGURES: usize = 20;
/// At most this many characters in each part of a figure.
const MAX_PART_CHARS: usize = 80;

const EXAMPLE: &str = "QPS 12,800 -> 3,000 for 47 min";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    /// What was measured: `QPS`, `p99 latency`, `checkout success`.
    pub metric: String,
    pub before: String,
    pub after: String,
    /// How long it lasted, if said: `47 min`.
    #[serde(rename = "for", default, skip_serializing_if = "String::is_empty")]
    pub lasting: String,
}

impl Figure {
    /// Reads `what before -> after [for how long]`; `what: before -> after`
    /// names a metric that itself starts with a number.
    pub fn parse(line: &str) -> Result<Figure, String> {
        let line = line.trim();
        let Some((left, right)) = line.split_once("->").or_else(|| line.split_once('→')) else {
            return Err(format!("write a figure as what, before -> after, like \"{EXAMPLE}\"."));
        };
        let (metric, before) = match left.split_once(':') {
            Some((metric, before)) => (metric.trim(), before.trim()),
            None => split_at_first_number(left.trim()),
        };
        if metric.is_empty() {
            return Err(format!("say what was measured before its value, like \"{EXAMPLE}\"."));
        }
        let (after, lasting) = match right.split_once(" for ") {
            Some((after, lasting)) => (after.trim(), lasting.trim()),
            None => (right.trim(), ""),
        };
        if before.is_empty() || after.is_empty() {
            return Err(format!("give the value before and after the arrow, like \"{EXAMPLE}\"."));
        }
        let parts = [metric, before, after, lasting];
        if parts.iter().any(|part| part.chars().count() > MAX_PART_CHARS) {
            return Err(format!("each part of a figure has at most {MAX_PART_CHARS} characters."));
        }
        if parts.iter().any(|part| part.chars().any(char::is_control)) {
            return Err("a figure cannot hold control characters.".into());
        }
        Ok(Figure {
            metric: metric.to_owned(),
            before: before.to_owned(),
            after: after.to_owned(),
            lasting: lasting.to_owned(),
        })
    }
}

/// `QPS 12,800 -> 3,000 for 47 min`, as typed and as the history records it.
impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let separator = if starts_with_number(&self.metric) { ":" } else { "" };
        write!(f, "{}{separator} {} -> {}", self.metric, self.before, self.after)?;
        if !self.lasting.is_empty() {
            write!(f, " for {}", self.lasting)?;
        }
        Ok(())
    }
}

/// Figures typed one per line; blank lines are skipped. An error names the
/// line it is about.
pub fn parse_figures(raw: &str) -> Result<Vec<Figure>, String> {
    let mut figures = Vec::new();
    for (index, line) in raw.lines().enumerate().filter(|(_, line)| !line.trim().is_empty()) {
        figures.push(Figure::parse(line).map_err(|reason| format!("Line {}: {reason}", index + 1))?);
    }
    if figures.len() > MAX_FIGURES {
        return Err(format!("At most {MAX_FIGURES} figures; keep the ones that tell the story."));
    }
    Ok(figures)
}

/// Figures one per line, as [`parse_figures`] reads them back.
pub fn figures_text(figures: &[Figure]) -> String {
    figures.iter().map(Figure::to_string).collect::<Vec<_>>().join("\n")
}

/// `p99 latency 120 ms` -> (`p99 latency`, `120 ms`): the value starts at
/// the first word that starts with a number (or `~`, `<`, `>`, `$` and one).
fn split_at_first_number(text: &str) -> (&str, &str) {
    let mut offset = 0;
    for word in text.split_inclusive(char::is_whitespace) {
        if starts_with_number(word) {
            return (text[..offset].trim(), text[offset..].trim());
        }
        offset += word.len();
    }
    (text, "")
}

fn starts_with_number(word: &str) -> bool {
    let mut chars = word.chars();
    match chars.next() {
        Some(first) if first.is_ascii_digit() => true,
        Some('~' | '<' | '>' | '$' | '≈' | '+' | '-' | '.') => {
            chars.next().is_some_and(|c| c.is_ascii_digit())
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figure(metric: &str, before: &str, after: &str, lasting: &str) -> Figure {
        Figure { metric: metric.into(), before: before.into(), after: after.into(), lasting: lasting.into() }
    }

    #[test]
    fn figures_read_as_people_write_them() {
        assert_eq!(Figure::parse(EXAMPLE).unwrap(), figure("QPS", "12,800", "3,000", "47 min"));
        assert_eq!(
            Figure::parse("  p99 latency 120 ms -> 8.9 s ").unwrap(),
            figure("p99 latency", "120 ms", "8.9 s", "")
        );
        assert_eq!(
            Figure::parse("Checkout success: 99.9% → 73% for 45 min").unwrap(),
            figure("Checkout success", "99.9%", "73%", "45 min")
        );
        assert_eq!(
            Figure::parse("Goroutines ~800 -> 41,000").unwrap(),
            figure("Goroutines", "~800", "41,000", "")
        );
        assert_eq!(Figure::parse("5xx rate: 0.1% -> 27%").unwrap(), figure("5xx rate", "0.1%", "27%", ""));
    }

    #[test]
    fn a_figure_written_out_reads_back_the_same() {
        for line in [EXAMPLE, "p99 latency 120 ms -> 8.9 s", "5xx rate: 0.1% -> 27% for 12 min"] {
            let figure = Figure::parse(line).unwrap();
            assert_eq!(Figure::parse(&figure.to_string()).unwrap(), figure, "{line}");
        }
        assert_eq!(figure("5xx rate", "0.1%", "27%", "").to_string(), "5xx rate: 0.1% -> 27%");
    }

    #[test]
    fn a_line_that_is_not_a_figure_is_refused_with_its_number() {
        let error = parse_figures("QPS 12,800 -> 3,000\n\nthings got slow").unwrap_err();
        assert!(error.starts_with("Line 3: write a figure as"), "{error}");
        assert!(parse_figures("12,800 -> 3,000").unwrap_err().contains("say what was measured"));
        assert!(parse_figures("QPS -> 3,000").unwrap_err().contains("before and after"));
        assert!(parse_figures("QPS 1 ->").unwrap_err().contains("before and after"));
        assert!(parse_figures(&format!("{} 1 -> 2", "x".repeat(81))).unwrap_err().contains("at most 80"));
        assert!(parse_figures(&"QPS 1 -> 2\n".repeat(21)).unwrap_err().contains("At most 20"));
        assert_eq!(parse_figures(" \n").unwrap(), Vec::new());
    }
}
