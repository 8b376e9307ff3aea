//! The postmortem as a Markdown report: GitHub-flavoured Markdown with a
//! YAML front matter, for the wiki, the ticket or the repository. Each part
//! of the postmortem writes its own section (see `Part::export`); this is
//! where the report is asked for, from the page and the API.

use axum::{
    Router,
    extract::{Query, State},
    http::{HeaderValue, header},
    middleware,
    response::{IntoResponse, Response},
    routing::get,
};
use serde::Deserialize;

use crate::{
    auth::domain::Role,
    error::Result,
    incidents::{path::IncidentPath, report::ExportOptions},
    state::AppState,
    web::require_role,
};

/// Pages: the report, for anyone who may read the postmortem.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{reference}/export.md", get(export))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role))
}

/// API routes, mounted under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{id}/export.md", get(export))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ExportQuery {
    /// `roles` names people by their role instead of their name.
    names: Option<String>,
}

/// `GET …/export.md[?names=roles]`: the report, as a download.
#[tracing::instrument(skip_all)]
async fn export(
    State(state): State<AppState>,
    IncidentPath(incident): IncidentPath,
    Query(query): Query<ExportQuery>,
) -> Result<Response> {
    let options =
        ExportOptions { roles: query.names.as_deref() == Some("roles"), origin: state.origin.to_string() };
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
