//! The insights pages: the figures, each a chart with its table beside it,
//! and the lists behind the figures.

use askama::Template;
use time::Date;

use super::{
    chart::{self, Bar, Column, Point, Scale, Segment, Series},
    db::{IncidentRow, ItemRow},
    domain::InsightsParams,
    figures::{Insights, MonthFigures, Spread},
};
use crate::{incidents::domain::Severity, web::PageCtx};

/// A cell of a table: its text, and the list behind it when it counts
/// something.
pub struct Cell {
    pub text: String,
    pub link: Option<String>,
    pub numeric: bool,
}

impl Cell {
    fn text(text: impl Into<String>) -> Cell {
        Cell { text: text.into(), link: None, numeric: false }
    }

    fn link(text: impl Into<String>, link: &str) -> Cell {
        Cell { text: text.into(), link: Some(link.to_owned()), numeric: false }
    }

    /// A count, linked to what it counts unless it is none.
    fn count(count: i64, link: &str) -> Cell {
        Cell { text: count.to_string(), link: (count > 0).then(|| link.to_owned()), numeric: true }
    }

    fn duration(seconds: Option<f64>) -> Cell {
        Cell { text: seconds.map_or_else(|| "–".to_owned(), chart::duration), link: None, numeric: true }
    }
}

/// One figure: a chart and its table, or a note that there is nothing.
pub struct Section {
    pub id: &'static str,
    pub title: &'static str,
    pub about: String,
    pub svg: String,
    pub caption: String,
    pub headers: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

impl Section {
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// The filter form, holding what was asked as it was typed.
pub struct FilterForm {
    pub params: InsightsParams,
    pub categories: Vec<String>,
}

impl FilterForm {
    /// The value typed into `name`, or "".
    pub fn value(&self, name: &str) -> &str {
        let p = &self.params;
        let value = match name {
            "from" => &p.from,
            "to" => &p.to,
            "service" => &p.service,
            "severity" => &p.severity,
            "cause" => &p.cause,
            _ => &None,
        };
        value.as_deref().unwrap_or_default()
    }

    pub fn severities(&self) -> [Severity; 4] {
        Severity::ALL
    }

    pub fn is_chosen(&self, name: &str, value: &str) -> bool {
        self.value(name).eq_ignore_ascii_case(value)
    }
}

#[derive(Template)]
#[template(path = "insights/show.html")]
pub struct InsightsPage {
    pub ctx: PageCtx,
    pub form: FilterForm,
    /// What is wrong with the filters, when they were refused.
    pub problem: Option<String>,
    pub figures: Option<Summary>,
    pub sections: Vec<Section>,
}

/// The line above the figures.
pub struct Summary {
    /// When the figures were computed, in the reader's zone.
    pub computed_at: String,
    pub incidents: i64,
    pub from: String,
    pub to: String,
    pub link: String,
    pub api_link: String,
    pub open: i64,
    pub overdue: i64,
    pub done: i64,
    pub median_close: String,
    pub open_link: String,
    pub overdue_link: String,
    pub done_link: String,
}

impl InsightsPage {
    pub fn refused(ctx: PageCtx, form: FilterForm, problem: String) -> InsightsPage {
        InsightsPage { ctx, form, problem: Some(problem), figures: None, sections: Vec::new() }
    }

    pub fn new(ctx: PageCtx, form: FilterForm, insights: &Insights, query: &str) -> InsightsPage {
        let items = &insights.action_items;
        let summary = Summary {
            computed_at: ctx.time(&insights.computed_at),
            incidents: insights.incidents,
            from: insights.filters.from.clone(),
            to: insights.filters.to.clone(),
            link: insights.link.clone(),
            api_link: format!("/api/v1/insights?{query}"),
            open: items.open,
            overdue: items.overdue,
            done: items.done,
            median_close: items.median_close_seconds.map_or_else(|| "–".to_owned(), chart::duration),
            open_link: items.open_link.clone(),
            overdue_link: items.overdue_link.clone(),
            done_link: items.done_link.clone(),
        };
        let sections = vec![
            severity_section(insights),
            milestone_section(insights, "detect", "Time to detect", |m| m.detect, "detected"),
            milestone_section(insights, "mitigate", "Time to mitigate", |m| m.mitigate, "mitigated"),
            milestone_section(insights, "resolve", "Time to resolve", |m| m.resolve, "resolved"),
            causes_section(insights),
            suspects_section(insights),
            recurring_section(insights),
            done_section(insights),
            owners_section(insights),
            playbooks_section(insights),
        ];
        InsightsPage { ctx, form, problem: None, figures: Some(summary), sections }
    }
}

/// `Mar` under each month, and the year under January and the first month.
fn month_labels(months: &[MonthFigures]) -> Vec<(String, Option<String>)> {
    months
        .iter()
        .enumerate()
        .map(|(index, month)| {
            let label = month.first_day.month().to_string()[..3].to_owned();
            let year = (index == 0 || u8::from(month.first_day.month()) == 1)
                .then(|| month.first_day.year().to_string());
            (label, year)
        })
        .collect()
}

/// `March 2026`.
fn month_title(first_day: Date) -> String {
    format!("{} {}", first_day.month(), first_day.year())
}

const SEVERITY_CLASSES: [&str; 4] = ["chart-sev1", "chart-sev2", "chart-sev3", "chart-sev4"];

fn severity_section(insights: &Insights) -> Section {
    let labels = month_labels(&insights.months);
    let columns: Vec<Column> = insights
        .months
        .iter()
        .zip(labels)
        .map(|(month, (label, sublabel))| Column {
            label,
            sublabel,
            segments: month
                .severities
                .iter()
                .zip(SEVERITY_CLASSES)
                .map(|(count, class)| Segment {
                    value: count.incidents as f64,
                    class,
                    link: Some(count.link.clone()),
                    tip: format!(
                        "{}: {} {} incidents",
                        month_title(month.first_day),
                        count.incidents,
                        count.severity
                    ),
                })
                .collect(),
        })
        .collect();
    let legend: Vec<(&str, &'static str)> =
        Severity::ALL.iter().map(|s| s.as_str()).zip(SEVERITY_CLASSES).collect();
    let rows = insights
        .months
        .iter()
        .map(|month| {
            let mut row = vec![Cell::link(month_title(month.first_day), &month.link)];
            row.extend(month.severities.iter().map(|count| Cell::count(count.incidents, &count.link)));
            row.push(Cell::count(month.incidents, &month.link));
            row
        })
        .collect();
    Section {
        id: "severity",
        title: "Incidents per month",
        about: "By severity, on the month each incident started.".into(),
        svg: chart::columns(&columns, &legend),
        caption: "Incidents per month by severity".into(),
        headers: vec!["Month", "SEV1", "SEV2", "SEV3", "SEV4", "All"],
        rows: if insights.incidents == 0 { Vec::new() } else { rows },
    }
}

fn milestone_section(
    insights: &Insights,
    id: &'static str,
    title: &'static str,
    spread: fn(&MonthFigures) -> Spread,
    reached: &str,
) -> Section {
    let point = |month: &MonthFigures, value: Option<f64>, what: &str| {
        value.map(|value| Point {
            value,
            link: Some(month.link.clone()),
            tip: format!(
                "{}: {what} {} over {} incidents {reached}",
                month_title(month.first_day),
                chart::duration(value),
                spread(month).incidents
            ),
        })
    };
    let series = vec![
        Series {
            class: "chart-p90",
            dashed: true,
            points: insights.months.iter().map(|m| point(m, spread(m).p90_seconds, "p90")).collect(),
        },
        Series {
            class: "chart-median",
            dashed: false,
            points: insights.months.iter().map(|m| point(m, spread(m).median_seconds, "median")).collect(),
        },
    ];
    let reached_any = insights.months.iter().any(|m| spread(m).incidents > 0);
    let rows = insights
        .months
        .iter()
        .map(|month| {
            let figures = spread(month);
            vec![
                Cell::link(month_title(month.first_day), &month.link),
                Cell {
                    text: format!("{} of {}", figures.incidents, month.incidents),
                    link: None,
                    numeric: true,
                },
                Cell::duration(figures.median_seconds),
                Cell::duration(figures.p90_seconds),
            ]
        })
        .collect();
    Section {
        id,
        title,
        about: format!(
            "From the start to the moment it was {reached}, per month of the start, over the incidents {reached}: \
             the median and the 90th percentile, interpolated between the two nearest values (percentile_cont)."
        ),
        svg: chart::lines(
            &month_labels(&insights.months),
            &series,
            &[("median", "chart-median"), ("p90", "chart-p90")],
            Scale::Duration,
        ),
        caption: format!("{title}: median and 90th percentile per month"),
        headers: vec!["Month", "Incidents", "Median", "p90"],
        rows: if reached_any { rows } else { Vec::new() },
    }
}

fn ranked_bars(rows: &[(String, i64, String)], what: &str) -> String {
    let bars: Vec<Bar> = rows
        .iter()
        .map(|(name, count, link)| Bar {
            label: name.clone(),
            value_text: count.to_string(),
            segments: vec![Segment {
                value: *count as f64,
                class: "chart-bar",
                link: Some(link.clone()),
                tip: format!("{name}: {count} {what}"),
            }],
        })
        .collect();
    chart::bars(&bars, &[])
}

fn causes_section(insights: &Insights) -> Section {
    let bars: Vec<(String, i64, String)> =
        insights.causes.iter().map(|c| (c.name.clone(), c.incidents, c.link.clone())).collect();
    Section {
        id: "causes",
        title: "Cause categories",
        about: "The most frequent, by the incidents with a cause of each.".into(),
        svg: ranked_bars(&bars, "incidents"),
        caption: "Incidents by cause category".into(),
        headers: vec!["Category", "Incidents"],
        rows: insights
            .causes
            .iter()
            .map(|c| vec![Cell::text(&c.name), Cell::count(c.incidents, &c.link)])
            .collect(),
    }
}

fn suspects_section(insights: &Insights) -> Section {
    let bars: Vec<(String, i64, String)> =
        insights.suspects.iter().map(|s| (s.name.clone(), s.incidents, s.link.clone())).collect();
    Section {
        id: "suspects",
        title: "Suspects in the evidence",
        about: "The leak suspects the goroutine dumps show most often, by the incidents whose evidence shows each."
            .into(),
        svg: ranked_bars(&bars, "incidents"),
        caption: "Incidents by suspect".into(),
        headers: vec!["Suspect", "Signature", "Incidents"],
        rows: insights
            .suspects
            .iter()
            .map(|s| {
                vec![
                    Cell::text(&s.name),
                    Cell::text(s.signature.clone().unwrap_or_default()),
                    Cell::count(s.incidents, &s.link),
                ]
            })
            .collect(),
    }
}

fn recurring_section(insights: &Insights) -> Section {
    let all: Vec<(&str, &super::figures::Recurrence)> = insights
        .recurring
        .causes
        .iter()
        .map(|r| ("category", r))
        .chain(insights.recurring.suspects.iter().map(|r| ("suspect", r)))
        .collect();
    let bars: Vec<(String, i64, String)> =
        all.iter().map(|(kind, r)| (format!("{kind}: {}", r.name), r.incidents, r.link.clone())).collect();
    Section {
        id: "recurring",
        title: "Recurring after prevention",
        about: "Cause categories and suspects seen again after an action item of kind prevent, on an incident that \
                showed them, was done: the incidents started from the day after the first such item was done."
            .into(),
        svg: ranked_bars(&bars, "incidents since"),
        caption: "Recurrences after a preventive action item was done".into(),
        headers: vec!["Kind", "Name", "Prevented by", "Done on", "Incidents since"],
        rows: all
            .iter()
            .map(|(kind, r)| {
                vec![
                    Cell::text(*kind),
                    Cell::text(&r.name),
                    Cell::link(
                        format!("{} ({})", r.prevented_by.title, r.prevented_by.incident),
                        &format!("/incidents/{}", r.prevented_by.incident),
                    ),
                    Cell::text(&r.since),
                    Cell::count(r.incidents, &r.link),
                ]
            })
            .collect(),
    }
}

fn done_section(insights: &Insights) -> Section {
    let items = &insights.action_items;
    let labels = month_labels(&insights.months);
    let columns: Vec<Column> = items
        .months
        .iter()
        .zip(&insights.months)
        .zip(labels)
        .map(|((done, month), (label, sublabel))| Column {
            label,
            sublabel,
            segments: vec![Segment {
                value: done.done as f64,
                class: "chart-done",
                link: Some(done.link.clone()),
                tip: format!("{}: {} action items done", month_title(month.first_day), done.done),
            }],
        })
        .collect();
    let rows = items
        .months
        .iter()
        .zip(&insights.months)
        .map(|(done, month)| {
            vec![
                Cell::text(month_title(month.first_day)),
                Cell::count(done.done, &done.link),
                Cell::duration(done.median_close_seconds),
            ]
        })
        .collect();
    Section {
        id: "done",
        title: "Action items done per month",
        about: "Action items of the selected incidents (whenever they started) done in each month, and the median \
                time from their creation to done."
            .into(),
        svg: chart::columns(&columns, &[("done", "chart-done")]),
        caption: "Action items done per month".into(),
        headers: vec!["Month", "Done", "Median time to close"],
        rows: if items.done == 0 { Vec::new() } else { rows },
    }
}

fn owners_section(insights: &Insights) -> Section {
    let owners = &insights.action_items.owners;
    let name = |owner: &Option<String>| owner.clone().unwrap_or_else(|| "nobody".to_owned());
    let bars: Vec<Bar> = owners
        .iter()
        .filter(|o| o.open > 0)
        .map(|o| Bar {
            label: name(&o.owner),
            value_text: format!("{} open, {} overdue", o.open, o.overdue),
            segments: vec![
                Segment {
                    value: o.overdue as f64,
                    class: "chart-overdue",
                    link: Some(o.overdue_link.clone()),
                    tip: format!("{}: {} overdue", name(&o.owner), o.overdue),
                },
                Segment {
                    value: (o.open - o.overdue) as f64,
                    class: "chart-open",
                    link: Some(o.open_link.clone()),
                    tip: format!("{}: {} open, not overdue", name(&o.owner), o.open - o.overdue),
                },
            ],
        })
        .collect();
    Section {
        id: "owners",
        title: "Action items by owner",
        about:
            "Open and overdue as of today, whenever their incident started; done, and the median time from \
                creation to done, within the range."
                .into(),
        svg: chart::bars(&bars, &[("overdue", "chart-overdue"), ("open", "chart-open")]),
        caption: "Action items by owner".into(),
        headers: vec!["Owner", "Open", "Overdue", "Done", "Median time to close"],
        rows: owners
            .iter()
            .map(|o| {
                vec![
                    Cell::text(name(&o.owner)),
                    Cell::count(o.open, &o.open_link),
                    Cell::count(o.overdue, &o.overdue_link),
                    Cell::count(o.done, &o.done_link),
                    Cell::duration(o.median_close_seconds),
                ]
            })
            .collect(),
    }
}

fn playbooks_section(insights: &Insights) -> Section {
    let bars: Vec<(String, i64, String)> =
        insights.playbooks.iter().map(|p| (p.title.clone(), p.checklists, p.link.clone())).collect();
    Section {
        id: "playbooks",
        title: "Playbook use",
        about: "Checklists made from each playbook on the selected incidents.".into(),
        svg: ranked_bars(&bars, "checklists"),
        caption: "Checklists applied per playbook".into(),
        headers: vec!["Playbook", "Checklists"],
        rows: insights
            .playbooks
            .iter()
            .map(|p| {
                vec![
                    Cell::link(&p.title, &format!("/playbooks/{}", p.slug)),
                    Cell::count(p.checklists, &p.link),
                ]
            })
            .collect(),
    }
}

#[derive(Template)]
#[template(path = "insights/incidents.html")]
pub struct IncidentsPage {
    pub ctx: PageCtx,
    /// What the list shows, in words.
    pub title: String,
    pub incidents: Vec<IncidentRow>,
    pub total: i64,
    pub back: String,
}

#[derive(Template)]
#[template(path = "insights/action_items.html")]
pub struct ActionItemsPage {
    pub ctx: PageCtx,
    pub title: String,
    pub items: Vec<ItemRow>,
    pub total: i64,
    pub back: String,
}
