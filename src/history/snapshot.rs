//! The whole postmortem as one Markdown text: what each revision keeps, so
//! that any two can be compared line by line.

use std::fmt::Write;

use sqlx::PgConnection;
use uuid::Uuid;

use crate::{
    action_items, causes,
    error::{AppError, Result},
    incidents::{
        db::{self, Incident},
        domain::Field,
    },
    timeline,
};

/// Loads the postmortem and renders it.
pub async fn render(db: &mut PgConnection, incident_id: Uuid) -> Result<String> {
    let incident = db::find_incident(&mut *db, incident_id).await?.ok_or(AppError::NotFound)?;
    let timeline = timeline::db::list_events(&mut *db, incident_id).await?;
    let mut out = render_incident(&incident);
    out.push_str("\n## Timeline\n\n");
    for event in &timeline {
        let _ = writeln!(out, "- {}", event.history_text().replace('\n', "\n  "));
    }
    out.push_str("\n## Causes\n\n");
    for cause in causes::db::list_causes(&mut *db, incident_id).await? {
        let _ = writeln!(out, "- {}", cause.history_text().replace('\n', "\n  "));
    }
    out.push_str("\n## Action items\n\n");
    for item in action_items::db::list_for_incident(&mut *db, incident_id).await? {
        let _ = writeln!(out, "- {}", item.history_text());
    }
    Ok(out)
}

/// The incident's fields, one per paragraph, in reading order.
pub fn render_incident(incident: &Incident) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# {}: {}\n", incident.reference, incident.title);
    for field in [Field::Severity, Field::Status, Field::Services, Field::Tags] {
        let _ = writeln!(out, "- {}: {}", field.label(), incident.text_of(field));
    }
    for field in [Field::StartedAt, Field::DetectedAt, Field::MitigatedAt, Field::ResolvedAt] {
        let value = incident.text_of(field);
        let _ = writeln!(out, "- {}: {}", field.label(), if value.is_empty() { "—" } else { &value });
    }
    for field in Field::ALL.into_iter().filter(|field| field.is_markdown()) {
        let _ = writeln!(out, "\n## {}\n", field.label());
        if field == Field::Impact {
            for figure in &incident.impact_figures {
                let _ = writeln!(out, "- {figure}");
            }
        }
        let text = incident.text_of(field);
        let _ = writeln!(out, "{}", text.trim_end());
    }
    out
}
