//! The incident's own parts of the page: its head (title, status, the
//! workflow) and its written sections (milestones, summary, impact,
//! trigger, detection, resolution, lessons).

use askama::Template;
use futures_util::future::BoxFuture;
use sqlx::PgConnection;
use time::OffsetDateTime;

use super::{
    db::Incident,
    document::{Gap, Part, PartCtx, PartView, TocEntry, incident_snapshot},
    domain::{Field, Section},
    report::{ExportOptions, block, table},
    revision::{self, ChangeCount, Revision},
    views::span,
};
use crate::{error::Result, state::AppState, web::markdown};

/// The head of the postmortem: what it is, where it stands, and (for an
/// editor) the switch between reading and editing.
pub struct Head;

pub struct HeadView {
    ctx: PartCtx,
    incident: Incident,
    changes: ChangeCount,
    after_publication: Vec<Revision>,
}

#[derive(Template)]
#[template(path = "incidents/head.html")]
struct HeadHtml<'a> {
    ctx: &'a PartCtx,
    incident: &'a Incident,
    changes: String,
    last_at: Option<OffsetDateTime>,
    after_publication: &'a [Revision],
}

impl HeadHtml<'_> {
    /// `2026-11-20 15:02 CET` for a revision, in the reader's zone.
    fn time(&self, at: &OffsetDateTime) -> String {
        self.ctx.zone.format(at)
    }

    fn iso(&self, at: &OffsetDateTime) -> String {
        crate::web::clock::moment_text(&Some(*at))
    }

    fn filter(&self, name: &str, value: &str) -> String {
        crate::web::page::filter_link(name, value)
    }
}

impl Part for Head {
    fn key(&self) -> &'static str {
        Section::Details.name()
    }

    fn export<'a>(
        &'a self,
        _db: &'a mut PgConnection,
        incident: &'a Incident,
        _options: &'a ExportOptions,
    ) -> BoxFuture<'a, Result<String>> {
        let rows = [Field::Severity, Field::Status, Field::Services, Field::Tags]
            .into_iter()
            .map(|field| vec![field.label().to_owned(), incident.text_of(field)]);
        let out =
            format!("# {}: {}\n\n{}", incident.reference, incident.title, table(&["Field", "Value"], rows));
        Box::pin(async move { Ok(out) })
    }

    fn load<'a>(
        &'a self,
        state: &'a AppState,
        incident: &'a Incident,
        ctx: PartCtx,
    ) -> BoxFuture<'a, Result<Box<dyn PartView>>> {
        Box::pin(async move {
            let changes = revision::count(&state.pool, incident.id).await?;
            let after_publication = revision::after_publication(&state.pool, incident.id).await?;
            let view = HeadView { ctx, incident: incident.clone(), changes, after_publication };
            Ok(Box::new(view) as Box<dyn PartView>)
        })
    }

    fn snapshot<'a>(
        &'a self,
        _db: &'a mut PgConnection,
        incident: &'a Incident,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move { Ok(incident_snapshot(incident)) })
    }
}

impl PartView for HeadView {
    fn key(&self) -> &'static str {
        Section::Details.name()
    }

    fn toc(&self) -> Option<TocEntry> {
        None
    }

    fn render(&self) -> Result<String> {
        let html = HeadHtml {
            ctx: &self.ctx,
            incident: &self.incident,
            changes: changes_text(&self.changes),
            last_at: self.changes.last_at,
            after_publication: &self.after_publication,
        };
        Ok(html.render()?)
    }
}

/// "12 changes, last by Bo": what a reader understands of a postmortem's
/// history, where a version number says nothing. When is shown beside it
/// as a moment, which a kept page cannot get wrong; the page's script
/// turns it into "3 h ago" as the reader's clock runs.
pub fn changes_text(count: &ChangeCount) -> String {
    let changes = match count.changes {
        1 => "1 change".to_owned(),
        n => format!("{n} changes"),
    };
    if count.last_at.is_none() {
        return changes;
    }
    let by = count.last_by.as_deref().unwrap_or("a removed user");
    format!("{changes}, last by {by}")
}

/// A written section of the postmortem.
pub struct Written(pub Section);

pub struct WrittenView {
    ctx: PartCtx,
    section: Section,
    incident: Incident,
}

/// One field's text, rendered.
struct RenderedField {
    field: Field,
    html: String,
}

#[derive(Template)]
#[template(path = "incidents/section.html")]
struct WrittenHtml<'a> {
    ctx: &'a PartCtx,
    section: Section,
    incident: &'a Incident,
    fields: Vec<RenderedField>,
    durations: Vec<(&'static str, String)>,
}

impl WrittenHtml<'_> {
    fn time(&self, at: &OffsetDateTime) -> String {
        self.ctx.zone.format(at)
    }

    fn is_impact(&self) -> bool {
        self.section == Section::Impact
    }

    /// An empty section prompts its writers; readers, and everyone once it
    /// is published, read that it was not written.
    fn prompts(&self) -> bool {
        self.ctx.editor && self.incident.status != super::domain::Status::Published
    }
}

impl Part for Written {
    fn key(&self) -> &'static str {
        self.0.name()
    }

    fn export<'a>(
        &'a self,
        _db: &'a mut PgConnection,
        incident: &'a Incident,
        _options: &'a ExportOptions,
    ) -> BoxFuture<'a, Result<String>> {
        let out = written_report(self.0, incident);
        Box::pin(async move { Ok(out) })
    }

    fn load<'a>(
        &'a self,
        _state: &'a AppState,
        incident: &'a Incident,
        ctx: PartCtx,
    ) -> BoxFuture<'a, Result<Box<dyn PartView>>> {
        let view = WrittenView { ctx, section: self.0, incident: incident.clone() };
        Box::pin(async move { Ok(Box::new(view) as Box<dyn PartView>) })
    }

    fn gaps<'a>(
        &'a self,
        _db: &'a mut PgConnection,
        incident: &'a Incident,
    ) -> BoxFuture<'a, Result<Vec<Gap>>> {
        let section = self.0;
        let gap = |text: String| Gap { key: section.name(), anchor: section.name(), text };
        let gaps = if section == Section::Milestones {
            let unset: Vec<String> = section.fields()[1..]
                .iter()
                .filter(|field| incident.text_of(**field).is_empty())
                .map(|field| field.label().to_lowercase())
                .collect();
            match unset.as_slice() {
                [] => Vec::new(),
                [one] => vec![gap(format!("The {one} time is not set"))],
                [rest @ .., last] => {
                    vec![gap(format!("The {} and {last} times are not set", rest.join(", ")))]
                }
            }
        } else if section.fields().iter().all(|field| incident.text_of(*field).trim().is_empty()) {
            vec![gap(format!("{} is empty", section.title()))]
        } else {
            Vec::new()
        };
        Box::pin(async move { Ok(gaps) })
    }
}

impl PartView for WrittenView {
    fn key(&self) -> &'static str {
        self.section.name()
    }

    fn toc(&self) -> Option<TocEntry> {
        let empty = self.section.fields().iter().all(|field| self.incident.text_of(*field).trim().is_empty());
        let count =
            if empty && self.section != Section::Milestones { "to write".to_owned() } else { String::new() };
        Some(TocEntry { anchor: self.section.name(), title: self.section.title(), count })
    }

    fn render(&self) -> Result<String> {
        let incident = &self.incident;
        let fields = self
            .section
            .fields()
            .iter()
            .filter(|field| field.is_markdown())
            .map(|field| RenderedField { field: *field, html: markdown::render(&incident.text_of(*field)) })
            .collect();
        let durations = [
            ("Time to detect", &incident.detected_at),
            ("Time to mitigate", &incident.mitigated_at),
            ("Time to resolve", &incident.resolved_at),
        ]
        .into_iter()
        .map(|(label, at)| (label, span(&incident.started_at, at)))
        .filter(|(_, span)| !span.is_empty())
        .collect();
        let html = WrittenHtml { ctx: &self.ctx, section: self.section, incident, fields, durations };
        Ok(html.render()?)
    }
}

/// A written section as the report shows it: the milestones as a table
/// with the time each took, every other field's Markdown as written.
fn written_report(section: Section, incident: &Incident) -> String {
    let mut out = format!("## {}\n\n", section.title());
    match section {
        Section::Milestones => {
            let rows = section.fields().iter().map(|field| {
                let at = match field {
                    Field::StartedAt => Some(incident.started_at),
                    Field::DetectedAt => incident.detected_at,
                    Field::MitigatedAt => incident.mitigated_at,
                    _ => incident.resolved_at,
                };
                let moment =
                    at.map(|at| crate::web::clock::moment_text(&Some(at))).unwrap_or_else(|| "—".into());
                vec![field.label().to_owned(), moment, span(&incident.started_at, &at)]
            });
            out.push_str(&table(&["Milestone", "Time (UTC)", "Since the start"], rows));
        }
        Section::Impact => {
            if !incident.impact_figures.is_empty() {
                let rows = incident
                    .impact_figures
                    .iter()
                    .map(|f| vec![f.metric.clone(), f.before.clone(), f.after.clone(), f.lasting.clone()]);
                out.push_str(&table(&["Metric", "Before", "During", "For"], rows));
                out.push('\n');
            }
            out.push_str(&block(Field::Impact.name(), &incident.impact));
        }
        Section::Lessons => {
            for (index, field) in section.fields().iter().enumerate() {
                if index > 0 {
                    out.push('\n');
                }
                out.push_str(&format!("### {}\n\n", field.label()));
                out.push_str(&block(field.name(), &incident.text_of(*field)));
            }
        }
        _ => {
            for field in section.fields().iter().filter(|field| field.is_markdown()) {
                out.push_str(&block(field.name(), &incident.text_of(*field)));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use time::macros::datetime;

    use super::*;

    #[test]
    fn the_history_reads_as_changes_by_someone() {
        let count = ChangeCount {
            changes: 12,
            last_by: Some("Bo".into()),
            last_at: Some(datetime!(2026-11-20 15:00 UTC)),
        };
        assert_eq!(changes_text(&count), "12 changes, last by Bo");
        let one = ChangeCount { changes: 1, last_by: None, last_at: Some(datetime!(2026-11-20 18:00 UTC)) };
        assert_eq!(changes_text(&one), "1 change, last by a removed user");
        let none = ChangeCount { changes: 0, last_by: None, last_at: None };
        assert_eq!(changes_text(&none), "0 changes");
    }
}
