//! Handlers of the dashboard.

use axum::{
    extract::{Extension, State},
    response::Html,
};

use super::{
    db::{self, Cut},
    views::DashboardPage,
};
use crate::{
    error::{Result, render},
    state::AppState,
    web::{CurrentUser, PageCtx},
};

/// How many rows each of the dashboard's lists shows.
const SHOWN: i64 = 10;

/// `GET /`: what the reader has to do, then what the team is writing.
#[tracing::instrument(skip_all)]
pub async fn show_dashboard(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ctx: PageCtx,
) -> Result<Html<String>> {
    let reader = user.0.id;
    let today = ctx.zone.date_of(&time::OffsetDateTime::now_utc());
    let my_items = db::my_open_items(&state.pool, reader, today, SHOWN).await?;
    let drafts = db::my_drafts(&state.pool, reader, SHOWN).await?;
    let in_review = db::in_review(&state.pool, SHOWN).await?;
    let (waiting, waiting_total) = crate::review::db::waiting_for(&state.pool, reader, SHOWN).await?;
    let waiting = Cut { rows: waiting, total: waiting_total };
    let (changes, changes_total) =
        crate::review::db::changes_requested_of(&state.pool, reader, SHOWN).await?;
    let changes = Cut { rows: changes, total: changes_total };
    let listed = state.list_places.page(&state.pool, SHOWN, 0).await?;
    let (incidents, total) = (listed.incidents, listed.total);
    render(&DashboardPage { ctx, today, my_items, drafts, in_review, waiting, changes, incidents, total })
}
