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
    pub responses: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "api/docs.html")]
pub struct ApiDocsPage {
    pub ctx: PageCtx,
    pub version: String,
    pub operations: Vec<OperationView>,
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
    let responses = operation
        .responses
        .responses
        .iter()
        .map(|(status, response)| {
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
            (status.clone(), body)
        })
        .collect();
    OperationView {
        method,
        path: path.to_owned(),
        summary: operation.summary.clone().unwrap_or_default(),
        tag: operation.tags.iter().flatten().next().cloned().unwrap_or_default(),
        parameters,
        request,
        responses,
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
