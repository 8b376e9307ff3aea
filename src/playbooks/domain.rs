//! Playbook values: the steps read from a body, slugs, what a form or the
//! API sends, and the state of a checklist's step.

use std::fmt;

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::web::FormErrors;

/// The most steps one playbook may have.
pub const MAX_STEPS: usize = 200;
/// The longest step, in characters.
pub const MAX_STEP_CHARS: usize = 500;
/// The longest title.
pub const MAX_TITLE_CHARS: usize = 200;

/// One step of a playbook: a task-list item of its body, as written (its
/// inline Markdown), and how deeply it is nested under other steps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Step {
    pub text: String,
    pub depth: u32,
}

/// The task-list items (`- [ ] ...`) of `body`, in order, each with the
/// depth of the task list it is in, counting only lists of steps.
pub fn steps(body: &str) -> Result<Vec<Step>, String> {
    let mut steps = Vec::new();
    let mut items: Vec<Item> = Vec::new();
    let parser = Parser::new_ext(body, Options::ENABLE_TASKLISTS).into_offset_iter();
    for (event, range) in parser {
        match event {
            Event::Start(Tag::Item) => items.push(Item { step: false, text: None }),
            Event::TaskListMarker(_) => {
                if let Some(item) = items.last_mut() {
                    item.step = true;
                    item.text = Some((range.end, range.end));
                }
            }
            // A nested list ends the text of the item it is in.
            Event::Start(Tag::List(_)) => finish(body, &mut items, &mut steps),
            Event::End(TagEnd::Item) => {
                finish(body, &mut items, &mut steps);
                items.pop();
            }
            _ => {
                if let Some(Item { text: Some((_, end)), .. }) = items.last_mut() {
                    *end = (*end).max(range.end);
                }
            }
        }
        if steps.len() > MAX_STEPS {
            return Err(format!("A playbook has at most {MAX_STEPS} steps."));
        }
    }
    if let Some(step) = steps.iter().find(|step| step.text.chars().count() > MAX_STEP_CHARS) {
        let start: String = step.text.chars().take(40).collect();
        return Err(format!(
            "Each step has at most {MAX_STEP_CHARS} characters (\u{201c}{start}…\u{201d} has more)."
        ));
    }
    Ok(steps)
}

/// A list item being read: whether it is a step, and while its text is
/// being read, where that text starts and ends in the body.
struct Item {
    step: bool,
    text: Option<(usize, usize)>,
}

/// Ends the text of the innermost open item, if it is a step still being
/// read, as a step as deep as the steps around it.
fn finish(body: &str, items: &mut [Item], steps: &mut Vec<Step>) {
    let depth = items.iter().rev().skip(1).filter(|item| item.step).count();
    let Some((start, end)) = items.last_mut().and_then(|item| item.text.take()) else { return };
    let text = body.get(start..end).unwrap_or_default().split_whitespace().collect::<Vec<_>>().join(" ");
    if !text.is_empty() {
        steps.push(Step { text, depth: u32::try_from(depth).unwrap_or(u32::MAX) });
    }
}

/// A slug made from a title: lower-case words joined by `-`.
pub fn slug_of(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.is_empty() && !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 72 {
            break;
        }
    }
    let slug = slug.trim_end_matches('-').to_owned();
    if slug.is_empty() { "playbook".to_owned() } else { slug }
}

/// Whether `slug` is one: lower-case letters and digits in words joined by `-`.
pub fn is_slug(slug: &str) -> bool {
    !slug.is_empty()
        && slug.len() <= 80
        && slug.split('-').all(|word| {
            !word.is_empty() && word.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// A playbook as a form or the API sends it. Lists are comma-separated.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct PlaybookInput {
    pub title: String,
    pub body: String,
    pub categories: String,
    pub suspect_keys: String,
    pub owner_id: String,
    pub standing: String,
}

/// A playbook's fields, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct PlaybookFields {
    pub title: String,
    pub body: String,
    pub steps: Vec<Step>,
    pub categories: Vec<String>,
    pub suspect_keys: Vec<String>,
    pub owner_id: Option<Uuid>,
    pub standing: bool,
}

impl PlaybookInput {
    /// Parses every field: `categories` is the taxonomy, `suspects` the
    /// known kinds of suspect, `users` who may own it.
    pub fn parse(
        &self,
        categories: &[String],
        suspects: &[&str],
        users: &[Uuid],
    ) -> Result<PlaybookFields, FormErrors> {
        let mut errors = FormErrors::default();
        let title = errors.check("title", parse_title(&self.title));
        let body = errors.check("body", crate::web::markdown::accept(&self.body, "body"));
        let steps = body.as_deref().and_then(|body| errors.check("body", steps(body)));
        let chosen = errors.check(
            "categories",
            pick("categories", &self.categories, |c| categories.contains(&c.to_owned())),
        );
        let keys =
            errors.check("suspect_keys", pick("suspect_keys", &self.suspect_keys, |k| suspects.contains(&k)));
        let owner = errors.check("owner_id", parse_owner(&self.owner_id, users));
        let standing = matches!(self.standing.trim(), "on" | "true" | "yes" | "1");
        match (title, body, steps, chosen, keys, owner) {
            (Some(title), Some(body), Some(steps), Some(categories), Some(suspect_keys), Some(owner_id)) => {
                Ok(PlaybookFields { title, body, steps, categories, suspect_keys, owner_id, standing })
            }
            _ => Err(errors),
        }
    }
}

fn parse_title(raw: &str) -> Result<String, String> {
    let title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        return Err("A playbook needs a title.".into());
    }
    if title.chars().count() > MAX_TITLE_CHARS || title.chars().any(char::is_control) {
        return Err(format!("A title has at most {MAX_TITLE_CHARS} printable characters."));
    }
    Ok(title)
}

/// The comma-separated values of `raw`, each one `known` allows.
fn pick(field: &str, raw: &str, known: impl Fn(&str) -> bool) -> Result<Vec<String>, String> {
    let mut picked: Vec<String> = Vec::new();
    for value in raw.split([',', '\n']).map(|v| v.trim().to_lowercase()).filter(|v| !v.is_empty()) {
        if !known(&value) {
            let what = if field == "categories" { "cause category" } else { "kind of suspect" };
            return Err(format!("\u{201c}{value}\u{201d} is not a known {what}."));
        }
        if !picked.contains(&value) {
            picked.push(value);
        }
    }
    Ok(picked)
}

fn parse_owner(raw: &str, users: &[Uuid]) -> Result<Option<Uuid>, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    match Uuid::parse_str(raw) {
        Ok(id) if users.contains(&id) => Ok(Some(id)),
        _ => Err("Choose the owner from the list.".into()),
    }
}

/// Where a step of a checklist stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, sqlx::Type, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[sqlx(type_name = "text", rename_all = "snake_case")]
pub enum ItemState {
    Open,
    Done,
    NotApplicable,
}

impl ItemState {
    pub fn as_str(self) -> &'static str {
        match self {
            ItemState::Open => "open",
            ItemState::Done => "done",
            ItemState::NotApplicable => "not_applicable",
        }
    }

    /// As a report writes it.
    pub fn label(self) -> &'static str {
        match self {
            ItemState::Open => "open",
            ItemState::Done => "done",
            ItemState::NotApplicable => "not applicable",
        }
    }

    pub fn parse(raw: &str) -> Result<ItemState, String> {
        match raw.trim().to_ascii_lowercase().replace(' ', "_").as_str() {
            "open" => Ok(ItemState::Open),
            "done" => Ok(ItemState::Done),
            "not_applicable" => Ok(ItemState::NotApplicable),
            _ => Err("A step is done, not_applicable or open.".into()),
        }
    }
}

impl fmt::Display for ItemState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step's new state, with its note: a reason is needed to call a step
/// not applicable.
pub fn parse_tick(state: &str, note: &str) -> Result<(ItemState, String), String> {
    let state = ItemState::parse(state)?;
    let note = note.trim().to_owned();
    if note.chars().count() > 1000 || note.contains('\0') {
        return Err("A note has at most 1,000 characters.".into());
    }
    if state == ItemState::NotApplicable && note.is_empty() {
        return Err("Say why this step does not apply.".into());
    }
    Ok((state, note))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn steps_are_the_task_list_items_with_their_depth() {
        let body = "Intro with - [ ] no step inline.\n\n## Steps\n\n- [ ] Set a `Timeout` on the client\n  \
                    - [x] Dial **timeout** too\n  - not a step\n- [ ] Close and\n  drain bodies\n\n\
                    1. [ ] numbered steps count\n\nA plain list:\n\n- nothing here\n";
        let found = steps(body).unwrap();
        let shown: Vec<(&str, u32)> = found.iter().map(|s| (s.text.as_str(), s.depth)).collect();
        assert_eq!(
            shown,
            [
                ("Set a `Timeout` on the client", 0),
                ("Dial **timeout** too", 1),
                ("Close and drain bodies", 0),
                ("numbered steps count", 0),
            ]
        );
    }

    #[test]
    fn too_many_or_too_long_steps_are_refused() {
        let many = "- [ ] step\n".repeat(MAX_STEPS + 1);
        assert!(steps(&many).unwrap_err().contains("at most 200 steps"));
        let long = format!("- [ ] {}\n", "x".repeat(MAX_STEP_CHARS + 1));
        assert!(steps(&long).unwrap_err().contains("at most 500 characters"));
    }

    #[test]
    fn slugs_are_made_from_titles() {
        assert_eq!(slug_of("HTTP client: hardening (v2)!"), "http-client-hardening-v2");
        assert_eq!(slug_of("  ¿¿  "), "playbook");
        assert!(is_slug("http-client-hardening") && !is_slug("Http") && !is_slug("a--b") && !is_slug("-a"));
    }

    #[test]
    fn a_form_is_checked_field_by_field() {
        let owner = Uuid::now_v7();
        let input = PlaybookInput {
            title: "  HTTP   client hardening ".into(),
            body: "- [ ] Set timeouts\n".into(),
            categories: "Missing Timeout, goroutine leak, missing timeout".into(),
            suspect_keys: "http-client-persistconn".into(),
            owner_id: owner.to_string(),
            standing: "on".into(),
        };
        let taxonomy = ["missing timeout".to_owned(), "goroutine leak".to_owned()];
        let fields = input.parse(&taxonomy, &["http-client-persistconn"], &[owner]).unwrap();
        assert_eq!(fields.title, "HTTP client hardening");
        assert_eq!(fields.categories, ["missing timeout", "goroutine leak"]);
        assert_eq!((fields.steps.len(), fields.owner_id, fields.standing), (1, Some(owner), true));
        let bad = PlaybookInput { categories: "gremlins".into(), owner_id: "nobody".into(), ..input };
        let errors = bad.parse(&taxonomy, &[], &[]).unwrap_err();
        assert!(errors.get("categories").is_some() && errors.get("owner_id").is_some());
        assert!(errors.get("suspect_keys").is_some());
    }

    #[test]
    fn a_step_not_applicable_needs_its_reason() {
        assert_eq!(parse_tick("done", " ").unwrap(), (ItemState::Done, String::new()));
        assert!(parse_tick("not_applicable", "").is_err());
        assert_eq!(parse_tick("not applicable", "no outbound calls").unwrap().0, ItemState::NotApplicable);
        assert!(parse_tick("maybe", "").is_err());
    }
}
