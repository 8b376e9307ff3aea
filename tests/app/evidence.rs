//! Evidence: uploads streamed to the store, kept once per content, read
//! back exactly and only as attachments; the upload form with and without
//! the page's script; what a failed upload leaves (nothing).

use std::path::Path;

use debrief::auth::domain::Role;
use reqwest::{
    Method,
    multipart::{Form, Part},
};
use serde_json::Value;

use crate::helpers::{TestApp, api_error, extract_csrf};

fn fixture(path: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path)).unwrap()
}

fn file_form(name: &str, bytes: Vec<u8>) -> Form {
    Form::new().part("file", Part::bytes(bytes).file_name(name.to_owned()))
}

/// Files under `dir` (recursively), or 0 when it does not exist.
fn files_under(dir: &Path) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else { return 0 };
    entries
        .map(|entry| entry.unwrap().path())
        .map(|path| if path.is_dir() { files_under(&path) } else { 1 })
        .sum()
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

async fn upload(app: &TestApp, incident: &str, token: &str, form: Form) -> reqwest::Response {
    let path = format!("/api/v1/incidents/{incident}/artifacts");
    app.api(Method::POST, &path, token).multipart(form).send().await.unwrap()
}

/// Uploads the fixture at `path` as `name`; the created artifact.
async fn uploaded(app: &TestApp, incident: &str, token: &str, name: &str, path: &str) -> Value {
    let response = upload(app, incident, token, file_form(name, fixture(path))).await;
    assert_eq!(response.status(), 201, "{name} is taken");
    response.json().await.unwrap()
}

#[tokio::test]
async fn an_uploaded_trace_is_recognised_from_its_bytes_and_read_back_exactly() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let trace = fixture("traces/trace.out");

    let response = upload(&app, &incident, &token, file_form("whatever.txt", trace.clone())).await;

    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["format"], "go_trace");
    assert_eq!(created["size"], trace.len());
    assert_eq!(created["sha256"], sha256_hex(&trace));
    assert_eq!(created["analysis_status"], "done");
    assert_eq!(created["analysis"]["go_version"], "1.19");
    let id = created["id"].as_str().unwrap();
    let shown = app.api_json(&format!("/api/v1/artifacts/{id}"), &token).await;
    assert_eq!(shown["analysis"]["format"], "go_trace");
    let raw = app.api(Method::GET, &format!("/api/v1/artifacts/{id}/raw"), &token).send().await.unwrap();
    assert_eq!(raw.status(), 200);
    assert_eq!(raw.headers()["content-type"], "application/octet-stream");
    assert_eq!(raw.headers()["x-content-type-options"], "nosniff");
    assert!(
        raw.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"whatever.txt\"")
    );
    assert_eq!(raw.bytes().await.unwrap().as_ref(), trace.as_slice());
}

#[tokio::test]
async fn an_html_or_svg_upload_never_renders_in_our_origin() {
    let app = TestApp::spawn().await;
    let (editor, browser) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let svg = b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(document.cookie)'><script>alert(1)</script></svg>";

    let created: Value =
        upload(&app, &incident, &token, file_form("x.svg", svg.to_vec())).await.json().await.unwrap();

    assert_eq!(created["format"], "other");
    assert_eq!(created["analysis_status"], "none");
    let id = created["id"].as_str().unwrap();
    let download = browser.get(&format!("/incidents/INC-1/artifacts/{id}/download")).await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "application/octet-stream");
    assert!(download.headers()["content-disposition"].to_str().unwrap().starts_with("attachment;"));
    assert!(download.headers()["content-security-policy"].to_str().unwrap().starts_with("sandbox"));
    assert_eq!(download.bytes().await.unwrap().as_ref(), svg);
    let page = browser.get_text("/incidents/INC-1").await;
    assert!(
        page.contains("x.svg") && !page.contains("<svg xmlns"),
        "the page names the file, never embeds it"
    );
}

#[tokio::test]
async fn the_same_content_twice_is_stored_once() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let dump = fixture("traces/trace.out");

    for name in ["first.out", "second.out"] {
        assert_eq!(upload(&app, &incident, &token, file_form(name, dump.clone())).await.status(), 201);
    }

    assert_eq!(app.count("select count(*) from artifact").await, 2);
    assert_eq!(app.count("select count(*) from artifact_blob").await, 1);
    assert_eq!(files_under(&app.data_dir().join("artifacts")), 1);
    assert_eq!(files_under(&app.data_dir().join("spool")), 0, "no spool file outlives its upload");
}

#[tokio::test]
async fn an_upload_past_the_limit_gets_413_and_leaves_nothing() {
    let options = crate::helpers::Options {
        vars: [("DEBRIEF_MAX_UPLOAD_BYTES".to_owned(), "100000".to_owned())].into(),
        ..Default::default()
    };
    let app = TestApp::spawn_with(options).await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;

    let sized = upload(&app, &incident, &token, file_form("big.bin", vec![7u8; 150_000])).await;
    // A chunked body has no length to refuse up front: it is cut off as it streams.
    let chunks = futures_util::stream::iter((0..30).map(|_| Ok::<_, std::io::Error>(vec![9u8; 10_000])));
    let part = Part::stream(reqwest::Body::wrap_stream(chunks)).file_name("chunked.bin");
    let chunked = upload(&app, &incident, &token, Form::new().part("file", part)).await;
    // Within the body limit, over the file limit.
    let just_over = upload(&app, &incident, &token, file_form("over.bin", vec![1u8; 100_001])).await;

    for response in [sized, chunked, just_over] {
        let (status, code, message) = api_error(response).await;
        assert_eq!((status, code.as_str()), (413, "payload_too_large"), "{message}");
    }
    assert_eq!(app.count("select count(*) from artifact").await, 0);
    assert_eq!(app.count("select count(*) from artifact_blob").await, 0);
    assert_eq!(files_under(&app.data_dir().join("artifacts")), 0);
    assert_eq!(files_under(&app.data_dir().join("spool")), 0);
    let fits = upload(&app, &incident, &token, file_form("fits.bin", vec![1u8; 99_000])).await;
    assert_eq!(fits.status(), 201, "a file within the limit is taken");
}

#[tokio::test]
async fn bytes_named_like_a_profile_that_are_not_one_are_refused() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let random: Vec<u8> = (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();

    let (status, _, message) =
        api_error(upload(&app, &incident, &token, file_form("cpu.pb.gz", random)).await).await;

    assert_eq!(status, 422);
    assert!(message.contains("cpu.pb.gz is named like a profile"), "{message}");
    assert_eq!(app.count("select count(*) from artifact").await, 0);
    assert_eq!(files_under(&app.data_dir().join("artifacts")), 0);
}

#[tokio::test]
async fn an_upload_without_a_file_or_with_an_unknown_field_is_refused_clearly() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;

    let empty = api_error(upload(&app, &incident, &token, Form::new().text("note", "no file")).await).await;
    let unknown = api_error(
        upload(&app, &incident, &token, file_form("a.txt", b"x".to_vec()).text("owner", "bo")).await,
    )
    .await;
    let not_multipart = app
        .api(Method::POST, &format!("/api/v1/incidents/{incident}/artifacts"), &token)
        .json(&serde_json::json!({"file": "x"}))
        .send()
        .await
        .unwrap();
    let stranger_event =
        file_form("a.txt", b"x".to_vec()).text("timeline_event_id", uuid::Uuid::new_v4().to_string());
    let stranger = api_error(upload(&app, &incident, &token, stranger_event).await).await;

    assert_eq!((empty.0, empty.2.contains("Choose a file")), (400, true), "{empty:?}");
    assert_eq!((unknown.0, unknown.2.contains("\"owner\" is not one of them")), (400, true), "{unknown:?}");
    assert_eq!(api_error(not_multipart).await.0, 415);
    assert_eq!((stranger.0, stranger.2.contains("not one of this incident's")), (400, true), "{stranger:?}");
    assert_eq!(app.count("select count(*) from artifact").await, 0);
}

#[tokio::test]
async fn the_upload_form_works_without_javascript_with_its_token_in_the_form() {
    let app = TestApp::spawn().await;
    let (editor, browser) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    assert_eq!(browser.get("/incidents/INC-1?edit=evidence").await.status(), 303);
    let page = browser.get_text("/incidents/INC-1").await;
    assert!(page.contains("enctype=\"multipart/form-data\""), "the form uploads files");
    let token = extract_csrf(&page).unwrap();
    let send = |form: Form| {
        let browser = browser.clone();
        async move {
            browser.http.post(browser.url("/incidents/INC-1/artifacts")).multipart(form).send().await.unwrap()
        }
    };

    let without = send(file_form("dump.txt", b"goroutine 1 [running]:\nmain.main()\n".to_vec())).await;
    let wrong = send(
        Form::new().text("csrf_token", "forged").part("file", Part::bytes(b"x".to_vec()).file_name("a")),
    )
    .await;
    let token_after_file = send(file_form("a.txt", b"x".to_vec()).text("csrf_token", token.clone())).await;
    let uploaded = send(
        Form::new()
            .text("csrf_token", token.clone())
            .text("note", "taken at the stall")
            .part("file", Part::bytes(fixture("traces/trace.out")).file_name("trace.out")),
    )
    .await;

    for refused in [without, wrong, token_after_file] {
        assert_eq!(refused.status(), 403);
    }
    assert_eq!(uploaded.status(), 303);
    assert_eq!(uploaded.headers()["location"], "/incidents/INC-1#evidence");
    let page = browser.get_text("/incidents/INC-1").await;
    assert!(page.contains("Attached trace.out."), "{page}");
    assert!(page.contains("taken at the stall") && page.contains("Go execution trace, format 1.19"));
    assert_eq!(app.count("select count(*) from artifact").await, 1);
    let history = browser.get_text("/incidents/INC-1/history").await;
    assert!(history.contains("Attached trace.out"), "the attachment is in the history");
}

#[tokio::test]
async fn a_viewer_reads_and_downloads_evidence_but_cannot_add_or_remove_it() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, editor_token) = app.open_incident(&editor).await;
    let created: Value = uploaded(&app, &incident, &editor_token, "trace.out", "traces/trace.out").await;
    let id = created["id"].as_str().unwrap().to_owned();
    let (viewer, browser) = app.signed_in(Role::Viewer).await;
    let viewer_token = app.api_token(&viewer).await;

    let read = browser.get(&format!("/incidents/INC-1/artifacts/{id}")).await;
    let download = browser.get(&format!("/incidents/INC-1/artifacts/{id}/download")).await;
    let api_upload = upload(&app, &incident, &viewer_token, file_form("a.txt", b"x".to_vec())).await;
    let token = browser.csrf_token("/incidents/INC-1").await;
    let removal = browser
        .post_form(&format!("/incidents/INC-1/artifacts/{id}/delete"), &[("csrf_token", &token)])
        .await;

    assert_eq!(read.status(), 200);
    assert!(read.text().await.unwrap().contains("Go execution trace"));
    assert_eq!(download.status(), 200);
    assert_eq!(api_upload.status(), 403);
    assert_eq!(removal.status(), 403);
    assert_eq!(app.count("select count(*) from artifact").await, 1);
}

#[tokio::test]
async fn a_removed_artifact_leaves_the_page_and_its_content_goes_once_nothing_holds_it() {
    let app = TestApp::spawn().await;
    let (editor, browser) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let trace = fixture("traces/trace.out");
    let first: Value =
        upload(&app, &incident, &token, file_form("a.out", trace.clone())).await.json().await.unwrap();
    let second: Value =
        upload(&app, &incident, &token, file_form("b.out", trace.clone())).await.json().await.unwrap();
    let csrf = browser.csrf_token("/incidents/INC-1").await;

    for artifact in [&first, &second] {
        let path = format!("/incidents/INC-1/artifacts/{}/delete", artifact["id"].as_str().unwrap());
        assert_eq!(browser.post_form(&path, &[("csrf_token", &csrf)]).await.status(), 303);
    }

    let page = browser.get_text("/incidents/INC-1").await;
    assert!(page.contains("Removed b.out.") && !page.contains("a.out"), "{page}");
    assert_eq!(app.count("select count(*) from artifact").await, 0);
    // The content stays an hour (an upload of the same bytes may be in flight), then goes.
    assert_eq!(files_under(&app.data_dir().join("artifacts")), 1);
    sqlx::query("update artifact_blob set last_attached = now() - interval '2 hours'")
        .execute(&app.pool)
        .await
        .unwrap();
    let analyser = analyser_of(&app);
    assert_eq!(analyser.sweep().await.unwrap(), 1);
    assert_eq!(files_under(&app.data_dir().join("artifacts")), 0);
    assert_eq!(app.count("select count(*) from artifact_blob").await, 0);
}

/// An analysis worker on the test app's database and store, as a second
/// process would run one.
fn analyser_of(app: &TestApp) -> debrief::evidence::worker::Analyser {
    let config = debrief::config::StorageConfig::Local { dir: app.data_dir().join("artifacts") };
    let store =
        debrief::evidence::store::ArtifactStore::open(&config, &app.data_dir().join("spool-2")).unwrap();
    debrief::evidence::worker::Analyser {
        pool: app.pool.clone(),
        store,
        max_bytes: 1 << 28,
        timeout: std::time::Duration::from_secs(60),
        lease: std::time::Duration::from_secs(30),
        name: "test-worker".into(),
        wake: Default::default(),
    }
}

#[tokio::test]
async fn a_goroutine_dump_is_analysed_and_its_leak_named() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;

    let response = upload(
        &app,
        &incident,
        &token,
        file_form("goroutines.txt", fixture("dumps/httpleak.goroutine.debug2.txt")),
    )
    .await;

    assert_eq!(response.status(), 201);
    let created: Value = response.json().await.unwrap();
    assert_eq!(created["format"], "goroutine_dump");
    let analysis = &created["analysis"];
    assert_eq!(analysis["goroutines"], 703);
    assert_eq!(analysis["suspects"][0]["key"], "http-client-persistconn");
    assert_eq!(analysis["suspects"][0]["cause_category"], "missing timeout");
    assert_eq!(analysis["truncated"], false);
    let summary = created["summary"].as_str().unwrap();
    assert!(summary.starts_with("703 goroutines; suspect: "), "{summary}");
}

#[tokio::test]
async fn a_profile_is_analysed_with_the_top_table_pprof_prints() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;

    let created: Value = uploaded(&app, &incident, &token, "cpu.pb.gz", "pprof/cpulabels.cpu.pb.gz").await;

    let analysis = &created["analysis"];
    assert_eq!(analysis["format"], "pprof");
    assert_eq!(analysis["default_sample_type"], "cpu");
    assert_eq!(analysis["sample_types"][1]["unit"], "nanoseconds");
    // The oracle's first row, from `go tool pprof -top -sample_index=cpu`.
    let oracle = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/oracle/cpulabels.cpu.pb.gz.cpu.top-all.txt"),
    )
    .unwrap();
    let first_row = oracle.lines().skip_while(|line| !line.trim_start().starts_with("flat")).nth(1).unwrap();
    let oracle_function = first_row.split_whitespace().nth(5).unwrap();
    assert_eq!(analysis["top"][0]["function"], oracle_function, "{first_row}");
}

#[tokio::test]
async fn a_truncated_or_damaged_profile_is_refused_and_a_bomb_gets_413() {
    let options = crate::helpers::Options {
        vars: [("DEBRIEF_MAX_ANALYSIS_BYTES".to_owned(), "8000000".to_owned())].into(),
        ..Default::default()
    };
    let app = TestApp::spawn_with(options).await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let whole = fixture("pprof/httpleak.heap.pb.gz");
    let bomb = {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(b"goroutine profile: total 1\n").unwrap();
        for _ in 0..12 {
            encoder.write_all(&[b' '; 1 << 20]).unwrap();
        }
        encoder.finish().unwrap()
    };

    let truncated =
        upload(&app, &incident, &token, file_form("heap.pb.gz", whole[..whole.len() / 2].to_vec())).await;
    let bombed = upload(&app, &incident, &token, file_form("dump.txt.gz", bomb)).await;

    let (status, _, message) = api_error(truncated).await;
    assert_eq!(status, 422, "{message}");
    assert!(message.contains("heap.pb.gz cannot be read"), "{message}");
    let (status, _, message) = api_error(bombed).await;
    assert_eq!(status, 413, "{message}");
    assert_eq!(app.count("select count(*) from artifact").await, 0);
    assert_eq!(files_under(&app.data_dir().join("artifacts")), 0);
}

/// A test app that queues every recognised file, however small.
async fn queueing_app() -> TestApp {
    let options = crate::helpers::Options {
        vars: [("DEBRIEF_ANALYSE_INLINE_BYTES".to_owned(), "1".to_owned())].into(),
        ..Default::default()
    };
    TestApp::spawn_with(options).await
}

/// A test app that queues every recognised file, however small, and
/// leaves the queue to workers of other processes.
async fn serving_only_app() -> TestApp {
    let options = crate::helpers::Options {
        vars: [
            ("DEBRIEF_ANALYSE_INLINE_BYTES".to_owned(), "1".to_owned()),
            ("DEBRIEF_ANALYSIS_WORKER".to_owned(), "false".to_owned()),
        ]
        .into(),
        ..Default::default()
    };
    TestApp::spawn_with(options).await
}

#[tokio::test]
async fn a_queued_analysis_shows_as_pending_until_a_worker_has_done_it() {
    let app = serving_only_app().await;
    let (editor, browser) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;

    let created: Value = upload(
        &app,
        &incident,
        &token,
        file_form("dump.txt", fixture("dumps/chansend.goroutine.debug2.txt")),
    )
    .await
    .json()
    .await
    .unwrap();

    assert_eq!((created["analysis_status"].as_str(), &created["analysis"]), (Some("pending"), &Value::Null));
    assert!(browser.get_text("/incidents/INC-1").await.contains("Being analysed"));
    assert_eq!(analyser_of(&app).run_ready().await.unwrap(), 1);
    let shown = app.api_json(&format!("/api/v1/artifacts/{}", created["id"].as_str().unwrap()), &token).await;
    assert_eq!(shown["analysis_status"], "done", "{shown}");
    assert_eq!(shown["analysis"]["suspects"][0]["key"], "chan-send-no-receiver");
    assert_eq!(app.count("select count(*) from analysis_job").await, 0, "the job is gone with its result");
    let page = browser.get_text("/incidents/INC-1").await;
    assert!(
        page.contains("61 goroutines; suspect: channel sends with no receiver"),
        "the page shows the finding"
    );
}

#[tokio::test]
async fn the_apps_own_worker_takes_what_an_upload_queued() {
    let app = queueing_app().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;

    let created: Value =
        uploaded(&app, &incident, &token, "dump.txt", "dumps/mutex.goroutine.debug2.txt").await;

    let status = created["analysis_status"].as_str().unwrap();
    assert!(status == "pending" || status == "done", "{created}");
    assert_eq!(
        created["analysis"].is_null(),
        status == "pending",
        "the status and the analysis agree: {created}"
    );
    let path = format!("/api/v1/artifacts/{}", created["id"].as_str().unwrap());
    let mut shown = Value::Null;
    for _ in 0..100 {
        shown = app.api_json(&path, &token).await;
        if shown["analysis_status"] != "pending" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(shown["analysis_status"], "done", "{shown}");
    assert_eq!(shown["analysis"]["suspects"][0]["key"], "mutex-pileup");
}

#[tokio::test]
async fn a_job_left_by_a_dead_worker_is_finished_by_another_and_stored_once() {
    let app = serving_only_app().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    // The app serves only; two workers of other processes share its
    // database and store.
    let created: Value =
        uploaded(&app, &incident, &token, "dump.txt", "dumps/ctxleak.goroutine.debug2.txt").await;
    let artifact = uuid::Uuid::parse_str(created["id"].as_str().unwrap()).unwrap();
    let dead =
        debrief::evidence::queue::claim(&app.pool, "dead-worker", std::time::Duration::from_secs(3600))
            .await
            .unwrap();
    let dead = dead.expect("the queued job is there to take");
    assert_eq!(dead.artifact_id, artifact);
    let other = analyser_of(&app);
    assert_eq!(other.run_ready().await.unwrap(), 0, "a live lease keeps the job from others");

    // The dead worker's lease runs out.
    sqlx::query("update analysis_job set locked_until = now() - interval '1 second'")
        .execute(&app.pool)
        .await
        .unwrap();
    assert_eq!(other.run_ready().await.unwrap(), 1);

    let late = debrief::evidence::queue::finish(
        &app.pool,
        &dead,
        "dead-worker",
        debrief::evidence::queue::Outcome::Failed("late".into()),
    )
    .await
    .unwrap();
    assert!(!late, "a worker whose lease was taken over stores nothing");
    let (status, attempts): (String, i64) = sqlx::query_as(
        "select analysis_status, (select count(*) from analysis_job) from artifact where id = $1",
    )
    .bind(artifact)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), attempts), ("done", 0));
}

#[tokio::test]
async fn a_worker_keeps_its_job_past_the_lease_while_it_is_still_analysing() {
    let app = serving_only_app().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    // Large enough to be queued rather than analysed as it is uploaded.
    let dump = fixture("dumps/httpleak.goroutine.debug2.txt").repeat(8);
    let created: Value =
        upload(&app, &incident, &token, file_form("big.txt", dump)).await.json().await.unwrap();
    let artifact = uuid::Uuid::parse_str(created["id"].as_str().unwrap()).unwrap();

    // While this lock is held the analysis cannot read its artifact: it
    // runs exactly as long as the test says, however fast the machine.
    let mut hold = app.pool.begin().await.unwrap();
    sqlx::query("lock table artifact in access exclusive mode").execute(&mut *hold).await.unwrap();
    let lease = std::time::Duration::from_secs(1);
    let slow = debrief::evidence::worker::Analyser { lease, name: "slow".into(), ..analyser_of(&app) };
    let running = tokio::spawn(async move { slow.run_ready().await.unwrap() });
    tokio::time::sleep(lease * 2).await;
    let status: String = sqlx::query_scalar("select analysis_status from artifact where id = $1")
        .bind(artifact)
        .fetch_one(&mut *hold)
        .await
        .unwrap();
    assert_eq!(status, "pending", "the analysis is still running, past its first lease");
    let other = debrief::evidence::worker::Analyser { lease, name: "other".into(), ..analyser_of(&app) };
    // Had it taken the job, it would wait on the lock too: a bounded wait.
    let taken = tokio::time::timeout(lease * 3, other.run_ready()).await;
    assert!(matches!(taken, Ok(Ok(0))), "the renewed lease keeps the job from others: {taken:?}");

    hold.commit().await.unwrap();
    assert_eq!(running.await.unwrap(), 1);
    let stored: (String, i32, i64) = sqlx::query_as(
        "select analysis_status, version, (select count(*) from analysis_job) from artifact where id = $1",
    )
    .bind(artifact)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(stored, ("done".to_owned(), 2, 0), "stored once, by the worker that kept its lease");
}

#[tokio::test]
async fn a_file_whose_analysis_never_finishes_is_given_up_after_its_attempts() {
    let app = serving_only_app().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let created: Value =
        uploaded(&app, &incident, &token, "dump.txt", "dumps/mutex.goroutine.debug2.txt").await;
    // Each attempt's process dies before it stores anything.
    for _ in 0..debrief::evidence::queue::MAX_ATTEMPTS {
        let claimed =
            debrief::evidence::queue::claim(&app.pool, "dies", std::time::Duration::from_secs(3600))
                .await
                .unwrap();
        assert!(claimed.is_some());
        sqlx::query("update analysis_job set locked_until = now() - interval '1 second'")
            .execute(&app.pool)
            .await
            .unwrap();
    }
    assert_eq!(analyser_of(&app).run_ready().await.unwrap(), 1);
    let shown = app.api_json(&format!("/api/v1/artifacts/{}", created["id"].as_str().unwrap()), &token).await;
    assert_eq!(shown["analysis_status"], "failed", "{shown}");
    assert_eq!(shown["analysis_error"], "gave up after 3 attempts that did not finish", "{shown}");
    assert_eq!(app.count("select count(*) from analysis_job").await, 0);
}

/// The rows of a recorded `go tool pprof -top` output: (flat, cum, function).
fn oracle_rows(name: &str) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/oracle").join(name),
    )
    .unwrap();
    text.lines()
        .skip_while(|line| !line.trim_start().starts_with("flat"))
        .skip(1)
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let function = words[5..].join(" ").trim_end_matches(" (inline)").to_owned();
            (words[0].to_owned(), words[3].to_owned(), function)
        })
        .collect()
}

#[tokio::test]
async fn the_artifact_page_shows_the_top_table_as_pprof_prints_it_for_any_sample_type() {
    let app = TestApp::spawn().await;
    let (editor, browser) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let created: Value = uploaded(&app, &incident, &token, "heap.pb.gz", "pprof/httpleak.heap.pb.gz").await;
    let page = format!("/incidents/INC-1/artifacts/{}", created["id"].as_str().unwrap());

    let default = browser.get_text(&page).await;
    let alloc = browser.get_text(&format!("{page}?sample_type=alloc_space")).await;
    let unknown = browser.get(&format!("{page}?sample_type=nonsense")).await;

    let default_type = created["analysis"]["default_sample_type"].as_str().unwrap();
    for (html, sample_type) in [(&default, default_type), (&alloc, "alloc_space")] {
        let oracle = oracle_rows(&format!("httpleak.heap.pb.gz.{sample_type}.top-all.txt"));
        for (flat, cum, function) in oracle.iter().take(5) {
            let row = format!("<td class=\"num\">{flat}</td>");
            assert!(html.contains(&row), "{sample_type}: flat {flat} of {function}");
            assert!(
                html.contains(&format!("<td class=\"num\">{cum}</td>")),
                "{sample_type}: cum {cum} of {function}"
            );
            assert!(html.contains(&format!("<code>{function}</code>")), "{sample_type}: {function}");
        }
    }
    assert_eq!(unknown.status(), 400);
    assert!(unknown.text().await.unwrap().contains("alloc_space"), "the refusal lists the sample types");
    // The flame graph is drawn inline, with no script of its own: the page's CSP holds.
    let flame = default
        .split("data-testid=\"flame\"")
        .nth(1)
        .expect("a flame graph")
        .split("</section>")
        .next()
        .unwrap();
    assert!(flame.contains("<svg") && flame.contains("class=\"frame\""), "{flame}");
    assert!(!flame.contains("<script") && !flame.contains(" onload"), "no script in the graph");
    assert!(default.contains("<script src=\"/static/js/flame.js\" defer></script>"));
    assert_eq!(browser.get("/static/js/flame.js").await.status(), 200);
    let api = app
        .api_json(
            &format!("/api/v1/artifacts/{}?sample_type=alloc_objects", created["id"].as_str().unwrap()),
            &token,
        )
        .await;
    assert_eq!(api["analysis"]["sample_type"], "alloc_objects");
    let first = &oracle_rows("httpleak.heap.pb.gz.alloc_objects.top-all.txt")[0];
    assert_eq!(api["analysis"]["top"][0]["function"], first.2.as_str());
}

#[tokio::test]
async fn two_profiles_compare_as_pprof_diffs_them_and_two_dumps_by_group() {
    let app = TestApp::spawn().await;
    let (editor, browser) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let mut ids = Vec::new();
    for (name, path) in [
        ("before.pb.gz", "pprof/diff-before.cpu.pb.gz"),
        ("after.pb.gz", "pprof/diff-after.cpu.pb.gz"),
        ("chansend.txt", "dumps/chansend.goroutine.debug2.txt"),
        ("ctxleak.txt", "dumps/ctxleak.goroutine.debug2.txt"),
    ] {
        let created: Value =
            upload(&app, &incident, &token, file_form(name, fixture(path))).await.json().await.unwrap();
        ids.push(created["id"].as_str().unwrap().to_owned());
    }

    let diff = app.api_json(&format!("/api/v1/artifacts/{}/diff/{}", ids[0], ids[1]), &token).await;
    let dumps = app.api_json(&format!("/api/v1/artifacts/{}/diff/{}", ids[2], ids[3]), &token).await;
    let mixed = app
        .api(Method::GET, &format!("/api/v1/artifacts/{}/diff/{}", ids[0], ids[2]), &token)
        .send()
        .await
        .unwrap();
    let page =
        browser.get_text(&format!("/incidents/INC-1/artifacts/{}/compare?with={}", ids[0], ids[1])).await;

    assert_eq!(diff["format"], "pprof_diff");
    let oracle = oracle_rows("diff.cpu.cpu.top-all.txt");
    assert_eq!(diff["top"][0]["function"], oracle[0].2.as_str(), "the biggest growth first: {}", oracle[0].2);
    assert_eq!(dumps["format"], "goroutine_diff");
    assert!(dumps["groups"].as_array().unwrap().iter().any(|group| group["delta"].as_i64().unwrap() < 0));
    assert_eq!(api_error(mixed).await.0, 422);
    assert!(page.contains(&format!("<code>{}</code>", oracle[0].2)), "the compare page lists it");
    assert!(
        page.contains("data-testid=\"diff-flame\"") && page.contains("data-delta"),
        "a differential flame graph"
    );
    let artifact_page = browser.get_text(&format!("/incidents/INC-1/artifacts/{}", ids[0])).await;
    assert!(artifact_page.contains("data-testid=\"compare-form\"") && artifact_page.contains("after.pb.gz"));
}

#[tokio::test]
async fn a_suspect_becomes_a_cause_with_its_category_in_one_click() {
    let app = TestApp::spawn().await;
    let (editor, browser) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let created: Value = upload(
        &app,
        &incident,
        &token,
        file_form("leak.txt", fixture("dumps/httpleak.goroutine.debug2.txt")),
    )
    .await
    .json()
    .await
    .unwrap();
    let page =
        browser.get_text(&format!("/incidents/INC-1/artifacts/{}", created["id"].as_str().unwrap())).await;
    assert!(page.contains("Leak suspects") && page.contains("Add as a cause"));
    let token_field = extract_csrf(&page).unwrap();
    let suspect = &created["analysis"]["suspects"][0];
    let description = format!(
        "{}: {} goroutines in {} at {} (leak.txt).",
        suspect["signature"].as_str().unwrap(),
        suspect["evidence"]["count"],
        suspect["evidence"]["state"].as_str().unwrap(),
        suspect["evidence"]["top_function"].as_str().unwrap()
    );

    let added = browser
        .post_form(
            "/incidents/INC-1/causes",
            &[
                ("csrf_token", &token_field),
                ("kind", "contributing"),
                ("category", suspect["cause_category"].as_str().unwrap()),
                ("description", &description),
                ("whys", suspect["explanation"].as_str().unwrap()),
            ],
        )
        .await;

    assert_eq!(added.status(), 303);
    let category: String =
        sqlx::query_scalar("select category from cause").fetch_one(&app.pool).await.unwrap();
    assert_eq!(category, "missing timeout");
    let escaped =
        description.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    assert!(
        page.contains(&format!("name=\"description\" value=\"{escaped}\"")),
        "the form carries the finding"
    );
}

#[tokio::test]
async fn evidence_linked_to_an_event_is_named_beside_it_on_the_timeline() {
    let app = TestApp::spawn().await;
    let (editor, browser) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let event = serde_json::json!({"occurred_at": "2026-11-20T14:05:00Z", "kind": "hypothesis", "body": "Goroutines pile up on payments"});
    let event: Value = app
        .api(Method::POST, &format!("/api/v1/incidents/{incident}/timeline"), &token)
        .json(&event)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let event_id = event["id"].as_str().unwrap();
    let linked = file_form("leak.txt", fixture("dumps/httpleak.goroutine.debug2.txt"))
        .text("timeline_event_id", event_id.to_owned());
    let first: Value = upload(&app, &incident, &token, linked).await.json().await.unwrap();
    let second: Value = uploaded(&app, &incident, &token, "trace.out", "traces/trace.out").await;

    let page = browser.get_text("/incidents/INC-1").await;
    let timeline = page.split("<section id=\"timeline\"").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(timeline.contains("leak.txt") && timeline.contains("703 goroutines; suspect: "), "{timeline}");
    assert!(!timeline.contains("trace.out"), "an unlinked artifact stays in the evidence only");

    // Linked afterwards, from its page; an edit based on an old version is refused.
    let second_id = second["id"].as_str().unwrap();
    let artifact_page = browser.get_text(&format!("/incidents/INC-1/artifacts/{second_id}")).await;
    let csrf = extract_csrf(&artifact_page).unwrap();
    let path = format!("/incidents/INC-1/artifacts/{second_id}/edit");
    let fields = [
        ("csrf_token", csrf.as_str()),
        ("note", "traced at the stall"),
        ("timeline_event_id", event_id),
        ("version", "1"),
    ];
    assert_eq!(browser.post_form(&path, &fields).await.status(), 303);
    let stale = browser.post_form(&path, &fields).await;
    assert_eq!(stale.status(), 409);
    let page = browser.get_text("/incidents/INC-1").await;
    let timeline = page.split("<section id=\"timeline\"").nth(1).unwrap().split("</section>").next().unwrap();
    assert!(timeline.contains("trace.out") && page.contains("traced at the stall"), "{timeline}");
    assert_eq!(first["timeline_event_id"], event_id);
    let history = browser.get_text("/incidents/INC-1/history").await;
    assert!(history.contains("Edited the note of trace.out"));
}

#[tokio::test]
async fn hostile_and_damaged_files_get_a_clear_answer_and_a_cut_dump_is_kept() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let dump = fixture("dumps/chansend.goroutine.debug2.txt");
    let crlf = String::from_utf8(dump.clone()).unwrap().replace('\n', "\r\n").into_bytes();
    let mut invalid_utf8 = dump.clone();
    invalid_utf8.splice(200..200, [0xff, 0xfe, 0xc3]);
    let cut = dump[..dump.len() * 2 / 3].to_vec();
    // A profile whose sample points at a string index past its table.
    let mut bad_index = vec![0x0a, 0x04, 0x08, 0x07, 0x10, 0x01];
    bad_index.extend([0x32, 0x00]);
    // A sample with two values where the profile has one sample type.
    let wrong_count = vec![
        0x0a, 0x04, 0x08, 0x01, 0x10, 0x02, 0x12, 0x04, 0x12, 0x02, 0x01, 0x02, 0x32, 0x00, 0x32, 0x01, b'a',
        0x32, 0x01, b'b',
    ];

    let empty = api_error(upload(&app, &incident, &token, file_form("empty.txt", Vec::new())).await).await;
    assert_eq!(empty.0, 400, "{empty:?}");
    for (name, bytes) in [("bad-index.pb", bad_index), ("wrong-count.pb", wrong_count)] {
        let (status, _, message) =
            api_error(upload(&app, &incident, &token, file_form(name, bytes)).await).await;
        assert_eq!(status, 422, "{name}: {message}");
        assert!(message.starts_with(&format!("{name} cannot be read")), "{message}");
    }
    assert_eq!(app.count("select count(*) from artifact").await, 0);

    let mut counts = Vec::new();
    for (name, bytes) in [("crlf.txt", crlf), ("utf8.txt", invalid_utf8), ("cut.txt", cut)] {
        let response = upload(&app, &incident, &token, file_form(name, bytes)).await;
        assert_eq!(response.status(), 201, "{name}");
        let created: Value = response.json().await.unwrap();
        counts.push((
            created["analysis"]["goroutines"].as_u64().unwrap(),
            created["analysis"]["truncated"].as_bool().unwrap(),
        ));
    }
    assert_eq!(counts[0], (61, false), "CRLF reads as the same dump");
    assert_eq!(counts[1], (61, false), "a stray invalid byte does not lose the dump");
    assert!(counts[2].1 && counts[2].0 < 61, "a cut dump is kept and says so: {:?}", counts[2]);
}

#[tokio::test]
async fn a_profile_narrows_as_pprof_focus_ignore_tags_and_peek_do() {
    let app = TestApp::spawn().await;
    let (editor, browser) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    let created: Value = uploaded(&app, &incident, &token, "cpu.pb.gz", "pprof/cpulabels.cpu.pb.gz").await;
    let id = created["id"].as_str().unwrap();
    let view = |query: &str| {
        let path = format!("/api/v1/artifacts/{id}/profile?{query}");
        let (app, token) = (&app, token.clone());
        async move { app.api_json(&path, &token).await }
    };

    let whole = view("").await;
    let focused = view("focus=sha256").await;
    let ignored = view("ignore=sha256").await;
    let peeked = view("peek=%5Emain%5C.rankResults%24").await;
    let bad = app
        .api(Method::GET, &format!("/api/v1/artifacts/{id}/profile?focus=(unclosed"), &token)
        .send()
        .await
        .unwrap();

    // As pprof: percentages stay of the whole total; the rows hold what is kept.
    let total = whole["total"].as_i64().unwrap();
    let kept = |view: &Value| {
        view["top"].as_array().unwrap().iter().map(|row| row["flat"].as_i64().unwrap()).sum::<i64>()
    };
    let (in_focus, outside) = (kept(&focused), kept(&ignored));
    assert_eq!(focused["total"].as_i64().unwrap(), total);
    assert!(in_focus > 0 && outside > 0, "{in_focus} {outside}");
    assert_eq!(in_focus + outside, total, "focus and ignore of one pattern split the samples");
    assert!(
        focused["top"]
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["function"] != "main.rankResults" || row["flat"] == 0)
    );
    // `go tool pprof -tags`: handler checkout 51.77%, search 48.23%.
    let handler = whole["tags"].as_array().unwrap().iter().find(|tag| tag["key"] == "handler").unwrap();
    let checkout = handler["values"].as_array().unwrap().iter().find(|v| v["value"] == "checkout").unwrap();
    let share = checkout["total"].as_f64().unwrap() / handler["total"].as_f64().unwrap() * 100.0;
    assert_eq!(format!("{share:.2}"), "51.77");
    let peek = &peeked["peek"][0];
    assert_eq!(peek["function"], "main.rankResults");
    assert!(!peek["callers"].as_array().unwrap().is_empty(), "{peek}");
    assert_eq!(api_error(bad).await.0, 400);

    let page = browser.get_text(&format!("/incidents/INC-1/artifacts/{id}?peek=rankResults")).await;
    assert!(
        page.contains("data-testid=\"tags\"") && page.contains("<code>checkout</code>"),
        "labels on the page"
    );
    assert!(page.contains("data-testid=\"peek\"") && page.contains("Called by"), "peek on the page");
}

#[tokio::test]
async fn the_whole_postmortem_from_the_api_lists_its_artifacts() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;
    upload(&app, &incident, &token, file_form("trace.out", fixture("traces/trace.out"))).await;

    let whole = app.api_json("/api/v1/incidents/INC-1", &token).await;

    let artifacts = whole["artifacts"].as_array().unwrap();
    assert_eq!(artifacts.len(), 1);
    assert_eq!(
        (artifacts[0]["file_name"].as_str(), artifacts[0]["format"].as_str()),
        (Some("trace.out"), Some("go_trace"))
    );
    assert_eq!(artifacts[0]["summary"], "Go execution trace, format 1.19 (Go 1.19 and 1.20)");
}

#[tokio::test]
async fn a_heap_profile_full_of_timers_names_the_loop_that_makes_them() {
    let app = TestApp::spawn().await;
    let (editor, browser) = app.signed_in(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;

    let created: Value = uploaded(&app, &incident, &token, "heap.pb.gz", "pprof/heapgrow.heap.pb.gz").await;

    assert_eq!(created["analysis"]["suspects"][0]["key"], "timer-in-loop");
    let page =
        browser.get_text(&format!("/incidents/INC-1/artifacts/{}", created["id"].as_str().unwrap())).await;
    assert!(
        page.contains("timers created in a loop") && page.contains("Add as a cause"),
        "the page names it"
    );
}

#[tokio::test]
async fn a_note_with_a_nul_byte_is_refused_and_nothing_is_kept() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (incident, token) = app.open_incident(&editor).await;

    let form = file_form("trace.out", fixture("traces/trace.out")).text("note", "taken at\0 the stall");
    let (status, _, message) = api_error(upload(&app, &incident, &token, form).await).await;

    assert_eq!(status, 422, "{message}");
    assert!(message.contains("NUL"), "{message}");
    assert_eq!(app.count("select count(*) from artifact").await, 0);
    assert_eq!(files_under(&app.data_dir().join("spool")), 0);
}
