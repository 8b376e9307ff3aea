//! Handlers of the account page.

use axum::{
    extract::{Extension, Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::views::AccountPage;
use crate::{
    auth::{
        self, db,
        domain::{NewPassword, TokenName},
    },
    error::{AppError, Result, render},
    state::AppState,
    web::{
        CurrentUser, Flash, Form, FormErrors, PageCtx,
        audit::{self, Action, Actor, AuditEvent},
        clock::{Zone, zone_names},
        session,
    },
};

async fn account_page(
    state: &AppState,
    ctx: PageCtx,
    user: &CurrentUser,
    errors: FormErrors,
) -> Result<AccountPage> {
    let tokens = db::list_api_tokens(&state.pool, user.0.id).await?;
    Ok(AccountPage { ctx, tokens, new_token: None, token_name: String::new(), errors, zones: zone_names() })
}

/// `GET /account`
#[tracing::instrument(skip_all)]
pub async fn show_account(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    ctx: PageCtx,
) -> Result<Response> {
    Ok(render(&account_page(&state, ctx, &user, FormErrors::default()).await?)?.into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    new_password_confirm: String,
}

/// `POST /account/password`: other sessions of the account end; this one
/// goes on under a new id.
#[tracing::instrument(skip_all)]
pub async fn update_password(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    actor: Actor,
    session: Session,
    ctx: PageCtx,
    Form(form): Form<PasswordForm>,
) -> Result<Response> {
    let mut errors = FormErrors::default();
    let stored = db::find_user_with_hash(&state.pool, &user.0.email).await?.map(|(_, hash)| hash);
    let current = SecretString::from(form.current_password);
    if !state.hashing.verify(&current, stored).await? {
        errors.add("current_password", "That is not your current password.");
    }
    let new_password = errors
        .check("new_password", NewPassword::parse(&form.new_password, Some(&form.new_password_confirm)));
    let Some(new_password) = new_password.filter(|_| errors.is_empty()) else {
        let page = account_page(&state, ctx, &user, errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let hash = state.hashing.hash(new_password.secret()).await?;
    let mut tx = state.pool.begin().await?;
    let version = db::set_password_hash(&mut *tx, user.0.id, &hash).await?;
    let event = AuditEvent::new(&actor, Action::PasswordChanged).target(audit::person(&user.0));
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    state.users.forget(user.0.id);
    session::renew(&session, version).await?;
    tracing::info!(user_id = %user.0.id, "password changed");
    let text = "Your password has been changed. Your other sessions have been signed out.";
    session::push_flash(&session, Flash::success(text)).await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct TokenForm {
    name: String,
}

/// `POST /account/tokens`: answers with the page showing the new token
/// once, rather than a redirect, so the token is never stored anywhere.
#[tracing::instrument(skip_all)]
pub async fn create_token(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    actor: Actor,
    ctx: PageCtx,
    Form(form): Form<TokenForm>,
) -> Result<Response> {
    let mut errors = FormErrors::default();
    let Some(name) = errors.check("token_name", TokenName::parse(&form.name)) else {
        let mut page = account_page(&state, ctx, &user, errors).await?;
        page.token_name = form.name;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let mut tx = state.pool.begin().await?;
    let token = auth::issue_api_token(&mut *tx, user.0.id, &name).await?;
    let label = db::token_label(name.as_str(), &auth::token_hint(&token));
    audit::record(&mut *tx, &AuditEvent::new(&actor, Action::TokenCreated).target(label)).await?;
    tx.commit().await?;
    tracing::info!(user_id = %user.0.id, "API token created");
    let mut page = account_page(&state, ctx, &user, FormErrors::default()).await?;
    page.new_token = Some(token.expose_secret().to_owned());
    let mut response = render(&page)?.into_response();
    response
        .headers_mut()
        .insert(axum::http::header::CACHE_CONTROL, "no-store".parse().expect("static header"));
    Ok(response)
}

/// `POST /account/tokens/{id}/revoke`
#[tracing::instrument(skip_all)]
pub async fn revoke_token(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    actor: Actor,
    session: Session,
    Path(token_id): Path<Uuid>,
) -> Result<Response> {
    let mut tx = state.pool.begin().await?;
    let token = db::revoke_api_token(&mut *tx, user.0.id, token_id).await?.ok_or(AppError::NotFound)?;
    let event = AuditEvent::new(&actor, Action::TokenRevoked)
        .target(token.label())
        .detail(serde_json::json!({ "token_id": token.id }));
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    session::push_flash(&session, Flash::success("The token has been revoked; it no longer works.")).await?;
    Ok(Redirect::to("/account").into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct TimeZoneForm {
    time_zone: String,
}

/// `POST /account/time_zone`: the zone every time is shown and read in.
#[tracing::instrument(skip_all)]
pub async fn update_time_zone(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    ctx: PageCtx,
    Form(form): Form<TimeZoneForm>,
) -> Result<Response> {
    let zone = match Zone::parse(&form.time_zone) {
        Ok(zone) => zone,
        Err(message) => {
            let mut errors = FormErrors::default();
            errors.add("time_zone", message);
            let page = account_page(&state, ctx, &user, errors).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
        }
    };
    db::set_time_zone(&state.pool, user.0.id, zone.name()).await?;
    state.users.forget(user.0.id);
    session::push_flash(&session, Flash::success(format!("Times are now shown in {}.", zone.name()))).await?;
    Ok(Redirect::to("/account").into_response())
}
