//! Search over every part of every postmortem, in PostgreSQL: weighted
//! text search with web-search syntax (`"exact phrase"`, `-word`, `or`),
//! a typo-tolerant second try when the words as typed find nothing,
//! filters, and highlighted snippets whose user text stays escaped.

pub mod api;
pub mod db;
mod handlers;
pub mod query;
pub mod similar;
mod views;

use axum::{Router, middleware, routing::get};
use sqlx::PgPool;

use crate::{
    auth::domain::Role,
    error::Result,
    incidents::db::IncidentListing,
    state::AppState,
    web::{clock::Zone, require_role},
};
use db::{MARK_END, MARK_START};
pub use query::{Chip, Search, SearchParams, Sort};

/// Pages: the incident list, which searches. Readers only.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(handlers::list_incidents))
        .route("/incidents/{reference}/similar", get(handlers::similar_page))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role))
}

/// API routes, mounted under `/api/v1`: the list and the search.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/incidents", get(api::list_incidents))
        .route("/search", get(api::search))
        .route("/incidents/{id}/similar", get(api::similar))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role))
}

/// What a search found: one page of hits, and how many in all.
pub struct Results {
    pub hits: Vec<Hit>,
    pub total: i64,
    /// The query as corrected, when the words as typed found nothing and
    /// their nearest known words did.
    pub corrected: Option<String>,
}

pub struct Hit {
    pub incident: IncidentListing,
    pub score: f32,
    pub snippet: Snippet,
}

/// A passage of an incident's text, in pieces, each matched or not.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Snippet(pub Vec<Piece>);

#[derive(Debug, Clone, PartialEq)]
pub struct Piece {
    pub text: String,
    pub marked: bool,
}

impl Snippet {
    fn from_marked(marked: &str) -> Snippet {
        let mut pieces = Vec::new();
        let mut rest = marked;
        while let Some(start) = rest.find(MARK_START) {
            if start > 0 {
                pieces.push((rest[..start].to_owned(), false));
            }
            let after = &rest[start + MARK_START.len_utf8()..];
            let end = after.find(MARK_END).unwrap_or(after.len());
            pieces.push((after[..end].to_owned(), true));
            rest = after.get(end + MARK_END.len_utf8()..).unwrap_or("");
        }
        if !rest.is_empty() {
            pieces.push((rest.to_owned(), false));
        }
        // Lines are folded: a snippet reads as one passage.
        Snippet(
            pieces
                .into_iter()
                .map(|(text, marked)| Piece { text: fold_spaces(&text), marked })
                .filter(|piece| !piece.text.is_empty())
                .collect(),
        )
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// As HTML: the text escaped, each match in `<mark>`.
    pub fn html(&self) -> String {
        let mut html = String::new();
        for piece in &self.0 {
            let text = crate::web::markdown::escape_html(&piece.text);
            if piece.marked {
                html.push_str("<mark>");
                html.push_str(&text);
                html.push_str("</mark>");
            } else {
                html.push_str(&text);
            }
        }
        html
    }
}

/// Each run of white space as one space.
fn fold_spaces(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            space = true;
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    if space {
        out.push(' ');
    }
    out
}

/// At most this many words of a query are looked up for a correction.
const MAX_CORRECTED_WORDS: usize = 8;

/// Runs `search` with its date range read in `zone`.
pub async fn run(pool: &PgPool, search: &Search, zone: &Zone) -> Result<Results> {
    let (start, end) = (search.starts(zone), search.ends(zone));
    let (mut found, mut total) = db::find(pool, search, start, end).await?;
    let mut corrected = None;
    if total == 0 && !search.text.is_empty() {
        let fixed = correct(pool, &search.text).await?;
        if fixed != search.text {
            let retry = Search { text: fixed.clone(), ..search.clone() };
            (found, total) = db::find(pool, &retry, start, end).await?;
            if total > 0 {
                corrected = Some(fixed);
            }
        }
    }
    let text = corrected.as_deref().unwrap_or(&search.text);
    let mut snippets = if text.is_empty() || found.is_empty() {
        Vec::new()
    } else {
        let ids: Vec<uuid::Uuid> = found.iter().map(|f| f.listing.id).collect();
        db::snippets(pool, text, &ids).await?
    };
    let hits = found
        .into_iter()
        .map(|f| {
            let snippet = snippets
                .iter_mut()
                .find(|(id, _)| *id == f.listing.id)
                .map(|(_, marked)| Snippet::from_marked(marked))
                .unwrap_or_default();
            Hit { incident: f.listing, score: f.score, snippet }
        })
        .collect();
    Ok(Results { hits, total, corrected })
}

/// `text` with each word that no incident uses replaced by the nearest
/// word one does; phrases keep their quotes, excluded words and `or` are
/// left as they are.
async fn correct(pool: &PgPool, text: &str) -> Result<String> {
    let mut words = Vec::new();
    let mut looked_up = 0;
    for token in text.split_whitespace() {
        let core: &str = token.trim_matches(|c: char| !c.is_alphanumeric() && c != '_');
        let skip = token.starts_with('-')
            || core.eq_ignore_ascii_case("or")
            || core.chars().count() < 3
            || !core.chars().all(|c| c.is_alphanumeric() || c == '_')
            || looked_up >= MAX_CORRECTED_WORDS;
        if skip {
            words.push(token.to_owned());
            continue;
        }
        looked_up += 1;
        match db::nearest_word(pool, &core.to_lowercase()).await? {
            Some(near) => words.push(token.replacen(core, &near, 1)),
            None => words.push(token.to_owned()),
        }
    }
    Ok(words.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snippet_is_cut_at_its_marks_and_escaped_whole() {
        let marked = format!("a <script>\n{MARK_START}leak{MARK_END} & {MARK_START}pool{MARK_END}");
        let snippet = Snippet::from_marked(&marked);
        let pieces: Vec<(&str, bool)> = snippet.0.iter().map(|p| (p.text.as_str(), p.marked)).collect();
        assert_eq!(pieces, [("a <script> ", false), ("leak", true), (" & ", false), ("pool", true)]);
        assert_eq!(snippet.html(), "a &lt;script&gt; <mark>leak</mark> &amp; <mark>pool</mark>");
    }

    #[test]
    fn an_unclosed_mark_ends_with_the_text() {
        let snippet = Snippet::from_marked(&format!("x {MARK_START}y"));
        let pieces: Vec<(&str, bool)> = snippet.0.iter().map(|p| (p.text.as_str(), p.marked)).collect();
        assert_eq!(pieces, [("x ", false), ("y", true)]);
    }
}
