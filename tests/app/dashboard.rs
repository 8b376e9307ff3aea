//! The dashboard: the reader's own action items and drafts, what waits for
//! review, and the latest incidents.

use debrief::auth::domain::Role;
use serde_json::{Value, json};
use time::{Date, Duration, OffsetDateTime};

use crate::helpers::{TestApp, TestUser};

/// Opens an incident titled `title` through the API with `token`; returns
/// its id.
pub async fn open_titled(app: &TestApp, token: &str, title: &str) -> String {
    let body = json!({"title": title, "severity": "SEV2", "started_at": "2026-11-20T14:00:00Z"});
    let response =
        app.api(reqwest::Method::POST, "/api/v1/incidents", token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201, "{title} opens");
    let created: Value = response.json().await.unwrap();
    created["id"].as_str().unwrap().to_owned()
}

/// Adds an action item to the incident `incident` through the API.
pub async fn add_item(
    app: &TestApp,
    token: &str,
    incident: &str,
    title: &str,
    owner: Option<&TestUser>,
    due_on: Option<Date>,
) -> Value {
    let body = json!({
        "title": title,
        "kind": "prevent",
        "owner_id": owner.map(|user| user.id.to_string()),
        "due_on": due_on.map(|date| date.to_string()),
    });
    let path = format!("/api/v1/incidents/{incident}/action_items");
    let response = app.api(reqwest::Method::POST, &path, token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 201, "{title} is added");
    response.json().await.unwrap()
}

/// Changes fields of the incident through the API, at `version`.
pub async fn patch_incident(app: &TestApp, token: &str, incident: &str, body: Value) {
    let path = format!("/api/v1/incidents/{incident}");
    let response = app.api(reqwest::Method::PATCH, &path, token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200, "{body}");
}

/// A day counted from today (UTC, the zone of test users).
pub fn day(offset: i64) -> Date {
    OffsetDateTime::now_utc().date() + Duration::days(offset)
}

/// The part of `page` from the element with `data-testid="{id}"` to the
/// next section.
fn section<'a>(page: &'a str, id: &str) -> &'a str {
    let start = page.find(&format!("data-testid=\"{id}\"")).unwrap_or_else(|| panic!("no {id}: {page}"));
    let rest = &page[start..];
    let end = rest.find("</section>").unwrap_or(rest.len());
    &rest[..end]
}

#[tokio::test]
async fn my_action_items_show_overdue_first_and_marked_and_not_other_peoples() {
    let app = TestApp::spawn().await;
    let (me, client) = app.signed_in(Role::Editor).await;
    let someone = app.create_user(Role::Editor).await;
    let token = app.api_token(&me).await;
    let incident = open_titled(&app, &token, "Checkout 5xx").await;
    add_item(&app, &token, &incident, "Add a retry budget", Some(&me), Some(day(30))).await;
    add_item(&app, &token, &incident, "Set client timeouts", Some(&me), Some(day(-3))).await;
    add_item(&app, &token, &incident, "Page the payments team", Some(&someone), Some(day(-5))).await;

    let page = client.get_text("/").await;

    let mine = section(&page, "my-items");
    let (overdue, future) = (mine.find("Set client timeouts"), mine.find("Add a retry budget"));
    assert!(overdue.is_some() && future.is_some(), "both of my items are listed: {mine}");
    assert!(overdue < future, "the overdue item comes first: {mine}");
    let overdue_row = mine[..mine.find("Set client timeouts").unwrap()].rsplit("<tr").next().unwrap();
    assert!(overdue_row.contains("class=\"overdue\""), "the overdue row is marked: {mine}");
    let future_row = &mine[mine.find("Add a retry budget").unwrap()..];
    let future_row = &future_row[..future_row.find("</tr>").unwrap()];
    assert!(!future_row.contains("overdue"), "a future item is not marked: {future_row}");
    assert_eq!(mine.matches("badge-overdue").count(), 1, "{mine}");
    assert!(mine.contains("2 open, <strong class=\"overdue-count\">1 overdue</strong>"), "{mine}");
    assert!(mine.contains("href=\"/incidents/INC-1#action-items\""), "{mine}");
    assert!(mine.contains("href=\"/action-items?mine=1\""), "{mine}");
    assert!(!mine.contains("Page the payments team"), "another person's item is not mine: {mine}");
}

#[tokio::test]
async fn a_reader_with_nothing_of_theirs_sees_empty_sections() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let token = app.api_token(&editor).await;
    let incident = open_titled(&app, &token, "Checkout 5xx").await;
    add_item(&app, &token, &incident, "Set client timeouts", Some(&editor), Some(day(-3))).await;
    let (_, viewer) = app.signed_in(Role::Viewer).await;

    let page = viewer.get_text("/").await;

    let mine = section(&page, "my-items");
    assert!(mine.contains("Nothing open is yours") && !mine.contains("Set client timeouts"), "{mine}");
    assert!(section(&page, "my-drafts").contains("No drafts of yours"), "{page}");
    assert!(section(&page, "in-review").contains("No postmortem is waiting for its review"), "{page}");
    assert!(section(&page, "latest").contains("href=\"/incidents/INC-1\""), "{page}");
}

#[tokio::test]
async fn drafts_i_wrote_and_incidents_in_review_show_in_their_sections() {
    let app = TestApp::spawn().await;
    let (me, client) = app.signed_in(Role::Editor).await;
    let other = app.create_user(Role::Editor).await;
    let (my_token, other_token) = (app.api_token(&me).await, app.api_token(&other).await);
    open_titled(&app, &my_token, "Draft I opened").await;
    let reviewed = open_titled(&app, &my_token, "Postmortem under review").await;
    patch_incident(&app, &my_token, &reviewed, json!({"version": 1, "status": "in_review"})).await;
    open_titled(&app, &other_token, "Someone else's draft").await;
    let edited = open_titled(&app, &other_token, "Draft I edited").await;
    patch_incident(&app, &my_token, &edited, json!({"version": 1, "summary": "Checkout failed."})).await;

    let page = client.get_text("/").await;

    let drafts = section(&page, "my-drafts");
    assert!(drafts.contains("href=\"/incidents/INC-1\"") && drafts.contains("Draft I opened"), "{drafts}");
    assert!(drafts.contains("href=\"/incidents/INC-4\"") && drafts.contains("Draft I edited"), "{drafts}");
    assert!(!drafts.contains("Someone else&#x27;s draft") && !drafts.contains("INC-3"), "{drafts}");
    assert!(!drafts.contains("Postmortem under review"), "in review is no longer a draft: {drafts}");
    assert!(drafts.contains("<span class=\"count\">2</span>"), "{drafts}");
    let review = section(&page, "in-review");
    assert!(
        review.contains("href=\"/incidents/INC-2\"") && review.contains("Postmortem under review"),
        "{review}"
    );
    assert!(!review.contains("Draft I opened"), "{review}");
    assert!(review.contains("<span class=\"count\">1</span>"), "{review}");
}
