//! The history page.

use askama::Template;

use super::domain::{Comparison, field_labels};
use crate::incidents::revision::Revision;
use crate::{incidents::db::Incident, web::PageCtx};

#[derive(Template)]
#[template(path = "history/history.html")]
pub struct HistoryPage {
    pub ctx: PageCtx,
    pub incident: Incident,
    pub revisions: Vec<Revision>,
    /// The two revisions compared, older first, and their diff.
    pub compared: Option<(i64, i64)>,
    pub diff: Comparison,
}

impl HistoryPage {
    pub fn moment(&self, revision: &Revision) -> String {
        self.ctx.time(&revision.created_at)
    }

    /// The fields changed by the revisions after `from` up to `to`: what a
    /// comparison too large to show line by line can still tell.
    pub fn fields_changed_between(&self) -> String {
        let Some((from, to)) = self.compared else { return String::new() };
        field_labels(
            self.revisions
                .iter()
                .filter(|r| r.id > from && r.id <= to)
                .flat_map(|revision| revision.changes.0.iter().map(|change| change.field.as_str())),
        )
    }

    /// The readable names of the fields a revision changed.
    pub fn fields(&self, revision: &Revision) -> String {
        field_labels(revision.changes.0.iter().map(|change| change.field.as_str()))
    }
}
