//! What an attacker and a large database found, each held: bounded diffs and
//! Markdown, bounded password hashing, an atomic sign-in throttle, NUL bytes,
//! sessions that end when they should, anonymous visitors who cost no rows,
//! and an incident list that stays fast at any depth.

use std::time::Duration;

use debrief::auth::domain::Role;
use futures_util::future::join_all;
use serde_json::{Value, json};

use crate::helpers::{Client, Options, TestApp, api_error};

/// Sends a wrong password for `email` from a fresh browser, with its own
/// visitor token.
async fn wrong_sign_in(app: &TestApp, email: &str) -> reqwest::Response {
    app.client().login(email, "not the password at all").await
}

// 1. The history diff is bounded.

#[tokio::test]
async fn revisions_too_large_to_compare_line_by_line_get_a_summary_instead() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (id, token) = app.open_incident(&editor).await;
    let patch = |version: i64, summary: String| {
        app.api(reqwest::Method::PATCH, &format!("/api/v1/incidents/{id}"), &token)
            .json(&json!({"version": version, "summary": summary}))
    };
    // Two revisions of a section with 49,000 lines each, every line changed.
    let first = "a\n".repeat(49_000);
    let second = "b\n".repeat(49_000);
    assert_eq!(patch(1, first).send().await.unwrap().status(), 200);
    assert_eq!(patch(2, second).send().await.unwrap().status(), 200);

    let response = client.get("/incidents/INC-1/history").await;

    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("too large to compare line by line"), "{}", &page[..2000.min(page.len())]);
    assert!(page.contains("The changes between them touched: Summary."), "names what changed");
    assert!(!page.contains("data-testid=\"diff\""), "no line diff is attempted");
}

// 2. Password hashing is bounded.

#[tokio::test]
async fn a_burst_of_sign_ins_past_the_hashing_threads_gets_503_with_retry_after() {
    let app = TestApp::spawn_with(Options {
        tweak: Some(Box::new(|config| {
            config.hash_threads = 1;
            config.hash_wait = Duration::from_millis(50);
        })),
        ..Options::default()
    })
    .await;
    let _someone = app.create_user(Role::Viewer).await;

    let app = &app;
    let attempts =
        (0..16).map(|n| async move { wrong_sign_in(app, &format!("nobody-{n}@example.com")).await });
    let responses = join_all(attempts).await;

    let mut refused = 0;
    let mut busy = 0;
    for response in responses {
        match response.status().as_u16() {
            401 => refused += 1,
            503 => {
                assert_eq!(response.headers()["retry-after"], "2");
                assert!(response.text().await.unwrap().contains("busy"));
                busy += 1;
            }
            other => panic!("unexpected {other}"),
        }
    }
    assert!(refused >= 1, "the first attempts are checked");
    assert!(busy >= 1, "the rest wait briefly, then are told to come back");
    // A refused-as-busy attempt was no guess: it is not counted.
    assert_eq!(app.count("select count(*) from login_attempt").await, refused);
}

// 3. The throttle holds under concurrency.

#[tokio::test]
async fn a_parallel_burst_for_one_account_gets_no_more_guesses_than_the_limit() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Editor).await;

    let responses = join_all((0..40).map(|_| wrong_sign_in(&app, &user.email))).await;

    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    let guesses = statuses.iter().filter(|s| **s == 401).count();
    let throttled = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!(guesses, 10, "{statuses:?}");
    assert_eq!(throttled, 30, "{statuses:?}");
    // The right password is refused too until the window passes.
    assert_eq!(app.client().login(&user.email, &user.password).await.status(), 429);
}

#[tokio::test]
async fn a_parallel_burst_from_one_address_gets_no_more_guesses_than_the_limit() {
    let app = TestApp::spawn().await;
    let _someone = app.create_user(Role::Viewer).await;

    let app = &app;
    let attempts =
        (0..60).map(|n| async move { wrong_sign_in(app, &format!("guess-{n}@example.com")).await });
    let responses = join_all(attempts).await;

    let statuses: Vec<u16> = responses.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(statuses.iter().filter(|s| **s == 401).count(), 30, "{statuses:?}");
    assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 30, "{statuses:?}");
}

// 4. Pathological Markdown nesting.

#[tokio::test]
async fn pathologically_nested_markdown_is_refused_at_save_time_naming_the_field() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (id, token) = app.open_incident(&editor).await;
    let quotes = ">".repeat(50_000) + " x";
    let lists = "- ".repeat(33_000) + "x";

    let api = app
        .api(reqwest::Method::PATCH, &format!("/api/v1/incidents/{id}"), &token)
        .json(&json!({"version": 1, "summary": quotes}))
        .send()
        .await
        .unwrap();
    let (status, _, message) = api_error(api).await;
    assert_eq!(status, 422);
    assert!(message.contains("summary") && message.contains("levels deep"), "{message}");

    let form = client
        .submit("/incidents/INC-1", "/incidents/INC-1/edit/summary", &[("version", "1"), ("summary", &lists)])
        .await;
    assert_eq!(form.status(), 422);
    let page = form.text().await.unwrap();
    assert!(page.contains("levels deep"), "the error is next to the field");

    let event = app
        .api(reqwest::Method::POST, &format!("/api/v1/incidents/{id}/timeline"), &token)
        .json(&json!({"occurred_at": "2026-11-20T14:05:00Z", "kind": "observation", "body": quotes}))
        .send()
        .await
        .unwrap();
    assert_eq!(event.status(), 422);
    let (summary, version): (String, i32) =
        sqlx::query_as("select summary, version from incident where id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((summary.as_str(), version), ("", 1), "nothing was saved");
    assert_eq!(app.count("select count(*) from timeline_event").await, 0);
}

#[tokio::test]
async fn deep_markdown_saved_before_the_limit_is_shown_as_text_at_once() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    app.open_incident(&editor).await;
    // As another process, or an older version of Debrief, left it.
    sqlx::query("update incident set summary = repeat('>', 50000) || ' x' where number = 1")
        .execute(&app.pool)
        .await
        .unwrap();

    let response = client.get("/incidents/INC-1").await;

    assert_eq!(response.status(), 200);
    let page = response.text().await.unwrap();
    assert!(page.contains("<pre class=\"markdown-unrendered\">&gt;&gt;&gt;"));
}

// 5. NUL bytes and invalid UTF-8.

#[tokio::test]
async fn a_nul_in_any_text_field_gets_422_naming_the_field() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (id, token) = app.open_incident(&editor).await;

    // Signing in needs no account to reach the database.
    let anonymous = app.client();
    let login = anonymous.login("a\0b@example.com", "whatever password").await;
    assert_eq!(login.status(), 422);
    assert!(login.text().await.unwrap().contains("email: text cannot contain a NUL character"));

    // From which page, to which action, with which fields, naming which field.
    type FormCase<'a> = (&'a str, &'a str, Vec<(&'a str, &'a str)>, &'a str);
    let forms: [FormCase; 4] = [
        ("/incidents/new", "/incidents/new", vec![("title", "a\0b"), ("severity", "SEV2")], "title"),
        (
            "/incidents/INC-1",
            "/incidents/INC-1/edit/summary",
            vec![("version", "1"), ("summary", "x\0")],
            "summary",
        ),
        (
            "/incidents/INC-1",
            "/incidents/INC-1/timeline",
            vec![("kind", "observation"), ("body", "\0")],
            "body",
        ),
        ("/account", "/account/tokens", vec![("name", "tok\0en")], "name"),
    ];
    for (from, action, fields, field) in forms {
        let response = client.submit(from, action, &fields).await;
        assert_eq!(response.status(), 422, "{action}");
        let page = response.text().await.unwrap();
        assert!(page.contains(&format!("{field}: text cannot contain a NUL character")), "{action}: {page}");
    }
    let query = client.get("/incidents?page=1%00").await;
    assert_eq!(query.status(), 422);

    let api_calls = [
        (
            reqwest::Method::POST,
            "/api/v1/incidents".to_owned(),
            json!({"title": "a\u{0}b", "severity": "SEV2", "started_at": "2026-11-20T14:00:00Z"}),
            "title",
        ),
        (
            reqwest::Method::PATCH,
            format!("/api/v1/incidents/{id}"),
            json!({"version": 1, "tags": ["ok", "b\u{0}"]}),
            "tags[1]",
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/incidents/{id}/timeline"),
            json!({"occurred_at": "2026-11-20T14:05:00Z", "kind": "observation", "body": "\u{0}"}),
            "body",
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/incidents/{id}/causes"),
            json!({"kind": "root", "category": "missing timeout", "description": "x\u{0}"}),
            "description",
        ),
        (
            reqwest::Method::POST,
            format!("/api/v1/incidents/{id}/action_items"),
            json!({"title": "\u{0}", "kind": "prevent"}),
            "title",
        ),
    ];
    for (method, path, body, field) in api_calls {
        let response = app.api(method, &path, &token).json(&body).send().await.unwrap();
        let (status, code, message) = api_error(response).await;
        assert_eq!((status, code.as_str()), (422, "unprocessable"), "{path}");
        assert!(message.starts_with(&format!("{field}: text cannot contain a NUL character")), "{message}");
    }
    assert_eq!(app.count("select count(*) from incident").await, 1, "nothing was written");
    assert_eq!(app.count("select count(*) from timeline_event").await, 0);
    assert_eq!(app.count("select count(*) from cause").await, 0);
    assert_eq!(app.count("select count(*) from action_item").await, 0);
}

#[tokio::test]
async fn invalid_utf8_in_a_body_is_a_client_error_never_a_500() {
    let app = TestApp::spawn().await;
    let (editor, client) = app.signed_in(Role::Editor).await;
    let (_, token) = app.open_incident(&editor).await;

    let json = app
        .api(reqwest::Method::POST, "/api/v1/incidents", &token)
        .header("content-type", "application/json")
        .body(
            b"{\"title\": \"\xff\xfe\", \"severity\": \"SEV2\", \"started_at\": \"2026-11-20T14:00:00Z\"}"
                .to_vec(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 400);

    let csrf = client.csrf_token("/incidents/new").await;
    let form = client
        .http
        .post(client.url("/incidents/new"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf_token={csrf}&title=%FF%FE&severity=SEV2&started_at=2026-11-20T14%3A00"))
        .send()
        .await
        .unwrap();
    assert!(form.status().is_client_error() || form.status() == 303, "{}", form.status());
}

// 6. A disabled account does not confirm its password.

#[tokio::test]
async fn a_disabled_account_answers_the_right_and_a_wrong_password_alike() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Editor).await;
    sqlx::query("update app_user set disabled = true where id = $1")
        .bind(user.id)
        .execute(&app.pool)
        .await
        .unwrap();

    let right = app.client().login(&user.email, &user.password).await;
    let wrong = app.client().login(&user.email, "not the password at all").await;

    assert_eq!(right.status(), wrong.status());
    assert_eq!(right.status(), 401);
    let message = |page: String| page.contains("That email and password do not match an account.");
    assert!(message(right.text().await.unwrap()) && message(wrong.text().await.unwrap()));
}

// 7. Signing out changes the session id.

#[tokio::test]
async fn signing_out_sends_back_a_new_session_id() {
    let app = TestApp::spawn().await;
    let (_, client) = app.signed_in(Role::Viewer).await;
    let signed_in = client.session_cookie().expect("a session");

    let response = client.submit("/", "/logout", &[]).await;

    assert_eq!(response.status(), 303);
    let after = client.session_cookie().expect("the flash message has a session of its own");
    assert_ne!(after, signed_in, "the signed-in id is worth nothing now");
    assert!(client.get_text("/login").await.contains("You have signed out."));
    let stolen = app.client();
    stolen.jar.add_cookie_str(&format!("debrief_session={signed_in}"), &app.address.parse().unwrap());
    assert_eq!(stolen.get("/").await.status(), 303, "the old id signs nobody in");
    assert_eq!(
        app.count(&format!("select count(*) from tower_sessions.session where id = '{signed_in}'")).await,
        0
    );
}

// 8. The idle expiry holds to within a few seconds.

#[tokio::test]
async fn a_session_in_use_outlives_its_idle_limit_and_an_idle_one_ends_just_after_it() {
    let app = TestApp::spawn_with(Options {
        tweak: Some(Box::new(|config| config.session_idle = Duration::from_secs(4))),
        ..Options::default()
    })
    .await;
    let (_, client) = app.signed_in(Role::Viewer).await;

    // Used every 2 s for 10 s: more than twice the idle limit.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(client.get("/").await.status(), 200, "still signed in");
    }
    // Then left alone for 4 s and the few seconds a use may go unwritten.
    tokio::time::sleep(Duration::from_millis(6500)).await;
    assert_eq!(client.get("/").await.status(), 303, "signed out once idle");
}

// 9. Anonymous visitors cost no rows.

#[tokio::test]
async fn a_flood_of_anonymous_page_views_stores_no_session() {
    let app = TestApp::spawn().await;
    let user = app.create_user(Role::Viewer).await;
    let before = app.count("select count(*) from tower_sessions.session").await;

    let views = join_all((0..200).map(|_| async { app.client().get("/login").await.status() })).await;

    assert!(views.iter().all(|status| *status == 200));
    assert_eq!(app.count("select count(*) from tower_sessions.session").await, before);
    // The sign-in form is still protected: without its cookie the token is refused.
    let token = crate::helpers::extract_csrf(&app.client().get_text("/login").await).unwrap();
    let forged = Client::new(&app.address)
        .post_form("/login", &[("csrf_token", &token), ("email", &user.email), ("password", &user.password)])
        .await;
    assert_eq!(forged.status(), 403);
    assert_eq!(app.client().login(&user.email, &user.password).await.status(), 303);
}

// 10. The incident list at depth.

#[tokio::test]
async fn adding_to_the_timeline_does_not_rewrite_the_incident_row() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let (id, token) = app.open_incident(&editor).await;
    let row_version = || async {
        sqlx::query_scalar::<_, String>("select xmin::text from incident where id = $1::uuid")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap()
    };
    let before = row_version().await;

    let added = app
        .api(reqwest::Method::POST, &format!("/api/v1/incidents/{id}/timeline"), &token)
        .json(&json!({"occurred_at": "2026-11-20T14:05:00Z", "kind": "observation", "body": "p99 up"}))
        .send()
        .await
        .unwrap();

    assert_eq!(added.status(), 201);
    assert_eq!(row_version().await, before, "the incident row itself is untouched");
}

#[tokio::test]
async fn pages_deep_in_a_long_list_show_the_right_incidents_and_follow_changes() {
    let app = TestApp::spawn().await;
    let editor = app.create_user(Role::Editor).await;
    let token = app.api_token(&editor).await;
    debrief::demo::generate::generate_incidents(&app.pool, 2_500, |_| {}).await.unwrap();
    let expected = |offset: i64| {
        let pool = app.pool.clone();
        async move {
            sqlx::query_scalar::<_, i32>(
                "select number from incident order by started_at desc, number desc limit 50 offset $1",
            )
            .bind(offset)
            .fetch_all(&pool)
            .await
            .unwrap()
        }
    };
    let (app, token) = (&app, &token);
    let listed = |page: i64| {
        let path = format!("/api/v1/incidents?per_page=50&page={page}");
        async move {
            let body: Value = app.api_json(&path, token).await;
            let numbers: Vec<i32> = body["incidents"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i["number"].as_i64().unwrap() as i32)
                .collect();
            (numbers, body["total"].as_i64().unwrap(), body)
        }
    };

    for page in [1, 21, 43, 50] {
        let (numbers, total, _) = listed(page).await;
        assert_eq!(total, 2_500);
        assert_eq!(numbers, expected((page - 1) * 50).await, "page {page}");
    }
    let (past_the_end, _, body) = listed(51).await;
    assert!(past_the_end.is_empty());
    assert!(body["incidents"].as_array().is_some());

    // An incident older than all others lands at the very end; one newer than
    // all at the very start, shifting every page by one.
    for started in ["1990-01-01T00:00:00Z", "2099-01-01T00:00:00Z"] {
        let created = app
            .api(reqwest::Method::POST, "/api/v1/incidents", token)
            .json(&json!({"title": "Moved the order", "severity": "SEV4", "started_at": started}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let (numbers, total, _) = listed(43).await;
        assert_eq!(numbers, expected(42 * 50).await, "after an incident from {started}");
        assert!(total > 2_500);
    }
    let (_, _, body) = listed(1).await;
    let first = &body["incidents"][0];
    assert_eq!(first["title"], "Moved the order");
    assert!(
        first.get("summary").is_none() && first.get("impact").is_none(),
        "a list carries no Markdown: {first}"
    );
}

#[tokio::test]
async fn the_bulk_generator_leaves_its_tables_vacuumed_and_analysed() {
    let app = TestApp::spawn().await;

    debrief::demo::generate::generate_incidents(&app.pool, 300, |_| {}).await.unwrap();

    let (dead, analysed): (i64, bool) = sqlx::query_as(
        "select n_dead_tup, last_analyze is not null from pg_stat_user_tables where relname = 'incident'",
    )
    .fetch_one(&app.pool)
    .await
    .unwrap();
    assert_eq!(dead, 0);
    assert!(analysed);
}
