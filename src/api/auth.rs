//! Bearer-token authentication for the API.

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::Response,
};

use crate::{
    auth::{credentials::token_digest, db},
    error::{AppError, Result},
    state::AppState,
    web::CurrentUser,
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
    let user = db::find_user_by_token(&state.pool, &token_digest(token)).await?.ok_or_else(|| {
        AppError::Unauthorized("The API token is not valid: it is wrong or has been revoked.".into())
    })?;
    if user.disabled {
        return Err(AppError::Unauthorized("The API token belongs to a disabled account.".into()));
    }
    request.extensions_mut().insert(CurrentUser(user));
    Ok(next.run(request).await)
}
