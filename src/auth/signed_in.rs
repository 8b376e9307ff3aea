//! The sign-in check every request passes: the session's sign-in, checked
//! against the database (so a disabled user or a changed password ends old
//! sessions), becomes the request's [`CurrentUser`].

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};
use time::OffsetDateTime;
use tower_sessions::Session;

use super::db;
use crate::{
    error::{AppError, Result},
    state::AppState,
    web::{
        CurrentUser,
        session::{self, Flash},
    },
};

/// Middleware: puts [`CurrentUser`] into the request when the session holds
/// a live sign-in, and ends sessions that are no longer valid.
pub async fn load_current_user(
    State(state): State<AppState>,
    session: Session,
    mut request: Request,
    next: Next,
) -> Result<Response> {
    if let Some(signed) = session::signed_in(&session).await? {
        let user = match state.users.get(signed.user_id) {
            Some(user) => Some(user),
            None => {
                let user = db::find_user(&state.pool, signed.user_id).await?;
                if let Some(user) = &user {
                    state.users.keep(user);
                }
                user
            }
        };
        let age = OffsetDateTime::now_utc() - signed.signed_in_at;
        match user {
            Some(user) if user.disabled => {
                session::sign_out(&session).await?;
                return Err(AppError::Forbidden(
                    "This account has been disabled. Ask an administrator if you need access again.".into(),
                ));
            }
            Some(user) if user.auth_version != signed.auth_version => {
                session::sign_out(&session).await?;
                let text = "Your session was ended because the account's password changed. Sign in again.";
                session::push_flash(&session, Flash::info(text)).await?;
            }
            Some(_) if age.whole_seconds() > state.config.session_absolute.as_secs() as i64 => {
                session::sign_out(&session).await?;
                session::push_flash(&session, Flash::info("Your session has expired. Sign in again."))
                    .await?;
            }
            Some(user) => {
                session::touch(&session, &signed, state.config.session_idle).await?;
                request.extensions_mut().insert(CurrentUser(user));
            }
            None => session::sign_out(&session).await?,
        }
    }
    Ok(next.run(request).await)
}
