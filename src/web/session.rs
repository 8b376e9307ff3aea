//! What Debrief keeps in a session, behind typed helpers: who is signed in
//! (and since when), the CSRF token, and flash messages.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tower_sessions::{Expiry, Session};
use uuid::Uuid;

use super::secret::random_secret;
use crate::{auth::db::User, error::Result};

const USER_ID: &str = "user_id";
const AUTH_VERSION: &str = "auth_version";
const SIGNED_IN_AT: &str = "signed_in_at";
const SEEN_AT: &str = "seen_at";
const CSRF: &str = "csrf";
const FLASH: &str = "flash";

/// The name of the session cookie.
pub const COOKIE_NAME: &str = "debrief_session";

/// Who the session says is signed in; still to be checked against the database.
#[derive(Debug, Clone, Copy)]
pub struct SignedIn {
    pub user_id: Uuid,
    pub auth_version: i32,
    pub signed_in_at: OffsetDateTime,
    pub seen_at: OffsetDateTime,
}

pub async fn signed_in(session: &Session) -> Result<Option<SignedIn>> {
    let Some(user_id) = session.get::<Uuid>(USER_ID).await? else { return Ok(None) };
    let auth_version = session.get::<i32>(AUTH_VERSION).await?.unwrap_or_default();
    let unix = |secs: Option<i64>| {
        secs.and_then(|s| OffsetDateTime::from_unix_timestamp(s).ok()).unwrap_or(OffsetDateTime::UNIX_EPOCH)
    };
    let signed_in_at = unix(session.get::<i64>(SIGNED_IN_AT).await?);
    let seen_at = unix(session.get::<i64>(SEEN_AT).await?);
    Ok(Some(SignedIn { user_id, auth_version, signed_in_at, seen_at }))
}

/// Signs `user` in under a fresh session id (no fixation) and a fresh CSRF token.
pub async fn sign_in(session: &Session, user: &User) -> Result<()> {
    session.cycle_id().await?;
    let now = OffsetDateTime::now_utc().unix_timestamp();
    session.insert(USER_ID, user.id).await?;
    session.insert(AUTH_VERSION, user.auth_version).await?;
    session.insert(SIGNED_IN_AT, now).await?;
    session.insert(SEEN_AT, now).await?;
    session.insert(CSRF, random_secret(32)).await?;
    Ok(())
}

/// Keeps the session signed in after the user's own auth version changed
/// (their password change), under a fresh id.
pub async fn renew(session: &Session, auth_version: i32) -> Result<()> {
    session.cycle_id().await?;
    session.insert(AUTH_VERSION, auth_version).await?;
    Ok(())
}

/// How often a session in use is written again to move its idle expiry on:
/// a few seconds, so that the expiry holds to within that of the setting,
/// rather than on every request.
pub fn touch_every(idle: Duration) -> Duration {
    (idle / 4).clamp(Duration::from_secs(1), Duration::from_secs(5))
}

/// The expiry the session layer gives every session: the idle limit, plus
/// the time a use may go unwritten, so a session is never ended early.
pub fn expiry(idle: Duration) -> Expiry {
    let idle = idle + touch_every(idle);
    Expiry::OnInactivity(time::Duration::seconds(i64::try_from(idle.as_secs()).unwrap_or(i64::MAX)))
}

/// Marks the session as used now, which extends its idle expiry. Writes at
/// most once every [`touch_every`] rather than on every request.
pub async fn touch(session: &Session, signed: &SignedIn, idle: Duration) -> Result<()> {
    let now = OffsetDateTime::now_utc();
    let unwritten = (now - signed.seen_at).whole_seconds();
    if unwritten >= touch_every(idle).as_secs() as i64 {
        session.insert(SEEN_AT, now.unix_timestamp()).await?;
    }
    Ok(())
}

/// Ends the session: its row is deleted, and whatever the response still
/// puts in it (a flash) goes under a new id, so the old id is worth nothing.
pub async fn sign_out(session: &Session) -> Result<()> {
    session.flush().await?;
    session.cycle_id().await?;
    Ok(())
}

/// The session's CSRF token, made on first use.
pub async fn csrf_token(session: &Session) -> Result<String> {
    if let Some(token) = session.get::<String>(CSRF).await? {
        return Ok(token);
    }
    let token = random_secret(32);
    session.insert(CSRF, &token).await?;
    Ok(token)
}

/// The CSRF token if the session has one, without making one.
pub async fn existing_csrf_token(session: &Session) -> Result<Option<String>> {
    Ok(session.get::<String>(CSRF).await?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashKind {
    Success,
    Info,
    Error,
}

/// A one-time message shown on the next page.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub text: String,
}

impl Flash {
    pub fn success(text: impl Into<String>) -> Flash {
        Flash { kind: FlashKind::Success, text: text.into() }
    }

    pub fn info(text: impl Into<String>) -> Flash {
        Flash { kind: FlashKind::Info, text: text.into() }
    }

    pub fn error(text: impl Into<String>) -> Flash {
        Flash { kind: FlashKind::Error, text: text.into() }
    }

    pub fn css_class(&self) -> &'static str {
        match self.kind {
            FlashKind::Success => "flash flash-success",
            FlashKind::Info => "flash flash-info",
            FlashKind::Error => "flash flash-error",
        }
    }
}

pub async fn push_flash(session: &Session, flash: Flash) -> Result<()> {
    let mut flashes = session.get::<Vec<Flash>>(FLASH).await?.unwrap_or_default();
    flashes.push(flash);
    session.insert(FLASH, flashes).await?;
    Ok(())
}

pub async fn take_flashes(session: &Session) -> Result<Vec<Flash>> {
    // Removing marks the session for saving, so only remove what is there.
    if session.get::<Vec<Flash>>(FLASH).await?.is_none() {
        return Ok(Vec::new());
    }
    Ok(session.remove::<Vec<Flash>>(FLASH).await?.unwrap_or_default())
}
