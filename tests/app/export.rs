//! The Markdown report: GFM with a front matter, every section of the
//! postmortem in the classic order, tables that stay tables whatever users
//! wrote, and users' Markdown kept as written.

use debrief::auth::domain::Role;
use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use reqwest::Method;
use serde_json::json;

use crate::helpers::TestApp;

/// Each table of `markdown` as GFM reads it: its rows, each a list of cell texts.
fn tables(markdown: &str) -> Vec<Vec<Vec<String>>> {
    let mut tables = Vec::new();
    let (mut rows, mut row, mut cell): (Vec<Vec<String>>, Vec<String>, Option<String>) =
        (Vec::new(), Vec::new(), None);
    for event in Parser::new_ext(markdown, Options::ENABLE_TABLES) {
        match event {
            Event::Start(Tag::TableCell) => cell = Some(String::new()),
            Event::End(TagEnd::TableCell) => row.extend(cell.take()),
            Event::End(TagEnd::TableHead | TagEnd::TableRow) => rows.push(std::mem::take(&mut row)),
            Event::End(TagEnd::Table) => tables.push(std::mem::take(&mut rows)),
            Event::Text(text) | Event::Code(text) => {
                if let Some(cell) = cell.as_mut() {
                    cell.push_str(&text);
                }
            }
            Event::InlineHtml(html) => {
                if let Some(cell) = cell.as_mut() {
                    cell.push_str(&html);
                }
            }
            _ => {}
        }
    }
    tables
}

/// The shape of each table as comrak, a GFM parser independent of the one
/// the app renders with, reads it: how many cells each row has.
fn comrak_table_shapes(markdown: &str) -> Vec<Vec<usize>> {
    let arena = comrak::Arena::new();
    let mut options = comrak::Options::default();
    options.extension.table = true;
    let root = comrak::parse_document(&arena, markdown, &options);
    root.descendants()
        .filter(|node| matches!(node.data.borrow().value, comrak::nodes::NodeValue::Table(_)))
        .map(|table| table.children().map(|row| row.children().count()).collect())
        .collect()
}

/// A postmortem with every part written; its id, a token and the owner's name.
async fn written_incident(app: &TestApp) -> (String, String, String) {
    let editor = app.create_user(Role::Editor).await;
    let (id, token) = app.open_incident(&editor).await;
    let patch = json!({
        "version": 1,
        "services": ["checkout", "payments"],
        "tags": ["goroutine-leak"],
        "detected_at": "2026-11-20T14:07:00Z",
        "resolved_at": "2026-11-20T15:10:00Z",
        "summary": "Checkout **stalled** for an hour.\n\n## A heading of the author's own\n\n- kept as written",
        "impact": "Card payments failed.",
        "impact_figures": ["QPS 12,800 -> 3,000 for 47 min"],
        "trigger": "Deploy 4512 removed the client timeout.",
        "went_well": "Paging worked.",
    });
    let response =
        app.api(Method::PATCH, &format!("/api/v1/incidents/{id}"), &token).json(&patch).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    for (part, body) in [
        (
            "timeline",
            json!({"occurred_at": "2026-11-20T14:05:00Z", "kind": "alert",
                             "body": "5xx | rate over 5%\nsecond line"}),
        ),
        (
            "timeline",
            json!({"occurred_at": "2026-11-20T14:20:00Z", "kind": "hypothesis", "body": "The pool is exhausted",
                             "evidence": "graph `a|b`"}),
        ),
        (
            "causes",
            json!({"kind": "root", "category": "missing timeout",
                           "description": "The payments client had no timeout.", "whys": ["Nobody set one", "The default is none"]}),
        ),
        ("causes", json!({"kind": "contributing", "category": "capacity", "description": "Few replicas"})),
        (
            "action_items",
            json!({"title": "Set client | dial timeouts", "kind": "prevent", "owner_id": editor.id, "due_on": "2026-12-01"}),
        ),
    ] {
        let response = app
            .api(Method::POST, &format!("/api/v1/incidents/{id}/{part}"), &token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{part}");
    }
    (id, token, editor.name)
}

async fn export(app: &TestApp, id: &str, token: &str, query: &str) -> String {
    let response = app
        .api(Method::GET, &format!("/api/v1/incidents/{id}/export.md{query}"), token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/markdown; charset=utf-8");
    let disposition = response.headers()["content-disposition"].to_str().unwrap().to_owned();
    assert!(
        disposition.starts_with("attachment; filename=\"INC-") && disposition.ends_with(".md\""),
        "{disposition}"
    );
    response.text().await.unwrap()
}

#[tokio::test]
async fn the_report_has_the_front_matter_and_every_section_in_order() {
    let app = TestApp::spawn().await;
    let (id, token, owner) = written_incident(&app).await;
    let report = export(&app, &id, &token, "").await;

    let front: Vec<&str> =
        report.strip_prefix("---\n").unwrap().split("\n---\n").next().unwrap().lines().collect();
    for expected in [
        "format: \"debrief-postmortem/1\"".to_owned(),
        format!("id: \"{id}\""),
        "number: 1".to_owned(),
        "title: \"Checkout 5xx\"".to_owned(),
        "severity: \"SEV2\"".to_owned(),
        "services: [\"checkout\",\"payments\"]".to_owned(),
        "started_at: \"2026-11-20T14:00:00Z\"".to_owned(),
        "mitigated_at: null".to_owned(),
        "time_to_detect: \"7 min\"".to_owned(),
        "time_to_resolve: \"1 h 10 min\"".to_owned(),
    ] {
        assert!(front.contains(&expected.as_str()), "{expected} in {front:#?}");
    }
    let headings: Vec<&str> = report.lines().filter(|l| l.starts_with("## ")).collect();
    let order = [
        "## Milestones",
        "## Summary",
        "## Impact",
        "## Timeline",
        "## Evidence",
        "## Trigger",
        "## Detection",
        "## Resolution",
        "## Causes",
        "## Action items",
        "## Lessons",
    ];
    let found: Vec<&str> = headings.iter().copied().filter(|h| order.contains(h)).collect();
    assert_eq!(found, order, "{report}");
    assert!(report.starts_with("---\n") && report.contains("\n# INC-1: Checkout 5xx\n"), "{report}");
    // The author's Markdown as written, between markers a reader does not see.
    assert!(report.contains(
        "<!-- debrief:summary -->\n\nCheckout **stalled** for an hour.\n\n## A heading of the author's own\n\n- kept as written\n\n<!-- /debrief:summary -->"
    ));
    assert!(
        report.contains("### Root cause: missing timeout")
            && report.contains("1. Nobody set one\n2. The default is none")
    );
    assert!(report.contains("### What went well") && report.contains("Paging worked."));
    assert!(report.contains("_Not written._"), "an empty section says so");
    assert!(report.contains(&owner), "the owner is named");
}

#[tokio::test]
async fn tables_stay_tables_with_pipes_and_line_breaks_in_their_cells() {
    let app = TestApp::spawn().await;
    let (id, token, _) = written_incident(&app).await;
    let report = export(&app, &id, &token, "").await;
    let tables = tables(&report);
    let timeline = tables
        .iter()
        .find(|t| t[0] == ["Time (UTC)", "Kind", "Event", "Evidence"])
        .expect("a timeline table");
    assert_eq!(timeline.len(), 3, "a header and two events: {timeline:?}");
    assert_eq!(timeline[1], ["2026-11-20T14:05:00Z", "alert", "5xx | rate over 5%<br>second line", ""]);
    assert_eq!(timeline[2][1..], ["hypothesis (open)", "The pool is exhausted", "graph a|b"]);
    let items = tables.iter().find(|t| t[0][0] == "Action").expect("an action item table");
    assert_eq!(items[0].len(), 7);
    assert_eq!(items[1][0], "Set client | dial timeouts");
    assert_eq!(items[1][4], "2026-12-01");
    let figures = tables.iter().find(|t| t[0][0] == "Metric").expect("a figures table");
    assert_eq!(figures[1], ["QPS", "12,800", "3,000", "47 min"]);
    let milestones = tables.iter().find(|t| t[0][0] == "Milestone").expect("a milestones table");
    assert_eq!(milestones[2], ["Detected", "2026-11-20T14:07:00Z", "7 min"]);
    for table in &tables {
        let width = table[0].len();
        assert!(table.iter().all(|row| row.len() == width), "every row has every cell: {table:?}");
    }
    let shapes: Vec<Vec<usize>> = tables.iter().map(|t| t.iter().map(Vec::len).collect()).collect();
    assert_eq!(comrak_table_shapes(&report), shapes, "a second GFM parser reads the same tables");
}

#[tokio::test]
async fn the_report_can_name_roles_instead_of_people() {
    let app = TestApp::spawn().await;
    let (id, token, owner) = written_incident(&app).await;
    let report = export(&app, &id, &token, "?names=roles").await;
    assert!(!report.contains(&owner), "{report}");
    let tables = tables(&report);
    let items = tables.iter().find(|t| t[0][0] == "Action").unwrap();
    assert_eq!(items[1][3], "an editor");
}

#[tokio::test]
async fn a_reader_downloads_the_report_from_the_incident_page() {
    let app = TestApp::spawn().await;
    let (_, _, _) = written_incident(&app).await;
    let (_, viewer) = app.signed_in(Role::Viewer).await;
    let page = viewer.get_text("/incidents/INC-1").await;
    assert!(page.contains("href=\"/incidents/INC-1/export.md\""), "the page links to its report");
    let response = viewer.get("/incidents/INC-1/export.md").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-content-type-options"], "nosniff");
    assert!(response.text().await.unwrap().contains("# INC-1: Checkout 5xx"));
    assert_eq!(
        app.client().get("/incidents/INC-1/export.md").await.status(),
        303,
        "signed out: to the sign-in"
    );
    assert_eq!(viewer.get("/incidents/INC-9/export.md").await.status(), 404);
    let no_token = app.client().get("/api/v1/incidents/INC-1/export.md").await;
    assert_eq!(no_token.status(), 401);
}

/// `report` with the incident's identity (id, number, reference) and every
/// artifact id put to placeholders: what may differ between an export and
/// the export of its import.
fn without_identity(report: &str, id: &str, number: i64) -> String {
    let mut out = report.replace(id, "<id>").replace(&format!("INC-{number}"), "INC-<n>");
    out = out.replace(&format!("number: {number}\n"), "number: <n>\n");
    // Artifact links end in their own ids.
    let mut normalised = String::new();
    for line in out.lines() {
        let line = match line.find("/artifacts/") {
            Some(at) if line.starts_with("- [") => {
                let end = line[at + 11..].find(')').map_or(line.len(), |e| at + 11 + e);
                format!("{}/artifacts/<artifact>{}", &line[..at], &line[end..])
            }
            _ => line.to_owned(),
        };
        normalised.push_str(&line);
        normalised.push('\n');
    }
    normalised
}

async fn import(app: &TestApp, token: &str, report: &str) -> reqwest::Response {
    app.api(Method::POST, "/api/v1/import", token)
        .header("content-type", "text/markdown")
        .body(report.to_owned())
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn every_demo_postmortem_exports_imports_and_exports_the_same() {
    let app = TestApp::spawn().await;
    debrief::demo::load::load_demo(
        &app.pool,
        &app.store(),
        &debrief::auth::domain::NewPassword::parse("demo password, long enough", None).unwrap(),
    )
    .await
    .unwrap();
    let editor = app.create_user(Role::Editor).await;
    let token = app.api_token(&editor).await;
    let listed = app.api_json("/api/v1/incidents?per_page=200", &token).await;
    let incidents: Vec<(String, i64)> = listed["incidents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["id"].as_str().unwrap().to_owned(), i["number"].as_i64().unwrap()))
        .collect();
    assert!(incidents.len() >= 10, "the demo's postmortems: {listed}");
    for (id, number) in incidents {
        let first = export(&app, &id, &token, "").await;
        let response = import(&app, &token, &first).await;
        assert_eq!(response.status(), 201, "INC-{number}: {}", response.text().await.unwrap());
        let created: serde_json::Value = response.json().await.unwrap();
        let (new_id, new_number) =
            (created["id"].as_str().unwrap().to_owned(), created["number"].as_i64().unwrap());
        assert_ne!(new_id, id);
        let second = app
            .api(Method::GET, &format!("/api/v1/incidents/{new_id}/export.md"), &token)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let (a, b) = (without_identity(&first, &id, number), without_identity(&second, &new_id, new_number));
        if a != b {
            let diff: Vec<String> = a
                .lines()
                .zip(b.lines())
                .enumerate()
                .filter(|(_, (x, y))| x != y)
                .take(5)
                .map(|(n, (x, y))| format!("line {}:\n  - {x}\n  + {y}", n + 1))
                .collect();
            panic!("INC-{number} changed in the round trip:\n{}", diff.join("\n"));
        }
        // Valid GFM with its tables intact, as two independent parsers read it.
        let ours: Vec<Vec<usize>> =
            tables(&second).iter().map(|t| t.iter().map(Vec::len).collect()).collect();
        assert_eq!(comrak_table_shapes(&second), ours, "INC-{number}: both parsers see the same tables");
        assert!(ours.len() >= 3, "INC-{number}: the details, milestones and timeline at least: {ours:?}");
        for shape in ours {
            assert!(shape.iter().all(|cells| *cells == shape[0]), "INC-{number}: {shape:?}");
        }
    }
}

#[tokio::test]
async fn a_broken_report_is_refused_naming_the_problem_and_its_line_and_creates_nothing() {
    let app = TestApp::spawn().await;
    let (id, token, _) = written_incident(&app).await;
    let good = export(&app, &id, &token, "").await;
    let before = app.count("select count(*) from incident").await;
    let cases: Vec<(String, &str)> = vec![
        ("# just a heading\n".to_owned(), "line 1: a report starts with its front matter"),
        (
            good.replacen("---\n", "", 1).replacen("---\n", "", 1),
            "line 1: a report starts with its front matter",
        ),
        (good.replace("title: \"Checkout 5xx\"\n", ""), "the front matter has no `title`"),
        (good.replace("severity: \"SEV2\"", "severity: \"SEV9\""), "line 7: `SEV9` is not a severity"),
        (
            good.replace("title: \"Checkout 5xx\"", "title: \"unclosed"),
            "line 6: the value of `title` cannot be read",
        ),
        (good.replace("| 2026-11-20T14:05:00Z | alert |", "| yesterday | alert |"), "a timeline event"),
        (good.replace("| 2026-11-20T14:05:00Z | alert |", "| 2026-11-20T14:05:00Z |"), "cells, not 4"),
        (good.replace("### Root cause: missing timeout", "### Root cause: gremlins"), "a cause"),
        (good.replace("<!-- /debrief:summary -->", ""), "is not closed"),
        (
            good.replace("resolved_at: \"2026-11-20T15:10:00Z\"", "resolved_at: \"2026-11-20T13:10:00Z\""),
            "line 14: Resolved cannot be before",
        ),
    ];
    for (report, expected) in cases {
        let response = import(&app, &token, &report).await;
        let (status, _, message) = crate::helpers::api_error(response).await;
        assert_eq!(status, 422, "{expected}");
        assert!(message.contains(expected), "{expected}: {message}");
    }
    assert_eq!(app.count("select count(*) from incident").await, before, "nothing half-created");
    assert_eq!(app.count("select count(*) from timeline_event").await, 2);

    // The page shows the same, with the text kept.
    let (_, client) = app.signed_in(Role::Editor).await;
    let response =
        client.submit("/incidents/import", "/incidents/import", &[("report", "# no front matter")]).await;
    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(
        page.contains("line 1: a report starts with its front matter") && page.contains("# no front matter")
    );
    let imported = client.submit("/incidents/import", "/incidents/import", &[("report", &good)]).await;
    assert_eq!(imported.status(), 303);
    assert_eq!(imported.headers()["location"], "/incidents/INC-2");
    let again = app.api_json("/api/v1/incidents/INC-2", &token).await;
    let second = export(&app, again["id"].as_str().unwrap(), &token, "").await;
    assert_eq!(
        without_identity(&second, again["id"].as_str().unwrap(), 2),
        without_identity(&good, &id, 1),
        "pipes, line breaks, whys and owners come back as they were"
    );
}

/// The files of a zip, by name, each read back whole and checked against
/// its CRC and size.
fn unzip(bytes: &[u8]) -> Vec<(String, String)> {
    use std::io::Read;
    let archive = rawzip::ZipArchive::from_slice(bytes).expect("a zip archive");
    let mut entries = archive.entries();
    let mut files = Vec::new();
    while let Some(entry) = entries.next_entry().expect("a readable entry") {
        let name = entry.file_path().try_normalize().unwrap().as_ref().to_owned();
        let local = archive.get_entry(entry.wayfinder()).unwrap();
        let inflated = flate2::bufread::DeflateDecoder::new(local.data());
        let mut text = String::new();
        local.verifying_reader(inflated).read_to_string(&mut text).expect("its CRC and size hold");
        files.push((name, text));
    }
    files
}

#[tokio::test]
async fn a_search_or_everything_downloads_as_a_zip_of_the_same_reports() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let token = app.api_token(&editor).await;
    for (title, severity) in
        [("Quokka queue stalls", "SEV1"), ("Quokka cache misses", "SEV3"), ("DNS flaps", "SEV1")]
    {
        let body = json!({"title": title, "severity": severity, "started_at": "2026-11-20T14:00:00Z"});
        let response = app.api(Method::POST, "/api/v1/incidents", &token).json(&body).send().await.unwrap();
        assert_eq!(response.status(), 201);
    }

    let response = app.api(Method::GET, "/api/v1/export.zip?q=quokka", &token).send().await.unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/zip");
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"debrief-")
    );
    assert!(response.headers().get("content-encoding").is_none(), "a zip is not compressed again");
    let files = unzip(&response.bytes().await.unwrap());
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["INC-2.md", "INC-1.md"], "the search's hits, newest first");
    for (name, text) in &files {
        let number = name.trim_end_matches(".md");
        assert_eq!(text, &export(&app, number, &token, "").await, "{name} is the report itself");
    }

    let filtered =
        app.api(Method::GET, "/api/v1/export.zip?q=quokka&severity=SEV1", &token).send().await.unwrap();
    let files = unzip(&filtered.bytes().await.unwrap());
    assert_eq!(files.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>(), ["INC-1.md"], "filters hold");

    let everything = app.api(Method::GET, "/api/v1/export.zip?names=roles", &token).send().await.unwrap();
    let files = unzip(&everything.bytes().await.unwrap());
    assert_eq!(files.len(), 3);
    let (name, text) = &files[0];
    assert_eq!(text, &export(&app, name.trim_end_matches(".md"), &token, "?names=roles").await);

    let nothing = app.api(Method::GET, "/api/v1/export.zip?q=narwhal", &token).send().await.unwrap();
    assert_eq!(nothing.status(), 200);
    assert!(unzip(&nothing.bytes().await.unwrap()).is_empty(), "an empty archive, still a zip");

    let bad = app.api(Method::GET, "/api/v1/export.zip?severity=SEV9", &token).send().await.unwrap();
    assert_eq!(bad.status(), 400);
    assert_eq!(app.client().get("/api/v1/export.zip").await.status(), 401);

    let (_, viewer) = app.signed_in(Role::Viewer).await;
    let page = viewer.get_text("/incidents?q=quokka").await;
    assert!(page.contains("href=\"/incidents/export.zip?q=quokka\""), "the results link to their zip");
    let list = viewer.get_text("/incidents").await;
    assert!(list.contains("href=\"/incidents/export.zip\""), "the list links to everything");
    let download = viewer.get("/incidents/export.zip?q=quokka&from=2026-11-20&to=2026-11-20").await;
    assert_eq!(download.status(), 200);
    assert_eq!(unzip(&download.bytes().await.unwrap()).len(), 2);
    assert_eq!(app.client().get("/incidents/export.zip").await.status(), 303, "signed out: to the sign-in");
}

#[tokio::test]
async fn a_zip_abandoned_midway_stops_being_written_and_frees_its_turn() {
    let app = TestApp::spawn().await;
    let viewer = app.create_user(Role::Viewer).await;
    let token = app.api_token(&viewer).await;
    debrief::demo::generate::generate_incidents(&app.pool, 1_000, |_| {}).await.unwrap();

    // As many downloads as may run at once, each left after its first
    // chunk: their writers, blocked on clients that no longer read, must
    // end with them rather than hold their turns.
    for _ in 0..debrief::export::archive::AT_ONCE {
        let mut response = app.api(Method::GET, "/api/v1/export.zip", &token).send().await.unwrap();
        assert_eq!(response.status(), 200);
        assert!(response.chunk().await.unwrap().is_some());
        drop(response);
    }
    // Were the turns still held, this would wait its 10 s for one and be
    // told 503 (a writer left alone holds its turn for a minute).
    let whole = app.api(Method::GET, "/api/v1/export.zip", &token).send().await.unwrap();
    assert_eq!(whole.status(), 200, "a turn is free");
    assert_eq!(unzip(&whole.bytes().await.unwrap()).len(), 1_000);
}
