//! Bearer-token authentication for the API.

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::Response,
};

use crate::{
    auth::{
        credentials::token_digest,
        db::{self, PresentedToken},
    },
    error::{AppError, Result},
    state::AppState,
    web::{
        CurrentUser,
        audit::{self, Action, Actor, AuditEvent},
    },
};

/// Middleware: the request must carry `Authorization: Bearer <token>` for
/// a live token of an enabled user; the user becomes the [`CurrentUser`].
pub async fn require_token(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response> {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|token| !token.is_empty())
        .ok_or_else(|| {
            AppError::Unauthorized("Send an API token as `Authorization: Bearer <token>`.".into())
        })?;
    let presented = db::find_user_by_token(&state.pool, &token_digest(token)).await?.ok_or_else(|| {
        AppError::Unauthorized("The API token is not valid: it is wrong or has been revoked.".into())
    })?;
    if presented.user.disabled {
        return Err(AppError::Unauthorized("The API token belongs to a disabled account.".into()));
    }
    if presented.touch_due {
        let address = audit::request_address(request.extensions(), request.headers(), &state);
        note_use(&state, &presented, &Actor::user(&presented.user, address)).await?;
    }
    request.extensions_mut().insert(CurrentUser(presented.user));
    Ok(next.run(request).await)
}

/// Notes the token's use (at most once a minute) and, on its first use
/// ever, records that in the audit trail, in the same transaction.
async fn note_use(state: &AppState, token: &PresentedToken, actor: &Actor) -> Result<()> {
    let mut tx = state.pool.begin().await?;
    if db::note_token_use(&mut *tx, token.id).await? == Some(true) {
        let event = AuditEvent::new(actor, Action::TokenFirstUse)
            .target(token.label.clone())
            .detail(serde_json::json!({ "token_id": token.id }));
        audit::record(&mut *tx, &event).await?;
    }
    tx.commit().await?;
    Ok(())
}
