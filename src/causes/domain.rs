//! Cause values: their kind, and the parsed form.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::web::FormErrors;

/// How a cause contributed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CauseKind {
    Root,
    Trigger,
    Contributing,
}

impl CauseKind {
    pub const ALL: [CauseKind; 3] = [CauseKind::Root, CauseKind::Trigger, CauseKind::Contributing];

    pub fn as_str(self) -> &'static str {
        match self {
            CauseKind::Root => "root",
            CauseKind::Trigger => "trigger",
            CauseKind::Contributing => "contributing",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CauseKind::Root => "Root cause",
            CauseKind::Trigger => "Trigger",
            CauseKind::Contributing => "Contributing factor",
        }
    }

    pub fn parse(raw: &str) -> Result<CauseKind, String> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "root" => Ok(CauseKind::Root),
            "trigger" => Ok(CauseKind::Trigger),
            "contributing" => Ok(CauseKind::Contributing),
            _ => Err("A cause is root, trigger or contributing.".into()),
        }
    }
}

impl fmt::Display for CauseKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A cause as typed: the "why" chain one answer per line.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct CauseInput {
    pub kind: String,
    pub category: String,
    pub description: String,
    pub whys: String,
}

#[derive(Debug, Clone)]
pub struct CauseFields {
    pub kind: CauseKind,
    pub category: String,
    pub description: String,
    pub whys: Vec<String>,
}

impl CauseInput {
    /// Parses every field; `categories` is the shared taxonomy.
    pub fn parse(&self, categories: &[String]) -> Result<CauseFields, FormErrors> {
        let mut errors = FormErrors::default();
        let kind = errors.check("kind", CauseKind::parse(&self.kind));
        let category = errors.check("category", parse_category(&self.category, categories));
        let description =
            errors.check("description", crate::web::markdown::accept(&self.description, "description"));
        let whys = errors.check("whys", parse_whys(&self.whys));
        match (kind, category, description, whys) {
            (Some(kind), Some(category), Some(description), Some(whys)) => {
                Ok(CauseFields { kind, category, description, whys })
            }
            _ => Err(errors),
        }
    }
}

fn parse_category(raw: &str, categories: &[String]) -> Result<String, String> {
    let name = raw.trim().to_lowercase();
    if categories.contains(&name) {
        Ok(name)
    } else {
        Err("Choose a category from the list (an admin can add new ones).".into())
    }
}

/// One "why" per non-blank line, in order.
pub fn parse_whys(raw: &str) -> Result<Vec<String>, String> {
    let whys: Vec<String> =
        raw.lines().map(str::trim).filter(|line| !line.is_empty()).map(str::to_owned).collect();
    if whys.len() > 20 {
        return Err("At most 20 whys.".into());
    }
    if whys.iter().any(|why| why.chars().count() > 1000) {
        return Err("Each why has at most 1,000 characters.".into());
    }
    Ok(whys)
}

/// A new taxonomy category: lower-case, 1 to 60 characters.
pub fn parse_category_name(raw: &str) -> Result<String, String> {
    let name = raw.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    if name.is_empty() || name.chars().count() > 60 || name.chars().any(char::is_control) {
        return Err("A category name has 1 to 60 printable characters.".into());
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whys_are_one_per_line_in_order() {
        assert_eq!(parse_whys(" first \n\n second\r\nthird").unwrap(), ["first", "second", "third"]);
    }

    #[test]
    fn categories_come_from_the_taxonomy() {
        let taxonomy = vec!["goroutine leak".to_owned(), "missing timeout".to_owned()];
        let input =
            CauseInput { kind: "root".into(), category: "Goroutine Leak".into(), ..Default::default() };
        assert_eq!(input.parse(&taxonomy).unwrap().category, "goroutine leak");
        let unknown = CauseInput { kind: "root".into(), category: "gremlins".into(), ..Default::default() };
        assert!(unknown.parse(&taxonomy).unwrap_err().get("category").is_some());
        assert_eq!(parse_category_name("  Cache   Stampede ").unwrap(), "cache stampede");
    }
}
