//! The history page as a reader sees it: each changed line once, fields by
//! their names, and a revisions table that keeps its headers on a phone.

use debrief::auth::domain::Role;

use crate::helpers::{Client, TestApp};

async fn save_milestones(client: &Client, version: &str, detected_at: &str) -> reqwest::Response {
    let fields = [
        ("version", version),
        ("started_at", "2026-11-20T14:00"),
        ("detected_at", detected_at),
        ("mitigated_at", ""),
        ("resolved_at", ""),
    ];
    client.submit("/incidents/INC-1", "/incidents/INC-1/edit/milestones", &fields).await
}

async fn revision_ids(app: &TestApp) -> Vec<i64> {
    sqlx::query_scalar("select id from incident_revision order by id").fetch_all(&app.pool).await.unwrap()
}

#[tokio::test]
async fn each_changed_line_shows_once_under_its_field_name() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    assert_eq!(save_milestones(&client, "1", "2026-11-20T14:07").await.status(), 303);
    assert_eq!(save_milestones(&client, "2", "2026-11-20T14:09").await.status(), 303);
    let review = client
        .submit("/incidents/INC-1", "/incidents/INC-1/status", &[("version", "3"), ("status", "in_review")])
        .await;
    assert_eq!(review.status(), 303);

    let page = client.get_text("/incidents/INC-1/history").await;

    let diff = page.split("data-testid=\"diff\"").nth(1).expect("the last change is compared");
    assert_eq!(diff.matches("Status: draft").count(), 1, "{diff}");
    assert_eq!(diff.matches("Status: in_review").count(), 1, "{diff}");
    assert!(
        diff.contains("<span class=\"visually-hidden\">removed: </span>Status: draft</li>"),
        "marked removed in words, not by a dash: {diff}"
    );
    assert!(diff.contains("<span class=\"visually-hidden\">added: </span>Status: in_review</li>"), "{diff}");
    assert!(!page.contains("- - ") && !page.contains("- Status"), "{page}");
    assert!(page.contains("data-label=\"Fields\">Detected</td>"), "the field by its name: {page}");
    assert!(!page.contains("detected_at<") && !page.contains("detected_at,"), "{page}");

    // The two edits of the same field, compared together: each line once.
    let ids = revision_ids(&app).await;
    let both = client.get_text(&format!("/incidents/INC-1/history?from={}&to={}", ids[0], ids[2])).await;
    let diff = both.split("data-testid=\"diff\"").nth(1).expect("compared");
    assert_eq!(diff.matches("removed: </span>Detected:").count(), 1, "{diff}");
    assert_eq!(diff.matches("added: </span>Detected:").count(), 1, "{diff}");
    assert!(diff.contains("14:09"), "{diff}");
    assert!(!diff.contains("14:07"), "the middle revision is not part of this comparison: {diff}");
}

#[tokio::test]
async fn every_cell_of_the_revisions_table_carries_its_header() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    save_milestones(&client, "1", "2026-11-20T14:07").await;
    save_milestones(&client, "2", "2026-11-20T14:09").await;

    let page = client.get_text("/incidents/INC-1/history").await;

    let table = page.split("data-testid=\"revisions\"").nth(1).unwrap().split("</table>").next().unwrap();
    let rows = table.matches("<tr").count() - 1;
    assert_eq!(rows, 3, "opened and two edits: {table}");
    for header in ["From", "To", "When", "Who", "What", "Fields"] {
        assert!(table.contains(&format!("<th>{header}</th>")), "{table}");
        assert_eq!(table.matches(&format!("data-label=\"{header}\"")).count(), rows, "{header}: {table}");
    }
    assert_eq!(table.matches("<td").count(), 6 * rows, "no cell without its label");
}
