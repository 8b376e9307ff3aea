//! The incident page as a document: read and edit modes, parts answered
//! alone, and the details a new user tripped on.

use debrief::auth::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{TestApp, api_error};

const PAGE: &str = "/incidents/INC-1";

#[tokio::test]
async fn the_page_opens_to_read_and_an_editor_switches_to_editing() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;

    let read = client.get_text(PAGE).await;
    assert!(!read.contains("Add the event") && !read.contains("Edit details"), "read mode: no editing forms");
    // The review is done while reading.
    assert!(read.contains("data-testid=\"send-for-review\""), "{read}");
    assert!(read.contains("data-testid=\"edit-all\""), "an editor can switch to editing");

    let switched = client.get(&format!("{PAGE}?edit=timeline")).await;
    assert_eq!(switched.status(), 303);
    assert_eq!(switched.headers()["location"], "/incidents/INC-1#timeline");
    let editing = client.get_text(PAGE).await;
    assert!(editing.contains("Add the event"), "the timeline is in edit mode");
    assert!(!editing.contains("Edit details"), "the rest of the page is still read");
    // The add form starts on the incident's day, not today.
    assert!(
        editing.contains("name=\"occurred_at\" type=\"datetime-local\" value=\"2026-11-20T14:00\""),
        "{editing}"
    );

    assert_eq!(client.get(&format!("{PAGE}?edit=off")).await.status(), 303);
    assert!(!client.get_text(PAGE).await.contains("Add the event"), "back to reading");
}

#[tokio::test]
async fn a_form_sent_by_the_script_gets_its_part_back_alone() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (incident, api_token) = app.open_incident(&editor).await;
    // An open thread on the timeline: the table of contents counts it.
    let event =
        serde_json::json!({"occurred_at": "2026-11-20T14:02:00Z", "kind": "alert", "body": "5xx alert"});
    let event = app.api_create(&format!("/api/v1/incidents/{incident}/timeline"), &api_token, &event).await;
    let comment =
        serde_json::json!({"target_kind": "timeline_event", "target_id": event["id"], "body": "First?"});
    app.api_create(&format!("/api/v1/incidents/{incident}/comments"), &api_token, &comment).await;
    let token = client.csrf_token(PAGE).await;
    let form = [("csrf_token", token.as_str()), ("lines", "14:05 paged the payments on-call")];
    let answer = client
        .http
        .post(client.url("/incidents/INC-1/timeline/paste"))
        .header("X-Debrief-Part", "timeline")
        .form(&form)
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 200);
    let fragment = answer.text().await.unwrap();
    assert!(fragment.contains("<section id=\"timeline\""), "{fragment}");
    assert!(fragment.contains("paged the payments on-call") && fragment.contains("Added 1 event"));
    assert!(!fragment.contains("<html") && !fragment.contains("id=\"causes\""), "only its part: {fragment}");
    // Its line of the table of contents, as the whole page counts it.
    assert!(
        fragment.contains("<p class=\"toc-update\" data-section=\"timeline\" hidden>2 events, 1 comment</p>"),
        "{fragment}"
    );
}

#[tokio::test]
async fn pasted_alerts_offer_the_milestones_the_incident_lacks() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    let token = client.csrf_token(PAGE).await;
    let lines = "14:02 alert: 5xx > 5%\n14:30 mitigated: rolled back";
    let answer = client
        .post_form("/incidents/INC-1/timeline/paste", &[("csrf_token", &token), ("lines", lines)])
        .await;
    assert_eq!(answer.status(), 200, "shown again, with the offers");
    let page = answer.text().await.unwrap();
    assert!(page.contains("Set Detected to 2026-11-20 14:02 UTC"), "{page}");
    assert!(page.contains("Set Mitigated to 2026-11-20 14:30 UTC"), "{page}");
    assert!(!page.contains("Set Resolved"), "nothing resolved was pasted");

    let version = app.count("select version::bigint from incident").await.to_string();
    let set = [
        ("csrf_token", token.as_str()),
        ("field", "detected_at"),
        ("at", "2026-11-20T14:02:00Z"),
        ("version", version.as_str()),
    ];
    assert_eq!(client.post_form("/incidents/INC-1/milestones/set", &set).await.status(), 303);
    let detected = app.count("select extract(minute from detected_at)::bigint from incident").await;
    assert_eq!(detected, 2);
}

#[tokio::test]
async fn without_the_script_delete_asks_on_its_own_page() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let event =
        json!({"occurred_at": "2026-11-20T14:05:00Z", "kind": "observation", "body": "pasted by mistake"});
    let path = format!("/api/v1/incidents/{incident}/timeline");
    let created: Value = app
        .api(reqwest::Method::POST, &path, &token)
        .json(&event)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap();

    let ask = format!("/incidents/INC-1/timeline/{id}/delete");
    let page = client.get_text(&ask).await;
    assert!(
        page.contains("Delete this event from the timeline?") && page.contains("pasted by mistake"),
        "{page}"
    );
    assert_eq!(app.count("select count(*) from timeline_event").await, 1, "asking deletes nothing");
    assert_eq!(client.submit(&ask, &ask, &[]).await.status(), 303);
    assert_eq!(app.count("select count(*) from timeline_event").await, 0);
}

#[tokio::test]
async fn the_api_names_an_incident_by_reference_number_or_id() {
    let app = TestApp::spawn().await;
    let (editor, _) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    for name in ["INC-1", "1", incident.as_str()] {
        let body = app.api_json(&format!("/api/v1/incidents/{name}"), &token).await;
        assert_eq!(body["id"], incident.as_str(), "{name}");
    }
    let response = app.api(reqwest::Method::GET, "/api/v1/incidents/INC-x", &token).send().await.unwrap();
    let (status, _, message) = api_error(response).await;
    assert_eq!(status, 400);
    assert!(message.contains("does not name an incident") && !message.contains("UUID parsing"), "{message}");
    let response = app.api(reqwest::Method::GET, "/api/v1/incidents/INC-999", &token).send().await.unwrap();
    assert_eq!(response.status(), 404);
}

#[tokio::test]
async fn a_why_renders_its_markdown() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let cause = json!({"kind": "root", "category": "missing timeout", "description": "No timeout.",
                       "whys": ["the `http.Client` had no `Timeout`"]});
    let path = format!("/api/v1/incidents/{incident}/causes");
    assert_eq!(
        app.api(reqwest::Method::POST, &path, &token).json(&cause).send().await.unwrap().status(),
        201
    );
    let page = client.get_text(PAGE).await;
    assert!(page.contains("the <code>http.Client</code> had no <code>Timeout</code>"), "{page}");
}

#[tokio::test]
async fn only_an_admin_editing_the_page_is_offered_to_delete_it() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    client.get(&format!("{PAGE}?edit=all")).await;
    assert!(!client.get_text(PAGE).await.contains("data-testid=\"delete-incident\""), "not for an editor");
    let (_, admin) = app.signed_in(Role::Admin).await;
    assert!(!admin.get_text(PAGE).await.contains("data-testid=\"delete-incident\""), "not in read mode");
    admin.get(&format!("{PAGE}?edit=all")).await;
    let page = admin.get_text(PAGE).await;
    assert!(page.contains("href=\"/incidents/INC-1/delete\" data-testid=\"delete-incident\""), "{page}");
}
