//! Word getting out: what happened to a postmortem (a review asked for, a
//! verdict, a mention, an action item given or overdue) becomes a
//! notification for each person it concerns and a delivery for each
//! webhook that wants it, both written in the transaction of the change
//! itself, so that word goes out exactly when the change lands.
//!
//! The in-app notifications are read on `/notifications` and counted in
//! the header; webhooks are delivered from their own durable queue (see
//! [`deliver`]), so a dead endpoint never slows a request.

pub mod db;
pub mod deliver;
pub mod handlers;
// The API's list lives with the pages; the OpenAPI document names it here.
pub use handlers::__path_api_list;
pub mod hook_views;
pub mod overdue;
pub mod sign;
pub mod views;
pub mod webhooks;

use axum::{
    Router,
    extract::{Request, State},
    middleware::{self, Next},
    response::Response,
    routing::{get, post},
};
use serde::Serialize;
use serde_json::json;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use crate::{
    auth::{db::User, domain::Role},
    error::Result,
    incidents::db::Incident,
    state::AppState,
    web::{CurrentUser, page::Unread, require_role},
};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Mention,
    ReviewRequested,
    Approved,
    ChangesRequested,
    Published,
    Comment,
    ActionItemAssigned,
    ActionItemOverdue,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::ReviewRequested,
        Kind::Approved,
        Kind::ChangesRequested,
        Kind::Published,
        Kind::Comment,
        Kind::Mention,
        Kind::ActionItemAssigned,
        Kind::ActionItemOverdue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Mention => "mention",
            Kind::ReviewRequested => "review_requested",
            Kind::Approved => "approved",
            Kind::ChangesRequested => "changes_requested",
            Kind::Published => "published",
            Kind::Comment => "comment",
            Kind::ActionItemAssigned => "action_item_assigned",
            Kind::ActionItemOverdue => "action_item_overdue",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Mention => "Mentioned",
            Kind::ReviewRequested => "Review asked",
            Kind::Approved => "Approved",
            Kind::ChangesRequested => "Changes requested",
            Kind::Published => "Published",
            Kind::Comment => "Comment",
            Kind::ActionItemAssigned => "Action item given",
            Kind::ActionItemOverdue => "Action item overdue",
        }
    }

    pub fn parse(raw: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|kind| kind.as_str() == raw)
    }
}

/// Who did something: their id and name.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Uuid,
    pub name: String,
}

impl From<&User> for Actor {
    fn from(user: &User) -> Actor {
        Actor { id: user.id, name: user.name.clone() }
    }
}

/// One thing that happened, and who should hear of it in the app.
pub struct Event<'a> {
    pub kind: Kind,
    pub incident: &'a Incident,
    /// Who did it: never notified of their own doing. None for Debrief
    /// itself (an item found overdue).
    pub actor: Option<&'a Actor>,
    pub recipients: Vec<Uuid>,
    /// One line: "Ana asked you to review INC-42: Checkout 5xx".
    pub text: String,
    /// Where on our site it is: `/incidents/INC-42#review`.
    pub path: String,
}

/// Records `event` in the transaction of the change it tells of: a
/// notification for each recipient but the actor, and a pending delivery
/// for each active webhook that wants its kind. `origin` makes links
/// absolute for the webhooks. The deliverer is woken by the caller once the
/// transaction has committed (see [`AppState::webhooks`]).
pub async fn emit(db: &mut PgConnection, origin: &str, event: &Event<'_>) -> Result<()> {
    let mut recipients: Vec<Uuid> = event.recipients.clone();
    recipients.sort();
    recipients.dedup();
    recipients.retain(|id| Some(*id) != event.actor.map(|actor| actor.id));
    if !recipients.is_empty() {
        db::insert_notifications(&mut *db, &recipients, event).await?;
    }
    let (json, slack) = bodies(origin, event, OffsetDateTime::now_utc());
    webhooks::enqueue(&mut *db, event.kind, &json, &slack).await?;
    Ok(())
}

/// The two bodies a webhook may want: our own JSON, or Slack's `{"text"}`.
fn bodies(origin: &str, event: &Event<'_>, at: OffsetDateTime) -> (String, String) {
    let link = format!("{origin}{}", event.path);
    let incident = event.incident;
    let json = json!({
        "event": event.kind.as_str(),
        "event_id": Uuid::now_v7(),
        "created_at": at.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "text": event.text,
        "link": link,
        "incident": {
            "id": incident.id,
            "number": incident.number,
            "ref": incident.reference,
            "title": incident.title,
            "severity": incident.severity,
            "status": incident.status,
        },
        "actor": event.actor.map(|actor| json!({ "id": actor.id, "name": actor.name })),
    });
    // Slack reads `<url|label>` as a link and `&`, `<`, `>` as markup.
    let escape = |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    let slack =
        json!({ "text": format!("{} <{}|{}>", escape(&event.text), link, escape(&incident.reference)) });
    (json.to_string(), slack.to_string())
}

/// Pages: everyone's own notifications.
pub fn router() -> Router<AppState> {
    let own = Router::new()
        .route("/notifications", get(handlers::list))
        .route("/notifications/read", post(handlers::mark_all_read))
        .route("/notifications/{id}/open", post(handlers::open))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let admins = Router::new()
        .route("/admin/webhooks", get(webhooks::list_page).post(webhooks::create))
        .route("/admin/webhooks/{id}", get(webhooks::show_page).post(webhooks::update))
        .route("/admin/webhooks/{id}/delete", post(webhooks::delete))
        .route("/admin/webhooks/{id}/test", post(webhooks::send_test))
        .route_layer(middleware::from_fn_with_state(Role::Admin, require_role));
    own.merge(admins)
}

/// API routes, mounted under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/notifications", get(handlers::api_list))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role))
}

/// Counts the signed-in reader's unread notifications for the header.
pub async fn count_unread(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let reader = request.extensions().get::<CurrentUser>().map(|user| user.0.id);
    if let Some(reader) = reader
        && request.method() == axum::http::Method::GET
    {
        // The header goes without a count rather than the page failing.
        match db::unread_count(&state.pool, reader).await {
            Ok(count) => {
                request.extensions_mut().insert(Unread(count));
            }
            Err(err) => tracing::warn!(error = %err, "could not count unread notifications"),
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_reads_back_from_its_name() {
        for kind in Kind::ALL {
            assert_eq!(Kind::parse(kind.as_str()), Some(kind));
        }
        assert_eq!(Kind::parse("nope"), None);
    }
}
