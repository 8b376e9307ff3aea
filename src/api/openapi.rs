//! The OpenAPI 3.1 document of the API, generated from the handlers'
//! `#[utoipa::path]` attributes so it cannot drift from them; served at
//! `/api/v1/openapi.json` without a token, and read by the `/api-docs` page.

use std::sync::OnceLock;

use axum::{http::header, response::IntoResponse};
use utoipa::{
    Modify, OpenApi,
    openapi::{
        ContentBuilder, Ref, RefOr,
        security::{HttpAuthScheme, HttpBuilder, SecurityScheme},
    },
};

#[derive(OpenApi)]
#[openapi(
    info(title = "Debrief API", version = "1", description = "Blameless postmortems: the JSON API under /api/v1."),
    modifiers(&BearerToken, &WholePostmortem),
    paths(
        show_openapi,
        crate::api::handlers::show_me,
        crate::incidents::api::show_incident,
        crate::incidents::api::create_incident,
        crate::incidents::api::update_incident,
        crate::search::api::list_incidents,
        crate::search::api::search,
        crate::search::api::similar,
        crate::timeline::api::create_event,
        crate::timeline::api::update_event,
        crate::timeline::api::delete_event,
        crate::causes::api::create_cause,
        crate::causes::api::update_cause,
        crate::causes::api::delete_cause,
        crate::action_items::api::create_item,
        crate::action_items::api::update_item,
        crate::action_items::api::delete_item,
        crate::playbooks::api::list_playbooks,
        crate::playbooks::api::show_playbook,
        crate::playbooks::api::create_playbook,
        crate::playbooks::api::update_playbook,
        crate::playbooks::api::incident_playbooks,
        crate::playbooks::api::apply_playbook,
        crate::playbooks::api::start_run,
        crate::playbooks::api::tick_item,
        crate::playbooks::api::make_action_item,
        crate::review::api::move_status,
        crate::review::api::ask_reviewer,
        crate::review::api::give_verdict,
        crate::review::api::list_reviews,
        crate::review::api::readiness,
        crate::comments::api::list,
        crate::comments::api::create,
        crate::comments::api::update,
        crate::evidence::api::upload,
        crate::evidence::api::show_artifact,
        crate::evidence::api::diff,
        crate::evidence::api::profile,
        crate::evidence::download::download_api,
        crate::export::export,
        crate::export::export_archive_api,
        crate::export::import_api,
        crate::notify::api_list,
        crate::wording::check,
        crate::insights::api::show_insights,
        crate::audit::api_list_events
    ),
    components(schemas(crate::web::api_schemas::ApiError))
)]
pub struct ApiDoc;

/// The bearer token scheme every operation names.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some("An API token")).build(),
            ),
        );
    }
}

/// The answer of `GET /api/v1/incidents/{id}`, described from the parts
/// the postmortem is made of (`crate::postmortem`), so a part added there
/// is described here without a word more.
struct WholePostmortem;

/// Where the whole postmortem is answered.
const WHOLE_POSTMORTEM: &str = "/api/v1/incidents/{id}";

impl Modify for WholePostmortem {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let (schema, named) = crate::postmortem::document("").json_schema();
        let components = openapi.components.get_or_insert_with(Default::default);
        for (name, schema) in named {
            components.schemas.entry(name).or_insert(schema);
        }
        components.schemas.insert("Postmortem".to_owned(), schema.into());
        let answer = openapi
            .paths
            .paths
            .get_mut(WHOLE_POSTMORTEM)
            .and_then(|item| item.get.as_mut())
            .and_then(|get| get.responses.responses.get_mut("200"));
        if let Some(RefOr::T(response)) = answer {
            let content = ContentBuilder::new().schema(Some(Ref::from_schema_name("Postmortem"))).build();
            response.content.insert("application/json".to_owned(), content);
        }
    }
}

/// The document, built once.
pub fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(ApiDoc::openapi)
}

/// `GET /api/v1/openapi.json`: the document, for tools; no token needed.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    summary = "This document (no token needed)",
    responses((status = 200, description = "The OpenAPI 3.1 document", body = Object, content_type = "application/json")),
    security(())
)]
pub async fn show_openapi() -> impl IntoResponse {
    static JSON: OnceLock<String> = OnceLock::new();
    let json = JSON.get_or_init(|| document().to_pretty_json().expect("the OpenAPI document serialises"));
    ([(header::CONTENT_TYPE, "application/json")], json.as_str())
}
