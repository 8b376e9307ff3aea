//! Editing a postmortem without losing anyone's edit, its workflow, and
//! its history.

use debrief::auth::domain::Role;
use serde_json::{Value, json};

use crate::helpers::{Client, TestApp, api_error};

async fn save_section(
    client: &Client,
    section: &str,
    version: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("version", version)];
    form.extend_from_slice(fields);
    client.submit("/incidents/INC-1", &format!("/incidents/INC-1/edit/{section}"), &form).await
}

async fn summary_in_db(app: &TestApp) -> (String, i32) {
    sqlx::query_as("select summary, version from incident where number = 1")
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_editor_edits_a_section_and_the_page_renders_its_markdown() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    let form = client.get_text("/incidents/INC-1/edit/summary").await;
    assert!(form.contains("name=\"version\" value=\"1\""), "{form}");

    let response =
        save_section(&client, "summary", "1", &[("summary", "Checkout **failed** for `47 min`.")]).await;

    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/incidents/INC-1#summary");
    let page = client.get_text("/incidents/INC-1").await;
    assert!(page.contains("Checkout <strong>failed</strong> for <code>47 min</code>."), "{page}");
    assert!(
        page.contains("2 changes, last by"),
        "the head says how often it changed and who changed it last"
    );
    assert_eq!(summary_in_db(&app).await, ("Checkout **failed** for `47 min`.".into(), 2));
}

#[tokio::test]
async fn two_editors_save_from_the_same_version_and_nothing_of_the_first_is_lost() {
    let app = TestApp::spawn().await;
    let (editor, first) = app.signed_in(Role::Editor).await;
    let (_, second) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;

    let won = save_section(&first, "summary", "1", &[("summary", "The first editor's summary.")]).await;
    let lost = save_section(&second, "summary", "1", &[("summary", "The second editor's summary.")]).await;

    assert_eq!(won.status(), 303);
    assert_eq!(lost.status(), 409);
    let page = lost.text().await.unwrap();
    assert!(page.contains("data-testid=\"conflict\""), "{page}");
    assert!(
        page.contains(">The second editor&#39;s summary.</textarea>")
            || page.contains(">The second editor&#x27;s summary.</textarea>"),
        "the loser's text is kept: {page}"
    );
    assert!(page.contains("The first editor"), "the newer text is shown beside it");
    assert!(page.contains("name=\"version\" value=\"2\""), "merging saves on top of the newer version");
    assert_eq!(summary_in_db(&app).await, ("The first editor's summary.".into(), 2));

    let merged = save_section(&second, "summary", "2", &[("summary", "Both summaries, merged.")]).await;
    assert_eq!(merged.status(), 303);
    assert_eq!(summary_in_db(&app).await, ("Both summaries, merged.".into(), 3));
}

#[tokio::test]
async fn a_stale_api_patch_gets_409_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (id, _) = app.open_incident(&editor).await;
    let token = app.api_token(&editor).await;
    let patch =
        |body: Value| app.api(reqwest::Method::PATCH, &format!("/api/v1/incidents/{id}"), &token).json(&body);

    let first =
        patch(json!({"version": 1, "summary": "first", "tags": ["goroutine-leak"]})).send().await.unwrap();
    assert_eq!(first.status(), 200);
    let saved: Value = first.json().await.unwrap();
    assert_eq!((saved["version"].as_i64(), saved["tags"][0].as_str()), (Some(2), Some("goroutine-leak")));

    let stale = patch(json!({"version": 1, "summary": "second"})).send().await.unwrap();
    let (status, code, message) = api_error(stale).await;
    assert_eq!((status, code.as_str()), (409, "conflict"));
    assert!(message.contains("now at version 2"), "{message}");
    assert_eq!(summary_in_db(&app).await, ("first".into(), 2));

    for (body, expected) in [
        (json!({"summary": "no version"}), "version"),
        (json!({"version": 2, "owner": "x"}), "owner: not a field"),
        (json!({"version": 2, "severity": "SEV9"}), "severity:"),
        (json!({"version": 2, "summary": 42}), "summary: expected a string"),
    ] {
        let (status, _, message) = api_error(patch(body).send().await.unwrap()).await;
        assert_eq!(status, 422);
        assert!(message.contains(expected), "{message}");
    }
    assert_eq!(summary_in_db(&app).await, ("first".into(), 2));
}

#[tokio::test]
async fn hostile_markdown_in_every_section_comes_out_inert() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (id, _) = app.open_incident(&editor).await;
    let token = app.api_token(&editor).await;
    let hostile = "<script>alert('x')</script> <img src=x onerror=alert(1)> [run](javascript:alert(1)) \
                   <iframe src=https://evil.example></iframe>";
    let mut body = json!({"version": 1});
    for field in
        ["summary", "impact", "trigger", "detection", "resolution", "went_well", "went_badly", "got_lucky"]
    {
        body[field] = json!(format!("{field}: {hostile}"));
    }
    let response = app
        .api(reqwest::Method::PATCH, &format!("/api/v1/incidents/{id}"), &token)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // The parts' Markdown too: a hypothesis's text and evidence, a cause's description and whys.
    let event = json!({"occurred_at": "2026-11-20T14:02:00Z", "kind": "hypothesis",
                       "body": format!("timeline: {hostile}"), "evidence": format!("evidence: {hostile}")});
    let timeline = format!("/api/v1/incidents/{id}/timeline");
    let added = app.api(reqwest::Method::POST, &timeline, &token).json(&event).send().await.unwrap();
    assert_eq!(added.status(), 201);
    let cause = json!({"kind": "root", "category": "missing timeout", "description": format!("cause: {hostile}"),
                       "whys": [format!("why: {hostile}")]});
    let causes = format!("/api/v1/incidents/{id}/causes");
    let added = app.api(reqwest::Method::POST, &causes, &token).json(&cause).send().await.unwrap();
    assert_eq!(added.status(), 201);

    let page = client.get_text("/incidents/INC-1").await.to_lowercase();

    for field in ["summary", "impact", "went_badly", "got_lucky", "timeline", "evidence", "cause", "why"] {
        assert!(page.contains(&format!("{field}: ")), "{field} is shown");
    }
    // Shown as text is fine (escaped, it cannot run); as markup it is not.
    let tags: Vec<&str> =
        page.split('<').skip(1).map(|rest| rest.split('>').next().unwrap_or_default()).collect();
    for tag in &tags {
        let name = tag.split_whitespace().next().unwrap_or_default();
        // Only our own scripts, as the page's head loads them.
        let ours = ["script src=\"/static/js/app.js\" defer", "script src=\"/static/js/wording.js\" defer"];
        assert!(!matches!(name, "script" | "iframe") || ours.contains(tag), "<{tag}>");
        assert!(!tag.contains(" onerror") && !tag.contains("javascript:"), "<{tag}>");
    }
    assert!(page.contains("why: "), "the why is shown, its Markdown rendered and sanitised like every field");
}

#[tokio::test]
async fn the_workflow_goes_draft_review_published_one_step_at_a_time() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (id, _) = app.open_incident(&editor).await;
    let token = app.api_token(&editor).await;

    let skip = app
        .api(reqwest::Method::PATCH, &format!("/api/v1/incidents/{id}"), &token)
        .json(&json!({"version": 1, "status": "published"}))
        .send()
        .await
        .unwrap();
    let (status, _, message) = api_error(skip).await;
    assert_eq!(status, 422);
    assert!(message.contains("cannot become published directly"), "{message}");

    let review = client
        .submit("/incidents/INC-1", "/incidents/INC-1/status", &[("version", "1"), ("status", "in_review")])
        .await;
    assert_eq!(review.status(), 303);
    // Publishing waits for what the rules of its severity ask, named.
    let refused = client
        .submit("/incidents/INC-1", "/incidents/INC-1/status", &[("version", "2"), ("status", "published")])
        .await;
    assert_eq!(refused.status(), 303);
    let page = client.get_text("/incidents/INC-1").await;
    assert!(page.contains("It cannot be published yet: Summary is empty;"), "{page}");
    assert!(page.contains("data-testid=\"status\">in review<"), "{page}");
    // A team whose rules ask nothing publishes at once.
    sqlx::query("update review_rule set required = '{}', approvals = 0").execute(&app.pool).await.unwrap();
    let publish = client
        .submit("/incidents/INC-1", "/incidents/INC-1/status", &[("version", "2"), ("status", "published")])
        .await;
    assert_eq!(publish.status(), 303);
    let page = client.get_text("/incidents/INC-1").await;
    assert!(page.contains("INC-1 is now published."), "{page}");
    assert!(page.contains("data-testid=\"status\">published<"), "{page}");

    // Published postmortems stay editable, and the history shows what changed after publication.
    assert_eq!(
        save_section(&client, "impact", "3", &[("impact", "QPS 12,800 -> 3,000 for 47 min")]).await.status(),
        303
    );
    let history = client.get_text("/incidents/INC-1/history").await;
    assert!(history.contains("Edited impact <span class=\"badge\">after publication</span>"), "{history}");
    let page = client.get_text("/incidents/INC-1").await;
    let note = page
        .split("data-testid=\"after-publication\"")
        .nth(1)
        .expect("the page shows changes after publication");
    assert!(note.contains(&format!("{}: Edited impact", editor.name)), "{note}");
    assert!(history.contains("Moved to published") && history.contains("Moved to in review"), "{history}");
}

#[tokio::test]
async fn milestones_must_be_in_order_and_give_the_durations() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    let milestones = |detected: &'static str| {
        vec![
            ("started_at", "2026-11-20T14:00"),
            ("detected_at", detected),
            ("mitigated_at", "2026-11-20T14:47"),
            ("resolved_at", "2026-11-20T16:05"),
        ]
    };

    let wrong = save_section(&client, "milestones", "1", &milestones("2026-11-20T13:00")).await;
    assert_eq!(wrong.status(), 422);
    let page = wrong.text().await.unwrap();
    assert!(page.contains("id=\"field-detected_at-error\">Detected cannot be before started."), "{page}");
    assert!(page.contains("value=\"2026-11-20T13:00\""), "the input is kept");

    let right = save_section(&client, "milestones", "1", &milestones("2026-11-20T14:07")).await;
    assert_eq!(right.status(), 303);
    let page = client.get_text("/incidents/INC-1").await;
    for expected in [
        "Time to detect</dt><dd>7 min",
        "Time to mitigate</dt><dd>47 min",
        "Time to resolve</dt><dd>2 h 05 min",
    ] {
        assert!(page.contains(expected), "{expected}: {page}");
    }
}

#[tokio::test]
async fn viewers_read_the_postmortem_but_cannot_edit_it() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    app.open_incident(&editor).await;
    let (_, viewer) = app.signed_in(Role::Viewer).await;

    let page = viewer.get_text("/incidents/INC-1").await;
    assert!(page.contains("Checkout 5xx") && !page.contains("/edit/"), "no edit links for viewers");
    assert!(!page.contains("action=\"/incidents/INC-1/status\""));
    assert_eq!(viewer.get("/incidents/INC-1/edit/summary").await.status(), 403);
    let write = save_section(&viewer, "summary", "1", &[("summary", "viewer text")]).await;
    assert_eq!(write.status(), 403);
    assert_eq!(summary_in_db(&app).await, (String::new(), 1));
}

#[tokio::test]
async fn the_history_shows_a_readable_diff_between_two_revisions() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    save_section(&client, "summary", "1", &[("summary", "Line one.\nLine two.")]).await;
    save_section(&client, "summary", "2", &[("summary", "Line one.\nLine 2, corrected.")]).await;

    let history = client.get_text("/incidents/INC-1/history").await;

    assert!(history.contains("Opened the postmortem"), "{history}");
    assert!(history.contains("<span class=\"visually-hidden\">removed: </span>Line two.</li>"), "{history}");
    assert!(
        history.contains("<span class=\"visually-hidden\">added: </span>Line 2, corrected.</li>"),
        "{history}"
    );
    let ids: Vec<i64> = sqlx::query_scalar("select id from incident_revision order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap();
    assert_eq!(ids.len(), 3);
    let whole = client.get_text(&format!("/incidents/INC-1/history?from={}&to={}", ids[0], ids[2])).await;
    assert!(
        whole.contains("<span class=\"visually-hidden\">added: </span>Line 2, corrected.</li>"),
        "{whole}"
    );
    assert!(!whole.contains("Line two."), "the first revision had no summary yet");
}

#[tokio::test]
async fn milestones_are_typed_and_shown_in_the_editors_zone() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    client.submit("/account", "/account/time_zone", &[("time_zone", "Europe/Paris")]).await;
    let form = client.get_text("/incidents/INC-1/edit/milestones").await;
    assert!(
        form.contains("name=\"started_at\" type=\"datetime-local\" value=\"2026-11-20T15:00\""),
        "{form}"
    );

    let response = save_section(
        &client,
        "milestones",
        "1",
        &[
            ("started_at", "2026-11-20T15:00"),
            ("detected_at", "2026-11-20T15:07"),
            ("mitigated_at", ""),
            ("resolved_at", ""),
        ],
    )
    .await;

    assert_eq!(response.status(), 303);
    let detected: String =
        sqlx::query_scalar("select to_char(detected_at at time zone 'UTC', 'HH24:MI') from incident")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(detected, "14:07", "stored in UTC");
    let page = client.get_text("/incidents/INC-1").await;
    assert!(page.contains("2026-11-20 15:07 CET") && page.contains("Time to detect</dt><dd>7 min"), "{page}");
}

#[tokio::test]
async fn impact_figures_are_typed_one_per_line_and_set_out_on_the_page() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let form = client.get_text("/incidents/INC-1/edit/impact").await;
    assert!(form.contains("<textarea id=\"field-impact_figures\" name=\"impact_figures\""), "{form}");

    let typed = "QPS 12,800 -> 3,000 for 47 min\nthings got slow";
    let wrong =
        save_section(&client, "impact", "1", &[("impact", "Checkout failed."), ("impact_figures", typed)])
            .await;
    assert_eq!(wrong.status(), 422);
    let page = wrong.text().await.unwrap();
    assert!(
        page.contains(
            "id=\"field-impact_figures-error\">Line 2: write a figure as what, before -&#62; after"
        ),
        "{page}"
    );
    assert!(
        page.contains("things got slow</textarea>") && page.contains("Checkout failed.</textarea>"),
        "kept"
    );

    let figures = "QPS 12,800 -> 3,000 for 47 min\n\n5xx rate: 0.1% → 31%";
    let right =
        save_section(&client, "impact", "1", &[("impact", "Checkout failed."), ("impact_figures", figures)])
            .await;
    assert_eq!(right.status(), 303);
    let page = client.get_text("/incidents/INC-1").await;
    assert!(page.contains("<dt>QPS</dt><dd>12,800 <span aria-label=\"to\">→</span> <strong>3,000</strong> <span class=\"muted\">for 47 min</span>"), "{page}");
    assert!(page.contains("<dt>5xx rate</dt><dd>0.1%"), "{page}");

    let json = app.api_json(&format!("/api/v1/incidents/{incident}"), &token).await;
    assert_eq!(
        json["impact_figures"],
        json!([
            {"metric": "QPS", "before": "12,800", "after": "3,000", "for": "47 min"},
            {"metric": "5xx rate", "before": "0.1%", "after": "31%"}
        ])
    );
    let history = client.get_text("/incidents/INC-1/history").await;
    assert!(history.contains("5xx rate: 0.1% -&#62; 31%"), "the history records them: {history}");
}

#[tokio::test]
async fn impact_figures_go_through_the_api_as_strings_or_objects() {
    let app = TestApp::spawn().await;
    let (editor, _) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let patch = |body: Value| {
        app.api(reqwest::Method::PATCH, &format!("/api/v1/incidents/{incident}"), &token).json(&body).send()
    };

    let figures = json!([
        "p99 latency 120 ms -> 8.9 s",
        {"metric": "Goroutines", "before": "800", "after": "41,000", "for": "3 h"}
    ]);
    let saved = patch(json!({"version": 1, "impact_figures": figures})).await.unwrap();
    assert_eq!(saved.status(), 200);
    let saved: Value = saved.json().await.unwrap();
    assert_eq!(
        saved["impact_figures"][0],
        json!({"metric": "p99 latency", "before": "120 ms", "after": "8.9 s"})
    );
    assert_eq!(saved["impact_figures"][1]["for"], "3 h");

    let (status, code, message) =
        api_error(patch(json!({"version": 2, "impact_figures": ["slow"]})).await.unwrap()).await;
    assert_eq!((status, code.as_str()), (422, "unprocessable"), "{message}");
    assert!(message.contains("write a figure as"), "{message}");
    let (status, _, message) =
        api_error(patch(json!({"version": 2, "impact_figures": [{"metric": "QPS"}]})).await.unwrap()).await;
    assert_eq!(status, 422, "{message}");
    let unchanged = app.api_json(&format!("/api/v1/incidents/{incident}"), &token).await;
    assert_eq!(
        (unchanged["version"].as_i64(), unchanged["impact_figures"].as_array().map(Vec::len)),
        (Some(2), Some(2))
    );
}
