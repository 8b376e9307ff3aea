//! The postmortem as a document made of parts.
//!
//! Each feature owns its part of the incident page: what it loads, how it
//! is shown, what the table of contents says of it and how it reads in a
//! revision's snapshot. The page is the [`Document`]: the parts in reading
//! order, registered once at start. The incident page, the in-place edits
//! and the history all go through it, so adding a part to the postmortem
//! means adding one entry to that list.

use std::{fmt::Write, future::Future, sync::Arc};

use askama::Template;
use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
};
use futures_util::future::BoxFuture;
use serde::{Deserialize, Serialize};
use sqlx::PgConnection;
use time::{Date, OffsetDateTime};
use tower_sessions::Session;
use uuid::Uuid;

use super::{
    db::{self, Incident},
    domain::{Field, Status},
    report::{ExportOptions, Report, front_matter},
};
use crate::{
    error::{AppError, Result},
    state::AppState,
    web::{Flash, PageCtx, clock::Zone, session},
};

/// The header a part's form sends when the page's script wants only that
/// part back, not the whole page.
pub const PART_HEADER: &str = "x-debrief-part";

/// What a part needs to know of the page it is shown on.
#[derive(Debug, Clone)]
pub struct PartCtx {
    pub incident_id: Uuid,
    pub reference: String,
    /// Who is reading.
    pub reader: Option<Uuid>,
    pub csrf: String,
    /// The reader's zone: every time is shown in it.
    pub zone: Zone,
    /// The reader may change the postmortem.
    pub editor: bool,
    /// The reader may delete it.
    pub admin: bool,
    /// The reader asked to edit this part: its forms and controls are shown.
    pub editing: bool,
    /// Today in the reader's zone, to mark what is overdue.
    pub today: Date,
}

impl PartCtx {
    pub fn new(page: &PageCtx, incident: &Incident, mode: &EditMode, key: &str) -> PartCtx {
        let editor = page.is_editor();
        PartCtx {
            incident_id: incident.id,
            reference: incident.reference.clone(),
            reader: page.user.as_ref().map(|user| user.id),
            csrf: page.csrf.clone(),
            zone: page.zone.clone(),
            editor,
            admin: page.is_admin(),
            editing: editor && mode.covers(incident.id, key),
            today: page.zone.date_of(&OffsetDateTime::now_utc()),
        }
    }

    /// Where a part's form posts: `/incidents/INC-7/<rest>`.
    pub fn url(&self, rest: &str) -> String {
        format!("/incidents/{}/{rest}", self.reference)
    }
}

/// A line of the table of contents: the section, and what it holds.
#[derive(Debug, Clone)]
pub struct TocEntry {
    pub anchor: &'static str,
    pub title: &'static str,
    /// `14 events, 2 open hypotheses`; empty when there is nothing to count.
    pub count: String,
}

/// Something a part still lacks before the postmortem is reviewed: an
/// empty section, no root cause, a hypothesis still open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// What a review rule names to require it: a section's name,
    /// `root_cause`, `action_item`, `hypotheses`.
    pub key: &'static str,
    /// The part's anchor on the page.
    pub anchor: &'static str,
    /// "Trigger is empty", "2 hypotheses are still open".
    pub text: String,
}

/// The review's say in a postmortem's moves from one status to another:
/// registered with the [`Document`], so that every way of moving it (the
/// page, the API's status call, a PATCH) is checked and told of alike.
pub trait Workflow: Send + Sync + 'static {
    /// Why `incident` may not become `to`, in words; empty when it may.
    /// Called in the transaction of the move, with the incident locked.
    fn refusals<'a>(
        &'a self,
        db: &'a mut PgConnection,
        document: &'a Document,
        incident: &'a Incident,
        to: Status,
    ) -> BoxFuture<'a, Result<Vec<String>>>;

    /// `incident` has just moved from `from`, by `actor`, in this transaction.
    fn moved<'a>(
        &'a self,
        db: &'a mut PgConnection,
        origin: &'a str,
        incident: &'a Incident,
        from: Status,
        actor: Uuid,
    ) -> BoxFuture<'a, Result<()>>;
}

/// What is shown beside the parts of the page (the comments on each), as
/// loaded for one reader: it is not a part of the document itself, so it
/// is in no revision and, unless asked for, in no report.
pub trait MarginView: Send + 'static {
    /// What the table of contents adds to the part's line: `2 comments`.
    fn count(&self, key: &str) -> String;

    /// The HTML beside the part `key`, or nothing. CPU work (Markdown):
    /// called on the CPU pool.
    fn render(&self, key: &str) -> Result<String>;
}

/// The margin of the page, registered with the [`Document`].
pub trait Margin: Send + Sync + 'static {
    fn load<'a>(
        &'a self,
        state: &'a AppState,
        incident: &'a Incident,
        ctx: PartCtx,
    ) -> BoxFuture<'a, Result<Box<dyn MarginView>>>;

    /// The margin as the report shows it when asked for: its `##`
    /// section, or nothing.
    fn export<'a>(
        &'a self,
        db: &'a mut PgConnection,
        incident: &'a Incident,
        options: &'a ExportOptions,
    ) -> BoxFuture<'a, Result<String>>;
}

/// One part, loaded for one reader, ready to render.
pub trait PartView: Send + 'static {
    /// The part's key: its anchor on the page and its edit scope.
    fn key(&self) -> &'static str;

    /// What the table of contents says of it; nothing for a part that is
    /// not a section of its own.
    fn toc(&self) -> Option<TocEntry>;

    /// The part's HTML. CPU work (Markdown): called on the CPU pool.
    fn render(&self) -> Result<String>;
}

/// A part of the postmortem, registered in the [`Document`].
pub trait Part: Send + Sync + 'static {
    fn key(&self) -> &'static str;

    /// Loads what the part shows of `incident` to one reader.
    fn load<'a>(
        &'a self,
        state: &'a AppState,
        incident: &'a Incident,
        ctx: PartCtx,
    ) -> BoxFuture<'a, Result<Box<dyn PartView>>>;

    /// The part as a revision keeps it, in Markdown; empty when the part
    /// holds nothing of its own (the incident's own fields are written by
    /// the head).
    fn snapshot<'a>(
        &'a self,
        _db: &'a mut PgConnection,
        _incident: &'a Incident,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async { Ok(String::new()) })
    }

    /// The part as the Markdown report shows it: its `##` section, or
    /// nothing.
    fn export<'a>(
        &'a self,
        _db: &'a mut PgConnection,
        _incident: &'a Incident,
        _options: &'a ExportOptions,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async { Ok(String::new()) })
    }

    /// Creates the part's records of `incident` from what an imported
    /// report holds of it (the incident's own fields are read by the import
    /// itself). Called in the import's transaction; an error names its line.
    /// Called first with no incident, to check the report before anything
    /// is written (a failed insert would still use up an incident number).
    fn import<'a>(
        &'a self,
        _db: &'a mut PgConnection,
        _incident: Option<&'a Incident>,
        _report: &'a Report,
        _author: Uuid,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    /// How the API's whole postmortem describes what [`Part::json`] holds
    /// of the part: its name, its schema, and the schemas that one names.
    fn json_schema(&self) -> Option<PartSchema> {
        None
    }

    /// What the API's whole postmortem holds of the part, under its name;
    /// nothing for a part the incident's own fields already give.
    fn json<'a>(
        &'a self,
        _state: &'a AppState,
        _incident: &'a Incident,
    ) -> BoxFuture<'a, Result<Option<(&'static str, serde_json::Value)>>> {
        Box::pin(async { Ok(None) })
    }

    /// What the part still lacks for a review; nothing by default.
    fn gaps<'a>(
        &'a self,
        _db: &'a mut PgConnection,
        _incident: &'a Incident,
    ) -> BoxFuture<'a, Result<Vec<Gap>>> {
        Box::pin(async { Ok(Vec::new()) })
    }
}

/// A part made of records of the incident's own (timeline events,
/// causes, action items): listed for the snapshot and the API the same way.
pub trait Records: Send + Sync + 'static {
    const KEY: &'static str;
    /// Its heading in a revision's snapshot: `Timeline`.
    const TITLE: &'static str;
    /// Its name in the API's whole postmortem: `timeline`.
    const JSON_NAME: &'static str;

    type Record: serde::Serialize + utoipa::ToSchema + Send + Sync;

    /// The incident's records, in the part's order.
    fn list(
        db: &mut PgConnection,
        incident_id: Uuid,
    ) -> impl Future<Output = Result<Vec<Self::Record>>> + Send;

    /// One record as the snapshot lists it.
    fn history_text(record: &Self::Record) -> String;

    /// The records as the Markdown report shows them.
    fn report(incident: &Incident, records: &[Self::Record], options: &ExportOptions) -> String;

    /// Creates the records an imported report shows (see [`Part::import`]).
    fn import<'a>(
        db: &'a mut PgConnection,
        incident: Option<&'a Incident>,
        report: &'a Report,
        author: Uuid,
    ) -> impl Future<Output = Result<()>> + Send + 'a;

    /// What the records still lack for a review (see [`Part::gaps`]).
    fn gaps(_records: &[Self::Record]) -> Vec<Gap> {
        Vec::new()
    }

    /// The part as one reader sees it.
    fn view(
        state: &AppState,
        incident: &Incident,
        ctx: PartCtx,
    ) -> impl Future<Output = Result<Box<dyn PartView>>> + Send;
}

impl<T: Records> Part for T {
    fn key(&self) -> &'static str {
        T::KEY
    }

    fn json_schema(&self) -> Option<PartSchema> {
        use utoipa::{PartialSchema, ToSchema};
        let record = utoipa::openapi::Ref::from_schema_name(T::Record::name());
        let list = utoipa::openapi::schema::ArrayBuilder::new().items(record).build();
        let mut named = vec![(T::Record::name().into_owned(), T::Record::schema())];
        T::Record::schemas(&mut named);
        Some(PartSchema { name: T::JSON_NAME, schema: list.into(), named })
    }

    fn load<'a>(
        &'a self,
        state: &'a AppState,
        incident: &'a Incident,
        ctx: PartCtx,
    ) -> BoxFuture<'a, Result<Box<dyn PartView>>> {
        Box::pin(T::view(state, incident, ctx))
    }

    fn snapshot<'a>(
        &'a self,
        db: &'a mut PgConnection,
        incident: &'a Incident,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let records = T::list(db, incident.id).await?;
            Ok(list_snapshot(T::TITLE, records.iter().map(T::history_text)))
        })
    }

    fn export<'a>(
        &'a self,
        db: &'a mut PgConnection,
        incident: &'a Incident,
        options: &'a ExportOptions,
    ) -> BoxFuture<'a, Result<String>> {
        Box::pin(async move {
            let records = T::list(db, incident.id).await?;
            Ok(T::report(incident, &records, options))
        })
    }

    fn import<'a>(
        &'a self,
        db: &'a mut PgConnection,
        incident: Option<&'a Incident>,
        report: &'a Report,
        author: Uuid,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(T::import(db, incident, report, author))
    }

    fn json<'a>(
        &'a self,
        state: &'a AppState,
        incident: &'a Incident,
    ) -> BoxFuture<'a, Result<Option<(&'static str, serde_json::Value)>>> {
        Box::pin(async move {
            let mut db = state.pool.acquire().await?;
            let records = T::list(&mut db, incident.id).await?;
            Ok(Some((T::JSON_NAME, serde_json::to_value(records).map_err(anyhow::Error::from)?)))
        })
    }

    fn gaps<'a>(
        &'a self,
        db: &'a mut PgConnection,
        incident: &'a Incident,
    ) -> BoxFuture<'a, Result<Vec<Gap>>> {
        Box::pin(async move { Ok(T::gaps(&T::list(db, incident.id).await?)) })
    }
}

/// A part's place in the OpenAPI description of the whole postmortem.
pub struct PartSchema {
    /// Its name in the whole postmortem: `timeline`.
    pub name: &'static str,
    pub schema: utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
    /// The schemas `schema` refers to, by name.
    pub named: Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
}

/// The parts of the postmortem, in reading order, and what decides its
/// moves from one status to another.
#[derive(Clone)]
pub struct Document {
    parts: Arc<[Arc<dyn Part>]>,
    gate: Option<Arc<dyn Workflow>>,
    margin: Option<Arc<dyn Margin>>,
    /// Our origin, for the links the workflow sends out.
    origin: Arc<str>,
}

impl Document {
    pub fn new(parts: Vec<Arc<dyn Part>>) -> Document {
        Document { parts: parts.into(), gate: None, margin: None, origin: Arc::from("") }
    }

    /// The document with what is shown beside its parts.
    pub fn with_margin(self, margin: Arc<dyn Margin>) -> Document {
        Document { margin: Some(margin), ..self }
    }

    /// The document with its `workflow`, whose links start with `origin`.
    pub fn with_workflow(self, workflow: Arc<dyn Workflow>, origin: &str) -> Document {
        Document { gate: Some(workflow), origin: origin.into(), ..self }
    }

    /// Why `incident` may not become `to` (see [`Workflow`]).
    pub async fn refusals(
        &self,
        db: &mut PgConnection,
        incident: &Incident,
        to: Status,
    ) -> Result<Vec<String>> {
        match &self.gate {
            Some(gate) => gate.refusals(db, self, incident, to).await,
            None => Ok(Vec::new()),
        }
    }

    /// Tells the workflow that `incident` has moved from `from`.
    pub async fn moved(
        &self,
        db: &mut PgConnection,
        incident: &Incident,
        from: Status,
        actor: Uuid,
    ) -> Result<()> {
        match &self.gate {
            Some(gate) => gate.moved(db, &self.origin, incident, from, actor).await,
            None => Ok(()),
        }
    }

    /// What every part still lacks for a review, in reading order.
    pub async fn gaps(&self, db: &mut PgConnection, incident: &Incident) -> Result<Vec<Gap>> {
        let mut gaps = Vec::new();
        for part in self.parts.iter() {
            gaps.extend(part.gaps(&mut *db, incident).await?);
        }
        Ok(gaps)
    }

    pub fn part(&self, key: &str) -> Option<&Arc<dyn Part>> {
        self.parts.iter().find(|part| part.key() == key)
    }

    pub fn has_part(&self, key: &str) -> bool {
        self.part(key).is_some()
    }

    /// The whole postmortem as one Markdown text: what each revision keeps,
    /// so that any two can be compared line by line.
    pub async fn snapshot(&self, db: &mut PgConnection, incident_id: Uuid) -> Result<String> {
        let incident = db::find_incident(&mut *db, incident_id).await?.ok_or(AppError::NotFound)?;
        let mut out = String::new();
        for part in self.parts.iter() {
            out.push_str(&part.snapshot(&mut *db, &incident).await?);
        }
        Ok(out)
    }

    /// The whole postmortem as a Markdown report: the front matter a
    /// machine reads, then each part's section in reading order.
    pub async fn export(
        &self,
        db: &mut PgConnection,
        incident: &Incident,
        options: &ExportOptions,
    ) -> Result<String> {
        let mut out = front_matter(incident);
        for part in self.parts.iter() {
            let section = part.export(&mut *db, incident, options).await?;
            if !section.is_empty() {
                out.push_str(&section);
                out.push('\n');
            }
        }
        if let Some(margin) = self.margin.as_ref().filter(|_| options.comments) {
            out.push_str(&margin.export(&mut *db, incident, options).await?);
        }
        Ok(out.trim_end().to_owned() + "\n")
    }

    /// Creates every part's records of a new `incident` from an imported
    /// report, in reading order; with no incident, only checks the report.
    pub async fn import(
        &self,
        db: &mut PgConnection,
        incident: Option<&Incident>,
        report: &Report,
        author: Uuid,
    ) -> Result<()> {
        for part in self.parts.iter() {
            part.import(&mut *db, incident, report, author).await?;
        }
        Ok(())
    }

    /// The schema of [`Document::json`]: the incident's fields and each
    /// part's records, so the described answer follows the parts
    /// registered; with the schemas it refers to.
    pub fn json_schema(
        &self,
    ) -> (
        utoipa::openapi::schema::Schema,
        Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
    ) {
        use utoipa::{
            PartialSchema, ToSchema,
            openapi::{
                Ref,
                schema::{AllOfBuilder, ObjectBuilder},
            },
        };
        let mut named = vec![(Incident::name().into_owned(), Incident::schema())];
        Incident::schemas(&mut named);
        let mut own = ObjectBuilder::new();
        for part in self.parts.iter().filter_map(|part| part.json_schema()) {
            own = own.property(part.name, part.schema).required(part.name);
            named.extend(part.named);
        }
        let whole = AllOfBuilder::new()
            .item(Ref::from_schema_name(Incident::name()))
            .item(own)
            .description(Some(
                "The whole postmortem: the incident's own fields and, under its name, every part that \
                 holds records of its own.",
            ))
            .build();
        (utoipa::openapi::schema::Schema::AllOf(whole), named)
    }

    /// The whole postmortem as the API gives it: the incident's fields and,
    /// under its name, every part that holds records of its own.
    pub async fn json(&self, state: &AppState, incident: &Incident) -> Result<serde_json::Value> {
        let mut body = serde_json::to_value(incident).map_err(anyhow::Error::from)?;
        for part in self.parts.iter() {
            if let Some((name, value)) = part.json(state, incident).await? {
                body[name] = value;
            }
        }
        Ok(body)
    }

    /// Every part for one reader; `replaced` stands in for its own part (a
    /// form shown again with what was typed and its errors).
    async fn load(
        &self,
        state: &AppState,
        page: &PageCtx,
        mode: &EditMode,
        incident: &Incident,
        mut replaced: Option<Box<dyn PartView>>,
    ) -> Result<Vec<Box<dyn PartView>>> {
        let mut views = Vec::with_capacity(self.parts.len());
        for part in self.parts.iter() {
            if replaced.as_ref().is_some_and(|view| view.key() == part.key()) {
                views.extend(replaced.take());
                continue;
            }
            let ctx = PartCtx::new(page, incident, mode, part.key());
            views.push(part.load(state, incident, ctx).await?);
        }
        Ok(views)
    }
}

/// The incident's own fields, one per paragraph, in reading order: the
/// start of every snapshot.
pub fn incident_snapshot(incident: &Incident) -> String {
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

/// A list of a part's records as a snapshot section: `## Title` and one
/// item per record, continuation lines indented.
pub fn list_snapshot(title: &str, lines: impl IntoIterator<Item = String>) -> String {
    let mut out = format!("\n## {title}\n\n");
    for line in lines {
        let _ = writeln!(out, "- {}", line.replace('\n', "\n  "));
    }
    out
}

/// What the reader is editing: the whole postmortem or one part of it, for
/// one incident at a time. Kept in the session while they work.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EditMode {
    incident: Option<Uuid>,
    /// `all`, or a part's key.
    scope: String,
}

const EDIT_MODE_KEY: &str = "edit_mode";

impl EditMode {
    pub const ALL: &'static str = "all";

    /// The scope being edited on this incident: `all`, a part's key, or
    /// empty when reading.
    pub fn scope_on(&self, incident_id: Uuid) -> &str {
        if self.incident == Some(incident_id) { &self.scope } else { "" }
    }

    pub fn covers(&self, incident_id: Uuid, key: &str) -> bool {
        let scope = self.scope_on(incident_id);
        scope == Self::ALL || scope == key
    }

    pub async fn read(session: &Session) -> Result<EditMode> {
        Ok(session.get::<EditMode>(EDIT_MODE_KEY).await?.unwrap_or_default())
    }

    /// Starts editing `scope` of the incident, or (with an empty scope)
    /// goes back to reading.
    pub async fn set(session: &Session, incident_id: Uuid, scope: &str) -> Result<()> {
        if scope.is_empty() {
            session.remove::<EditMode>(EDIT_MODE_KEY).await?;
        } else {
            let mode = EditMode { incident: Some(incident_id), scope: scope.to_owned() };
            session.insert(EDIT_MODE_KEY, mode).await?;
        }
        Ok(())
    }
}

/// A request from the incident page: its context, what the reader is
/// editing, and whether the page's script wants only the part back.
pub struct PartRequest {
    pub ctx: PageCtx,
    pub mode: EditMode,
    pub session: Session,
    pub fragment: bool,
}

impl PartRequest {
    pub fn part_ctx(&self, incident: &Incident, key: &str) -> PartCtx {
        PartCtx::new(&self.ctx, incident, &self.mode, key)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PartRequest {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let ctx = PageCtx::from_request_parts(parts, state).await?;
        let session = parts
            .extensions
            .get::<Session>()
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("PartRequest used on a route without the session layer"))?;
        let mode = EditMode::read(&session).await?;
        let fragment = parts.headers.contains_key(PART_HEADER);
        Ok(PartRequest { ctx, mode, session, fragment })
    }
}

/// The whole postmortem, as the incident page shows it.
#[derive(Template)]
#[template(path = "incidents/show.html")]
pub struct IncidentPage {
    pub ctx: PageCtx,
    pub incident: Incident,
    pub parts: Vec<String>,
    pub toc: Vec<TocEntry>,
    /// What the reader is editing: `all`, a part's key, or empty.
    pub editing: String,
}

#[derive(Template)]
#[template(path = "incidents/fragment.html")]
struct Fragment<'a> {
    flashes: &'a [Flash],
    part: &'a str,
    /// The part's line of the table of contents, for the script to update.
    toc: Option<TocEntry>,
}

/// Renders the incident page, `replaced` standing in for its own part.
pub async fn render_page(
    state: &AppState,
    ctx: PageCtx,
    mode: &EditMode,
    incident: Incident,
    replaced: Option<Box<dyn PartView>>,
) -> Result<Html<String>> {
    let views = state.document.load(state, &ctx, mode, &incident, replaced).await?;
    let editing = if ctx.is_editor() { mode.scope_on(incident.id).to_owned() } else { String::new() };
    // The margin is shown while reading: editing has the page to itself.
    let margin = match (&state.document.margin, editing.is_empty()) {
        (Some(margin), true) => {
            let ctx = PartCtx::new(&ctx, &incident, mode, "margin");
            Some(margin.load(state, &incident, ctx).await?)
        }
        _ => None,
    };
    state
        .cpu
        .run(move || {
            let toc = views.iter().filter_map(|view| toc_line(view.as_ref(), margin.as_deref())).collect();
            let parts = views
                .iter()
                .map(|view| {
                    let part = view.render()?;
                    let beside = match &margin {
                        Some(margin) => margin.render(view.key())?,
                        None => String::new(),
                    };
                    Ok(if beside.is_empty() {
                        part
                    } else {
                        format!("<div class=\"doc-row\">{part}{beside}</div>")
                    })
                })
                .collect::<Result<Vec<_>>>()?;
            let page = IncidentPage { ctx, incident, parts, toc, editing };
            Ok(Html(page.render()?))
        })
        .await?
}

/// A part's line of the table of contents: what the part counts, and the
/// open comments on it the margin counts.
fn toc_line(view: &dyn PartView, margin: Option<&dyn MarginView>) -> Option<TocEntry> {
    let mut entry = view.toc()?;
    let noted = margin.map(|margin| margin.count(entry.anchor)).unwrap_or_default();
    if !noted.is_empty() {
        entry.count = if entry.count.is_empty() { noted } else { format!("{}, {noted}", entry.count) };
    }
    Some(entry)
}

/// Renders parts alone, with the messages to show above them: what the
/// page's script swaps in for them, their lines of the table of contents
/// counted as the whole page counts them.
async fn render_fragment(
    state: &AppState,
    request: &PartRequest,
    incident: &Incident,
    flashes: Vec<Flash>,
    views: Vec<Box<dyn PartView>>,
) -> Result<Html<String>> {
    let margin = match &state.document.margin {
        Some(margin) => Some(margin.load(state, incident, request.part_ctx(incident, "margin")).await?),
        None => None,
    };
    state
        .cpu
        .run(move || {
            let mut html = String::new();
            for (index, view) in views.iter().enumerate() {
                let part = view.render()?;
                let flashes = if index == 0 { flashes.as_slice() } else { &[] };
                let toc = toc_line(view.as_ref(), margin.as_deref());
                html.push_str(&Fragment { flashes, part: &part, toc }.render()?);
            }
            Ok(Html(html))
        })
        .await?
}

/// The answer to a saved change of a part: the part anew for the page's
/// script, or for a plain form a message and the way back to the part.
pub async fn saved(
    state: &AppState,
    request: PartRequest,
    incident: &Incident,
    key: &str,
    flash: Flash,
) -> Result<Response> {
    saved_with(state, request, incident, key, &[], flash).await
}

/// [`saved`], for a change that also shows in the parts `also` (evidence
/// linked to a timeline event shows under the event).
pub async fn saved_with(
    state: &AppState,
    request: PartRequest,
    incident: &Incident,
    key: &str,
    also: &[&str],
    flash: Flash,
) -> Result<Response> {
    if request.fragment
        && let Some(part) = state.document.part(key)
    {
        // The head too: it counts the changes, and its forms carry the
        // incident's version, which a change of its fields moves on.
        let incident = db::find_incident(&state.pool, incident.id).await?.ok_or(AppError::NotFound)?;
        let mut views = vec![part.load(state, &incident, request.part_ctx(&incident, key)).await?];
        for other in also.iter().filter_map(|other| state.document.part(other)) {
            views.push(other.load(state, &incident, request.part_ctx(&incident, other.key())).await?);
        }
        if let Some(head) = state.document.parts.first().filter(|head| head.key() != key) {
            views.push(head.load(state, &incident, request.part_ctx(&incident, head.key())).await?);
        }
        return Ok(render_fragment(state, &request, &incident, vec![flash], views).await?.into_response());
    }
    session::push_flash(&request.session, flash).await?;
    Ok(Redirect::to(&format!("/incidents/{}#{key}", incident.reference)).into_response())
}

/// The answer to a change that was not saved: its part shown again (the
/// form with what was typed and why it was refused), alone for the page's
/// script or within the whole page.
pub async fn refused(
    state: &AppState,
    request: PartRequest,
    incident: Incident,
    view: Box<dyn PartView>,
    status: StatusCode,
) -> Result<Response> {
    let html = if request.fragment {
        let flashes = request.ctx.flashes.clone();
        render_fragment(state, &request, &incident, flashes, vec![view]).await?
    } else {
        render_page(state, request.ctx, &request.mode, incident, Some(view)).await?
    };
    Ok((status, html).into_response())
}
