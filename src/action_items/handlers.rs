//! Action item changes from the incident page, and the open-items page.

use axum::{
    extract::{Extension, State},
    http::StatusCode,
    response::{Html, IntoResponse, Response},
};
use serde::Deserialize;
use uuid::Uuid;

use super::{
    db::ActionItem,
    domain::ActionItemInput,
    part::{ItemsView, KEY},
};
use crate::{
    auth::{self, db::User},
    error::{Result, WriteError, render},
    incidents::{
        db::Incident,
        document::{self, PartRequest},
        path::IncidentPath,
        versioned,
    },
    state::AppState,
    web::{
        CurrentUser, Flash, Form, FormErrors, PageCtx, confirm::ConfirmPage, form::parse_version,
        path::RecordId,
    },
};

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

/// `POST /incidents/{reference}/action_items`
#[tracing::instrument(skip_all)]
pub async fn create_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    request: PartRequest,
    Form(form): Form<ActionItemInput>,
) -> Result<Response> {
    let users = auth::db::list_users(&state.pool).await?;
    match form.parse(&users) {
        Ok(fields) => {
            super::add_item(&state, incident.id, &fields, &user.0).await?;
            document::saved(&state, request, &incident, KEY, Flash::success("Action item added.")).await
        }
        Err(errors) => {
            let mut ctx = request.part_ctx(&incident, KEY);
            ctx.editing = true;
            let mut view = ItemsView::load(&state, &incident, ctx).await?;
            view.form = form;
            view.errors = errors;
            document::refused(&state, request, incident, Box::new(view), StatusCode::UNPROCESSABLE_ENTITY)
                .await
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

/// `GET /incidents/{reference}/action_items/{id}/edit`
#[tracing::instrument(skip_all)]
pub async fn edit_item_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
) -> Result<Html<String>> {
    let item: ActionItem = versioned::find(&state, incident.id, id).await?;
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
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    request: PartRequest,
    Form(form): Form<ItemEditForm>,
) -> Result<Response> {
    let ctx = request.ctx.clone();
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
    match super::edit_item(&state, Some(incident.id), id, version, &fields, &user.0).await {
        Ok(_) => document::saved(&state, request, &incident, KEY, Flash::success("Action item saved.")).await,
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

/// `GET /incidents/{reference}/action_items/{id}/delete`: asks first.
#[tracing::instrument(skip_all)]
pub async fn confirm_delete_item(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
) -> Result<Html<String>> {
    let item: ActionItem = versioned::find(&state, incident.id, id).await?;
    render(&ConfirmPage {
        ctx,
        question: "Delete this action item?".into(),
        detail: item.title,
        action: format!("/incidents/{}/action_items/{id}/delete", incident.reference),
        confirm: "Delete the action item".into(),
        back: format!("/incidents/{}#action-items", incident.reference),
    })
}

/// `POST /incidents/{reference}/action_items/{id}/delete`
#[tracing::instrument(skip_all)]
pub async fn delete_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    request: PartRequest,
) -> Result<Response> {
    super::remove_item(&state, Some(incident.id), id, &user.0).await?;
    document::saved(&state, request, &incident, KEY, Flash::success("Action item deleted.")).await
}
