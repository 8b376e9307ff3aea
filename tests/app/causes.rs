//! Causes with their category and chain of whys, and the shared taxonomy.

use debrief::auth::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, api_error};

#[tokio::test]
async fn an_editor_adds_a_root_cause_with_its_chain_of_whys() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;

    let response = client
        .submit(
            "/incidents/INC-1",
            "/incidents/INC-1/causes",
            &[
                ("kind", "root"),
                ("category", "missing timeout"),
                ("description", "The payment client had **no timeout**."),
                (
                    "whys",
                    "Requests hung on a slow upstream.\nThe client waited forever.\nNo timeout was set.",
                ),
            ],
        )
        .await;

    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/incidents/INC-1#causes");
    let page = client.get_text("/incidents/INC-1").await;
    assert!(page.contains("Root cause") && page.contains("missing timeout"), "{page}");
    assert!(page.contains("The payment client had <strong>no timeout</strong>."));
    let first = page.find("Requests hung on a slow upstream.").unwrap();
    let last = page.find("No timeout was set.").unwrap();
    assert!(first < last, "the whys keep their order");
    assert!(client.get_text("/incidents/INC-1/history").await.contains("Added a root cause"));
}

#[tokio::test]
async fn a_cause_outside_the_taxonomy_is_refused_by_its_field() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;

    let response = client
        .submit(
            "/incidents/INC-1",
            "/incidents/INC-1/causes",
            &[("kind", "root"), ("category", "gremlins"), ("description", "kept description"), ("whys", "")],
        )
        .await;

    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"cause-category-error\">Choose a category from the list"), "{page}");
    assert!(page.contains(">kept description</textarea>"));
    assert_eq!(app.count("select count(*) from cause").await, 0);
}

#[tokio::test]
async fn admins_grow_the_taxonomy_and_editors_cannot() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (_, editor) = app.signed_in(Role::Editor).await;

    let added =
        admin.submit("/admin/categories", "/admin/categories", &[("name", "  Cache  Stampede ")]).await;
    assert_eq!(added.status(), 303);
    assert!(admin.get_text("/admin/categories").await.contains("cache stampede"));
    let again = admin.submit("/admin/categories", "/admin/categories", &[("name", "cache stampede")]).await;
    assert_eq!(again.status(), 422);

    assert_eq!(editor.get("/admin/categories").await.status(), 403);
    let refused = editor.submit("/", "/admin/categories", &[("name", "editors cannot")]).await;
    assert_eq!(refused.status(), 403);
    assert_eq!(app.count("select count(*) from cause_category where name = 'editors cannot'").await, 0);
}

#[tokio::test]
async fn the_api_adds_edits_and_deletes_causes_with_version_checks() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;

    let created = app
        .api(reqwest::Method::POST, &format!("/api/v1/incidents/{incident}/causes"), &token)
        .json(&json!({"kind": "trigger", "category": "config change", "description": "Pool size lowered", "whys": ["a", "b"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let cause: Value = created.json().await.unwrap();
    let id = cause["id"].as_str().unwrap();
    assert_eq!(cause["whys"], json!(["a", "b"]));

    let patch =
        |body: Value| app.api(reqwest::Method::PATCH, &format!("/api/v1/causes/{id}"), &token).json(&body);
    let edited: Value =
        patch(json!({"version": 1, "kind": "root"})).send().await.unwrap().json().await.unwrap();
    assert_eq!((edited["kind"].as_str(), edited["version"].as_i64()), (Some("root"), Some(2)));
    assert_eq!(edited["whys"], json!(["a", "b"]), "fields not sent are kept");
    let (status, _, _) =
        api_error(patch(json!({"version": 1, "kind": "contributing"})).send().await.unwrap()).await;
    assert_eq!(status, 409);
    let (status, _, message) =
        api_error(patch(json!({"version": 2, "category": "gremlins"})).send().await.unwrap()).await;
    assert_eq!(status, 422);
    assert!(message.contains("category"), "{message}");

    let whole = app.api_json(&format!("/api/v1/incidents/{incident}"), &token).await;
    assert_eq!(whole["causes"][0]["category"], "config change");

    let deleted =
        app.api(reqwest::Method::DELETE, &format!("/api/v1/causes/{id}"), &token).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.count("select count(*) from cause").await, 0);
}

#[tokio::test]
async fn a_stale_cause_edit_shows_the_newer_cause_and_keeps_the_users_text() {
    let app = TestApp::spawn().await;
    let (editor, first) = app.signed_in(Role::Editor).await;
    let (_, second) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let cause: Value = app
        .api(reqwest::Method::POST, &format!("/api/v1/incidents/{incident}/causes"), &token)
        .json(&json!({"kind": "root", "category": "missing timeout", "description": "first draft"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let action = format!("/incidents/INC-1/causes/{}/edit", cause["id"].as_str().unwrap());
    let save = |client: &crate::helpers::Client, description: &'static str| {
        let (client, action) = (client.clone(), action.clone());
        async move {
            let fields = [
                ("version", "1"),
                ("kind", "root"),
                ("category", "missing timeout"),
                ("description", description),
            ];
            client.submit(&action, &action, &fields).await
        }
    };

    assert_eq!(save(&first, "the first editor's words").await.status(), 303);
    let lost = save(&second, "the second editor's words").await;

    assert_eq!(lost.status(), 409);
    let page = lost.text().await.unwrap();
    assert!(page.contains("data-testid=\"conflict\"") && page.contains("the first editor"), "{page}");
    assert!(
        page.contains("the second editor&#39;s words</textarea>")
            || page.contains("the second editor&#x27;s words</textarea>"),
        "{page}"
    );
    let saved: String =
        sqlx::query_scalar("select description from cause").fetch_one(&app.pool).await.unwrap();
    assert_eq!(saved, "the first editor's words");
}
