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
    load_demo(&app.pool, &NewPassword::parse(PASSWORD, None).unwrap()).await
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
    let without_one_revision = "select count(*) from incident i where (select count(*) from incident_revision r \
                                where r.incident_id = i.id and r.summary = 'Loaded from the demo data') <> 1";
    assert_eq!(REVISION_SUMMARY, "Loaded from the demo data");
    assert_eq!(app.count(without_one_revision).await, 0);
    let marked_after_publication = "select count(*) from incident_revision where after_publication";
    assert_eq!(app.count(marked_after_publication).await, 0, "loading is not a change after publication");
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
