//! Accounts and signing in: users and roles, password hashing, sessions,
//! first-run setup, login throttling and API tokens.

pub mod credentials;
pub mod db;
pub mod domain;
pub mod handlers;
pub mod signed_in;
pub mod throttle;
pub mod views;

use axum::{Router, routing::get};
use secrecy::{ExposeSecret, SecretString};
use sqlx::PgExecutor;
use uuid::Uuid;

use self::{
    db::{InsertUserError, NewUser, User},
    domain::{DisplayName, Email, NewPassword, Role, TokenName},
};
use crate::{error::Result, state::AppState};

/// Pages anyone may open: signing in and first-run setup.
pub fn public_router() -> Router<AppState> {
    Router::new()
        .route("/login", get(handlers::login_form).post(handlers::login))
        .route("/setup", get(handlers::setup_form).post(handlers::setup))
}

/// Pages for any signed-in user.
pub fn signed_in_router() -> Router<AppState> {
    Router::new().route("/logout", axum::routing::post(handlers::logout))
}

/// Hashes the password and stores the user.
pub async fn create_user(
    db: impl PgExecutor<'_>,
    hashing: &credentials::Hashing,
    email: &Email,
    name: &DisplayName,
    password: &NewPassword,
    role: Role,
) -> Result<User, InsertUserError> {
    let hash = hashing.hash(password.secret()).await.map_err(InsertUserError::Other)?;
    db::insert_user(db, NewUser { email, name, password_hash: &hash, role }).await
}

/// Makes a new API token for the user and returns it: the only time it is
/// ever seen, since only its digest is kept.
pub async fn issue_api_token(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    name: &TokenName,
) -> Result<SecretString> {
    let token = credentials::new_api_token();
    let secret = token.expose_secret();
    db::insert_api_token(db, user_id, name, &credentials::token_digest(secret), &token_hint(&token)).await?;
    Ok(token)
}

/// What is kept of a token to tell it apart: its first characters.
pub fn token_hint(token: &SecretString) -> String {
    let hint: String = token.expose_secret().chars().take(credentials::API_TOKEN_PREFIX.len() + 4).collect();
    format!("{hint}…")
}
