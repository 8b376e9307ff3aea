//! What the insights are asked for, read from the query string and checked:
//! the same parameters serve the page, the API and the lists behind each
//! figure, so a view of the figures can be shared as a link.

use serde::Deserialize;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time, macros::format_description};

use crate::{incidents::domain::Severity, web::clock::Zone};

/// The longest range the figures cover, in months: ten years of months is
/// already more bars than a chart can show.
pub const MAX_MONTHS: i32 = 120;

/// The query string as sent; every field optional, an empty one unset (a
/// form's empty select sends `severity=`).
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct InsightsParams {
    /// The first day (`YYYY-MM-DD`); the last twelve months by default.
    #[param(format = Date)]
    pub from: Option<String>,
    /// The last day (`YYYY-MM-DD`).
    #[param(format = Date)]
    pub to: Option<String>,
    pub service: Option<String>,
    #[param(pattern = "^SEV[1-4]$")]
    pub severity: Option<String>,
    /// A cause category.
    pub cause: Option<String>,
}

/// Checked filters. `from` and `to` are whole days in the reader's zone, on
/// each incident's start; both are always set (the default is the last
/// twelve months: from the first of the month eleven months ago to today).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filters {
    pub from: Date,
    pub to: Date,
    pub service: Option<String>,
    pub severity: Option<Severity>,
    pub cause: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn date(name: &str, raw: Option<&str>) -> Result<Option<Date>, String> {
    let Some(raw) = raw else { return Ok(None) };
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .map(Some)
        .map_err(|_| format!("`{name}` must be a date such as 2026-11-20."))
}

/// A label filter, as labels are stored: lower-cased.
fn label(name: &str, raw: Option<&str>) -> Result<Option<String>, String> {
    match raw {
        Some(value) if value.chars().count() > 60 => Err(format!("`{name}` has at most 60 characters.")),
        Some(value) if value.chars().any(char::is_control) => {
            Err(format!("`{name}` cannot hold control characters."))
        }
        Some(value) => Ok(Some(value.to_lowercase())),
        None => Ok(None),
    }
}

/// The first day of the month `day` is in.
pub fn month_start(day: Date) -> Date {
    day.replace_day(1).unwrap_or(day)
}

/// The first day of the month after the one `day` is in.
pub fn next_month(day: Date) -> Date {
    let (year, month) = match day.month() {
        Month::December => (day.year() + 1, Month::January),
        month => (day.year(), month.next()),
    };
    Date::from_calendar_date(year, month, 1).unwrap_or(day)
}

/// The first day of the month `months` before the one `day` is in.
fn months_back(day: Date, months: i32) -> Date {
    let index = day.year() * 12 + i32::from(u8::from(day.month())) - 1 - months;
    let month =
        Month::try_from(u8::try_from(index.rem_euclid(12) + 1).unwrap_or(1)).unwrap_or(Month::January);
    Date::from_calendar_date(index.div_euclid(12), month, 1).unwrap_or(day)
}

impl InsightsParams {
    /// The filters asked for, with today (in the reader's zone) for the
    /// default range; or what is wrong with them.
    pub fn parse(&self, today: Date) -> Result<Filters, String> {
        let severity = given(&self.severity).map(Severity::parse).transpose()?;
        let to = date("to", given(&self.to))?;
        let from = date("from", given(&self.from))?;
        let to = to.unwrap_or(today);
        let from = from.unwrap_or_else(|| months_back(to, 11));
        if from > to {
            return Err("`from` is after `to`.".into());
        }
        if months_back(to, MAX_MONTHS - 1) > from {
            return Err(format!("The range covers at most {MAX_MONTHS} months; narrow `from` or `to`."));
        }
        Ok(Filters {
            from,
            to,
            service: label("service", given(&self.service))?,
            severity,
            cause: label("cause", given(&self.cause))?,
        })
    }
}

impl Filters {
    /// The moments the range covers in `zone`: from the start of `from` up
    /// to, not including, the start of the day after `to`.
    pub fn range(&self, zone: &Zone) -> (OffsetDateTime, OffsetDateTime) {
        (day_start(self.from, zone), day_start(self.to.next_day().unwrap_or(self.to), zone))
    }

    /// The months the range touches, oldest first, each as its first day.
    pub fn months(&self) -> Vec<Date> {
        let mut months = Vec::new();
        let mut month = month_start(self.from);
        while month <= self.to {
            months.push(month);
            month = next_month(month);
        }
        months
    }

    /// The days of `month` inside the range: its first and last.
    pub fn days_of(&self, month: Date) -> (Date, Date) {
        let last = next_month(month).previous_day().unwrap_or(month);
        (month.max(self.from), last.min(self.to))
    }

    /// The filters as query pairs, in a fixed order, with `from` and `to`
    /// as given (the list behind a month narrows them).
    pub fn pairs(&self, from: Date, to: Date) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        if let Some(severity) = self.severity {
            pairs.push(("severity", severity.as_str().to_owned()));
        }
        if let Some(service) = &self.service {
            pairs.push(("service", service.clone()));
        }
        if let Some(cause) = &self.cause {
            pairs.push(("cause", cause.clone()));
        }
        pairs.push(("from", from.to_string()));
        pairs.push(("to", to.to_string()));
        pairs
    }

    /// The query string of these filters, for the page's own links.
    pub fn query(&self) -> String {
        encode(&self.pairs(self.from, self.to))
    }
}

/// The first moment of `day` in `zone` (the day's first existing moment
/// when the clocks skip midnight).
pub fn day_start(day: Date, zone: &Zone) -> OffsetDateTime {
    let midnight = PrimitiveDateTime::new(day, Time::MIDNIGHT);
    (0..4)
        .find_map(|hour| zone.to_utc(midnight + time::Duration::hours(hour)))
        .unwrap_or_else(|| midnight.assume_utc())
}

/// Pairs as a URL query string.
pub fn encode(pairs: &[(&str, String)]) -> String {
    form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish()
}

#[cfg(test)]
mod tests {
    use time::macros::{date, datetime};

    use super::*;

    fn params(pairs: &[(&str, &str)]) -> InsightsParams {
        serde_urlencoded::from_str(&encode(
            &pairs.iter().map(|(k, v)| (*k, v.to_string())).collect::<Vec<_>>(),
        ))
        .unwrap()
    }

    #[test]
    fn the_default_range_is_the_last_twelve_months_to_today() {
        let filters = params(&[("severity", ""), ("service", "")]).parse(date!(2026 - 03 - 15)).unwrap();
        assert_eq!((filters.from, filters.to), (date!(2025 - 04 - 01), date!(2026 - 03 - 15)));
        assert_eq!(filters.months().len(), 12);
        assert_eq!((filters.severity, filters.service.as_deref()), (None, None));
        let only_to = params(&[("to", "2026-01-10")]).parse(date!(2026 - 03 - 15)).unwrap();
        assert_eq!(only_to.from, date!(2025 - 02 - 01));
    }

    #[test]
    fn bad_values_are_named() {
        let refuse = |pairs: &[(&str, &str)]| params(pairs).parse(date!(2026 - 03 - 15)).unwrap_err();
        assert!(refuse(&[("severity", "SEV9")]).contains("SEV"));
        assert!(refuse(&[("from", "last week")]).contains("`from`"));
        assert!(refuse(&[("to", "2026-02-30")]).contains("`to`"));
        assert!(refuse(&[("from", "2026-03-02"), ("to", "2026-03-01")]).contains("after"));
        assert!(refuse(&[("from", "2000-01-01")]).contains("120 months"));
        assert!(refuse(&[("service", &"x".repeat(61))]).contains("60"));
    }

    #[test]
    fn months_are_cut_to_the_range_and_labels_lower_cased() {
        let filters = params(&[("from", "2025-12-20"), ("to", "2026-02-03"), ("service", "Checkout")])
            .parse(date!(2026 - 03 - 15))
            .unwrap();
        assert_eq!(filters.months(), [date!(2025 - 12 - 01), date!(2026 - 01 - 01), date!(2026 - 02 - 01)]);
        assert_eq!(filters.days_of(date!(2025 - 12 - 01)), (date!(2025 - 12 - 20), date!(2025 - 12 - 31)));
        assert_eq!(filters.days_of(date!(2026 - 02 - 01)), (date!(2026 - 02 - 01), date!(2026 - 02 - 03)));
        assert_eq!(filters.query(), "service=checkout&from=2025-12-20&to=2026-02-03");
    }

    #[test]
    fn the_range_is_whole_days_in_the_readers_zone() {
        let filters =
            params(&[("from", "2026-03-01"), ("to", "2026-03-31")]).parse(date!(2026 - 04 - 01)).unwrap();
        let zone = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(filters.range(&zone), (datetime!(2026-02-28 23:00 UTC), datetime!(2026-03-31 22:00 UTC)));
        assert_eq!(filters.range(&Zone::utc()).0, datetime!(2026-03-01 00:00 UTC));
    }
}
