//! The review's part of the incident page, under its head: where the
//! postmortem stands, who is asked to review it and what they said, what
//! publishing still needs, and (for editors) the workflow's buttons, the
//! request of a reviewer and the verdict's form.

use askama::Template;
use futures_util::future::BoxFuture;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{Readiness, db::Reviewer};
use crate::{
    error::Result,
    incidents::{
        db::Incident,
        document::{Part, PartCtx, PartView, TocEntry},
        domain::Status,
    },
    state::AppState,
};

pub const KEY: &str = "review";

pub struct Review;

pub struct ReviewView {
    ctx: PartCtx,
    incident: Incident,
    reviewers: Vec<Reviewer>,
    readiness: Readiness,
    /// Editors who may still be asked: id and name.
    candidates: Vec<(Uuid, String)>,
}

#[derive(Template)]
#[template(path = "review/part.html")]
struct ReviewHtml<'a> {
    ctx: &'a PartCtx,
    incident: &'a Incident,
    reviewers: &'a [Reviewer],
    refusals: Vec<String>,
    candidates: &'a [(Uuid, String)],
    /// The reader gives verdicts here: an editor, not its author.
    may_review: bool,
    /// The reader is its author.
    is_author: bool,
}

impl ReviewHtml<'_> {
    fn time(&self, at: &OffsetDateTime) -> String {
        self.ctx.zone.format(at)
    }

    fn is_draft(&self) -> bool {
        self.incident.status == Status::Draft
    }

    fn in_review(&self) -> bool {
        self.incident.status == Status::InReview
    }

    fn is_published(&self) -> bool {
        self.incident.status == Status::Published
    }

    fn is_reader(&self, reviewer: &Reviewer) -> bool {
        self.ctx.reader == Some(reviewer.user_id)
    }
}

impl Part for Review {
    fn key(&self) -> &'static str {
        KEY
    }

    fn load<'a>(
        &'a self,
        state: &'a AppState,
        incident: &'a Incident,
        ctx: PartCtx,
    ) -> BoxFuture<'a, Result<Box<dyn PartView>>> {
        Box::pin(async move {
            let mut db = state.pool.acquire().await?;
            let reviewers = super::db::reviewers(&mut *db, incident.id).await?;
            let readiness = Readiness::of(&mut db, &state.document, incident).await?;
            let candidates = if ctx.editor && incident.status != Status::Published {
                candidates(&mut db, incident, &reviewers).await?
            } else {
                Vec::new()
            };
            let view = ReviewView { ctx, incident: incident.clone(), reviewers, readiness, candidates };
            Ok(Box::new(view) as Box<dyn PartView>)
        })
    }
}

/// Active editors and admins not yet asked, the author last.
async fn candidates(
    db: &mut sqlx::PgConnection,
    incident: &Incident,
    reviewers: &[Reviewer],
) -> Result<Vec<(Uuid, String)>> {
    let asked: Vec<Uuid> = reviewers.iter().map(|r| r.user_id).collect();
    Ok(sqlx::query_as(
        "select id, name from app_user where not disabled and role in ('editor', 'admin') \
         and id <> all($1) order by id = $2, lower(name) limit 500",
    )
    .bind(&asked)
    .bind(incident.created_by)
    .fetch_all(db)
    .await?)
}

impl PartView for ReviewView {
    fn key(&self) -> &'static str {
        KEY
    }

    fn toc(&self) -> Option<TocEntry> {
        let count = match self.incident.status {
            Status::Draft => "draft".to_owned(),
            Status::Published => "published".to_owned(),
            Status::InReview if !self.readiness.changes_requested_by.is_empty() => "changes asked".to_owned(),
            Status::InReview => {
                format!("{} of {} approvals", self.readiness.approvals, self.readiness.approvals_needed)
            }
        };
        Some(TocEntry { anchor: KEY, title: "Review", count })
    }

    fn render(&self) -> Result<String> {
        let is_author = self.ctx.reader.is_some() && self.ctx.reader == self.incident.created_by;
        let html = ReviewHtml {
            ctx: &self.ctx,
            incident: &self.incident,
            reviewers: &self.reviewers,
            refusals: self.readiness.refusals(),
            candidates: &self.candidates,
            may_review: self.ctx.editor && !is_author,
            is_author,
        };
        Ok(html.render()?)
    }
}
