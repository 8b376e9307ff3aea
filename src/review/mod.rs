//! The review of a postmortem: asking people to review it, their verdicts,
//! what publishing needs (the sections each severity requires and the
//! approvals, never the author's own), and the readiness shown before a
//! draft is sent for review.
//!
//! The rules are enforced by the [`ReviewWorkflow`], registered with the
//! document, so that every way of moving a postmortem is checked alike.

pub mod api;
pub mod db;
pub mod handlers;
pub mod part;

use std::sync::Arc;

use axum::{
    Router, middleware,
    routing::{get, post},
};
use futures_util::future::BoxFuture;
use sqlx::PgConnection;
use uuid::Uuid;

use self::db::Reviewer;
use crate::{
    auth::{db::User, domain::Role},
    error::{AppError, Result},
    incidents::{
        db::Incident,
        document::{Document, Gap, Workflow},
        domain::Status,
    },
    notify::{self, Actor, Event, Kind},
    state::AppState,
    web::require_role,
};

/// The gap keys a rule may require, with what each means, in page order.
pub const REQUIRABLE: [(&str, &str); 10] = [
    ("milestones", "Detected, mitigated and resolved times"),
    ("summary", "Summary"),
    ("impact", "Impact"),
    ("trigger", "Trigger"),
    ("detection", "Detection"),
    ("resolution", "Resolution"),
    ("root_cause", "A root cause"),
    ("action_item", "At least one action item"),
    ("lessons", "Lessons"),
    ("hypotheses", "No hypothesis left open"),
];

/// A verdict's note is at most this long.
pub const MAX_NOTE_CHARS: usize = 4000;

/// Pages: reviewing needs an editor; the rules, an admin.
pub fn router() -> Router<AppState> {
    let editors = Router::new()
        .route("/incidents/{reference}/review", get(handlers::readiness_page))
        .route("/incidents/{reference}/reviewers", post(handlers::ask_reviewer))
        .route("/incidents/{reference}/reviewers/withdraw", post(handlers::withdraw_reviewer))
        .route("/incidents/{reference}/reviews", post(handlers::give_verdict))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    let admins = Router::new()
        .route("/admin/review", get(handlers::rules_page).post(handlers::save_rules))
        .route_layer(middleware::from_fn_with_state(Role::Admin, require_role));
    editors.merge(admins)
}

/// API routes, mounted under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    let read = Router::new()
        .route("/incidents/{id}/reviews", get(api::list_reviews))
        .route("/incidents/{id}/readiness", get(api::readiness))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let write = Router::new()
        .route("/incidents/{id}/status", post(api::move_status))
        .route("/incidents/{id}/reviewers", post(api::ask_reviewer))
        .route("/incidents/{id}/reviews", post(api::give_verdict))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    read.merge(write)
}

/// Where a postmortem stands against its rule: what is missing, what of
/// it publishing requires, and the approvals.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Readiness {
    /// Everything still missing, in reading order.
    pub gaps: Vec<Gap>,
    /// The keys of the gaps publishing requires.
    pub required: Vec<String>,
    pub approvals_needed: i32,
    /// Approvals from someone other than the author.
    pub approvals: i32,
    /// Who asks for changes (their latest verdict).
    pub changes_requested_by: Vec<String>,
}

impl Readiness {
    pub async fn of(db: &mut PgConnection, document: &Document, incident: &Incident) -> Result<Readiness> {
        let rule = db::rule(&mut *db, incident.severity).await?;
        let gaps = document.gaps(&mut *db, incident).await?;
        let reviewers = db::reviewers(&mut *db, incident.id).await?;
        let author = incident.created_by;
        let approvals = reviewers.iter().filter(|r| r.approved() && Some(r.user_id) != author).count();
        let changes_requested_by =
            reviewers.iter().filter(|r| r.requested_changes()).map(|r| r.name.clone()).collect();
        Ok(Readiness {
            gaps,
            required: rule.required,
            approvals_needed: rule.approvals,
            approvals: i32::try_from(approvals).unwrap_or(i32::MAX),
            changes_requested_by,
        })
    }

    pub fn is_required(&self, gap: &Gap) -> bool {
        self.required.iter().any(|key| key == gap.key)
    }

    /// Why it cannot be published, in words; empty when it can.
    pub fn refusals(&self) -> Vec<String> {
        let mut refusals: Vec<String> =
            self.gaps.iter().filter(|gap| self.is_required(gap)).map(|gap| gap.text.clone()).collect();
        if self.approvals < self.approvals_needed {
            let needed = match self.approvals_needed {
                1 => "an approval".to_owned(),
                n => format!("{n} approvals"),
            };
            refusals.push(format!(
                "it needs {needed} from someone other than its author and has {}",
                self.approvals
            ));
        }
        for name in &self.changes_requested_by {
            refusals.push(format!("{name} asked for changes"));
        }
        refusals
    }
}

/// The review's say in status moves (see [`Workflow`]).
pub struct ReviewWorkflow;

impl ReviewWorkflow {
    pub fn new() -> Arc<ReviewWorkflow> {
        Arc::new(ReviewWorkflow)
    }
}

impl Workflow for ReviewWorkflow {
    fn refusals<'a>(
        &'a self,
        db: &'a mut PgConnection,
        document: &'a Document,
        incident: &'a Incident,
        to: Status,
    ) -> BoxFuture<'a, Result<Vec<String>>> {
        Box::pin(async move {
            if to != Status::Published {
                return Ok(Vec::new());
            }
            Ok(Readiness::of(db, document, incident).await?.refusals())
        })
    }

    fn moved<'a>(
        &'a self,
        db: &'a mut PgConnection,
        origin: &'a str,
        incident: &'a Incident,
        _from: Status,
        actor: Uuid,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let actor = actor_of(&mut *db, actor).await?;
            let reviewers: Vec<Uuid> =
                db::reviewers(&mut *db, incident.id).await?.iter().map(|r| r.user_id).collect();
            let (kind, recipients, text, anchor) = match incident.status {
                Status::InReview => (
                    Kind::ReviewRequested,
                    reviewers,
                    format!("{} sent {} for review: {}", actor.name, incident.reference, incident.title),
                    "review",
                ),
                Status::Published => {
                    let mut everyone = reviewers;
                    everyone.extend(incident.created_by);
                    let text = format!("{} published {}: {}", actor.name, incident.reference, incident.title);
                    (Kind::Published, everyone, text, "details")
                }
                Status::Draft => return Ok(()),
            };
            let path = format!("/incidents/{}#{anchor}", incident.reference);
            let event = Event { kind, incident, actor: Some(&actor), recipients, text, path };
            notify::emit(db, origin, &event).await
        })
    }
}

async fn actor_of(db: &mut PgConnection, id: Uuid) -> Result<Actor> {
    let name: Option<String> =
        sqlx::query_scalar("select name from app_user where id = $1").bind(id).fetch_optional(db).await?;
    Ok(Actor { id, name: name.unwrap_or_else(|| "Someone".into()) })
}

/// Asks `reviewer` to review `incident` for `by`, and tells them. Refused
/// for a disabled account or a viewer, who could not give a verdict.
pub async fn ask(state: &AppState, incident: &Incident, reviewer: Uuid, by: &User) -> Result<(User, bool)> {
    let mut tx = state.pool.begin().await?;
    let user = crate::auth::db::find_user(&mut *tx, reviewer)
        .await?
        .filter(|user| !user.disabled)
        .ok_or_else(|| AppError::Unprocessable("user_id: choose someone with an active account.".into()))?;
    if !user.role.at_least(Role::Editor) {
        return Err(AppError::Unprocessable(format!(
            "user_id: {} is a viewer and could not give a verdict; ask an editor or an admin.",
            user.name
        )));
    }
    let added = db::ask(&mut tx, incident.id, user.id, by.id).await?;
    if added {
        let text = format!("{} asked you to review {}: {}", by.name, incident.reference, incident.title);
        let event = Event {
            kind: Kind::ReviewRequested,
            incident,
            actor: Some(&Actor::from(by)),
            recipients: vec![user.id],
            text,
            path: format!("/incidents/{}#review", incident.reference),
        };
        notify::emit(&mut tx, &state.origin, &event).await?;
    }
    tx.commit().await?;
    state.webhooks.wake();
    Ok((user, added))
}

/// A verdict: `approve` or `request_changes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Approve,
    RequestChanges,
}

impl Verdict {
    pub fn parse(raw: &str) -> Result<Verdict> {
        match raw.trim() {
            "approve" => Ok(Verdict::Approve),
            "request_changes" => Ok(Verdict::RequestChanges),
            _ => Err(AppError::Unprocessable("verdict: approve or request_changes.".into())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Approve => "approve",
            Verdict::RequestChanges => "request_changes",
        }
    }
}

/// Records `reviewer`'s verdict on an incident in review, and tells its
/// author and whoever asked them. The author cannot approve their own
/// postmortem; asking for changes needs a note saying which.
pub async fn give_verdict(
    state: &AppState,
    incident: &Incident,
    reviewer: &User,
    verdict: Verdict,
    note: &str,
) -> Result<db::Review> {
    let note = note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(AppError::Unprocessable(format!("note: at most {MAX_NOTE_CHARS} characters.")));
    }
    if verdict == Verdict::RequestChanges && note.is_empty() {
        return Err(AppError::Unprocessable("note: say what should change.".into()));
    }
    if verdict == Verdict::Approve && incident.created_by == Some(reviewer.id) {
        return Err(AppError::Forbidden(
            "You opened this postmortem, so your approval would not count; ask someone else to review it."
                .into(),
        ));
    }
    let mut tx = state.pool.begin().await?;
    // The verdict is on the postmortem as it now stands.
    let current =
        crate::incidents::db::lock_incident(&mut *tx, incident.id).await?.ok_or(AppError::NotFound)?;
    if current.status != Status::InReview {
        return Err(AppError::Conflict(format!(
            "{} is {}, not in review: a verdict is given while it is in review.",
            current.reference,
            current.status.label()
        )));
    }
    let review = db::insert_review(&mut tx, current.id, reviewer.id, verdict.as_str(), note).await?;
    let asked_by: Vec<Uuid> = db::reviewers(&mut *tx, current.id)
        .await?
        .into_iter()
        .filter(|r| r.user_id == reviewer.id)
        .filter_map(|r: Reviewer| r.requested_by)
        .collect();
    let mut recipients = asked_by;
    recipients.extend(current.created_by);
    let (kind, did) = match verdict {
        Verdict::Approve => (Kind::Approved, "approved"),
        Verdict::RequestChanges => (Kind::ChangesRequested, "asked for changes to"),
    };
    let text = format!("{} {did} {}: {}", reviewer.name, current.reference, current.title);
    let path = format!("/incidents/{}#review", current.reference);
    let event =
        Event { kind, incident: &current, actor: Some(&Actor::from(reviewer)), recipients, text, path };
    notify::emit(&mut tx, &state.origin, &event).await?;
    tx.commit().await?;
    state.webhooks.wake();
    tracing::info!(incident = %current.reference, verdict = verdict.as_str(), "review given");
    Ok(review)
}
