//! `/metrics`: served only with its token, in Prometheus' text format, with
//! requests counted by route pattern.

use std::collections::HashMap;

use debrief::auth::domain::Role;
use reqwest::Method;

use crate::helpers::{Options, TestApp};

const TOKEN: &str = "scrape-me-7f3a9c2e41d8";

async fn scrape(app: &TestApp, token: Option<&str>) -> reqwest::Response {
    let request = reqwest::Client::new().get(app.url("/metrics"));
    let request = match token {
        Some(token) => request.bearer_auth(token),
        None => request,
    };
    request.send().await.unwrap()
}

#[tokio::test]
async fn metrics_are_refused_without_their_token_and_count_requests_by_route() {
    let vars = HashMap::from([("DEBRIEF_METRICS_TOKEN".to_owned(), TOKEN.to_owned())]);
    let app = TestApp::spawn_with(Options { vars, ..Options::default() }).await;

    assert_eq!(scrape(&app, None).await.status(), 401);
    assert_eq!(scrape(&app, Some("scrape-me-7f3a9c2e41d9")).await.status(), 401);
    // A user's API token is not the metrics token.
    let editor = app.create_user(Role::Editor).await;
    let user_token = app.api_token(&editor).await;
    assert_eq!(scrape(&app, Some(&user_token)).await.status(), 401);

    for _ in 0..3 {
        assert_eq!(reqwest::get(app.url("/healthz")).await.unwrap().status(), 200);
    }
    let (id, token) = app.open_incident(&editor).await;
    assert_eq!(
        app.api(Method::GET, &format!("/api/v1/incidents/{id}"), &token).send().await.unwrap().status(),
        200
    );

    let scraped = scrape(&app, Some(TOKEN)).await;
    assert_eq!(scraped.status(), 200);
    assert!(scraped.headers()["content-type"].to_str().unwrap().starts_with("application/openmetrics-text"));
    let text = scraped.text().await.unwrap();
    assert!(
        text.contains("debrief_http_requests_total{method=\"GET\",route=\"/healthz\",status=\"200\"} 3"),
        "{text}"
    );
    // By the route's pattern, never the incident's id.
    assert!(text.contains("route=\"/api/v1/incidents/{id}\",status=\"200\"} 1"), "{text}");
    assert!(!text.contains(&id), "{text}");
    assert!(
        text.contains(
            "debrief_http_request_duration_seconds_bucket{le=\"0.001\",method=\"GET\",route=\"/healthz\"}"
        ),
        "{text}"
    );
    for gauge in [
        "debrief_db_pool_connections{state=\"in_use\"}",
        "debrief_analysis_queue_depth 0",
        "debrief_webhook_deliveries{state=\"failed\"} 0",
        "debrief_upload_bytes_total 0",
    ] {
        assert!(text.contains(gauge), "{gauge}: {text}");
    }
}

#[tokio::test]
async fn without_a_token_configured_there_are_no_metrics() {
    let app = TestApp::spawn().await;
    assert_eq!(scrape(&app, None).await.status(), 404);
    assert_eq!(scrape(&app, Some(TOKEN)).await.status(), 404);
}
