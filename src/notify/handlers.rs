//! The reader's own notifications: the page, opening one, marking them
//! read, and the API's list.

use axum::{
    Json,
    extract::{Extension, Query, State},
    response::{Html, Redirect},
};
use serde::Deserialize;

use super::{db, views::NotificationsPage};
use crate::{
    error::{AppError, Result, render},
    state::AppState,
    web::{CurrentUser, PageCtx, current_user::safe_next, path::RecordId},
};

const PER_PAGE: i64 = 50;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(default)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    #[param(value_type = Option<i64>)]
    page: Option<String>,
    #[param(value_type = Option<i64>)]
    per_page: Option<String>,
}

impl ListQuery {
    /// The page (from 1) and its size, both bounded.
    fn paging(&self) -> Result<(i64, i64)> {
        let number = |raw: &Option<String>, name: &str, default: i64, max: i64| match raw {
            None => Ok(default),
            Some(raw) => match raw.trim().parse::<i64>() {
                Ok(n) if (1..=max).contains(&n) => Ok(n),
                _ => Err(AppError::BadRequest(format!("{name} is a number from 1 to {max}."))),
            },
        };
        Ok((number(&self.page, "page", 1, 10_000)?, number(&self.per_page, "per_page", PER_PAGE, 200)?))
    }
}

/// `GET /notifications`: the reader's, newest first.
#[tracing::instrument(skip_all)]
pub async fn list(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ctx: PageCtx,
    Query(query): Query<ListQuery>,
) -> Result<Html<String>> {
    let (page, per_page) = query.paging()?;
    let notifications = db::list(&state.pool, user.0.id, per_page, (page - 1) * per_page).await?;
    let total = db::total(&state.pool, user.0.id).await?;
    let next = (page * per_page < total).then_some(page + 1);
    let unread = db::unread_count(&state.pool, user.0.id).await?;
    render(&NotificationsPage { ctx, notifications, unread, page, next })
}

/// `POST /notifications/{id}/open`: marks it read and goes where it points.
#[tracing::instrument(skip_all)]
pub async fn open(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    RecordId(id): RecordId,
) -> Result<Redirect> {
    let link = db::mark_read(&state.pool, user.0.id, id).await?.ok_or(AppError::NotFound)?;
    Ok(Redirect::to(safe_next(&link)))
}

/// `POST /notifications/read`: marks every one read.
#[tracing::instrument(skip_all)]
pub async fn mark_all_read(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
) -> Result<Redirect> {
    db::mark_all_read(&state.pool, user.0.id).await?;
    Ok(Redirect::to("/notifications"))
}

/// `GET /api/v1/notifications`: the token user's, newest first, paged;
/// `{"notifications":[{"id","kind","incident_id","read","created_at",..}],"total","unread"}`.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/notifications",
    tag = "notifications",
    summary = "The token user's notifications",
    params(ListQuery),
    responses((status = 200, description = "OK", body = NotificationList), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn api_list(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Query(query): Query<ListQuery>,
) -> Result<Json<NotificationList>> {
    let (page, per_page) = query.paging()?;
    let notifications = db::list(&state.pool, user.0.id, per_page, (page - 1) * per_page).await?;
    let total = db::total(&state.pool, user.0.id).await?;
    let unread = db::unread_count(&state.pool, user.0.id).await?;
    Ok(Json(NotificationList { notifications, total, unread, page, per_page }))
}

/// The token user's notifications, newest first, paged.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct NotificationList {
    notifications: Vec<db::Notification>,
    total: i64,
    unread: i64,
    page: i64,
    per_page: i64,
}
