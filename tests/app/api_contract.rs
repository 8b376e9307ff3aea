//! Every answer of the API matches the schema the OpenAPI document gives it:
//! a team walks through a postmortem by the API alone (incident, timeline,
//! causes, action items, evidence, playbooks, review, comments, search,
//! insights, audit) and each JSON body it gets back is checked against the
//! document, both ways: every field the document requires is there with
//! its type, and every field the answer carries is declared. A renamed or
//! added field fails here before a client meets it.

use std::path::Path;

use debrief::auth::domain::Role;
use reqwest::{
    Method,
    multipart::{Form, Part},
};
use serde_json::{Map, Value, json};

use crate::helpers::{TestApp, TestUser};

/// Checks JSON values against the schemas of one OpenAPI document.
struct Schemas {
    document: Value,
}

impl Schemas {
    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = reference.strip_prefix("#/components/schemas/").expect("a local schema");
                let found = &self.document["components"]["schemas"][name];
                assert!(!found.is_null(), "{reference} resolves");
                self.resolve(found)
            }
            None => schema,
        }
    }

    /// The fields `schema` declares, through `allOf` and references.
    fn fields_of(&self, schema: &Value, properties: &mut Map<String, Value>, required: &mut Vec<Value>) {
        let schema = self.resolve(schema);
        for part in schema.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            self.fields_of(part, properties, required);
        }
        properties.extend(schema.get("properties").and_then(Value::as_object).cloned().unwrap_or_default());
        required.extend(schema.get("required").and_then(Value::as_array).cloned().unwrap_or_default());
    }

    /// The problems of `value` against `schema`, each with where it is.
    fn problems(&self, schema: &Value, value: &Value, at: &str) -> Vec<String> {
        let schema = self.resolve(schema);
        let mut found = Vec::new();
        for key in ["oneOf", "anyOf"] {
            if let Some(choices) = schema.get(key).and_then(Value::as_array) {
                let each: Vec<Vec<String>> =
                    choices.iter().map(|choice| self.problems(choice, value, at)).collect();
                if each.iter().all(|problems| !problems.is_empty()) {
                    // The choices of the value's own type say why it fits none.
                    let own_type = format!("{at}: {} is not of type", short(value));
                    let near: Vec<String> = each
                        .into_iter()
                        .filter(|problems| !problems.iter().any(|problem| problem.starts_with(&own_type)))
                        .flatten()
                        .collect();
                    found.push(format!("{at}: matches none of {key}: {near:?}"));
                }
            }
        }
        if schema.get("allOf").is_some() {
            // One object of all the parts: their fields together.
            let (mut properties, mut required) = (Map::new(), Vec::new());
            self.fields_of(schema, &mut properties, &mut required);
            let merged = json!({"type": "object", "properties": properties, "required": required});
            found.extend(self.problems(&merged, value, at));
            return found;
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
            && !allowed.contains(value)
        {
            found.push(format!("{at}: {value} is not one of {allowed:?}"));
        }
        if let Some(types) = schema.get("type") {
            let types: Vec<&str> = match types {
                Value::String(one) => vec![one.as_str()],
                Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                _ => vec![],
            };
            let fits = |kind: &str| match kind {
                "null" => value.is_null(),
                "boolean" => value.is_boolean(),
                "integer" => value.is_i64() || value.is_u64(),
                "number" => value.is_number(),
                "string" => value.is_string(),
                "array" => value.is_array(),
                "object" => value.is_object(),
                _ => false,
            };
            if !types.iter().any(|kind| fits(kind)) {
                found.push(format!("{at}: {} is not of type {types:?}", short(value)));
                return found;
            }
        }
        if let (Some(format), Some(text)) = (schema.get("format").and_then(Value::as_str), value.as_str()) {
            let fine = match format {
                "date-time" => {
                    time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339).is_ok()
                }
                "date" => text.len() == 10 && text.as_bytes()[4] == b'-' && text.as_bytes()[7] == b'-',
                "uuid" => uuid::Uuid::parse_str(text).is_ok(),
                _ => true,
            };
            if !fine {
                found.push(format!("{at}: {text:?} is not a {format}"));
            }
        }
        if let Some(object) = value.as_object() {
            let properties = schema.get("properties").and_then(Value::as_object);
            for name in schema.get("required").and_then(Value::as_array).into_iter().flatten() {
                let name = name.as_str().unwrap();
                if !object.contains_key(name) {
                    found.push(format!("{at}: the required field {name:?} is missing"));
                }
            }
            let open = schema.get("additionalProperties").is_some_and(|more| more != &Value::Bool(false));
            for (name, field) in object {
                match properties.and_then(|properties| properties.get(name)) {
                    Some(declared) => found.extend(self.problems(declared, field, &format!("{at}.{name}"))),
                    None if open => {
                        if let Some(more) = schema.get("additionalProperties").filter(|more| more.is_object())
                        {
                            found.extend(self.problems(more, field, &format!("{at}.{name}")));
                        }
                    }
                    // An object schema that names no fields at all says nothing of them.
                    None if properties.is_none() => {}
                    None => found.push(format!("{at}: the field {name:?} is not in the document")),
                }
            }
        }
        if let (Some(items), Some(array)) = (schema.get("items"), value.as_array()) {
            for item in array {
                found.extend(self.problems(items, item, &format!("{at}[]")));
            }
        }
        found
    }

    /// The schema of the JSON answer of `method path` with `status`, if documented.
    fn answer(&self, method: &Method, path: &str, status: u16) -> Option<&Value> {
        let operation = &self.document["paths"][path][method.as_str().to_lowercase()];
        let schema = &operation["responses"][status.to_string()]["content"]["application/json"]["schema"];
        (!schema.is_null()).then_some(schema)
    }
}

fn short(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(80) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path)).unwrap()
}

/// A walk through the API that checks every answer as it goes.
struct Walk {
    app: TestApp,
    schemas: Schemas,
    problems: Vec<String>,
    checked: usize,
}

impl Walk {
    /// Sends `method path` (`template` as documented) as `token`'s user,
    /// expects `status`, checks the answer, and returns it.
    async fn call(
        &mut self,
        token: &str,
        method: Method,
        (template, path): (&str, &str),
        body: Option<Value>,
        status: u16,
    ) -> Value {
        let mut request = self.app.api(method.clone(), path, token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        self.check(request, method, template, status).await
    }

    async fn check(
        &mut self,
        request: reqwest::RequestBuilder,
        method: Method,
        template: &str,
        status: u16,
    ) -> Value {
        let response = request.send().await.unwrap();
        let got = response.status().as_u16();
        let text = response.text().await.unwrap();
        assert_eq!(got, status, "{method} {template}: {text}");
        let value: Value = serde_json::from_str(&text).unwrap();
        let at = format!("{method} {template}");
        match self.schemas.answer(&method, &format!("/api/v1{template}"), status) {
            Some(schema) => self.problems.extend(self.schemas.problems(schema, &value, &at)),
            None => self.problems.push(format!("{at}: no JSON answer documented for {status}")),
        }
        self.checked += 1;
        value
    }

    async fn get(&mut self, token: &str, (template, path): (&str, &str)) -> Value {
        self.call(token, Method::GET, (template, path), None, 200).await
    }

    async fn upload(&mut self, token: &str, incident: &str, name: &str, fixture_path: &str) -> Value {
        let form = Form::new().part("file", Part::bytes(fixture(fixture_path)).file_name(name.to_owned()));
        let path = format!("/api/v1/incidents/{incident}/artifacts");
        let request = self.app.api(Method::POST, &path, token).multipart(form);
        self.check(request, Method::POST, "/incidents/{id}/artifacts", 201).await
    }
}

fn id(value: &Value) -> String {
    value["id"].as_str().unwrap_or_else(|| panic!("an id in {value}")).to_owned()
}

#[tokio::test]
async fn every_answer_of_a_walk_through_the_api_matches_its_documented_schema() {
    let app = TestApp::spawn().await;
    let schemas = Schemas { document: app.client().get("/api/v1/openapi.json").await.json().await.unwrap() };
    let author = app.create_user(Role::Editor).await;
    let reviewer: TestUser = app.create_user(Role::Editor).await;
    let admin = app.create_user(Role::Admin).await;
    let (token, reviewer_token, admin_token) =
        (app.api_token(&author).await, app.api_token(&reviewer).await, app.api_token(&admin).await);
    let mut walk = Walk { app, schemas, problems: Vec::new(), checked: 0 };

    walk.get(&token, ("/me", "/api/v1/me")).await;
    let incident = walk
        .call(
            &token,
            Method::POST,
            ("/incidents", "/api/v1/incidents"),
            Some(json!({"title": "Checkout 5xx after a deploy", "severity": "SEV3",
                        "started_at": "2026-11-20T14:00:00Z", "services": ["checkout"], "tags": ["deploy"],
                        "summary": "Checkout answered 5xx for 40 minutes."})),
            201,
        )
        .await;
    let inc = id(&incident);
    let at = |template: &str| template.replace("{id}", &inc);
    let incident = walk
        .call(
            &token,
            Method::PATCH,
            ("/incidents/{id}", &at("/api/v1/incidents/{id}")),
            Some(json!({"version": incident["version"], "impact": "1 in 5 checkouts failed."})),
            200,
        )
        .await;

    let event = walk
        .call(
            &token,
            Method::POST,
            ("/incidents/{id}/timeline", &at("/api/v1/incidents/{id}/timeline")),
            Some(json!({"occurred_at": "2026-11-20T14:02:00Z", "kind": "alert", "body": "5xx alert fired"})),
            201,
        )
        .await;
    let event = walk
        .call(
            &token,
            Method::PATCH,
            ("/timeline/{id}", &format!("/api/v1/timeline/{}", id(&event))),
            Some(json!({"version": event["version"], "body": "The 5xx alert fired"})),
            200,
        )
        .await;
    let cause = walk
        .call(
            &token,
            Method::POST,
            ("/incidents/{id}/causes", &at("/api/v1/incidents/{id}/causes")),
            Some(json!({"kind": "root", "category": "missing timeout", "description": "No client timeout.",
                        "whys": ["The client had none", "The default is none"]})),
            201,
        )
        .await;
    walk.call(
        &token,
        Method::PATCH,
        ("/causes/{id}", &format!("/api/v1/causes/{}", id(&cause))),
        Some(json!({"version": cause["version"], "description": "No timeout on the payment client."})),
        200,
    )
    .await;
    let item = walk
        .call(
            &token,
            Method::POST,
            ("/incidents/{id}/action_items", &at("/api/v1/incidents/{id}/action_items")),
            Some(json!({"title": "Set a 5 s timeout", "kind": "prevent", "owner_id": author.id,
                        "due_on": "2026-12-20", "priority": "P1"})),
            201,
        )
        .await;
    walk.call(
        &token,
        Method::PATCH,
        ("/action_items/{id}", &format!("/api/v1/action_items/{}", id(&item))),
        Some(json!({"version": item["version"], "status": "in_progress"})),
        200,
    )
    .await;

    // The evidence: a profile and its view and diff, two dumps and theirs, a trace.
    let mut uploaded = Vec::new();
    for (name, path) in [
        ("before.pb.gz", "pprof/diff-before.cpu.pb.gz"),
        ("after.pb.gz", "pprof/diff-after.cpu.pb.gz"),
        ("chansend.txt", "dumps/chansend.goroutine.debug2.txt"),
        ("ctxleak.txt", "dumps/ctxleak.goroutine.debug2.txt"),
        ("trace.out", "traces/trace.out"),
        ("notes.txt", "README.md"),
    ] {
        uploaded.push(id(&walk.upload(&token, &inc, name, path).await));
    }
    for artifact in &uploaded {
        for _ in 0..100 {
            let shown = walk.get(&token, ("/artifacts/{id}", &format!("/api/v1/artifacts/{artifact}"))).await;
            if shown["analysis_status"] != "pending" {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    walk.get(&token, ("/artifacts/{id}/profile", &format!("/api/v1/artifacts/{}/profile", uploaded[1])))
        .await;
    for (base, target) in [(0, 1), (2, 3)] {
        let path = format!("/api/v1/artifacts/{}/diff/{}", uploaded[base], uploaded[target]);
        walk.get(&token, ("/artifacts/{base}/diff/{target}", &path)).await;
    }

    // Playbooks: write one, apply it, tick a step, make an action item of one.
    walk.get(&token, ("/playbooks", "/api/v1/playbooks")).await;
    let playbook = walk
        .call(
            &token,
            Method::POST,
            ("/playbooks", "/api/v1/playbooks"),
            Some(json!({"title": "Timeouts first", "body": "- [ ] Set a client timeout\n- [ ] Alert on p99",
                        "categories": ["missing timeout"]})),
            201,
        )
        .await;
    let playbook = walk
        .call(
            &token,
            Method::PATCH,
            ("/playbooks/{id}", &format!("/api/v1/playbooks/{}", id(&playbook))),
            Some(json!({"version": playbook["version"], "title": "Timeouts, first"})),
            200,
        )
        .await;
    walk.get(&token, ("/playbooks/{id}", &format!("/api/v1/playbooks/{}", id(&playbook)))).await;
    walk.get(&token, ("/incidents/{id}/playbooks", &at("/api/v1/incidents/{id}/playbooks"))).await;
    let checklist = walk
        .call(
            &token,
            Method::POST,
            ("/incidents/{id}/playbooks", &at("/api/v1/incidents/{id}/playbooks")),
            Some(json!({"playbook_id": id(&playbook)})),
            201,
        )
        .await;
    let step = &checklist["items"][0];
    walk.call(
        &token,
        Method::PATCH,
        ("/checklist_items/{id}", &format!("/api/v1/checklist_items/{}", id(step))),
        Some(json!({"state": "done", "note": "Set to 5 s.", "version": step["version"]})),
        200,
    )
    .await;
    let second = &checklist["items"][1];
    walk.call(
        &token,
        Method::POST,
        ("/checklist_items/{id}/action_item", &format!("/api/v1/checklist_items/{}/action_item", id(second))),
        Some(json!({})),
        201,
    )
    .await;
    walk.call(
        &token,
        Method::POST,
        ("/playbooks/{id}/runs", "/api/v1/playbooks/new-go-service-launch/runs"),
        Some(json!({})),
        201,
    )
    .await;

    // The review, with comments.
    walk.get(&token, ("/incidents/{id}/readiness", &at("/api/v1/incidents/{id}/readiness"))).await;
    let version =
        walk.get(&token, ("/incidents/{id}", &at("/api/v1/incidents/{id}"))).await["version"].clone();
    walk.call(
        &token,
        Method::POST,
        ("/incidents/{id}/status", &at("/api/v1/incidents/{id}/status")),
        Some(json!({"status": "in_review", "version": version})),
        200,
    )
    .await;
    walk.call(
        &token,
        Method::POST,
        ("/incidents/{id}/reviewers", &at("/api/v1/incidents/{id}/reviewers")),
        Some(json!({"user_id": reviewer.id})),
        201,
    )
    .await;
    let comment = walk
        .call(
            &reviewer_token,
            Method::POST,
            ("/incidents/{id}/comments", &at("/api/v1/incidents/{id}/comments")),
            Some(json!({"target_kind": "timeline_event", "target_id": id(&event),
                        "body": "Was this the **first** alert?"})),
            201,
        )
        .await;
    walk.call(
        &token,
        Method::PATCH,
        ("/comments/{id}", &format!("/api/v1/comments/{}", id(&comment))),
        Some(json!({"resolved": true})),
        200,
    )
    .await;
    walk.get(&token, ("/incidents/{id}/comments", &at("/api/v1/incidents/{id}/comments"))).await;
    walk.call(
        &reviewer_token,
        Method::POST,
        ("/incidents/{id}/reviews", &at("/api/v1/incidents/{id}/reviews")),
        Some(json!({"verdict": "approve", "note": "Clear."})),
        201,
    )
    .await;
    walk.get(&token, ("/incidents/{id}/reviews", &at("/api/v1/incidents/{id}/reviews"))).await;
    walk.get(&token, ("/incidents/{id}/readiness", &at("/api/v1/incidents/{id}/readiness"))).await;
    walk.get(&token, ("/notifications", "/api/v1/notifications")).await;

    // The whole postmortem, and what reads across incidents.
    let whole = walk.get(&token, ("/incidents/{id}", &at("/api/v1/incidents/{id}"))).await;
    assert!(whole["version"].as_i64() > incident["version"].as_i64(), "the review moved the version");
    walk.get(&token, ("/incidents", "/api/v1/incidents?severity=SEV3")).await;
    walk.get(&token, ("/search", "/api/v1/search?q=timeout")).await;
    walk.get(&token, ("/incidents/{id}/similar", &at("/api/v1/incidents/{id}/similar"))).await;
    walk.get(&token, ("/insights", "/api/v1/insights?from=2026-01-01&to=2026-12-31")).await;
    walk.call(
        &token,
        Method::POST,
        ("/wording", "/api/v1/wording"),
        Some(json!({"text": "Bob should have known better than to deploy on a Friday."})),
        200,
    )
    .await;
    // A report read back in: the export, imported as a new incident.
    let report =
        walk.app.api(Method::GET, &at("/api/v1/incidents/{id}/export.md"), &token).send().await.unwrap();
    assert_eq!(report.status(), 200);
    let report = report.text().await.unwrap();
    let import = walk.app.api(Method::POST, "/api/v1/import", &token).body(report);
    walk.check(import, Method::POST, "/import", 201).await;
    walk.get(&admin_token, ("/audit", "/api/v1/audit")).await;

    assert!(walk.checked >= 40, "{} answers checked", walk.checked);
    let problems: std::collections::BTreeSet<&String> = walk.problems.iter().collect();
    let problems: Vec<&str> = problems.into_iter().map(String::as_str).collect();
    assert!(problems.is_empty(), "answers that differ from the document:\n{}", problems.join("\n"));
}

#[test]
fn the_checker_sees_missing_undeclared_and_mistyped_fields() {
    let schemas = Schemas {
        document: json!({"components": {"schemas": {
            "Item": {"type": "object", "required": ["id", "when"], "properties": {
                "id": {"type": "string", "format": "uuid"},
                "when": {"type": "string", "format": "date-time"},
                "note": {"type": ["string", "null"]},
                "state": {"type": "string", "enum": ["open", "done"]}}},
            "List": {"type": "object", "required": ["items"], "properties": {
                "items": {"type": "array", "items": {"$ref": "#/components/schemas/Item"}}}}}}}),
    };
    let list = json!({"$ref": "#/components/schemas/List"});
    let good = json!({"items": [{"id": "4f1c2b1e-7a47-4b8e-9d2f-0c7c5e3b9a10", "when": "2026-11-20T14:00:00Z",
                                 "note": null, "state": "done"}]});
    assert_eq!(schemas.problems(&list, &good, "list"), Vec::<String>::new());
    let bad = json!({"items": [{"id": "nope", "state": "gone", "extra": 1, "note": 3}]});
    let problems = schemas.problems(&list, &bad, "list");
    for expected in [
        "\"when\" is missing",
        "\"nope\" is not a uuid",
        "\"gone\" is not one of",
        "\"extra\" is not in",
        "3 is not of type",
    ] {
        assert!(problems.iter().any(|problem| problem.contains(expected)), "{expected} in {problems:?}");
    }
}
