//! The checklists' part of the incident page: each applied playbook's
//! steps with where they stand, ticked one by one, and the form to apply
//! another, the playbooks linked to what the incident holds first. In the
//! report, each checklist is a table of its steps.

use askama::Template;
use axum::{
    extract::{Extension, State},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;
use sqlx::PgConnection;
use time::{OffsetDateTime, format_description::well_known::Rfc3339};
use uuid::Uuid;

use super::{
    Suggestion,
    db::{self, Checklist, Item},
    domain::{ItemState, parse_tick},
};
use crate::{
    error::{AppError, Result, WriteError},
    incidents::{
        db::Incident,
        document::{self, PartCtx, PartRequest, PartView, Records, TocEntry},
        path::IncidentPath,
        report::{ExportOptions, Report, ReportError, table},
    },
    state::AppState,
    web::{CurrentUser, Flash, Form, clock::moment_text, form::parse_version, markdown, path::RecordId},
};

pub const KEY: &str = "checklists";

pub struct Checklists;

/// The checklists as one reader sees them, with what may be applied.
pub struct ChecklistsView {
    pub ctx: PartCtx,
    pub lists: Vec<Checklist>,
    pub suggestions: Vec<Suggestion>,
    /// Every other playbook in use, for the picker: slug, id, title.
    pub others: Vec<(Uuid, String)>,
    /// Why the last change was refused.
    pub problem: Option<String>,
}

impl ChecklistsView {
    pub async fn load(state: &AppState, incident: &Incident, ctx: PartCtx) -> Result<ChecklistsView> {
        let mut db = state.pool.acquire().await?;
        let lists = db::checklists(&mut db, incident.id).await?;
        drop(db);
        let (suggestions, others) = if ctx.editing {
            let suggestions = super::suggestions(state, incident.id, &lists).await?;
            let others = db::list(&state.pool, false)
                .await?
                .into_iter()
                .filter(|playbook| !lists.iter().any(|list| list.playbook_id == Some(playbook.id)))
                .filter(|playbook| !suggestions.iter().any(|s| s.playbook_id == playbook.id))
                .map(|playbook| (playbook.id, playbook.title))
                .collect();
            (suggestions, others)
        } else {
            (Vec::new(), Vec::new())
        };
        Ok(ChecklistsView { ctx, lists, suggestions, others, problem: None })
    }
}

/// A step as the page shows it.
struct StepLine<'a> {
    item: &'a Item,
    html: String,
    by: String,
}

struct ListCard<'a> {
    list: &'a Checklist,
    steps: Vec<StepLine<'a>>,
    done: usize,
    not_applicable: usize,
    total: usize,
}

#[derive(Template)]
#[template(path = "playbooks/section.html")]
struct ChecklistsHtml<'a> {
    ctx: &'a PartCtx,
    lists: Vec<ListCard<'a>>,
    suggestions: &'a [Suggestion],
    others: &'a [(Uuid, String)],
    problem: Option<&'a str>,
}

impl PartView for ChecklistsView {
    fn key(&self) -> &'static str {
        KEY
    }

    fn toc(&self) -> Option<TocEntry> {
        let open: usize = self.lists.iter().map(|list| list.progress().2).sum();
        let count = match (self.lists.len(), open) {
            (0, _) => String::new(),
            (_, 0) => "all done".to_owned(),
            (_, 1) => "1 step open".to_owned(),
            (_, n) => format!("{n} steps open"),
        };
        Some(TocEntry { anchor: KEY, title: "Checklists", count })
    }

    fn render(&self) -> Result<String> {
        let lists = self
            .lists
            .iter()
            .map(|list| {
                let (done, not_applicable, open) = list.progress();
                let steps = list
                    .items
                    .iter()
                    .map(|item| StepLine {
                        item,
                        html: markdown::render_inline(&item.text),
                        by: item.moved_by(&self.ctx.zone),
                    })
                    .collect();
                ListCard { list, steps, done, not_applicable, total: done + not_applicable + open }
            })
            .collect();
        let html = ChecklistsHtml {
            ctx: &self.ctx,
            lists,
            suggestions: &self.suggestions,
            others: &self.others,
            problem: self.problem.as_deref(),
        };
        Ok(html.render()?)
    }
}

/// The numbers of a checklist's steps as a report shows them: `1`, `2`,
/// `2.1` for the first step under the second.
fn numbers(items: &[Item]) -> Vec<String> {
    let mut counters: Vec<u32> = Vec::new();
    items
        .iter()
        .map(|item| {
            let depth = usize::try_from(item.depth).unwrap_or(0).min(counters.len());
            counters.truncate(depth + 1);
            if counters.len() == depth + 1 {
                counters[depth] += 1;
            } else {
                counters.push(1);
            }
            counters.iter().map(u32::to_string).collect::<Vec<_>>().join(".")
        })
        .collect()
}

const HEADERS: [&str; 6] = ["#", "Step", "State", "By", "When", "Note"];

impl Records for Checklists {
    const KEY: &'static str = KEY;
    const TITLE: &'static str = "Checklists";
    const JSON_NAME: &'static str = "checklists";

    type Record = Checklist;

    async fn list(db: &mut PgConnection, incident_id: Uuid) -> Result<Vec<Checklist>> {
        db::checklists(db, incident_id).await
    }

    fn history_text(record: &Checklist) -> String {
        let (done, not_applicable, _) = record.progress();
        let steps: Vec<String> = record.items.iter().map(super::step_line).collect();
        format!(
            "{} (version {}): {done} of {} done, {not_applicable} not applicable\n  {}",
            record.title,
            record.playbook_version,
            record.items.len(),
            steps.join("\n  ")
        )
    }

    /// Each checklist under its title: the playbook and version it came
    /// from, then a table of its steps, numbered by where they nest.
    fn report(_incident: &Incident, records: &[Checklist], options: &ExportOptions) -> String {
        let mut out = String::from("## Checklists\n\n");
        if records.is_empty() {
            out.push_str("_No playbook applied._\n");
            return out;
        }
        for (index, list) in records.iter().enumerate() {
            if index > 0 {
                out.push('\n');
            }
            let (done, not_applicable, _) = list.progress();
            out.push_str(&format!("### {}\n\n", list.title.replace('\n', " ")));
            out.push_str(&format!(
                "Playbook `{}`, version {}: {done} of {} steps done, {not_applicable} not applicable.\n\n",
                list.playbook_slug,
                list.playbook_version,
                list.items.len()
            ));
            let rows = numbers(&list.items).into_iter().zip(&list.items).map(|(number, item)| {
                let by = match (&item.changed_by_name, item.state) {
                    (_, ItemState::Open) if item.changed_at.is_none() => String::new(),
                    (name, _) => options.person(name.as_deref(), item.changed_by_role.as_deref()),
                };
                vec![
                    number,
                    item.text.clone(),
                    item.state.label().to_owned(),
                    by,
                    moment_text(&item.changed_at),
                    item.note.clone(),
                ]
            });
            out.push_str(&table(&HEADERS, rows));
        }
        out
    }

    /// Each `### title` with its `Playbook` line and table becomes a
    /// checklist again, linked to the playbook when this Debrief has it;
    /// who moved a step is found again by name.
    async fn import(
        db: &mut PgConnection,
        incident: Option<&Incident>,
        report: &Report,
        _author: Uuid,
    ) -> Result<()> {
        let lists = report.subsections("Checklists");
        if lists.len() > 50 {
            return Err(ReportError::new(lists[50].0, "a report has at most 50 checklists").into());
        }
        let users = crate::auth::db::list_users(&mut *db).await?;
        for (line, title, lines) in &lists {
            let origin = lines.iter().find_map(|(number, text)| {
                let rest = text.strip_prefix("Playbook `")?;
                let (slug, rest) = rest.split_once("`, version ")?;
                let version = rest.split(':').next()?.trim().parse::<i32>().ok()?;
                Some((*number, slug.to_owned(), version))
            });
            let Some((_, slug, version)) = origin else {
                return Err(ReportError::new(
                    *line,
                    format!("the checklist \u{201c}{title}\u{201d} has no `Playbook` line"),
                )
                .into());
            };
            let rows = Report::rows(lines, &HEADERS, &format!("### {title}"))?;
            let mut steps = Vec::new();
            let mut states = Vec::new();
            for (number, cells) in &rows {
                let depth = cells[0].matches('.').count();
                let text = cells[1].replace('\n', " ");
                if text.trim().is_empty() {
                    return Err(ReportError::new(*number, "a checklist step has no text").into());
                }
                let state = ItemState::parse(&cells[2]).map_err(|err| ReportError::new(*number, err))?;
                let at = match cells[4].trim() {
                    "" => None,
                    raw => Some(
                        OffsetDateTime::parse(raw, &Rfc3339)
                            .map_err(|_| ReportError::new(*number, format!("`{raw}` is not a moment")))?,
                    ),
                };
                if state == ItemState::NotApplicable && cells[5].trim().is_empty() {
                    return Err(ReportError::new(*number, "a step not applicable needs its reason").into());
                }
                let by = users.iter().find(|user| user.name == cells[3]).map(|user| user.id);
                steps.push(super::domain::Step { text, depth: u32::try_from(depth).unwrap_or(0) });
                states.push((state, cells[5].clone(), by, at));
            }
            let Some(incident) = incident else { continue };
            let playbook = db::slug_version(&mut *db, &slug, version).await?.map(|(id, _)| id);
            let id = db::insert_checklist(
                &mut *db,
                Some(incident.id),
                playbook,
                &slug,
                version,
                title,
                &steps,
                None,
            )
            .await
            .map_err(|_| {
                ReportError::new(*line, format!("the checklist \u{201c}{title}\u{201d} comes twice"))
            })?;
            for (position, (state, note, by, at)) in states.into_iter().enumerate() {
                let position = i32::try_from(position + 1).unwrap_or(i32::MAX);
                db::restore_item(&mut *db, id, position, state, &note, by, at).await?;
            }
        }
        Ok(())
    }

    async fn view(state: &AppState, incident: &Incident, ctx: PartCtx) -> Result<Box<dyn PartView>> {
        Ok(Box::new(ChecklistsView::load(state, incident, ctx).await?))
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ApplyForm {
    playbook_id: String,
}

/// `POST /incidents/{reference}/checklists`: applies a playbook.
#[tracing::instrument(skip_all)]
pub async fn apply_playbook(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    request: PartRequest,
    Form(form): Form<ApplyForm>,
) -> Result<Response> {
    let found = db::find(&state.pool, form.playbook_id.trim()).await?;
    let outcome = match found {
        None => Err(AppError::Unprocessable("Choose a playbook from the list.".into())),
        Some(playbook) => super::apply(&state, incident.id, &playbook, &user.0).await.map(|_| playbook.title),
    };
    match outcome {
        Ok(title) => {
            let flash = Flash::success(format!(
                "Applied \u{201c}{title}\u{201d}: its steps are this incident's checklist."
            ));
            document::saved(&state, request, &incident, KEY, flash).await
        }
        Err(AppError::Unprocessable(problem)) => {
            refuse(&state, request, incident, problem, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(AppError::Conflict(problem)) => {
            refuse(&state, request, incident, problem, StatusCode::CONFLICT).await
        }
        Err(err) => Err(err),
    }
}

async fn refuse(
    state: &AppState,
    request: PartRequest,
    incident: Incident,
    problem: String,
    status: StatusCode,
) -> Result<Response> {
    let mut view = ChecklistsView::load(state, &incident, request.part_ctx(&incident, KEY)).await?;
    view.problem = Some(problem);
    document::refused(state, request, incident, Box::new(view), status).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TickForm {
    pub state: String,
    pub note: String,
    pub version: String,
}

/// `POST /incidents/{reference}/checklist_items/{id}`: ticks a step, calls
/// it not applicable (with the reason) or opens it again.
#[tracing::instrument(skip_all)]
pub async fn tick_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    request: PartRequest,
    Form(form): Form<TickForm>,
) -> Result<Response> {
    let version = parse_version(&form.version)?;
    let tick = match parse_tick(&form.state, &form.note) {
        Ok(tick) => tick,
        Err(problem) => {
            return refuse(&state, request, incident, problem, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    match super::tick(&state, Some(incident.id), id, version, tick, &user.0).await {
        Ok(item) => {
            let flash = Flash::success(format!("Step {}: {}.", item.position, item.state.label()));
            document::saved(&state, request, &incident, KEY, flash).await
        }
        Err(WriteError::Stale(current)) => {
            refuse(&state, request, incident, current.changed_first(), StatusCode::CONFLICT).await
        }
        Err(WriteError::Failed(err)) => Err(err),
    }
}

/// `POST /incidents/{reference}/checklist_items/{id}/action_item`
#[tracing::instrument(skip_all)]
pub async fn make_action_item(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    RecordId(id): RecordId,
    request: PartRequest,
) -> Result<Response> {
    match super::make_action_item(&state, incident.id, id, &user.0).await {
        Ok(action) => {
            let flash = Flash::success(format!("\u{201c}{}\u{201d} is an action item now.", action.title));
            document::saved_with(&state, request, &incident, KEY, &["action-items"], flash).await
        }
        Err(AppError::Conflict(problem)) => {
            refuse(&state, request, incident, problem, StatusCode::CONFLICT).await
        }
        Err(err) => Err(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(depth: i32) -> Item {
        Item {
            id: Uuid::nil(),
            checklist_id: Uuid::nil(),
            incident_id: None,
            position: 0,
            depth,
            text: String::new(),
            state: ItemState::Open,
            note: String::new(),
            changed_by: None,
            changed_by_name: None,
            changed_by_role: None,
            changed_at: None,
            action_item_id: None,
            version: 1,
        }
    }

    #[test]
    fn steps_are_numbered_by_where_they_nest() {
        let items: Vec<Item> = [0, 1, 1, 0, 1, 2, 0].into_iter().map(item).collect();
        assert_eq!(numbers(&items), ["1", "1.1", "1.2", "2", "2.1", "2.1.1", "3"]);
    }
}
