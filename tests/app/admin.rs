//! User administration, and what other roles cannot do.

use debrief::auth::domain::Role;

use crate::helpers::TestApp;

async fn role_of(app: &TestApp, email: &str) -> (String, bool) {
    sqlx::query_as("select role, disabled from app_user where email = $1")
        .bind(email)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test]
async fn an_admin_adds_a_user_who_can_then_sign_in() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin).await;

    let response = admin
        .submit(
            "/admin/users",
            "/admin/users",
            &[
                ("email", "Bo@Example.com"),
                ("name", "Bo Rota"),
                ("role", "editor"),
                ("password", "a long first password"),
            ],
        )
        .await;

    assert_eq!(response.status(), 303);
    let page = admin.get_text("/admin/users").await;
    assert!(page.contains("Bo Rota can now sign in as editor."), "{page}");
    assert_eq!(role_of(&app, "bo@example.com").await, ("editor".into(), false));
    assert_eq!(app.client().login("bo@example.com", "a long first password").await.status(), 303);
}

#[tokio::test]
async fn a_malformed_add_user_form_shows_its_errors_and_creates_nobody() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let before = app.count("select count(*) from app_user").await;

    let response = admin
        .submit(
            "/admin/users",
            "/admin/users",
            &[("email", "bo at example"), ("name", ""), ("role", "superuser"), ("password", "short")],
        )
        .await;

    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    for message in
        ["Enter an email address", "Enter a name.", "Choose viewer, editor or admin.", "Use at least 12"]
    {
        assert!(page.contains(message), "{message}: {page}");
    }
    assert!(page.contains("value=\"bo at example\""), "the input is kept");
    assert_eq!(app.count("select count(*) from app_user").await, before);
}

#[tokio::test]
async fn adding_an_existing_email_is_a_field_error() {
    let app = TestApp::spawn().await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;

    let response = admin
        .submit(
            "/admin/users",
            "/admin/users",
            &[
                ("email", &admin_user.email),
                ("name", "Twin"),
                ("role", "viewer"),
                ("password", "a long first password"),
            ],
        )
        .await;

    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("A user with that email already exists."));
}

#[tokio::test]
async fn viewers_and_editors_cannot_open_or_use_the_admin_pages() {
    let app = TestApp::spawn().await;
    let target = app.create_user(Role::Viewer).await;
    for role in [Role::Viewer, Role::Editor] {
        let (_, client) = app.signed_in(role).await;
        let page = client.get("/admin/users").await;
        assert_eq!(page.status(), 403, "{role} opening the users page");
        assert!(page.text().await.unwrap().contains("This needs the admin role"));

        let promote =
            client.submit("/", &format!("/admin/users/{}/role", target.id), &[("role", "admin")]).await;
        assert_eq!(promote.status(), 403, "{role} promoting someone");
        let add = client
            .submit(
                "/",
                "/admin/users",
                &[
                    ("email", "x@example.com"),
                    ("name", "X"),
                    ("role", "admin"),
                    ("password", "a long first password"),
                ],
            )
            .await;
        assert_eq!(add.status(), 403, "{role} adding a user");
    }
    assert_eq!(role_of(&app, &target.email).await.0, "viewer");
    assert_eq!(app.count("select count(*) from app_user where email = 'x@example.com'").await, 0);
}

#[tokio::test]
async fn an_admin_changes_a_role() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let user = app.create_user(Role::Viewer).await;

    let response =
        admin.submit("/admin/users", &format!("/admin/users/{}/role", user.id), &[("role", "editor")]).await;

    assert_eq!(response.status(), 303);
    assert_eq!(role_of(&app, &user.email).await.0, "editor");
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_disabled() {
    let app = TestApp::spawn().await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;

    let demote = admin
        .submit("/admin/users", &format!("/admin/users/{}/role", admin_user.id), &[("role", "viewer")])
        .await;

    assert_eq!(demote.status(), 422);
    assert!(demote.text().await.unwrap().contains("at least one active admin"));
    assert_eq!(role_of(&app, &admin_user.email).await.0, "admin");
    let disable_self =
        admin.submit("/admin/users", &format!("/admin/users/{}/disable", admin_user.id), &[]).await;
    assert_eq!(disable_self.status(), 422);
}

#[tokio::test]
async fn a_disabled_users_session_and_tokens_stop_working_at_once() {
    let app = TestApp::spawn().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let (editor, editor_client) = app.signed_in(Role::Editor).await;
    let token = app.api_token(&editor).await;
    let csrf = editor_client.csrf_token("/account").await;
    let me = |token: String| {
        let url = app.url("/api/v1/me");
        async move { reqwest::Client::new().get(url).bearer_auth(token).send().await.unwrap() }
    };
    assert_eq!(me(token.clone()).await.status(), 200);

    let response = admin.submit("/admin/users", &format!("/admin/users/{}/disable", editor.id), &[]).await;
    assert_eq!(response.status(), 303);

    let page = editor_client.get("/").await;
    assert_eq!(page.status(), 403);
    assert!(page.text().await.unwrap().contains("This account has been disabled"));
    let write = editor_client.post_form("/account/tokens", &[("csrf_token", &csrf), ("name", "after")]).await;
    assert!(write.status() == 403 || write.status() == 303, "refused: {}", write.status());
    assert_eq!(app.count("select count(*) from api_token where name = 'after'").await, 0);
    let api = me(token.clone()).await;
    assert_eq!(api.status(), 401);
    // Signing in answers as a wrong password does: the right one is not confirmed.
    let refused = app.client().login(&editor.email, &editor.password).await;
    assert_eq!(refused.status(), 401);
    assert!(refused.text().await.unwrap().contains("That email and password do not match an account."));

    // Enabled again, the account can sign in afresh; the old session stays ended.
    let enable = admin.submit("/admin/users", &format!("/admin/users/{}/enable", editor.id), &[]).await;
    assert_eq!(enable.status(), 303);
    assert_eq!(editor_client.get("/").await.status(), 303);
    assert_eq!(app.client().login(&editor.email, &editor.password).await.status(), 303);
}
