//! Playbooks: the starter library, versions that leave applied checklists
//! on theirs, suggestions with their reasons, ticking steps one answer at a
//! time, steps as action items, the figures of which steps teams do, the
//! review flag, standing checklists, and checklists in the report.

use std::path::Path;

use debrief::auth::domain::Role;
use reqwest::{
    Method,
    multipart::{Form, Part},
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, TestUser, api_error};

struct Team {
    app: TestApp,
    editor: TestUser,
    token: String,
}

impl Team {
    async fn new() -> Team {
        let app = TestApp::spawn().await;
        let editor = app.create_user(Role::Editor).await;
        let token = app.api_token(&editor).await;
        Team { app, editor, token }
    }

    async fn send(&self, method: Method, path: &str, body: Value) -> reqwest::Response {
        self.app.api(method, path, &self.token).json(&body).send().await.unwrap()
    }

    async fn ok(&self, method: Method, path: &str, body: Value) -> Value {
        let response = self.send(method.clone(), path, body).await;
        let status = response.status();
        let text = response.text().await.unwrap();
        assert!(status.is_success(), "{method} {path}: {status} {text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn incident(&self, title: &str) -> String {
        let body = json!({"title": title, "severity": "SEV2", "started_at": "2026-11-20T14:00:00Z"});
        self.ok(Method::POST, "/api/v1/incidents", body).await["id"].as_str().unwrap().to_owned()
    }

    async fn cause(&self, incident: &str, kind: &str, category: &str) {
        let body = json!({"kind": kind, "category": category, "description": "Described."});
        self.ok(Method::POST, &format!("/api/v1/incidents/{incident}/causes"), body).await;
    }

    async fn playbook(&self, title: &str, body: &str, categories: &[&str]) -> Value {
        let body = json!({"title": title, "body": body, "categories": categories});
        self.ok(Method::POST, "/api/v1/playbooks", body).await
    }

    async fn apply(&self, incident: &str, playbook: &str) -> Value {
        let body = json!({"playbook_id": playbook});
        self.ok(Method::POST, &format!("/api/v1/incidents/{incident}/playbooks"), body).await
    }

    async fn tick(&self, item: &Value, state: &str, note: &str) -> reqwest::Response {
        let body = json!({"state": state, "note": note, "version": item["version"]});
        self.send(Method::PATCH, &format!("/api/v1/checklist_items/{}", item["id"].as_str().unwrap()), body)
            .await
    }

    async fn checklists(&self, incident: &str) -> Vec<Value> {
        self.app.api_json(&format!("/api/v1/incidents/{incident}"), &self.token).await["checklists"]
            .as_array()
            .unwrap()
            .clone()
    }

    async fn suggested(&self, incident: &str) -> Vec<Value> {
        let found = self.app.api_json(&format!("/api/v1/incidents/{incident}/playbooks"), &self.token).await;
        found["suggested"].as_array().unwrap().clone()
    }
}

const STEPS: &str = "Why this exists.\n\n## Steps\n\n- [ ] Set a client timeout\n  - [ ] And a dial timeout\n- [ ] Drain bodies\n- [ ] Add an alert\n";

#[tokio::test]
async fn the_starter_library_loads_on_a_fresh_database_and_every_playbook_renders_its_steps() {
    let team = Team::new().await;
    let listed = team.app.api_json("/api/v1/playbooks", &team.token).await;
    let mut slugs: Vec<&str> =
        listed["playbooks"].as_array().unwrap().iter().map(|p| p["slug"].as_str().unwrap()).collect();
    slugs.sort_unstable();
    assert_eq!(
        slugs,
        [
            "capturing-evidence",
            "context-deadlines",
            "goroutine-leak-hunt",
            "http-client-hardening",
            "lock-contention",
            "middleware-chain-integrity",
            "middleware-shared-state",
            "new-go-service-launch",
            "panic-recovery",
            "server-timeouts",
        ]
    );
    let (_, viewer) = team.app.signed_in(Role::Viewer).await;
    let list = viewer.get_text("/playbooks").await;
    for slug in &slugs {
        let playbook = team.app.api_json(&format!("/api/v1/playbooks/{slug}"), &team.token).await;
        let steps = playbook["steps"].as_array().unwrap();
        assert!(steps.len() >= 6, "{slug} has its steps");
        let page = viewer.get_text(&format!("/playbooks/{slug}")).await;
        assert!(list.contains(&format!("href=\"/playbooks/{slug}\"")), "the list links {slug}");
        assert_eq!(
            page.matches("data-testid=\"step-figure\"").count(),
            steps.len(),
            "{slug}: a row per step"
        );
        assert!(page.contains("type=\"checkbox\""), "{slug}: its steps render as a task list");
    }

    // Loading again (the next start) adds nothing, and a retired starter stays retired.
    let admin = team.app.create_user(Role::Admin).await;
    let admin_token = team.app.api_token(&admin).await;
    let retire = json!({"version": 1, "retired": true});
    let response = team
        .app
        .api(Method::PATCH, "/api/v1/playbooks/lock-contention", &admin_token)
        .json(&retire)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(debrief::playbooks::library::load(&team.app.pool).await.unwrap(), 0);
    assert_eq!(team.app.count("select count(*) from playbook").await, 10);
    let listed = team.app.api_json("/api/v1/playbooks", &team.token).await;
    assert_eq!(listed["playbooks"].as_array().unwrap().len(), 9, "a retired playbook is not listed for use");
    let by_editor = team
        .send(Method::PATCH, "/api/v1/playbooks/panic-recovery", json!({"version": 1, "retired": true}))
        .await;
    assert_eq!(by_editor.status(), 403, "only an admin retires");
}

#[tokio::test]
async fn editing_a_playbook_leaves_applied_checklists_on_their_version_and_shows_the_newer_one() {
    let team = Team::new().await;
    let playbook = team.playbook("Client hardening", STEPS, &["missing timeout"]).await;
    assert_eq!(
        (playbook["slug"].as_str(), playbook["version"].as_i64()),
        (Some("client-hardening"), Some(1))
    );
    assert_eq!(playbook["steps"].as_array().unwrap().len(), 4);
    let same_title = team.playbook("Client hardening", STEPS, &[]).await;
    assert_eq!(same_title["slug"], "client-hardening-2", "a slug is never taken twice");
    assert_eq!(team.playbook("New", STEPS, &[]).await["slug"], "new-2", "nor is the new playbook form's");
    let incident = team.incident("Checkout stalls").await;
    team.apply(&incident, "client-hardening").await;

    let edited = STEPS.replace("- [ ] Add an alert\n", "- [ ] Add an alert on goroutines\n- [ ] Load test\n");
    let saved = team
        .ok(Method::PATCH, "/api/v1/playbooks/client-hardening", json!({"version": 1, "body": edited}))
        .await;
    assert_eq!((saved["version"].as_i64(), saved["steps"].as_array().unwrap().len()), (Some(2), 5));

    let stale = team
        .send(Method::PATCH, "/api/v1/playbooks/client-hardening", json!({"version": 1, "title": "Mine"}))
        .await;
    let (status, code, _) = api_error(stale).await;
    assert_eq!((status, code.as_str()), (409, "conflict"), "an edit based on version 1 changes nothing");
    let again = team.app.api_json("/api/v1/playbooks/client-hardening", &team.token).await;
    assert_eq!((again["title"].as_str(), again["version"].as_i64()), (Some("Client hardening"), Some(2)));
    assert_eq!(again["versions"].as_array().unwrap().len(), 2);

    let lists = team.checklists(&incident).await;
    assert_eq!(lists[0]["playbook_version"], 1, "the checklist keeps its version");
    assert_eq!(lists[0]["latest_version"], 2);
    assert_eq!(lists[0]["items"].as_array().unwrap().len(), 4);
    assert_eq!(lists[0]["items"][3]["text"], "Add an alert");

    let (_, viewer) = team.app.signed_in(Role::Viewer).await;
    let page = viewer.get_text("/incidents/INC-1").await;
    assert!(page.contains("data-testid=\"newer-version\""), "the incident says a newer version exists");
    assert!(
        page.contains("href=\"/playbooks/client-hardening/history?from=1&amp;to=2\""),
        "and links what changed"
    );
    let history = viewer.get_text("/playbooks/client-hardening/history?from=1&to=2").await;
    assert!(history.contains("removed: </span>[ ] Add an alert</li>"), "{history}");
    assert!(history.contains("added: </span>[ ] Load test</li>"));

    // The page's form: a save based on an old version shows both sides.
    let (_, editor) = team.app.signed_in(Role::Editor).await;
    let fields = [
        ("version", "1"),
        ("title", "Client hardening"),
        ("body", "- [ ] One step\n"),
        ("categories", ""),
        ("suspect_keys", ""),
        ("owner_id", ""),
    ];
    let conflict =
        editor.submit("/playbooks/client-hardening/edit", "/playbooks/client-hardening/edit", &fields).await;
    assert_eq!(conflict.status(), 409);
    let conflict = conflict.text().await.unwrap();
    assert!(
        conflict.contains("data-testid=\"conflict\"")
            && conflict.contains("Load test")
            && conflict.contains("One step")
    );
}

/// A goroutine dump whose leak is HTTP clients' `persistConn` read loops.
fn persistconn_dump() -> Form {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dumps/httpleak.goroutine.debug2.txt");
    Form::new().part("file", Part::bytes(std::fs::read(path).unwrap()).file_name("goroutines.txt"))
}

#[tokio::test]
async fn the_http_client_playbook_is_suggested_first_for_a_timeout_cause_or_a_persistconn_suspect() {
    let team = Team::new().await;

    let timeout = team.incident("Payments calls hung").await;
    team.cause(&timeout, "root", "missing timeout").await;
    let suggested = team.suggested(&timeout).await;
    assert_eq!(suggested[0]["slug"], "http-client-hardening", "{suggested:?}");
    assert!(suggested[0]["reasons"].as_array().unwrap().iter().any(|r| r == "a cause is missing timeout"));

    let dumped = team.incident("Goroutines piled up").await;
    let upload = team.app.api(Method::POST, &format!("/api/v1/incidents/{dumped}/artifacts"), &team.token);
    let response = upload.multipart(persistconn_dump()).send().await.unwrap();
    assert_eq!(response.status(), 201);
    let suggested = team.suggested(&dumped).await;
    assert_eq!(suggested[0]["slug"], "http-client-hardening", "{suggested:?}");
    let reasons: Vec<&str> =
        suggested[0]["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap()).collect();
    assert!(reasons.iter().any(|r| r.contains("persistConn") && r.contains("answers first")), "{reasons:?}");

    let leak = team.incident("Leak").await;
    team.cause(&leak, "root", "goroutine leak").await;
    team.cause(&leak, "contributing", "missing timeout").await;
    let suggested = team.suggested(&leak).await;
    assert_eq!(suggested[0]["slug"], "http-client-hardening", "{suggested:?}");
    let slugs: Vec<&str> = suggested.iter().map(|s| s["slug"].as_str().unwrap()).collect();
    assert!(slugs.contains(&"goroutine-leak-hunt") && !slugs.contains(&"new-go-service-launch"), "{slugs:?}");

    // Applied, it is no longer suggested; the page offers the rest first.
    team.apply(&leak, "http-client-hardening").await;
    assert!(team.suggested(&leak).await.iter().all(|s| s["slug"] != "http-client-hardening"));
    let (_, editor) = team.app.signed_in(Role::Editor).await;
    assert_eq!(editor.get("/incidents/INC-3?edit=checklists").await.status(), 303);
    let page = editor.get_text("/incidents/INC-3").await;
    assert!(page.contains("data-testid=\"suggestions\""), "the part lists its suggestions while editing");
    assert!(page.contains("a cause is goroutine leak"));
    let quiet = team.incident("Nothing linked").await;
    assert!(team.suggested(&quiet).await.is_empty(), "nothing links, nothing is suggested");
}

#[tokio::test]
async fn two_people_ticking_at_once_lose_no_tick_and_one_step_gets_one_answer_each() {
    let team = Team::new().await;
    let other = team.app.create_user(Role::Editor).await;
    let other_token = team.app.api_token(&other).await;
    team.playbook("Client hardening", STEPS, &[]).await;
    let incident = team.incident("Checkout stalls").await;
    let list = team.apply(&incident, "client-hardening").await;
    let items = list["items"].as_array().unwrap().clone();

    // Different steps at once: both land.
    let tick = |token: String, item: Value, state: &'static str| {
        let app = &team.app;
        async move {
            let body = json!({"state": state, "note": "", "version": item["version"]});
            let path = format!("/api/v1/checklist_items/{}", item["id"].as_str().unwrap());
            app.api(Method::PATCH, &path, &token).json(&body).send().await.unwrap().status().as_u16()
        }
    };
    let (a, b) = tokio::join!(
        tick(team.token.clone(), items[0].clone(), "done"),
        tick(other_token.clone(), items[2].clone(), "done")
    );
    assert_eq!((a, b), (200, 200));
    let now = team.checklists(&incident).await[0]["items"].as_array().unwrap().clone();
    assert_eq!((now[0]["state"].as_str(), now[2]["state"].as_str()), (Some("done"), Some("done")));
    assert_ne!(now[0]["changed_by"], now[2]["changed_by"], "each tick is its author's");

    // The same step from the same version, many times at once: one wins.
    let mut answers = Vec::new();
    for round in 0..8 {
        let token = if round % 2 == 0 { team.token.clone() } else { other_token.clone() };
        answers.push(tick(token, now[1].clone(), if round % 2 == 0 { "done" } else { "open" }));
    }
    let answers = futures_util::future::join_all(answers).await;
    assert_eq!(answers.iter().filter(|s| **s == 200).count(), 1, "{answers:?}");
    assert_eq!(answers.iter().filter(|s| **s == 409).count(), 7, "{answers:?}");
    let step = &team.checklists(&incident).await[0]["items"][1];
    assert_eq!(step["version"], now[1]["version"].as_i64().unwrap() + 1, "moved once");

    // A stale tick changes nothing; a reason is needed to skip a step.
    let stale = team.tick(&now[3], "done", "").await;
    assert_eq!(stale.status(), 200);
    let again = team.tick(&now[3], "open", "").await;
    assert_eq!(again.status(), 409);
    let no_reason = team.tick(&team.checklists(&incident).await[0]["items"][3], "not_applicable", "  ").await;
    let (status, _, message) = api_error(no_reason).await;
    assert_eq!(status, 422);
    assert!(message.contains("why"), "{message}");
    let history =
        team.app.count("select count(*) from incident_revision where summary like '%checklist step'").await;
    assert_eq!(history, 4, "each tick is a revision of the postmortem");
    let garbled = team
        .send(Method::PATCH, "/api/v1/checklist_items/not-an-id", json!({"state": "done", "version": 1}))
        .await;
    let (status, code, _) = api_error(garbled).await;
    assert_eq!((status, code.as_str()), (400, "bad_request"), "a garbled id is named in the API's own error");
    let (_, reader) = team.app.signed_in(Role::Viewer).await;
    assert_eq!(reader.get("/checklists/not-an-id").await.status(), 404);
    let viewer = team.app.create_user(Role::Viewer).await;
    let viewer_token = team.app.api_token(&viewer).await;
    let denied = team
        .app
        .api(
            Method::PATCH,
            &format!("/api/v1/checklist_items/{}", now[3]["id"].as_str().unwrap()),
            &viewer_token,
        )
        .json(&json!({"state": "open", "version": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
}

#[tokio::test]
async fn a_step_becomes_an_action_item_linked_back_in_one_click() {
    let team = Team::new().await;
    team.playbook("Client hardening", STEPS, &[]).await;
    let incident = team.incident("Checkout stalls").await;
    team.apply(&incident, "client-hardening").await;
    let (_, editor) = team.app.signed_in(Role::Editor).await;
    let item = team.checklists(&incident).await[0]["items"][2].clone();
    let id = item["id"].as_str().unwrap();

    assert_eq!(editor.get("/incidents/INC-1?edit=checklists").await.status(), 303);
    let response = editor
        .submit("/incidents/INC-1", &format!("/incidents/INC-1/checklist_items/{id}/action_item"), &[])
        .await;
    assert_eq!(response.status(), 303);

    let whole = team.app.api_json(&format!("/api/v1/incidents/{incident}"), &team.token).await;
    let actions = whole["action_items"].as_array().unwrap();
    assert_eq!(actions.len(), 1);
    assert_eq!(
        (actions[0]["title"].as_str(), actions[0]["status"].as_str()),
        (Some("Drain bodies"), Some("open"))
    );
    assert_eq!(
        whole["checklists"][0]["items"][2]["action_item_id"], actions[0]["id"],
        "the step links its item"
    );
    let twice =
        team.send(Method::POST, &format!("/api/v1/checklist_items/{id}/action_item"), json!({})).await;
    assert_eq!(twice.status(), 409, "one action item per step");
    let page = editor.get_text("/incidents/INC-1").await;
    assert!(page.contains("href=\"#action-items\">action item</a>"), "the step shows its link");
}

#[tokio::test]
async fn a_playbooks_page_shows_the_incidents_that_used_it_and_which_steps_nobody_does() {
    let team = Team::new().await;
    team.playbook("Client hardening", STEPS, &[]).await;
    for n in 0..3 {
        let incident = team.incident(&format!("Stall {n}")).await;
        let list = team.apply(&incident, "client-hardening").await;
        let items = list["items"].as_array().unwrap();
        assert_eq!(team.tick(&items[0], "done", "").await.status(), 200);
        if n == 0 {
            assert_eq!(team.tick(&items[1], "not_applicable", "no dialer here").await.status(), 200);
        }
    }
    let (_, viewer) = team.app.signed_in(Role::Viewer).await;
    let page = viewer.get_text("/playbooks/client-hardening").await;
    assert_eq!(page.matches("href=\"/incidents/INC-").count(), 3, "the three incidents that used it");
    let figures: Vec<&str> = page.split("data-testid=\"step-figure\"").skip(1).collect();
    assert_eq!(figures.len(), 4);
    assert!(figures[0].contains("<td>3</td><td>0</td><td>0</td>"), "done three times");
    assert!(figures[1].contains("<td>0</td><td>1</td><td>2</td>"), "once not applicable, twice left open");
    assert!(figures[2].contains("data-testid=\"never-done\""), "a step nobody did stands out");
    assert!(figures[1].contains("data-testid=\"never-done\""), "nor one only ever skipped");
    assert!(!figures[0].contains("data-testid=\"never-done\""));
}

#[tokio::test]
async fn a_playbook_unreviewed_for_longer_than_the_setting_is_flagged_until_marked_reviewed() {
    let team = Team::new().await;
    team.playbook("Client hardening", STEPS, &[]).await;
    let (_, editor) = team.app.signed_in(Role::Editor).await;
    let fresh = editor.get_text("/playbooks").await;
    assert!(!fresh.contains("data-testid=\"review-due\""), "a new playbook is not due");

    sqlx::query(
        "update playbook set reviewed_at = now() - interval '181 days' where slug = 'client-hardening'",
    )
    .execute(&team.app.pool)
    .await
    .unwrap();
    let list = editor.get_text("/playbooks").await;
    assert_eq!(list.matches("data-testid=\"review-due\"").count(), 1, "flagged in the list");
    assert!(editor.get_text("/playbooks/client-hardening").await.contains("data-testid=\"review-due\""));
    let api = team.app.api_json("/api/v1/playbooks/client-hardening", &team.token).await;
    assert_eq!(api["review_due"], true);

    let marked =
        editor.submit("/playbooks/client-hardening", "/playbooks/client-hardening/reviewed", &[]).await;
    assert_eq!(marked.status(), 303);
    assert!(!editor.get_text("/playbooks/client-hardening").await.contains("data-testid=\"review-due\""));
}

#[tokio::test]
async fn a_standing_checklist_runs_without_an_incident_and_keeps_who_ticked_what() {
    let team = Team::new().await;
    let (_, editor) = team.app.signed_in(Role::Editor).await;
    let started =
        editor.submit("/playbooks/new-go-service-launch", "/playbooks/new-go-service-launch/runs", &[]).await;
    assert_eq!(started.status(), 303);
    let run_path = started.headers()["location"].to_str().unwrap().to_owned();
    assert!(run_path.starts_with("/checklists/"));
    let run = editor.get_text(&run_path).await;
    let first = run.split("action=\"/checklists/").nth(1).unwrap().split('"').next().unwrap();
    let first = format!("/checklists/{first}");
    let version =
        run.split("name=\"version\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    let ticked = editor.submit(&run_path, &first, &[("state", "done"), ("version", &version)]).await;
    assert_eq!(ticked.status(), 303);
    let again = editor.submit(&run_path, &first, &[("state", "open"), ("version", &version)]).await;
    assert_eq!(again.status(), 409, "a tick from an old page changes nothing");
    let run = editor.get_text(&run_path).await;
    assert!(run.contains("data-state=\"done\""));
    assert!(run.contains(&team.editor.name) || run.contains("step-by"), "who ticked it is kept");
    let page = editor.get_text("/playbooks/new-go-service-launch").await;
    assert!(page.contains(&format!("href=\"{run_path}\"")), "the playbook lists its runs");
    assert_eq!(team.app.count("select count(*) from checklist where incident_id is null").await, 1);

    let api = team.send(Method::POST, "/api/v1/playbooks/new-go-service-launch/runs", json!({})).await;
    assert_eq!(api.status(), 201);
    let not_standing = team.send(Method::POST, "/api/v1/playbooks/panic-recovery/runs", json!({})).await;
    assert_eq!(not_standing.status(), 409);
}

#[tokio::test]
async fn the_report_holds_each_checklist_and_imports_back_the_same() {
    let team = Team::new().await;
    team.playbook("Client | hardening", STEPS, &[]).await;
    let incident = team.incident("Checkout stalls").await;
    let list = team.apply(&incident, "client-hardening").await;
    let items = list["items"].as_array().unwrap();
    team.tick(&items[0], "done", "").await;
    team.tick(&items[1], "not_applicable", "no dialer | here").await;
    team.apply(&incident, "panic-recovery").await;

    let report = team
        .app
        .api(Method::GET, &format!("/api/v1/incidents/{incident}/export.md"), &team.token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(report.contains("## Checklists\n\n### Client | hardening\n\nPlaybook `client-hardening`, version 1: 1 of 4 steps done, 1 not applicable."), "{report}");
    assert!(report.contains("| 1.1 | And a dial timeout | not applicable |"), "{report}");
    assert!(report.contains("no dialer \\| here |"), "pipes stay in their cell");
    assert!(report.contains("### Panic recovery"));

    let imported =
        team.app.api(Method::POST, "/api/v1/import", &team.token).body(report.clone()).send().await.unwrap();
    assert_eq!(imported.status(), 201);
    let created: Value = imported.json().await.unwrap();
    let again = team
        .app
        .api(
            Method::GET,
            &format!("/api/v1/incidents/{}/export.md", created["id"].as_str().unwrap()),
            &team.token,
        )
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let strip = |text: &str, id: &str, number: &str| {
        text.replace(id, "ID")
            .replace(&format!("INC-{number}"), "INC-N")
            .replace(&format!("number: {number}"), "number: N")
    };
    assert_eq!(strip(&again, created["id"].as_str().unwrap(), "2"), strip(&report, &incident, "1"));
    let lists = team.checklists(created["id"].as_str().unwrap()).await;
    assert_eq!(lists.len(), 2);
    assert!(lists[0]["playbook_id"].is_string(), "linked to the playbook this Debrief has");

    let broken = report
        .replace("| 1.1 | And a dial timeout | not applicable |", "| 1.1 | And a dial timeout | maybe |");
    let refused =
        team.app.api(Method::POST, "/api/v1/import", &team.token).body(broken).send().await.unwrap();
    let (status, _, message) = api_error(refused).await;
    assert_eq!(status, 422);
    assert!(message.contains("line"), "{message}");
}
