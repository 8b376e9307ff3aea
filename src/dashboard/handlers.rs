//! Handlers of the dashboard.

use axum::{extract::State, response::Html};

use super::views::DashboardPage;
use crate::{
    error::{Result, render},
    incidents::db,
    state::AppState,
    web::PageCtx,
};

/// `GET /`
#[tracing::instrument(skip_all)]
pub async fn show_dashboard(State(state): State<AppState>, ctx: PageCtx) -> Result<Html<String>> {
    let (incidents, total) = db::list_incidents(&state.pool, 10, 0).await?;
    render(&DashboardPage { ctx, incidents, total })
}
