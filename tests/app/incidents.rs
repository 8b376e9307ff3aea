//! Opening incidents, in the pages and through the API, and who may.

use debrief::auth::domain::Role;
use serde_json::json;

use crate::helpers::{Options, TestApp, api_error};

fn new_incident(title: &str) -> Vec<(&str, &str)> {
    vec![
        ("title", title),
        ("severity", "SEV2"),
        ("started_at", "2026-11-20T14:02"),
        ("services", "checkout, Payments"),
        ("tags", "goroutine-leak"),
        ("summary", "Checkout answered 5xx for 47 minutes."),
    ]
}

#[tokio::test]
async fn an_editor_opens_an_incident_that_everyone_can_read() {
    let app = TestApp::spawn().await;
    let (_, editor) = app.signed_in(Role::Editor).await;

    let response =
        editor.submit("/incidents/new", "/incidents/new", &new_incident("Checkout 5xx spike")).await;

    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/incidents/INC-1");
    let page = editor.get_text("/incidents/INC-1").await;
    assert!(page.contains("INC-1 is open as a draft."), "{page}");
    assert!(page.contains("Checkout 5xx spike") && page.contains("SEV2") && page.contains("payments"));
    assert!(page.contains("2026-11-20 14:02 UTC"));

    let (_, viewer) = app.signed_in(Role::Viewer).await;
    assert!(viewer.get_text("/incidents").await.contains("Checkout 5xx spike"));
    assert!(viewer.get_text("/").await.contains("/incidents/INC-1"));
    assert_eq!(viewer.get("/incidents/1").await.status(), 200);
    assert_eq!(viewer.get("/incidents/INC-999").await.status(), 404);

    // The next incident offers the services and tags already in use.
    let form = editor.get_text("/incidents/new").await;
    assert!(form.contains("data-add-to=\"services\" data-value=\"payments\""), "{form}");
    assert!(form.contains("data-add-to=\"tags\" data-value=\"goroutine-leak\""), "{form}");
}

#[tokio::test]
async fn a_viewer_cannot_open_an_incident() {
    let app = TestApp::spawn().await;
    let (_, viewer) = app.signed_in(Role::Viewer).await;

    let form = viewer.get("/incidents/new").await;
    assert_eq!(form.status(), 403);
    let response = viewer.submit("/incidents", "/incidents/new", &new_incident("Sneaky")).await;

    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("This needs the editor role"));
    assert!(!viewer.get_text("/incidents").await.contains("New incident"), "no button a viewer cannot use");
    assert_eq!(app.count("select count(*) from incident").await, 0);
}

#[tokio::test]
async fn a_malformed_incident_form_shows_each_error_by_its_field_and_keeps_the_input() {
    let app = TestApp::spawn().await;
    let (_, editor) = app.signed_in(Role::Editor).await;

    let response = editor
        .submit(
            "/incidents/new",
            "/incidents/new",
            &[
                ("title", "  "),
                ("severity", "SEV9"),
                ("started_at", "last tuesday"),
                ("summary", "kept <b>as typed</b>"),
            ],
        )
        .await;

    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    for (field, message) in [
        ("title", "Give the incident a title."),
        ("severity", "Choose a severity from SEV1"),
        ("started_at", "Enter a date and time like"),
    ] {
        let error = format!("id=\"{field}-error\">{message}");
        assert!(page.contains(&error), "{error}: {page}");
    }
    assert!(page.contains("value=\"last tuesday\""));
    assert!(
        page.contains("kept &#60;b&#62;as typed&#60;/b&#62;")
            || page.contains("kept &lt;b&gt;as typed&lt;/b&gt;"),
        "{page}"
    );
    assert_eq!(app.count("select count(*) from incident").await, 0);
}

#[tokio::test]
async fn what_users_type_is_escaped_on_the_page() {
    let app = TestApp::spawn().await;
    let (_, editor) = app.signed_in(Role::Editor).await;
    let title = "<script>alert(1)</script> <img src=x onerror=alert(2)>";

    editor.submit("/incidents/new", "/incidents/new", &new_incident(title)).await;

    let page = editor.get_text("/incidents/INC-1").await;
    assert!(!page.contains("<script>alert(1)") && !page.contains("<img src=x"), "{page}");
}

#[tokio::test]
async fn the_api_opens_lists_and_reads_incidents_for_editors() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let token = app.api_token(&editor).await;

    let created = app
        .api(reqwest::Method::POST, "/api/v1/incidents", &token)
        .json(&json!({"title": "Payments latency", "severity": "SEV3", "started_at": "2026-11-20T15:02:00+01:00",
                      "services": ["payments"], "tags": ["timeouts"]}))
        .send()
        .await
        .unwrap();

    assert_eq!(created.status(), 201);
    let incident: serde_json::Value = created.json().await.unwrap();
    assert_eq!(incident["number"], 1);
    assert_eq!(incident["ref"], "INC-1");
    assert_eq!(incident["version"], 1);
    assert_eq!(incident["status"], "draft");
    assert_eq!(incident["started_at"], "2026-11-20T14:02:00Z");
    let id = incident["id"].as_str().unwrap();

    let list = app.api_json("/api/v1/incidents", &token).await;
    assert_eq!(list["total"], 1);
    assert_eq!(list["incidents"][0]["title"], "Payments latency");
    let one = app.api_json(&format!("/api/v1/incidents/{id}"), &token).await;
    assert_eq!(one["services"], json!(["payments"]));
}

#[tokio::test]
async fn the_api_refuses_viewers_and_bad_bodies_with_json_errors() {
    let app = TestApp::spawn_with(Options {
        vars: [("DEBRIEF_MAX_BODY_BYTES".to_owned(), "65536".to_owned())].into(),
        ..Options::default()
    })
    .await;
    let viewer = app.create_user(Role::Viewer).await;
    let viewer_token = app.api_token(&viewer).await;
    let editor = app.create_user(Role::Editor).await;
    let token = app.api_token(&editor).await;
    let http = reqwest::Client::new();
    let post = |token: &str| http.post(app.url("/api/v1/incidents")).bearer_auth(token.to_owned());
    let valid = json!({"title": "t", "severity": "SEV1", "started_at": "2026-11-20T14:02:00Z"});

    let (status, code, _) = api_error(post(&viewer_token).json(&valid).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (403, "forbidden"));

    let (status, code, _) = api_error(
        post(&token).header("content-type", "application/json").body("{oops").send().await.unwrap(),
    )
    .await;
    assert_eq!((status, code.as_str()), (400, "bad_request"));

    let (status, code, _) = api_error(post(&token).body("title=x").send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (415, "unsupported_media_type"));

    let missing = post(&token).json(&json!({"severity": "SEV7"})).send().await.unwrap();
    let (status, code, message) = api_error(missing).await;
    assert_eq!((status, code.as_str()), (422, "unprocessable"));
    assert!(
        message.contains("title: Give the incident a title.") && message.contains("severity:"),
        "{message}"
    );

    let huge = json!({"title": "t", "severity": "SEV1", "started_at": "2026-11-20T14:02:00Z", "summary": "x".repeat(100_000)});
    let (status, code, _) = api_error(post(&token).json(&huge).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (413, "payload_too_large"));

    let (status, _, _) = api_error(
        http.get(app.url("/api/v1/incidents/not-a-uuid")).bearer_auth(&token).send().await.unwrap(),
    )
    .await;
    assert_eq!(status, 400);

    assert_eq!(app.count("select count(*) from incident").await, 0);
}
