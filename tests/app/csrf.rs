//! Forged form posts are refused and change nothing.

use debrief::auth::domain::Role;

use crate::helpers::TestApp;

async fn token_count(app: &TestApp) -> i64 {
    app.count("select count(*) from api_token").await
}

#[tokio::test]
async fn a_form_post_without_the_csrf_token_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, client) = app.signed_in(Role::Editor).await;

    let response = client.post_form("/account/tokens", &[("name", "forged")]).await;

    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert!(page.contains("did not come from Debrief, so nothing was changed"), "{page}");
    assert_eq!(token_count(&app).await, 0);
}

#[tokio::test]
async fn a_form_post_with_another_sessions_token_is_refused() {
    let app = TestApp::spawn().await;
    let (_, victim) = app.signed_in(Role::Editor).await;
    let (_, attacker) = app.signed_in(Role::Viewer).await;
    let attackers_token = attacker.csrf_token("/account").await;

    let response =
        victim.post_form("/account/tokens", &[("csrf_token", &attackers_token), ("name", "forged")]).await;

    assert_eq!(response.status(), 403);
    assert_eq!(token_count(&app).await, 0);
}

#[tokio::test]
async fn a_post_from_a_foreign_origin_is_refused_even_with_a_token() {
    let app = TestApp::spawn().await;
    let (_, client) = app.signed_in(Role::Editor).await;
    let token = client.csrf_token("/account").await;

    let response = client
        .http
        .post(client.url("/account/tokens"))
        .header("origin", "https://evil.example")
        .form(&[("csrf_token", token.as_str()), ("name", "forged")])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 403);
    assert!(response.text().await.unwrap().contains("Requests from other sites are refused"));
    assert_eq!(token_count(&app).await, 0);
}

#[tokio::test]
async fn the_login_form_itself_needs_the_token() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Editor).await;
    let client = app.client();

    let response = client.post_form("/login", &[("email", &user.email), ("password", &user.password)]).await;

    assert_eq!(response.status(), 403);
    assert_eq!(client.get("/").await.status(), 303, "not signed in");
}

#[tokio::test]
async fn a_same_origin_post_with_the_token_goes_through() {
    let app = TestApp::spawn().await;
    let (_, client) = app.signed_in(Role::Editor).await;
    let token = client.csrf_token("/account").await;

    let response = client
        .http
        .post(client.url("/account/tokens"))
        .header("origin", app.address.as_str())
        .form(&[("csrf_token", token.as_str()), ("name", "deploy hook")])
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert!(response.text().await.unwrap().contains("data-testid=\"new-token\""));
    assert_eq!(token_count(&app).await, 1);
}
