//! Action item changes from the incident page, and the open-items page.

use axum::{
    extract::{Extension, Path, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use time::Date;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    db::{self, ActionItem, OpenActionItem},
    domain::{ActionItemInput, ActionKind, ActionStatus, Priority},
};
use crate::{
    auth::{self, db::User},
    error::{AppError, Result, WriteError, render},
    incidents::{
        db::Incident,
        handlers::{find_by_reference, incident_page},
    },
    state::AppState,
    web::{CurrentUser, Flash, Form, FormErrors, PageCtx, form::parse_version, session},
};

fn back_to_items(incident: &Incident) -> Response {
    Redirect::to(&format!("/incidents/{}#action-items", incident.reference)).into_response()
}

/// The form's values for an existing item.
pub fn input_of(item: &ActionItem) -> ActionItemInput {
    ActionItemInput {
        title: item.title.clone(),
        kind: item.kind.to_string(),
        owner_id: item.owner_id.map(|id| id.to_string()).unwrap_or_default(),
        due_on: item.due_on.map(|d| d.to_string()).unwrap_or_default(),
        priority: item.priority.to_string(),
        status: item.status.to_string(),
        tracker_url: item.tracker_url.clone().unwrap_or_default(),
    }
}

/// Today in the reader's zone, to tell what is overdue.
pub fn today(ctx: &PageCtx) -> Date {
    ctx.zone.date_of(&time::OffsetDateTime::now_utc())
}

/// `POST /incidents/{reference}/action_items`
#[tracing::instrument(skip_all)]
pub async fn create_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    ctx: PageCtx,
    Path(reference): Path<String>,
    Form(form): Form<ActionItemInput>,
) -> Result<Response> {
    let incident = find_by_reference(&state, &reference).await?;
    let users = auth::db::list_users(&state.pool).await?;
    match form.parse(&users) {
        Ok(fields) => {
            super::add_item(&state.pool, incident.id, &fields, &user.0).await?;
            session::push_flash(&session, Flash::success("Action item added.")).await?;
            Ok(back_to_items(&incident))
        }
        Err(errors) => {
            let mut page = incident_page(&state, ctx, incident).await?;
            page.item_form = form;
            page.item_errors = errors;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, state.cpu.render(page).await?).into_response())
        }
    }
}

/// The edit page of one action item.
#[derive(askama::Template)]
#[template(path = "action_items/edit.html")]
pub struct EditItemPage {
    pub ctx: PageCtx,
    pub incident: Incident,
    pub item_id: Uuid,
    pub version: i32,
    pub form: ActionItemInput,
    pub errors: FormErrors,
    pub owners: Vec<User>,
    /// On a conflict: the newer saved item, to merge with.
    pub theirs: Option<ActionItem>,
}

impl EditItemPage {
    pub fn action(&self) -> String {
        format!("/incidents/{}/action_items/{}/edit", self.incident.reference, self.item_id)
    }
}

/// The choices every action item form offers.
pub struct Choices;

impl Choices {
    pub fn kinds(&self) -> &'static [ActionKind] {
        ActionKind::ALL
    }

    pub fn priorities(&self) -> &'static [Priority] {
        Priority::ALL
    }

    pub fn statuses(&self) -> &'static [ActionStatus] {
        ActionStatus::ALL
    }
}

async fn item_of(state: &AppState, incident: &Incident, id: Uuid) -> Result<ActionItem> {
    db::find_item(&state.pool, id)
        .await?
        .filter(|item| item.incident_id == incident.id)
        .ok_or(AppError::NotFound)
}

/// `GET /incidents/{reference}/action_items/{id}/edit`
#[tracing::instrument(skip_all)]
pub async fn edit_item_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path((reference, id)): Path<(String, Uuid)>,
) -> Result<Html<String>> {
    let incident = find_by_reference(&state, &reference).await?;
    let item = item_of(&state, &incident, id).await?;
    let owners = auth::db::list_users(&state.pool).await?;
    let page = EditItemPage {
        ctx,
        incident,
        item_id: id,
        version: item.version,
        form: input_of(&item),
        errors: FormErrors::default(),
        owners,
        theirs: None,
    };
    render(&page)
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ItemEditForm {
    version: String,
    #[serde(flatten)]
    item: ActionItemInput,
}

/// `POST /incidents/{reference}/action_items/{id}/edit`
#[tracing::instrument(skip_all)]
pub async fn update_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    ctx: PageCtx,
    Path((reference, id)): Path<(String, Uuid)>,
    Form(form): Form<ItemEditForm>,
) -> Result<Response> {
    let incident = find_by_reference(&state, &reference).await?;
    let version = parse_version(&form.version)?;
    let owners = auth::db::list_users(&state.pool).await?;
    let fields = match form.item.parse(&owners) {
        Ok(fields) => fields,
        Err(errors) => {
            let page = EditItemPage {
                ctx,
                incident,
                item_id: id,
                version,
                form: form.item,
                errors,
                owners,
                theirs: None,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, state.cpu.render(page).await?).into_response());
        }
    };
    match super::edit_item(&state.pool, incident.id, id, version, &fields, &user.0).await {
        Ok(_) => {
            session::push_flash(&session, Flash::success("Action item saved.")).await?;
            Ok(back_to_items(&incident))
        }
        Err(WriteError::Stale(current)) => {
            let page = EditItemPage {
                ctx,
                incident,
                item_id: id,
                version: current.version,
                form: form.item,
                errors: FormErrors::default(),
                owners,
                theirs: Some(*current),
            };
            Ok((StatusCode::CONFLICT, state.cpu.render(page).await?).into_response())
        }
        Err(WriteError::Failed(err)) => Err(err),
    }
}

/// `POST /incidents/{reference}/action_items/{id}/delete`
#[tracing::instrument(skip_all)]
pub async fn delete_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    Path((reference, id)): Path<(String, Uuid)>,
) -> Result<Response> {
    let incident = find_by_reference(&state, &reference).await?;
    super::remove_item(&state.pool, incident.id, id, &user.0).await?;
    session::push_flash(&session, Flash::success("Action item deleted.")).await?;
    Ok(back_to_items(&incident))
}

#[derive(askama::Template)]
#[template(path = "action_items/list.html")]
pub struct OpenItemsPage {
    pub ctx: PageCtx,
    pub items: Vec<OpenActionItem>,
    pub today: Date,
    pub overdue: usize,
}

/// `GET /action-items`: every open item across incidents, overdue marked.
#[tracing::instrument(skip_all)]
pub async fn list_open_items(State(state): State<AppState>, ctx: PageCtx) -> Result<Html<String>> {
    let items = db::list_open(&state.pool, 1000).await?;
    let today = today(&ctx);
    let overdue = items.iter().filter(|open| open.item.is_overdue(&today)).count();
    render(&OpenItemsPage { ctx, items, today, overdue })
}
