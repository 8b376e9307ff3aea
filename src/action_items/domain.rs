//! Action item values and the parsed form.

use std::fmt;

use serde::{Deserialize, Serialize};
use time::{Date, macros::format_description};
use uuid::Uuid;

use crate::{auth::db::User, web::FormErrors};

macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),+ $(,)? } , $error:literal) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        // Written out: the derive cannot read a rename given through the macro.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(raw: &str) -> Result<$name, String> {
                let raw = raw.trim();
                $name::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str().eq_ignore_ascii_case(raw))
                    .ok_or_else(|| $error.to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(
    /// What an action item is for.
    ActionKind { Prevent => "prevent", Detect => "detect", Mitigate => "mitigate", Process => "process" },
    "The kind is prevent, detect, mitigate or process."
);

text_enum!(
    /// How urgent it is.
    Priority { P1 => "P1", P2 => "P2", P3 => "P3" },
    "The priority is P1, P2 or P3."
);

text_enum!(
    /// Where it stands.
    ActionStatus { Open => "open", InProgress => "in_progress", Done => "done", WontDo => "wont_do" },
    "The status is open, in_progress, done or wont_do."
);

impl ActionStatus {
    pub fn label(self) -> &'static str {
        match self {
            ActionStatus::Open => "open",
            ActionStatus::InProgress => "in progress",
            ActionStatus::Done => "done",
            ActionStatus::WontDo => "won't do",
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, ActionStatus::Open | ActionStatus::InProgress)
    }
}

/// An action item as typed.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ActionItemInput {
    pub title: String,
    pub kind: String,
    /// A user id, or empty for nobody yet.
    pub owner_id: String,
    /// `2026-12-01`, or empty.
    pub due_on: String,
    pub priority: String,
    pub status: String,
    pub tracker_url: String,
}

#[derive(Debug, Clone)]
pub struct ActionItemFields {
    pub title: String,
    pub kind: ActionKind,
    pub owner_id: Option<Uuid>,
    pub due_on: Option<Date>,
    pub priority: Priority,
    pub status: ActionStatus,
    pub tracker_url: Option<String>,
}

impl ActionItemInput {
    /// Parses every field; owners must be among `users`.
    pub fn parse(&self, users: &[User]) -> Result<ActionItemFields, FormErrors> {
        let mut errors = FormErrors::default();
        let title = errors.check("title", parse_title(&self.title));
        let kind = errors.check("kind", ActionKind::parse(&self.kind));
        let owner_id = errors.check("owner_id", parse_owner(&self.owner_id, users));
        let due_on = errors.check("due_on", parse_due(&self.due_on));
        let priority = errors.check("priority", or_default(&self.priority, "P2", Priority::parse));
        let status = errors.check("status", or_default(&self.status, "open", ActionStatus::parse));
        let tracker_url = errors.check("tracker_url", parse_url(&self.tracker_url));
        match (title, kind, owner_id, due_on, priority, status, tracker_url) {
            (
                Some(title),
                Some(kind),
                Some(owner_id),
                Some(due_on),
                Some(priority),
                Some(status),
                Some(tracker_url),
            ) => Ok(ActionItemFields { title, kind, owner_id, due_on, priority, status, tracker_url }),
            _ => Err(errors),
        }
    }
}

fn or_default<T>(raw: &str, default: &str, parse: fn(&str) -> Result<T, String>) -> Result<T, String> {
    parse(if raw.trim().is_empty() { default } else { raw })
}

fn parse_title(raw: &str) -> Result<String, String> {
    let title = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    match title.chars().count() {
        0 => Err("Say what is to be done.".into()),
        1..=200 => Ok(title),
        _ => Err("A title has at most 200 characters.".into()),
    }
}

fn parse_owner(raw: &str, users: &[User]) -> Result<Option<Uuid>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let id: Uuid = raw.trim().parse().map_err(|_| "Choose an owner from the list.".to_owned())?;
    match users.iter().find(|user| user.id == id) {
        Some(user) if !user.disabled => Ok(Some(id)),
        Some(_) => Err("That person's account is disabled; choose another owner.".into()),
        None => Err("Choose an owner from the list.".into()),
    }
}

fn parse_due(raw: &str) -> Result<Option<Date>, String> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    Date::parse(raw.trim(), format_description!("[year]-[month]-[day]"))
        .map(Some)
        .map_err(|_| "Enter a date like 2026-12-01.".into())
}

fn parse_url(raw: &str) -> Result<Option<String>, String> {
    let url = raw.trim();
    if url.is_empty() {
        return Ok(None);
    }
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    match rest {
        Some(rest)
            if !rest.is_empty()
                && url.len() <= 2000
                && !url.chars().any(|c| c.is_whitespace() || c.is_control() || c == '"') =>
        {
            Ok(Some(url.to_owned()))
        }
        _ => Err("Enter the tracker's http(s) link, like https://tracker.example.com/SRE-42.".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_fill_priority_and_status() {
        let input = ActionItemInput {
            title: " Add client timeouts ".into(),
            kind: "prevent".into(),
            ..Default::default()
        };
        let fields = input.parse(&[]).unwrap();
        assert_eq!(fields.title, "Add client timeouts");
        assert_eq!((fields.priority, fields.status), (Priority::P2, ActionStatus::Open));
        assert_eq!((fields.owner_id, fields.due_on, fields.tracker_url), (None, None, None));
    }

    #[test]
    fn tracker_links_are_web_links_only() {
        assert!(parse_url("https://tracker.example.com/SRE-1").unwrap().is_some());
        for bad in ["javascript:alert(1)", "ftp://x", "https://", "https://a b"] {
            assert!(parse_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_bad_field_is_named() {
        let input = ActionItemInput {
            kind: "eventually".into(),
            owner_id: "nobody".into(),
            due_on: "tomorrow".into(),
            priority: "P0".into(),
            status: "maybe".into(),
            ..Default::default()
        };
        let errors = input.parse(&[]).unwrap_err();
        for field in ["title", "kind", "owner_id", "due_on", "priority", "status"] {
            assert!(errors.get(field).is_some(), "{field}");
        }
    }
}
