//! The blameless-language assistant: wording that blames a person, pointed
//! out with a suggestion in system terms, while typing (the editors'
//! script asks `/wording`, the same check as the API's `/api/v1/wording`)
//! and on save, never blocking a save. Admins add phrases and switch the
//! built-in rules off.

pub mod db;
pub mod rules;

use askama::Template;
use axum::{
    Json, Router,
    extract::{Extension, Path, State, rejection::JsonRejection},
    http::StatusCode,
    middleware,
    response::{Html, IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::Value;
use tower_sessions::Session;
use uuid::Uuid;

use self::rules::{BUILT_IN, MAX_CHECKED_CHARS, Note};
use crate::{
    auth::domain::Role,
    error::{AppError, Result, render},
    state::AppState,
    web::{
        CurrentUser, Flash, Form, FormErrors, PageCtx, json::json_rejection, path::RecordId, require_role,
        session,
    },
};

/// Pages: the check for the editors' script; the rules, for admins.
pub fn router() -> Router<AppState> {
    let editors = Router::new()
        .route("/wording", post(check))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role));
    let admins = Router::new()
        .route("/admin/wording", get(show_rules).post(add_phrase))
        .route("/admin/wording/rules/{key}", post(switch_rule))
        .route("/admin/wording/phrases/{id}/delete", post(remove_phrase))
        .route_layer(middleware::from_fn_with_state(Role::Admin, require_role));
    editors.merge(admins)
}

/// API routes, mounted under `/api/v1`.
pub fn api_router() -> Router<AppState> {
    Router::new()
        .route("/wording", post(check))
        .route_layer(middleware::from_fn_with_state(Role::Viewer, require_role))
}

/// The notes on `text` with the rules as they stand; on the CPU pool.
pub async fn notes(state: &AppState, text: String) -> Result<Vec<Note>> {
    let rules = db::rules(&state.pool).await?;
    state.cpu.run(move || rules::check(&text, &rules)).await
}

/// `POST /api/v1/wording` (and `/wording`): `{"text"}` ->
/// `{"notes":[{"start","end","rule","message","suggestion"}]}`, offsets in
/// characters.
#[tracing::instrument(skip_all)]
#[utoipa::path(
    post,
    path = "/api/v1/wording",
    tag = "wording",
    summary = "Blameless-language notes on a text",
    request_body = crate::web::api_schemas::WordingInput,
    responses((status = 200, description = "OK", body = WordingNotes), crate::web::api_schemas::WriteErrors),
    security(("bearer" = []))
)]
pub async fn check(
    State(state): State<AppState>,
    body: std::result::Result<Json<serde_json::Map<String, Value>>, JsonRejection>,
) -> Result<Json<WordingNotes>> {
    let Json(body) = body.map_err(json_rejection)?;
    let text = match body.get("text") {
        Some(Value::String(text)) => text.clone(),
        _ => return Err(AppError::Unprocessable("text: the text to check, as a string.".into())),
    };
    if text.chars().count() > MAX_CHECKED_CHARS {
        return Err(AppError::PayloadTooLarge(format!(
            "A text checked has at most {MAX_CHECKED_CHARS} characters."
        )));
    }
    Ok(Json(WordingNotes { notes: notes(&state, text).await? }))
}

/// The notes on a text, in reading order.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct WordingNotes {
    notes: Vec<rules::Note>,
}

/// What saved text says to look at again: a message for the page after a
/// save, or nothing. Never a reason not to save: called once the text is
/// saved, and a check that cannot run says nothing.
pub async fn after_save(state: &AppState, texts: &[&str]) -> Option<Flash> {
    let joined = texts.join("\n\n");
    if joined.trim().is_empty() {
        return None;
    }
    let notes = match notes(state, joined.clone()).await {
        Ok(notes) if !notes.is_empty() => notes,
        Ok(_) => return None,
        Err(err) => {
            tracing::warn!(error = %err, "the wording of a save could not be checked");
            return None;
        }
    };
    let shown: Vec<String> = notes
        .iter()
        .take(3)
        .map(|note| {
            let words: String = joined.chars().skip(note.start).take(note.end - note.start).collect();
            format!("\u{201c}{words}\u{201d}: {}", note.suggestion)
        })
        .collect();
    let more = if notes.len() > 3 { format!(" (and {} more)", notes.len() - 3) } else { String::new() };
    Some(Flash::info(format!(
        "Saved. Wording to look at again, to keep it blameless: {}{more}",
        shown.join(" · ")
    )))
}

#[derive(Template)]
#[template(path = "admin/wording.html")]
struct RulesPage {
    ctx: PageCtx,
    built_in: Vec<(&'static str, &'static str, &'static str, bool)>,
    phrases: Vec<(Uuid, rules::CustomRule)>,
    form: PhraseForm,
    errors: FormErrors,
}

async fn rules_page(
    state: &AppState,
    ctx: PageCtx,
    form: PhraseForm,
    errors: FormErrors,
) -> Result<RulesPage> {
    let current = db::rules(&state.pool).await?;
    let built_in = BUILT_IN
        .iter()
        .map(|(key, message, suggestion)| {
            (*key, *message, *suggestion, !current.disabled.iter().any(|d| d == key))
        })
        .collect();
    let phrases = current
        .custom
        .into_iter()
        .filter_map(|rule| Uuid::parse_str(rule.key.trim_start_matches("custom-")).ok().map(|id| (id, rule)))
        .collect();
    Ok(RulesPage { ctx, built_in, phrases, form, errors })
}

/// `GET /admin/wording`
#[tracing::instrument(skip_all)]
async fn show_rules(State(state): State<AppState>, ctx: PageCtx) -> Result<Html<String>> {
    render(&rules_page(&state, ctx, PhraseForm::default(), FormErrors::default()).await?)
}

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
struct PhraseForm {
    phrase: String,
    message: String,
    suggestion: String,
}

/// `POST /admin/wording`: a phrase to point out wherever it is written.
#[tracing::instrument(skip_all)]
async fn add_phrase(
    State(state): State<AppState>,
    Extension(user): Extension<CurrentUser>,
    session: Session,
    ctx: PageCtx,
    Form(form): Form<PhraseForm>,
) -> Result<Response> {
    let mut errors = FormErrors::default();
    let phrase = form.phrase.split_whitespace().collect::<Vec<_>>().join(" ").to_lowercase();
    if phrase.chars().count() < 2 || phrase.chars().count() > 80 || phrase.chars().any(char::is_control) {
        errors.add("phrase", "A phrase has 2 to 80 printable characters.");
    }
    let message = form.message.trim();
    let suggestion = form.suggestion.trim();
    if message.is_empty() || message.chars().count() > 300 {
        errors.add("message", "Say in up to 300 characters why it blames.");
    }
    if suggestion.is_empty() || suggestion.chars().count() > 300 {
        errors.add("suggestion", "Suggest in up to 300 characters what to write instead.");
    }
    if errors.is_empty() {
        if db::add_phrase(&state.pool, &phrase, message, suggestion, user.0.id).await? {
            session::push_flash(
                &session,
                Flash::success(format!("\u{201c}{phrase}\u{201d} is pointed out from now on.")),
            )
            .await?;
            return Ok(Redirect::to("/admin/wording").into_response());
        }
        errors.add("phrase", "That phrase is a rule already.");
    }
    let page = rules_page(&state, ctx, form, errors).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, state.cpu.render(page).await?).into_response())
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SwitchForm {
    enabled: String,
}

/// `POST /admin/wording/rules/{key}`: switches a built-in rule on or off.
#[tracing::instrument(skip_all)]
async fn switch_rule(
    State(state): State<AppState>,
    session: Session,
    Path(key): Path<String>,
    Form(form): Form<SwitchForm>,
) -> Result<Response> {
    let Some((key, _, _)) = BUILT_IN.iter().find(|(k, _, _)| *k == key) else {
        return Err(AppError::NotFound);
    };
    let enabled = form.enabled == "true";
    db::switch(&state.pool, key, enabled).await?;
    let said = if enabled { "on" } else { "off" };
    session::push_flash(&session, Flash::success(format!("The rule \u{201c}{key}\u{201d} is {said}.")))
        .await?;
    Ok(Redirect::to("/admin/wording").into_response())
}

/// `POST /admin/wording/phrases/{id}/delete`
#[tracing::instrument(skip_all)]
async fn remove_phrase(
    State(state): State<AppState>,
    session: Session,
    RecordId(id): RecordId,
) -> Result<Response> {
    db::remove_phrase(&state.pool, id).await?;
    session::push_flash(&session, Flash::success("The phrase is no longer pointed out.")).await?;
    Ok(Redirect::to("/admin/wording").into_response())
}
