//! Action items on an incident, and the list of every open one.

use debrief::auth::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, api_error};

#[tokio::test]
async fn an_editor_adds_an_owned_action_item_and_it_shows_on_the_open_list() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let owner = app.create_user(Role::Viewer).await;
    app.open_incident(&editor).await;
    let owner_id = owner.id.to_string();

    let response = client
        .submit(
            "/incidents/INC-1",
            "/incidents/INC-1/action_items",
            &[
                ("title", "Set timeouts on every outbound http.Client"),
                ("kind", "prevent"),
                ("priority", "P1"),
                ("status", "open"),
                ("owner_id", &owner_id),
                ("due_on", "2020-01-31"),
                ("tracker_url", "https://tracker.example.com/SRE-1042"),
            ],
        )
        .await;

    assert_eq!(response.status(), 303);
    let page = client.get_text("/incidents/INC-1").await;
    assert!(
        page.contains("Set timeouts on every outbound http.Client") && page.contains(&owner.name),
        "{page}"
    );
    let (_, viewer) = app.signed_in(Role::Viewer).await;
    let open = viewer.get_text("/action-items").await;
    assert!(open.contains("1 open across all incidents") && open.contains("1 overdue"), "{open}");
    assert!(
        open.contains("class=\"overdue\"") && open.contains("href=\"/incidents/INC-1#action-items\""),
        "{open}"
    );
    assert!(open.contains("href=\"https://tracker.example.com/SRE-1042\""));
}

#[tokio::test]
async fn done_items_leave_the_open_list() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let item: Value = app
        .api(reqwest::Method::POST, &format!("/api/v1/incidents/{incident}/action_items"), &token)
        .json(&json!({"title": "Alert on goroutine count", "kind": "detect"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(client.get_text("/action-items").await.contains("Alert on goroutine count"));

    let id = item["id"].as_str().unwrap();
    let done = client
        .submit(
            "/incidents/INC-1",
            &format!("/incidents/INC-1/action_items/{id}/edit"),
            &[
                ("version", "1"),
                ("title", "Alert on goroutine count"),
                ("kind", "detect"),
                ("priority", "P2"),
                ("status", "done"),
            ],
        )
        .await;

    assert_eq!(done.status(), 303);
    assert!(!client.get_text("/action-items").await.contains("Alert on goroutine count"));
    assert!(client.get_text("/incidents/INC-1/history").await.contains("Marked an action item done"));
}

#[tokio::test]
async fn a_bad_action_item_form_shows_errors_by_field_and_keeps_the_input() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;

    let response = client
        .submit(
            "/incidents/INC-1",
            "/incidents/INC-1/action_items",
            &[
                ("title", "Kept title"),
                ("kind", "prevent"),
                ("due_on", "next week"),
                ("tracker_url", "javascript:alert(1)"),
            ],
        )
        .await;

    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"item-due-error\">Enter a date like 2026-12-01."), "{page}");
    assert!(page.contains("id=\"item-tracker-error\">Enter the tracker"), "{page}");
    assert!(page.contains("value=\"Kept title\""));
    assert_eq!(app.count("select count(*) from action_item").await, 0);
}

#[tokio::test]
async fn the_api_manages_action_items_with_version_checks() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;

    let created = app
        .api(reqwest::Method::POST, &format!("/api/v1/incidents/{incident}/action_items"), &token)
        .json(&json!({"title": "Close response bodies", "kind": "prevent", "owner_id": editor.id, "due_on": "2026-12-01"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let item: Value = created.json().await.unwrap();
    assert_eq!(
        (item["owner_name"].as_str(), item["due_on"].as_str()),
        (Some(editor.name.as_str()), Some("2026-12-01"))
    );
    let id = item["id"].as_str().unwrap();

    let patch = |body: Value| {
        app.api(reqwest::Method::PATCH, &format!("/api/v1/action_items/{id}"), &token).json(&body)
    };
    let edited: Value = patch(json!({"version": 1, "status": "in_progress", "owner_id": null}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!((edited["status"].as_str(), edited["owner_id"].is_null()), (Some("in_progress"), true));
    let (status, _, _) =
        api_error(patch(json!({"version": 1, "status": "done"})).send().await.unwrap()).await;
    assert_eq!(status, 409);
    let (status, _, message) =
        api_error(patch(json!({"version": 2, "priority": "P0"})).send().await.unwrap()).await;
    assert_eq!(status, 422);
    assert!(message.contains("priority"), "{message}");

    let whole = app.api_json(&format!("/api/v1/incidents/{incident}"), &token).await;
    assert_eq!(whole["action_items"][0]["title"], "Close response bodies");
    let deleted =
        app.api(reqwest::Method::DELETE, &format!("/api/v1/action_items/{id}"), &token).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert_eq!(app.count("select count(*) from action_item").await, 0);
}

#[tokio::test]
async fn a_stale_action_item_edit_is_refused_and_keeps_the_users_text() {
    let app = TestApp::spawn().await;
    let (editor, first) = app.signed_in(Role::Editor).await;
    let (_, second) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let item: Value = app
        .api(reqwest::Method::POST, &format!("/api/v1/incidents/{incident}/action_items"), &token)
        .json(&json!({"title": "Add timeouts", "kind": "prevent"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let action = format!("/incidents/INC-1/action_items/{}/edit", item["id"].as_str().unwrap());
    let save = |client: &crate::helpers::Client, title: &'static str| {
        let (client, action) = (client.clone(), action.clone());
        async move {
            let fields = [
                ("version", "1"),
                ("title", title),
                ("kind", "prevent"),
                ("priority", "P1"),
                ("status", "open"),
            ];
            client.submit(&action, &action, &fields).await
        }
    };

    assert_eq!(save(&first, "Add timeouts to the payment client").await.status(), 303);
    let lost = save(&second, "Add timeouts everywhere").await;

    assert_eq!(lost.status(), 409);
    let page = lost.text().await.unwrap();
    assert!(
        page.contains("data-testid=\"conflict\"") && page.contains("value=\"Add timeouts everywhere\""),
        "{page}"
    );
    assert!(page.contains("Add timeouts to the payment client"), "the newer item is shown");
    let saved: String =
        sqlx::query_scalar("select title from action_item").fetch_one(&app.pool).await.unwrap();
    assert_eq!(saved, "Add timeouts to the payment client");
}
