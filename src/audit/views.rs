//! The audit trail page.

use askama::Template;

use super::{
    db::AuditRow,
    domain::{AuditQuery, PER_PAGE, Paging},
};
use crate::web::{PageCtx, audit::Action};

#[derive(Template)]
#[template(path = "audit/list.html")]
pub struct AuditPage {
    pub ctx: PageCtx,
    /// The filters as sent, to show them in the form again.
    pub query: AuditQuery,
    pub events: Vec<AuditRow>,
    pub total: i64,
    pub paging: Paging,
    pub actions: [Action; 19],
}

impl AuditPage {
    pub fn new(ctx: PageCtx, query: AuditQuery, events: Vec<AuditRow>, total: i64, paging: Paging) -> Self {
        AuditPage { ctx, query, events, total, paging, actions: Action::ALL }
    }

    /// The download of every event the filters find.
    pub fn download_link(&self) -> String {
        match self.query.filter_query() {
            query if query.is_empty() => "/admin/audit.jsonl".to_owned(),
            query => format!("/admin/audit.jsonl?{query}"),
        }
    }

    /// The newer page, with the same filters, if this is not the first.
    pub fn previous_link(&self) -> Option<String> {
        (self.paging.page > 1).then(|| self.page_link(self.paging.page - 1))
    }

    /// The older page, with the same filters, if there are more events.
    pub fn next_link(&self) -> Option<String> {
        (self.paging.page * self.paging.per_page < self.total).then(|| self.page_link(self.paging.page + 1))
    }

    /// Page `page` of the same filters.
    fn page_link(&self, page: i64) -> String {
        let mut link = format!("/admin/audit?{}", self.query.filter_query());
        if !link.ends_with('?') {
            link.push('&');
        }
        if self.paging.per_page != PER_PAGE {
            link.push_str(&format!("per_page={}&", self.paging.per_page));
        }
        link.push_str(&format!("page={page}"));
        link
    }

    /// The particulars, as compact JSON; nothing for none.
    pub fn detail_text(&self, event: &AuditRow) -> String {
        match &event.detail {
            serde_json::Value::Object(fields) if fields.is_empty() => String::new(),
            detail => detail.to_string(),
        }
    }
}
