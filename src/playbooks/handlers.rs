//! The playbook pages, and the runs of standing checklists.

use axum::{
    extract::{Extension, Path, Query, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    SUSPECT_KEYS,
    db::{self, Playbook},
    domain::{PlaybookInput, parse_tick},
    part::TickForm,
    views::{HistoryPage, PlaybookFormPage, PlaybookPage, PlaybooksPage, RunPage, StepRow},
};
use crate::{
    auth, causes,
    error::{AppError, Result, WriteError, render},
    history::domain::compare,
    state::AppState,
    web::{
        CurrentUser, Flash, Form, FormErrors, PageCtx, form::parse_version, markdown, path::RecordId, session,
    },
};

async fn find(state: &AppState, slug: &str) -> Result<Playbook> {
    db::find(&state.pool, slug).await?.ok_or(AppError::NotFound)
}

/// `GET /playbooks`
#[tracing::instrument(skip_all)]
pub async fn list_playbooks(State(state): State<AppState>, ctx: PageCtx) -> Result<Html<String>> {
    let after = super::review_after(&state);
    let (active, retired): (Vec<Playbook>, Vec<Playbook>) =
        db::list(&state.pool, true).await?.into_iter().partition(|playbook| playbook.retired_at.is_none());
    let playbooks = active.into_iter().map(|playbook| {
        let due = super::due_for_review(&playbook, after);
        (playbook, due)
    });
    render(&PlaybooksPage { ctx, playbooks: playbooks.collect(), retired })
}

/// `GET /playbooks/{slug}`: the playbook, the incidents that used it and
/// how often each of its steps was done.
#[tracing::instrument(skip_all)]
pub async fn show_playbook(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Html<String>> {
    let playbook = find(&state, &slug).await?;
    let figures = db::step_figures(&state.pool, playbook.id).await?;
    let uses = db::uses(&state.pool, playbook.id).await?;
    let runs = if playbook.standing {
        let mut db = state.pool.acquire().await?;
        db::runs(&mut db, playbook.id).await?
    } else {
        Vec::new()
    };
    let due = super::due_for_review(&playbook, super::review_after(&state));
    let review_days = state.config.playbook_review_days;
    state
        .cpu
        .run(move || {
            let steps = playbook
                .steps
                .iter()
                .map(|step| StepRow {
                    html: markdown::render_inline(&step.text),
                    figures: figures.iter().find(|f| f.text == step.text).cloned().unwrap_or_default(),
                    step: step.clone(),
                })
                .collect();
            let body_html = markdown::render(&playbook.body);
            render(&PlaybookPage { ctx, playbook, body_html, due, review_days, steps, uses, runs })
        })
        .await?
}

async fn form_page(
    state: &AppState,
    ctx: PageCtx,
    playbook: Option<Playbook>,
    form: PlaybookInput,
    errors: FormErrors,
    theirs: Option<Playbook>,
) -> Result<PlaybookFormPage> {
    let owners = auth::db::list_users(&state.pool).await?;
    let categories = causes::db::list_categories(&state.pool).await?;
    let version = theirs.as_ref().or(playbook.as_ref()).map_or(0, |p| p.version);
    Ok(PlaybookFormPage {
        ctx,
        playbook,
        version,
        form,
        errors,
        owners,
        categories,
        suspect_keys: &SUSPECT_KEYS,
        theirs,
    })
}

/// The form's values for a saved playbook.
pub fn input_of(playbook: &Playbook) -> PlaybookInput {
    PlaybookInput {
        title: playbook.title.clone(),
        body: playbook.body.clone(),
        categories: playbook.categories.join(", "),
        suspect_keys: playbook.suspect_keys.join(", "),
        owner_id: playbook.owner_id.map(|id| id.to_string()).unwrap_or_default(),
        standing: if playbook.standing { "on".into() } else { String::new() },
    }
}

/// Checks a playbook form against the taxonomy, the kinds of suspect and
/// the users.
pub async fn parse(
    state: &AppState,
    input: &PlaybookInput,
) -> Result<std::result::Result<super::domain::PlaybookFields, FormErrors>> {
    let categories = causes::db::list_categories(&state.pool).await?;
    let users: Vec<Uuid> = auth::db::list_users(&state.pool).await?.into_iter().map(|user| user.id).collect();
    Ok(input.parse(&categories, &SUSPECT_KEYS, &users))
}

/// `GET /playbooks/new`
#[tracing::instrument(skip_all)]
pub async fn new_playbook_form(State(state): State<AppState>, ctx: PageCtx) -> Result<Html<String>> {
    let form = PlaybookInput {
        body: "What this playbook is for.\n\n## Steps\n\n- [ ] \n".into(),
        ..Default::default()
    };
    render(&form_page(&state, ctx, None, form, FormErrors::default(), None).await?)
}

/// `POST /playbooks/new`
#[tracing::instrument(skip_all)]
pub async fn create_playbook(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    ctx: PageCtx,
    Form(form): Form<PlaybookInput>,
) -> Result<Response> {
    match parse(&state, &form).await? {
        Ok(fields) => {
            let playbook = super::create(&state, &fields, None, &user.0).await?;
            session::push_flash(
                &session,
                Flash::success(format!("Saved \u{201c}{}\u{201d}.", playbook.title)),
            )
            .await?;
            Ok(Redirect::to(&format!("/playbooks/{}", playbook.slug)).into_response())
        }
        Err(errors) => {
            let page = form_page(&state, ctx, None, form, errors, None).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, state.cpu.render(page).await?).into_response())
        }
    }
}

/// `GET /playbooks/{slug}/edit`
#[tracing::instrument(skip_all)]
pub async fn edit_playbook_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
) -> Result<Html<String>> {
    let playbook = find(&state, &slug).await?;
    let form = input_of(&playbook);
    render(&form_page(&state, ctx, Some(playbook), form, FormErrors::default(), None).await?)
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct EditForm {
    version: String,
    #[serde(flatten)]
    playbook: PlaybookInput,
}

/// `POST /playbooks/{slug}/edit`: a new version, unless someone saved one
/// since the form was opened; then the form again beside theirs.
#[tracing::instrument(skip_all)]
pub async fn update_playbook(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    ctx: PageCtx,
    Path(slug): Path<String>,
    Form(form): Form<EditForm>,
) -> Result<Response> {
    let playbook = find(&state, &slug).await?;
    let version = parse_version(&form.version)?;
    let fields = match parse(&state, &form.playbook).await? {
        Ok(fields) => fields,
        Err(errors) => {
            let mut page = form_page(&state, ctx, Some(playbook), form.playbook, errors, None).await?;
            page.version = version;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, state.cpu.render(page).await?).into_response());
        }
    };
    match super::edit(&state, playbook.id, version, &fields, &user.0).await {
        Ok(saved) => {
            let flash = if saved.version > playbook.version {
                format!("Saved version {}.", saved.version)
            } else {
                "Saved; what it says is unchanged, so it keeps its version.".to_owned()
            };
            session::push_flash(&session, Flash::success(flash)).await?;
            Ok(Redirect::to(&format!("/playbooks/{}", saved.slug)).into_response())
        }
        Err(WriteError::Stale(current)) => {
            let page =
                form_page(&state, ctx, Some(playbook), form.playbook, FormErrors::default(), Some(*current))
                    .await?;
            Ok((StatusCode::CONFLICT, state.cpu.render(page).await?).into_response())
        }
        Err(WriteError::Failed(err)) => Err(err),
    }
}

/// `POST /playbooks/{slug}/reviewed`
#[tracing::instrument(skip_all)]
pub async fn mark_reviewed(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
) -> Result<Response> {
    let playbook = find(&state, &slug).await?;
    db::mark_reviewed(&state.pool, playbook.id).await?;
    session::push_flash(&session, Flash::success("Marked reviewed today.")).await?;
    Ok(Redirect::to(&format!("/playbooks/{}", playbook.slug)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct RetireForm {
    retire: String,
}

/// `POST /playbooks/{slug}/retire`: retires it, or (`retire=false`) brings
/// it back.
#[tracing::instrument(skip_all)]
pub async fn retire_playbook(
    State(state): State<AppState>,
    session: Session,
    Path(slug): Path<String>,
    Form(form): Form<RetireForm>,
) -> Result<Response> {
    let playbook = find(&state, &slug).await?;
    let retire = form.retire != "false";
    db::set_retired(&state.pool, playbook.id, retire).await?;
    let flash = if retire { "Retired: it is no longer suggested or applied." } else { "In use again." };
    session::push_flash(&session, Flash::success(flash)).await?;
    Ok(Redirect::to(&format!("/playbooks/{}", playbook.slug)).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct Compare {
    from: Option<i32>,
    to: Option<i32>,
}

/// `GET /playbooks/{slug}/history[?from=N&to=M]`: every version, and two of
/// them compared (by default the last change).
#[tracing::instrument(skip_all)]
pub async fn show_history(
    State(state): State<AppState>,
    ctx: PageCtx,
    Path(slug): Path<String>,
    Query(query): Query<Compare>,
) -> Result<Html<String>> {
    let playbook = find(&state, &slug).await?;
    let versions = db::versions(&state.pool, playbook.id).await?;
    let to = query.to.unwrap_or(playbook.version);
    let from = query.from.unwrap_or(to - 1);
    let old = versions.iter().find(|v| v.version == from).map(|v| v.body.clone());
    let new = versions.iter().find(|v| v.version == to).map(|v| v.body.clone());
    if (query.from.is_some() && old.is_none()) || (query.to.is_some() && new.is_none()) {
        return Err(AppError::NotFound);
    }
    state
        .cpu
        .run(move || {
            let compared = match (old, new) {
                (Some(old), Some(new)) => Some((from, to, compare(&old, &new, 3))),
                _ => None,
            };
            render(&HistoryPage { ctx, playbook, versions, compared })
        })
        .await?
}

/// `POST /playbooks/{slug}/runs`: starts a run of a standing checklist.
#[tracing::instrument(skip_all)]
pub async fn start_run(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(slug): Path<String>,
) -> Result<Response> {
    let playbook = find(&state, &slug).await?;
    let id = super::start_run(&state, &playbook, &user.0).await?;
    Ok(Redirect::to(&format!("/checklists/{id}")).into_response())
}

/// `GET /checklists/{id}`: a run of a standing checklist.
#[tracing::instrument(skip_all)]
pub async fn show_run(
    State(state): State<AppState>,
    ctx: PageCtx,
    RecordId(id): RecordId,
) -> Result<Html<String>> {
    let mut db = state.pool.acquire().await?;
    let run = db::checklist(&mut db, id)
        .await?
        .filter(|run| run.incident_id.is_none())
        .ok_or(AppError::NotFound)?;
    drop(db);
    state.cpu.render(RunPage::new(ctx, run, None)).await
}

/// `POST /checklists/{id}/items/{item}`: ticks a step of a run.
#[tracing::instrument(skip_all)]
pub async fn tick_run_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    ctx: PageCtx,
    RecordId(id): RecordId,
    Path((_, item)): Path<(String, String)>,
    Form(form): Form<TickForm>,
) -> Result<Response> {
    let item = Uuid::parse_str(&item).map_err(|_| AppError::NotFound)?;
    let version = parse_version(&form.version)?;
    let refused = |problem: String, status: StatusCode| {
        let state = state.clone();
        let ctx = ctx.clone();
        async move {
            let mut db = state.pool.acquire().await?;
            let run = db::checklist(&mut db, id).await?.ok_or(AppError::NotFound)?;
            drop(db);
            Ok::<Response, AppError>(
                (status, state.cpu.render(RunPage::new(ctx, run, Some(problem))).await?).into_response(),
            )
        }
    };
    let tick = match parse_tick(&form.state, &form.note) {
        Ok(tick) => tick,
        Err(problem) => return refused(problem, StatusCode::UNPROCESSABLE_ENTITY).await,
    };
    let mut db = state.pool.acquire().await?;
    let found = db::find_item(&mut db, item, false).await?.filter(|found| found.checklist_id == id);
    drop(db);
    if found.is_none() {
        return Err(AppError::NotFound);
    }
    match super::tick(&state, None, item, version, tick, &user.0).await {
        Ok(saved) => {
            let flash = Flash::success(format!("Step {}: {}.", saved.position, saved.state.label()));
            session::push_flash(&session, flash).await?;
            Ok(Redirect::to(&format!("/checklists/{id}#step-{}", saved.position)).into_response())
        }
        Err(WriteError::Stale(current)) => refused(current.changed_first(), StatusCode::CONFLICT).await,
        Err(WriteError::Failed(err)) => Err(err),
    }
}
