//! The causes' part of the incident page.

use askama::Template;
use sqlx::PgConnection;

use super::{
    db::{self, Cause},
    domain::{CauseInput, CauseKind},
};
use crate::{
    error::Result,
    incidents::{
        db::Incident,
        document::{Gap, PartCtx, PartView, Records, TocEntry},
        report::{ExportOptions, Report, ReportError, block},
    },
    state::AppState,
    web::{FormErrors, markdown},
};

pub const KEY: &str = "causes";

pub struct Causes;

/// The causes as one reader sees them, with the add-a-cause form.
pub struct CausesView {
    pub ctx: PartCtx,
    pub causes: Vec<Cause>,
    pub categories: Vec<String>,
    pub form: CauseInput,
    pub errors: FormErrors,
}

impl CausesView {
    pub async fn load(state: &AppState, incident: &Incident, ctx: PartCtx) -> Result<CausesView> {
        let causes = db::list_causes(&state.pool, incident.id).await?;
        let categories = if ctx.editing { db::list_categories(&state.pool).await? } else { Vec::new() };
        let form = CauseInput { kind: CauseKind::Root.to_string(), ..Default::default() };
        Ok(CausesView { ctx, causes, categories, form, errors: FormErrors::default() })
    }
}

/// A cause with its Markdown rendered: the description and each why.
struct CauseCard<'a> {
    cause: &'a Cause,
    description_html: String,
    whys_html: Vec<String>,
}

#[derive(Template)]
#[template(path = "causes/section.html")]
struct CausesHtml<'a> {
    ctx: &'a PartCtx,
    causes: Vec<CauseCard<'a>>,
    categories: &'a [String],
    cause_form: &'a CauseInput,
    cause_errors: &'a FormErrors,
    cause_kinds: [CauseKind; 3],
    cause_action: String,
    cause_version: Option<i32>,
}

impl CausesHtml<'_> {
    /// The incidents with the same cause category: what its chip links to.
    fn category_link(&self, category: &str) -> String {
        crate::web::page::filter_link("cause", category)
    }
}

impl PartView for CausesView {
    fn key(&self) -> &'static str {
        KEY
    }

    fn toc(&self) -> Option<TocEntry> {
        let count = match self.causes.len() {
            0 => String::new(),
            1 => "1 cause".to_owned(),
            n => format!("{n} causes"),
        };
        Some(TocEntry { anchor: KEY, title: "Causes", count })
    }

    fn render(&self) -> Result<String> {
        let causes = self
            .causes
            .iter()
            .map(|cause| CauseCard {
                description_html: markdown::render(&cause.description),
                whys_html: cause.whys.iter().map(|why| markdown::render_inline(why)).collect(),
                cause,
            })
            .collect();
        let html = CausesHtml {
            ctx: &self.ctx,
            causes,
            categories: &self.categories,
            cause_form: &self.form,
            cause_errors: &self.errors,
            cause_kinds: CauseKind::ALL,
            cause_action: self.ctx.url("causes"),
            cause_version: None,
        };
        Ok(html.render()?)
    }
}

impl Records for Causes {
    const KEY: &'static str = KEY;
    const TITLE: &'static str = "Causes";
    const JSON_NAME: &'static str = "causes";

    type Record = Cause;

    async fn list(db: &mut PgConnection, incident_id: uuid::Uuid) -> Result<Vec<Cause>> {
        db::list_causes(db, incident_id).await
    }

    fn history_text(record: &Cause) -> String {
        record.history_text()
    }

    fn gaps(records: &[Cause]) -> Vec<Gap> {
        if records.iter().any(|cause| cause.kind == CauseKind::Root) {
            return Vec::new();
        }
        vec![Gap { key: "root_cause", anchor: KEY, text: "No root cause is named".into() }]
    }

    /// Root causes first, then the trigger, then what contributed; each
    /// with its description as written and its chain of whys.
    fn report(_incident: &Incident, records: &[Cause], _options: &ExportOptions) -> String {
        let mut out = String::from("## Causes\n\n");
        if records.is_empty() {
            out.push_str("_No causes named yet._\n");
            return out;
        }
        let mut ordered: Vec<&Cause> = records.iter().collect();
        ordered.sort_by_key(|cause| CauseKind::ALL.iter().position(|kind| *kind == cause.kind));
        for (index, cause) in ordered.into_iter().enumerate() {
            if index > 0 {
                out.push('\n');
            }
            out.push_str(&format!("### {}: {}\n\n", cause.kind.label(), cause.category));
            out.push_str(&block(&format!("cause-{}", index + 1), &cause.description));
            if !cause.whys.is_empty() {
                out.push_str("\nWhy?\n\n");
                for (n, why) in cause.whys.iter().enumerate() {
                    out.push_str(&format!("{}. {}\n", n + 1, why.replace('\n', " ")));
                }
            }
        }
        out
    }

    /// `### Root cause: category`, its description between markers, then
    /// its numbered whys, as [`Records::report`] writes them.
    async fn import(
        db: &mut PgConnection,
        incident: Option<&Incident>,
        report: &Report,
        _author: uuid::Uuid,
    ) -> Result<()> {
        let Some(lines) = report.section("Causes") else { return Ok(()) };
        let categories = db::list_categories(&mut *db).await?;
        let mut found: Vec<(usize, CauseInput)> = Vec::new();
        for (line, text) in lines {
            if let Some(head) = text.strip_prefix("### ") {
                if found.len() == 100 {
                    return Err(ReportError::new(*line, "a report holds at most 100 causes").into());
                }
                let (label, category) = head
                    .split_once(": ")
                    .ok_or_else(|| ReportError::new(*line, "a cause's heading is `### Kind: category`"))?;
                let kind = CauseKind::ALL
                    .into_iter()
                    .find(|kind| kind.label() == label)
                    .ok_or_else(|| ReportError::new(*line, format!("`{label}` is not a kind of cause")))?;
                let number = found.len() + 1;
                let description = report.block(&format!("cause-{number}")).unwrap_or_default().to_owned();
                let input = CauseInput {
                    kind: kind.as_str().to_owned(),
                    category: category.trim().to_owned(),
                    description,
                    whys: String::new(),
                };
                found.push((*line, input));
            } else if let Some((_, cause)) = found.last_mut()
                && let Some((n, why)) = text.split_once(". ")
                && !n.is_empty()
                && n.bytes().all(|b| b.is_ascii_digit())
            {
                cause.whys.push_str(why);
                cause.whys.push('\n');
            }
        }
        for (line, input) in found {
            let fields = input
                .parse(&categories)
                .map_err(|errors| ReportError::new(line, format!("a cause: {}", errors.summary())))?;
            if let Some(incident) = incident {
                db::insert_cause(&mut *db, incident.id, &fields).await?;
            }
        }
        Ok(())
    }

    async fn view(state: &AppState, incident: &Incident, ctx: PartCtx) -> Result<Box<dyn PartView>> {
        Ok(Box::new(CausesView::load(state, incident, ctx).await?))
    }
}
