//! The one error type of the app, and the one place that turns any error
//! response into an HTML page or, under `/api/`, into the JSON error of the
//! API contract.

use askama::Template;
use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, StatusCode, header},
    middleware::Next,
    response::{Html, IntoResponse, Response},
};
use tower_sessions::Session;

use crate::{
    auth::db::User,
    web::{CurrentUser, PageCtx, clock::Zone, session},
};

/// Result alias for handlers and the functions they call.
pub type Result<T, E = AppError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unprocessable(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("too many attempts; try again in {retry_after_secs} seconds")]
    TooManyRequests { retry_after_secs: u64 },
    /// A bounded resource (the password hashers, the CPU pool) is at
    /// capacity: 503 with `Retry-After`.
    #[error("Debrief is busy right now; try again in {retry_after_secs} seconds.")]
    Busy { retry_after_secs: u64 },
    /// The database cannot be reached or did not answer in time.
    #[error("the database is unavailable")]
    Unavailable(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// Why a versioned write of a `T` was not saved.
#[derive(Debug)]
pub enum WriteError<T> {
    /// Someone saved it since the version the write was based on: nothing
    /// was written. Holds the record as it now is, to merge with.
    Stale(Box<T>),
    Failed(AppError),
}

impl<T> From<AppError> for WriteError<T> {
    fn from(err: AppError) -> Self {
        WriteError::Failed(err)
    }
}

impl<T> From<sqlx::Error> for WriteError<T> {
    fn from(err: sqlx::Error) -> Self {
        WriteError::Failed(err.into())
    }
}

/// What an error response says, whatever it is rendered as. Handlers' errors
/// carry it in the response extensions to the rendering middleware.
#[derive(Debug, Clone)]
pub struct ErrorReport {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl AppError {
    /// A write based on `base` when the record is now at `now`: 409.
    pub fn stale(what: &str, base: i32, now: i32) -> Self {
        AppError::Conflict(format!(
            "The {what} changed since version {base} (it is now at version {now}); nothing was saved. \
             Fetch it again and reapply your change."
        ))
    }

    fn report(&self) -> ErrorReport {
        use AppError::*;
        let (status, code, message) = match self {
            NotFound => (StatusCode::NOT_FOUND, "not_found", "There is nothing at this address.".to_owned()),
            Unauthorized(m) => (StatusCode::UNAUTHORIZED, "unauthorized", m.clone()),
            Forbidden(m) => (StatusCode::FORBIDDEN, "forbidden", m.clone()),
            BadRequest(m) => (StatusCode::BAD_REQUEST, "bad_request", m.clone()),
            Unprocessable(m) => (StatusCode::UNPROCESSABLE_ENTITY, "unprocessable", m.clone()),
            Conflict(m) => (StatusCode::CONFLICT, "conflict", m.clone()),
            PayloadTooLarge(m) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", m.clone()),
            UnsupportedMediaType(m) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", m.clone())
            }
            TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", self.to_string()),
            Busy { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy", self.to_string()),
            Unavailable(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "The database is unavailable right now. Nothing was changed; try again in a moment."
                    .to_owned(),
            ),
            Internal(_) => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Something went wrong on our side. It has been logged.".to_owned(),
            ),
        };
        ErrorReport { status, code, message }
    }
}

impl From<sqlx::Error> for AppError {
    fn from(err: sqlx::Error) -> Self {
        if is_unavailable(&err) {
            AppError::Unavailable(err.into())
        } else if is_unstorable_text(&err) {
            // The text guard refuses NULs before any handler; this is the net
            // under it, for text that reaches a query some other way.
            AppError::Unprocessable(
                "Text cannot contain a NUL character (\\0); remove it and send again.".into(),
            )
        } else {
            AppError::Internal(err.into())
        }
    }
}

/// Whether PostgreSQL refused text it cannot store (a NUL, in text or in a
/// JSON string): the input's fault, not ours.
fn is_unstorable_text(err: &sqlx::Error) -> bool {
    // 22021: character not in repertoire; 22P05: untranslatable character.
    matches!(err, sqlx::Error::Database(db) if matches!(db.code().as_deref(), Some("22021" | "22P05")))
}

impl From<tower_sessions::session::Error> for AppError {
    fn from(err: tower_sessions::session::Error) -> Self {
        // The session store is the database: a store failure is the database failing.
        match err {
            tower_sessions::session::Error::Store(_) => AppError::Unavailable(err.into()),
            other => AppError::Internal(other.into()),
        }
    }
}

impl From<askama::Error> for AppError {
    fn from(err: askama::Error) -> Self {
        AppError::Internal(err.into())
    }
}

/// Whether a database error means "cannot reach the database right now"
/// rather than a bug: those become 503 and are worth retrying.
pub fn is_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::Protocol(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            // 08: connection exceptions; 57014: statement timeout; 57P0x: server shutting down.
            db.code().is_some_and(|code| code.starts_with("08") || code.starts_with("57"))
        }
        _ => false,
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        match &self {
            AppError::Internal(err) => tracing::error!(error = format!("{err:#}"), "internal error"),
            AppError::Unavailable(err) => tracing::warn!(error = format!("{err:#}"), "database unavailable"),
            _ => {}
        }
        let report = self.report();
        let mut response = (report.status, report.message.clone()).into_response();
        if let AppError::TooManyRequests { retry_after_secs } | AppError::Busy { retry_after_secs } = self {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        }
        response.extensions_mut().insert(report);
        response
    }
}

#[derive(Template)]
#[template(path = "errors/error.html")]
struct ErrorPage<'a> {
    ctx: PageCtx,
    status: u16,
    title: &'a str,
    message: &'a str,
}

/// Who an error page is shown to, so that it keeps the navigation of the
/// site: put in the response extensions by [`keep_page_user`], inside the
/// session layers, for [`render_errors`], outside them.
#[derive(Debug, Clone)]
struct ErrorPageUser {
    user: User,
    /// For the sign-out form of the navigation.
    csrf: String,
}

/// Middleware, just inside [`crate::auth::signed_in::load_current_user`]:
/// when a signed-in user's request fails, hands the user and their CSRF
/// token to [`render_errors`]. Both are already loaded for the request, so
/// this costs no query.
pub async fn keep_page_user(session: Session, request: Request, next: Next) -> Response {
    let user = request.extensions().get::<CurrentUser>().map(|current| current.0.clone());
    let mut response = next.run(request).await;
    let failed = response.status().is_client_error() || response.status().is_server_error();
    if let Some(user) = user
        && failed
        && let Ok(Some(csrf)) = session::existing_csrf_token(&session).await
    {
        response.extensions_mut().insert(ErrorPageUser { user, csrf });
    }
    response
}

/// Middleware: every response with an error status leaves as a page (or as
/// the API's JSON error), whether it came from a handler, an extractor's
/// rejection, the router's fallback or a layer such as the timeout.
pub async fn render_errors(request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let is_api = path.starts_with("/api/");
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let report = match parts.extensions.get::<ErrorReport>() {
        Some(report) => report.clone(),
        None if is_rendered(&parts.headers) => return Response::from_parts(parts, body),
        None => report_for_bare_status(status, body).await,
    };
    // Keep the headers already set (cookies, Retry-After); replace the body.
    parts.headers.remove(header::CONTENT_LENGTH);
    let body = if is_api {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
        let json = serde_json::json!({ "error": { "code": report.code, "message": report.message } });
        Body::from(json.to_string())
    } else {
        parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/html; charset=utf-8"));
        let (user, csrf) = match parts.extensions.remove::<ErrorPageUser>() {
            Some(ErrorPageUser { user, csrf }) => (Some(user), csrf),
            None => (None, String::new()),
        };
        let zone = user.as_ref().map(|user| Zone::or_utc(&user.time_zone)).unwrap_or_else(Zone::utc);
        // Flashes stay in the session for the next real page.
        let ctx = PageCtx { user, csrf, flashes: Vec::new(), path, zone, unread: 0 };
        let title = status.canonical_reason().unwrap_or("Error");
        let page = ErrorPage { ctx, status: status.as_u16(), title, message: &report.message };
        Body::from(page.render().unwrap_or_else(|_| report.message.clone()))
    };
    parts.extensions.insert(report);
    Response::from_parts(parts, body)
}

fn is_rendered(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("text/html") || ct.starts_with("application/json"))
}

/// Turns a response that carries only a status (and perhaps a short plain-text
/// reason, as extractor rejections do) into a report with a clear message.
async fn report_for_bare_status(status: StatusCode, body: Body) -> ErrorReport {
    let text = axum::body::to_bytes(body, 4096)
        .await
        .ok()
        .and_then(|bytes| String::from_utf8(bytes.to_vec()).ok())
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty());
    let (code, default) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "The request could not be read."),
        StatusCode::UNAUTHORIZED => ("unauthorized", "Sign in first."),
        StatusCode::FORBIDDEN => ("forbidden", "You do not have permission to do that."),
        StatusCode::NOT_FOUND => ("not_found", "There is nothing at this address."),
        StatusCode::METHOD_NOT_ALLOWED => ("method_not_allowed", "This address does not accept that method."),
        StatusCode::REQUEST_TIMEOUT => ("timeout", "The request took too long and was stopped."),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "The request body is larger than allowed."),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => {
            ("unsupported_media_type", "That content type is not accepted here.")
        }
        StatusCode::UNPROCESSABLE_ENTITY => ("unprocessable", "The request could not be understood."),
        StatusCode::TOO_MANY_REQUESTS => ("too_many_requests", "Too many requests; slow down."),
        StatusCode::SERVICE_UNAVAILABLE => {
            ("unavailable", "The service is unavailable right now; try again shortly.")
        }
        StatusCode::GATEWAY_TIMEOUT => ("timeout", "The request took too long and was stopped."),
        s if s.is_server_error() => ("internal", "Something went wrong on our side. It has been logged."),
        _ => ("error", "The request failed."),
    };
    // Server errors never show their text: it may hold internals.
    let message = match text {
        Some(text) if status.is_client_error() && text.len() < 500 => text,
        _ => default.to_owned(),
    };
    ErrorReport { status, code, message }
}

/// An HTML page result for handlers: renders an askama template.
pub fn render<T: Template>(template: &T) -> Result<Html<String>> {
    Ok(Html(template.render()?))
}
