//! A Markdown report, as exported, made into a new incident: the incident's
//! fields from the front matter and the marked Markdown, each part's
//! records by the part itself, all in one transaction, so a report with a
//! problem creates nothing and is answered with the problem and its line.

use serde_json::Value;
use uuid::Uuid;

use crate::{
    error::{AppError, Result},
    incidents::{
        db::{self, Incident},
        domain::{Field, NewIncidentFields, Severity, Status, Title, milestones_in_order, parse_labels},
        figures::Figure,
        report::{Report, ReportError},
        revision,
    },
    state::AppState,
    web::{
        audit::{self, Action, Actor, AuditEvent},
        clock::parse_moment,
    },
};

/// The fields a report's front matter and marked text give the incident.
struct Fields {
    new: NewIncidentFields,
    status: Status,
    detected_at: Option<time::OffsetDateTime>,
    mitigated_at: Option<time::OffsetDateTime>,
    resolved_at: Option<time::OffsetDateTime>,
    figures: Vec<Figure>,
}

fn text(report: &Report, name: &str) -> Result<Option<(String, usize)>, ReportError> {
    match report.field(name) {
        None | Some((Value::Null, _)) => Ok(None),
        Some((Value::String(text), line)) => Ok(Some((text.clone(), line))),
        Some((Value::Number(n), line)) => Ok(Some((n.to_string(), line))),
        Some((_, line)) => Err(ReportError::new(line, format!("`{name}` is text"))),
    }
}

fn labels(report: &Report, name: &str, what: &str) -> Result<Vec<String>, ReportError> {
    match report.field(name) {
        None | Some((Value::Null, _)) => Ok(Vec::new()),
        Some((Value::Array(items), line)) => {
            let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
            let names =
                names.ok_or_else(|| ReportError::new(line, format!("`{name}` is a list of names")))?;
            parse_labels(&names.join(","), what).map_err(|message| ReportError::new(line, message))
        }
        Some((Value::String(list), line)) => {
            parse_labels(list, what).map_err(|message| ReportError::new(line, message))
        }
        Some((_, line)) => Err(ReportError::new(line, format!("`{name}` is a list of names"))),
    }
}

fn moment(report: &Report, name: &str) -> Result<Option<time::OffsetDateTime>, ReportError> {
    match text(report, name)? {
        None => Ok(None),
        Some((raw, line)) => parse_moment(&raw).map(Some).map_err(|message| ReportError::new(line, message)),
    }
}

fn read_fields(report: &Report) -> Result<Fields, ReportError> {
    let (title, line) =
        text(report, "title")?.ok_or_else(|| ReportError::new(1, "the front matter has no `title`"))?;
    let title = Title::parse(&title).map_err(|message| ReportError::new(line, message))?;
    let (severity, line) =
        text(report, "severity")?.ok_or_else(|| ReportError::new(1, "the front matter has no `severity`"))?;
    let severity = Severity::parse(&severity)
        .map_err(|_| ReportError::new(line, format!("`{severity}` is not a severity (SEV1 to SEV4)")))?;
    let started_at = moment(report, "started_at")?
        .ok_or_else(|| ReportError::new(1, "the front matter has no `started_at`"))?;
    let status = match text(report, "status")? {
        None => Status::Draft,
        Some((raw, line)) => Status::parse(&raw).map_err(|message| ReportError::new(line, message))?,
    };
    let figures = match report.field("impact_figures") {
        None | Some((Value::Null, _)) => Vec::new(),
        Some((value, line)) => serde_json::from_value(value.clone()).map_err(|_| {
            ReportError::new(line, "`impact_figures` is a list of {metric, before, after, lasting}")
        })?,
    };
    let summary = report.block(Field::Summary.name()).unwrap_or_default().to_owned();
    let (detected_at, mitigated_at, resolved_at) =
        (moment(report, "detected_at")?, moment(report, "mitigated_at")?, moment(report, "resolved_at")?);
    milestones_in_order(started_at, [detected_at, mitigated_at, resolved_at]).map_err(
        |(field, message)| {
            let name = field.name();
            ReportError::new(report.field(name).map_or(1, |(_, line)| line), message)
        },
    )?;
    // Each written section as an edit would take it.
    for field in Field::ALL.into_iter().filter(|f| f.is_markdown()) {
        if let Some(markdown) = report.block(field.name()) {
            crate::web::markdown::accept(markdown, field.name())
                .map_err(|message| ReportError::new(1, format!("{}: {message}", field.label())))?;
        }
    }
    Ok(Fields {
        new: NewIncidentFields {
            title,
            severity,
            started_at,
            services: labels(report, "services", "service")?,
            tags: labels(report, "tags", "tag")?,
            summary,
        },
        status,
        detected_at,
        mitigated_at,
        resolved_at,
        figures,
    })
}

/// The incident's own fields as the report gives them, checked as an edit
/// of each would be.
fn fill(incident: &mut Incident, fields: Fields, report: &Report) -> Result<(), ReportError> {
    incident.status = fields.status;
    incident.detected_at = fields.detected_at;
    incident.mitigated_at = fields.mitigated_at;
    incident.resolved_at = fields.resolved_at;
    incident.impact_figures = fields.figures;
    for field in Field::ALL.into_iter().filter(|f| f.is_markdown() && *f != Field::Summary) {
        if let Some(markdown) = report.block(field.name()) {
            incident
                .set(field, markdown)
                .map_err(|message| ReportError::new(1, format!("{}: {message}", field.label())))?;
        }
    }
    Ok(())
}

/// Creates an incident from `text`, by `author` (as `actor` for the audit
/// trail); nothing when the report cannot be read.
pub async fn import(state: &AppState, author: Uuid, actor: &Actor, text: &str) -> Result<Incident> {
    let report = Report::parse(text)?;
    let fields = read_fields(&report)?;
    let mut tx = state.pool.begin().await?;
    // Every part checks the report before the incident takes a number.
    state.document.import(&mut tx, None, &report, author).await?;
    let mut incident = db::insert_incident(&mut *tx, &fields.new, author).await?;
    fill(&mut incident, fields, &report)?;
    let incident = db::save_incident(&mut *tx, &incident).await?;
    state.document.import(&mut tx, Some(&incident), &report, author).await?;
    let summary = "Imported the postmortem from a Markdown report";
    revision::record(&mut tx, &state.document, incident.id, author, summary, &[], false).await?;
    let event = AuditEvent::new(actor, Action::Import)
        .target(incident.reference.clone())
        .detail(serde_json::json!({ "incident_id": incident.id, "bytes": text.len() }));
    audit::record(&mut *tx, &event).await?;
    tx.commit().await?;
    tracing::info!(incident = %incident.reference, "incident imported from a report");
    db::find_incident(&state.pool, incident.id).await?.ok_or(AppError::NotFound)
}
