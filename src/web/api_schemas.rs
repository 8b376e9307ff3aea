//! The parts of the OpenAPI document every feature shares: the error body
//! and the errors of reads and writes, the path and query parameters, and
//! the request bodies of no feature's own. Answers are described by the
//! types the handlers serialise, which derive their schemas (the whole
//! postmortem's from its parts, see `api::openapi`); each feature describes
//! its own request bodies beside its handlers. `tests/app/api_contract.rs`
//! checks every answer of a walk through the API against the document,
//! field by field, both ways.
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

/// The multipart form of an upload.
#[derive(ToSchema)]
pub struct ArtifactUpload {
    #[schema(value_type = String, format = Binary)]
    pub file: Vec<u8>,
    pub note: Option<String>,
    pub timeline_event_id: Option<Uuid>,
}

// Request bodies the handlers read field by field (to name the field at
// fault): these describe them.

/// A list of strings, or the same as one string, comma-separated.
#[derive(serde::Deserialize, ToSchema)]
#[serde(untagged)]
#[allow(clippy::enum_variant_names)]
pub enum Labels {
    List(Vec<String>),
    Text(String),
}

/// `{"text":".."}`: at most 100,000 characters (413 past them).
#[derive(ToSchema)]
pub struct WordingInput {
    #[schema(max_length = 100000)]
    pub text: String,
}
