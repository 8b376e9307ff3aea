//! The dashboard page.

use askama::Template;
use time::Date;

use super::db::{Cut, MyItems, ShortIncident};
use crate::{incidents::db::IncidentListing, review::db::Waiting, web::PageCtx};

#[derive(Template)]
#[template(path = "dashboard/dashboard.html")]
pub struct DashboardPage {
    pub ctx: PageCtx,
    /// Today in the reader's zone: an item due before it is overdue.
    pub today: Date,
    /// The reader's open action items, overdue first.
    pub my_items: MyItems,
    /// Drafts the reader opened or changed.
    pub drafts: Cut<ShortIncident>,
    /// Incidents waiting for their review.
    pub in_review: Cut<ShortIncident>,
    /// Reviews the reader was asked for and has not given, or postmortems
    /// changed since they approved them.
    pub waiting: Cut<Waiting>,
    /// The reader's postmortems whose reviewers asked for changes.
    pub changes: Cut<Waiting>,
    /// The latest incidents, newest first.
    pub incidents: Vec<IncidentListing>,
    pub total: i64,
}
