//! The timeline: quick entry by pasting, hypotheses, edits and deletes.

use debrief::auth::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, api_error};

async fn events(app: &TestApp) -> Vec<(String, String, String, Option<String>)> {
    sqlx::query_as(
        "select to_char(occurred_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI'), kind, body, hypothesis_status \
         from timeline_event order by occurred_at",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap()
}

async fn paste(client: &Client, lines: &str) -> reqwest::Response {
    client.submit("/incidents/INC-1", "/incidents/INC-1/timeline/paste", &[("lines", lines)]).await
}

#[tokio::test]
async fn pasted_lines_become_events_in_the_writers_zone_and_the_rest_are_shown_back() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    let zone = client.submit("/account", "/account/time_zone", &[("time_zone", "Europe/Paris")]).await;
    assert_eq!(zone.status(), 303);

    let response = paste(
        &client,
        "14:02 alert: 5xx > 5%\n\n14:11 hypothesis: connection pool exhausted\nthe pool looked fine to me\n14:30 mitigated: rolled back deploy 4512",
    )
    .await;

    assert_eq!(response.status(), 200, "some lines were added");
    let page = response.text().await.unwrap();
    assert!(page.contains("Added 3 events to the timeline."), "{page}");
    assert!(page.contains("data-testid=\"rejected-lines\""), "{page}");
    assert!(page.contains("Line 4: <code>the pool looked fine to me</code>"), "{page}");
    assert!(page.contains(">the pool looked fine to me</textarea>"), "the unread line is kept in the box");
    assert_eq!(
        events(&app).await,
        [
            ("2026-11-20 13:02".to_owned(), "alert".to_owned(), "5xx > 5%".to_owned(), None),
            (
                "2026-11-20 13:11".into(),
                "hypothesis".into(),
                "connection pool exhausted".into(),
                Some("open".into())
            ),
            ("2026-11-20 13:30".into(), "mitigation".into(), "rolled back deploy 4512".into(), None),
        ]
    );
    let page = client.get_text("/incidents/INC-1").await;
    assert!(page.contains("(times in Europe/Paris)") && page.contains(">14:02</time>"), "{page}");

    // A reader in another zone sees the same moments in theirs.
    let (_, viewer) = app.signed_in(Role::Viewer).await;
    assert!(viewer.get_text("/incidents/INC-1").await.contains(">13:02</time>"));
}

#[tokio::test]
async fn a_kind_word_inside_a_pasted_line_leaves_it_an_observation() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;

    let response =
        paste(&client, "14:05 paged the payments on-call\n14:06 checked the alert threshold, it was fine")
            .await;

    assert_eq!(response.status(), 303);
    let kinds: Vec<_> = events(&app).await.into_iter().map(|(_, kind, body, _)| (kind, body)).collect();
    assert_eq!(
        kinds,
        [
            ("observation".to_owned(), "paged the payments on-call".to_owned()),
            ("observation".into(), "checked the alert threshold, it was fine".into()),
        ]
    );
}

#[tokio::test]
async fn a_paste_with_nothing_readable_adds_nothing_and_says_why() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;

    let response = paste(&client, "no time here\n25:00 impossible").await;

    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("Line 1:") && page.contains("Line 2:"), "{page}");
    assert!(events(&app).await.is_empty());
}

#[tokio::test]
async fn a_hypothesis_is_confirmed_in_place_and_the_history_says_so() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    let added = client
        .submit(
            "/incidents/INC-1",
            "/incidents/INC-1/timeline",
            &[
                ("occurred_at", "2026-11-20T14:11"),
                ("kind", "hypothesis"),
                ("body", "HTTP client without timeout"),
                ("evidence", ""),
            ],
        )
        .await;
    assert_eq!(added.status(), 303);
    let (id, version): (uuid::Uuid, i32) =
        sqlx::query_as("select id, version from timeline_event").fetch_one(&app.pool).await.unwrap();

    let confirmed = client
        .submit(
            "/incidents/INC-1",
            &format!("/incidents/INC-1/timeline/{id}/hypothesis"),
            &[("version", &version.to_string()), ("hypothesis_status", "confirmed")],
        )
        .await;

    assert_eq!(confirmed.status(), 303);
    let page = client.get_text("/incidents/INC-1").await;
    assert!(page.contains("data-testid=\"hypothesis-status\">confirmed<"), "{page}");
    assert!(client.get_text("/incidents/INC-1/history").await.contains("Marked a hypothesis confirmed"));
}

#[tokio::test]
async fn an_event_form_error_shows_by_its_field_with_the_input_kept() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;

    let response = client
        .submit(
            "/incidents/INC-1",
            "/incidents/INC-1/timeline",
            &[("occurred_at", "soon"), ("kind", "alert"), ("body", "kept text")],
        )
        .await;

    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"new-event-occurred_at-error\">Enter a date and time like"), "{page}");
    assert!(page.contains(">kept text</textarea>"));
    assert!(events(&app).await.is_empty());
}

#[tokio::test]
async fn deleting_an_event_removes_only_it() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    paste(&client, "14:02 first\n14:03 second\n14:04 third").await;
    let second: uuid::Uuid = sqlx::query_scalar("select id from timeline_event where body = 'second'")
        .fetch_one(&app.pool)
        .await
        .unwrap();

    let response =
        client.submit("/incidents/INC-1", &format!("/incidents/INC-1/timeline/{second}/delete"), &[]).await;

    assert_eq!(response.status(), 303);
    let bodies: Vec<String> = events(&app).await.into_iter().map(|e| e.2).collect();
    assert_eq!(bodies, ["first", "third"]);
    let history = client.get_text("/incidents/INC-1/history").await;
    assert!(history.contains("Deleted a timeline event"), "{history}");
}

#[tokio::test]
async fn the_api_adds_edits_and_deletes_events_with_version_checks() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;

    let created = app
        .api(reqwest::Method::POST, &format!("/api/v1/incidents/{incident}/timeline"), &token)
        .json(&json!({"occurred_at": "2026-11-20T14:02:00Z", "kind": "decision", "body": "Roll back deploy 4512"}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let event: Value = created.json().await.unwrap();
    let id = event["id"].as_str().unwrap();
    assert_eq!((event["kind"].as_str(), event["version"].as_i64()), (Some("decision"), Some(1)));

    let patch =
        |body: Value| app.api(reqwest::Method::PATCH, &format!("/api/v1/timeline/{id}"), &token).json(&body);
    let edited: Value = patch(json!({"version": 1, "body": "Roll back deploy 4512 on all regions"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(edited["version"], 2);
    let (status, code, _) =
        api_error(patch(json!({"version": 1, "body": "stale"})).send().await.unwrap()).await;
    assert_eq!((status, code.as_str()), (409, "conflict"));
    let (status, _, _) =
        api_error(patch(json!({"version": 2, "kind": "rumour"})).send().await.unwrap()).await;
    assert_eq!(status, 422);

    let whole = app.api_json(&format!("/api/v1/incidents/{incident}"), &token).await;
    assert_eq!(whole["timeline"][0]["body"], "Roll back deploy 4512 on all regions");

    let deleted =
        app.api(reqwest::Method::DELETE, &format!("/api/v1/timeline/{id}"), &token).send().await.unwrap();
    assert_eq!(deleted.status(), 204);
    assert!(events(&app).await.is_empty());
}

#[tokio::test]
async fn two_editors_changing_one_event_cannot_overwrite_each_other() {
    let app = TestApp::spawn().await;
    let (editor, first) = app.signed_in(Role::Editor).await;
    let (_, second) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    paste(&first, "14:02 alert fired").await;
    let id: uuid::Uuid =
        sqlx::query_scalar("select id from timeline_event").fetch_one(&app.pool).await.unwrap();
    let edit = |client: &Client, body: &'static str| {
        let client = client.clone();
        async move {
            let action = format!("/incidents/INC-1/timeline/{id}/edit");
            let fields =
                [("version", "1"), ("occurred_at", "2026-11-20T14:02"), ("kind", "alert"), ("body", body)];
            client.submit(&action, &action, &fields).await
        }
    };

    let won = edit(&first, "alert fired: 5xx > 5%").await;
    let lost = edit(&second, "alert fired on checkout").await;

    assert_eq!(won.status(), 303);
    assert_eq!(lost.status(), 409);
    let page = lost.text().await.unwrap();
    assert!(
        page.contains("data-testid=\"conflict\"") && page.contains(">alert fired on checkout</textarea>"),
        "{page}"
    );
    assert!(
        page.contains("alert fired: 5xx &gt; 5%") || page.contains("alert fired: 5xx &#62; 5%"),
        "{page}"
    );
    assert_eq!(events(&app).await[0].2, "alert fired: 5xx > 5%");
}
