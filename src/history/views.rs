//! The history page.

use askama::Template;

use super::{db::Revision, domain::DiffLine};
use crate::{incidents::db::Incident, web::PageCtx};

#[derive(Template)]
#[template(path = "history/history.html")]
pub struct HistoryPage {
    pub ctx: PageCtx,
    pub incident: Incident,
    pub revisions: Vec<Revision>,
    /// The two revisions compared, older first, and their diff.
    pub compared: Option<(i64, i64)>,
    pub diff: Vec<Option<DiffLine>>,
}

impl HistoryPage {
    pub fn moment(&self, revision: &Revision) -> String {
        self.ctx.time(&revision.created_at)
    }

    pub fn fields(&self, revision: &Revision) -> String {
        revision.changes.0.iter().map(|change| change.field.as_str()).collect::<Vec<_>>().join(", ")
    }
}
