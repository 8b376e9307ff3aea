//! The review's pages: readiness before sending a draft for review, asking
//! reviewers, verdicts, and the admins' rules of publishing.

use askama::Template;
use axum::{
    extract::{Extension, State},
    response::{Html, Redirect, Response},
};
use serde::Deserialize;
use tower_sessions::Session;
use uuid::Uuid;

use super::{REQUIRABLE, Readiness, Verdict, db, part::KEY};
use crate::{
    error::{AppError, Result, render},
    incidents::{
        db::Incident,
        document::{self, PartRequest},
        domain::{Severity, Status},
        path::IncidentPath,
    },
    state::AppState,
    web::{CurrentUser, Flash, Form, PageCtx, session},
    wording::rules::MAX_CHECKED_CHARS,
};

/// How many wording notes the readiness page quotes.
const QUOTED_NOTES: usize = 8;

/// A wording note quoted from the postmortem.
pub struct Quote {
    pub words: String,
    pub suggestion: String,
}

#[derive(Template)]
#[template(path = "review/send.html")]
pub struct ReadinessPage {
    pub ctx: PageCtx,
    pub incident: Incident,
    pub readiness: Readiness,
    pub reviewers: Vec<db::Reviewer>,
    pub wording: Vec<Quote>,
    pub wording_total: usize,
}

/// `GET /incidents/{reference}/review`: what is still missing, the wording
/// to look at again, who is asked; then the confirmation that sends it.
#[tracing::instrument(skip_all)]
pub async fn readiness_page(
    State(state): State<AppState>,
    ctx: PageCtx,
    IncidentPath(incident): IncidentPath,
) -> Result<Response> {
    if incident.status != Status::Draft {
        return Ok(axum::response::IntoResponse::into_response(Redirect::to(&format!(
            "/incidents/{}#review",
            incident.reference
        ))));
    }
    let mut db = state.pool.acquire().await?;
    let readiness = Readiness::of(&mut db, &state.document, &incident).await?;
    let reviewers = db::reviewers(&mut *db, incident.id).await?;
    let text: String =
        state.document.snapshot(&mut db, incident.id).await?.chars().take(MAX_CHECKED_CHARS).collect();
    drop(db);
    let notes = crate::wording::notes(&state, text.clone()).await?;
    let wording_total = notes.len();
    let chars: Vec<char> = text.chars().collect();
    let wording = notes
        .iter()
        .take(QUOTED_NOTES)
        .map(|note| Quote {
            words: chars[note.start.min(chars.len())..note.end.min(chars.len())].iter().collect(),
            suggestion: note.suggestion.clone(),
        })
        .collect();
    let page = ReadinessPage { ctx, incident, readiness, reviewers, wording, wording_total };
    Ok(axum::response::IntoResponse::into_response(render(&page)?))
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ReviewerForm {
    user_id: String,
}

/// `POST /incidents/{reference}/reviewers`: ask someone to review.
#[tracing::instrument(skip_all)]
pub async fn ask_reviewer(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    request: PartRequest,
    Form(form): Form<ReviewerForm>,
) -> Result<Response> {
    let flash = match parse_user(&form.user_id) {
        Ok(id) => match super::ask(&state, &incident, id, &user.0).await {
            Ok((reviewer, true)) => Flash::success(format!("Asked {} to review it.", reviewer.name)),
            Ok((reviewer, false)) => Flash::info(format!("{} was already asked.", reviewer.name)),
            Err(AppError::Unprocessable(message)) => Flash::error(without_field(&message)),
            Err(err) => return Err(err),
        },
        Err(message) => Flash::error(message),
    };
    document::saved(&state, request, &incident, KEY, flash).await
}

/// `POST /incidents/{reference}/reviewers/withdraw`: no longer ask someone
/// who has not reviewed yet.
#[tracing::instrument(skip_all)]
pub async fn withdraw_reviewer(
    State(state): State<AppState>,
    IncidentPath(incident): IncidentPath,
    request: PartRequest,
    Form(form): Form<ReviewerForm>,
) -> Result<Response> {
    let flash = match parse_user(&form.user_id) {
        Ok(id) if db::withdraw(&state.pool, incident.id, id).await? => Flash::success("No longer asked."),
        Ok(_) => Flash::info("They were not asked."),
        Err(message) => Flash::error(message),
    };
    document::saved(&state, request, &incident, KEY, flash).await
}

fn parse_user(raw: &str) -> std::result::Result<Uuid, String> {
    raw.trim().parse().map_err(|_| "Choose someone from the list.".to_owned())
}

/// "user_id: the reason" -> "The reason" for a flash.
fn without_field(message: &str) -> String {
    let text = message.split_once(": ").map_or(message, |(_, text)| text);
    let mut chars = text.chars();
    chars.next().map(|first| first.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct VerdictForm {
    verdict: String,
    note: String,
}

/// `POST /incidents/{reference}/reviews`: approve, or ask for changes.
#[tracing::instrument(skip_all)]
pub async fn give_verdict(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    IncidentPath(incident): IncidentPath,
    request: PartRequest,
    Form(form): Form<VerdictForm>,
) -> Result<Response> {
    let outcome = match Verdict::parse(&form.verdict) {
        Ok(verdict) => {
            super::give_verdict(&state, &incident, &user.0, verdict, &form.note).await.map(|_| verdict)
        }
        Err(err) => Err(err),
    };
    let flash = match outcome {
        Ok(Verdict::Approve) => Flash::success(format!("You approved {}.", incident.reference)),
        Ok(Verdict::RequestChanges) => Flash::success("You asked for changes; the author has been told."),
        Err(
            AppError::Unprocessable(message) | AppError::Forbidden(message) | AppError::Conflict(message),
        ) => Flash::error(without_field(&message)),
        Err(err) => return Err(err),
    };
    document::saved(&state, request, &incident, KEY, flash).await
}

/// One severity's rule as the admin page shows it.
pub struct RuleRow {
    pub severity: Severity,
    pub required: Vec<String>,
    pub approvals: i32,
}

impl RuleRow {
    pub fn requires(&self, key: &str) -> bool {
        self.required.iter().any(|required| required == key)
    }
}

#[derive(Template)]
#[template(path = "review/rules.html")]
pub struct RulesPage {
    pub ctx: PageCtx,
    pub rows: Vec<RuleRow>,
    pub requirable: [(&'static str, &'static str); 10],
}

/// `GET /admin/review`: what publishing needs, per severity.
#[tracing::instrument(skip_all)]
pub async fn rules_page(State(state): State<AppState>, ctx: PageCtx) -> Result<Html<String>> {
    let mut db = state.pool.acquire().await?;
    let mut rows = Vec::new();
    for severity in Severity::ALL {
        let rule = db::rule(&mut *db, severity).await?;
        rows.push(RuleRow { severity, required: rule.required, approvals: rule.approvals });
    }
    render(&RulesPage { ctx, rows, requirable: REQUIRABLE })
}

/// `POST /admin/review`: fields `SEV1.required` (repeated) and
/// `SEV1.approvals`, for each severity.
#[tracing::instrument(skip_all)]
pub async fn save_rules(
    State(state): State<AppState>,
    session: Session,
    Form(fields): Form<Vec<(String, String)>>,
) -> Result<Redirect> {
    let mut rules = Vec::new();
    for severity in Severity::ALL {
        let name = severity.as_str();
        let required: Vec<String> = REQUIRABLE
            .iter()
            .map(|(key, _)| *key)
            .filter(|key| {
                fields.iter().any(|(field, value)| *field == format!("{name}.required") && value == key)
            })
            .map(str::to_owned)
            .collect();
        let approvals = fields
            .iter()
            .find(|(field, _)| *field == format!("{name}.approvals"))
            .map(|(_, value)| value.trim().parse::<i32>())
            .transpose()
            .ok()
            .flatten()
            .filter(|n| (0..=10).contains(n));
        let Some(approvals) = approvals else {
            session::push_flash(
                &session,
                Flash::error(format!("{name}: approvals is a number from 0 to 10.")),
            )
            .await?;
            return Ok(Redirect::to("/admin/review"));
        };
        rules.push(db::Rule { severity: name.to_owned(), required, approvals });
    }
    let mut tx = state.pool.begin().await?;
    for rule in &rules {
        db::save_rule(&mut *tx, rule).await?;
    }
    tx.commit().await?;
    session::push_flash(&session, Flash::success("The rules of publishing are saved.")).await?;
    Ok(Redirect::to("/admin/review"))
}
