//! The figures, as the page and the API give them: built from the rows of
//! `db`, each with the link to the list of what is behind it. No I/O.
//!
//! A link goes to the incident list (`/incidents?...`) when its filters can
//! say exactly which incidents are behind a figure, and otherwise to the
//! insights' own lists, which take the same filters and one more: a second
//! cause category, a suspect, a playbook, or action items by state and owner.

use serde::Serialize;
use time::{Date, OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use super::{
    db::{Closure, CountRow, DoneRow, MonthRow, OwnerRow, PlaybookRow},
    domain::{Filters, encode},
};
use crate::{incidents::domain::Severity, web::clock::Zone};

/// How medians and 90th percentiles are computed (see `db`).
pub const PERCENTILE: &str = "percentile_cont";

/// Everything the page and `GET /api/v1/insights` show.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Insights {
    pub filters: Applied,
    /// When these figures were computed: they are kept until a change (see `cache`).
    #[serde(with = "time::serde::rfc3339")]
    pub computed_at: OffsetDateTime,
    /// `percentile_cont`: medians and p90s interpolate between the two
    /// nearest values.
    pub percentile: &'static str,
    /// How many incidents the filters select.
    pub incidents: i64,
    pub link: String,
    pub months: Vec<MonthFigures>,
    pub causes: Vec<Ranked>,
    pub suspects: Vec<Ranked>,
    pub recurring: Recurring,
    pub action_items: ActionItemFigures,
    pub playbooks: Vec<PlaybookUse>,
}

/// The filters the figures were computed with, defaults filled in.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InsightsApplied)]
pub struct Applied {
    pub from: String,
    pub to: String,
    pub service: Option<String>,
    pub severity: Option<Severity>,
    pub cause: Option<String>,
    /// The zone months and days are read in.
    pub zone: String,
    /// Today in that zone: what "overdue" is counted against.
    pub today: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MonthFigures {
    /// `2026-03`.
    pub month: String,
    /// The month's days inside the range.
    pub from: String,
    pub to: String,
    pub incidents: i64,
    /// SEV1 to SEV4, each with the list of its incidents.
    pub severities: Vec<SeverityCount>,
    /// From the start to detection, over the month's incidents detected.
    pub detect: Spread,
    pub mitigate: Spread,
    pub resolve: Spread,
    /// The month's incidents.
    pub link: String,
    #[serde(skip)]
    pub first_day: Date,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SeverityCount {
    pub severity: Severity,
    pub incidents: i64,
    pub link: String,
}

/// How long a milestone took, over the incidents that reached it.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, utoipa::ToSchema)]
pub struct Spread {
    pub incidents: i64,
    pub median_seconds: Option<f64>,
    pub p90_seconds: Option<f64>,
}

/// A cause category or a suspect, and how many incidents show it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Ranked {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
    pub incidents: i64,
    pub link: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = InsightsRecurring)]
pub struct Recurring {
    pub causes: Vec<Recurrence>,
    pub suspects: Vec<Recurrence>,
}

/// A category (or suspect) seen again after a preventive action item for
/// it was done: the incidents that started from the day after.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Recurrence {
    pub name: String,
    pub prevented_by: PreventedBy,
    /// The first day counted: the day after the item was done.
    pub since: String,
    pub incidents: i64,
    pub link: String,
}

/// The first action item of kind `prevent` done for it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PreventedBy {
    pub title: String,
    pub incident: String,
    #[serde(with = "time::serde::rfc3339")]
    pub done_at: OffsetDateTime,
}

/// Action items of the selected incidents, whatever their start: open and
/// overdue as of today, done (and the time to close) within the range.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ActionItemFigures {
    pub open: i64,
    pub overdue: i64,
    pub done: i64,
    /// From creation to done, over the items done in the range.
    pub median_close_seconds: Option<f64>,
    pub open_link: String,
    pub overdue_link: String,
    pub done_link: String,
    pub months: Vec<DoneMonth>,
    pub owners: Vec<OwnerFigures>,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DoneMonth {
    pub month: String,
    pub done: i64,
    pub median_close_seconds: Option<f64>,
    pub link: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct OwnerFigures {
    /// `None`: items nobody owns.
    pub owner_id: Option<Uuid>,
    pub owner: Option<String>,
    pub open: i64,
    pub overdue: i64,
    pub done: i64,
    pub median_close_seconds: Option<f64>,
    pub open_link: String,
    pub overdue_link: String,
    pub done_link: String,
}

#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PlaybookUse {
    pub slug: String,
    pub title: String,
    /// Checklists made from it on the selected incidents.
    pub checklists: i64,
    pub link: String,
}

/// What the figures are built from.
#[derive(Default)]
pub struct Rows {
    pub months: Vec<MonthRow>,
    pub categories: Vec<CountRow>,
    pub suspects: Vec<CountRow>,
    /// Each closure with the number of incidents that recurred since.
    pub category_recurrences: Vec<(Closure, i64)>,
    pub suspect_recurrences: Vec<(Closure, i64)>,
    pub owners: Vec<OwnerRow>,
    pub done: Vec<DoneRow>,
    pub playbooks: Vec<PlaybookRow>,
}

/// The first day counted as a recurrence after an item done at `done_at`:
/// the next day in `zone`, so that a list by whole days shows exactly the
/// incidents counted.
pub fn recurrence_day(done_at: OffsetDateTime, zone: &Zone) -> Date {
    let day = zone.date_of(&done_at);
    day.next_day().unwrap_or(day)
}

/// Where the lists behind the figures are, for one set of filters.
pub struct Links<'a> {
    pub filters: &'a Filters,
}

impl Links<'_> {
    /// The incident list, between `from` and `to`, with `extra` in place of
    /// the filters of the same names.
    pub fn incidents(&self, from: Date, to: Date, extra: &[(&'static str, String)]) -> String {
        let mut pairs = self.filters.pairs(from, to);
        pairs.retain(|(name, _)| !extra.iter().any(|(other, _)| other == name));
        let mut all: Vec<(&str, String)> = extra.to_vec();
        all.extend(pairs);
        format!("/incidents?{}", encode(&all))
    }

    /// The insights' own list of incidents, narrowed by `extra`.
    fn narrowed(&self, from: Date, to: Date, extra: (&'static str, &str)) -> String {
        let mut pairs = self.filters.pairs(from, to);
        pairs.push((extra.0, extra.1.to_owned()));
        format!("/insights/incidents?{}", encode(&pairs))
    }

    /// The incidents with a cause of `category`.
    pub fn category(&self, category: &str, from: Date, to: Date) -> String {
        match &self.filters.cause {
            // The list takes one category: a second one needs ours.
            Some(cause) if cause != category => self.narrowed(from, to, ("category", category)),
            _ => self.incidents(from, to, &[("cause", category.to_owned())]),
        }
    }

    /// The incidents whose evidence shows the suspect `key`.
    pub fn suspect(&self, key: &str, from: Date, to: Date) -> String {
        self.narrowed(from, to, ("suspect", key))
    }

    /// The incidents a playbook was applied to.
    pub fn playbook(&self, slug: &str) -> String {
        self.narrowed(self.filters.from, self.filters.to, ("playbook", slug))
    }

    /// The action items in `state` (`open`, `overdue`, `done`) of `owner`
    /// (`Some(None)`: nobody's; `None`: anyone's), done between `from` and
    /// `to` for `done`.
    pub fn items(&self, state: &str, owner: Option<Option<Uuid>>, from: Date, to: Date) -> String {
        let mut pairs = self.filters.pairs(from, to);
        pairs.push(("state", state.to_owned()));
        match owner {
            None => {}
            Some(None) => pairs.push(("owner", "none".to_owned())),
            Some(Some(id)) => pairs.push(("owner", id.to_string())),
        }
        format!("/insights/action-items?{}", encode(&pairs))
    }
}

fn spread(count: i64, values: Option<Vec<f64>>) -> Spread {
    let values = values.unwrap_or_default();
    Spread { incidents: count, median_seconds: values.first().copied(), p90_seconds: values.get(1).copied() }
}

fn month_name(first_day: Date) -> String {
    format!("{}-{:02}", first_day.year(), u8::from(first_day.month()))
}

/// The figures of `rows`, computed for `filters` in `zone` on `today`, at `computed_at`.
pub fn build(
    filters: &Filters,
    zone: &Zone,
    today: Date,
    computed_at: OffsetDateTime,
    rows: Rows,
) -> Insights {
    let links = Links { filters };
    let (from, to) = (filters.from, filters.to);
    let first_days = filters.months();
    let months: Vec<MonthFigures> = first_days
        .iter()
        .enumerate()
        .map(|(index, first_day)| {
            let row =
                rows.months.iter().find(|row| row.bucket as usize == index + 1).cloned().unwrap_or_default();
            let (start, end) = filters.days_of(*first_day);
            let counts = [row.sev1, row.sev2, row.sev3, row.sev4];
            let severities = Severity::ALL
                .into_iter()
                .zip(counts)
                .map(|(severity, incidents)| SeverityCount {
                    severity,
                    incidents,
                    link: links.incidents(start, end, &[("severity", severity.as_str().to_owned())]),
                })
                .collect();
            MonthFigures {
                month: month_name(*first_day),
                from: start.to_string(),
                to: end.to_string(),
                incidents: row.incidents,
                severities,
                detect: spread(row.detected, row.detect),
                mitigate: spread(row.mitigated, row.mitigate),
                resolve: spread(row.resolved, row.resolve),
                link: links.incidents(start, end, &[]),
                first_day: *first_day,
            }
        })
        .collect();
    let ranked = |rows: Vec<CountRow>, link: &dyn Fn(&str) -> String| -> Vec<Ranked> {
        rows.into_iter()
            .map(|row| Ranked {
                link: link(&row.name),
                name: row.name,
                signature: row.signature,
                incidents: row.incidents,
            })
            .collect()
    };
    let causes = ranked(rows.categories, &|name| links.category(name, from, to));
    let suspects = ranked(rows.suspects, &|name| links.suspect(name, from, to));
    let recurrences = |found: Vec<(Closure, i64)>, link: &dyn Fn(&str, Date) -> String| -> Vec<Recurrence> {
        let mut recurring: Vec<Recurrence> = found
            .into_iter()
            .filter(|(_, incidents)| *incidents > 0)
            .map(|(closure, incidents)| {
                let since = recurrence_day(closure.done_at, zone);
                Recurrence {
                    link: link(&closure.name, since.max(from)),
                    name: closure.name,
                    prevented_by: PreventedBy {
                        title: closure.title,
                        incident: format!("INC-{}", closure.incident_number),
                        done_at: closure.done_at,
                    },
                    since: since.to_string(),
                    incidents,
                }
            })
            .collect();
        recurring.sort_by(|a, b| b.incidents.cmp(&a.incidents).then_with(|| a.name.cmp(&b.name)));
        recurring
    };
    let recurring = Recurring {
        causes: recurrences(rows.category_recurrences, &|name, since| links.category(name, since, to)),
        suspects: recurrences(rows.suspect_recurrences, &|name, since| links.suspect(name, since, to)),
    };
    let total = rows.owners.iter().find(|row| row.total);
    let owners = rows
        .owners
        .iter()
        .filter(|row| !row.total)
        .map(|row| OwnerFigures {
            owner_id: row.owner_id,
            owner: row.owner_name.clone(),
            open: row.open,
            overdue: row.overdue,
            done: row.done,
            median_close_seconds: row.median_close,
            open_link: links.items("open", Some(row.owner_id), from, to),
            overdue_link: links.items("overdue", Some(row.owner_id), from, to),
            done_link: links.items("done", Some(row.owner_id), from, to),
        })
        .collect();
    let done_months = first_days
        .iter()
        .enumerate()
        .map(|(index, first_day)| {
            let row = rows.done.iter().find(|row| row.bucket as usize == index + 1);
            let (start, end) = filters.days_of(*first_day);
            DoneMonth {
                month: month_name(*first_day),
                done: row.map_or(0, |row| row.done),
                median_close_seconds: row.and_then(|row| row.median_close),
                link: links.items("done", None, start, end),
            }
        })
        .collect();
    let action_items = ActionItemFigures {
        open: total.map_or(0, |row| row.open),
        overdue: total.map_or(0, |row| row.overdue),
        done: total.map_or(0, |row| row.done),
        median_close_seconds: total.and_then(|row| row.median_close),
        open_link: links.items("open", None, from, to),
        overdue_link: links.items("overdue", None, from, to),
        done_link: links.items("done", None, from, to),
        months: done_months,
        owners,
    };
    let playbooks = rows
        .playbooks
        .into_iter()
        .map(|row| PlaybookUse {
            link: links.playbook(&row.slug),
            slug: row.slug,
            title: row.title,
            checklists: row.checklists,
        })
        .collect();
    Insights {
        filters: Applied {
            from: from.to_string(),
            to: to.to_string(),
            service: filters.service.clone(),
            severity: filters.severity,
            cause: filters.cause.clone(),
            zone: zone.name().to_owned(),
            today: today.to_string(),
        },
        computed_at,
        percentile: PERCENTILE,
        incidents: months.iter().map(|month| month.incidents).sum(),
        link: links.incidents(from, to, &[]),
        months,
        causes,
        suspects,
        recurring,
        action_items,
        playbooks,
    }
}

/// `2026-03-04T10:00:00Z`, for tips and tables that want the moment.
pub fn rfc3339(at: &OffsetDateTime) -> String {
    at.format(&Rfc3339).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;
    use crate::insights::domain::InsightsParams;

    fn filters(pairs: &[(&str, &str)]) -> Filters {
        let query = encode(&pairs.iter().map(|(k, v)| (*k, v.to_string())).collect::<Vec<_>>());
        serde_urlencoded::from_str::<InsightsParams>(&query).unwrap().parse(date!(2026 - 03 - 15)).unwrap()
    }

    fn empty_rows() -> Rows {
        Rows {
            months: Vec::new(),
            categories: Vec::new(),
            suspects: Vec::new(),
            category_recurrences: Vec::new(),
            suspect_recurrences: Vec::new(),
            owners: Vec::new(),
            done: Vec::new(),
            playbooks: Vec::new(),
        }
    }

    #[test]
    fn every_month_of_the_range_is_there_with_its_days_and_links() {
        let filters = filters(&[("from", "2026-01-10"), ("to", "2026-03-15"), ("severity", "sev2")]);
        let mut rows = empty_rows();
        rows.months.push(MonthRow {
            bucket: 2,
            incidents: 3,
            sev2: 3,
            detected: 2,
            detect: Some(vec![60.0, 96.0]),
            ..MonthRow::default()
        });
        let insights =
            build(&filters, &Zone::utc(), date!(2026 - 03 - 15), datetime!(2026-03-15 10:00 UTC), rows);
        let months: Vec<&str> = insights.months.iter().map(|m| m.month.as_str()).collect();
        assert_eq!(months, ["2026-01", "2026-02", "2026-03"]);
        let february = &insights.months[1];
        assert_eq!(
            february.detect,
            Spread { incidents: 2, median_seconds: Some(60.0), p90_seconds: Some(96.0) }
        );
        assert_eq!(february.link, "/incidents?severity=SEV2&from=2026-02-01&to=2026-02-28");
        assert_eq!(insights.months[0].from, "2026-01-10", "the first month starts with the range");
        assert_eq!(february.severities[1].link, "/incidents?severity=SEV2&from=2026-02-01&to=2026-02-28");
        assert_eq!(insights.incidents, 3);
        assert_eq!(insights.months[0].resolve, Spread::default());
    }

    #[test]
    fn a_second_category_is_listed_by_the_insights_own_list() {
        let plain = filters(&[("from", "2026-01-01"), ("to", "2026-01-31")]);
        let links = Links { filters: &plain };
        assert_eq!(
            links.category("data race", plain.from, plain.to),
            "/incidents?cause=data+race&from=2026-01-01&to=2026-01-31"
        );
        let by_cause = filters(&[("from", "2026-01-01"), ("to", "2026-01-31"), ("cause", "capacity")]);
        let links = Links { filters: &by_cause };
        assert_eq!(
            links.category("data race", by_cause.from, by_cause.to),
            "/insights/incidents?cause=capacity&from=2026-01-01&to=2026-01-31&category=data+race"
        );
        assert_eq!(
            links.category("capacity", by_cause.from, by_cause.to),
            "/incidents?cause=capacity&from=2026-01-01&to=2026-01-31"
        );
    }

    #[test]
    fn a_recurrence_counts_from_the_day_after_the_item_was_done_in_the_readers_zone() {
        let berlin = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(recurrence_day(datetime!(2026-01-31 23:30 UTC), &berlin), date!(2026 - 02 - 02));
        assert_eq!(recurrence_day(datetime!(2026-01-31 23:30 UTC), &Zone::utc()), date!(2026 - 02 - 01));
    }
}
