//! What a search asks for, read from a URL's query string and checked:
//! the same parameters serve the incident list's page and the API, so a
//! search can be shared as a link.

use serde::Deserialize;
use time::{Date, OffsetDateTime, PrimitiveDateTime, Time};

use crate::{
    incidents::domain::{Severity, Status},
    web::clock::Zone,
};

/// Searches page through this many hits at most (and count no further).
pub const MAX_PAGED: i64 = 1000;

/// The longest query text taken, in characters.
pub const MAX_TEXT_CHARS: usize = 200;

/// The query string as sent; every field optional, an empty one unset (a
/// form's empty select sends `severity=`).
#[derive(Debug, Default, Clone, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Full-text query.
    pub q: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub service: Option<String>,
    pub tag: Option<String>,
    /// A cause category.
    pub cause: Option<String>,
    /// Incidents with evidence of this format (`pprof`, `goroutine_dump`, `go_trace`, `other`).
    pub format: Option<String>,
    /// A date (`YYYY-MM-DD`) the incident started on or after.
    pub from: Option<String>,
    /// A date (`YYYY-MM-DD`) the incident started on or before.
    pub to: Option<String>,
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sort {
    Relevance,
    Newest,
    Oldest,
}

impl Sort {
    pub fn as_str(self) -> &'static str {
        match self {
            Sort::Relevance => "relevance",
            Sort::Newest => "newest",
            Sort::Oldest => "oldest",
        }
    }
}

/// The artifact formats a search may ask incidents to have.
pub const FORMATS: [&str; 4] = ["pprof", "goroutine_dump", "go_trace", "other"];

/// A checked search. `text` empty means filters only, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct Search {
    pub text: String,
    pub severity: Option<Severity>,
    pub status: Option<Status>,
    pub service: Option<String>,
    pub tag: Option<String>,
    pub cause: Option<String>,
    pub format: Option<&'static str>,
    pub from: Option<Date>,
    pub to: Option<Date>,
    pub sort: Sort,
    pub page: i64,
    pub per_page: i64,
}

/// One filter in force, as a removable chip shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct Chip {
    /// The query parameter.
    pub name: &'static str,
    pub label: &'static str,
    pub value: String,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn date(name: &str, raw: Option<&str>) -> Result<Option<Date>, String> {
    let Some(raw) = raw else { return Ok(None) };
    let format = time::macros::format_description!("[year]-[month]-[day]");
    Date::parse(raw, &format).map(Some).map_err(|_| format!("`{name}` must be a date such as 2026-11-20."))
}

/// A label filter, as labels are stored: trimmed and lower-cased.
fn label(name: &str, raw: Option<&str>) -> Result<Option<String>, String> {
    match raw {
        Some(value) if value.chars().count() > 60 => Err(format!("`{name}` has at most 60 characters.")),
        Some(value) => Ok(Some(value.to_lowercase())),
        None => Ok(None),
    }
}

impl SearchParams {
    /// Any parameter that asks for a search rather than the plain list.
    pub fn is_search(&self) -> bool {
        [
            &self.q,
            &self.severity,
            &self.status,
            &self.service,
            &self.tag,
            &self.cause,
            &self.format,
            &self.from,
            &self.to,
        ]
        .into_iter()
        .any(|value| given(value).is_some())
    }

    /// The search these parameters ask for, or what is wrong with them.
    pub fn parse(&self, default_per_page: i64, max_per_page: i64) -> Result<Search, String> {
        let text = given(&self.q).unwrap_or_default();
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(format!("A search has at most {MAX_TEXT_CHARS} characters."));
        }
        if text.chars().any(char::is_control) {
            return Err("A search cannot hold control characters.".into());
        }
        let severity = given(&self.severity).map(Severity::parse).transpose()?;
        let status = given(&self.status).map(Status::parse).transpose()?;
        let format = match given(&self.format) {
            None => None,
            Some(raw) => Some(
                FORMATS
                    .into_iter()
                    .find(|known| *known == raw)
                    .ok_or_else(|| format!("`format` is one of {}.", FORMATS.join(", ")))?,
            ),
        };
        let from = date("from", given(&self.from))?;
        let to = date("to", given(&self.to))?;
        if let (Some(from), Some(to)) = (from, to)
            && from > to
        {
            return Err("`from` is after `to`.".into());
        }
        let sort = match given(&self.sort) {
            None if text.is_empty() => Sort::Newest,
            None | Some("relevance") => Sort::Relevance,
            Some("newest") => Sort::Newest,
            Some("oldest") => Sort::Oldest,
            Some(_) => return Err("`sort` is relevance, newest or oldest.".into()),
        };
        let per_page = self.per_page.unwrap_or(default_per_page).clamp(1, max_per_page);
        let page = self.page.unwrap_or(1).max(1);
        if (page - 1).saturating_mul(per_page) >= MAX_PAGED {
            return Err(format!(
                "A search pages through its first {MAX_PAGED} hits; narrow it to see others."
            ));
        }
        Ok(Search {
            text: text.to_owned(),
            severity,
            status,
            service: label("service", given(&self.service))?,
            tag: label("tag", given(&self.tag))?,
            cause: label("cause", given(&self.cause))?,
            format,
            from,
            to,
            sort: if text.is_empty() && sort == Sort::Relevance { Sort::Newest } else { sort },
            page,
            per_page,
        })
    }
}

impl Search {
    pub fn offset(&self) -> i64 {
        (self.page - 1) * self.per_page
    }

    /// The first moment a search from `from` takes, in `zone`.
    pub fn starts(&self, zone: &Zone) -> Option<OffsetDateTime> {
        self.from.and_then(|day| zone.to_utc(PrimitiveDateTime::new(day, Time::MIDNIGHT)))
    }

    /// The first moment after the day `to`, in `zone`.
    pub fn ends(&self, zone: &Zone) -> Option<OffsetDateTime> {
        self.to.and_then(|day| zone.to_utc(PrimitiveDateTime::new(day.next_day()?, Time::MIDNIGHT)))
    }

    /// The filters in force, in the order the page shows them.
    pub fn chips(&self) -> Vec<Chip> {
        let mut chips = Vec::new();
        let mut push = |name, label, value: Option<String>| {
            if let Some(value) = value {
                chips.push(Chip { name, label, value });
            }
        };
        push("severity", "severity", self.severity.map(|s| s.to_string()));
        push("status", "status", self.status.map(|s| s.as_str().to_owned()));
        push("service", "service", self.service.clone());
        push("tag", "tag", self.tag.clone());
        push("cause", "cause", self.cause.clone());
        push("format", "evidence", self.format.map(str::to_owned));
        push("from", "from", self.from.map(|d| d.to_string()));
        push("to", "to", self.to.map(|d| d.to_string()));
        chips
    }

    /// The query string of this search with `name` set to `value` (or
    /// removed, when `None`), back on the first page: the link of a chip.
    pub fn link_with(&self, name: &str, value: Option<&str>) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.text.is_empty() {
            pairs.push(("q", self.text.clone()));
        }
        for chip in self.chips() {
            if chip.name != name {
                pairs.push((chip.name, chip.value));
            }
        }
        if let Some(value) = value {
            pairs.push((name, value.to_owned()));
        }
        if self.sort != Sort::Relevance && !(self.text.is_empty() && self.sort == Sort::Newest) {
            pairs.push(("sort", self.sort.as_str().to_owned()));
        }
        let encoded: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        if encoded.is_empty() { "/incidents".to_owned() } else { format!("/incidents?{encoded}") }
    }

    /// Where every hit of this search downloads as a zip of reports.
    pub fn archive_link(&self) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        if !self.text.is_empty() {
            pairs.push(("q", self.text.clone()));
        }
        pairs.extend(self.chips().into_iter().map(|chip| (chip.name, chip.value)));
        let encoded: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        if encoded.is_empty() {
            "/incidents/export.zip".to_owned()
        } else {
            format!("/incidents/export.zip?{encoded}")
        }
    }

    /// The same search on page `page`.
    pub fn page_link(&self, page: i64) -> String {
        let base = self.link_with("", None);
        let joiner = if base.contains('?') { '&' } else { '?' };
        format!("{base}{joiner}page={page}")
    }

    /// The same search in another order.
    pub fn sort_link(&self, sort: Sort) -> String {
        let mut other = self.clone();
        other.sort = sort;
        other.link_with("", None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> SearchParams {
        let query: String = form_urlencoded::Serializer::new(String::new()).extend_pairs(pairs).finish();
        serde_urlencoded::from_str(&query).unwrap()
    }

    #[test]
    fn empty_fields_are_unset_and_text_alone_sorts_by_relevance() {
        let search = params(&[("q", " timeout "), ("severity", ""), ("tag", "")]).parse(25, 100).unwrap();
        assert_eq!(search.text, "timeout");
        assert_eq!((search.severity, search.tag.as_deref(), search.sort), (None, None, Sort::Relevance));
        assert!(!params(&[("severity", ""), ("page", "2")]).is_search());
        let filters_only = params(&[("service", "Checkout")]).parse(25, 100).unwrap();
        assert_eq!((filters_only.service.as_deref(), filters_only.sort), (Some("checkout"), Sort::Newest));
    }

    #[test]
    fn bad_values_are_named() {
        let refuse = |pairs: &[(&str, &str)]| params(pairs).parse(25, 100).unwrap_err();
        assert!(refuse(&[("severity", "SEV9")]).contains("SEV"));
        assert!(refuse(&[("from", "yesterday")]).contains("`from`"));
        assert!(refuse(&[("from", "2026-11-02"), ("to", "2026-11-01")]).contains("after"));
        assert!(refuse(&[("format", "pdf")]).contains("pprof"));
        assert!(refuse(&[("sort", "random")]).contains("relevance"));
        assert!(refuse(&[("q", &"x".repeat(201))]).contains("200"));
    }

    #[test]
    fn chip_links_keep_the_rest_of_the_search() {
        let search = params(&[("q", "pool & leak"), ("severity", "sev2"), ("service", "payments")])
            .parse(25, 100)
            .unwrap();
        assert_eq!(search.link_with("service", None), "/incidents?q=pool+%26+leak&severity=SEV2");
        assert_eq!(
            search.link_with("tag", Some("go")),
            "/incidents?q=pool+%26+leak&severity=SEV2&service=payments&tag=go"
        );
        assert_eq!(search.page_link(3), "/incidents?q=pool+%26+leak&severity=SEV2&service=payments&page=3");
        let none = params(&[("tag", "go")]).parse(25, 100).unwrap();
        assert_eq!(none.link_with("tag", None), "/incidents");
    }

    #[test]
    fn a_date_range_covers_whole_days_in_the_readers_zone() {
        let search = params(&[("from", "2026-11-20"), ("to", "2026-11-20")]).parse(25, 100).unwrap();
        let zone = Zone::parse("Europe/Berlin").unwrap();
        assert_eq!(search.starts(&zone).unwrap(), time::macros::datetime!(2026-11-19 23:00 UTC));
        assert_eq!(search.ends(&zone).unwrap(), time::macros::datetime!(2026-11-20 23:00 UTC));
    }
}
