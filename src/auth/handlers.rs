//! Signing in and out, and creating the first admin.

use axum::{
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use secrecy::SecretString;
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;

use super::{
    credentials, db,
    domain::{DisplayName, Email, NewPassword, Role},
    throttle,
    views::{LoginPage, SetupPage},
};
use crate::{
    error::{AppError, Result, render},
    state::AppState,
    web::{
        Flash, Form, FormErrors, PageCtx,
        audit::{self, Action, Actor, AuditEvent},
        client_addr::ClientIp,
        current_user::safe_next,
        session,
    },
};

const WRONG_CREDENTIALS: &str = "That email and password do not match an account.";

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextQuery {
    next: String,
}

/// `GET /login`
#[tracing::instrument(skip_all)]
pub async fn login_form(
    State(state): State<AppState>,
    ctx: PageCtx,
    Query(query): Query<NextQuery>,
) -> Result<Response> {
    if ctx.user.is_some() {
        return Ok(Redirect::to(safe_next(&query.next)).into_response());
    }
    if db::count_users(&state.pool).await? == 0 {
        return Ok(Redirect::to("/setup").into_response());
    }
    let page = LoginPage { ctx, email: String::new(), next: query.next, error: None };
    Ok(render(&page)?.into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct LoginForm {
    email: String,
    password: String,
    next: String,
}

/// `POST /login`
#[tracing::instrument(skip_all)]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(address): ClientIp,
    session: Session,
    ctx: PageCtx,
    Form(form): Form<LoginForm>,
) -> Result<Response> {
    let email: String = form.email.trim().to_lowercase().chars().take(254).collect();
    let client_ip = address.to_string();
    let claimed = Actor::claimed(&email, address);
    let refuse = |ctx: PageCtx, status: StatusCode, error: String| -> Result<Response> {
        let page = LoginPage {
            ctx,
            email: form.email.trim().to_owned(),
            next: form.next.clone(),
            error: Some(error),
        };
        Ok((status, render(&page)?).into_response())
    };

    let attempt = match throttle::admit(&state.pool, &email, &client_ip).await {
        Ok(attempt) => attempt,
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            let event = AuditEvent::new(&claimed, Action::SigninThrottled)
                .detail(json!({ "retry_after_secs": retry_after_secs }));
            audit::record(&state.pool, &event).await?;
            let minutes = retry_after_secs.div_ceil(60);
            let message = format!("Too many failed sign-ins. Try again in {minutes} minute(s).");
            let mut response = refuse(ctx, StatusCode::TOO_MANY_REQUESTS, message)?;
            response.headers_mut().insert(axum::http::header::RETRY_AFTER, retry_after_secs.into());
            return Ok(response);
        }
        Err(err) => return Err(err),
    };

    // Unknown emails are checked against a dummy hash: same work, same answer.
    let found = db::find_user_with_hash(&state.pool, &email).await?;
    let (user, hash) = found.map(|(user, hash)| (Some(user), Some(hash))).unwrap_or((None, None));
    let password = SecretString::from(form.password.clone());
    let verified = match state.hashing.verify(&password, hash).await {
        Ok(verified) => verified,
        Err(busy @ AppError::Busy { .. }) => {
            throttle::withdraw(&state.pool, attempt).await?;
            return Err(busy);
        }
        Err(err) => return Err(err),
    };
    let user = match user {
        // A disabled account answers as a wrong password does: it must not
        // tell whether a guess was right.
        Some(user) if verified && !user.disabled => user,
        Some(user) if verified => {
            tracing::info!(user_id = %user.id, "sign-in refused: the account is disabled");
            record_refusal(&state, &claimed, "account disabled").await?;
            return refuse(ctx, StatusCode::UNAUTHORIZED, WRONG_CREDENTIALS.into());
        }
        found => {
            tracing::info!("sign-in refused: wrong email or password");
            let reason = if found.is_some() { "wrong password" } else { "unknown email" };
            record_refusal(&state, &claimed, reason).await?;
            return refuse(ctx, StatusCode::UNAUTHORIZED, WRONG_CREDENTIALS.into());
        }
    };
    throttle::succeeded(&state.pool, attempt).await?;
    audit::record(&state.pool, &AuditEvent::new(&Actor::user(&user, Some(address)), Action::Signin)).await?;
    session::sign_in(&session, &user).await?;
    tracing::info!(user_id = %user.id, "signed in");
    Ok(Redirect::to(safe_next(&form.next)).into_response())
}

/// A refused sign-in, for the audit trail: what was typed as the email,
/// from where, and why (only admins read it).
async fn record_refusal(state: &AppState, claimed: &Actor, reason: &str) -> Result<()> {
    let event = AuditEvent::new(claimed, Action::SigninFailed).detail(json!({ "reason": reason }));
    audit::record(&state.pool, &event).await
}

/// `POST /logout`
#[tracing::instrument(skip_all)]
pub async fn logout(State(state): State<AppState>, actor: Actor, session: Session) -> Result<Response> {
    audit::record(&state.pool, &AuditEvent::new(&actor, Action::Signout)).await?;
    session::sign_out(&session).await?;
    session::push_flash(&session, Flash::info("You have signed out.")).await?;
    Ok(Redirect::to("/login").into_response())
}

/// `GET /setup`: while no user exists, the form that creates the first admin.
#[tracing::instrument(skip_all)]
pub async fn setup_form(State(state): State<AppState>, ctx: PageCtx) -> Result<Response> {
    if db::count_users(&state.pool).await? > 0 {
        return Ok(Redirect::to("/login").into_response());
    }
    let page = SetupPage { ctx, email: String::new(), name: String::new(), errors: FormErrors::default() };
    Ok(render(&page)?.into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct SetupForm {
    setup_token: String,
    email: String,
    name: String,
    password: String,
    password_confirm: String,
}

/// `POST /setup`
#[tracing::instrument(skip_all)]
pub async fn setup(
    State(state): State<AppState>,
    ClientIp(address): ClientIp,
    session: Session,
    ctx: PageCtx,
    Form(form): Form<SetupForm>,
) -> Result<Response> {
    if db::count_users(&state.pool).await? > 0 {
        session::push_flash(&session, Flash::info("Debrief is already set up. Sign in.")).await?;
        return Ok(Redirect::to("/login").into_response());
    }
    let mut errors = FormErrors::default();
    let email = errors.check("email", Email::parse(&form.email));
    let name = errors.check("name", DisplayName::parse(&form.name));
    let password = errors.check("password", NewPassword::parse(&form.password, Some(&form.password_confirm)));
    let token = form.setup_token.trim();
    let token_ok =
        !token.is_empty() && db::setup_token_is_valid(&state.pool, &credentials::token_digest(token)).await?;
    if !token_ok {
        errors
            .add("setup_token", "That is not the setup token. Copy it from the server log printed at start.");
    }
    let (Some(email), Some(name), Some(password), true) = (email, name, password, token_ok) else {
        let status = if token_ok { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::FORBIDDEN };
        let page = SetupPage { ctx, email: form.email.trim().into(), name: form.name.trim().into(), errors };
        return Ok((status, render(&page)?).into_response());
    };

    let mut tx = state.pool.begin().await?;
    // Two setup forms sent at once: the second waits here, then sees a user.
    sqlx::query("select pg_advisory_xact_lock(hashtext('debrief.setup'))").execute(&mut *tx).await?;
    if db::count_users(&mut *tx).await? > 0 {
        return Err(AppError::Conflict("Debrief was set up a moment ago by someone else. Sign in.".into()));
    }
    let admin = super::create_user(&mut *tx, &state.hashing, &email, &name, &password, Role::Admin).await?;
    db::delete_setup_tokens(&mut *tx).await?;
    let actor = Actor::user(&admin, Some(address));
    let event = AuditEvent::new(&actor, Action::UserCreated)
        .target(audit::person(&admin))
        .detail(json!({ "user_id": admin.id, "role": admin.role, "via": "setup" }));
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;

    tracing::info!(user_id = %admin.id, "first admin created through setup");
    session::sign_in(&session, &admin).await?;
    session::push_flash(&session, Flash::success(format!("Welcome, {}. Debrief is ready.", admin.name)))
        .await?;
    Ok(Redirect::to("/").into_response())
}
