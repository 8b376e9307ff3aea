//! The OpenAPI document: it lists exactly the calls the router serves under
//! `/api/v1` (read from the sources, so neither list can drift), it is a
//! structurally valid OpenAPI 3.1 document, and it is served without a token.

use std::{collections::BTreeSet, fs, path::Path};

use debrief::auth::domain::Role;
use serde_json::Value;

use crate::helpers::TestApp;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

/// The `(method, path)` of every `.route("…", …)` in `source` whose path is
/// under `prefix` (`""` inside the API router, `/api/v1` outside it).
fn routes_in(source: &str, prefix: &str) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    let mut rest = source;
    while let Some(at) = rest.find(".route(\"") {
        rest = &rest[at + ".route(\"".len()..];
        let end = rest.find('"').unwrap();
        let path = &rest[..end];
        // The handlers, up to the route's closing parenthesis.
        let mut depth = 1;
        let mut close = end;
        for (i, c) in rest[end..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' => depth -= 1,
                _ => {}
            }
            if depth == 0 {
                close = end + i;
                break;
            }
        }
        let handlers = &rest[end..close];
        let full = if prefix.is_empty() { format!("/api/v1{path}") } else { path.to_owned() };
        if !prefix.is_empty() && !path.starts_with(prefix) {
            continue;
        }
        for method in METHODS {
            let called = handlers.match_indices(&format!("{method}(")).any(|(i, _)| {
                let before = handlers[..i].chars().next_back();
                before.is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
            });
            if called {
                routes.insert((method.to_owned(), full.clone()));
            }
        }
    }
    routes
}

/// The body of `fn name` in `source`: from its signature to the next item.
fn function_body<'a>(source: &'a str, name: &str) -> Option<&'a str> {
    let start = source.find(&format!("fn {name}("))?;
    let body = &source[start..];
    let end = body.find("\n}\n").map_or(body.len(), |end| end + 3);
    Some(&body[..end])
}

/// Every call the router serves under `/api/v1`, read from `api::router`,
/// each feature's `api_router` and the routes `startup.rs` adds.
fn routed_calls() -> BTreeSet<(String, String)> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut routes = BTreeSet::new();
    let api = fs::read_to_string(src.join("api/mod.rs")).unwrap();
    routes.extend(routes_in(function_body(&api, "router").unwrap(), ""));
    let mut features = 0;
    for entry in fs::read_dir(&src).unwrap() {
        let module = entry.unwrap().path().join("mod.rs");
        let Ok(source) = fs::read_to_string(&module) else { continue };
        if let Some(body) = function_body(&source, "api_router") {
            features += 1;
            routes.extend(routes_in(body, ""));
        }
    }
    assert!(features >= 10, "the features' API routers are found ({features})");
    let startup = fs::read_to_string(src.join("startup.rs")).unwrap();
    routes.extend(routes_in(&startup, "/api/v1"));
    routes
}

fn document_calls(document: &Value) -> BTreeSet<(String, String)> {
    let mut calls = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for method in METHODS {
            if item.get(method).is_some() {
                calls.insert((method.to_owned(), path.clone()));
            }
        }
    }
    calls
}

fn document() -> Value {
    serde_json::to_value(debrief::api::openapi::document()).unwrap()
}

#[test]
fn the_document_lists_every_routed_call_and_nothing_else() {
    let routed = routed_calls();
    let documented = document_calls(&document());
    assert!(routed.len() >= 40, "the routes are found: {routed:?}");
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(undocumented.is_empty(), "routed but not in the OpenAPI document: {undocumented:?}");
    assert!(unrouted.is_empty(), "in the OpenAPI document but not routed: {unrouted:?}");
}

#[test]
fn the_route_reader_sees_merged_methods_and_skips_lookalikes() {
    let source = r#".route("/a/{id}", patch(api::update).merge(delete(api::delete_a)))
        .route("/b", post(api::upload).layer(upload_limit(state)))
        .route("/c", axum::routing::get(api::list))"#;
    let found: Vec<_> = routes_in(source, "").into_iter().collect();
    let expected = [
        ("delete", "/api/v1/a/{id}"),
        ("get", "/api/v1/c"),
        ("patch", "/api/v1/a/{id}"),
        ("post", "/api/v1/b"),
    ];
    assert_eq!(found, expected.map(|(m, p)| (m.to_owned(), p.to_owned())).to_vec());
}

/// Every `$ref` in `value`.
fn refs(value: &Value, found: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, value) in map {
                match (key.as_str(), value) {
                    ("$ref", Value::String(target)) => found.push(target.clone()),
                    _ => refs(value, found),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|item| refs(item, found)),
        _ => {}
    }
}

#[test]
fn the_document_is_a_valid_openapi_3_1_document() {
    let document = document();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"), "{}", document["openapi"]);
    assert!(document["info"]["title"].is_string() && document["info"]["version"].is_string());
    assert!(document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer");

    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let pointer = target.strip_prefix('#').unwrap_or_else(|| panic!("{target} is local"));
        assert!(document.pointer(pointer).is_some(), "{target} resolves");
    }

    for (path, item) in document["paths"].as_object().unwrap() {
        let placeholders: BTreeSet<&str> =
            path.split('/').filter_map(|part| part.strip_prefix('{')?.strip_suffix('}')).collect();
        for method in METHODS {
            let Some(operation) = item.get(method) else { continue };
            let declared: BTreeSet<&str> = operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "path")
                .map(|p| {
                    assert_eq!(p["required"], true, "{method} {path}: path parameters are required");
                    p["name"].as_str().unwrap()
                })
                .collect();
            assert_eq!(placeholders, declared, "{method} {path} declares its path parameters");
            let responses = operation["responses"].as_object().unwrap();
            assert!(responses.keys().any(|status| status.starts_with('2')), "{method} {path} has a success");
            if path != "/api/v1/openapi.json" {
                assert!(responses.contains_key("401"), "{method} {path} documents 401");
                assert_eq!(operation["security"][0]["bearer"], serde_json::json!([]), "{method} {path}");
            }
            for (status, response) in responses.iter().filter(|(status, _)| status.starts_with('4')) {
                let schema = &response["content"]["application/json"]["schema"]["$ref"];
                assert_eq!(schema, "#/components/schemas/ApiError", "{method} {path} {status}");
            }
        }
    }
}

#[tokio::test]
async fn the_document_is_served_without_a_token_and_described_to_people() {
    let app = TestApp::spawn().await;

    let response = reqwest::get(app.url("/api/v1/openapi.json")).await.unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("application/json"));
    let served: Value = response.json().await.unwrap();
    assert_eq!(served, document());

    let (_, client) = app.signed_in(Role::Viewer).await;
    let account = client.get_text("/account").await;
    assert!(account.contains("href=\"/api-docs\""), "the account page links to the API page");
    let page = client.get("/api-docs").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(page.contains("PATCH /api/v1/incidents/{id}"), "{page}");
    assert!(page.contains("ApiError"));
    // Each schema is described with its fields, and the calls link to theirs.
    let incident = &page[page.find("id=\"schema-Incident\"").expect("the Incident schema is described")..];
    let incident = &incident[..incident.find("</section>").unwrap()];
    assert!(
        incident.contains("<code>started_at</code></td>") && incident.contains("string (date-time)"),
        "{incident}"
    );
    assert!(incident.contains("href=\"#schema-Severity\""), "a field links to its schema: {incident}");
    assert!(
        page.contains("<a href=\"#schema-NewIncident\"><code>NewIncident (application/json)</code></a>"),
        "{page}"
    );
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"), "nothing from elsewhere");

    let anonymous = app.client().get("/api-docs").await;
    assert_ne!(anonymous.status(), 200, "the API page is for signed-in users");
    app.stop().await.unwrap();
}
