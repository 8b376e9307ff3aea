//! The open action items page: filters, sorting, paging and bad filter
//! values.

use debrief::auth::domain::Role;
use serde_json::{Value, json};

use crate::{
    dashboard::{add_item, day, open_titled},
    helpers::{Client, TestApp, TestUser},
};

/// Two incidents and five items of two owners, in every state:
///
/// | incident | item                  | owner | due | status      |
/// |----------|-----------------------|-------|-----|-------------|
/// | INC-1    | Set client timeouts   | me    | -3  | open        |
/// | INC-1    | Add a retry budget    | other | +30 | open        |
/// | INC-2    | Alert on queue depth  | —     | +10 | open        |
/// | INC-2    | Write the runbook     | me    | —   | in_progress |
/// | INC-2    | Close response bodies | other | -1  | done        |
struct Fixture {
    app: TestApp,
    client: Client,
    other: TestUser,
}

async fn fixture() -> Fixture {
    let app = TestApp::spawn().await;
    let (me, client) = app.signed_in(Role::Editor).await;
    let other = app.create_user(Role::Editor).await;
    let token = app.api_token(&me).await;
    let first = open_titled(&app, &token, "Checkout 5xx").await;
    let second = open_titled(&app, &token, "Queue backlog").await;
    add_item(&app, &token, &first, "Set client timeouts", Some(&me), Some(day(-3))).await;
    add_item(&app, &token, &first, "Add a retry budget", Some(&other), Some(day(30))).await;
    add_item(&app, &token, &second, "Alert on queue depth", None, Some(day(10))).await;
    let runbook = add_item(&app, &token, &second, "Write the runbook", Some(&me), None).await;
    let bodies = add_item(&app, &token, &second, "Close response bodies", Some(&other), Some(day(-1))).await;
    set_status(&app, &token, &runbook, "in_progress").await;
    set_status(&app, &token, &bodies, "done").await;
    Fixture { app, client, other }
}

async fn set_status(app: &TestApp, token: &str, item: &Value, status: &str) {
    let path = format!("/api/v1/action_items/{}", item["id"].as_str().unwrap());
    let body = json!({"version": 1, "status": status});
    let response = app.api(reqwest::Method::PATCH, &path, token).json(&body).send().await.unwrap();
    assert_eq!(response.status(), 200, "the item is marked {status}");
}

/// The titles of the listed items, in the order shown.
fn titles(page: &str) -> Vec<String> {
    page.split("data-testid=\"open-item\"")
        .skip(1)
        .map(|row| {
            let marker = "class=\"cell-title\" title=\"";
            let start = row.find(marker).expect("each row has a title cell") + marker.len();
            row[start..start + row[start..].find('"').unwrap()].to_owned()
        })
        .collect()
}

async fn listed(client: &Client, path: &str) -> Vec<String> {
    let response = client.get(path).await;
    assert_eq!(response.status(), 200, "GET {path}");
    titles(&response.text().await.unwrap())
}

#[tokio::test]
async fn each_filter_narrows_the_list_to_its_items() {
    let Fixture { app: _app, client, other } = fixture().await;
    let other_owner = format!("/action-items?owner={}", other.id);
    let cases: [(&str, &[&str]); 12] = [
        (
            "/action-items",
            &["Set client timeouts", "Alert on queue depth", "Add a retry budget", "Write the runbook"],
        ),
        (&other_owner, &["Add a retry budget"]),
        ("/action-items?owner=none", &["Alert on queue depth"]),
        ("/action-items?mine=1", &["Set client timeouts", "Write the runbook"]),
        ("/action-items?status=open", &["Set client timeouts", "Alert on queue depth", "Add a retry budget"]),
        ("/action-items?status=in_progress", &["Write the runbook"]),
        ("/action-items?status=done", &["Close response bodies"]),
        (
            "/action-items?status=all",
            &[
                "Set client timeouts",
                "Close response bodies",
                "Alert on queue depth",
                "Add a retry budget",
                "Write the runbook",
            ],
        ),
        ("/action-items?overdue=1", &["Set client timeouts"]),
        ("/action-items?incident=INC-2", &["Alert on queue depth", "Write the runbook"]),
        ("/action-items?incident=1", &["Set client timeouts", "Add a retry budget"]),
        ("/action-items?mine=1&incident=INC-2&status=all", &["Write the runbook"]),
    ];

    for (path, expected) in cases {
        assert_eq!(listed(&client, path).await, expected, "{path}");
    }
}

#[tokio::test]
async fn a_filtered_list_says_how_many_match_and_keeps_the_filters_in_the_form() {
    let Fixture { app: _app, client, .. } = fixture().await;

    let page = client.get_text("/action-items?mine=1&overdue=1").await;

    assert!(
        page.contains("1 item matches these filters, <strong class=\"overdue-count\">1 overdue</strong>."),
        "{page}"
    );
    assert!(page.contains("<form method=\"get\" action=\"/action-items\""), "{page}");
    assert!(
        page.contains("name=\"mine\" value=\"1\" checked")
            && page.contains("name=\"overdue\" value=\"1\" checked")
    );
    assert!(page.contains("href=\"/action-items\">Clear filters</a>"), "{page}");
}

#[tokio::test]
async fn sorting_by_due_date_orders_rows_and_keeps_undated_items_last() {
    let Fixture { app: _app, client, .. } = fixture().await;

    let soonest = listed(&client, "/action-items?sort=due").await;
    let latest = listed(&client, "/action-items?sort=due_desc").await;

    assert_eq!(
        soonest,
        ["Set client timeouts", "Alert on queue depth", "Add a retry budget", "Write the runbook"]
    );
    assert_eq!(
        latest,
        ["Add a retry budget", "Alert on queue depth", "Set client timeouts", "Write the runbook"]
    );
}

#[tokio::test]
async fn sorting_by_incident_groups_rows_by_incident() {
    let Fixture { app: _app, client, .. } = fixture().await;

    let newest = listed(&client, "/action-items?sort=incident").await;
    let oldest = listed(&client, "/action-items?sort=incident_asc").await;

    assert_eq!(
        newest,
        ["Alert on queue depth", "Write the runbook", "Set client timeouts", "Add a retry budget"]
    );
    assert_eq!(
        oldest,
        ["Set client timeouts", "Add a retry budget", "Alert on queue depth", "Write the runbook"]
    );
}

#[tokio::test]
async fn malformed_filter_values_are_ignored_with_a_note() {
    let Fixture { app: _app, client, .. } = fixture().await;
    let everything = listed(&client, "/action-items").await;

    for query in [
        "status=maybe",
        "incident=INC-x",
        "owner=bob",
        "owner=6f1c2a52-0000-4000-8000-000000000000",
        "sort=sideways",
        "page=-1",
        "overdue=perhaps",
        "incident=99999999999",
    ] {
        let response = client.get(&format!("/action-items?{query}")).await;
        assert_eq!(response.status(), 200, "{query}");
        let page = response.text().await.unwrap();
        assert_eq!(page.matches("data-testid=\"filter-note\"").count(), 1, "{query}: {page}");
        assert_eq!(titles(&page), everything, "{query} is ignored");
    }
    let response = client.get("/action-items?status=maybe&incident=INC-x&page=%FF&status").await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn rows_stay_one_line_inside_a_scrolling_wrapper() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let token = app.api_token(&editor).await;
    let incident = open_titled(&app, &token, "Checkout 5xx").await;
    let long = "Set explicit dial, TLS handshake and response header timeouts on every outbound HTTP client in checkout";
    add_item(&app, &token, &incident, long, Some(&editor), None).await;

    let page = client.get_text("/action-items").await;

    let wrapper = page.find("<div class=\"table-scroll\">").expect("the table has a scrolling wrapper");
    assert!(wrapper < page.find("data-testid=\"open-items\"").unwrap(), "{page}");
    assert!(page.contains(&format!("<td class=\"cell-title\" title=\"{long}\">{long}</td>")), "{page}");
    let css = client.get_text("/static/css/app.css").await;
    assert!(css.contains(".table-scroll { overflow-x: auto;"), "the wrapper scrolls sideways");
    assert!(css.contains(
        ".cell-title { max-width: 24rem; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }"
    ));
}

#[tokio::test]
async fn a_long_list_is_paged_and_the_pages_keep_the_filters() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let token = app.api_token(&editor).await;
    let incident = open_titled(&app, &token, "Checkout 5xx").await;
    sqlx::query(
        "insert into action_item (id, incident_id, title, kind, owner_id, due_on) \
         select gen_random_uuid(), $1::uuid, 'Item ' || lpad(n::text, 2, '0'), 'prevent', $2, \
                date '2030-01-01' + n from generate_series(1, 55) n",
    )
    .bind(&incident)
    .bind(editor.id)
    .execute(&app.pool)
    .await
    .unwrap();

    let first = client.get_text("/action-items?mine=1").await;
    let second = client.get_text("/action-items?mine=1&page=2").await;

    assert_eq!(titles(&first).len(), 50);
    assert_eq!(titles(&first)[0], "Item 01");
    assert!(
        first.contains("Page 1 of 2 · 55 items")
            && first.contains("href=\"/action-items?mine=1&#38;page=2\""),
        "{first}"
    );
    assert_eq!(titles(&second), ["Item 51", "Item 52", "Item 53", "Item 54", "Item 55"]);
}
