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
    extract::{Query, State},
    http::{HeaderValue, StatusCode, header},
    middleware,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use crate::{
    auth::domain::Role,
    error::{AppError, Result, render},
    incidents::{db::Incident, path::IncidentPath, report::ExportOptions},
    search::SearchParams,
    state::AppState,
    web::{CurrentUser, Form, PageCtx, clock::Zone, require_role},
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
    ctx: PageCtx,
    Form(input): Form<ImportInput>,
) -> Result<Response> {
    match import::import(&state, user.0.id, &input.report).await {
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
async fn import_api(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    body: String,
) -> Result<(StatusCode, Json<Incident>)> {
    let incident = import::import(&state, user.0.id, &body).await?;
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
    ctx: PageCtx,
    Query(params): Query<SearchParams>,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    archive_of(&state, &params, &ctx.zone, query.options(&state)).await
}

/// `GET /api/v1/export.zip?<search>[&names=roles]`: the same, dates in UTC.
#[tracing::instrument(skip_all)]
async fn export_archive_api(
    State(state): State<AppState>,
    Query(params): Query<SearchParams>,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    archive_of(&state, &params, &Zone::utc(), query.options(&state)).await
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
async fn export(
    State(state): State<AppState>,
    IncidentPath(incident): IncidentPath,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    let options = query.options(&state);
    let mut db = state.pool.acquire().await?;
    let report = state.document.export(&mut db, &incident, &options).await?;
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
