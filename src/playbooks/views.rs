//! The playbook pages: the list, one playbook, its form, its history, and
//! a run of a standing checklist.

use askama::Template;
use time::OffsetDateTime;
use uuid::Uuid;

use super::{
    db::{Checklist, Item, Playbook, StepFigures, Use, Version},
    domain::{PlaybookInput, Step},
};
use crate::{
    auth::db::User,
    history::domain::Comparison,
    web::{FormErrors, PageCtx, markdown},
};

#[derive(Template)]
#[template(path = "playbooks/list.html")]
pub struct PlaybooksPage {
    pub ctx: PageCtx,
    /// Each playbook in use, and whether it is due for review.
    pub playbooks: Vec<(Playbook, bool)>,
    pub retired: Vec<Playbook>,
}

/// One step of the current version, with how often teams did it.
pub struct StepRow {
    pub step: Step,
    pub html: String,
    pub figures: StepFigures,
}

impl StepRow {
    /// A step applied at least twice and never done: one nobody does.
    pub fn never_done(&self) -> bool {
        self.figures.done == 0 && self.figures.not_applicable + self.figures.open >= 2
    }
}

#[derive(Template)]
#[template(path = "playbooks/show.html")]
pub struct PlaybookPage {
    pub ctx: PageCtx,
    pub playbook: Playbook,
    pub body_html: String,
    pub due: bool,
    pub review_days: u32,
    pub steps: Vec<StepRow>,
    pub uses: Vec<Use>,
    pub runs: Vec<Checklist>,
}

impl PlaybookPage {
    pub fn time(&self, at: &OffsetDateTime) -> String {
        self.ctx.zone.format(at)
    }

    pub fn run_progress(&self, run: &Checklist) -> String {
        let (done, not_applicable, _) = run.progress();
        format!("{done} of {} done, {not_applicable} not applicable", run.items.len())
    }
}

#[derive(Template)]
#[template(path = "playbooks/form.html")]
pub struct PlaybookFormPage {
    pub ctx: PageCtx,
    /// The playbook being edited; `None` for a new one.
    pub playbook: Option<Playbook>,
    pub version: i32,
    pub form: PlaybookInput,
    pub errors: FormErrors,
    pub owners: Vec<User>,
    pub categories: Vec<String>,
    pub suspect_keys: &'static [&'static str],
    /// On a conflict: the version saved since, to merge with.
    pub theirs: Option<Playbook>,
}

impl PlaybookFormPage {
    pub fn action(&self) -> String {
        match &self.playbook {
            Some(playbook) => format!("/playbooks/{}/edit", playbook.slug),
            None => "/playbooks/new".to_owned(),
        }
    }

    pub fn owner_selected(&self, id: &Uuid) -> bool {
        self.form.owner_id == id.to_string()
    }

    pub fn standing(&self) -> bool {
        matches!(self.form.standing.as_str(), "on" | "true")
    }
}

#[derive(Template)]
#[template(path = "playbooks/history.html")]
pub struct HistoryPage {
    pub ctx: PageCtx,
    pub playbook: Playbook,
    pub versions: Vec<Version>,
    /// The two versions compared, and how.
    pub compared: Option<(i32, i32, Comparison)>,
}

impl HistoryPage {
    pub fn time(&self, at: &OffsetDateTime) -> String {
        self.ctx.zone.format(at)
    }
}

/// A step of a run, as its page shows it.
pub struct RunStep {
    pub item: Item,
    pub html: String,
    pub by: String,
}

#[derive(Template)]
#[template(path = "playbooks/run.html")]
pub struct RunPage {
    pub ctx: PageCtx,
    pub run: Checklist,
    pub steps: Vec<RunStep>,
    pub problem: Option<String>,
}

impl RunPage {
    pub fn new(ctx: PageCtx, mut run: Checklist, problem: Option<String>) -> RunPage {
        let steps = std::mem::take(&mut run.items)
            .into_iter()
            .map(|item| RunStep {
                html: markdown::render_inline(&item.text),
                by: item.moved_by(&ctx.zone),
                item,
            })
            .collect();
        RunPage { ctx, run, steps, problem }
    }

    pub fn progress(&self) -> String {
        let count = |state: &str| self.steps.iter().filter(|s| s.item.state.as_str() == state).count();
        format!("{} of {} done, {} not applicable", count("done"), self.steps.len(), count("not_applicable"))
    }
}
