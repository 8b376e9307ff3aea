//! Handlers of the dashboard.

use axum::response::Html;

use super::views::DashboardPage;
use crate::{
    error::{Result, render},
    web::PageCtx,
};

/// `GET /`
#[tracing::instrument(skip_all)]
pub async fn show_dashboard(ctx: PageCtx) -> Result<Html<String>> {
    render(&DashboardPage { ctx })
}
