//! [`PageCtx`]: what every page needs to render its layout.

use axum::{extract::FromRequestParts, http::request::Parts};
use tower_sessions::Session;

use super::{
    clock::Zone,
    csrf::VisitorToken,
    current_user::CurrentUser,
    session::{self, Flash},
};
use crate::{
    auth::{db::User, domain::Role},
    error::AppError,
};

/// The signed-in user (if any), the CSRF token for the page's forms, the
/// flash messages to show once, and the current path for the navigation.
#[derive(Debug, Clone)]
pub struct PageCtx {
    pub user: Option<User>,
    pub csrf: String,
    pub flashes: Vec<Flash>,
    pub path: String,
    /// The reader's zone: every time on the page is shown in it.
    pub zone: Zone,
    /// The reader's unread notifications, for the header's count.
    pub unread: i64,
}

/// The signed-in reader's unread notifications, counted for the header by
/// the notifications' own layer.
#[derive(Debug, Clone, Copy)]
pub struct Unread(pub i64);

impl PageCtx {
    pub fn can(&self, role: Role) -> bool {
        self.user.as_ref().is_some_and(|user| user.role.at_least(role))
    }

    pub fn is_editor(&self) -> bool {
        self.can(Role::Editor)
    }

    pub fn is_admin(&self) -> bool {
        self.can(Role::Admin)
    }

    /// The incident list filtered to `value` of `name` (a severity, a
    /// service, a tag...): what a chip links to.
    pub fn filter_link(&self, name: &str, value: &str) -> String {
        filter_link(name, value)
    }

    /// `2026-11-20 15:02 CET`, in the reader's zone.
    pub fn time(&self, at: &time::OffsetDateTime) -> String {
        self.zone.format(at)
    }

    /// `aria-current` for the navigation link to `prefix`.
    /// The day of `at` in the reader's zone: `2026-11-20`.
    pub fn date(&self, at: &time::OffsetDateTime) -> String {
        self.zone.date_of(at).to_string()
    }

    pub fn current(&self, prefix: &str) -> &'static str {
        let here = if prefix == "/" { self.path == "/" } else { self.path.starts_with(prefix) };
        if here { "page" } else { "false" }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageCtx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let session = parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("PageCtx used on a route without the session layer"))?;
        let user = parts.extensions.get::<CurrentUser>().map(|current| current.0.clone());
        let zone = user.as_ref().map(|user| Zone::or_utc(&user.time_zone)).unwrap_or_else(Zone::utc);
        Ok(PageCtx {
            zone,
            user,
            csrf: match parts.extensions.get::<VisitorToken>() {
                // No session yet: the visitor's own token, not a stored session.
                Some(visitor) => visitor.0.clone(),
                None => session::csrf_token(&session).await?,
            },
            flashes: session::take_flashes(&session).await?,
            path: parts.uri.path().to_owned(),
            unread: parts.extensions.get::<Unread>().map_or(0, |unread| unread.0),
        })
    }
}

/// The incident list filtered to `value` of `name` (a severity, a service,
/// a tag...): what a chip links to.
pub fn filter_link(name: &str, value: &str) -> String {
    let query: String = form_urlencoded::Serializer::new(String::new()).append_pair(name, value).finish();
    format!("/incidents?{query}")
}
