//! SQL for users, API tokens, setup tokens and login attempts.

use sqlx::PgExecutor;
use time::OffsetDateTime;
use uuid::Uuid;

use super::domain::{DisplayName, Email, Role, TokenName};
use crate::error::{AppError, Result};

/// A user as the app sees it (no password hash).
#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub disabled: bool,
    /// IANA name of the zone times are shown in.
    pub time_zone: String,
    #[serde(skip)]
    pub auth_version: i32,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: Uuid,
    email: String,
    name: String,
    role: String,
    disabled: bool,
    time_zone: String,
    auth_version: i32,
    created_at: OffsetDateTime,
}

impl TryFrom<UserRow> for User {
    type Error = AppError;

    fn try_from(row: UserRow) -> Result<User> {
        let role = Role::parse(&row.role)
            .map_err(|_| anyhow::anyhow!("user {} has an unknown role {:?}", row.id, row.role))?;
        Ok(User {
            id: row.id,
            email: row.email,
            name: row.name,
            role,
            disabled: row.disabled,
            time_zone: row.time_zone,
            auth_version: row.auth_version,
            created_at: row.created_at,
        })
    }
}

const USER_COLUMNS: &str = "id, email, name, role, disabled, time_zone, auth_version, created_at";

/// The fields of a user to be created.
pub struct NewUser<'a> {
    pub email: &'a Email,
    pub name: &'a DisplayName,
    pub password_hash: &'a str,
    pub role: Role,
}

/// Why a user could not be inserted.
#[derive(Debug)]
pub enum InsertUserError {
    EmailTaken,
    Other(AppError),
}

impl From<InsertUserError> for AppError {
    fn from(err: InsertUserError) -> Self {
        match err {
            InsertUserError::EmailTaken => {
                AppError::Conflict("A user with that email already exists.".into())
            }
            InsertUserError::Other(err) => err,
        }
    }
}

#[tracing::instrument(skip_all)]
pub async fn insert_user(db: impl PgExecutor<'_>, user: NewUser<'_>) -> Result<User, InsertUserError> {
    let sql = format!(
        "insert into app_user (id, email, name, password_hash, role) values ($1, $2, $3, $4, $5) \
         returning {USER_COLUMNS}"
    );
    let row = sqlx::query_as::<_, UserRow>(&sql)
        .bind(Uuid::now_v7())
        .bind(user.email.as_str())
        .bind(user.name.as_str())
        .bind(user.password_hash)
        .bind(user.role.as_str())
        .fetch_one(db)
        .await;
    match row {
        Ok(row) => User::try_from(row).map_err(InsertUserError::Other),
        Err(sqlx::Error::Database(db)) if db.constraint() == Some("app_user_email_key") => {
            Err(InsertUserError::EmailTaken)
        }
        Err(err) => Err(InsertUserError::Other(err.into())),
    }
}

#[tracing::instrument(skip_all)]
pub async fn count_users(db: impl PgExecutor<'_>) -> Result<i64> {
    Ok(sqlx::query_scalar("select count(*) from app_user").fetch_one(db).await?)
}

#[tracing::instrument(skip_all)]
pub async fn find_user(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<User>> {
    let sql = format!("select {USER_COLUMNS} from app_user where id = $1");
    let row = sqlx::query_as::<_, UserRow>(&sql).bind(id).fetch_optional(db).await?;
    row.map(User::try_from).transpose()
}

/// The user with that email and their password hash, for signing in.
#[tracing::instrument(skip_all)]
pub async fn find_user_with_hash(db: impl PgExecutor<'_>, email: &str) -> Result<Option<(User, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        password_hash: String,
    }
    let sql = format!("select {USER_COLUMNS}, password_hash from app_user where email = $1");
    let row = sqlx::query_as::<_, Row>(&sql).bind(email).fetch_optional(db).await?;
    row.map(|row| Ok((User::try_from(row.user)?, row.password_hash))).transpose()
}

#[tracing::instrument(skip_all)]
pub async fn list_users(db: impl PgExecutor<'_>) -> Result<Vec<User>> {
    let sql = format!("select {USER_COLUMNS} from app_user order by lower(name), email");
    let rows = sqlx::query_as::<_, UserRow>(&sql).fetch_all(db).await?;
    rows.into_iter().map(User::try_from).collect()
}

#[tracing::instrument(skip_all)]
pub async fn count_active_admins(db: impl PgExecutor<'_>) -> Result<i64> {
    let sql = "select count(*) from app_user where role = 'admin' and not disabled";
    Ok(sqlx::query_scalar(sql).fetch_one(db).await?)
}

#[tracing::instrument(skip_all)]
pub async fn set_role(db: impl PgExecutor<'_>, id: Uuid, role: Role) -> Result<bool> {
    let sql = "update app_user set role = $2, updated_at = now() where id = $1";
    let done = sqlx::query(sql).bind(id).bind(role.as_str()).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// Disabling also ends every session the user has, for good.
#[tracing::instrument(skip_all)]
pub async fn set_disabled(db: impl PgExecutor<'_>, id: Uuid, disabled: bool) -> Result<bool> {
    let sql = "update app_user set disabled = $2, \
               auth_version = auth_version + case when $2 then 1 else 0 end, updated_at = now() \
               where id = $1";
    let done = sqlx::query(sql).bind(id).bind(disabled).execute(db).await?;
    Ok(done.rows_affected() == 1)
}

/// Stores a new password hash and returns the new auth version: sessions
/// signed in before the change stop working.
#[tracing::instrument(skip_all)]
pub async fn set_password_hash(db: impl PgExecutor<'_>, id: Uuid, hash: &str) -> Result<i32> {
    let sql = "update app_user set password_hash = $2, auth_version = auth_version + 1, updated_at = now() \
               where id = $1 returning auth_version";
    Ok(sqlx::query_scalar(sql).bind(id).bind(hash).fetch_one(db).await?)
}

#[tracing::instrument(skip_all)]
pub async fn set_time_zone(db: impl PgExecutor<'_>, id: Uuid, zone: &str) -> Result<()> {
    sqlx::query("update app_user set time_zone = $2, updated_at = now() where id = $1")
        .bind(id)
        .bind(zone)
        .execute(db)
        .await?;
    Ok(())
}

/// An API token as listed on the account page.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ApiToken {
    pub id: Uuid,
    pub name: String,
    pub token_hint: String,
    pub created_at: OffsetDateTime,
    pub first_used_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl ApiToken {
    /// The token as the audit trail names it: `"ci" (dbr_ab12…)`.
    pub fn label(&self) -> String {
        token_label(&self.name, &self.token_hint)
    }
}

/// A token as the audit trail names it, from its name and hint.
pub fn token_label(name: &str, hint: &str) -> String {
    format!("\"{name}\" ({hint})")
}

const TOKEN_COLUMNS: &str = "id, name, token_hint, created_at, first_used_at, last_used_at, revoked_at";

#[tracing::instrument(skip_all)]
pub async fn insert_api_token(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    name: &TokenName,
    digest: &[u8],
    hint: &str,
) -> Result<Uuid> {
    let sql = "insert into api_token (id, user_id, name, token_digest, token_hint) values ($1, $2, $3, $4, $5) \
               returning id";
    let id = sqlx::query_scalar(sql)
        .bind(Uuid::now_v7())
        .bind(user_id)
        .bind(name.as_str())
        .bind(digest)
        .bind(hint)
        .fetch_one(db)
        .await?;
    Ok(id)
}

#[tracing::instrument(skip_all)]
pub async fn list_api_tokens(db: impl PgExecutor<'_>, user_id: Uuid) -> Result<Vec<ApiToken>> {
    let sql = format!(
        "select {TOKEN_COLUMNS} from api_token where user_id = $1 order by revoked_at is not null, created_at desc"
    );
    Ok(sqlx::query_as(&sql).bind(user_id).fetch_all(db).await?)
}

/// Revokes one of the user's own tokens and returns it; `None` when there
/// is no such live token.
#[tracing::instrument(skip_all)]
pub async fn revoke_api_token(
    db: impl PgExecutor<'_>,
    user_id: Uuid,
    token_id: Uuid,
) -> Result<Option<ApiToken>> {
    let sql = format!(
        "update api_token set revoked_at = now() where id = $1 and user_id = $2 and revoked_at is null \
         returning {TOKEN_COLUMNS}"
    );
    Ok(sqlx::query_as(&sql).bind(token_id).bind(user_id).fetch_optional(db).await?)
}

/// A live token as a request presents it, with its user.
#[derive(Debug, Clone)]
pub struct PresentedToken {
    pub user: User,
    pub id: Uuid,
    /// `"name" (hint)`, for the audit trail.
    pub label: String,
    /// Whether its use is to be noted: never noted, or not in the last minute.
    pub touch_due: bool,
}

/// The live token with this digest, and its user.
#[tracing::instrument(skip_all)]
pub async fn find_user_by_token(db: impl PgExecutor<'_>, digest: &[u8]) -> Result<Option<PresentedToken>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        user: UserRow,
        token_id: Uuid,
        token_name: String,
        token_hint: String,
        touch_due: bool,
    }
    let sql = format!(
        "select {}, t.id as token_id, t.name as token_name, t.token_hint, \
                (t.last_used_at is null or t.last_used_at < now() - interval '1 minute') as touch_due \
         from api_token t join app_user u on u.id = t.user_id \
         where t.token_digest = $1 and t.revoked_at is null",
        USER_COLUMNS.split(", ").map(|c| format!("u.{c}")).collect::<Vec<_>>().join(", ")
    );
    let Some(row) = sqlx::query_as::<_, Row>(&sql).bind(digest).fetch_optional(db).await? else {
        return Ok(None);
    };
    Ok(Some(PresentedToken {
        user: User::try_from(row.user)?,
        id: row.token_id,
        label: token_label(&row.token_name, &row.token_hint),
        touch_due: row.touch_due,
    }))
}

/// Notes that the token was used, at most once a minute (so the API's hot
/// path does not write on every call). `Some(true)` when this was its first
/// use ever, `Some(false)` for a later one, `None` when another request
/// noted it within the minute.
#[tracing::instrument(skip_all)]
pub async fn note_token_use(db: impl PgExecutor<'_>, token_id: Uuid) -> Result<Option<bool>> {
    // `was` is read from the snapshot, ahead of this update: it tells
    // whether the token had been used. Of two first uses at once, the
    // second waits for the first's row lock, then finds the minute's guard
    // false and notes nothing, so a first use is noted once.
    let sql = "update api_token t set last_used_at = now(), first_used_at = coalesce(t.first_used_at, now()) \
               from (select id, first_used_at from api_token where id = $1) was \
               where t.id = was.id and t.revoked_at is null \
                 and (t.last_used_at is null or t.last_used_at < now() - interval '1 minute') \
               returning was.first_used_at is null";
    Ok(sqlx::query_scalar(sql).bind(token_id).fetch_optional(db).await?)
}

#[tracing::instrument(skip_all)]
pub async fn insert_setup_token(db: impl PgExecutor<'_>, digest: &[u8]) -> Result<()> {
    sqlx::query("insert into setup_token (id, token_digest) values ($1, $2)")
        .bind(Uuid::now_v7())
        .bind(digest)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether a setup token with this digest was issued in the last day.
#[tracing::instrument(skip_all)]
pub async fn setup_token_is_valid(db: impl PgExecutor<'_>, digest: &[u8]) -> Result<bool> {
    let sql = "select exists (select 1 from setup_token where token_digest = $1 \
               and created_at > now() - interval '24 hours')";
    Ok(sqlx::query_scalar(sql).bind(digest).fetch_one(db).await?)
}

#[tracing::instrument(skip_all)]
pub async fn delete_setup_tokens(db: impl PgExecutor<'_>) -> Result<()> {
    sqlx::query("delete from setup_token").execute(db).await?;
    Ok(())
}

/// Failed attempts in the window and, if any, when the oldest of them was.
#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Failures {
    pub count: i64,
    pub oldest: Option<OffsetDateTime>,
}

/// Failures for an email in the last `window_secs`, since its last success.
#[tracing::instrument(skip_all)]
pub async fn failures_for_email(db: impl PgExecutor<'_>, email: &str, window_secs: i64) -> Result<Failures> {
    let sql = "select count(*) as count, min(created_at) as oldest from login_attempt \
               where email = $1 and not succeeded and created_at > now() - make_interval(secs => $2) \
               and created_at > coalesce((select max(created_at) from login_attempt \
                                          where email = $1 and succeeded), '-infinity')";
    Ok(sqlx::query_as(sql).bind(email).bind(window_secs as f64).fetch_one(db).await?)
}

/// Failures from one address in the last `window_secs`.
#[tracing::instrument(skip_all)]
pub async fn failures_for_ip(db: impl PgExecutor<'_>, ip: &str, window_secs: i64) -> Result<Failures> {
    let sql = "select count(*) as count, min(created_at) as oldest from login_attempt \
               where client_ip = $1 and not succeeded and created_at > now() - make_interval(secs => $2)";
    Ok(sqlx::query_as(sql).bind(ip).bind(window_secs as f64).fetch_one(db).await?)
}

/// Holds, until the transaction ends, the right to count and record the
/// attempts of this email and of this address. Always the email first,
/// then the address, so two attempts never wait on each other in a circle.
#[tracing::instrument(skip_all)]
pub async fn lock_login_attempts(tx: &mut sqlx::PgConnection, email: &str, ip: &str) -> Result<()> {
    sqlx::query(
        "select pg_advisory_xact_lock(hashtextextended('debrief.login.email:' || $1, 0)), \
                pg_advisory_xact_lock(hashtextextended('debrief.login.ip:' || $2, 0))",
    )
    .bind(email)
    .bind(ip)
    .execute(tx)
    .await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn record_login_attempt(
    db: impl PgExecutor<'_>,
    email: &str,
    ip: &str,
    succeeded: bool,
) -> Result<i64> {
    let sql = "insert into login_attempt (email, client_ip, succeeded) values ($1, $2, $3) returning id";
    Ok(sqlx::query_scalar(sql).bind(email).bind(ip).bind(succeeded).fetch_one(db).await?)
}

#[tracing::instrument(skip_all)]
pub async fn mark_login_attempt_succeeded(db: impl PgExecutor<'_>, id: i64) -> Result<()> {
    sqlx::query("update login_attempt set succeeded = true where id = $1").bind(id).execute(db).await?;
    Ok(())
}

#[tracing::instrument(skip_all)]
pub async fn delete_login_attempt(db: impl PgExecutor<'_>, id: i64) -> Result<()> {
    sqlx::query("delete from login_attempt where id = $1").bind(id).execute(db).await?;
    Ok(())
}

/// Forgets attempts older than any throttling window.
#[tracing::instrument(skip_all)]
pub async fn purge_login_attempts(db: impl PgExecutor<'_>) -> Result<u64> {
    let done = sqlx::query("delete from login_attempt where created_at < now() - interval '1 day'")
        .execute(db)
        .await?;
    Ok(done.rows_affected())
}
