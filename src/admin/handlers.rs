//! Handlers of the users page. Every change is refused when it would leave
//! no active admin.

use axum::{
    extract::{Extension, Path, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use serde::Deserialize;
use serde_json::json;
use tower_sessions::Session;
use uuid::Uuid;

use super::views::{NewUserInput, UsersPage};
use crate::{
    auth::{
        self, db,
        db::InsertUserError,
        domain::{DisplayName, Email, NewPassword, Role},
    },
    error::{AppError, Result, render},
    state::AppState,
    web::{
        CurrentUser, Flash, Form, FormErrors, PageCtx,
        audit::{self, Action, Actor, AuditEvent},
        session,
    },
};

async fn users_page(
    state: &AppState,
    ctx: PageCtx,
    form: NewUserInput,
    errors: FormErrors,
) -> Result<UsersPage> {
    let users = db::list_users(&state.pool).await?;
    Ok(UsersPage { ctx, users, roles: Role::ALL, form, errors })
}

/// `GET /admin/users`
#[tracing::instrument(skip_all)]
pub async fn list_users(State(state): State<AppState>, ctx: PageCtx) -> Result<Response> {
    let input = NewUserInput { role: Role::Editor.to_string(), ..Default::default() };
    Ok(render(&users_page(&state, ctx, input, FormErrors::default()).await?)?.into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct NewUserForm {
    email: String,
    name: String,
    role: String,
    password: String,
}

/// `POST /admin/users`
#[tracing::instrument(skip_all)]
pub async fn create_user(
    State(state): State<AppState>,
    actor: Actor,
    session: Session,
    ctx: PageCtx,
    Form(form): Form<NewUserForm>,
) -> Result<Response> {
    let mut errors = FormErrors::default();
    let email = errors.check("email", Email::parse(&form.email));
    let name = errors.check("name", DisplayName::parse(&form.name));
    let role = errors.check("role", Role::parse(&form.role));
    let password = errors.check("password", NewPassword::parse(&form.password, None));
    let input =
        NewUserInput { email: form.email.trim().into(), name: form.name.trim().into(), role: form.role };
    if let (Some(email), Some(name), Some(role), Some(password)) = (email, name, role, password) {
        let mut tx = state.pool.begin().await?;
        match auth::create_user(&mut *tx, &state.hashing, &email, &name, &password, role).await {
            Ok(user) => {
                let event = AuditEvent::new(&actor, Action::UserCreated)
                    .target(audit::person(&user))
                    .detail(json!({ "user_id": user.id, "role": user.role }));
                audit::record(&mut *tx, &event).await?;
                tx.commit().await?;
                tracing::info!(user_id = %user.id, role = %user.role, "user created");
                let text = format!("{} can now sign in as {}.", user.name, user.role);
                session::push_flash(&session, Flash::success(text)).await?;
                return Ok(Redirect::to("/admin/users").into_response());
            }
            Err(InsertUserError::EmailTaken) => errors.add("email", "A user with that email already exists."),
            Err(InsertUserError::Other(err)) => return Err(err),
        }
    }
    let page = users_page(&state, ctx, input, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response())
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct RoleForm {
    role: String,
}

/// `POST /admin/users/{id}/role`
#[tracing::instrument(skip_all)]
pub async fn update_user_role(
    State(state): State<AppState>,
    actor: Actor,
    session: Session,
    Path(user_id): Path<Uuid>,
    Form(form): Form<RoleForm>,
) -> Result<Response> {
    let role = Role::parse(&form.role).map_err(AppError::Unprocessable)?;
    let mut tx = state.pool.begin().await?;
    lock_admins(&mut tx).await?;
    let user = db::find_user(&mut *tx, user_id).await?.ok_or(AppError::NotFound)?;
    if user.role == Role::Admin && role != Role::Admin && !user.disabled {
        ensure_another_admin(&mut tx).await?;
    }
    db::set_role(&mut *tx, user_id, role).await?;
    if user.role != role {
        let event = AuditEvent::new(&actor, Action::RoleChanged)
            .target(audit::person(&user))
            .detail(json!({ "user_id": user.id, "from": user.role, "to": role }));
        audit::record(&mut *tx, &event).await?;
    }
    tx.commit().await?;
    state.users.forget(user_id);
    tracing::info!(user_id = %user_id, role = %role, "role changed");
    session::push_flash(&session, Flash::success(format!("{} is now {}.", user.name, role))).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{id}/disable`: the user's sessions and API tokens
/// stop working at once.
#[tracing::instrument(skip_all)]
pub async fn disable_user(
    State(state): State<AppState>,
    Extension(me): Extension<CurrentUser>,
    actor: Actor,
    session: Session,
    Path(user_id): Path<Uuid>,
) -> Result<Response> {
    if user_id == me.0.id {
        return Err(AppError::Unprocessable("You cannot disable your own account.".into()));
    }
    let mut tx = state.pool.begin().await?;
    lock_admins(&mut tx).await?;
    let user = db::find_user(&mut *tx, user_id).await?.ok_or(AppError::NotFound)?;
    if user.role == Role::Admin && !user.disabled {
        ensure_another_admin(&mut tx).await?;
    }
    db::set_disabled(&mut *tx, user_id, true).await?;
    if !user.disabled {
        record_user_change(&mut tx, &actor, Action::UserDisabled, &user).await?;
    }
    tx.commit().await?;
    state.users.forget(user_id);
    tracing::info!(user_id = %user_id, "user disabled");
    let text = format!("{} is disabled and has been signed out everywhere.", user.name);
    session::push_flash(&session, Flash::success(text)).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// `POST /admin/users/{id}/enable`
#[tracing::instrument(skip_all)]
pub async fn enable_user(
    State(state): State<AppState>,
    actor: Actor,
    session: Session,
    Path(user_id): Path<Uuid>,
) -> Result<Response> {
    let mut tx = state.pool.begin().await?;
    let user = db::find_user(&mut *tx, user_id).await?.ok_or(AppError::NotFound)?;
    db::set_disabled(&mut *tx, user_id, false).await?;
    if user.disabled {
        record_user_change(&mut tx, &actor, Action::UserEnabled, &user).await?;
    }
    tx.commit().await?;
    state.users.forget(user_id);
    tracing::info!(user_id = %user_id, "user enabled");
    session::push_flash(&session, Flash::success(format!("{} can sign in again.", user.name))).await?;
    Ok(Redirect::to("/admin/users").into_response())
}

/// Records a change made to `user`'s account, in the change's transaction.
async fn record_user_change(
    tx: &mut sqlx::PgConnection,
    actor: &Actor,
    action: Action,
    user: &auth::db::User,
) -> Result<()> {
    let event =
        AuditEvent::new(actor, action).target(audit::person(user)).detail(json!({ "user_id": user.id }));
    audit::record(tx, &event).await
}

/// Serialises changes that could remove the last admin.
async fn lock_admins(tx: &mut sqlx::PgConnection) -> Result<()> {
    sqlx::query("select pg_advisory_xact_lock(hashtext('debrief.admins'))").execute(tx).await?;
    Ok(())
}

async fn ensure_another_admin(tx: &mut sqlx::PgConnection) -> Result<()> {
    if db::count_active_admins(tx).await? <= 1 {
        return Err(AppError::Unprocessable(
            "Debrief needs at least one active admin; make someone else admin first.".into(),
        ));
    }
    Ok(())
}
