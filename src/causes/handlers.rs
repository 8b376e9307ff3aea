//! Cause changes from the incident page, and the taxonomy page.

use axum::{
    extract::{Extension, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    db::{self, Cause},
    domain::{CauseInput, CauseKind, parse_category_name},
    part::{CausesView, KEY},
};
use crate::{
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
        path::RecordId, session,
    },
};

/// `POST /incidents/{reference}/causes`
#[tracing::instrument(skip_all)]
pub async fn create_cause(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    request: PartRequest,
    Form(form): Form<CauseInput>,
) -> Result<Response> {
    let categories = db::list_categories(&state.pool).await?;
    match form.parse(&categories) {
        Ok(fields) => {
            let cause = super::add_cause(&state, incident.id, &fields, &user.0).await?;
            let written: Vec<&str> = std::iter::once(fields.description.as_str())
                .chain(fields.whys.iter().map(String::as_str))
                .collect();
            let flash = crate::wording::after_save(&state, &written)
                .await
                .unwrap_or_else(|| Flash::success(format!("{} added.", cause.kind.label())));
            document::saved(&state, request, &incident, KEY, flash).await
        }
        Err(errors) => {
            let mut ctx = request.part_ctx(&incident, KEY);
            ctx.editing = true;
            let mut view = CausesView::load(&state, &incident, ctx).await?;
            view.form = form;
            view.errors = errors;
            document::refused(&state, request, incident, Box::new(view), StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
    }
}

/// The edit page of one cause.
#[derive(askama::Template)]
#[template(path = "causes/edit.html")]
pub struct EditCausePage {
    pub ctx: PageCtx,
    pub incident: Incident,
    pub cause_id: Uuid,
    pub version: i32,
    pub form: CauseInput,
    pub errors: FormErrors,
    pub categories: Vec<String>,
    /// On a conflict: the newer saved cause, to merge with.
    pub theirs: Option<Cause>,
}

impl EditCausePage {
    pub fn action(&self) -> String {
        format!("/incidents/{}/causes/{}/edit", self.incident.reference, self.cause_id)
    }

    pub fn kinds(&self) -> [CauseKind; 3] {
        CauseKind::ALL
    }
}

fn input_of(cause: &Cause) -> CauseInput {
    CauseInput {
        kind: cause.kind.to_string(),
        category: cause.category.clone(),
        description: cause.description.clone(),
        whys: cause.whys.join("\n"),
    }
}

/// `GET /incidents/{reference}/causes/{id}/edit`
#[tracing::instrument(skip_all)]
pub async fn edit_cause_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
) -> Result<Html<String>> {
    let cause: Cause = versioned::find(&state, incident.id, id).await?;
    let categories = db::list_categories(&state.pool).await?;
    let page = EditCausePage {
        ctx,
        incident,
        cause_id: id,
        version: cause.version,
        form: input_of(&cause),
        errors: FormErrors::default(),
        categories,
        theirs: None,
    };
    render(&page)
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct CauseEditForm {
    version: String,
    #[serde(flatten)]
    cause: CauseInput,
}

/// `POST /incidents/{reference}/causes/{id}/edit`
#[tracing::instrument(skip_all)]
pub async fn update_cause(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    request: PartRequest,
    Form(form): Form<CauseEditForm>,
) -> Result<Response> {
    let ctx = request.ctx.clone();
    let version = parse_version(&form.version)?;
    let categories = db::list_categories(&state.pool).await?;
    let fields = match form.cause.parse(&categories) {
        Ok(fields) => fields,
        Err(errors) => {
            let page = EditCausePage {
                ctx,
                incident,
                cause_id: id,
                version,
                form: form.cause,
                errors,
                categories,
                theirs: None,
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, state.cpu.render(page).await?).into_response());
        }
    };
    match super::edit_cause(&state, Some(incident.id), id, version, &fields, &user.0).await {
        Ok(_) => document::saved(&state, request, &incident, KEY, Flash::success("Cause saved.")).await,
        Err(WriteError::Stale(current)) => {
            let page = EditCausePage {
                ctx,
                incident,
                cause_id: id,
                version: current.version,
                form: form.cause,
                errors: FormErrors::default(),
                categories,
                theirs: Some(*current),
            };
            Ok((StatusCode::CONFLICT, state.cpu.render(page).await?).into_response())
        }
        Err(WriteError::Failed(err)) => Err(err),
    }
}

/// `GET /incidents/{reference}/causes/{id}/delete`: asks first.
#[tracing::instrument(skip_all)]
pub async fn confirm_delete_cause(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
) -> Result<Html<String>> {
    let cause: Cause = versioned::find(&state, incident.id, id).await?;
    render(&ConfirmPage {
        ctx,
        question: "Delete this cause?".into(),
        detail: format!(
            "{} ({}) — {}",
            cause.kind.label(),
            cause.category,
            cause.description.chars().take(300).collect::<String>()
        ),
        action: format!("/incidents/{}/causes/{id}/delete", incident.reference),
        confirm: "Delete the cause".into(),
        back: format!("/incidents/{}#causes", incident.reference),
    })
}

/// `POST /incidents/{reference}/causes/{id}/delete`
#[tracing::instrument(skip_all)]
pub async fn delete_cause(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    request: PartRequest,
) -> Result<Response> {
    super::remove_cause(&state, Some(incident.id), id, &user.0).await?;
    document::saved(&state, request, &incident, KEY, Flash::success("Cause deleted.")).await
}

#[derive(askama::Template)]
#[template(path = "causes/categories.html")]
pub struct CategoriesPage {
    pub ctx: PageCtx,
    pub categories: Vec<String>,
    pub name: String,
    pub errors: FormErrors,
}

/// `GET /admin/categories`: the shared taxonomy of causes.
#[tracing::instrument(skip_all)]
pub async fn list_categories(State(state): State<AppState>, ctx: PageCtx) -> Result<Html<String>> {
    let categories = db::list_categories(&state.pool).await?;
    render(&CategoriesPage { ctx, categories, name: String::new(), errors: FormErrors::default() })
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct CategoryForm {
    name: String,
}

/// `POST /admin/categories`
#[tracing::instrument(skip_all)]
pub async fn create_category(
    State(state): State<AppState>,
    session: Session,
    ctx: PageCtx,
    Form(form): Form<CategoryForm>,
) -> Result<Response> {
    let mut errors = FormErrors::default();
    if let Some(name) = errors.check("name", parse_category_name(&form.name)) {
        if db::insert_category(&state.pool, &name).await? {
            session::push_flash(&session, Flash::success(format!("Added the category “{name}”."))).await?;
            return Ok(Redirect::to("/admin/categories").into_response());
        }
        errors.add("name", "That category already exists.");
    }
    let categories = db::list_categories(&state.pool).await?;
    let page = CategoriesPage { ctx, categories, name: form.name, errors };
    Ok((StatusCode::UNPROCESSABLE_ENTITY, state.cpu.render(page).await?).into_response())
}
