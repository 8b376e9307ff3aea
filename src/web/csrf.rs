//! CSRF protection for every state-changing browser request, in one place:
//! a foreign `Origin` (or a cross-site fetch) is refused, and the request
//! must carry the session's synchronizer token, in the `csrf_token` form
//! field or the `X-CSRF-Token` header. The JSON API is not behind this
//! layer: it authenticates with bearer tokens only, never with cookies.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, Method, header},
    middleware::Next,
    response::Response,
};
use tower_sessions::Session;

use super::session;
use crate::{
    auth::credentials::secrets_match,
    error::{AppError, Result},
    state::AppState,
};

/// The form field every state-changing form carries.
pub const FIELD: &str = "csrf_token";
/// The header scripts send the token in.
pub const HEADER: &str = "x-csrf-token";

pub async fn verify_csrf(
    State(state): State<AppState>,
    session: Session,
    request: Request,
    next: Next,
) -> Result<Response> {
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return Ok(next.run(request).await);
    }
    check_origin(request.headers(), &state.origin)?;
    let expected = session::existing_csrf_token(&session).await?;
    let (parts, body) = request.into_parts();
    let (provided, body) = match parts.headers.get(HEADER).and_then(|v| v.to_str().ok()) {
        Some(token) => (Some(token.to_owned()), body),
        None if is_urlencoded_form(&parts.headers) => {
            let bytes = read_body(body, &parts.headers, state.config.max_body_bytes).await?;
            (token_from_form(&bytes), Body::from(bytes))
        }
        None => (None, body),
    };
    let valid = matches!((&expected, &provided), (Some(e), Some(p)) if secrets_match(e, p));
    if !valid {
        tracing::warn!(had_token = provided.is_some(), "refused a request without a valid CSRF token");
        return Err(AppError::Forbidden(
            "This form has expired or did not come from Debrief, so nothing was changed. \
             Reload the page and try again."
                .into(),
        ));
    }
    Ok(next.run(Request::from_parts(parts, body)).await)
}

/// Refuses requests that a browser says come from another site.
fn check_origin(headers: &HeaderMap, own_origin: &str) -> Result<()> {
    let refuse =
        || AppError::Forbidden("Requests from other sites are refused, so nothing was changed.".into());
    if headers.get("sec-fetch-site").is_some_and(|v| v.as_bytes() == b"cross-site") {
        return Err(refuse());
    }
    let Some(origin) = headers.get(header::ORIGIN) else { return Ok(()) };
    let origin = origin.to_str().map_err(|_| refuse())?;
    if origin == own_origin {
        return Ok(());
    }
    // The site may be reached under another name than the configured one
    // (localhost and 127.0.0.1): same-origin means the Origin's host is the
    // Host the browser sent this request to.
    let origin_host = origin.strip_prefix("https://").or_else(|| origin.strip_prefix("http://"));
    let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
    match (origin_host, host) {
        (Some(origin_host), Some(host)) if origin_host == host => Ok(()),
        _ => Err(refuse()),
    }
}

fn is_urlencoded_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"))
}

/// Reads a form body whole, within the body limit.
async fn read_body(body: Body, headers: &HeaderMap, limit: usize) -> Result<axum::body::Bytes> {
    let too_large = || AppError::PayloadTooLarge(format!("The form is larger than the {limit}-byte limit."));
    let declared = headers.get(header::CONTENT_LENGTH).and_then(|v| v.to_str().ok()?.parse::<usize>().ok());
    if declared.is_some_and(|len| len > limit) {
        return Err(too_large());
    }
    axum::body::to_bytes(body, limit).await.map_err(|_| too_large())
}

fn token_from_form(body: &[u8]) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(body).ok()?;
    pairs.into_iter().find(|(name, _)| name == FIELD).map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    #[test]
    fn same_origin_and_originless_requests_pass() {
        let own = "http://127.0.0.1:3000";
        assert!(check_origin(&headers(&[]), own).is_ok());
        assert!(check_origin(&headers(&[("origin", "http://127.0.0.1:3000")]), own).is_ok());
        let via_localhost = headers(&[("origin", "http://localhost:3000"), ("host", "localhost:3000")]);
        assert!(check_origin(&via_localhost, own).is_ok());
    }

    #[test]
    fn foreign_origins_are_refused() {
        let own = "http://127.0.0.1:3000";
        let foreign = headers(&[("origin", "https://evil.example"), ("host", "127.0.0.1:3000")]);
        assert!(check_origin(&foreign, own).is_err());
        assert!(check_origin(&headers(&[("origin", "null")]), own).is_err());
        assert!(check_origin(&headers(&[("sec-fetch-site", "cross-site")]), own).is_err());
    }

    #[test]
    fn the_token_is_read_from_the_form() {
        assert_eq!(token_from_form(b"a=1&csrf_token=abc%2Bd&b=2").as_deref(), Some("abc+d"));
        assert_eq!(token_from_form(b"a=1"), None);
    }
}
