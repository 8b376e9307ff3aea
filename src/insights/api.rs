//! `GET /api/v1/insights`: the figures behind the insights page, with the
//! same filters; months and days in UTC.

use std::sync::Arc;

use axum::{
    Json,
    extract::{RawQuery, State},
};

use serde::Serialize;

use super::{domain::InsightsParams, figures::Insights};
use crate::{
    error::{AppError, Result},
    state::AppState,
    web::clock::Zone,
};

/// The query string as filters, or the 400 that names what is wrong.
pub fn parse_query(raw: Option<&str>) -> Result<InsightsParams> {
    serde_urlencoded::from_str(raw.unwrap_or_default())
        .map_err(|_| AppError::BadRequest("The query string cannot be read; give each filter once.".into()))
}

/// `GET /api/v1/insights?from=&to=&service=&severity=&cause=`
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/insights",
    tag = "insights",
    summary = "The figures behind the insights page",
    params(super::domain::InsightsParams),
    responses((status = 200, description = "OK", body = super::figures::Insights), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn show_insights(State(state): State<AppState>, RawQuery(raw): RawQuery) -> Result<Json<Shared>> {
    let zone = Zone::utc();
    let today = super::today_in(&zone);
    let filters = parse_query(raw.as_deref())?.parse(today).map_err(AppError::BadRequest)?;
    Ok(Json(Shared(super::load(&state, &filters, &zone, today).await?)))
}

/// Kept figures, serialised as they are kept: no copy per request.
pub struct Shared(Arc<Insights>);

impl Serialize for Shared {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}
