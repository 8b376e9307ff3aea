//! The evidence part of the incident page: the artifacts attached to the
//! postmortem, what their analyses found, and (while editing) the upload.

use askama::Template;
use sqlx::PgConnection;

use super::db::{self, Artifact, EventChoice};
use crate::{
    error::Result,
    incidents::{
        db::Incident,
        document::{PartCtx, PartView, Records, TocEntry},
        report::{ExportOptions, Report},
    },
    state::AppState,
};

pub const KEY: &str = "evidence";

pub struct Evidence;

pub struct EvidenceView {
    ctx: PartCtx,
    artifacts: Vec<Artifact>,
    events: Vec<EventChoice>,
    max_upload_mib: u64,
}

#[derive(Template)]
#[template(path = "evidence/section.html")]
struct EvidenceHtml<'a> {
    ctx: &'a PartCtx,
    artifacts: &'a [Artifact],
    events: &'a [EventChoice],
    max_upload_mib: u64,
}

impl EvidenceHtml<'_> {
    fn time(&self, at: &time::OffsetDateTime) -> String {
        self.ctx.zone.format(at)
    }

    fn size(&self, bytes: &i64) -> String {
        human_size(*bytes)
    }

    fn event_line(&self, id: &uuid::Uuid) -> String {
        self.events
            .iter()
            .find(|event| event.id == *id)
            .map(|event| format!("{} · {}", self.ctx.zone.format(&event.occurred_at), event.excerpt))
            .unwrap_or_default()
    }
}

/// `812 B`, `12.4 KB`, `3.1 MB`.
pub fn human_size(bytes: i64) -> String {
    let bytes = bytes.max(0) as f64;
    match bytes {
        b if b < 1000.0 => format!("{b} B"),
        b if b < 1_000_000.0 => format!("{:.1} KB", b / 1000.0),
        b if b < 1_000_000_000.0 => format!("{:.1} MB", b / 1_000_000.0),
        b => format!("{:.2} GB", b / 1_000_000_000.0),
    }
}

impl PartView for EvidenceView {
    fn key(&self) -> &'static str {
        KEY
    }

    fn toc(&self) -> Option<TocEntry> {
        let count = match self.artifacts.len() {
            0 => String::new(),
            1 => "1 file".to_owned(),
            n => format!("{n} files"),
        };
        Some(TocEntry { anchor: KEY, title: "Evidence", count })
    }

    fn render(&self) -> Result<String> {
        let html = EvidenceHtml {
            ctx: &self.ctx,
            artifacts: &self.artifacts,
            events: &self.events,
            max_upload_mib: self.max_upload_mib,
        };
        Ok(html.render()?)
    }
}

impl Records for Evidence {
    const KEY: &'static str = KEY;
    const TITLE: &'static str = "Evidence";
    const JSON_NAME: &'static str = "artifacts";

    type Record = Artifact;

    async fn list(db: &mut PgConnection, incident_id: uuid::Uuid) -> Result<Vec<Artifact>> {
        db::list_for_incident(db, incident_id).await
    }

    /// What the uploader gave: the analysis is the file's, not a change.
    fn history_text(record: &Artifact) -> String {
        let note = if record.note.is_empty() { String::new() } else { format!(": {}", record.note) };
        format!(
            "{} ({}, {}, sha256 {}){note}",
            record.file_name,
            record.format,
            human_size(record.size),
            &record.sha256[..12]
        )
    }

    /// Each file with what its analysis found, linked to its page.
    fn report(incident: &Incident, records: &[Artifact], options: &ExportOptions) -> String {
        let mut out = String::from("## Evidence\n\n");
        if records.is_empty() {
            out.push_str("_No files attached._\n");
            return out;
        }
        for artifact in records {
            let link =
                format!("{}/incidents/{}/artifacts/{}", options.origin, incident.reference, artifact.id);
            let name = artifact.file_name.replace(['[', ']'], "");
            out.push_str(&format!(
                "- [{name}]({link}) ({}, {}, sha256 {})",
                artifact.format,
                human_size(artifact.size),
                artifact.sha256
            ));
            if !artifact.summary.is_empty() {
                out.push_str(&format!(": {}", artifact.summary.replace('\n', " ")));
            }
            if !artifact.note.is_empty() {
                out.push_str(&format!("\n  Note: {}", artifact.note.replace('\n', " ")));
            }
            out.push('\n');
        }
        out
    }

    /// A file the report names by its sha256 is attached again when this
    /// Debrief holds that content, with the analysis it already has; the
    /// report itself carries no file.
    async fn import(
        db: &mut PgConnection,
        incident: Option<&Incident>,
        report: &Report,
        author: uuid::Uuid,
    ) -> Result<()> {
        let Some(lines) = report.section("Evidence") else { return Ok(()) };
        let mut files: Vec<(String, String, String)> = Vec::new();
        for (_, line) in lines {
            if let Some(note) = line.strip_prefix("  Note: ") {
                if let Some(file) = files.last_mut() {
                    file.2 = note.trim().to_owned();
                }
                continue;
            }
            let Some(rest) = line.strip_prefix("- [") else { continue };
            let Some((name, rest)) = rest.split_once("](") else { continue };
            let Some(sha) =
                rest.split_once("sha256 ").map(|(_, after)| after.chars().take(64).collect::<String>())
            else {
                continue;
            };
            if sha.len() == 64 && sha.bytes().all(|b| b.is_ascii_hexdigit()) {
                files.push((name.to_owned(), sha, String::new()));
            }
        }
        let Some(incident) = incident else { return Ok(()) };
        for (name, sha, note) in files {
            db::attach_again(&mut *db, incident.id, &sha, &name, &note, author).await?;
        }
        Ok(())
    }

    async fn view(state: &AppState, incident: &Incident, ctx: PartCtx) -> Result<Box<dyn PartView>> {
        let artifacts = db::list_for_incident(&state.pool, incident.id).await?;
        let events = db::event_choices(&state.pool, incident.id).await?;
        let max_upload_mib = state.config.max_upload_bytes.div_ceil(1024 * 1024);
        Ok(Box::new(EvidenceView { ctx, artifacts, events, max_upload_mib }))
    }
}

#[cfg(test)]
mod tests {
    use super::human_size;

    #[test]
    fn sizes_read_as_people_say_them() {
        assert_eq!(human_size(812), "812 B");
        assert_eq!(human_size(12_400), "12.4 KB");
        assert_eq!(human_size(3_140_000), "3.1 MB");
    }
}
