//! Handlers of the dashboard.

use axum::{extract::State, response::Html};

use super::views::DashboardPage;
use crate::{
    error::{Result, render},
    state::AppState,
    web::PageCtx,
};

/// `GET /`
#[tracing::instrument(skip_all)]
pub async fn show_dashboard(State(state): State<AppState>, ctx: PageCtx) -> Result<Html<String>> {
    let listed = state.list_places.page(&state.pool, 10, 0).await?;
    let (incidents, total) = (listed.incidents, listed.total);
    render(&DashboardPage { ctx, incidents, total })
}
