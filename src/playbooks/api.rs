//! Playbook and checklist calls of the JSON API.

use axum::{
    Json,
    extract::{Extension, Path, State, rejection::JsonRejection},
    http::StatusCode,
};
use serde::Serialize;
use serde_json::Value;

use super::{
    Suggestion,
    db::{self, Checklist, Item, Playbook, Version},
    domain::{PlaybookInput, is_slug, parse_tick},
    handlers::{input_of, parse},
};
use crate::{
    action_items::db::ActionItem,
    auth::domain::Role,
    error::{AppError, Result, WriteError},
    incidents::path::IncidentPath,
    state::AppState,
    web::{
        CurrentUser,
        json::{json_rejection, required_version},
        path::RecordId,
    },
};

/// A playbook as the API gives it: its current version, and whether it is
/// due for review.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Playbook)]
pub struct PlaybookBody {
    #[serde(flatten)]
    playbook: Playbook,
    review_due: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    versions: Option<Vec<VersionLine>>,
}

/// A saved version of a playbook.
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = PlaybookVersionLine)]
struct VersionLine {
    version: i32,
    title: String,
    saved_by: Option<String>,
    #[serde(with = "time::serde::rfc3339")]
    created_at: time::OffsetDateTime,
}

fn body_of(state: &AppState, playbook: Playbook, versions: Option<Vec<Version>>) -> PlaybookBody {
    let review_due = super::due_for_review(&playbook, super::review_after(state));
    let versions = versions.map(|versions| {
        versions
            .into_iter()
            .map(|v| VersionLine {
                version: v.version,
                title: v.title,
                saved_by: v.saved_by,
                created_at: v.created_at,
            })
            .collect()
    });
    PlaybookBody { playbook, review_due, versions }
}

/// `GET /api/v1/playbooks`: `{"playbooks":[...]}`, retired ones left out.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/playbooks",
    tag = "playbooks",
    summary = "List playbooks",
    responses((status = 200, description = "OK", body = PlaybookList), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn list_playbooks(State(state): State<AppState>) -> Result<Json<PlaybookList>> {
    let playbooks: Vec<PlaybookBody> =
        db::list(&state.pool, false).await?.into_iter().map(|p| body_of(&state, p, None)).collect();
    Ok(Json(PlaybookList { playbooks }))
}

/// `{"playbooks":[...]}`: those not retired.
#[derive(Serialize, utoipa::ToSchema)]
pub struct PlaybookList {
    playbooks: Vec<PlaybookBody>,
}

/// The checklists applied to an incident, and the playbooks suggested for
/// it, best first.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IncidentPlaybooks {
    applied: Vec<Checklist>,
    suggested: Vec<Suggestion>,
}

/// `GET /api/v1/playbooks/{id}` (an id or a slug): the playbook and the
/// list of its versions.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/playbooks/{id}",
    tag = "playbooks",
    summary = "Read a playbook and its versions",
    params(crate::web::api_schemas::PlaybookKey),
    responses((status = 200, description = "OK", body = PlaybookBody), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn show_playbook(
    State(state): State<AppState>,
    Path(key): Path<String>,
) -> Result<Json<PlaybookBody>> {
    let playbook = db::find(&state.pool, &key).await?.ok_or(AppError::NotFound)?;
    let versions = db::versions(&state.pool, playbook.id).await?;
    Ok(Json(body_of(&state, playbook, Some(versions))))
}

const FIELDS: [&str; 6] = ["title", "body", "categories", "suspect_keys", "owner_id", "standing"];

/// Overlays the body's fields on `base`: lists as arrays (or a
/// comma-separated string), `standing` as a boolean, `owner_id` as a
/// string or null.
fn input_from(
    body: &serde_json::Map<String, Value>,
    base: PlaybookInput,
    extra: &[&str],
) -> Result<PlaybookInput> {
    if let Some(name) = body.keys().find(|k| !FIELDS.contains(&k.as_str()) && !extra.contains(&k.as_str())) {
        return Err(AppError::Unprocessable(format!("{name}: not a field of a playbook.")));
    }
    let text = |name: &str, fallback: String| -> Result<String> {
        match body.get(name) {
            None => Ok(fallback),
            Some(Value::Null) => Ok(String::new()),
            Some(Value::String(text)) => Ok(text.clone()),
            Some(_) => Err(AppError::Unprocessable(format!("{name}: expected a string."))),
        }
    };
    let list = |name: &str, fallback: String| -> Result<String> {
        match body.get(name) {
            Some(Value::Array(items)) => items
                .iter()
                .map(|item| item.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .map(|items| items.join(","))
                .ok_or_else(|| AppError::Unprocessable(format!("{name}: expected an array of strings."))),
            _ => text(name, fallback),
        }
    };
    let standing = match body.get("standing") {
        None => base.standing.clone(),
        Some(Value::Bool(true)) => "on".into(),
        Some(Value::Bool(false)) => String::new(),
        Some(_) => return Err(AppError::Unprocessable("standing: expected true or false.".into())),
    };
    Ok(PlaybookInput {
        title: text("title", base.title)?,
        body: text("body", base.body)?,
        categories: list("categories", base.categories)?,
        suspect_keys: list("suspect_keys", base.suspect_keys)?,
        owner_id: text("owner_id", base.owner_id)?,
        standing,
    })
}

/// `POST /api/v1/playbooks`: `title` and `body` at least (and `slug`,
/// made from the title when left out); 201 with the playbook at version 1.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/playbooks",
    tag = "playbooks",
    summary = "Create a playbook",
    request_body = NewPlaybook,
    responses((status = 201, description = "OK", body = PlaybookBody), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn create_playbook(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<(StatusCode, Json<PlaybookBody>)> {
    let Json(body) = body.map_err(json_rejection)?;
    let slug = match body.get("slug") {
        None | Some(Value::Null) => None,
        Some(Value::String(slug)) if is_slug(slug) => Some(slug.clone()),
        Some(_) => return Err(AppError::Unprocessable("slug: lower-case words joined by `-`.".into())),
    };
    let input = input_from(&body, PlaybookInput::default(), &["slug"])?;
    let fields = parse(&state, &input).await?.map_err(|errors| AppError::Unprocessable(errors.summary()))?;
    let playbook = super::create(&state, &fields, slug.as_deref(), &user.0).await?;
    Ok((StatusCode::CREATED, Json(body_of(&state, playbook, None))))
}

/// `PATCH /api/v1/playbooks/{id}`: any fields with the `version` they were
/// based on (a new version when what it says changes; 409 when stale);
/// `reviewed: true` marks it reviewed; an admin may set `retired`.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    patch,
    path = "/api/v1/playbooks/{id}",
    tag = "playbooks",
    summary = "Edit a playbook (a new version)",
    params(crate::web::api_schemas::PlaybookKey),
    request_body = PlaybookChanges,
    responses((status = 200, description = "OK", body = PlaybookBody), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn update_playbook(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(key): Path<String>,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<Json<PlaybookBody>> {
    let Json(body) = body.map_err(json_rejection)?;
    let current = db::find(&state.pool, &key).await?.ok_or(AppError::NotFound)?;
    let version = required_version(&body)?;
    let retired = match body.get("retired") {
        None => None,
        Some(Value::Bool(_)) if !user.0.role.at_least(Role::Admin) => {
            return Err(AppError::Forbidden("Only an admin retires a playbook.".into()));
        }
        Some(Value::Bool(retired)) => Some(*retired),
        Some(_) => return Err(AppError::Unprocessable("retired: expected true or false.".into())),
    };
    let reviewed = match body.get("reviewed") {
        None | Some(Value::Bool(false)) => false,
        Some(Value::Bool(true)) => true,
        Some(_) => return Err(AppError::Unprocessable("reviewed: expected true.".into())),
    };
    let input = input_from(&body, input_of(&current), &["version", "reviewed", "retired"])?;
    let fields = parse(&state, &input).await?.map_err(|errors| AppError::Unprocessable(errors.summary()))?;
    let saved = match super::edit(&state, current.id, version, &fields, &user.0).await {
        Ok(saved) => saved,
        Err(WriteError::Stale(now)) => return Err(AppError::stale("playbook", version, now.version)),
        Err(WriteError::Failed(err)) => return Err(err),
    };
    if reviewed {
        db::mark_reviewed(&state.pool, saved.id).await?;
    }
    if let Some(retired) = retired {
        db::set_retired(&state.pool, saved.id, retired).await?;
    }
    let saved = db::find(&state.pool, &saved.id.to_string()).await?.ok_or(AppError::NotFound)?;
    Ok(Json(body_of(&state, saved, None)))
}

/// `GET /api/v1/incidents/{id}/playbooks`: `{"applied":[...],"suggested":[...]}`,
/// the best suggestion first, each with its reasons.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}/playbooks",
    tag = "playbooks",
    summary = "Applied and suggested playbooks",
    params(crate::web::api_schemas::IncidentId),
    responses((status = 200, description = "OK", body = IncidentPlaybooks), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn incident_playbooks(
    State(state): State<AppState>,
    IncidentPath(incident): IncidentPath,
) -> Result<Json<IncidentPlaybooks>> {
    let mut db = state.pool.acquire().await?;
    let applied = db::checklists(&mut db, incident.id).await?;
    drop(db);
    let suggested: Vec<Suggestion> = super::suggestions(&state, incident.id, &applied).await?;
    Ok(Json(IncidentPlaybooks { applied, suggested }))
}

/// `POST /api/v1/incidents/{id}/playbooks`: `{"playbook_id"}` (an id or a
/// slug); 201 with the incident's new checklist.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/incidents/{id}/playbooks",
    tag = "playbooks",
    summary = "Apply a playbook to an incident",
    params(crate::web::api_schemas::IncidentId),
    request_body = ApplyPlaybook,
    responses((status = 201, description = "OK", body = Checklist), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn apply_playbook(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<(StatusCode, Json<Checklist>)> {
    let Json(body) = body.map_err(json_rejection)?;
    let key = body.get("playbook_id").and_then(Value::as_str).ok_or_else(|| {
        AppError::Unprocessable("playbook_id: the playbook to apply, by id or slug.".into())
    })?;
    let playbook = db::find(&state.pool, key)
        .await?
        .ok_or_else(|| AppError::Unprocessable(format!("playbook_id: no playbook `{key}`.")))?;
    let checklist = super::apply(&state, incident.id, &playbook, &user.0).await?;
    Ok((StatusCode::CREATED, Json(checklist)))
}

/// `POST /api/v1/playbooks/{id}/runs`: starts a run of a standing
/// checklist; 201 with it.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/playbooks/{id}/runs",
    tag = "playbooks",
    summary = "Start a run of a playbook, outside any incident",
    params(crate::web::api_schemas::PlaybookKey),
    responses((status = 201, description = "OK", body = Checklist), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn start_run(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    Path(key): Path<String>,
) -> Result<(StatusCode, Json<Checklist>)> {
    let playbook = db::find(&state.pool, &key).await?.ok_or(AppError::NotFound)?;
    let id = super::start_run(&state, &playbook, &user.0).await?;
    let mut db = state.pool.acquire().await?;
    let run = db::checklist(&mut db, id).await?.ok_or(AppError::NotFound)?;
    Ok((StatusCode::CREATED, Json(run)))
}

/// `PATCH /api/v1/checklist_items/{id}`: `{"state","note","version"}`; a
/// stale version gets 409 and changes nothing.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    patch,
    path = "/api/v1/checklist_items/{id}",
    tag = "playbooks",
    summary = "Tick a checklist item",
    params(crate::web::api_schemas::RecordId),
    request_body = TickItem,
    responses((status = 200, description = "OK", body = Item), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn tick_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    RecordId(id): RecordId,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<Json<Item>> {
    let Json(body) = body.map_err(json_rejection)?;
    if let Some(name) = body.keys().find(|k| !["state", "note", "version"].contains(&k.as_str())) {
        return Err(AppError::Unprocessable(format!("{name}: not a field of a checklist step.")));
    }
    let version = required_version(&body)?;
    let text = |name: &str| match body.get(name) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(text)) => Ok(text.clone()),
        Some(_) => Err(AppError::Unprocessable(format!("{name}: expected a string."))),
    };
    let tick = parse_tick(&text("state")?, &text("note")?).map_err(AppError::Unprocessable)?;
    let mut db = state.pool.acquire().await?;
    let current = db::find_item(&mut db, id, false).await?.ok_or(AppError::NotFound)?;
    drop(db);
    match super::tick(&state, current.incident_id, id, version, tick, &user.0).await {
        Ok(item) => Ok(Json(item)),
        Err(WriteError::Stale(now)) => Err(AppError::stale("checklist step", version, now.version)),
        Err(WriteError::Failed(err)) => Err(err),
    }
}

/// `POST /api/v1/checklist_items/{id}/action_item`: the step as an action
/// item of its incident, linked back; 201 with the item.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/checklist_items/{id}/action_item",
    tag = "playbooks",
    summary = "Make an action item of a checklist item",
    params(crate::web::api_schemas::RecordId),
    responses((status = 201, description = "OK", body = crate::action_items::db::ActionItem), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn make_action_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    RecordId(id): RecordId,
) -> Result<(StatusCode, Json<ActionItem>)> {
    let mut db = state.pool.acquire().await?;
    let item = db::find_item(&mut db, id, false).await?.ok_or(AppError::NotFound)?;
    drop(db);
    let incident = item.incident_id.ok_or_else(|| {
        AppError::Unprocessable("A step of a standing run has no incident to act on.".into())
    })?;
    let action = super::make_action_item(&state, incident, id, &user.0).await?;
    Ok((StatusCode::CREATED, Json(action)))
}

// The request bodies as the OpenAPI document describes them: the
// handlers read them field by field, to name the field at fault.

/// `POST /api/v1/playbooks`: its steps are the task-list items (`- [ ] ...`) of `body`.
#[derive(utoipa::ToSchema)]
pub struct NewPlaybook {
    #[schema(min_length = 1)]
    pub title: String,
    /// Markdown, with at least one task-list item.
    pub body: String,
    /// Lower-case words joined by `-`; made from the title when not given.
    #[schema(pattern = "^[a-z0-9]+(-[a-z0-9]+)*$")]
    pub slug: Option<String>,
    /// Cause categories it helps with.
    pub categories: Option<crate::web::api_schemas::Labels>,
    /// Evidence suspects it helps with (`http-client-persistconn`, ...).
    pub suspect_keys: Option<crate::web::api_schemas::Labels>,
    pub owner_id: Option<uuid::Uuid>,
    /// Run on its own, not applied to an incident ("before shipping a new service").
    pub standing: Option<bool>,
}

/// `PATCH /api/v1/playbooks/{id}`: an edit saves a new version.
#[derive(utoipa::ToSchema)]
pub struct PlaybookChanges {
    pub version: i32,
    pub title: Option<String>,
    pub body: Option<String>,
    pub categories: Option<crate::web::api_schemas::Labels>,
    pub suspect_keys: Option<crate::web::api_schemas::Labels>,
    pub owner_id: Option<uuid::Uuid>,
    pub standing: Option<bool>,
    /// Marks it reviewed now.
    pub reviewed: Option<bool>,
    /// Admins only.
    pub retired: Option<bool>,
}

/// `{"playbook_id":".."}`: the playbook's id or slug.
#[derive(utoipa::ToSchema)]
pub struct ApplyPlaybook {
    pub playbook_id: String,
}

/// A step ticked: its new state, a note, and the `version` it was based on.
#[derive(utoipa::ToSchema)]
pub struct TickItem {
    pub state: crate::playbooks::domain::ItemState,
    pub note: Option<String>,
    pub version: i32,
}
