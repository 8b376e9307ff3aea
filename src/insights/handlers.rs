//! `GET /insights` and the lists behind its figures.

use axum::{
    extract::{RawQuery, State},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    api::parse_query,
    db::{self, ItemState, Narrowing, Owner},
    domain::{Filters, InsightsParams},
    range_of, today_in,
    views::{ActionItemsPage, FilterForm, IncidentsPage, InsightsPage},
};
use crate::{
    error::{AppError, Result, render},
    state::AppState,
    web::PageCtx,
};

/// `GET /insights`: the figures, in the reader's zone. Filters that do
/// not parse are shown back with what is wrong, with 400.
#[tracing::instrument(skip_all)]
pub async fn show_insights(
    State(state): State<AppState>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let params = parse_query(raw.as_deref())?;
    let categories = crate::causes::db::list_categories(&state.pool).await?;
    let form = FilterForm { params: params.clone(), categories };
    let today = today_in(&ctx.zone);
    let filters = match params.parse(today) {
        Ok(filters) => filters,
        Err(problem) => {
            let page = InsightsPage::refused(ctx, form, problem);
            return Ok((StatusCode::BAD_REQUEST, render(&page)?).into_response());
        }
    };
    let insights = super::load(&state, &filters, &ctx.zone, today).await?;
    let query = filters.query();
    // Ten charts and their tables: drawn off the async workers.
    let page = state.cpu.run(move || render(&InsightsPage::new(ctx, form, &insights, &query))).await??;
    Ok(page.into_response())
}

/// What narrows a list behind a figure, as sent.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ListParams {
    category: Option<String>,
    suspect: Option<String>,
    playbook: Option<String>,
    state: Option<String>,
    owner: Option<String>,
}

fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The filters and the narrowing of a list's query, or 400.
fn list_query(raw: Option<&str>, ctx: &PageCtx) -> Result<(Filters, ListParams)> {
    let params: InsightsParams = parse_query(raw)?;
    let filters = params.parse(today_in(&ctx.zone)).map_err(AppError::BadRequest)?;
    let list: ListParams = serde_urlencoded::from_str(raw.unwrap_or_default()).map_err(|_| {
        AppError::BadRequest("The query string cannot be read; give each filter once.".into())
    })?;
    Ok((filters, list))
}

/// The filters but the range, in words: `SEV2, service checkout`.
fn describe_labels(filters: &Filters) -> Vec<String> {
    let mut words = Vec::new();
    if let Some(severity) = filters.severity {
        words.push(severity.to_string());
    }
    if let Some(service) = &filters.service {
        words.push(format!("service {service}"));
    }
    if let Some(cause) = &filters.cause {
        words.push(format!("cause {cause}"));
    }
    words
}

/// Every filter, in words.
fn describe(filters: &Filters) -> String {
    let mut words = vec![format!("started from {} to {}", filters.from, filters.to)];
    words.extend(describe_labels(filters));
    words.join(", ")
}

/// `GET /insights/incidents`: the incidents behind a figure the incident
/// list cannot narrow to (a second category, a suspect, a playbook).
#[tracing::instrument(skip_all)]
pub async fn list_incidents(
    State(state): State<AppState>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let (filters, list) = list_query(raw.as_deref(), &ctx)?;
    let narrowing = Narrowing {
        category: given(list.category).map(|c| c.to_lowercase()),
        suspect: given(list.suspect),
        playbook: given(list.playbook),
    };
    let mut title = String::from("Incidents");
    if let Some(category) = &narrowing.category {
        title.push_str(&format!(" with a cause of category {category}"));
    }
    if let Some(suspect) = &narrowing.suspect {
        title.push_str(&format!(" whose evidence shows the suspect {suspect}"));
    }
    if let Some(playbook) = &narrowing.playbook {
        title.push_str(&format!(" the playbook {playbook} was applied to"));
    }
    title.push_str(&format!(", {}", describe(&filters)));
    let incidents = db::incidents(&state.pool, &filters, range_of(&filters, &ctx.zone), &narrowing).await?;
    let total = incidents.first().map_or(0, |row| row.total);
    let back = format!("/insights?{}", filters.query());
    Ok(render(&IncidentsPage { ctx, title, incidents, total, back })?.into_response())
}

/// `GET /insights/action-items`: the action items behind a figure, by
/// state (`open`, `overdue`, `done` within the range) and owner (a user's
/// id, or `none`).
#[tracing::instrument(skip_all)]
pub async fn list_action_items(
    State(state): State<AppState>,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
) -> Result<Response> {
    let (filters, list) = list_query(raw.as_deref(), &ctx)?;
    let item_state = match given(list.state).as_deref() {
        None | Some("open") => ItemState::Open,
        Some("overdue") => ItemState::Overdue,
        Some("done") => ItemState::Done,
        Some(_) => return Err(AppError::BadRequest("`state` is open, overdue or done.".into())),
    };
    let owner = match given(list.owner).as_deref() {
        None => Owner::Anyone,
        Some("none") => Owner::Nobody,
        Some(raw) => Owner::Person(
            raw.parse::<Uuid>()
                .map_err(|_| AppError::BadRequest("`owner` is a user's id, or none.".into()))?,
        ),
    };
    let today = today_in(&ctx.zone);
    let items =
        db::action_items(&state.pool, &filters, range_of(&filters, &ctx.zone), today, item_state, owner)
            .await?;
    let total = items.first().map_or(0, |row| row.total);
    let what = match item_state {
        ItemState::Open => "Open action items".to_owned(),
        ItemState::Overdue => format!("Action items overdue on {today}"),
        ItemState::Done => format!("Action items done from {} to {}", filters.from, filters.to),
    };
    let whose = match owner {
        Owner::Anyone => String::new(),
        Owner::Nobody => " owned by nobody".to_owned(),
        Owner::Person(id) => match items.first().and_then(|item| item.owner_name.as_deref()) {
            Some(name) => format!(" of {name}"),
            None => format!(" of the user {id}"),
        },
    };
    // The range narrows only the items done; the other filters, all.
    let labels = describe_labels(&filters);
    let title = if labels.is_empty() {
        format!("{what}{whose}")
    } else {
        format!("{what}{whose}, of incidents with {}", labels.join(", "))
    };
    let back = format!("/insights?{}", filters.query());
    Ok(render(&ActionItemsPage { ctx, title, items, total, back })?.into_response())
}
