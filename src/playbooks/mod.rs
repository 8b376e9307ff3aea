//! Playbooks: what a team learned, written so the next team does not have
//! to learn it again. Versioned Markdown whose task-list items are steps;
//! applied to an incident, a version's steps become its checklist, ticked
//! step by step; a standing playbook is run on its own. Each playbook's
//! page shows which steps teams actually do.

pub mod api;
pub mod db;
pub mod domain;
pub mod handlers;
pub mod library;
pub mod part;
mod views;

use axum::{
    Router, middleware,
    routing::{get, patch, post},
};
use serde::Serialize;
use time::{Duration, OffsetDateTime};
use uuid::Uuid;

use self::{
    db::{Checklist, Item, Playbook},
    domain::{ItemState, PlaybookFields, slug_of},
};
use crate::{
    action_items::{
        self,
        db::ActionItem,
        domain::{ActionItemFields, ActionKind, ActionStatus, Priority},
    },
    auth::{db::User, domain::Role},
    error::{AppError, Result, WriteError},
    evidence::goroutines::key as suspect,
    incidents::revision::{self, Change},
    state::AppState,
    web::require_role,
};

/// Pages: everyone reads playbooks; editors write, apply and tick them;
/// admins retire them.
pub fn router() -> Router<AppState> {
    let readers = Router::new()
        .route("/playbooks", get(handlers::list_playbooks))
        .route("/playbooks/{slug}", get(handlers::show_playbook))
        .route("/playbooks/{slug}/history", get(handlers::show_history))
        .route("/checklists/{id}", get(handlers::show_run))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let editors = Router::new()
        .route("/playbooks/new", get(handlers::new_playbook_form).post(handlers::create_playbook))
        .route("/playbooks/{slug}/edit", get(handlers::edit_playbook_form).post(handlers::update_playbook))
        .route("/playbooks/{slug}/reviewed", post(handlers::mark_reviewed))
        .route("/playbooks/{slug}/runs", post(handlers::start_run))
        .route("/checklists/{id}/items/{item}", post(handlers::tick_run_item))
        .route("/incidents/{reference}/checklists", post(part::apply_playbook))
        .route("/incidents/{reference}/checklist_items/{id}", post(part::tick_item))
        .route("/incidents/{reference}/checklist_items/{id}/action_item", post(part::make_action_item))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    let admins = Router::new()
        .route("/playbooks/{slug}/retire", post(handlers::retire_playbook))
        .route_layer(middleware::from_fn_with_state(Role::Admin, require_role));
    readers.merge(editors).merge(admins)
}

/// API routes, mounted under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    let readers = Router::new()
        .route("/playbooks", get(api::list_playbooks))
        .route("/playbooks/{id}", get(api::show_playbook))
        .route("/incidents/{id}/playbooks", get(api::incident_playbooks))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let editors = Router::new()
        .route("/playbooks", post(api::create_playbook))
        .route("/playbooks/{id}", patch(api::update_playbook))
        .route("/playbooks/{id}/runs", post(api::start_run))
        .route("/incidents/{id}/playbooks", post(api::apply_playbook))
        .route("/checklist_items/{id}", patch(api::tick_item))
        .route("/checklist_items/{id}/action_item", post(api::make_action_item))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    readers.merge(editors)
}

/// The kinds of suspect a playbook may be linked to.
pub const SUSPECT_KEYS: [&str; 11] = [
    suspect::HTTP_CLIENT_PERSISTCONN,
    suspect::HTTP_HANDLER_STUCK,
    suspect::CHAN_SEND_NO_RECEIVER,
    suspect::CHAN_RECEIVE_NO_SENDER,
    suspect::NIL_CHANNEL_WAIT,
    suspect::SELECT_NEVER_READY,
    suspect::CONTEXT_NEVER_CANCELLED,
    suspect::MUTEX_PILEUP,
    suspect::WAITGROUP_PILEUP,
    suspect::LEAKED_GOROUTINE,
    suspect::TIMER_IN_LOOP,
];

/// How long a playbook goes unreviewed before it is due for review.
pub fn review_after(state: &AppState) -> Duration {
    Duration::days(i64::from(state.config.playbook_review_days))
}

/// Whether `playbook` is due for review: not reviewed for `after`.
pub fn due_for_review(playbook: &Playbook, after: Duration) -> bool {
    playbook.retired_at.is_none() && OffsetDateTime::now_utc() - playbook.reviewed_at > after
}

/// Creates a playbook, its slug made from its title unless given.
pub async fn create(
    state: &AppState,
    fields: &PlaybookFields,
    slug: Option<&str>,
    author: &User,
) -> Result<Playbook> {
    let slug = slug.map_or_else(|| slug_of(&fields.title), str::to_owned);
    let mut tx = state.pool.begin().await?;
    let playbook = db::insert(&mut tx, &slug, fields, Some(author.id)).await?;
    tx.commit().await?;
    Ok(playbook)
}

/// Saves `fields` on the playbook `id` if it is still at `version`: a new
/// version when what it says changed.
pub async fn edit(
    state: &AppState,
    id: Uuid,
    version: i32,
    fields: &PlaybookFields,
    author: &User,
) -> std::result::Result<Playbook, WriteError<Playbook>> {
    let mut tx = state.pool.begin().await?;
    let current = db::lock(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if current.version != version {
        return Err(WriteError::Stale(Box::new(current)));
    }
    let saved = db::save(&mut tx, &current, fields, author.id).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Applies the current version of `playbook` to the incident: its steps
/// become the incident's checklist.
pub async fn apply(
    state: &AppState,
    incident_id: Uuid,
    playbook: &Playbook,
    author: &User,
) -> Result<Checklist> {
    if playbook.retired_at.is_some() {
        return Err(AppError::Conflict(format!("\u{201c}{}\u{201d} is retired.", playbook.title)));
    }
    let mut tx = state.pool.begin().await?;
    let id = checklist_of(&mut tx, Some(incident_id), playbook, author).await?;
    let summary = format!("Applied the playbook \u{201c}{}\u{201d}", playbook.title);
    let change = Change {
        field: "checklists".into(),
        old: String::new(),
        new: format!("{} (version {}, {} steps)", playbook.title, playbook.version, playbook.steps.len()),
    };
    revision::record_part(&mut tx, &state.document, incident_id, author.id, &summary, &[change]).await?;
    let checklist = db::checklist(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    tx.commit().await?;
    Ok(checklist)
}

/// Starts a run of a standing playbook: its steps as a checklist of no
/// incident.
pub async fn start_run(state: &AppState, playbook: &Playbook, author: &User) -> Result<Uuid> {
    if !playbook.standing || playbook.retired_at.is_some() {
        return Err(AppError::Conflict(format!(
            "\u{201c}{}\u{201d} is not a standing checklist.",
            playbook.title
        )));
    }
    let mut tx = state.pool.begin().await?;
    let id = checklist_of(&mut tx, None, playbook, author).await?;
    tx.commit().await?;
    Ok(id)
}

/// The current version of `playbook` as a new checklist of `incident` (or
/// of none, a standing run).
async fn checklist_of(
    tx: &mut sqlx::PgConnection,
    incident: Option<Uuid>,
    playbook: &Playbook,
    author: &User,
) -> Result<Uuid> {
    let (slug, version, title) = (&playbook.slug, playbook.version, &playbook.title);
    db::insert_checklist(
        tx,
        incident,
        Some(playbook.id),
        slug,
        version,
        title,
        &playbook.steps,
        Some(author.id),
    )
    .await
}

/// Moves the step `id` (of `incident`'s checklists, when given; of a
/// standing run when `None`) to `to` with `note`, if it is still at
/// `version`: one answer per tick, and a tick based on an old state is
/// refused with the state as it now is.
pub async fn tick(
    state: &AppState,
    incident: Option<Uuid>,
    id: Uuid,
    version: i32,
    (to, note): (ItemState, String),
    author: &User,
) -> std::result::Result<Item, WriteError<Item>> {
    let mut tx = state.pool.begin().await?;
    let current = db::find_item(&mut tx, id, true).await?.ok_or(AppError::NotFound)?;
    if current.incident_id != incident {
        return Err(AppError::NotFound.into());
    }
    if current.version != version {
        return Err(WriteError::Stale(Box::new(current)));
    }
    let saved = db::tick(&mut tx, id, version, to, &note, author.id).await?.ok_or(AppError::NotFound)?;
    if let Some(incident_id) = incident {
        let summary = match to {
            ItemState::Done => "Ticked a checklist step",
            ItemState::NotApplicable => "Marked a checklist step not applicable",
            ItemState::Open => "Reopened a checklist step",
        };
        let change = Change { field: "checklists".into(), old: step_line(&current), new: step_line(&saved) };
        revision::record_part(&mut tx, &state.document, incident_id, author.id, summary, &[change]).await?;
    }
    tx.commit().await?;
    Ok(saved)
}

/// A step as the history shows it.
pub fn step_line(item: &Item) -> String {
    let state = match item.state {
        ItemState::Done => "[x]",
        ItemState::NotApplicable => "[n/a]",
        ItemState::Open => "[ ]",
    };
    let note = if item.note.is_empty() { String::new() } else { format!(" ({})", item.note) };
    format!("{state} {}{note}", item.text)
}

/// Makes the step `id` of `incident` an action item, linked back to it.
pub async fn make_action_item(
    state: &AppState,
    incident_id: Uuid,
    id: Uuid,
    author: &User,
) -> Result<ActionItem> {
    let mut tx = state.pool.begin().await?;
    let item = db::find_item(&mut tx, id, true).await?.ok_or(AppError::NotFound)?;
    if item.incident_id != Some(incident_id) {
        return Err(AppError::NotFound);
    }
    if item.action_item_id.is_some() {
        return Err(AppError::Conflict("This step is an action item already.".into()));
    }
    let fields = ActionItemFields {
        title: action_title(&item.text),
        kind: ActionKind::Prevent,
        owner_id: None,
        due_on: None,
        priority: Priority::P2,
        status: ActionStatus::Open,
        tracker_url: None,
    };
    let action = action_items::db::insert_item(&mut *tx, incident_id, &fields).await?;
    db::link_action_item(&mut *tx, id, action.id).await?;
    let change = crate::incidents::versioned::added(&action);
    revision::record_part(
        &mut tx,
        &state.document,
        incident_id,
        author.id,
        "Made a checklist step an action item",
        &[change],
    )
    .await?;
    tx.commit().await?;
    Ok(action)
}

/// A step's text as an action item's title: its words without Markdown's
/// marks, within the title's 200 characters.
fn action_title(step: &str) -> String {
    let plain: String = step.chars().filter(|c| !matches!(c, '`' | '*' | '_')).collect();
    let words = plain.split_whitespace().collect::<Vec<_>>().join(" ");
    if words.chars().count() <= 200 {
        return words;
    }
    let cut: String = words.chars().take(199).collect();
    format!("{}…", cut.trim_end())
}

/// A playbook suggested for an incident, with why.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[schema(as = PlaybookSuggestion)]
pub struct Suggestion {
    pub playbook_id: Uuid,
    pub slug: String,
    pub title: String,
    pub reasons: Vec<String>,
    #[serde(skip)]
    pub score: u32,
}

/// The playbooks linked to what the incident holds and not yet applied to
/// it, best first: a kind of suspect its evidence shows weighs more than a
/// cause category (and the suspect holding the most goroutines more than
/// the others), the playbook the analysis names first for a suspect more
/// than others, and a playbook's first category more than the rest.
pub async fn suggestions(
    state: &AppState,
    incident_id: Uuid,
    applied: &[Checklist],
) -> Result<Vec<Suggestion>> {
    let mut db = state.pool.acquire().await?;
    let (categories, suspects) = db::incident_links(&mut db, incident_id).await?;
    if categories.is_empty() && suspects.is_empty() {
        return Ok(Vec::new());
    }
    let keys: Vec<String> = suspects.iter().map(|(key, _, _, _)| key.clone()).collect();
    // The suspect holding the most goroutines is what the incident is about.
    let largest = suspects.iter().max_by_key(|(_, _, _, count)| *count).map(|(key, _, _, _)| key.clone());
    let linked = db::linked(&mut *db, &categories, &keys).await?;
    let mut found: Vec<Suggestion> = linked
        .into_iter()
        .filter(|playbook| !applied.iter().any(|list| list.playbook_id == Some(playbook.id)))
        .map(|playbook| {
            let (mut reasons, mut score) = (Vec::new(), 0);
            for (key, signature, first, _) in &suspects {
                if playbook.suspect_keys.contains(key) {
                    score += if largest.as_ref() == Some(key) { 4 } else { 3 };
                    if first.as_deref() == Some(playbook.slug.as_str()) {
                        // The analysis of the evidence names it as the one to follow.
                        score += 2;
                        reasons.push(format!("the evidence shows {signature}, which it answers first"));
                    } else {
                        reasons.push(format!("the evidence shows {signature}"));
                    }
                }
            }
            for category in &categories {
                if playbook.categories.contains(category) {
                    // A playbook's first category is the one it is mostly for.
                    score += if playbook.categories.first() == Some(category) { 3 } else { 2 };
                    reasons.push(format!("a cause is {category}"));
                }
            }
            Suggestion {
                playbook_id: playbook.id,
                slug: playbook.slug,
                title: playbook.title,
                reasons,
                score,
            }
        })
        .collect();
    found.sort_by(|a, b| {
        b.score.cmp(&a.score).then_with(|| a.title.to_lowercase().cmp(&b.title.to_lowercase()))
    });
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_becomes_a_title_without_markdown_marks() {
        assert_eq!(action_title("Set a **`Timeout`** on the _client_"), "Set a Timeout on the client");
        let long = "word ".repeat(100);
        let title = action_title(&long);
        assert!(title.chars().count() <= 200 && title.ends_with('…'), "{title}");
    }
}
