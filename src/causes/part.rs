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
        document::{PartCtx, PartView, Records, TocEntry},
        report::{ExportOptions, block},
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

    async fn view(state: &AppState, incident: &Incident, ctx: PartCtx) -> Result<Box<dyn PartView>> {
        Ok(Box::new(CausesView::load(state, incident, ctx).await?))
    }
}
