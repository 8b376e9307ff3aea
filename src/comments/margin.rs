//! The comments beside the page's parts: each part's threads (resolved
//! ones folded away), the form to start one and to reply, and their count
//! in the table of contents. In the report only when asked for.

use std::{collections::HashMap, fmt::Write};

use askama::Template;
use futures_util::future::BoxFuture;
use sqlx::PgConnection;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    SECTIONS,
    db::{self, Comment, Target},
    part_key,
};
use crate::{
    error::Result,
    incidents::{
        db::Incident,
        document::{Margin, MarginView, PartCtx},
        report::ExportOptions,
    },
    state::AppState,
    web::markdown,
};

pub struct Comments;

/// A thread as the margin shows it.
pub struct Thread {
    pub root: Comment,
    pub replies: Vec<Comment>,
    /// What it is on: "14:02 · Alerts fired for checkout 5xx".
    pub on: String,
}

impl Thread {
    pub fn size(&self) -> usize {
        self.replies.len() + 1
    }

    pub fn comments(&self) -> impl Iterator<Item = &Comment> {
        std::iter::once(&self.root).chain(self.replies.iter())
    }
}

pub struct CommentsView {
    ctx: PartCtx,
    /// The threads of each part, by its key.
    threads: HashMap<&'static str, Vec<Thread>>,
    /// What a new comment on each part may be on: (kind, id, label).
    targets: HashMap<&'static str, Vec<(String, String, String)>>,
}

#[derive(Template)]
#[template(path = "comments/margin.html")]
struct MarginHtml<'a> {
    ctx: &'a PartCtx,
    key: &'a str,
    threads: &'a [Thread],
    targets: &'a [(String, String, String)],
    bodies: HashMap<Uuid, String>,
}

impl MarginHtml<'_> {
    fn time(&self, at: &OffsetDateTime) -> String {
        self.ctx.zone.format(at)
    }

    fn body(&self, id: &Uuid) -> &str {
        self.bodies.get(id).map_or("", String::as_str)
    }

    fn open_count(&self) -> usize {
        self.threads.iter().filter(|thread| !thread.root.resolved).count()
    }
}

/// "14:02 · Alerts fired…" for a record a comment may be on.
fn label(ctx: &PartCtx, target: &Target) -> String {
    let text = crate::web::path::shorten(target.text.lines().next().unwrap_or_default());
    match &target.at {
        Some(at) => format!("{} · {text}", ctx.zone.format(at)),
        None => text,
    }
}

impl Margin for Comments {
    fn load<'a>(
        &'a self,
        state: &'a AppState,
        incident: &'a Incident,
        ctx: PartCtx,
    ) -> BoxFuture<'a, Result<Box<dyn MarginView>>> {
        Box::pin(async move {
            let mut db = state.pool.acquire().await?;
            let comments = db::list(&mut *db, incident.id).await?;
            let targets = db::targets(&mut *db, incident.id).await?;
            drop(db);
            let labels: HashMap<String, String> =
                targets.iter().map(|target| (target.id.to_string(), label(&ctx, target))).collect();
            let mut threads: HashMap<&'static str, Vec<Thread>> = HashMap::new();
            let mut replies: HashMap<Uuid, Vec<Comment>> = HashMap::new();
            for comment in comments.iter().filter(|comment| comment.parent_id.is_some()) {
                replies.entry(comment.parent_id.unwrap_or_default()).or_default().push(comment.clone());
            }
            for root in comments.into_iter().filter(|comment| comment.parent_id.is_none()) {
                let Some(key) = part_key(&root.target_kind, &root.target_id) else { continue };
                let on = if root.target_kind == "section" {
                    String::new()
                } else {
                    labels.get(&root.target_id).cloned().unwrap_or_else(|| "something since deleted".into())
                };
                let replies = replies.remove(&root.id).unwrap_or_default();
                threads.entry(key).or_default().push(Thread { root, replies, on });
            }
            let mut pickers: HashMap<&'static str, Vec<(String, String, String)>> = HashMap::new();
            if ctx.editor {
                for section in SECTIONS {
                    let own = ("section".to_owned(), section.name().to_owned(), section.title().to_owned());
                    pickers.entry(section.name()).or_default().push(own);
                }
                for target in &targets {
                    let Some(key) = part_key(&target.kind, "") else { continue };
                    let choice = (target.kind.clone(), target.id.to_string(), label(&ctx, target));
                    pickers.entry(key).or_default().push(choice);
                }
            }
            Ok(Box::new(CommentsView { ctx, threads, targets: pickers }) as Box<dyn MarginView>)
        })
    }

    fn export<'a>(
        &'a self,
        db: &'a mut PgConnection,
        incident: &'a Incident,
        options: &'a ExportOptions,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let comments = db::list(&mut *db, incident.id).await?;
            if comments.is_empty() {
                return Ok(String::new());
            }
            let mut out = String::from("## Comments\n\n");
            for root in comments.iter().filter(|comment| comment.parent_id.is_none()) {
                let on = part_key(&root.target_kind, &root.target_id).unwrap_or("the postmortem");
                let state = if root.resolved { " (resolved)" } else { "" };
                let _ = writeln!(out, "### On {on}{state}\n");
                for comment in comments.iter().filter(|c| c.id == root.id || c.parent_id == Some(root.id)) {
                    let who = options.person(comment.author_name.as_deref(), None);
                    let at = crate::web::clock::moment_text(&Some(comment.created_at));
                    let _ = writeln!(out, "- **{who}**, {at}:");
                    for line in comment.body.lines() {
                        let _ = writeln!(out, "  > {line}");
                    }
                }
                out.push('\n');
            }
            Ok(out)
        })
    }
}

impl MarginView for CommentsView {
    fn count(&self, key: &str) -> String {
        let open: usize = self
            .threads
            .get(key)
            .map(|threads| threads.iter().filter(|thread| !thread.root.resolved).map(Thread::size).sum())
            .unwrap_or(0);
        match open {
            0 => String::new(),
            1 => "1 comment".to_owned(),
            n => format!("{n} comments"),
        }
    }

    fn render(&self, key: &str) -> Result<String> {
        let threads = self.threads.get(key).map(Vec::as_slice).unwrap_or_default();
        let targets = self.targets.get(key).map(Vec::as_slice).unwrap_or_default();
        if threads.is_empty() && targets.is_empty() {
            return Ok(String::new());
        }
        let bodies = threads
            .iter()
            .flat_map(Thread::comments)
            .map(|comment| (comment.id, markdown::render(&comment.body)))
            .collect();
        Ok(MarginHtml { ctx: &self.ctx, key, threads, targets, bodies }.render()?)
    }
}
