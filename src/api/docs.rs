//! `/api-docs`: the API described for people, walked from the same OpenAPI
//! document `/api/v1/openapi.json` serves, server-rendered (no script, no CDN).

use askama::Template;
use axum::response::{IntoResponse, Response};
use utoipa::openapi::{
    RefOr, Required,
    path::{HttpMethod, Operation, ParameterIn},
    request_body::RequestBody,
    schema::Schema,
};

use crate::{
    error::{Result, render},
    web::PageCtx,
};

/// One operation, as the page lists it.
pub struct OperationView {
    pub method: &'static str,
    pub path: String,
    pub summary: String,
    pub tag: String,
    pub parameters: Vec<String>,
    pub request: String,
    /// The schema the request body names, for a link.
    pub request_link: Option<String>,
    /// Each status (or statuses with the same body, `400, 401, 404`) with
    /// its body and the schema that body names, if any.
    pub responses: Vec<(String, String, Option<String>)>,
}

/// One schema of the document, as the page describes it.
pub struct SchemaView {
    pub name: String,
    pub description: Vec<Span>,
    /// The schemas whose fields it has too (`allOf`).
    pub extends: Vec<String>,
    /// The shapes it may take (`oneOf`), each a schema name or a type.
    pub one_of: Vec<String>,
    /// The values it may take (`enum`).
    pub values: Vec<String>,
    pub fields: Vec<FieldView>,
}

pub struct FieldView {
    pub name: String,
    /// Its type, with the schema it refers to, if any, for a link.
    pub kind: String,
    pub link: Option<String>,
    pub required: bool,
    pub description: Vec<Span>,
}

/// A piece of a description: code where it was written between backticks.
pub struct Span {
    pub text: String,
    pub code: bool,
}

/// `text` cut at its backticks.
fn spans(text: &str) -> Vec<Span> {
    text.split('`')
        .enumerate()
        .filter(|(_, text)| !text.is_empty())
        .map(|(at, text)| Span { text: text.to_owned(), code: at % 2 == 1 })
        .collect()
}

#[derive(Template)]
#[template(path = "api/docs.html")]
pub struct ApiDocsPage {
    pub ctx: PageCtx,
    pub version: String,
    pub operations: Vec<OperationView>,
    pub schemas: Vec<SchemaView>,
}

/// `GET /api-docs`
#[tracing::instrument(skip_all)]
pub async fn show_api_docs(ctx: PageCtx) -> Result<Response> {
    let document = super::openapi::document();
    let mut operations = Vec::new();
    for (path, item) in &document.paths.paths {
        let methods = [
            (HttpMethod::Get, &item.get),
            (HttpMethod::Post, &item.post),
            (HttpMethod::Put, &item.put),
            (HttpMethod::Patch, &item.patch),
            (HttpMethod::Delete, &item.delete),
        ];
        for (method, operation) in methods {
            if let Some(operation) = operation {
                operations.push(operation_view(method, path, operation));
            }
        }
    }
    let page = ApiDocsPage {
        ctx,
        version: serde_json::to_value(&document.openapi)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default(),
        operations,
        schemas: schema_views(&serde_json::to_value(document).unwrap_or_default()),
    };
    Ok(render(&page)?.into_response())
}

fn operation_view(method: HttpMethod, path: &str, operation: &Operation) -> OperationView {
    let method = match method {
        HttpMethod::Get => "GET",
        HttpMethod::Post => "POST",
        HttpMethod::Put => "PUT",
        HttpMethod::Patch => "PATCH",
        HttpMethod::Delete => "DELETE",
        _ => "OTHER",
    };
    let parameters = operation
        .parameters
        .iter()
        .flatten()
        .map(|p| {
            let place = match p.parameter_in {
                ParameterIn::Path => "path",
                ParameterIn::Query => "query",
                ParameterIn::Header => "header",
                ParameterIn::Cookie => "cookie",
            };
            let required = if matches!(p.required, Required::True) { ", required" } else { "" };
            let schema = p.schema.as_ref().map(schema_name).unwrap_or_default();
            format!("{} ({place}{required}) {schema}", p.name)
        })
        .collect();
    let request = operation.request_body.as_ref().map(request_name).unwrap_or_default();
    let request_link = operation.request_body.as_ref().and_then(|body| {
        body.content.values().find_map(|content| content.schema.as_ref().and_then(schema_link))
    });
    let answers: Vec<(String, String, Option<String>)> = operation
        .responses
        .responses
        .iter()
        .map(|(status, response)| {
            let link = match response {
                RefOr::T(response) => response
                    .content
                    .values()
                    .find_map(|content| content.schema.as_ref().and_then(schema_link)),
                RefOr::Ref(_) => None,
            };
            let body = match response {
                RefOr::T(response) => response
                    .content
                    .iter()
                    .map(|(media, content)| match &content.schema {
                        Some(schema) => format!("{} ({media})", schema_name(schema)),
                        None => media.clone(),
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                RefOr::Ref(r) => short(&r.ref_location),
            };
            (status.clone(), body, link)
        })
        .collect();
    // The errors share one body: one line for all the statuses that answer it.
    let mut responses: Vec<(String, String, Option<String>)> = Vec::new();
    for (status, body, link) in answers {
        match responses.iter_mut().find(|(_, seen, _)| *seen == body && !status.starts_with('2')) {
            Some((statuses, _, _)) => *statuses = format!("{statuses}, {status}"),
            None => responses.push((status, body, link)),
        }
    }
    OperationView {
        method,
        path: path.to_owned(),
        summary: operation.summary.clone().unwrap_or_default(),
        tag: operation.tags.iter().flatten().next().cloned().unwrap_or_default(),
        parameters,
        request,
        request_link,
        responses,
    }
}

/// The component a schema refers to, directly or as the items of an array.
fn schema_link(schema: &RefOr<Schema>) -> Option<String> {
    match schema {
        RefOr::Ref(r) => Some(short(&r.ref_location)),
        RefOr::T(Schema::Array(array)) => match &array.items {
            utoipa::openapi::schema::ArrayItems::RefOrSchema(item) => schema_link(item),
            _ => None,
        },
        RefOr::T(_) => None,
    }
}

fn request_name(body: &RequestBody) -> String {
    body.content
        .iter()
        .map(|(media, content)| match &content.schema {
            Some(schema) => format!("{} ({media})", schema_name(schema)),
            None => media.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A schema's name: the component it refers to, or its type.
fn schema_name(schema: &RefOr<Schema>) -> String {
    match schema {
        RefOr::Ref(r) => short(&r.ref_location),
        RefOr::T(Schema::Object(object)) => {
            let kind =
                serde_json::to_value(&object.schema_type).ok().map(|v| v.to_string()).unwrap_or_default();
            let kind = kind.trim_matches('"').to_owned();
            match &object.format {
                Some(format) => {
                    let format = serde_json::to_value(format).ok().map(|v| v.to_string()).unwrap_or_default();
                    format!("{kind} ({})", format.trim_matches('"'))
                }
                None => kind,
            }
        }
        RefOr::T(Schema::Array(array)) => match &array.items {
            utoipa::openapi::schema::ArrayItems::RefOrSchema(item) => {
                format!("array of {}", schema_name(item))
            }
            _ => "array".to_owned(),
        },
        RefOr::T(_) => "schema".to_owned(),
    }
}

fn short(location: &str) -> String {
    location.rsplit('/').next().unwrap_or(location).to_owned()
}

/// Every schema of the document, by name, with its fields.
fn schema_views(document: &serde_json::Value) -> Vec<SchemaView> {
    let Some(schemas) = document["components"]["schemas"].as_object() else { return Vec::new() };
    let mut views: Vec<SchemaView> = schemas
        .iter()
        .map(|(name, schema)| {
            let mut view = SchemaView {
                name: name.clone(),
                description: spans(&text(&schema["description"])),
                extends: Vec::new(),
                one_of: schema["oneOf"].as_array().into_iter().flatten().map(|s| type_of(s).0).collect(),
                values: schema["enum"].as_array().into_iter().flatten().map(text).collect(),
                fields: Vec::new(),
            };
            let mut parts = vec![schema];
            parts.extend(schema["allOf"].as_array().into_iter().flatten());
            for part in parts {
                if let Some(reference) = part["$ref"].as_str() {
                    view.extends.push(short(reference));
                }
                let required: Vec<&str> =
                    part["required"].as_array().into_iter().flatten().filter_map(|r| r.as_str()).collect();
                for (field, schema) in part["properties"].as_object().into_iter().flatten() {
                    let (kind, link) = type_of(schema);
                    view.fields.push(FieldView {
                        name: field.clone(),
                        kind,
                        link,
                        required: required.contains(&field.as_str()),
                        description: spans(&text(&schema["description"])),
                    });
                }
            }
            view
        })
        .collect();
    views.sort_by(|a, b| a.name.cmp(&b.name));
    views
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(text) => text.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A field's type as a reader says it (`array of Cause`, `string (date-time) or null`),
/// and the schema it names, if any.
fn type_of(schema: &serde_json::Value) -> (String, Option<String>) {
    if let Some(reference) = schema["$ref"].as_str() {
        let name = short(reference);
        return (name.clone(), Some(name));
    }
    if let Some(choices) = schema["oneOf"].as_array() {
        let kinds: Vec<(String, Option<String>)> = choices.iter().map(type_of).collect();
        let link = kinds.iter().find_map(|(_, link)| link.clone());
        return (kinds.into_iter().map(|(kind, _)| kind).collect::<Vec<_>>().join(" or "), link);
    }
    let types: Vec<String> = match &schema["type"] {
        serde_json::Value::Array(many) => many.iter().map(text).collect(),
        serde_json::Value::Null => vec!["any".to_owned()],
        one => vec![text(one)],
    };
    let mut link = None;
    let types: Vec<String> = types
        .into_iter()
        .map(|kind| match kind.as_str() {
            "array" => {
                let (item, item_link) = type_of(&schema["items"]);
                link = item_link;
                format!("array of {item}")
            }
            "null" => kind,
            _ => match schema["format"].as_str() {
                Some(format) => format!("{kind} ({format})"),
                None => kind,
            },
        })
        .collect();
    let mut kind = types.join(" or ");
    if let Some(values) = schema["enum"].as_array() {
        kind = format!("{kind}: {}", values.iter().map(text).collect::<Vec<_>>().join(", "));
    }
    if let Some(pattern) = schema["pattern"].as_str() {
        kind = format!("{kind} matching {pattern}");
    }
    (kind, link)
}
