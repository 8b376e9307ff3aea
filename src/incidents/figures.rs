//! Impact figures: what was measured, its value before and during the
//! incident, and for how long, such as `QPS 12,800 -> 3,000 for 47 min`; or a
//! single value, such as `4,100 failed orders`, when there was no before.
//! Written one per line; kept as structured values, so the page can set them
//! out and the API can hand them on.

use std::fmt;

use serde::{Deserialize, Serialize};

/// At most this many figures on an incident.
const MAX_FIGURES: usize = 20;
/// At most this many characters in each part of a figure.
const MAX_PART_CHARS: usize = 80;

const EXAMPLE: &str = "QPS 12,800 -> 3,000 for 47 min";
const SINGLE_EXAMPLE: &str = "4,100 failed orders";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Figure {
    /// What was measured: `QPS`, `p99 latency`, `checkout success`.
    pub metric: String,
    /// The value before the incident; empty for a single value, which is
    /// then `after`.
    #[serde(default)]
    pub before: String,
    pub after: String,
    /// How long it lasted, if said: `47 min`.
    #[serde(rename = "for", default, skip_serializing_if = "String::is_empty")]
    pub lasting: String,
}

impl Figure {
    /// Reads `what before -> after [for how long]`, or a single value,
    /// `4,100 failed orders` or `failed orders 4,100 [for how long]`.
    /// `what: value` names a metric whose words the value could be read from.
    pub fn parse(line: &str) -> Result<Figure, String> {
        let line = line.trim();
        let figure = match line.split_once("->").or_else(|| line.split_once('→')) {
            Some((left, right)) => parse_change(left.trim(), right.trim())?,
            None => parse_single(line)?,
        };
        let parts = [&figure.metric, &figure.before, &figure.after, &figure.lasting];
        if parts.iter().any(|part| part.chars().count() > MAX_PART_CHARS) {
            return Err(format!("each part of a figure has at most {MAX_PART_CHARS} characters."));
        }
        if parts.iter().any(|part| part.chars().any(char::is_control)) {
            return Err("a figure cannot hold control characters.".into());
        }
        Ok(figure)
    }

    /// Whether the figure has a value before the incident, or is a single value.
    pub fn has_before(&self) -> bool {
        !self.before.is_empty()
    }

    /// The figure as typed with a colon after the metric, which reads back
    /// whatever words the metric and values hold.
    fn with_colon(&self) -> String {
        let lasting = self.lasting_text();
        match self.has_before() {
            true => format!("{}: {} -> {}{lasting}", self.metric, self.before, self.after),
            false => format!("{}: {}{lasting}", self.metric, self.after),
        }
    }

    /// The figure as people write it: `QPS 12,800 -> 3,000`, `4,100 failed orders`.
    fn plain(&self) -> String {
        let lasting = self.lasting_text();
        match self.has_before() {
            true => format!("{} {} -> {}{lasting}", self.metric, self.before, self.after),
            false => format!("{} {}{lasting}", self.after, self.metric),
        }
    }

    fn lasting_text(&self) -> String {
        match self.lasting.is_empty() {
            true => String::new(),
            false => format!(" for {}", self.lasting),
        }
    }
}

/// `what before -> after [for how long]`.
fn parse_change(left: &str, right: &str) -> Result<Figure, String> {
    let (metric, before) = match left.split_once(':') {
        Some((metric, before)) => (metric.trim(), before.trim()),
        None => split_at_last_number(left),
    };
    if metric.is_empty() {
        return Err(format!("say what was measured before its value, like \"{EXAMPLE}\"."));
    }
    let (after, lasting) = match right.split_once(" for ") {
        Some((after, lasting)) => (after.trim(), lasting.trim()),
        None => (right, ""),
    };
    if before.is_empty() || after.is_empty() {
        return Err(format!("give the value before and after the arrow, like \"{EXAMPLE}\"."));
    }
    Ok(figure(metric, before, after, lasting))
}

/// `4,100 failed orders`, `failed orders 4,100` or `failed orders: 4,100`,
/// each perhaps followed by `for 23 min`.
fn parse_single(line: &str) -> Result<Figure, String> {
    let (metric, value, lasting) = match line.split_once(':') {
        Some((metric, rest)) => {
            let (value, lasting) = rest.split_once(" for ").unwrap_or((rest, ""));
            (metric.trim(), value.trim(), lasting.trim())
        }
        None => {
            // `for` starts how long only when a number follows it: `orders for checkout` is a metric.
            let (text, lasting) = line
                .rmatch_indices(" for ")
                .map(|(at, separator)| (&line[..at], line[at + separator.len()..].trim()))
                .find(|(_, lasting)| starts_with_number(lasting))
                .unwrap_or((line, ""));
            let (metric, value) = match text.split_once(char::is_whitespace) {
                Some((value, metric)) if starts_with_number(value) => (metric.trim(), value),
                _ => split_at_last_number(text),
            };
            (metric, value, lasting)
        }
    };
    if !value.contains(|c: char| c.is_ascii_digit()) {
        return Err(format!(
            "write a figure as what, before -> after, like \"{EXAMPLE}\", or as one value, like \"{SINGLE_EXAMPLE}\"."
        ));
    }
    if metric.is_empty() {
        return Err(format!("say what was measured next to its value, like \"{SINGLE_EXAMPLE}\"."));
    }
    Ok(figure(metric, "", value, lasting))
}

fn figure(metric: &str, before: &str, after: &str, lasting: &str) -> Figure {
    Figure {
        metric: metric.to_owned(),
        before: before.to_owned(),
        after: after.to_owned(),
        lasting: lasting.to_owned(),
    }
}

/// `QPS 12,800 -> 3,000 for 47 min` or `4,100 failed orders`, as typed and
/// as the history records it; with a colon after the metric when the plain
/// form would read back as another figure. A metric that starts with a
/// number always has its colon, as it always had, so figures recorded in the
/// history read the same after an edit.
impl fmt::Display for Figure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let plain = self.plain();
        let reads_back = || Figure::parse(&plain).is_ok_and(|read| read == *self);
        match !starts_with_number(&self.metric) && reads_back() {
            true => f.write_str(&plain),
            false => f.write_str(&self.with_colon()),
        }
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

/// `Checkout 5xx rate 0.05%` -> (`Checkout 5xx rate`, `0.05%`), `p99 latency
/// 120 ms` -> (`p99 latency`, `120 ms`): the value starts at the last word
/// that starts with a number (or `~`, `<`, `>`, `$` and one), so numbers in
/// the metric's name stay in it, and the words after it are its unit.
fn split_at_last_number(text: &str) -> (&str, &str) {
    let mut offset = 0;
    let mut value_at = None;
    for word in text.split_inclusive(char::is_whitespace) {
        if starts_with_number(word) {
            value_at = Some(offset);
        }
        offset += word.len();
    }
    match value_at {
        Some(at) => (text[..at].trim(), text[at..].trim()),
        None => (text, ""),
    }
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
    fn numbers_in_the_metric_stay_in_the_metric() {
        assert_eq!(
            Figure::parse("Checkout 5xx rate 0.05% -> 6% for 23 min").unwrap(),
            figure("Checkout 5xx rate", "0.05%", "6%", "23 min")
        );
        assert_eq!(
            Figure::parse("p99 latency of 3 regions 120 ms -> 8.9 s").unwrap(),
            figure("p99 latency of 3 regions", "120 ms", "8.9 s", "")
        );
        assert_eq!(Figure::parse("Revenue $1.2M -> $0.4M").unwrap(), figure("Revenue", "$1.2M", "$0.4M", ""));
    }

    #[test]
    fn a_single_value_is_a_figure_without_a_before() {
        let cases = [
            ("4,100 failed orders", figure("failed orders", "", "4,100", "")),
            ("failed orders 4,100", figure("failed orders", "", "4,100", "")),
            ("failed orders: 4,100", figure("failed orders", "", "4,100", "")),
            ("4,100 failed orders for 23 min", figure("failed orders", "", "4,100", "23 min")),
            ("refunds for checkout $12,000", figure("refunds for checkout", "", "$12,000", "")),
            ("5xx errors: ~900 for 10 min", figure("5xx errors", "", "~900", "10 min")),
        ];
        for (line, expected) in cases {
            let read = Figure::parse(line).unwrap();
            assert!(!read.has_before(), "{line}");
            assert_eq!(read, expected, "{line}");
        }
        assert!(Figure::parse(EXAMPLE).unwrap().has_before());
    }

    #[test]
    fn a_single_value_keeps_the_json_shape() {
        let json = serde_json::to_value(figure("failed orders", "", "4,100", "")).unwrap();
        assert_eq!(json, serde_json::json!({"metric": "failed orders", "before": "", "after": "4,100"}));
        let without_before: Figure =
            serde_json::from_value(serde_json::json!({"metric": "failed orders", "after": "4,100"})).unwrap();
        assert_eq!(without_before, figure("failed orders", "", "4,100", ""));
    }

    #[test]
    fn a_figure_written_out_reads_back_the_same() {
        for line in [
            EXAMPLE,
            "p99 latency 120 ms -> 8.9 s",
            "5xx rate: 0.1% -> 27% for 12 min",
            "Checkout 5xx rate 0.05% -> 6% for 23 min",
            "4,100 failed orders",
            "failed orders 4,100 for 23 min",
            "refunds for checkout $12,000",
        ] {
            let figure = Figure::parse(line).unwrap();
            assert_eq!(Figure::parse(&figure.to_string()).unwrap(), figure, "{line}");
        }
        // Figures whose plain form would read back as another figure get a colon.
        let awkward = [
            figure("5xx rate", "0.1%", "27%", ""),
            figure("Downtime", "1 h 20 min", "3 h", ""),
            figure("orders for", "", "4 000", "2 h"),
            figure("5xx", "", "12", ""),
            figure("Checkout 5xx rate", "0.05%", "6%", "23 min"),
            figure("failed orders", "", "4,100 orders", "23 min"),
        ];
        for figure in awkward {
            assert_eq!(Figure::parse(&figure.to_string()).unwrap(), figure, "{figure}");
        }
        assert_eq!(figure("5xx rate", "0.1%", "27%", "").to_string(), "5xx rate: 0.1% -> 27%");
        assert_eq!(figure("Downtime", "1 h 20 min", "3 h", "").to_string(), "Downtime: 1 h 20 min -> 3 h");
        assert_eq!(figure("failed orders", "", "4,100", "").to_string(), "4,100 failed orders");
        assert_eq!(
            figure("Checkout 5xx rate", "0.05%", "6%", "23 min").to_string(),
            "Checkout 5xx rate 0.05% -> 6% for 23 min"
        );
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
        assert!(parse_figures("things: got slow").unwrap_err().contains("or as one value"));
        assert!(parse_figures("4,100").unwrap_err().contains("say what was measured next to"));
        assert_eq!(parse_figures(" \n").unwrap(), Vec::new());
    }
}
