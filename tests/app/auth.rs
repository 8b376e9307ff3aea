//! Signing in and out, first-run setup, throttling and sessions.

use std::{collections::HashMap, time::Duration};

use debrief::auth::domain::Role;

use crate::helpers::{Client, Options, TestApp};

const SETUP_PASSWORD: &str = "correct horse battery staple";

/// Sends the setup form, with the CSRF token of the page at `from`.
async fn submit_setup(client: &Client, from: &str, token: &str) -> reqwest::Response {
    client
        .submit(
            from,
            "/setup",
            &[
                ("setup_token", token),
                ("email", "Ana.Ops@Example.com"),
                ("name", "Ana Ops"),
                ("password", SETUP_PASSWORD),
                ("password_confirm", SETUP_PASSWORD),
            ],
        )
        .await
}

#[tokio::test]
async fn a_fresh_install_sends_visitors_to_setup() {
    let app = TestApp::spawn().await;
    let client = app.client();

    let response = client.get("/login").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/setup");
    let page = client.get_text("/setup").await;
    assert!(page.contains("Setup token"), "{page}");
}

#[tokio::test]
async fn setup_without_the_right_token_creates_nobody() {
    let app = TestApp::spawn().await;
    let client = app.client();

    let response = submit_setup(&client, "/setup", "not-the-token").await;

    assert_eq!(response.status(), 403);
    let page = response.text().await.unwrap();
    assert!(page.contains("That is not the setup token"), "{page}");
    assert!(page.contains("value=\"Ana Ops\""), "the name typed is kept: {page}");
    assert_eq!(app.count("select count(*) from app_user").await, 0);
}

#[tokio::test]
async fn setup_with_the_logged_token_creates_the_first_admin_once() {
    let app = TestApp::spawn().await;
    let token = app.setup_token.clone().expect("a fresh install issues a setup token");
    let client = app.client();

    let response = submit_setup(&client, "/setup", &token).await;

    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/");
    let dashboard = client.get_text("/").await;
    assert!(dashboard.contains("Welcome, Ana Ops"), "{dashboard}");
    let (role, hash): (String, String) =
        sqlx::query_as("select role, password_hash from app_user where email = 'ana.ops@example.com'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(role, "admin");
    assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "stored as an argon2id PHC string: {hash}");

    // The token is spent: a second visitor cannot use it.
    let stranger = app.client();
    assert_eq!(stranger.get("/setup").await.headers()["location"], "/login");
    let again = submit_setup(&stranger, "/login", &token).await;
    assert_eq!(again.status(), 303);
    assert_eq!(again.headers()["location"], "/login");
    assert_eq!(app.count("select count(*) from app_user").await, 1);
}

#[tokio::test]
async fn setup_form_errors_show_next_to_their_fields_with_the_input_kept() {
    let app = TestApp::spawn().await;
    let token = app.setup_token.clone().unwrap();
    let client = app.client();

    let response = client
        .submit(
            "/setup",
            "/setup",
            &[
                ("setup_token", &token),
                ("email", "not-an-email"),
                ("name", "Ana Ops"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;

    assert_eq!(response.status(), 422);
    let page = response.text().await.unwrap();
    assert!(page.contains("id=\"email-error\""), "{page}");
    assert!(page.contains("Use at least 12 characters."), "{page}");
    assert!(page.contains("value=\"not-an-email\""), "{page}");
    assert_eq!(app.count("select count(*) from app_user").await, 0);
}

#[tokio::test]
async fn signing_in_changes_the_session_id_and_shows_the_dashboard() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Editor).await;
    let client = app.client();
    let _ = client.get("/login").await;
    assert!(client.session_cookie().is_none(), "the login form alone stores no session");
    // A session from before (here, the flash left by signing out).
    assert_eq!(client.login(&user.email, &user.password).await.status(), 303);
    let logout = client.csrf_token("/").await;
    assert_eq!(client.post_form("/logout", &[("csrf_token", &logout)]).await.status(), 303);
    let before = client.session_cookie().expect("signing out leaves a session for its flash message");

    let response = client.login(&user.email, &user.password).await;

    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/");
    let after = client.session_cookie().unwrap();
    assert_ne!(before, after, "the session id is renewed at sign-in");
    let dashboard = client.get_text("/").await;
    assert!(dashboard.contains(&user.name), "{dashboard}");
    assert!(dashboard.contains("No postmortems yet"));
}

#[tokio::test]
async fn the_session_cookie_is_http_only_lax_and_expires_when_idle() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Viewer).await;
    let response = app.client().login(&user.email, &user.password).await;
    let cookie = session_set_cookie(&response);
    assert!(cookie.starts_with("debrief_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    // 30 minutes idle by default, and the few seconds a use may go unwritten.
    assert!(cookie.contains("Max-Age=1805"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");

    let secure = TestApp::spawn_with(Options {
        vars: [("DEBRIEF_SECURE_COOKIES".to_owned(), "true".to_owned())].into(),
        ..Options::default()
    })
    .await;
    let form = secure.client().get("/login").await;
    let visitor = form.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(visitor.starts_with("__Host-debrief_csrf=") && visitor.contains("Secure"), "{visitor}");
    let token = visitor.split(';').next().unwrap().split_once('=').unwrap().1.to_owned();
    let user = secure.create_user(Role::Viewer).await;
    // A browser sends a Secure cookie over HTTPS only; this client is told to.
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .post(secure.url("/login"))
        .header("cookie", format!("__Host-debrief_csrf={token}"))
        .form(&[("csrf_token", token.as_str()), ("email", &user.email), ("password", &user.password)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    assert!(session_set_cookie(&response).contains("Secure"));
}

/// The `Set-Cookie` of the session cookie in a response.
fn session_set_cookie(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find(|value| value.starts_with("debrief_session="))
        .expect("the response sets the session cookie")
        .to_owned()
}

#[tokio::test]
async fn signing_out_ends_the_session() {
    let app = TestApp::spawn().await;
    let (_, client) = app.signed_in(Role::Viewer).await;

    let response = client.submit("/", "/logout", &[]).await;

    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/login");
    let after = client.get("/").await;
    assert_eq!(after.status(), 303);
    assert_eq!(after.headers()["location"], "/login?next=%2F");
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Editor).await;

    let wrong_password = app.client().login(&user.email, "not the password at all").await;
    let unknown_email = app.client().login("nobody@example.com", "not the password at all").await;

    assert_eq!(wrong_password.status(), 401);
    assert_eq!(unknown_email.status(), 401);
    let a = wrong_password.text().await.unwrap();
    let b = unknown_email.text().await.unwrap();
    let message = "That email and password do not match an account.";
    assert!(a.contains(message) && b.contains(message));
    assert!(a.contains(&format!("value=\"{}\"", user.email)), "the email typed is kept");
}

#[tokio::test]
async fn ten_failures_lock_an_account_for_a_while_even_with_the_right_password() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Editor).await;
    let client = app.client();
    for attempt in 1..=10 {
        let response = client.login(&user.email, "a wrong guess, again").await;
        assert_eq!(response.status(), 401, "attempt {attempt}");
    }

    let response = client.login(&user.email, &user.password).await;

    assert_eq!(response.status(), 429);
    let retry_after: u64 = response.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    assert!(response.text().await.unwrap().contains("Too many failed sign-ins"));
    assert!(client.get("/").await.status() == 303, "still signed out");
    // Other accounts are not locked by it.
    let other = app.create_user(Role::Viewer).await;
    assert_eq!(app.client().login(&other.email, &other.password).await.status(), 303);
}

#[tokio::test]
async fn thirty_failures_from_one_address_block_it() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Viewer).await;
    let client = app.client();
    for attempt in 0..30 {
        let email = format!("guess{attempt}@example.com");
        assert_eq!(client.login(&email, "a wrong guess, again").await.status(), 401);
    }

    let response = client.login(&user.email, &user.password).await;

    assert_eq!(response.status(), 429);
}

/// A client whose requests arrive through a proxy that saw `address`.
fn forwarded_for(app: &TestApp, address: &'static str) -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("x-forwarded-for", reqwest::header::HeaderValue::from_static(address));
    Client::with_headers(&app.url(""), headers)
}

#[tokio::test]
async fn behind_a_trusted_proxy_each_client_address_is_throttled_on_its_own() {
    let vars = HashMap::from([("DEBRIEF_TRUSTED_PROXIES".to_owned(), "127.0.0.1, ::1".to_owned())]);
    let app = TestApp::spawn_with(Options { vars, ..Options::default() }).await;
    let user = app.create_user(Role::Viewer).await;
    let guesser = forwarded_for(&app, "203.0.113.7");
    for attempt in 0..30 {
        let email = format!("guess{attempt}@example.com");
        assert_eq!(guesser.login(&email, "a wrong guess, again").await.status(), 401);
    }

    assert_eq!(guesser.login(&user.email, &user.password).await.status(), 429);
    let neighbour = forwarded_for(&app, "198.51.100.4");
    assert_eq!(
        neighbour.login(&user.email, &user.password).await.status(),
        303,
        "another client is not blocked"
    );
    let recorded = "select count(*) from login_attempt where client_ip = '203.0.113.7'";
    assert_eq!(app.count(recorded).await, 30);
}

#[tokio::test]
async fn a_forwarded_address_from_an_untrusted_peer_is_ignored() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Viewer).await;
    let client = app.client();
    for attempt in 0..30 {
        // A different made-up address on every attempt does not dodge the limit.
        let token = client.csrf_token("/login").await;
        let fields = [
            ("csrf_token", token),
            ("email", format!("guess{attempt}@example.com")),
            ("password", "wrong".into()),
        ];
        let response = client
            .http
            .post(client.url("/login"))
            .header("x-forwarded-for", format!("203.0.113.{attempt}"))
            .form(&fields)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401);
    }

    assert_eq!(client.login(&user.email, &user.password).await.status(), 429);
}

#[tokio::test]
async fn after_sign_in_the_user_goes_where_they_were_headed_but_never_off_site() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Viewer).await;

    let client = app.client();
    let redirect = client.get("/account").await;
    assert_eq!(redirect.headers()["location"], "/login?next=%2Faccount");
    let response = client
        .submit(
            "/login?next=%2Faccount",
            "/login",
            &[("email", &user.email), ("password", &user.password), ("next", "/account")],
        )
        .await;
    assert_eq!(response.headers()["location"], "/account");

    let client = app.client();
    let response = client
        .submit(
            "/login",
            "/login",
            &[("email", &user.email), ("password", &user.password), ("next", "//evil.example/x")],
        )
        .await;
    assert_eq!(response.headers()["location"], "/");
}

#[tokio::test]
async fn changing_the_password_signs_out_the_other_sessions() {
    let app = TestApp::spawn().await;
    let (user, laptop) = app.signed_in(Role::Editor).await;
    let phone = app.client();
    assert_eq!(phone.login(&user.email, &user.password).await.status(), 303);
    let new_password = "a much longer new passphrase";

    let response = laptop
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", &user.password),
                ("new_password", new_password),
                ("new_password_confirm", new_password),
            ],
        )
        .await;

    assert_eq!(response.status(), 303);
    assert_eq!(laptop.get("/").await.status(), 200, "the session that changed it goes on");
    assert_eq!(phone.get("/").await.status(), 303, "the other session is signed out");
    assert_eq!(app.client().login(&user.email, &user.password).await.status(), 401);
    assert_eq!(app.client().login(&user.email, new_password).await.status(), 303);
}

#[tokio::test]
async fn a_wrong_current_password_changes_nothing() {
    let app = TestApp::spawn().await;
    let (user, client) = app.signed_in(Role::Viewer).await;

    let response = client
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", "not my password at all"),
                ("new_password", "a much longer new passphrase"),
                ("new_password_confirm", "a much longer new passphrase"),
            ],
        )
        .await;

    assert_eq!(response.status(), 422);
    assert!(response.text().await.unwrap().contains("That is not your current password."));
    assert_eq!(app.client().login(&user.email, &user.password).await.status(), 303);
}

#[tokio::test]
async fn a_session_ends_after_its_absolute_lifetime_even_when_active() {
    let app = TestApp::spawn_with(Options {
        tweak: Some(Box::new(|config| config.session_absolute = Duration::from_secs(1))),
        ..Options::default()
    })
    .await;
    let (_, client) = app.signed_in(Role::Viewer).await;
    assert_eq!(client.get("/").await.status(), 200);

    tokio::time::sleep(Duration::from_millis(2100)).await;

    let response = client.get("/").await;
    assert_eq!(response.status(), 303);
    let login = client.get_text("/login").await;
    assert!(login.contains("Your session has expired"), "{login}");
}
