//! The postmortem as a Markdown report: GitHub-flavoured Markdown with a
//! YAML front matter, for the wiki, the ticket or the repository. Each part
//! of the postmortem writes its own section (see `Part::export`); this is
//! where the report is asked for, from the page and the API, and where a
//! report comes back in as a new incident.

pub mod archive;
pub mod import;

use askama::Template;
use axum::{
    Extension, Json, Router,
    extract::{Query, RawQuery, State},
    http::{HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::json;

use crate::{
    auth::domain::Role,
    error::{AppError, Result, render},
    incidents::{db::Incident, path::IncidentPath, report::ExportOptions},
    search::SearchParams,
    state::AppState,
    web::{
        CurrentUser, Form, PageCtx,
        audit::{self, Action, Actor, AuditEvent},
        clock::Zone,
        require_role,
    },
};

/// Pages: the report, for anyone who may read the postmortem; importing
/// one, for editors.
pub fn router() -> Router<AppState> {
    let read = Router::new()
        .route("/incidents/{reference}/export.md", get(export))
        .route("/incidents/export.zip", get(export_archive_page))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let write = Router::new()
        .route("/incidents/import", get(import_form).post(import_page))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    read.merge(write)
}

/// API routes, mounted under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    let read = Router::new()
        .route("/incidents/{id}/export.md", get(export))
        .route("/export.zip", get(export_archive_api))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let write = Router::new()
        .route("/import", post(import_api))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    read.merge(write)
}

#[derive(Template)]
#[template(path = "incidents/import.html")]
struct ImportPage {
    ctx: PageCtx,
    report: String,
    problem: Option<String>,
}

/// `GET /incidents/import`
async fn import_form(ctx: PageCtx) -> Result<Response> {
    Ok(render(&ImportPage { ctx, report: String::new(), problem: None })?.into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct ImportInput {
    report: String,
}

/// `POST /incidents/import`: to the new incident, or the form again with
/// the problem and the text as pasted.
async fn import_page(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    actor: Actor,
    ctx: PageCtx,
    Form(input): Form<ImportInput>,
) -> Result<Response> {
    match import::import(&state, user.0.id, &actor, &input.report).await {
        Ok(incident) => Ok(Redirect::to(&format!("/incidents/{}", incident.reference)).into_response()),
        Err(AppError::Unprocessable(problem)) => {
            let page = ImportPage { ctx, report: input.report, problem: Some(problem) };
            Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
        }
        Err(err) => Err(err),
    }
}

/// `POST /api/v1/import`: the report as the body (`text/markdown`); 201
/// with the new incident.
#[utoipa::path(
    post,
    path = "/api/v1/import",
    tag = "export",
    summary = "Import a Markdown report as a new incident",
    request_body(content = String, content_type = "text/markdown"),
    responses((status = 201, description = "OK", body = crate::incidents::db::Incident), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
async fn import_api(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    actor: Actor,
    body: String,
) -> Result<(StatusCode, Json<Incident>)> {
    let incident = import::import(&state, user.0.id, &actor, &body).await?;
    Ok((StatusCode::CREATED, Json(incident)))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportQuery {
    /// `roles` names people by their role instead of their name.
    names: Option<String>,
    /// `1` adds the comments at the end.
    comments: Option<String>,
}

impl ExportQuery {
    fn options(&self, state: &AppState) -> ExportOptions {
        ExportOptions {
            roles: self.names.as_deref() == Some("roles"),
            origin: state.origin.to_string(),
            comments: matches!(self.comments.as_deref(), Some("1" | "true" | "yes")),
        }
    }
}

/// `GET /incidents/export.zip?<search>[&names=roles]`: the report of every
/// incident the search finds (every incident, with no search), as one zip,
/// dates read in the reader's zone.
#[tracing::instrument(skip_all)]
async fn export_archive_page(
    State(state): State<AppState>,
    actor: Actor,
    ctx: PageCtx,
    RawQuery(raw): RawQuery,
    Query(params): Query<SearchParams>,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    let response = archive_of(&state, &params, &ctx.zone, query.options(&state)).await?;
    record_archive(&state, &actor, raw).await?;
    Ok(response)
}

/// `GET /api/v1/export.zip?<search>[&names=roles]`: the same, dates in UTC.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/export.zip",
    tag = "export",
    summary = "The reports of the incidents found, as a zip",
    params(SearchParams, crate::web::api_schemas::ExportNames),
    responses((status = 200, description = "OK", body = Vec<u8>, content_type = "application/zip"), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
async fn export_archive_api(
    State(state): State<AppState>,
    actor: Actor,
    RawQuery(raw): RawQuery,
    Query(params): Query<SearchParams>,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    let response = archive_of(&state, &params, &Zone::utc(), query.options(&state)).await?;
    record_archive(&state, &actor, raw).await?;
    Ok(response)
}

/// An archive on its way, for the audit trail: the search it was asked
/// with, as sent (at most 500 characters of it). Recorded once the archive
/// has its turn; a failure drops the response, which stops the archive.
async fn record_archive(state: &AppState, actor: &Actor, query: Option<String>) -> Result<()> {
    let query: String = query.unwrap_or_default().chars().take(500).collect();
    let event = AuditEvent::new(actor, Action::ExportZip).detail(json!({ "query": query }));
    audit::record(&state.pool, &event).await
}

async fn archive_of(
    state: &AppState,
    params: &SearchParams,
    zone: &Zone,
    options: ExportOptions,
) -> Result<Response> {
    let search = params.parse(1, 1).map_err(AppError::BadRequest)?;
    let range = (search.starts(zone), search.ends(zone));
    archive::download(state, archive::Selection { search, range }, options).await
}

/// `GET …/export.md[?names=roles]`: the report, as a download.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/incidents/{id}/export.md",
    tag = "export",
    summary = "The Markdown report",
    params(crate::web::api_schemas::IncidentId, crate::web::api_schemas::ExportNames),
    responses((status = 200, description = "OK", body = String, content_type = "text/markdown"), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
async fn export(
    State(state): State<AppState>,
    actor: Actor,
    IncidentPath(incident): IncidentPath,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    let options = query.options(&state);
    let mut db = state.pool.acquire().await?;
    let report = state.document.export(&mut db, &incident, &options).await?;
    let names = if options.roles { "roles" } else { "names" };
    let detail = json!({ "incident_id": incident.id, "names": names, "comments": options.comments });
    let event =
        AuditEvent::new(&actor, Action::ExportReport).target(incident.reference.clone()).detail(detail);
    audit::record(&mut *db, &event).await?;
    let file_name = format!("{}.md", incident.reference);
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{file_name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("text/markdown; charset=utf-8")),
            (header::CONTENT_DISPOSITION, disposition),
            (header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")),
        ],
        report,
    )
        .into_response())
}
