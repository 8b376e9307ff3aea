//! Comments on the parts of a postmortem (a section, a timeline event, a
//! cause, an action item): threaded, in Markdown, with `@mentions`,
//! resolvable. They are shown beside the document while it is read (the
//! document's margin), counted in its table of contents, and left out of
//! the report unless asked for.

pub mod api;
pub mod db;
pub mod handlers;
pub mod margin;

use axum::{Router, middleware, routing::post};
use sqlx::PgConnection;
use uuid::Uuid;

use self::db::{Comment, NewComment};
use crate::{
    auth::{db::User, domain::Role},
    error::{AppError, Result},
    incidents::{db::Incident, domain::Section},
    notify::{self, Actor, Event, Kind},
    state::AppState,
    web::{markdown, require_role},
};

/// A postmortem holds at most this many comments, so that its page stays
/// bounded.
pub const MAX_PER_INCIDENT: i64 = 2000;

/// A comment has at most this many characters.
pub const MAX_CHARS: usize = 10_000;

/// Pages: commenting needs an editor.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents/{reference}/comments", post(handlers::add))
        .route("/incidents/{reference}/comments/{id}/resolve", post(handlers::resolve))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role))
}

/// API routes, mounted under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    let read = Router::new()
        .route("/incidents/{id}/comments", axum::routing::get(api::list))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let write = Router::new()
        .route("/incidents/{id}/comments", post(api::create))
        .route("/comments/{id}", axum::routing::patch(api::update))
        .route_layer(middleware::from_fn_with_state(Role::Editor, require_role));
    read.merge(write)
}

/// The sections a comment may be on.
const SECTIONS: [Section; 7] = [
    Section::Milestones,
    Section::Summary,
    Section::Impact,
    Section::Trigger,
    Section::Detection,
    Section::Resolution,
    Section::Lessons,
];

/// The part of the page a comment's target is in: its anchor.
pub fn part_key(target_kind: &str, target_id: &str) -> Option<&'static str> {
    match target_kind {
        "section" => SECTIONS.into_iter().find(|section| section.name() == target_id).map(Section::name),
        "timeline_event" => Some("timeline"),
        "cause" => Some("causes"),
        "action_item" => Some("action-items"),
        _ => None,
    }
}

/// What a new comment says, as sent.
pub struct Draft<'a> {
    pub target_kind: &'a str,
    pub target_id: &'a str,
    pub parent_id: Option<Uuid>,
    pub body: &'a str,
}

/// Adds a comment to `incident` (a reply takes its thread's target), and
/// tells whoever it concerns: the people it mentions, then the postmortem's
/// author and the thread's earlier voices.
pub async fn add(state: &AppState, incident: &Incident, author: &User, draft: &Draft<'_>) -> Result<Comment> {
    let body = markdown::accept(draft.body.trim(), "comment").map_err(AppError::Unprocessable)?;
    if body.is_empty() {
        return Err(AppError::Unprocessable("body: write the comment.".into()));
    }
    if body.chars().count() > MAX_CHARS {
        return Err(AppError::Unprocessable(format!("body: a comment has at most {MAX_CHARS} characters.")));
    }
    let mut tx = state.pool.begin().await?;
    // One comment at a time per postmortem, so the bound holds.
    crate::incidents::db::lock_incident(&mut *tx, incident.id).await?.ok_or(AppError::NotFound)?;
    if db::count(&mut *tx, incident.id).await? >= MAX_PER_INCIDENT {
        return Err(AppError::Unprocessable(format!(
            "This postmortem has {MAX_PER_INCIDENT} comments, as many as it holds; resolve the discussion elsewhere."
        )));
    }
    let (target_kind, target_id, parent) = match draft.parent_id {
        Some(parent_id) => {
            let parent = db::find(&mut *tx, parent_id)
                .await?
                .filter(|parent| parent.incident_id == incident.id)
                .ok_or_else(|| {
                    AppError::Unprocessable("parent_id: no such comment on this postmortem.".into())
                })?;
            // Replies hang off the thread's first comment.
            let root = parent.parent_id.unwrap_or(parent.id);
            (parent.target_kind.clone(), parent.target_id.clone(), Some(root))
        }
        None => {
            check_target(&mut tx, incident.id, draft.target_kind, draft.target_id).await?;
            (draft.target_kind.to_owned(), draft.target_id.trim().to_owned(), None)
        }
    };
    let new = NewComment {
        incident_id: incident.id,
        target_kind: &target_kind,
        target_id: &target_id,
        parent_id: parent,
        author_id: author.id,
        body: &body,
    };
    let comment = db::insert(&mut tx, &new).await?;
    tell(&mut tx, state, incident, author, &comment).await?;
    tx.commit().await?;
    state.webhooks.wake();
    Ok(comment)
}

async fn check_target(tx: &mut PgConnection, incident_id: Uuid, kind: &str, id: &str) -> Result<()> {
    let known = match kind {
        "section" => part_key(kind, id.trim()).is_some(),
        "timeline_event" | "cause" | "action_item" => match id.trim().parse::<Uuid>() {
            Ok(id) => db::target_exists(&mut *tx, incident_id, kind, id).await?,
            Err(_) => false,
        },
        _ => {
            return Err(AppError::Unprocessable(
                "target_kind: section, timeline_event, cause or action_item.".into(),
            ));
        }
    };
    if !known {
        return Err(AppError::Unprocessable(format!(
            "target_id: no such {} on this postmortem.",
            kind.replace('_', " ")
        )));
    }
    Ok(())
}

/// Notifies the mentioned, then the author and the thread's voices.
async fn tell(
    tx: &mut PgConnection,
    state: &AppState,
    incident: &Incident,
    author: &User,
    comment: &Comment,
) -> Result<()> {
    let people = db::people(&mut *tx).await?;
    let mentioned = mentions(&comment.body, &people);
    let actor = Actor::from(author);
    let path = format!("/incidents/{}#comment-{}", incident.reference, comment.id);
    if !mentioned.is_empty() {
        let text = format!("{} mentioned you on {}: {}", author.name, incident.reference, incident.title);
        let event = Event {
            kind: Kind::Mention,
            incident,
            actor: Some(&actor),
            recipients: mentioned.clone(),
            text,
            path: path.clone(),
        };
        notify::emit(&mut *tx, &state.origin, &event).await?;
    }
    let root = comment.parent_id.unwrap_or(comment.id);
    let voices: Vec<Uuid> = sqlx::query_scalar(
        "select distinct author_id from comment where (id = $1 or parent_id = $1) and author_id is not null",
    )
    .bind(root)
    .fetch_all(&mut *tx)
    .await?;
    let mut recipients: Vec<Uuid> = incident.created_by.into_iter().chain(voices).collect();
    recipients.retain(|id| !mentioned.contains(id));
    let did = if comment.parent_id.is_some() { "replied" } else { "commented" };
    let text = format!("{} {did} on {}: {}", author.name, incident.reference, incident.title);
    let event = Event { kind: Kind::Comment, incident, actor: Some(&actor), recipients, text, path };
    notify::emit(&mut *tx, &state.origin, &event).await
}

/// Who `body` mentions: `@handle`, where a person's handles are their
/// email's local part, their name without spaces, and their first name
/// when nobody else has it. Case does not matter; code is not read.
pub fn mentions(body: &str, people: &[(Uuid, String, String)]) -> Vec<Uuid> {
    let prose = without_code(body);
    let mut found = Vec::new();
    let handles = prose.split('@').skip(1).filter_map(|after| {
        let handle: String =
            after.chars().take_while(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-')).collect();
        let handle = handle.trim_end_matches(['.', '-', '_']).to_lowercase();
        (!handle.is_empty()).then_some(handle)
    });
    let first = |name: &str| name.split_whitespace().next().unwrap_or_default().to_lowercase();
    for handle in handles {
        let by_handle = people.iter().find(|(_, name, email)| {
            let local = email.split('@').next().unwrap_or_default().to_lowercase();
            local == handle || name.split_whitespace().collect::<String>().to_lowercase() == handle
        });
        let by_first = || {
            let mut same = people.iter().filter(|(_, name, _)| first(name) == handle);
            match (same.next(), same.next()) {
                (Some(one), None) => Some(one),
                _ => None,
            }
        };
        if let Some((id, _, _)) = by_handle.or_else(by_first)
            && !found.contains(id)
        {
            found.push(*id);
        }
    }
    found
}

/// The text with code spans and fenced blocks blanked out.
fn without_code(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut fenced = false;
    for line in body.lines() {
        if line.trim_start().starts_with("```") || line.trim_start().starts_with("~~~") {
            fenced = !fenced;
            out.push('\n');
            continue;
        }
        if fenced {
            out.push('\n');
            continue;
        }
        let mut in_code = false;
        for c in line.chars() {
            if c == '`' {
                in_code = !in_code;
                out.push(' ');
            } else {
                out.push(if in_code { ' ' } else { c });
            }
        }
        out.push('\n');
    }
    out
}

/// Resolves or reopens the thread of `comment`.
pub async fn resolve(state: &AppState, comment: &Comment, resolved: bool, by: &User) -> Result<Comment> {
    let root = comment.parent_id.unwrap_or(comment.id);
    db::set_resolved(&state.pool, root, resolved, by.id).await?;
    db::find(&state.pool, root).await?.ok_or(AppError::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn people() -> Vec<(Uuid, String, String)> {
        vec![
            (Uuid::from_u128(1), "Ana Lima".into(), "ana.lima@example.com".into()),
            (Uuid::from_u128(2), "Bo Chen".into(), "bchen@example.com".into()),
            (Uuid::from_u128(3), "Bo Ek".into(), "bek@example.com".into()),
        ]
    }

    #[test]
    fn mentions_are_read_by_email_name_or_unique_first_name() {
        let found = mentions("@ana.lima and @BoChen, see this. Also @ana.", &people());
        assert_eq!(found, [Uuid::from_u128(1), Uuid::from_u128(2)]);
        // Two people are called Bo: a first name alone names neither.
        assert_eq!(mentions("@bo? @bek!", &people()), [Uuid::from_u128(3)]);
        assert!(mentions("thanks @nobody", &people()).is_empty());
    }

    #[test]
    fn code_is_not_read_for_mentions() {
        assert!(mentions("run `curl @bek` then\n```\n@ana.lima\n```", &people()).is_empty());
        assert_eq!(mentions("mail ana.lima@example.com", &people()), Vec::<Uuid>::new());
    }

    #[test]
    fn comments_belong_to_the_part_their_target_is_in() {
        assert_eq!(part_key("section", "trigger"), Some("trigger"));
        assert_eq!(part_key("section", "details"), None);
        assert_eq!(part_key("timeline_event", "x"), Some("timeline"));
        assert_eq!(part_key("action_item", "x"), Some("action-items"));
        assert_eq!(part_key("other", "x"), None);
    }
}
