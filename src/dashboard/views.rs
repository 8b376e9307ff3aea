//! The dashboard page.

use askama::Template;

use crate::{incidents::db::IncidentListing, web::PageCtx};

#[derive(Template)]
#[template(path = "dashboard/dashboard.html")]
pub struct DashboardPage {
    pub ctx: PageCtx,
    /// The latest incidents, newest first.
    pub incidents: Vec<IncidentListing>,
    pub total: i64,
}
