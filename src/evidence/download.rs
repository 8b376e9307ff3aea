//! Downloads of an artifact's bytes: exactly as uploaded, always as an
//! attachment of an opaque type, so an uploaded HTML or SVG file can never
//! render, or run a script, in our origin.

use axum::{
    body::Body,
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};

use super::db::{self, Artifact};
use crate::{
    error::{AppError, Result},
    incidents::path::IncidentPath,
    state::AppState,
    web::path::RecordId,
};

/// `GET /incidents/{reference}/artifacts/{id}/download`
#[tracing::instrument(skip_all)]
pub async fn download_page(
    State(state): State<AppState>,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
) -> Result<Response> {
    let artifact = db::find_artifact(&state.pool, id).await?.filter(|a| a.incident_id == incident.id);
    send(&state, artifact.ok_or(AppError::NotFound)?).await
}

/// `GET /api/v1/artifacts/{id}/raw`
#[tracing::instrument(skip_all)]
#[utoipa::path(
    get,
    path = "/api/v1/artifacts/{id}/raw",
    tag = "artifacts",
    summary = "The original bytes",
    params(crate::web::api_schemas::RecordId),
    responses((status = 200, description = "OK", body = Vec<u8>, content_type = "application/octet-stream"), crate::web::api_schemas::ReadErrors),
    security(("bearer" = []))
)]
pub async fn download_api(State(state): State<AppState>, RecordId(id): RecordId) -> Result<Response> {
    send(&state, db::find_artifact(&state.pool, id).await?.ok_or(AppError::NotFound)?).await
}

async fn send(state: &AppState, artifact: Artifact) -> Result<Response> {
    let (size, stream) = state.analyser.store.read_stream(&artifact.sha256).await.map_err(|err| {
        AppError::Internal(anyhow::anyhow!("reading {} from the store: {err}", artifact.sha256))
    })?;
    let mut response = Body::from_stream(stream).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/octet-stream"));
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(size));
    if let Ok(value) = HeaderValue::from_str(&content_disposition(&artifact.file_name)) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    // Opened anyway, it would run nothing and reach nothing.
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static("sandbox; default-src 'none'"));
    Ok(response)
}

/// `attachment; filename="cpu.pb.gz"; filename*=UTF-8''cpu.pb.gz`: the
/// plain name in ASCII for old clients, the exact one percent-encoded.
pub fn content_disposition(file_name: &str) -> String {
    let ascii: String = file_name
        .chars()
        .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '_' })
        .filter(|c| *c != '"' && *c != '\\')
        .collect();
    let encoded: String = file_name
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'.' | b'-' | b'_' | b'~' => (b as char).to_string(),
            other => format!("%{other:02X}"),
        })
        .collect();
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::content_disposition;

    #[test]
    fn the_download_name_is_quoted_and_encoded() {
        assert_eq!(
            content_disposition("cpu.pb.gz"),
            "attachment; filename=\"cpu.pb.gz\"; filename*=UTF-8''cpu.pb.gz"
        );
        assert_eq!(
            content_disposition("dump é.txt"),
            "attachment; filename=\"dump _.txt\"; filename*=UTF-8''dump%20%C3%A9.txt"
        );
    }
}
