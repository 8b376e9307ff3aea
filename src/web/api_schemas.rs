//! Schemas of the API's bodies for the OpenAPI document only: they describe
//! the documented fields of bodies the handlers build as JSON maps, and the
//! shared error body. Nothing constructs them; fields not listed here may
//! appear too (the contract only ever adds fields).
#![allow(dead_code)]

use std::collections::BTreeMap;

use utoipa::{
    IntoParams, IntoResponses, ToSchema,
    openapi::{ContentBuilder, RefOr, ResponseBuilder, response::Response},
};
use uuid::Uuid;

/// The body of every error: `{"error":{"code","message"}}`.
#[derive(ToSchema)]
pub struct ApiError {
    pub error: ErrorDetail,
}

#[derive(ToSchema)]
pub struct ErrorDetail {
    /// A stable, machine-readable code (`not_found`, `conflict`, ...).
    pub code: String,
    pub message: String,
}

fn errors(statuses: &[(u16, &str)]) -> BTreeMap<String, RefOr<Response>> {
    statuses
        .iter()
        .map(|(status, description)| {
            let content = ContentBuilder::new()
                .schema(Some(RefOr::Ref(utoipa::openapi::Ref::from_schema_name("ApiError"))));
            let response =
                ResponseBuilder::new().description(*description).content("application/json", content.build());
            (status.to_string(), RefOr::T(response.build()))
        })
        .collect()
}

const UNAUTHORIZED: (u16, &str) = (401, "No valid bearer token");
const FORBIDDEN: (u16, &str) = (403, "The token's user lacks the role");
const BAD_REQUEST: (u16, &str) = (400, "A malformed query or body");
const NOT_FOUND: (u16, &str) = (404, "No such record");

/// The errors of a read: 400, 401, 403, 404.
pub struct ReadErrors;

impl IntoResponses for ReadErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[BAD_REQUEST, UNAUTHORIZED, FORBIDDEN, NOT_FOUND])
    }
}

/// The errors of a write: 400, 401, 403, 404, 409, 413, 415, 422.
pub struct WriteErrors;

impl IntoResponses for WriteErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        errors(&[
            BAD_REQUEST,
            UNAUTHORIZED,
            FORBIDDEN,
            NOT_FOUND,
            (409, "A stale version, or a conflicting record"),
            (413, "The body is over the limit"),
            (415, "The body is not of the expected media type"),
            (422, "The body is well formed but refused, with the reason"),
        ])
    }
}

/// An incident's `{id}`: its id, its reference (`INC-42`) or its number (`42`).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct IncidentId {
    /// The incident's id (a UUID), reference (`INC-42`) or number (`42`).
    pub id: String,
}

/// A record's `{id}` (a UUID).
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct RecordId {
    pub id: Uuid,
}

/// A playbook's `{id}`: its id or its slug.
#[derive(IntoParams)]
#[into_params(parameter_in = Path)]
pub struct PlaybookKey {
    /// The playbook's id (a UUID) or slug.
    pub id: String,
}

/// The filters shared by the incident list, search, export and insights.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchFilters {
    /// Full-text query.
    pub q: Option<String>,
    pub severity: Option<String>,
    pub status: Option<String>,
    pub service: Option<String>,
    pub tag: Option<String>,
    pub cause: Option<String>,
    /// A date (`YYYY-MM-DD`) the incident started on or after.
    pub from: Option<String>,
    /// A date (`YYYY-MM-DD`) the incident started on or before.
    pub to: Option<String>,
    pub sort: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// Paging for lists.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}

/// How names appear in an export: `names=roles` replaces people by roles.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportNames {
    pub names: Option<String>,
}

/// Which sample type of a profile to read (its default otherwise).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SampleType {
    pub sample_type: Option<String>,
}

/// The token's user.
#[derive(ToSchema)]
pub struct Me {
    pub id: Uuid,
    pub email: String,
    pub name: String,
    pub role: String,
}

/// An incident's own fields.
#[derive(ToSchema)]
pub struct Incident {
    pub id: Uuid,
    pub number: i64,
    /// Its reference, `INC-42`.
    #[schema(rename = "ref")]
    pub reference: String,
    pub title: String,
    pub severity: String,
    pub status: String,
    pub services: Vec<String>,
    pub tags: Vec<String>,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: String,
    pub version: i64,
}

/// `POST /api/v1/incidents`: at least these; the other fields of an incident may be given too.
#[derive(ToSchema)]
pub struct NewIncident {
    pub title: String,
    /// `SEV1` to `SEV4`.
    #[schema(value_type = String, pattern = "^SEV[1-4]$")]
    pub severity: String,
    #[schema(value_type = String, format = DateTime)]
    pub started_at: String,
    pub services: Option<Vec<String>>,
    pub tags: Option<Vec<String>>,
    pub summary: Option<String>,
}

/// A partial update: the fields to change and the `version` it was based on.
#[derive(ToSchema)]
pub struct IncidentChanges {
    pub version: i64,
    pub title: Option<String>,
    pub severity: Option<String>,
    pub summary: Option<String>,
    pub impact: Option<String>,
}

/// The whole postmortem: the incident's fields and its parts.
#[derive(ToSchema)]
pub struct Postmortem {
    pub id: Uuid,
    pub number: i64,
    pub title: String,
    pub version: i64,
    pub timeline: Vec<TimelineEvent>,
    pub causes: Vec<Cause>,
    pub action_items: Vec<ActionItem>,
    pub artifacts: Vec<serde_json::Value>,
    pub checklists: Vec<Checklist>,
}

/// `{"incidents":[...],"total":N}`, newest first.
#[derive(ToSchema)]
pub struct IncidentList {
    pub incidents: Vec<Incident>,
    pub total: i64,
}

/// Search hits, best first.
#[derive(ToSchema)]
pub struct SearchResults {
    pub hits: Vec<SearchHit>,
    pub total: i64,
}

#[derive(ToSchema)]
pub struct SearchHit {
    pub id: Uuid,
    pub number: i64,
    pub title: String,
    pub severity: String,
    pub snippet: String,
    pub score: f64,
}

/// Past incidents like this one, best first.
#[derive(ToSchema)]
pub struct SimilarList {
    pub similar: Vec<SimilarIncident>,
}

#[derive(ToSchema)]
pub struct SimilarIncident {
    pub id: Uuid,
    pub number: i64,
    pub title: String,
    pub score: f64,
    pub reasons: Vec<String>,
}

/// An entry of the timeline.
#[derive(ToSchema)]
pub struct TimelineEvent {
    pub id: Uuid,
    pub incident_id: Uuid,
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: String,
    pub kind: String,
    pub body: String,
    pub version: i64,
}

/// A new timeline entry (a partial update takes the same fields and `version`).
#[derive(ToSchema)]
pub struct TimelineInput {
    #[schema(value_type = String, format = DateTime)]
    pub occurred_at: String,
    pub kind: Option<String>,
    pub body: String,
    pub version: Option<i64>,
}

/// A contributing cause.
#[derive(ToSchema)]
pub struct Cause {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub kind: String,
    pub category: String,
    pub description: String,
    pub whys: Vec<String>,
    pub version: i64,
}

/// A cause's fields (a partial update takes any of them and `version`).
#[derive(ToSchema)]
pub struct CauseInput {
    pub kind: Option<String>,
    pub category: Option<String>,
    pub description: Option<String>,
    pub whys: Option<Vec<String>>,
    pub version: Option<i64>,
}

/// A follow-up action.
#[derive(ToSchema)]
pub struct ActionItem {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub title: String,
    pub kind: String,
    pub owner_id: Option<Uuid>,
    /// A date, `YYYY-MM-DD`.
    pub due_on: Option<String>,
    pub priority: String,
    pub status: String,
    pub version: i64,
}

/// An action item's fields (a partial update takes any of them and `version`).
#[derive(ToSchema)]
pub struct ActionItemInput {
    pub title: Option<String>,
    pub kind: Option<String>,
    pub owner_id: Option<Uuid>,
    pub due_on: Option<String>,
    pub priority: Option<String>,
    pub status: Option<String>,
    pub version: Option<i64>,
}

/// An uploaded artifact, as the upload answers it.
#[derive(ToSchema)]
pub struct ArtifactCreated {
    pub id: Uuid,
    /// `pprof`, `goroutine_dump`, `go_trace` or `other`.
    pub format: String,
    pub size: i64,
    pub sha256: String,
}

/// The multipart form of an upload.
#[derive(ToSchema)]
pub struct ArtifactUpload {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub note: Option<String>,
    pub timeline_event_id: Option<Uuid>,
}

/// An artifact's metadata and its `analysis` (`null` while `analysis_status` is `pending`).
#[derive(ToSchema)]
pub struct Artifact {
    pub id: Uuid,
    pub format: String,
    pub size: i64,
    pub sha256: String,
    pub analysis_status: String,
    /// The analysis: `pprof`, `goroutine_dump` or `go_trace`, as DESIGN.md describes.
    pub analysis: Option<serde_json::Value>,
}

/// Target minus base: `pprof_diff` (`sample_type`, `top`) or `goroutine_diff` (`groups`).
#[derive(ToSchema)]
pub struct ArtifactDiff {
    pub format: String,
}

/// A profile's view (flame graph data) for one sample type.
#[derive(ToSchema)]
pub struct ProfileView {
    pub format: Option<String>,
}

/// A playbook, with its versions when read alone.
#[derive(ToSchema)]
pub struct Playbook {
    pub id: Uuid,
    pub slug: String,
    pub title: String,
    pub body: String,
    pub version: i64,
}

/// `{"playbooks":[...]}`.
#[derive(ToSchema)]
pub struct PlaybookList {
    pub playbooks: Vec<Playbook>,
}

/// A playbook's fields; an edit makes a new version.
#[derive(ToSchema)]
pub struct PlaybookInput {
    pub title: Option<String>,
    pub body: Option<String>,
    pub slug: Option<String>,
}

/// Checklists applied to an incident, and playbooks suggested for it (best first).
#[derive(ToSchema)]
pub struct IncidentPlaybooks {
    pub applied: Vec<Checklist>,
    pub suggested: Vec<PlaybookSuggestion>,
}

#[derive(ToSchema)]
pub struct PlaybookSuggestion {
    pub playbook_id: Uuid,
    pub title: String,
    pub reasons: Vec<String>,
}

/// `{"playbook_id":".."}` (an id or a slug).
#[derive(ToSchema)]
pub struct ApplyPlaybook {
    pub playbook_id: String,
}

/// A playbook's steps as a checklist.
#[derive(ToSchema)]
pub struct Checklist {
    pub id: Uuid,
    pub incident_id: Option<Uuid>,
    pub playbook_id: Option<Uuid>,
    pub title: String,
    pub items: Vec<ChecklistItem>,
}

#[derive(ToSchema)]
pub struct ChecklistItem {
    pub id: Uuid,
    pub checklist_id: Uuid,
    pub text: String,
    /// `open`, `done` or `not_applicable`.
    pub state: String,
    pub note: String,
    pub version: i64,
}

/// `{"state":"done"|"not_applicable"|"open","note":"..","version":N}`.
#[derive(ToSchema)]
pub struct TickItem {
    #[schema(pattern = "^(done|not_applicable|open)$")]
    pub state: String,
    pub note: Option<String>,
    pub version: i64,
}

/// `{"status":"draft"|"in_review"|"published","version":N}`.
#[derive(ToSchema)]
pub struct StatusMove {
    #[schema(pattern = "^(draft|in_review|published)$")]
    pub status: String,
    pub version: i64,
}

/// `{"user_id":".."}`.
#[derive(ToSchema)]
pub struct AskReviewer {
    pub user_id: Uuid,
}

/// `{"verdict":"approve"|"request_changes","note":".."}`.
#[derive(ToSchema)]
pub struct Verdict {
    #[schema(pattern = "^(approve|request_changes)$")]
    pub verdict: String,
    pub note: Option<String>,
}

/// A reviewer's verdict.
#[derive(ToSchema)]
pub struct Review {
    pub id: Uuid,
    pub reviewer_id: Uuid,
    pub reviewer_name: String,
    pub verdict: String,
    pub note: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
}

/// The reviewers asked and the verdicts given.
#[derive(ToSchema)]
pub struct ReviewList {
    pub reviewers: Vec<serde_json::Value>,
    pub reviews: Vec<Review>,
}

/// What publishing still needs.
#[derive(ToSchema)]
pub struct Readiness {
    pub gaps: Vec<serde_json::Value>,
    pub approvals: i64,
    pub approvals_needed: i64,
    pub can_publish: bool,
}

/// A comment on a part of the postmortem.
#[derive(ToSchema)]
pub struct Comment {
    pub id: Uuid,
    pub incident_id: Uuid,
    pub target_kind: String,
    pub target_id: String,
    pub parent_id: Option<Uuid>,
    pub body: String,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
    pub resolved: bool,
}

/// `{"comments":[...]}`.
#[derive(ToSchema)]
pub struct CommentList {
    pub comments: Vec<Comment>,
}

/// A new comment.
#[derive(ToSchema)]
pub struct NewComment {
    pub body: String,
    pub target_kind: String,
    pub target_id: String,
    pub parent_id: Option<Uuid>,
}

/// A comment's edit: a new `body`, or `{"resolved":true}`.
#[derive(ToSchema)]
pub struct CommentChanges {
    pub body: Option<String>,
    pub resolved: Option<bool>,
}

/// The token user's notifications, newest first.
#[derive(ToSchema)]
pub struct NotificationList {
    pub notifications: Vec<Notification>,
}

#[derive(ToSchema)]
pub struct Notification {
    pub id: Uuid,
    pub kind: String,
    pub incident_id: Option<Uuid>,
    pub read: bool,
    #[schema(value_type = String, format = DateTime)]
    pub created_at: String,
}

/// `{"text":".."}`.
#[derive(ToSchema)]
pub struct WordingInput {
    pub text: String,
}

/// The blameless-language notes on a text (offsets in characters).
#[derive(ToSchema)]
pub struct WordingNotes {
    pub notes: Vec<WordingNote>,
}

#[derive(ToSchema)]
pub struct WordingNote {
    pub start: i64,
    pub end: i64,
    pub rule: String,
    pub message: String,
    pub suggestion: Option<String>,
}

/// The figures behind the insights page.
#[derive(ToSchema)]
pub struct Insights {}

/// Audit events, newest first, paged.
#[derive(ToSchema)]
pub struct AuditPage {
    pub events: Vec<AuditEvent>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

#[derive(ToSchema)]
pub struct AuditEvent {
    pub id: i64,
    #[schema(value_type = String, format = DateTime)]
    pub at: String,
    pub action: String,
    pub actor_id: Option<Uuid>,
}

/// The audit filters.
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditFilters {
    pub action: Option<String>,
    pub actor: Option<String>,
    pub address: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub page: Option<i64>,
    pub per_page: Option<i64>,
}
