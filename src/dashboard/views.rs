//! The dashboard page.

use askama::Template;

use crate::web::PageCtx;

#[derive(Template)]
#[template(path = "dashboard/dashboard.html")]
pub struct DashboardPage {
    pub ctx: PageCtx,
}
