//! The API's authentication and error shapes.

use debrief::auth::domain::Role;

use crate::helpers::{TestApp, api_error};

#[tokio::test]
async fn me_answers_with_the_tokens_user() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Editor).await;
    let token = app.api_token(&user).await;

    let response =
        reqwest::Client::new().get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();

    assert_eq!(response.status(), 200);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["id"], user.id.to_string());
    assert_eq!(body["email"], user.email);
    assert_eq!(body["name"], user.name);
    assert_eq!(body["role"], "editor");
}

#[tokio::test]
async fn a_missing_wrong_or_revoked_token_gets_a_json_401() {
    let app = TestApp::spawn().await;
    let (user, client) = app.signed_in(Role::Editor).await;
    let http = reqwest::Client::new();

    let missing = http.get(app.url("/api/v1/me")).send().await.unwrap();
    assert_eq!(api_error(missing).await.0, 401);

    let wrong = http.get(app.url("/api/v1/me")).bearer_auth("dbr_not-a-real-token").send().await.unwrap();
    let (status, code, message) = api_error(wrong).await;
    assert_eq!((status, code.as_str()), (401, "unauthorized"));
    assert!(message.contains("not valid"), "{message}");

    // A token revoked on the account page stops working.
    let response = client.submit("/account", "/account/tokens", &[("name", "ci")]).await;
    let page = response.text().await.unwrap();
    let token =
        page.split("data-testid=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    assert_eq!(http.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap().status(), 200);
    let id: uuid::Uuid = sqlx::query_scalar("select id from api_token where user_id = $1")
        .bind(user.id)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let revoke = client.submit("/account", &format!("/account/tokens/{id}/revoke"), &[]).await;
    assert_eq!(revoke.status(), 303);
    let revoked = http.get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(api_error(revoked).await.0, 401);
}

#[tokio::test]
async fn tokens_are_stored_only_as_digests() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Viewer).await;
    let token = app.api_token(&user).await;

    let stored: Vec<u8> =
        sqlx::query_scalar("select token_digest from api_token").fetch_one(&app.pool).await.unwrap();
    let hint: String =
        sqlx::query_scalar("select token_hint from api_token").fetch_one(&app.pool).await.unwrap();

    assert_eq!(stored.len(), 32);
    assert!(!String::from_utf8_lossy(&stored).contains(&token));
    assert!(hint.len() < 16 && token.starts_with(hint.trim_end_matches('…')), "{hint}");
}

#[tokio::test]
async fn the_api_ignores_session_cookies() {
    let app = TestApp::spawn().await;
    let (_, client) = app.signed_in(Role::Admin).await;

    let response = client.get("/api/v1/me").await;

    assert_eq!(api_error(response).await.0, 401);
}

#[tokio::test]
async fn unknown_api_paths_get_a_json_404() {
    let app = TestApp::spawn().await;
    let response = reqwest::Client::new().get(app.url("/api/v1/nothing-here")).send().await.unwrap();
    let (status, code, _) = api_error(response).await;
    assert_eq!((status, code.as_str()), (404, "not_found"));
}
