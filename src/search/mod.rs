//! Search over every part of every postmortem, in PostgreSQL: weighted
//! text search with web-search syntax (`"exact phrase"`, `-word`, `or`),
//! a typo-tolerant second try when the words as typed find nothing,
//! filters, and highlighted snippets whose user text stays escaped.

pub mod api;
pub mod db;
mod handlers;
pub mod query;
pub mod similar;
mod snippet;
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

/// What a search found: one page of hits, and how many up to its end.
pub struct Results {
    pub hits: Vec<Hit>,
    /// How many hits up to the end of this page: all there are, unless
    /// `more` says another page follows (hits are not counted past it).
    pub total: i64,
    pub more: bool,
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
pub async fn run(state: &AppState, search: &Search, zone: &Zone) -> Result<Results> {
    let pool = &state.pool;
    let (start, end) = (search.starts(zone), search.ends(zone));
    let mut page = db::find(pool, search, start, end).await?;
    let mut corrected = None;
    if page.total == 0 && !search.text.is_empty() {
        let fixed = correct(pool, &search.text).await?;
        if fixed != search.text {
            let retry = Search { text: fixed.clone(), ..search.clone() };
            page = db::find(pool, &retry, start, end).await?;
            if page.total > 0 {
                corrected = Some(fixed);
            }
        }
    }
    let db::Page { found, total, more } = page;
    let text = corrected.as_deref().unwrap_or(&search.text);
    let mut snippets = if text.is_empty() || found.is_empty() {
        Vec::new()
    } else {
        let ids: Vec<uuid::Uuid> = found.iter().map(|f| f.listing.id).collect();
        let (lexemes, texts) = db::snippet_texts(pool, text, &ids).await?;
        // Each text is read up to a bound, but a page holds up to a hundred.
        state
            .cpu
            .run(move || {
                texts.into_iter().map(|(id, text)| (id, snippet::cut(&text, &lexemes))).collect::<Vec<_>>()
            })
            .await?
    };
    let hits = found
        .into_iter()
        .map(|f| {
            let snippet = snippets
                .iter()
                .position(|(id, _)| *id == f.listing.id)
                .map(|at| snippets.swap_remove(at).1)
                .unwrap_or_default();
            Hit { incident: f.listing, score: f.score, snippet }
        })
        .collect();
    Ok(Results { hits, total, more, corrected })
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
