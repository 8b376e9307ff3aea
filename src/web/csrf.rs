//! CSRF protection for every state-changing browser request, in one place:
//! a foreign `Origin` (or a cross-site fetch) is refused, and the request
//! must carry the session's synchronizer token, in the `csrf_token` form
//! field or the `X-CSRF-Token` header. The JSON API is not behind this
//! layer: it authenticates with bearer tokens only, never with cookies.
//!
//! A visitor who has not signed in has no stored session, and must not cost
//! one (a flood of anonymous page views would fill the session table). Their
//! forms (sign-in, setup) carry a token kept in a cookie of its own instead,
//! which the form must repeat: a page on another site can neither read the
//! cookie nor set it.

use axum::{
    body::Body,
    extract::{Request, State},
    http::{HeaderMap, HeaderValue, Method, header},
    middleware::Next,
    response::Response,
};
use tower_sessions::Session;

use super::secret::{random_secret, secrets_match};
use super::{form::read_body, session};
use crate::{
    error::{AppError, Result},
    state::AppState,
};

/// The form field every state-changing form carries.
pub const FIELD: &str = "csrf_token";
/// The header scripts send the token in.
pub const HEADER: &str = "x-csrf-token";

/// The cookie that holds a visitor's token while they have no session.
const VISITOR_COOKIE: &str = "debrief_csrf";
/// The same, over HTTPS: `__Host-` keeps a sibling domain from setting it.
const SECURE_VISITOR_COOKIE: &str = "__Host-debrief_csrf";

/// A multipart form's expected token: such a body (an upload) is streamed,
/// never read here whole, so the handler checks the `csrf_token` field,
/// which the form sends before its files, against this.
#[derive(Debug, Clone)]
pub struct MultipartToken(pub String);

/// The token for the forms of a visitor without a session, in the request
/// extensions for [`crate::web::PageCtx`].
#[derive(Debug, Clone)]
pub struct VisitorToken(pub String);

pub async fn verify_csrf(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Result<Response> {
    let cookie_name = if state.config.secure_cookies { SECURE_VISITOR_COOKIE } else { VISITOR_COOKIE };
    let session_token = session::existing_csrf_token(&session).await?;
    let visitor_token = visitor_token(request.headers(), cookie_name);
    if matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        if session_token.is_some() {
            return Ok(next.run(request).await);
        }
        let (token, fresh) = match visitor_token {
            Some(token) => (token, false),
            None => (random_secret(32), true),
        };
        request.extensions_mut().insert(VisitorToken(token.clone()));
        let mut response = next.run(request).await;
        if fresh {
            let cookie = visitor_cookie(cookie_name, &token, state.config.secure_cookies);
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().append(header::SET_COOKIE, value);
            }
        }
        return Ok(response);
    }
    check_origin(request.headers(), &state.origin)?;
    let expected = match session_token {
        Some(token) => Some(token),
        None => {
            // A form sent again after an error shows the same token.
            if let Some(token) = &visitor_token {
                request.extensions_mut().insert(VisitorToken(token.clone()));
            }
            visitor_token
        }
    };
    if request.headers().get(HEADER).is_none() && is_multipart_form(request.headers()) {
        let Some(expected) = expected else { return Err(expired()) };
        request.extensions_mut().insert(MultipartToken(expected));
        return Ok(next.run(request).await);
    }
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
        return Err(expired());
    }
    Ok(next.run(Request::from_parts(parts, body)).await)
}

fn expired() -> AppError {
    AppError::Forbidden(
        "This form has expired or did not come from Debrief, so nothing was changed. \
         Reload the page and try again."
            .into(),
    )
}

fn is_multipart_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"))
}

/// The visitor's token from their cookie, if it has the shape we give it.
fn visitor_token(headers: &HeaderMap, cookie_name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == cookie_name)
        .map(|(_, value)| value.to_owned())
        .filter(|value| {
            value.len() == 43 && value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// The `Set-Cookie` value for a visitor's token: for this site's own
/// requests only, unreadable by scripts, gone when the browser closes.
fn visitor_cookie(name: &str, token: &str, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={token}; Path=/; HttpOnly; SameSite=Strict{secure}")
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
    fn a_visitor_token_is_read_only_from_its_own_well_formed_cookie() {
        let token = "a".repeat(43);
        let cookie = format!("other=1; debrief_csrf={token}; x=y");
        let mut map = HeaderMap::new();
        map.insert(header::COOKIE, HeaderValue::from_str(&cookie).unwrap());
        assert_eq!(visitor_token(&map, VISITOR_COOKIE).as_deref(), Some(token.as_str()));
        assert_eq!(visitor_token(&map, SECURE_VISITOR_COOKIE), None);
        let mut odd = HeaderMap::new();
        odd.insert(header::COOKIE, HeaderValue::from_static("debrief_csrf=short"));
        assert_eq!(visitor_token(&odd, VISITOR_COOKIE), None);
    }

    #[test]
    fn the_token_is_read_from_the_form() {
        assert_eq!(token_from_form(b"a=1&csrf_token=abc%2Bd&b=2").as_deref(), Some("abc+d"));
        assert_eq!(token_from_form(b"a=1"), None);
    }
}
