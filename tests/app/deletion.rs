//! Admins delete incidents, after typing the reference to confirm; the
//! deletion takes everything of the incident with it and is recorded.

use debrief::auth::domain::Role;
use serde_json::json;

use crate::helpers::{TestApp, TestUser};

/// Opens INC-1 with a timeline event; returns its id.
async fn incident_with_a_timeline(app: &TestApp, editor: &TestUser) -> String {
    let (incident, token) = app.open_incident(editor).await;
    let event =
        json!({"occurred_at": "2026-11-20T14:02:00Z", "kind": "decision", "body": "Roll back deploy 4512"});
    let response = app
        .api(reqwest::Method::POST, &format!("/api/v1/incidents/{incident}/timeline"), &token)
        .json(&event)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201, "the event is added");
    incident
}

async fn incidents(app: &TestApp) -> i64 {
    app.count("select count(*) from incident").await
}

async fn deletions(app: &TestApp) -> i64 {
    app.count("select count(*) from incident_deletion").await
}

#[tokio::test]
async fn an_admin_is_asked_to_confirm_before_deleting() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    app.open_incident(&editor).await;
    let (_, admin) = app.signed_in(Role::Admin).await;

    let response = admin.get("/incidents/INC-1/delete").await;

    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("Delete INC-1 Checkout 5xx?"), "{page}");
    let warning =
        "This removes its timeline, causes, action items and history for everyone; it cannot be undone.";
    assert!(page.contains(warning), "{page}");
    assert!(page.contains("name=\"confirm\"") && page.contains("name=\"csrf_token\""), "{page}");
    assert_eq!(admin.get("/incidents/1/delete").await.status(), 200, "the number alone names it too");
    assert_eq!(admin.get("/incidents/INC-9/delete").await.status(), 404);
    assert_eq!(incidents(&app).await, 1, "showing the confirmation deletes nothing");
}

#[tokio::test]
async fn deleting_without_typing_the_reference_is_refused_and_deletes_nothing() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    incident_with_a_timeline(&app, &editor).await;
    let (_, admin) = app.signed_in(Role::Admin).await;

    for typed in [None, Some(""), Some("INC-2"), Some("yes")] {
        let fields: Vec<(&str, &str)> = typed.map(|typed| ("confirm", typed)).into_iter().collect();
        let response = admin.submit("/incidents/INC-1/delete", "/incidents/INC-1/delete", &fields).await;

        assert_eq!(response.status(), 422, "{typed:?}");
        let page = response.text().await.unwrap();
        assert!(page.contains("Type INC-1 to confirm. Nothing was deleted."), "{typed:?}: {page}");
    }
    assert_eq!(incidents(&app).await, 1);
    assert_eq!(app.count("select count(*) from timeline_event").await, 1);
    assert_eq!(deletions(&app).await, 0);
    assert_eq!(admin.get("/incidents/INC-1").await.status(), 200);
}

#[tokio::test]
async fn an_admin_deletes_an_incident_with_everything_it_holds_and_it_is_recorded() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let incident = incident_with_a_timeline(&app, &editor).await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;
    let (_, viewer) = app.signed_in(Role::Viewer).await;
    // Both have the page kept for them.
    for client in [&admin, &viewer] {
        assert_eq!(client.get("/incidents/INC-1").await.status(), 200);
        assert_eq!(client.get("/incidents/INC-1").await.status(), 200);
    }
    assert!(app.count("select count(*) from incident_revision").await > 0);

    let response =
        admin.submit("/incidents/INC-1/delete", "/incidents/INC-1/delete", &[("confirm", "INC-1")]).await;

    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/incidents");
    let list = admin.get_text("/incidents").await;
    assert!(list.contains("INC-1 deleted."), "{list}");
    assert!(!list.contains("Checkout 5xx"), "{list}");
    assert!(!viewer.get_text("/incidents").await.contains("Checkout 5xx"));
    for client in [&admin, &viewer] {
        assert_eq!(client.get("/incidents/INC-1").await.status(), 404, "no kept copy is served");
    }
    assert_eq!(incidents(&app).await, 0);
    for part in ["timeline_event", "incident_revision", "cause", "action_item", "incident_stamp"] {
        let left = app.count(&format!("select count(*) from {part} where incident_id = '{incident}'")).await;
        assert_eq!(left, 0, "{part} rows of the incident are gone");
    }
    let (number, title, by, by_name): (i32, String, uuid::Uuid, String) = sqlx::query_as(
        "select incident_number, title, deleted_by, deleted_by_name from incident_deletion \
         where incident_id = $1::uuid",
    )
    .bind(&incident)
    .fetch_one(&app.pool)
    .await
    .expect("one deletion is recorded");
    assert_eq!((number, title.as_str()), (1, "Checkout 5xx"));
    assert_eq!((by, by_name), (admin_user.id, admin_user.name));
    assert_eq!(deletions(&app).await, 1);
}

#[tokio::test]
async fn an_editor_cannot_delete_an_incident() {
    let app = TestApp::spawn().await;
    let (_, editor) = app.signed_in(Role::Editor).await;
    let opener = app.create_user(Role::Editor).await;
    app.open_incident(&opener).await;

    assert_eq!(editor.get("/incidents/INC-1/delete").await.status(), 403);
    let response =
        editor.submit("/incidents/INC-1", "/incidents/INC-1/delete", &[("confirm", "INC-1")]).await;

    assert_eq!(response.status(), 403);
    assert_eq!(incidents(&app).await, 1);
    assert_eq!(deletions(&app).await, 0);
}

#[tokio::test]
async fn a_viewer_cannot_delete_an_incident() {
    let app = TestApp::spawn().await;
    let (_, viewer) = app.signed_in(Role::Viewer).await;
    let opener = app.create_user(Role::Editor).await;
    app.open_incident(&opener).await;

    assert_eq!(viewer.get("/incidents/INC-1/delete").await.status(), 403);
    let response =
        viewer.submit("/incidents/INC-1", "/incidents/INC-1/delete", &[("confirm", "INC-1")]).await;

    assert_eq!(response.status(), 403);
    assert_eq!(incidents(&app).await, 1);
}

#[tokio::test]
async fn a_deletion_without_the_csrf_token_is_refused() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    app.open_incident(&editor).await;
    let (_, admin) = app.signed_in(Role::Admin).await;

    let response = admin.post_form("/incidents/INC-1/delete", &[("confirm", "INC-1")]).await;

    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("did not come from Debrief, so nothing was changed"));
    assert_eq!(incidents(&app).await, 1);
    assert_eq!(deletions(&app).await, 0);
}
