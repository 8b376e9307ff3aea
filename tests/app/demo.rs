//! `debrief demo`: the twelve demo postmortems in an empty database, and the
//! bulk generator for benchmarks.

use std::process::Command;

use debrief::{
    auth::domain::{NewPassword, Role},
    demo::{
        generate::generate_incidents,
        load::{CAST, LoadReport, REVISION_SUMMARY, load_demo},
    },
    error::AppError,
};

use crate::helpers::TestApp;

const PASSWORD: &str = "demo password for tests";

async fn load(app: &TestApp) -> Result<LoadReport, AppError> {
    load_demo(&app.pool, &app.store(), &NewPassword::parse(PASSWORD, None).unwrap()).await
}

/// Rows of every table the demo writes to, to tell whether anything moved.
async fn table_counts(app: &TestApp) -> Vec<i64> {
    let mut counts = Vec::new();
    for table in ["app_user", "incident", "timeline_event", "cause", "action_item", "incident_revision"] {
        counts.push(app.count(&format!("select count(*) from {table}")).await);
    }
    counts
}

#[tokio::test]
async fn the_demo_fills_an_empty_database_with_twelve_postmortems_numbered_in_time_order() {
    let app = TestApp::spawn().await;

    let report = load(&app).await.expect("the demo loads into an empty database");

    assert_eq!(report.postmortems, 12);
    assert_eq!(app.count("select count(*) from incident").await, 12);
    assert_eq!(app.count("select count(*) from timeline_event").await, report.timeline_events as i64);
    assert_eq!(app.count("select count(*) from cause").await, report.causes as i64);
    assert_eq!(app.count("select count(*) from action_item").await, report.action_items as i64);
    let with_figures = "select count(*) from incident where jsonb_array_length(impact_figures) > 0";
    assert_eq!(app.count(with_figures).await, 12, "each impact has its figures");
    let numbers_in_time_order: Vec<i32> =
        sqlx::query_scalar("select number from incident order by started_at")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(numbers_in_time_order, (1..=12).collect::<Vec<_>>());
    assert!(report.summary().starts_with("Loaded 12 postmortems, "), "{}", report.summary());
}

#[tokio::test]
async fn every_demo_postmortem_has_a_timeline_one_root_cause_owned_action_items_and_a_first_revision() {
    let app = TestApp::spawn().await;

    load(&app).await.unwrap();

    let without_timeline = "select count(*) from incident i \
                            where not exists (select 1 from timeline_event e where e.incident_id = i.id)";
    assert_eq!(app.count(without_timeline).await, 0);
    let without_one_root = "select count(*) from incident i where (select count(*) from cause c \
                            where c.incident_id = i.id and c.kind = 'root') <> 1";
    assert_eq!(app.count(without_one_root).await, 0);
    let without_items = "select count(*) from incident i \
                         where not exists (select 1 from action_item a where a.incident_id = i.id)";
    assert_eq!(app.count(without_items).await, 0);
    assert_eq!(
        app.count("select count(*) from action_item where owner_id is null or due_on is null").await,
        0
    );
    let without_one_opening = "select count(*) from incident i where (select count(*) from incident_revision r \
                               where r.incident_id = i.id and r.summary = 'Loaded from the demo data') <> 1";
    assert_eq!(REVISION_SUMMARY, "Loaded from the demo data");
    assert_eq!(app.count(without_one_opening).await, 0);
}

#[tokio::test]
async fn the_demo_has_checklists_from_the_starter_playbooks_and_the_reviews_threads() {
    let app = TestApp::spawn().await;

    let report = load(&app).await.unwrap();

    assert!(report.checklists >= 5 && report.comments >= 10, "{}", report.summary());
    assert_eq!(app.count("select count(*) from checklist").await, report.checklists as i64);
    assert_eq!(app.count("select count(*) from comment").await, report.comments as i64);
    // Each checklist is a starter playbook's, partly worked through by one of the cast.
    let unworked = "select count(*) from checklist c where c.playbook_id is null \
                    or not exists (select 1 from checklist_item i where i.checklist_id = c.id and i.state = 'done') \
                    or not exists (select 1 from checklist_item i where i.checklist_id = c.id and i.state = 'open')";
    assert_eq!(app.count(unworked).await, 0);
    // Threads on published postmortems are resolved; postmortems in review still have open ones.
    let open_on = |status: &str| {
        format!(
            "select count(*) from comment c join incident i on i.id = c.incident_id \
             where c.parent_id is null and c.resolved_at is null and i.status = '{status}'"
        )
    };
    assert_eq!(app.count(&open_on("published")).await, 0);
    assert!(app.count(&open_on("in_review")).await >= 2);
    // And they read as the app shows them: on INC-1, the thread on its root cause and its answer.
    let (editor, client) = app.signed_in(Role::Editor).await;
    let page = client.get_text("/incidents/INC-1").await;
    assert!(
        page.contains("HTTP client hardening") && page.contains("10 s for the payments client"),
        "the checklist shows"
    );
    let token = app.api_token(&editor).await;
    let comments = app.api_json("/api/v1/incidents/INC-1/comments", &token).await;
    let bodies: Vec<&str> =
        comments["comments"].as_array().unwrap().iter().map(|c| c["body"].as_str().unwrap()).collect();
    assert!(bodies.iter().any(|body| body.contains("service template")), "{bodies:?}");
    let playbooks = app.api_json("/api/v1/incidents/INC-1/playbooks", &token).await;
    let steps = playbooks["applied"][0]["items"].as_array().unwrap();
    let done = steps.iter().filter(|step| step["state"] == "done").count();
    assert_eq!(done, 12, "{playbooks}");
}

/// One row per revision of one incident, oldest first.
#[derive(Debug, sqlx::FromRow)]
struct Step {
    author: String,
    summary: String,
    after_publication: bool,
    created_at: time::OffsetDateTime,
}

async fn history_of(app: &TestApp, number: i32) -> Vec<Step> {
    let sql = "select u.name as author, r.summary, r.after_publication, r.created_at from incident_revision r \
               join incident i on i.id = r.incident_id join app_user u on u.id = r.author_id \
               where i.number = $1 order by r.id";
    sqlx::query_as(sql).bind(number).fetch_all(&app.pool).await.unwrap()
}

#[tokio::test]
async fn each_demo_postmortem_has_the_history_its_team_wrote_it_in() {
    let app = TestApp::spawn().await;
    load(&app).await.unwrap();
    let incidents: Vec<(i32, String, i64)> = sqlx::query_as(
        "select number, status, (select count(*) from action_item a where a.incident_id = i.id \
         and a.status = 'done') from incident i order by number",
    )
    .fetch_all(&app.pool)
    .await
    .unwrap();

    for (number, status, done_items) in incidents {
        let steps = history_of(&app, number).await;
        let said = |summary: &str| steps.iter().filter(|step| step.summary == summary).count();
        assert_eq!(steps[0].summary, REVISION_SUMMARY, "INC-{number} starts when it was opened");
        let authors: std::collections::BTreeSet<&str> =
            steps.iter().map(|step| step.author.as_str()).collect();
        assert!(authors.len() >= 3, "INC-{number} was written by several people: {authors:?}");
        assert!(
            steps.windows(2).all(|pair| pair[0].created_at < pair[1].created_at),
            "INC-{number}'s revisions are dated in the order they were made"
        );
        assert!(steps.iter().all(|step| step.created_at < time::OffsetDateTime::now_utc()));
        assert!(said("Edited summary, impact and figures") == 1, "INC-{number}: {steps:#?}");
        assert_eq!(said("Moved to in review"), usize::from(status != "draft"), "INC-{number}");
        assert_eq!(said("Moved to published"), usize::from(status == "published"), "INC-{number}");
        let published_at = steps.iter().position(|step| step.summary == "Moved to published");
        let after: Vec<&Step> = steps.iter().filter(|step| step.after_publication).collect();
        match published_at {
            Some(at) => {
                assert_eq!(
                    after.len() as i64,
                    done_items,
                    "INC-{number}: the items closed after publication"
                );
                assert!(steps[at + 1..].iter().all(|step| step.after_publication), "INC-{number}");
                assert!(after.iter().all(|step| step.summary == "Marked an action item done"));
            }
            None => assert!(after.is_empty(), "INC-{number} was never published"),
        }
    }
}

#[tokio::test]
async fn a_demo_postmortems_last_revision_is_the_document_as_it_stands() {
    let app = TestApp::spawn().await;
    load(&app).await.unwrap();
    let document = debrief::postmortem::document("");
    let ids: Vec<uuid::Uuid> =
        sqlx::query_scalar("select id from incident order by number").fetch_all(&app.pool).await.unwrap();

    for id in ids {
        let last: String = sqlx::query_scalar(
            "select snapshot from incident_revision where incident_id = $1 order by id desc limit 1",
        )
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
        let mut db = app.pool.acquire().await.unwrap();
        assert_eq!(last, document.snapshot(&mut db, id).await.unwrap(), "incident {id}");
    }
}

#[tokio::test]
async fn a_reader_sees_who_wrote_a_demo_postmortem_and_what_changed_after_it_was_published() {
    let app = TestApp::spawn().await;
    load(&app).await.unwrap();
    let (_, viewer) = app.signed_in(Role::Viewer).await;
    let steps = history_of(&app, 1).await;
    let first_item: String = sqlx::query_scalar(
        "select a.title from action_item a join incident i on i.id = a.incident_id \
         where i.number = 1 and a.status = 'done' order by a.due_on limit 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let summary_line: String =
        sqlx::query_scalar("select split_part(summary, E'\n', 1) from incident where number = 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();

    let page = viewer.get_text("/incidents/INC-1").await;
    let history = viewer.get_text("/incidents/INC-1/history").await;
    let (first, last): (i64, i64) = sqlx::query_as(
        "select min(r.id), max(r.id) from incident_revision r join incident i on i.id = r.incident_id \
         where i.number = 1",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let whole = viewer.get_text(&format!("/incidents/INC-1/history?from={first}&to={last}")).await;

    let last_author = &steps.last().unwrap().author;
    assert!(page.contains(&format!("{} changes, last by {last_author}", steps.len())), "{page}");
    assert!(page.contains("Marked an action item done"), "the page lists the changes after publication");
    for name in ["Bo Rota", "Chen Li", "Eli Moss"] {
        assert!(history.contains(name), "the history names {name}");
    }
    assert!(history.contains("Moved to published") && history.contains(REVISION_SUMMARY));
    let escaped = |text: &str| text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    assert!(whole.contains(&escaped(&summary_line[..40])), "the whole history adds the summary");
    assert!(whole.contains(&escaped(&first_item)), "and the action items");
}

#[tokio::test]
async fn the_demo_users_sign_in_with_the_demo_password() {
    let app = TestApp::spawn().await;

    let report = load(&app).await.unwrap();

    assert!(report.users.iter().all(|(_, created)| *created));
    for persona in &CAST {
        let response = app.client().login(persona.email, PASSWORD).await;
        assert_eq!(response.status(), 303, "{} signs in", persona.email);
    }
    let roles: Vec<(String, String)> =
        sqlx::query_as("select email, role from app_user order by email").fetch_all(&app.pool).await.unwrap();
    assert_eq!(roles[0], ("ana@demo.debrief.dev".to_owned(), "admin".to_owned()));
    assert_eq!(roles[3], ("dee@demo.debrief.dev".to_owned(), "editor".to_owned()));
    assert_eq!(roles[5], ("viv@demo.debrief.dev".to_owned(), "viewer".to_owned()));
}

#[tokio::test]
async fn a_published_demo_postmortem_renders_for_a_viewer() {
    let app = TestApp::spawn().await;
    load(&app).await.unwrap();
    let (_, viewer) = app.signed_in(Role::Viewer).await;
    let (status, title): (String, String) =
        sqlx::query_as("select status, title from incident where number = 1")
            .fetch_one(&app.pool)
            .await
            .unwrap();

    let response = viewer.get("/incidents/INC-1").await;

    assert_eq!(status, "published");
    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains(&title), "the page shows {title:?}");
}

#[tokio::test]
async fn loading_the_demo_twice_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    load(&app).await.unwrap();
    let before = table_counts(&app).await;

    let second = load(&app).await;

    assert!(
        matches!(&second, Err(AppError::Conflict(message)) if message.contains("already has 12 incident")),
        "{second:?}"
    );
    assert_eq!(table_counts(&app).await, before);
}

#[tokio::test]
async fn a_database_with_other_incidents_is_refused_without_creating_the_demo_users() {
    let app = TestApp::spawn().await;
    generate_incidents(&app.pool, 1, |_| {}).await.unwrap();
    let before = table_counts(&app).await;

    let refused = load(&app).await;

    assert!(matches!(refused, Err(AppError::Conflict(_))), "{refused:?}");
    assert_eq!(table_counts(&app).await, before);
    let cast_users = "select count(*) from app_user \
                      where email like '%@demo.debrief.dev' and email <> 'generator@demo.debrief.dev'";
    assert_eq!(app.count(cast_users).await, 0);
}

#[tokio::test]
async fn the_generator_adds_250_incidents_with_timelines_causes_and_action_items() {
    let app = TestApp::spawn().await;
    let mut progress = Vec::new();

    let report = generate_incidents(&app.pool, 250, |done| progress.push(done)).await.unwrap();

    assert_eq!(report.incidents, 250);
    assert_eq!(progress, [250]);
    assert_eq!(app.count("select count(*) from incident").await, 250);
    assert_eq!(app.count("select count(distinct number) from incident").await, 250);
    let with_all_parts = "select count(*) from incident i \
                          where (select count(*) from timeline_event e where e.incident_id = i.id) between 4 and 8 \
                          and (select count(*) from cause c where c.incident_id = i.id and c.kind = 'root') = 1 \
                          and (select count(*) from cause c where c.incident_id = i.id) between 1 and 3 \
                          and (select count(*) from action_item a where a.incident_id = i.id) between 1 and 4";
    assert_eq!(app.count(with_all_parts).await, 250);
    let in_the_last_three_years = "select count(*) from incident \
                                   where started_at between now() - interval '3 years' and now()";
    assert_eq!(app.count(in_the_last_three_years).await, 250);
    let spread = "select extract(day from max(started_at) - min(started_at))::bigint from incident";
    assert!(app.count(spread).await > 900, "they spread over the three years");
    let out_of_order = "select count(*) from incident a join incident b on a.number < b.number \
                        where a.started_at > b.started_at";
    assert_eq!(app.count(out_of_order).await, 0, "numbered in the order they started, as a team's are");
    assert!(app.count("select count(distinct title) from incident").await > 100, "titles vary");
    assert!(app.count("select count(distinct severity) from incident").await >= 3, "severities vary");
}

#[tokio::test]
async fn the_generator_adds_to_a_loaded_demo_with_one_reused_author() {
    let app = TestApp::spawn().await;
    load(&app).await.unwrap();

    generate_incidents(&app.pool, 10, |_| {}).await.unwrap();
    generate_incidents(&app.pool, 5, |_| {}).await.unwrap();

    assert_eq!(app.count("select count(*) from incident").await, 27);
    assert_eq!(app.count("select count(distinct number) from incident").await, 27);
    assert_eq!(
        app.count("select count(*) from app_user where email = 'generator@demo.debrief.dev'").await,
        1
    );
}

#[test]
fn the_cli_refuses_an_incident_count_out_of_range_before_touching_a_database() {
    for bad in ["0", "10000001", "many"] {
        let output = Command::new(env!("CARGO_BIN_EXE_debrief"))
            .args(["demo", "--incidents", bad])
            .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/debrief")
            .output()
            .unwrap();

        assert_eq!(output.status.code(), Some(2), "--incidents {bad}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains("--incidents takes a whole number from 1 to 10000000"), "{stderr}");
    }
}

#[tokio::test]
async fn the_demo_postmortems_carry_real_evidence_already_analysed() {
    let app = TestApp::spawn().await;

    let report = load(&app).await.unwrap();

    assert_eq!(report.artifacts, debrief::demo::evidence::FILES.len());
    assert_eq!(
        app.count("select count(*) from artifact where analysis_status = 'done'").await,
        report.artifacts as i64
    );
    let key: String = sqlx::query_scalar(
        "select a.analysis -> 'suspects' -> 0 ->> 'key' from artifact a join incident i on i.id = a.incident_id \
         where i.number = 1 and a.format = 'goroutine_dump'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(key, "http-client-persistconn", "INC-1's dump names the HTTP client leak");
    let linked = "select count(*) from artifact where timeline_event_id is not null";
    assert!(app.count(linked).await >= 8, "the files are linked to the events they were taken at");
    let (_, viewer) = app.signed_in(Role::Viewer).await;
    let page = viewer.get_text("/incidents/INC-1").await;
    assert!(
        page.contains("checkout-7f9c-goroutines.txt") && page.contains("suspect: "),
        "the page shows the finding"
    );
    let id: uuid::Uuid = sqlx::query_scalar(
        "select a.id from artifact a join incident i on i.id = a.incident_id \
         where i.number = 8 and a.file_name = 'pricing-heap-before.pb.gz'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let artifact_page = viewer.get_text(&format!("/incidents/INC-8/artifacts/{id}")).await;
    assert!(artifact_page.contains("pricing-heap-after.pb.gz"), "the heap profiles compare with each other");
}
