//! Incident pages.

use askama::Template;
use time::OffsetDateTime;

use super::{
    db::Incident,
    domain::{NewIncidentInput, Severity},
};
use crate::web::{FormErrors, PageCtx};

#[derive(Template)]
#[template(path = "incidents/list.html")]
pub struct IncidentListPage {
    pub ctx: PageCtx,
    pub incidents: Vec<Incident>,
    pub total: i64,
    pub page: i64,
    pub pages: i64,
}

#[derive(Template)]
#[template(path = "incidents/new.html")]
pub struct NewIncidentPage {
    pub ctx: PageCtx,
    pub form: NewIncidentInput,
    pub errors: FormErrors,
    pub severities: [Severity; 4],
}

#[derive(Template)]
#[template(path = "incidents/show.html")]
pub struct IncidentPage {
    pub ctx: PageCtx,
    pub incident: Incident,
}

/// `2026-11-22 14:02 UTC`
pub fn moment(at: &OffsetDateTime) -> String {
    crate::accounts::views::format_time(at)
}

/// `1 h 05 min` between two moments, or nothing if either is missing.
pub fn span(from: &OffsetDateTime, to: &Option<OffsetDateTime>) -> String {
    let Some(to) = to else { return String::new() };
    let minutes = (*to - *from).whole_minutes();
    if minutes < 0 {
        return String::new();
    }
    match (minutes / 60, minutes % 60) {
        (0, m) => format!("{m} min"),
        (h, m) => format!("{h} h {m:02} min"),
    }
}

impl NewIncidentPage {
    pub fn selected(&self, severity: &Severity) -> bool {
        Severity::parse(&self.form.severity).ok() == Some(*severity)
    }
}
