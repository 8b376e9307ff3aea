//! The webhooks admins configure: endpoints told of events as they happen,
//! each body signed with the webhook's own secret. Queuing a delivery is
//! part of the change it tells of (see [`enqueue`]); posting it is the
//! deliverer's (see [`super::deliver`]). The admin pages set them up, send
//! a test, and show how the last deliveries went.

use std::collections::HashMap;

use axum::{
    extract::{Extension, State},
    http::StatusCode,
    response::{Html, IntoResponse, Redirect, Response},
};
use serde_json::json;
use sqlx::{PgConnection, PgExecutor};
use time::OffsetDateTime;
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    Kind,
    hook_views::{DeliveryLog, WebhookInput, WebhookPage, WebhooksPage},
};
use crate::{
    error::{AppError, Result, render},
    state::AppState,
    web::{
        CurrentUser, Flash, Form, FormErrors, PageCtx,
        audit::{self, Action, Actor, AuditEvent},
        path::RecordId,
        secret::random_secret,
        session,
    },
};

/// The longest URL a webhook may have (as the schema says).
const MAX_URL_CHARS: usize = 2000;
/// Deliveries shown on a webhook's page.
const LOG_LENGTH: i64 = 50;
/// Random bytes of a generated secret (43 characters once encoded).
const SECRET_BYTES: usize = 32;

/// Queues a delivery of `kind` to every active webhook that wants it, in
/// the transaction of the change: `slack` to those that take Slack's
/// format, `json` to the others. One statement, however many webhooks.
pub async fn enqueue(db: &mut PgConnection, kind: Kind, json: &str, slack: &str) -> Result<()> {
    sqlx::query(
        "insert into webhook_delivery (id, webhook_id, event, body) \
         select gen_random_uuid(), id, $1, case when format = 'slack' then $3 else $2 end \
         from webhook where active and $1 = any(events)",
    )
    .bind(kind.as_str())
    .bind(json)
    .bind(slack)
    .execute(db)
    .await?;
    Ok(())
}

// ---------------------------------------------------------------- domain

/// How a webhook wants its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Our own JSON: `event`, `incident`, `link`, ...
    Json,
    /// `{"text": ...}`, as a Slack incoming webhook takes it.
    Slack,
}

impl Format {
    pub fn parse(raw: &str) -> Result<Format, String> {
        match raw.trim() {
            "json" => Ok(Format::Json),
            "slack" => Ok(Format::Slack),
            _ => Err("Choose JSON or Slack.".into()),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Slack => "slack",
        }
    }
}

/// An endpoint to post to: an absolute http or https URL of at most
/// [`MAX_URL_CHARS`], kept as the URL parser writes it.
///
/// Credentials in it (`https://user:password@host/`) are allowed: some
/// receivers authenticate that way, and only admins ever see the URL.
/// Addresses inside the network are allowed too: internal receivers are
/// common, and who may add a webhook is an admin already.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<WebhookUrl, String> {
        let raw = raw.trim();
        if raw.is_empty() {
            return Err("Give the address to post to, like https://hooks.example.com/debrief.".into());
        }
        if raw.chars().count() > MAX_URL_CHARS {
            return Err(format!("An address has at most {MAX_URL_CHARS} characters."));
        }
        let url = reqwest::Url::parse(raw)
            .map_err(|_| "That is not a web address; it looks like https://hooks.example.com/debrief.")?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("The address starts with https:// (or http://).".into());
        }
        if url.host_str().is_none_or(str::is_empty) {
            return Err("The address names no host.".into());
        }
        if url.as_str().chars().count() > MAX_URL_CHARS {
            return Err(format!("An address has at most {MAX_URL_CHARS} characters."));
        }
        Ok(WebhookUrl(url.into()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The events a webhook wants: at least one, each once, in the order of
/// [`Kind::ALL`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Events(Vec<Kind>);

impl Events {
    pub fn parse(raw: &[String]) -> Result<Events, String> {
        if let Some(unknown) = raw.iter().find(|event| Kind::parse(event).is_none()) {
            return Err(format!("\u{201c}{}\u{201d} is not an event.", crate::web::path::shorten(unknown)));
        }
        let kinds: Vec<Kind> =
            Kind::ALL.into_iter().filter(|kind| raw.iter().any(|event| event == kind.as_str())).collect();
        if kinds.is_empty() {
            return Err("Choose at least one event.".into());
        }
        Ok(Events(kinds))
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|kind| kind.as_str()).collect()
    }
}

/// A secret given by the admin: 16 to 200 characters without spaces.
/// Left empty, one is generated on creation and kept on an update.
pub fn parse_secret(raw: &str) -> Result<Option<String>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let count = raw.chars().count();
    if !(16..=200).contains(&count) || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("A secret has 16 to 200 characters and no spaces; leave it empty to keep it.".into());
    }
    Ok(Some(raw.to_owned()))
}

/// A webhook's settings, parsed from its form.
#[derive(Debug)]
pub struct Settings {
    url: WebhookUrl,
    events: Events,
    format: Format,
    active: bool,
    secret: Option<String>,
}

/// A webhook's form as posted: `events` comes once per box ticked, which
/// is why it is read from the pairs rather than into a struct.
#[derive(Debug, Default)]
struct WebhookForm {
    url: String,
    events: Vec<String>,
    format: String,
    active: bool,
    secret: String,
}

impl From<Vec<(String, String)>> for WebhookForm {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut form = WebhookForm::default();
        for (name, value) in pairs {
            match name.as_str() {
                "url" => form.url = value,
                "events" => form.events.push(value),
                "format" => form.format = value,
                // A box not ticked is not sent at all.
                "active" => form.active = true,
                "secret" => form.secret = value,
                _ => {}
            }
        }
        form
    }
}

impl WebhookForm {
    fn parse(&self, errors: &mut FormErrors) -> Option<Settings> {
        let url = errors.check("url", WebhookUrl::parse(&self.url));
        let events = errors.check("events", Events::parse(&self.events));
        let format = errors.check("format", Format::parse(&self.format));
        let secret = errors.check("secret", parse_secret(&self.secret));
        Some(Settings { url: url?, events: events?, format: format?, active: self.active, secret: secret? })
    }

    fn input(&self) -> WebhookInput {
        WebhookInput {
            url: self.url.trim().to_owned(),
            events: self.events.clone(),
            format: self.format.clone(),
            active: self.active,
        }
    }
}

// ---------------------------------------------------------------- pages

/// `GET /admin/webhooks`
#[tracing::instrument(skip_all)]
pub async fn list_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Html<String>> {
    render(&webhooks_page(&state, ctx, WebhookInput::default(), FormErrors::default()).await?)
}

/// `POST /admin/webhooks`: a new webhook, active at once. A secret left
/// empty is generated and shown this once.
#[tracing::instrument(skip_all)]
pub async fn create(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    actor: Actor,
    session: Session,
    ctx: PageCtx,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let form = WebhookForm { active: true, ..WebhookForm::from(pairs) };
    let mut errors = FormErrors::default();
    let Some(settings) = form.parse(&mut errors) else {
        let page = webhooks_page(&state, ctx, form.input(), errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let (secret, generated) = match &settings.secret {
        Some(secret) => (secret.clone(), false),
        None => (random_secret(SECRET_BYTES), true),
    };
    let mut tx = state.pool.begin().await?;
    let id = insert_webhook(&mut *tx, &settings, &secret, user.0.id).await?;
    record_change(&mut tx, &actor, Action::WebhookCreated, id, &settings).await?;
    tx.commit().await?;
    tracing::info!(webhook = %id, "webhook added");
    let text = if generated {
        format!(
            "The webhook is added. Its signing secret, shown this once only: {secret} \u{2014} \
             receivers check each body's x-debrief-signature with it."
        )
    } else {
        "The webhook is added, signing with the secret you gave.".to_owned()
    };
    session::push_flash(&session, Flash::success(text)).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}

/// `GET /admin/webhooks/{id}`: its settings and its delivery log.
#[tracing::instrument(skip_all)]
pub async fn show_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    RecordId(id): RecordId,
) -> Result<Html<String>> {
    let webhook = find_webhook(&state.pool, id).await?.ok_or(AppError::NotFound)?;
    let form = WebhookInput::from(&webhook);
    render(&webhook_page(&state, ctx, webhook, form, FormErrors::default()).await?)
}

/// `POST /admin/webhooks/{id}`: new settings. Switching it off fails its
/// pending deliveries; a new secret signs from the next attempt on,
/// retries included.
#[tracing::instrument(skip_all)]
pub async fn update(
    State(state): State<AppState>,
    actor: Actor,
    session: Session,
    ctx: PageCtx,
    RecordId(id): RecordId,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let form = WebhookForm::from(pairs);
    let mut errors = FormErrors::default();
    let Some(settings) = form.parse(&mut errors) else {
        let webhook = find_webhook(&state.pool, id).await?.ok_or(AppError::NotFound)?;
        let page = webhook_page(&state, ctx, webhook, form.input(), errors).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let mut tx = state.pool.begin().await?;
    if !update_webhook(&mut tx, id, &settings).await? {
        return Err(AppError::NotFound);
    }
    let dropped = if settings.active { 0 } else { fail_pending(&mut tx, id).await? };
    record_change(&mut tx, &actor, Action::WebhookChanged, id, &settings).await?;
    tx.commit().await?;
    tracing::info!(webhook = %id, active = settings.active, "webhook changed");
    let mut text = "The webhook is saved.".to_owned();
    if settings.secret.is_some() {
        text.push_str(" Deliveries are signed with the new secret from now on.");
    }
    if dropped > 0 {
        text.push_str(&format!(" It is off: {dropped} waiting deliveries will not be sent."));
    }
    session::push_flash(&session, Flash::success(text)).await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}

/// `POST /admin/webhooks/{id}/delete`: the webhook and its delivery log.
#[tracing::instrument(skip_all)]
pub async fn delete(
    State(state): State<AppState>,
    actor: Actor,
    session: Session,
    RecordId(id): RecordId,
) -> Result<Response> {
    let mut tx = state.pool.begin().await?;
    let url = delete_webhook(&mut *tx, id).await?.ok_or(AppError::NotFound)?;
    let event = AuditEvent::new(&actor, Action::WebhookDeleted)
        .target(host_of(&url))
        .detail(json!({ "webhook_id": id }));
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    tracing::info!(webhook = %id, "webhook deleted");
    session::push_flash(&session, Flash::success("The webhook is deleted, with its delivery log.")).await?;
    Ok(Redirect::to("/admin/webhooks").into_response())
}

/// `POST /admin/webhooks/{id}/test`: queues a `test` event to this
/// webhook alone and wakes the deliverer.
#[tracing::instrument(skip_all)]
pub async fn send_test(
    State(state): State<AppState>,
    session: Session,
    RecordId(id): RecordId,
) -> Result<Response> {
    let webhook = find_webhook(&state.pool, id).await?.ok_or(AppError::NotFound)?;
    let link = format!("{}/admin/webhooks/{id}", state.origin);
    let body = match webhook.format.as_str() {
        "slack" => json!({ "text": format!("A test delivery from Debrief: <{link}|this webhook>") }),
        _ => json!({
            "event": "test",
            "event_id": Uuid::now_v7(),
            "created_at": OffsetDateTime::now_utc()
                .format(&time::format_description::well_known::Rfc3339)
                .unwrap_or_default(),
            "text": "A test delivery from Debrief.",
            "link": link,
        }),
    };
    queue_one(&state.pool, id, "test", &body.to_string()).await?;
    state.webhooks.wake();
    session::push_flash(&session, Flash::info("A test delivery is on its way; its outcome shows below."))
        .await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}

/// A webhook's new settings, for the audit trail: its host (never the whole
/// URL, whose path or credentials may be a secret, as Slack's are), what it
/// is sent, and whether its secret changed (never the secret).
async fn record_change(
    tx: &mut PgConnection,
    actor: &Actor,
    action: Action,
    id: Uuid,
    settings: &Settings,
) -> Result<()> {
    let event = AuditEvent::new(actor, action).target(host_of(settings.url.as_str())).detail(json!({
        "webhook_id": id,
        "events": settings.events.names(),
        "format": settings.format.as_str(),
        "active": settings.active,
        "secret_given": settings.secret.is_some(),
    }));
    audit::record(tx, &event).await
}

/// The host a webhook posts to, as the audit trail names it.
fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|url| url.host_str().map(str::to_owned))
        .unwrap_or_else(|| "(unreadable address)".into())
}

async fn webhooks_page(
    state: &AppState,
    ctx: PageCtx,
    form: WebhookInput,
    errors: FormErrors,
) -> Result<WebhooksPage> {
    let webhooks = list_webhooks(&state.pool).await?;
    Ok(WebhooksPage { ctx, webhooks, form, errors })
}

async fn webhook_page(
    state: &AppState,
    ctx: PageCtx,
    webhook: WebhookRow,
    form: WebhookInput,
    errors: FormErrors,
) -> Result<WebhookPage> {
    let deliveries = recent_deliveries(&state.pool, webhook.id).await?;
    let ids: Vec<Uuid> = deliveries.iter().map(|delivery| delivery.id).collect();
    let mut attempts: HashMap<Uuid, Vec<AttemptRow>> = HashMap::new();
    for attempt in attempts_of(&state.pool, &ids).await? {
        attempts.entry(attempt.delivery_id).or_default().push(attempt);
    }
    let deliveries = deliveries
        .into_iter()
        .map(|delivery| DeliveryLog { attempts: attempts.remove(&delivery.id).unwrap_or_default(), delivery })
        .collect();
    Ok(WebhookPage { ctx, webhook, form, errors, deliveries })
}

// ---------------------------------------------------------------- SQL

/// A webhook as its pages show it: never its secret, only how it ends.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct WebhookRow {
    pub id: Uuid,
    pub url: String,
    pub events: Vec<String>,
    pub format: String,
    pub active: bool,
    pub secret_end: String,
    pub created_at: OffsetDateTime,
    pub pending: i64,
    pub failed: i64,
}

/// One delivery in a webhook's log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: Uuid,
    pub event: String,
    pub state: String,
    pub attempts: i32,
    pub last_status: Option<i32>,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub next_attempt_at: OffsetDateTime,
    pub delivered_at: Option<OffsetDateTime>,
}

/// One try of a delivery.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AttemptRow {
    pub delivery_id: Uuid,
    pub attempt: i32,
    pub at: OffsetDateTime,
    pub status: Option<i32>,
    pub error: Option<String>,
    pub duration_ms: i32,
}

/// The columns of [`WebhookRow`]; `right(secret, 4)` so that a page never
/// even reads the whole secret.
const WEBHOOK_COLUMNS: &str = "w.id, w.url, w.events, w.format, w.active, right(w.secret, 4) as secret_end, \
     w.created_at, \
     (select count(*) from webhook_delivery d where d.webhook_id = w.id and d.state = 'pending') as pending, \
     (select count(*) from webhook_delivery d where d.webhook_id = w.id and d.state = 'failed') as failed";

async fn list_webhooks(db: impl PgExecutor<'_>) -> Result<Vec<WebhookRow>> {
    let sql = format!("select {WEBHOOK_COLUMNS} from webhook w order by w.created_at, w.id");
    Ok(sqlx::query_as(&sql).fetch_all(db).await?)
}

async fn find_webhook(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<WebhookRow>> {
    let sql = format!("select {WEBHOOK_COLUMNS} from webhook w where w.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_optional(db).await?)
}

async fn insert_webhook(
    db: impl PgExecutor<'_>,
    settings: &Settings,
    secret: &str,
    by: Uuid,
) -> Result<Uuid> {
    Ok(sqlx::query_scalar(
        "insert into webhook (id, url, events, secret, format, active, created_by) \
         values ($1, $2, $3, $4, $5, true, $6) returning id",
    )
    .bind(Uuid::now_v7())
    .bind(settings.url.as_str())
    .bind(settings.events.names())
    .bind(secret)
    .bind(settings.format.as_str())
    .bind(by)
    .fetch_one(db)
    .await?)
}

/// Deletes the webhook (its deliveries go with it); its URL, or `None`
/// when it was not there.
async fn delete_webhook(db: impl PgExecutor<'_>, id: Uuid) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("delete from webhook where id = $1 returning url")
        .bind(id)
        .fetch_optional(db)
        .await?)
}

/// Says whether the webhook was there to change.
async fn update_webhook(db: &mut PgConnection, id: Uuid, settings: &Settings) -> Result<bool> {
    let updated = sqlx::query(
        "update webhook set url = $2, events = $3, format = $4, active = $5, secret = coalesce($6, secret) \
         where id = $1",
    )
    .bind(id)
    .bind(settings.url.as_str())
    .bind(settings.events.names())
    .bind(settings.format.as_str())
    .bind(settings.active)
    .bind(settings.secret.as_deref())
    .execute(db)
    .await?;
    Ok(updated.rows_affected() == 1)
}

/// Fails the deliveries still waiting for a webhook switched off; one in
/// flight keeps its attempt's outcome out of the log (its lease no longer
/// matches a pending row).
async fn fail_pending(db: &mut PgConnection, id: Uuid) -> Result<u64> {
    Ok(sqlx::query(
        "update webhook_delivery set state = 'failed', locked_until = null, \
         last_error = 'not sent: the webhook was switched off' where webhook_id = $1 and state = 'pending'",
    )
    .bind(id)
    .execute(db)
    .await?
    .rows_affected())
}

async fn queue_one(db: impl PgExecutor<'_>, webhook: Uuid, event: &str, body: &str) -> Result<()> {
    sqlx::query(
        "insert into webhook_delivery (id, webhook_id, event, body) values (gen_random_uuid(), $1, $2, $3)",
    )
    .bind(webhook)
    .bind(event)
    .bind(body)
    .execute(db)
    .await?;
    Ok(())
}

async fn recent_deliveries(db: impl PgExecutor<'_>, webhook: Uuid) -> Result<Vec<DeliveryRow>> {
    Ok(sqlx::query_as(
        "select id, event, state, attempts, last_status, last_error, created_at, next_attempt_at, delivered_at \
         from webhook_delivery where webhook_id = $1 order by created_at desc, id desc limit $2",
    )
    .bind(webhook)
    .bind(LOG_LENGTH)
    .fetch_all(db)
    .await?)
}

async fn attempts_of(db: impl PgExecutor<'_>, deliveries: &[Uuid]) -> Result<Vec<AttemptRow>> {
    Ok(sqlx::query_as(
        "select delivery_id, attempt, at, status, error, duration_ms from webhook_attempt \
         where delivery_id = any($1) order by delivery_id, attempt",
    )
    .bind(deliveries)
    .fetch_all(db)
    .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_absolute_http_or_https_and_bounded() {
        assert_eq!(
            WebhookUrl::parse(" https://hooks.example.com/x ").unwrap().as_str(),
            "https://hooks.example.com/x"
        );
        assert_eq!(WebhookUrl::parse("HTTP://Example.com").unwrap().as_str(), "http://example.com/");
        assert!(
            WebhookUrl::parse("https://user:pw@example.com/").is_ok(),
            "credentials are the admin's call"
        );
        let long = format!("https://example.com/{}", "a".repeat(MAX_URL_CHARS));
        for bad in [
            "",
            "example.com/hook",
            "ftp://example.com/",
            "javascript:alert(1)",
            "https://",
            "mailto:a@example.com",
            &long,
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad:?} is refused");
        }
    }

    #[test]
    fn events_are_known_kinds_at_least_one_each_once() {
        let names = |raw: &[&str]| Events::parse(&raw.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(
            names(&["published", "approved", "published"]).unwrap().names(),
            ["approved", "published"]
        );
        assert!(names(&[]).is_err());
        assert!(names(&["approved", "exploded"]).unwrap_err().contains("exploded"));
    }

    #[test]
    fn a_secret_is_kept_when_empty_and_otherwise_long_enough() {
        assert_eq!(parse_secret("  "), Ok(None));
        assert_eq!(parse_secret("0123456789abcdef").unwrap().as_deref(), Some("0123456789abcdef"));
        assert!(parse_secret("short").is_err());
        assert!(parse_secret("with a space in it, long enough").is_err());
    }

    #[test]
    fn the_form_reads_one_event_per_box_ticked() {
        let pairs = [
            ("url", "https://x.example"),
            ("events", "approved"),
            ("events", "published"),
            ("format", "slack"),
        ];
        let form = WebhookForm::from(pairs.map(|(k, v)| (k.to_owned(), v.to_owned())).to_vec());
        assert_eq!(form.events, ["approved", "published"]);
        assert!(!form.active, "an unticked box is not sent");
        let settings = form.parse(&mut FormErrors::default()).unwrap();
        assert_eq!(settings.format, Format::Slack);
        assert_eq!(settings.secret, None);
    }
}
