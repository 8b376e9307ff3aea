//! "Seen this before?": the incidents most like one, best first, each with
//! why it matched.

use debrief::auth::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};

use crate::helpers::TestApp;

async fn incident(app: &TestApp, token: &str, body: Value) -> String {
    let response = app.api(Method::POST, "/api/v1/incidents", token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201);
    response.json::<Value>().await.unwrap()["id"].as_str().unwrap().to_owned()
}

async fn attach_dump(app: &TestApp, token: &str, id: &str, fixture: &str) {
    let bytes = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dumps").join(fixture),
    )
    .unwrap();
    let form = reqwest::multipart::Form::new()
        .part("file", reqwest::multipart::Part::bytes(bytes).file_name("dump.txt"));
    let response = app
        .api(Method::POST, &format!("/api/v1/incidents/{id}/artifacts"), token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

async fn cause(app: &TestApp, token: &str, id: &str, category: &str) {
    let body = json!({"kind": "root", "category": category, "description": "it"});
    let response = app
        .api(Method::POST, &format!("/api/v1/incidents/{id}/causes"), token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
}

#[tokio::test]
async fn incidents_with_the_same_suspect_come_first_with_their_reasons() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let token = app.api_token(&editor).await;
    let at = |day: u32| format!("2026-11-{day:02}T10:00:00Z");
    let now = incident(
        &app,
        &token,
        json!({"title": "Checkout hangs", "severity": "SEV2",
                                             "started_at": at(20), "services": ["checkout"]}),
    )
    .await;
    attach_dump(&app, &token, &now, "httpleak.goroutine.debug2.txt").await;
    cause(&app, &token, &now, "missing timeout").await;

    let same_leak = incident(
        &app,
        &token,
        json!({"title": "Payments slow", "severity": "SEV3",
                                                   "started_at": at(3), "services": ["payments"]}),
    )
    .await;
    attach_dump(&app, &token, &same_leak, "httpleak.goroutine.debug2.txt").await;
    let same_category = incident(
        &app,
        &token,
        json!({"title": "Ledger stuck", "severity": "SEV3",
                                                       "started_at": at(5)}),
    )
    .await;
    cause(&app, &token, &same_category, "missing timeout").await;
    incident(
        &app,
        &token,
        json!({"title": "Search latency", "severity": "SEV4", "started_at": at(6),
                                  "services": ["checkout"]}),
    )
    .await;
    incident(&app, &token, json!({"title": "Disk full", "severity": "SEV4", "started_at": at(7)})).await;

    let found = app.api_json(&format!("/api/v1/incidents/{now}/similar"), &token).await;
    let titles: Vec<&str> =
        found["similar"].as_array().unwrap().iter().map(|s| s["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Payments slow", "Ledger stuck", "Search latency"], "{found}");
    let first = &found["similar"][0];
    assert!(
        first["reasons"][0].as_str().unwrap().starts_with("same suspect: HTTP client connections"),
        "{first}"
    );
    assert_eq!(
        first["reasons"][1], "same suspect: HTTP handlers that never return",
        "every suspect they share"
    );
    assert_eq!(found["similar"][1]["reasons"], json!(["same category: missing timeout"]));
    assert_eq!(found["similar"][2]["reasons"][0], "same service: checkout");
    let scores: Vec<f64> =
        found["similar"].as_array().unwrap().iter().map(|s| s["score"].as_f64().unwrap()).collect();
    assert!(scores.windows(2).all(|w| w[0] > w[1]), "best first: {scores:?}");

    // The same on the page, which the incident page links to and loads.
    let (_, viewer) = app.signed_in(Role::Viewer).await;
    let page = viewer.get_text("/incidents/INC-1").await;
    assert!(
        page.contains("data-load-fragment=\"/incidents/INC-1/similar\""),
        "the incident page asks for it"
    );
    let similar = viewer.get_text("/incidents/INC-1/similar").await;
    assert!(
        similar.contains("Payments slow") && similar.contains("same category: missing timeout"),
        "{similar}"
    );
    assert!(!similar.contains("Disk full"), "nothing in common, not shown");
}

#[tokio::test]
async fn words_of_the_title_match_when_nothing_else_does() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let token = app.api_token(&editor).await;
    let now = incident(
        &app,
        &token,
        json!({"title": "Goroutine leak in the ledger", "severity": "SEV2",
                                             "started_at": "2026-11-20T10:00:00Z"}),
    )
    .await;
    incident(
        &app,
        &token,
        json!({"title": "Another goroutine leak", "severity": "SEV3",
                                  "started_at": "2026-10-20T10:00:00Z"}),
    )
    .await;
    let found = app.api_json(&format!("/api/v1/incidents/{now}/similar"), &token).await;
    assert_eq!(found["similar"][0]["title"], "Another goroutine leak", "{found}");
    assert_eq!(found["similar"][0]["reasons"], json!(["similar words"]));
    let missing = app.api(Method::GET, "/api/v1/incidents/INC-99/similar", &token).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}
