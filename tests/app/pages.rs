//! What every page shares: headers, error pages, assets and body limits.

use debrief::auth::domain::Role;

use crate::helpers::{Options, TestApp};

#[tokio::test]
async fn pages_carry_the_security_headers() {
    let app = TestApp::spawn().await;
    let (_, client) = app.signed_in(Role::Viewer).await;

    let response = client.get("/").await;

    assert_eq!(response.status(), 200);
    let headers = response.headers();
    let csp = headers["content-security-policy"].to_str().unwrap();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["referrer-policy"], "same-origin");
    assert_eq!(headers["cache-control"], "no-store");
    assert!(headers.contains_key("x-request-id"));
    let html = response.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");
}

#[tokio::test]
async fn an_unknown_page_is_a_404_page() {
    let app = TestApp::spawn().await;

    let response = app.client().get("/no/such/page").await;

    assert_eq!(response.status(), 404);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = response.text().await.unwrap();
    assert!(html.contains("There is nothing at this address."), "{html}");
}

#[tokio::test]
async fn the_stylesheet_is_served_by_the_app() {
    let app = TestApp::spawn().await;

    let response = app.client().get("/static/css/app.css").await;

    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
    let etag = response.headers()["etag"].clone();
    assert!(response.text().await.unwrap().contains("prefers-color-scheme: dark"));
    let again = app
        .client()
        .http
        .get(app.url("/static/css/app.css"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 304);
    assert_eq!(app.client().get("/static/../Cargo.toml").await.status(), 404);
}

#[tokio::test]
async fn an_oversized_form_gets_413_and_changes_nothing() {
    let app = TestApp::spawn_with(Options {
        vars: [("DEBRIEF_MAX_BODY_BYTES".to_owned(), "65536".to_owned())].into(),
        ..Options::default()
    })
    .await;
    let (_, client) = app.signed_in(Role::Editor).await;
    let token = client.csrf_token("/account").await;
    let huge = "x".repeat(200_000);

    let response = client.post_form("/account/tokens", &[("csrf_token", &token), ("name", &huge)]).await;

    assert_eq!(response.status(), 413);
    assert!(response.text().await.unwrap().contains("larger than"));
    assert_eq!(app.count("select count(*) from api_token").await, 0);

    let api = reqwest::Client::new()
        .get(app.url("/api/v1/me"))
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(api.status(), 401, "unauthenticated API calls are refused before their body is read");
}

#[tokio::test]
async fn a_form_sent_as_the_wrong_content_type_gets_415() {
    let app = TestApp::spawn().await;
    let (_, client) = app.signed_in(Role::Editor).await;
    let token = client.csrf_token("/account").await;

    let response = client
        .http
        .post(client.url("/account/tokens"))
        .header("x-csrf-token", token)
        .header("content-type", "text/plain")
        .body("name=sneaky")
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 415);
    assert!(response.text().await.unwrap().contains("application/x-www-form-urlencoded"));
    assert_eq!(app.count("select count(*) from api_token").await, 0);
}

#[tokio::test]
async fn a_malformed_path_id_gets_a_clear_400() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin).await;

    let response = admin.submit("/admin/users", "/admin/users/not-a-uuid/disable", &[]).await;

    assert_eq!(response.status(), 400);
    assert!(response.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
}

#[tokio::test]
async fn probes_report_the_process_and_the_database() {
    let app = TestApp::spawn().await;
    let health = app.client().get("/healthz").await;
    assert_eq!(health.status(), 200);
    let ready: serde_json::Value = app.client().get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["database"], "ok");
    let method = app.client().http.delete(app.url("/healthz")).send().await.unwrap();
    assert_eq!(method.status(), 405);
}
