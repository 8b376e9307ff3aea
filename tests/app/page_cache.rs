//! The incident page is kept once rendered: whatever changes what it shows,
//! by any route or straight in the database, shows on the next view, and each
//! reader's page carries their own CSRF token.

use std::time::Duration;

use debrief::auth::domain::Role;
use serde_json::json;

use crate::helpers::{Client, TestApp, extract_csrf};

const PAGE: &str = "/incidents/INC-1";

/// Adds `body` to the timeline through the API.
async fn add_event(app: &TestApp, incident: &str, token: &str, body: &str) {
    let event = json!({"occurred_at": "2026-11-20T14:05:00Z", "kind": "observation", "body": body});
    let path = format!("/api/v1/incidents/{incident}/timeline");
    let response = app.api(reqwest::Method::POST, &path, token).json(&event).send().await.unwrap();
    assert_eq!(response.status(), 201);
}

async fn execute(app: &TestApp, sql: &str) {
    sqlx::query(sql).execute(&app.pool).await.expect("the statement runs");
}

#[tokio::test]
async fn every_change_to_what_the_page_shows_is_on_the_next_view() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    // In edit mode, so the forms (and the category picker) are on the page too.
    client.get_text("/incidents/INC-1?edit=all").await;
    add_event(&app, &incident, &token, "Goroutines climbing past 40k").await;
    let page = client.get_text(PAGE).await;
    assert!(page.contains("Goroutines climbing past 40k"));
    assert_eq!(client.get_text(PAGE).await, page, "read twice, the same page");

    add_event(&app, &incident, &token, "Paged the payments on-call").await;
    assert!(client.get_text(PAGE).await.contains("Paged the payments on-call"), "an event added");

    let cause =
        json!({"kind": "root", "category": "missing timeout", "description": "The client had no deadline"});
    let path = format!("/api/v1/incidents/{incident}/causes");
    assert_eq!(
        app.api(reqwest::Method::POST, &path, &token).json(&cause).send().await.unwrap().status(),
        201
    );
    assert!(client.get_text(PAGE).await.contains("The client had no deadline"), "a cause added");

    let item = json!({"title": "Put a timeout on every outbound call", "kind": "prevent"});
    let path = format!("/api/v1/incidents/{incident}/action_items");
    assert_eq!(app.api(reqwest::Method::POST, &path, &token).json(&item).send().await.unwrap().status(), 201);
    assert!(client.get_text(PAGE).await.contains("Put a timeout on every outbound call"), "an item added");

    // Changes made by another process, straight in the database.
    execute(&app, "update timeline_event set body = 'Goroutines past 60k' where body like 'Goroutines%'")
        .await;
    let page = client.get_text(PAGE).await;
    assert!(page.contains("Goroutines past 60k") && !page.contains("past 40k"), "an event edited elsewhere");

    execute(&app, "delete from action_item").await;
    assert!(!client.get_text(PAGE).await.contains("Put a timeout"), "an item deleted elsewhere");

    execute(&app, "update incident set summary = 'Checkout failed for **47 minutes**.'").await;
    assert!(
        client.get_text(PAGE).await.contains("<strong>47 minutes</strong>"),
        "the incident edited elsewhere"
    );

    execute(&app, &format!("update app_user set name = 'Dee Kay' where id = '{}'", editor.id)).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(client.get_text(PAGE).await.contains("Dee Kay"), "an author renamed");

    execute(&app, "insert into cause_category (name) values ('clock skew')").await;
    assert!(client.get_text(PAGE).await.contains("clock skew"), "a category added to the picker");
}

#[tokio::test]
async fn each_reader_gets_their_own_token_and_can_post_with_it() {
    let app = TestApp::spawn().await;
    let (editor, first) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    // The same person signed in from a second browser: the same page, kept.
    let second = Client::new(&app.url(""));
    assert_eq!(second.login(&editor.email, &editor.password).await.status(), 303);

    let first_page = first.get_text(PAGE).await;
    let second_page = second.get_text(PAGE).await;
    let first_token = extract_csrf(&first_page).unwrap();
    let second_token = extract_csrf(&second_page).unwrap();
    assert_ne!(first_token, second_token);
    assert!(!second_page.contains(&first_token), "no other session's token");
    assert_eq!(second_page.replace(&second_token, &first_token), first_page, "otherwise the same page");

    let lines = [("csrf_token", second_token.as_str()), ("lines", "14:07 rolled back the deploy")];
    let pasted = second.post_form("/incidents/INC-1/timeline/paste", &lines).await;
    assert_eq!(pasted.status(), 303, "the token on the kept page is valid");
    assert!(first.get_text(PAGE).await.contains("rolled back the deploy"));
}

#[tokio::test]
async fn a_flash_message_is_shown_once_on_the_page() {
    let app = TestApp::spawn().await;
    let (_, client) = app.signed_in(Role::Editor).await;
    let fields = [("title", "Checkout 5xx"), ("severity", "SEV2"), ("started_at", "2026-11-20T14:02")];
    assert_eq!(client.submit("/incidents/new", "/incidents/new", &fields).await.status(), 303);

    assert!(client.get_text(PAGE).await.contains("INC-1 is open as a draft."));
    assert!(!client.get_text(PAGE).await.contains("INC-1 is open as a draft."), "shown once");
}

#[tokio::test]
async fn a_new_role_shows_on_the_page_at_once() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    client.get_text("/incidents/INC-1?edit=all").await;
    assert!(client.get_text(PAGE).await.contains("Add the event"));

    let (_, admin) = app.signed_in(Role::Admin).await;
    let demoted = admin
        .submit("/admin/users", &format!("/admin/users/{}/role", editor.id), &[("role", "viewer")])
        .await;
    assert_eq!(demoted.status(), 303);

    let page = client.get_text(PAGE).await;
    assert!(page.contains("Checkout 5xx") && !page.contains("Add the event"), "read-only now");
}

#[tokio::test]
async fn an_account_disabled_elsewhere_is_refused_within_a_second() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    assert_eq!(client.get(PAGE).await.status(), 200);

    execute(&app, &format!("update app_user set disabled = true where id = '{}'", editor.id)).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;

    let refused = client.get(PAGE).await;
    assert_eq!(refused.status(), 403);
    assert!(refused.text().await.unwrap().contains("This account has been disabled"));
}

#[tokio::test]
async fn a_kept_page_says_when_it_last_changed_as_a_moment_that_cannot_go_stale() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    // The postmortem was last changed three hours ago.
    execute(&app, "update incident_revision set created_at = now() - interval '3 hours'").await;
    execute(&app, "update incident set title = title").await;
    let last: String = sqlx::query_scalar(
        "select to_char(max(created_at) at time zone 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS') from incident_revision",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();

    let first = client.get_text(PAGE).await;
    let kept = client.get_text(PAGE).await;

    assert_eq!(first, kept, "the second view is the kept page");
    assert!(first.contains("1 change, last by "), "{first}");
    assert!(first.contains(&format!("<time datetime=\"{last}")), "the moment itself: {last} in {first}");
    assert!(!first.contains(" ago<"), "no time-since text a kept page would carry past its hour");
}
