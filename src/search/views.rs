//! The incident list's pages: the plain list, newest first, and what a
//! search finds, both with the search form.

use askama::Template;

use super::{Chip, Hit, Results, Search, SearchParams, Sort, query::MAX_PAGED, similar::Similar};
use crate::{
    incidents::{
        db::{Incident, IncidentListing},
        domain::Severity,
    },
    web::PageCtx,
};

#[derive(Template)]
#[template(path = "incidents/similar.html")]
pub struct SimilarPage {
    pub ctx: PageCtx,
    pub incident: Incident,
    pub similar: Vec<Similar>,
}

#[derive(Template)]
#[template(path = "incidents/list.html")]
pub struct IncidentListPage {
    pub ctx: PageCtx,
    pub incidents: Vec<IncidentListing>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
    pub form: SearchForm,
}

/// The search and filter form, holding what was asked as it was typed.
pub struct SearchForm {
    pub params: SearchParams,
    pub categories: Vec<String>,
}

impl SearchForm {
    pub fn of(params: &SearchParams, categories: Vec<String>) -> SearchForm {
        SearchForm { params: params.clone(), categories }
    }

    /// The value typed into `name`, or "".
    pub fn value(&self, name: &str) -> &str {
        let p = &self.params;
        let value = match name {
            "q" => &p.q,
            "severity" => &p.severity,
            "status" => &p.status,
            "service" => &p.service,
            "tag" => &p.tag,
            "cause" => &p.cause,
            "format" => &p.format,
            "from" => &p.from,
            "to" => &p.to,
            "sort" => &p.sort,
            _ => &None,
        };
        value.as_deref().unwrap_or("")
    }

    /// Whether `option` is the one chosen for `name` (matched loosely, as
    /// the search reads it: `sev1` is SEV1).
    pub fn chosen(&self, name: &str, option: &str) -> bool {
        self.value(name).trim().eq_ignore_ascii_case(option)
    }

    pub fn severities(&self) -> [Severity; 4] {
        Severity::ALL
    }

    pub fn statuses(&self) -> [(&'static str, &'static str); 3] {
        [("draft", "Draft"), ("in_review", "In review"), ("published", "Published")]
    }

    pub fn formats(&self) -> [(&'static str, &'static str); 4] {
        [
            ("pprof", "a pprof profile"),
            ("goroutine_dump", "a goroutine dump"),
            ("go_trace", "an execution trace"),
            ("other", "another file"),
        ]
    }
}

/// A chip of a filter in force, with the link that removes it.
pub struct ActiveChip {
    pub chip: Chip,
    pub remove: String,
}

#[derive(Template)]
#[template(path = "incidents/search.html")]
pub struct SearchPage {
    pub ctx: PageCtx,
    pub form: SearchForm,
    /// What was wrong with the search, when it could not be run.
    pub problem: Option<String>,
    pub search: Option<Search>,
    pub hits: Vec<Hit>,
    /// How many hits were seen: all of them unless `more`.
    pub total: i64,
    /// Whether another page follows (hits are not counted past the page).
    pub more: bool,
    pub corrected: Option<String>,
    pub chips: Vec<ActiveChip>,
}

impl SearchPage {
    pub fn new(
        ctx: PageCtx,
        params: SearchParams,
        categories: Vec<String>,
        search: Search,
        results: Results,
    ) -> SearchPage {
        let chips = search
            .chips()
            .into_iter()
            .map(|chip| ActiveChip { remove: search.link_with(chip.name, None), chip })
            .collect();
        SearchPage {
            ctx,
            form: SearchForm::of(&params, categories),
            problem: None,
            hits: results.hits,
            total: results.total,
            more: results.more,
            corrected: results.corrected,
            chips,
            search: Some(search),
        }
    }

    pub fn refused(
        ctx: PageCtx,
        params: SearchParams,
        categories: Vec<String>,
        problem: String,
    ) -> SearchPage {
        SearchPage {
            ctx,
            form: SearchForm::of(&params, categories),
            problem: Some(problem),
            search: None,
            hits: Vec::new(),
            total: 0,
            more: false,
            corrected: None,
            chips: Vec::new(),
        }
    }

    /// The link that narrows this search to `value` of filter `name`.
    pub fn narrow(&self, name: &str, value: &str) -> String {
        match &self.search {
            Some(search) => search.link_with(name, Some(value)),
            None => self.ctx.filter_link(name, value),
        }
    }

    pub fn page(&self) -> i64 {
        self.search.as_ref().map_or(1, |s| s.page)
    }

    pub fn page_link(&self, page: i64) -> String {
        self.search.as_ref().map_or_else(|| "/incidents".to_owned(), |s| s.page_link(page))
    }

    pub fn sort_link(&self, sort: &str) -> String {
        let sort = match sort {
            "newest" => Sort::Newest,
            "oldest" => Sort::Oldest,
            _ => Sort::Relevance,
        };
        self.search.as_ref().map_or_else(|| "/incidents".to_owned(), |s| s.sort_link(sort))
    }

    pub fn sorted_by(&self, sort: &str) -> bool {
        self.search.as_ref().is_some_and(|s| s.sort.as_str() == sort)
    }

    /// How many were found, as a reader reads it: the number when the
    /// last hit is on this page, else which of many this page shows.
    pub fn found(&self) -> String {
        if self.more {
            let per_page = self.search.as_ref().map_or(1, |s| s.per_page);
            let first = (self.page() - 1) * per_page + 1;
            let last = first + i64::try_from(self.hits.len()).unwrap_or(0) - 1;
            return format!("{}–{} of many incidents", grouped(first), grouped(last));
        }
        let noun = if self.total == 1 { "incident" } else { "incidents" };
        format!("{} {noun}", grouped(self.total))
    }

    /// Whether a page follows this one that a search may page to.
    pub fn has_next(&self) -> bool {
        self.more && self.search.as_ref().is_some_and(|s| s.page * s.per_page < MAX_PAGED)
    }

    /// Where every hit downloads as a zip of reports: those of the
    /// corrected words, when the page shows those.
    pub fn archive_link(&self) -> String {
        match (&self.search, &self.corrected) {
            (Some(search), Some(corrected)) => {
                Search { text: corrected.clone(), ..search.clone() }.archive_link()
            }
            (Some(search), None) => search.archive_link(),
            (None, _) => "/incidents/export.zip".to_owned(),
        }
    }

    pub fn has_text(&self) -> bool {
        self.search.as_ref().is_some_and(|s| !s.text.is_empty())
    }
}

/// `12345` as `12,345`.
fn grouped(number: i64) -> String {
    let digits = number.to_string();
    let mut grouped = String::new();
    for (n, digit) in digits.chars().enumerate() {
        if n > 0 && (digits.len() - n).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}
