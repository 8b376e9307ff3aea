//! Charts as SVG, written here rather than with a chart crate: the three
//! shapes the insights need (stacked columns, horizontal bars, lines with
//! points) are a few hundred lines, where a maintained crate (plotters,
//! charming) would be a large build for a 2-core CI and would set its own
//! colours and fonts. Written by hand, every colour is a CSS class that
//! `app.css` maps to the theme's variables, so a chart follows dark mode
//! like the rest of the page; text is `currentColor`; the `viewBox` lets a
//! chart scale to its container, a phone's width included.
//!
//! A chart is for the eye. It is hidden from assistive technology, and its
//! links are out of the tab order: the table beside each chart holds the
//! same numbers and the same links, for screen readers, keyboards and
//! copying.

use std::fmt::Write;

use crate::web::markdown::escape_html;

/// The width of every chart, in its own units; text is sized to stay
/// readable when a phone scales this to its width.
const WIDTH: f64 = 400.0;
const FONT: f64 = 11.0;

/// One part of a column or a bar.
#[derive(Debug, Clone)]
pub struct Segment {
    pub value: f64,
    /// The CSS class that colours it.
    pub class: &'static str,
    /// Where the things it counts are listed.
    pub link: Option<String>,
    /// What a pointer resting on it is told.
    pub tip: String,
}

/// A column of the x axis (a month), its segments stacked bottom up.
#[derive(Debug, Clone)]
pub struct Column {
    /// Short, shown under the column (`Mar`).
    pub label: String,
    /// Shown under the label where it changes (the year).
    pub sublabel: Option<String>,
    pub segments: Vec<Segment>,
}

/// A horizontal bar with its label above it, segments left to right.
#[derive(Debug, Clone)]
pub struct Bar {
    pub label: String,
    /// Written after the bar's end.
    pub value_text: String,
    pub segments: Vec<Segment>,
}

/// A point of a line; `None` where the month has no value.
#[derive(Debug, Clone)]
pub struct Point {
    pub value: f64,
    pub link: Option<String>,
    pub tip: String,
}

/// One line of a line chart, a point (or none) per column.
#[derive(Debug, Clone)]
pub struct Series {
    pub class: &'static str,
    pub dashed: bool,
    pub points: Vec<Option<Point>>,
}

/// An entry of a chart's legend: its text and the class of its swatch.
pub type Legend<'a> = &'a [(&'a str, &'static str)];

/// How a value axis writes its ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    Count,
    /// Seconds, written in the unit that suits the largest value.
    Duration,
}

fn num(value: f64) -> String {
    let rounded = (value * 10.0).round() / 10.0;
    if rounded.fract() == 0.0 { format!("{rounded:.0}") } else { format!("{rounded:.1}") }
}

/// A duration in seconds as people say it: `45 s`, `12 min`, `3.5 h`, `2.1 d`.
pub fn duration(seconds: f64) -> String {
    let (value, unit) = duration_unit(seconds.abs());
    let sign = if seconds < 0.0 { "-" } else { "" };
    format!("{sign}{} {unit}", num(seconds.abs() / value))
}

/// The unit to write `seconds` in: its length in seconds and its name.
fn duration_unit(seconds: f64) -> (f64, &'static str) {
    if seconds < 90.0 {
        (1.0, "s")
    } else if seconds < 90.0 * 60.0 {
        (60.0, "min")
    } else if seconds < 48.0 * 3600.0 {
        (3600.0, "h")
    } else {
        (86400.0, "d")
    }
}

/// The ticks of an axis from 0 to at least `max`: 1, 2 or 5 times a power
/// of ten apart, about four of them, in the scale's unit.
fn ticks(max: f64, scale: Scale) -> (Vec<f64>, Box<dyn Fn(f64) -> String>) {
    let (unit, name) = match scale {
        Scale::Count => (1.0, ""),
        Scale::Duration => duration_unit(max),
    };
    let top = (max / unit).max(if scale == Scale::Count { 1.0 } else { 0.1 });
    let raw = top / 4.0;
    let power = 10f64.powf(raw.log10().floor());
    let step =
        [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * power).find(|s| *s >= raw).unwrap_or(power * 10.0);
    let step = if scale == Scale::Count { step.max(1.0) } else { step };
    let count = (top / step).ceil() as usize;
    let values = (0..=count).map(|i| i as f64 * step * unit).collect();
    let label: Box<dyn Fn(f64) -> String> = match scale {
        Scale::Count => Box::new(num),
        Scale::Duration => {
            Box::new(move |v| if v == 0.0 { "0".into() } else { format!("{} {name}", num(v / unit)) })
        }
    };
    (values, label)
}

fn open_svg(out: &mut String, height: f64) {
    let _ = write!(
        out,
        r#"<svg class="chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" width="{WIDTH}" height="{height}" aria-hidden="true" focusable="false" font-size="{FONT}">"#
    );
}

fn legend(out: &mut String, entries: Legend<'_>) {
    let mut x = 4.0;
    for (text, class) in entries {
        let _ = write!(
            out,
            r#"<rect class="{class}" x="{x:.1}" y="4" width="10" height="10" rx="2"/><text class="chart-text" x="{:.1}" y="13">{}</text>"#,
            x + 14.0,
            escape_html(text)
        );
        x += 24.0 + text.chars().count() as f64 * FONT * 0.58;
    }
}

/// A shape, inside a link when it has one.
fn linked(out: &mut String, link: &Option<String>, tip: &str, shape: &str) {
    let titled = format!("{shape}<title>{}</title>", escape_html(tip));
    match link {
        Some(href) => {
            let _ = write!(out, r#"<a href="{}" tabindex="-1">{titled}</a>"#, escape_html(href));
        }
        None => out.push_str(&format!("<g>{titled}</g>")),
    }
}

/// The frame of a chart over columns: where the plot is.
struct Frame {
    left: f64,
    top: f64,
    width: f64,
    height: f64,
    slots: usize,
}

impl Frame {
    fn new(slots: usize) -> Frame {
        let (left, top, right, bottom) = (44.0, 24.0, 6.0, 30.0);
        Frame { left, top, width: WIDTH - left - right, height: 220.0 - top - bottom, slots: slots.max(1) }
    }

    fn slot(&self) -> f64 {
        self.width / self.slots as f64
    }

    fn center(&self, index: usize) -> f64 {
        self.left + self.slot() * (index as f64 + 0.5)
    }

    fn y(&self, value: f64, max: f64) -> f64 {
        self.top + self.height - value / max * self.height
    }

    fn bottom(&self) -> f64 {
        self.top + self.height
    }

    /// The grid lines and the value axis's labels; the axis's top.
    fn value_axis(&self, out: &mut String, max: f64, scale: Scale) -> f64 {
        let (values, label) = ticks(max, scale);
        let top = values.last().copied().filter(|top| *top > 0.0).unwrap_or(1.0);
        for value in &values {
            let y = self.y(*value, top);
            let _ = write!(
                out,
                r#"<line class="chart-grid" x1="{}" x2="{}" y1="{y:.1}" y2="{y:.1}"/><text class="chart-text chart-muted" x="{}" y="{:.1}" text-anchor="end">{}</text>"#,
                self.left,
                self.left + self.width,
                self.left - 4.0,
                y + FONT * 0.35,
                escape_html(&label(*value))
            );
        }
        top
    }

    /// The column labels, every `step`-th one when they would crowd.
    fn labels(&self, out: &mut String, labels: &[(&str, Option<&str>)]) {
        let step = labels.len().div_ceil(12).max(1);
        for (index, (label, sublabel)) in labels.iter().enumerate() {
            if index % step != 0 {
                continue;
            }
            let x = self.center(index);
            let y = self.bottom() + FONT + 3.0;
            let _ = write!(
                out,
                r#"<text class="chart-text" x="{x:.1}" y="{y:.1}" text-anchor="middle">{}</text>"#,
                escape_html(label)
            );
            if let Some(sublabel) = sublabel {
                let _ = write!(
                    out,
                    r#"<text class="chart-text chart-muted" x="{x:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
                    y + FONT + 1.0,
                    escape_html(sublabel)
                );
            }
        }
    }
}

/// Stacked columns, one per month.
pub fn columns(columns: &[Column], entries: Legend<'_>) -> String {
    let frame = Frame::new(columns.len());
    let mut out = String::new();
    open_svg(&mut out, 220.0);
    legend(&mut out, entries);
    let max = columns.iter().map(|c| c.segments.iter().map(|s| s.value).sum::<f64>()).fold(0.0, f64::max);
    let top = frame.value_axis(&mut out, max, Scale::Count);
    let width = (frame.slot() * 0.7).max(1.0);
    for (index, column) in columns.iter().enumerate() {
        let x = frame.center(index) - width / 2.0;
        let mut base = 0.0;
        for segment in column.segments.iter().filter(|s| s.value > 0.0) {
            let y = frame.y(base + segment.value, top);
            let height = frame.y(base, top) - y;
            let shape = format!(
                r#"<rect class="{}" x="{x:.1}" y="{y:.1}" width="{width:.1}" height="{height:.1}"/>"#,
                segment.class
            );
            linked(&mut out, &segment.link, &segment.tip, &shape);
            base += segment.value;
        }
    }
    let labels: Vec<(&str, Option<&str>)> =
        columns.iter().map(|c| (c.label.as_str(), c.sublabel.as_deref())).collect();
    frame.labels(&mut out, &labels);
    axis_line(&mut out, &frame);
    out.push_str("</svg>");
    out
}

fn axis_line(out: &mut String, frame: &Frame) {
    let _ = write!(
        out,
        r#"<line class="chart-axis" x1="{}" x2="{}" y1="{:.1}" y2="{:.1}"/>"#,
        frame.left,
        frame.left + frame.width,
        frame.bottom(),
        frame.bottom()
    );
}

/// Lines over months, each point a link; a gap where a month has no value.
pub fn lines(
    labels: &[(String, Option<String>)],
    series: &[Series],
    entries: Legend<'_>,
    scale: Scale,
) -> String {
    let frame = Frame::new(labels.len());
    let mut out = String::new();
    open_svg(&mut out, 220.0);
    legend(&mut out, entries);
    let max = series.iter().flat_map(|s| s.points.iter().flatten().map(|p| p.value)).fold(0.0, f64::max);
    let top = frame.value_axis(&mut out, max, scale);
    for line in series {
        let dash = if line.dashed { r#" stroke-dasharray="5 3""# } else { "" };
        // A run of months with values is one polyline; a gap ends it.
        let mut run: Vec<String> = Vec::new();
        let flush = |run: &mut Vec<String>, out: &mut String| {
            if run.len() > 1 {
                let _ = write!(
                    out,
                    r#"<polyline class="{}-line" fill="none"{dash} points="{}"/>"#,
                    line.class,
                    run.join(" ")
                );
            }
            run.clear();
        };
        for (index, point) in line.points.iter().enumerate() {
            match point {
                Some(point) => {
                    run.push(format!("{:.1},{:.1}", frame.center(index), frame.y(point.value.max(0.0), top)))
                }
                None => flush(&mut run, &mut out),
            }
        }
        flush(&mut run, &mut out);
        for (index, point) in line.points.iter().enumerate() {
            if let Some(point) = point {
                let shape = format!(
                    r#"<circle class="{}" cx="{:.1}" cy="{:.1}" r="4"/>"#,
                    line.class,
                    frame.center(index),
                    frame.y(point.value.max(0.0), top)
                );
                linked(&mut out, &point.link, &point.tip, &shape);
            }
        }
    }
    let labels: Vec<(&str, Option<&str>)> = labels.iter().map(|(l, s)| (l.as_str(), s.as_deref())).collect();
    frame.labels(&mut out, &labels);
    axis_line(&mut out, &frame);
    out.push_str("</svg>");
    out
}

/// Horizontal bars, largest first as given, each with its label above it.
pub fn bars(bars: &[Bar], entries: Legend<'_>) -> String {
    const ROW: f64 = 34.0;
    let top = if entries.is_empty() { 4.0 } else { 24.0 };
    let height = top + ROW * bars.len() as f64 + 4.0;
    let mut out = String::new();
    open_svg(&mut out, height);
    legend(&mut out, entries);
    let max =
        bars.iter().map(|b| b.segments.iter().map(|s| s.value).sum::<f64>()).fold(0.0, f64::max).max(1.0);
    // Room after the longest bar for its value.
    let span = WIDTH - 8.0 - 56.0;
    for (index, bar) in bars.iter().enumerate() {
        let y = top + ROW * index as f64;
        let _ = write!(
            out,
            r#"<text class="chart-text" x="4" y="{:.1}">{}</text>"#,
            y + FONT + 1.0,
            escape_html(&bar.label)
        );
        let mut x = 4.0;
        for segment in bar.segments.iter().filter(|s| s.value > 0.0) {
            let width = (segment.value / max * span).max(1.0);
            let shape = format!(
                r#"<rect class="{}" x="{x:.1}" y="{:.1}" width="{width:.1}" height="12" rx="2"/>"#,
                segment.class,
                y + FONT + 5.0
            );
            linked(&mut out, &segment.link, &segment.tip, &shape);
            x += width;
        }
        let _ = write!(
            out,
            r#"<text class="chart-text" x="{:.1}" y="{:.1}">{}</text>"#,
            x + 5.0,
            y + FONT * 2.0 + 4.0,
            escape_html(&bar.value_text)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segment(value: f64, link: &str) -> Segment {
        Segment { value, class: "bar", link: Some(link.into()), tip: format!("{value} <incidents>") }
    }

    #[test]
    fn durations_are_written_in_the_unit_that_suits_them() {
        assert_eq!(duration(45.0), "45 s");
        assert_eq!(duration(750.0), "12.5 min");
        assert_eq!(duration(3.0 * 3600.0), "3 h");
        assert_eq!(duration(5.0 * 86400.0), "5 d");
        assert_eq!(duration(-120.0), "-2 min");
    }

    #[test]
    fn ticks_are_round_and_cover_the_largest_value() {
        let (values, label) = ticks(7.0, Scale::Count);
        assert_eq!(values, [0.0, 2.0, 4.0, 6.0, 8.0]);
        assert_eq!(label(8.0), "8");
        let (values, label) = ticks(50.0 * 60.0, Scale::Duration);
        assert_eq!(values.last().copied(), Some(60.0 * 60.0));
        assert_eq!(label(values[1]), "20 min");
        assert_eq!(ticks(0.0, Scale::Count).0, [0.0, 1.0]);
    }

    #[test]
    fn each_part_links_to_what_it_counts_and_text_is_escaped() {
        let svg = columns(
            &[Column {
                label: "Mar".into(),
                sublabel: Some("2026".into()),
                segments: vec![segment(2.0, "/incidents?a=1&b=2"), segment(0.0, "/nothing")],
            }],
            &[("SEV<1>", "sev1")],
        );
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"<a href="/incidents?a=1&amp;b=2" tabindex="-1">"#));
        assert!(!svg.contains("/nothing"), "an empty part is not drawn");
        assert!(svg.contains("SEV&lt;1&gt;") && svg.contains("2 &lt;incidents&gt;"));
        let bars = bars(
            &[Bar {
                label: "goroutine leak".into(),
                value_text: "3".into(),
                segments: vec![segment(3.0, "/x")],
            }],
            &[],
        );
        assert_eq!(bars.matches("<a href").count(), 1);
    }

    #[test]
    fn a_line_breaks_where_a_month_has_no_value() {
        let point = |v: f64| Some(Point { value: v, link: Some("/m".into()), tip: String::new() });
        let labels: Vec<(String, Option<String>)> = (0..4).map(|i| (format!("M{i}"), None)).collect();
        let svg = lines(
            &labels,
            &[Series {
                class: "median",
                dashed: false,
                points: vec![point(1.0), point(2.0), None, point(3.0)],
            }],
            &[],
            Scale::Duration,
        );
        assert_eq!(svg.matches("<polyline").count(), 1, "a lone point after a gap is a point only");
        assert_eq!(svg.matches("<circle").count(), 3);
    }
}
