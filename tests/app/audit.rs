//! The audit trail: each security- or data-relevant event recorded once,
//! with its actor; the admins' page, download and API with their filters;
//! and a table the app can only append to, pruned after its retention.

use std::collections::HashMap;

use debrief::auth::domain::Role;
use reqwest::Method;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::helpers::{Client, Options, TestApp, TestUser, api_error};

/// One row of the trail, as the tests read it.
#[derive(Debug, sqlx::FromRow)]
struct Recorded {
    action: String,
    actor_id: Option<Uuid>,
    actor: Option<String>,
    address: Option<String>,
    target: Option<String>,
}

async fn recorded(app: &TestApp) -> Vec<Recorded> {
    sqlx::query_as("select action, actor_id, actor, address, target from audit_event order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// The one event with `action`, failing when there is none or several.
fn only<'a>(events: &'a [Recorded], action: &str) -> &'a Recorded {
    let found: Vec<&Recorded> = events.iter().filter(|event| event.action == action).collect();
    assert_eq!(found.len(), 1, "{action} is recorded exactly once: {events:#?}");
    found[0]
}

/// Makes a token on the account page; the token, shown that once.
async fn token_from_account_page(client: &Client, name: &str) -> String {
    let page = client.submit("/account", "/account/tokens", &[("name", name)]).await.text().await.unwrap();
    page.split("data-testid=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_owned()
}

/// Ten failures for `email` within the window, as if guessed at: the next
/// attempt is throttled.
async fn ten_failures_for(app: &TestApp, email: &str) {
    sqlx::query(
        "insert into login_attempt (email, client_ip, succeeded) \
         select $1, '198.51.100.9', false from generate_series(1, 10)",
    )
    .bind(email)
    .execute(&app.pool)
    .await
    .unwrap();
}

#[tokio::test]
async fn each_audit_event_is_recorded_once_with_its_actor() {
    let app = TestApp::spawn().await;
    let admin_user = app.create_user(Role::Admin).await;
    let editor = app.create_user(Role::Editor).await;
    let admin = app.client();

    // Signing in, a wrong password, a throttled attempt.
    assert_eq!(admin.login(&admin_user.email, &admin_user.password).await.status(), 303);
    assert_eq!(app.client().login(&admin_user.email, "not the password at all").await.status(), 401);
    ten_failures_for(&app, "victim@example.com").await;
    assert_eq!(app.client().login("victim@example.com", "a guess").await.status(), 429);

    // A token made on the account page, used twice: one first use.
    let token = token_from_account_page(&admin, "audit hook").await;
    let body = json!({"title": "Checkout 5xx", "severity": "SEV2", "started_at": "2026-11-20T14:00:00Z"});
    let opened = app.api(Method::POST, "/api/v1/incidents", &token).json(&body).send().await.unwrap();
    assert_eq!(opened.status(), 201);
    app.api_json("/api/v1/me", &token).await;

    // Exports of one report and of all, an import, a deletion.
    let report = admin.get("/incidents/INC-1/export.md").await;
    assert_eq!(report.status(), 200);
    let report = report.text().await.unwrap();
    let zip = admin.get("/incidents/export.zip").await;
    assert_eq!(zip.status(), 200);
    zip.bytes().await.unwrap();
    let imported = admin.submit("/incidents/import", "/incidents/import", &[("report", &report)]).await;
    assert_eq!(imported.headers()["location"], "/incidents/INC-2");
    let deleted =
        admin.submit("/incidents/INC-2/delete", "/incidents/INC-2/delete", &[("confirm", "INC-2")]).await;
    assert_eq!(deleted.status(), 303);

    // An editor's role changed, then disabled and enabled again.
    let users = "/admin/users";
    let editor_path = format!("/admin/users/{}", editor.id);
    let changed = admin.submit(users, &format!("{editor_path}/role"), &[("role", "viewer")]).await;
    assert_eq!(changed.status(), 303);
    assert_eq!(admin.submit(users, &format!("{editor_path}/disable"), &[]).await.status(), 303);
    assert_eq!(admin.submit(users, &format!("{editor_path}/enable"), &[]).await.status(), 303);

    // A webhook added, changed and deleted.
    let fields = [("url", "https://hooks.example.com/debrief"), ("format", "json"), ("events", "published")];
    let added = admin.submit("/admin/webhooks", "/admin/webhooks", &fields).await;
    let webhook = added.headers()["location"].to_str().unwrap().to_owned();
    let fields = [("url", "https://hooks.example.com/debrief"), ("format", "slack"), ("events", "approved")];
    assert_eq!(admin.submit(&webhook, &webhook, &fields).await.status(), 303);
    assert_eq!(admin.submit(&webhook, &format!("{webhook}/delete"), &[]).await.status(), 303);

    // The token revoked, the password changed, and signing out.
    let token_id: Uuid = sqlx::query_scalar("select id from api_token where name = 'audit hook'")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    let revoked = admin.submit("/account", &format!("/account/tokens/{token_id}/revoke"), &[]).await;
    assert_eq!(revoked.status(), 303);
    let new_password = "a brand new password for the audit";
    let fields = [
        ("current_password", admin_user.password.as_str()),
        ("new_password", new_password),
        ("new_password_confirm", new_password),
    ];
    assert_eq!(admin.submit("/account", "/account/password", &fields).await.status(), 303);
    assert_eq!(admin.submit("/account", "/logout", &[]).await.status(), 303);

    let events = recorded(&app).await;
    let by_admin = [
        "signin",
        "token.created",
        "token.first_use",
        "export.report",
        "export.zip",
        "import",
        "incident.deleted",
        "role.changed",
        "user.disabled",
        "user.enabled",
        "webhook.created",
        "webhook.changed",
        "webhook.deleted",
        "token.revoked",
        "password.changed",
        "signout",
    ];
    let admin_named = format!("{} <{}>", admin_user.name, admin_user.email);
    for action in by_admin {
        let event = only(&events, action);
        assert_eq!(event.actor_id, Some(admin_user.id), "{action} is the admin's");
        assert_eq!(event.actor.as_deref(), Some(admin_named.as_str()), "{action} names the admin");
        assert_eq!(event.address.as_deref(), Some("127.0.0.1"), "{action} has the admin's address");
    }
    let failed = only(&events, "signin.failed");
    assert_eq!((failed.actor_id, failed.actor.as_deref()), (None, Some(admin_user.email.as_str())));
    assert_eq!(failed.address.as_deref(), Some("127.0.0.1"));
    let throttled = only(&events, "signin.throttled");
    assert_eq!((throttled.actor_id, throttled.actor.as_deref()), (None, Some("victim@example.com")));
    assert_eq!(throttled.address.as_deref(), Some("127.0.0.1"));
    assert_eq!(events.len(), by_admin.len() + 2, "nothing else was recorded: {events:#?}");

    // The targets name what was acted on, never a secret.
    let editor_named = format!("{} <{}>", editor.name, editor.email);
    assert_eq!(only(&events, "role.changed").target.as_deref(), Some(editor_named.as_str()));
    assert_eq!(only(&events, "incident.deleted").target.as_deref(), Some("INC-2"));
    assert_eq!(only(&events, "export.report").target.as_deref(), Some("INC-1"));
    assert_eq!(only(&events, "webhook.created").target.as_deref(), Some("hooks.example.com"));
    let token_target = only(&events, "token.first_use").target.clone().unwrap();
    assert!(token_target.starts_with("\"audit hook\" (dbr_"), "{token_target}");
    assert!(!token_target.contains(&token[8..]), "the token itself is never recorded");
    let details: Vec<String> =
        sqlx::query_scalar("select detail::text from audit_event").fetch_all(&app.pool).await.unwrap();
    assert!(details.iter().all(|detail| !detail.contains("not the password") && !detail.contains(&token)));

    // The account page shows when the token was first and last used.
    let (first, last): (Option<time::OffsetDateTime>, Option<time::OffsetDateTime>) =
        sqlx::query_as("select first_used_at, last_used_at from api_token where id = $1")
            .bind(token_id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(first.is_some() && first == last, "one use noted within the minute");
    let account = admin_page_after_signing_in_again(&app, &admin_user.email, new_password).await;
    assert!(account.contains("<th>First used</th>") && account.contains("<th>Last used</th>"));
}

async fn admin_page_after_signing_in_again(app: &TestApp, email: &str, password: &str) -> String {
    let client = app.client();
    assert_eq!(client.login(email, password).await.status(), 303);
    client.get_text("/account").await
}

/// Runs the `debrief` binary on the test app's database.
fn debrief(app: &TestApp, args: &[&str], stdin: &str) -> std::process::Output {
    let url = format!("{}/{}", crate::helpers::server_url(), app.database);
    crate::cli::debrief(&url, args, stdin)
}

#[tokio::test]
async fn users_and_tokens_made_on_the_command_line_are_recorded_as_the_clis() {
    let app = TestApp::spawn().await;
    let args = ["user", "create", "--email", "ops@example.com", "--name", "Ops", "--role", "admin"];
    assert!(debrief(&app, &args, "a password from stdin\n").status.success());
    let args = ["token", "create", "--email", "ops@example.com", "--name", "deploys"];
    assert!(debrief(&app, &args, "").status.success());

    let events = recorded(&app).await;
    assert_eq!(events.len(), 2, "{events:#?}");
    for (action, target) in
        [("user.created", "Ops <ops@example.com>"), ("token.created", "\"deploys\" (dbr_")]
    {
        let event = only(&events, action);
        assert_eq!(
            (event.actor_id, event.actor.as_deref(), event.address.as_deref()),
            (None, Some("cli"), None)
        );
        assert!(event.target.as_deref().is_some_and(|t| t.starts_with(target)), "{event:?}");
    }
}

/// Signs `user` in from a client of its own, for one `signin` event.
async fn sign_in(app: &TestApp, user: &TestUser) {
    assert_eq!(app.client().login(&user.email, &user.password).await.status(), 303);
}

#[tokio::test]
async fn admins_filter_download_and_list_the_trail_and_nobody_else_does() {
    let app = TestApp::spawn().await;
    let (admin_user, admin) = app.signed_in(Role::Admin).await;
    let (editor_user, editor) = app.signed_in(Role::Editor).await;
    sign_in(&app, &editor_user).await;
    app.client().login("stranger@example.com", "a guess").await;

    // The page: every event, then only the failed sign-in, found by action,
    // by a piece of the email typed, and by address.
    let page = admin.get_text("/admin/audit").await;
    assert_eq!(page.matches("data-testid=\"audit-event\"").count(), 4);
    assert!(page.contains("Download as JSON lines"));
    for filter in ["action=signin.failed", "actor=STRANGER%40", "actor=stranger&address=127.0."] {
        let page = admin.get_text(&format!("/admin/audit?{filter}")).await;
        assert_eq!(page.matches("data-testid=\"audit-event\"").count(), 1, "{filter}");
        assert!(page.contains("stranger@example.com"), "{filter}");
        let download = format!("/admin/audit.jsonl?{}", filter.replace('&', "&#38;"));
        assert!(page.contains(&download), "the download keeps the filters: {filter}");
    }
    let named = admin.get_text(&format!("/admin/audit?actor={}", editor_user.name.replace(' ', "+"))).await;
    assert_eq!(named.matches("data-testid=\"audit-event\"").count(), 2, "the editor signed in twice");
    let tomorrow = time::OffsetDateTime::now_utc().date().next_day().unwrap();
    let later = admin.get_text(&format!("/admin/audit?from={tomorrow}")).await;
    assert!(later.contains("data-testid=\"no-audit-events\""));
    let paged = admin.get_text("/admin/audit?per_page=1&page=2").await;
    assert_eq!(paged.matches("data-testid=\"audit-event\"").count(), 1);
    assert!(paged.contains("rel=\"prev\"") && paged.contains("rel=\"next\""));
    assert_eq!(admin.get("/admin/audit?action=signin.hacked").await.status(), 400);

    // The download: JSON lines, newest first, with the same filters.
    let download = admin.get("/admin/audit.jsonl?action=signin").await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "application/x-ndjson");
    assert!(download.headers()["content-disposition"].to_str().unwrap().starts_with("attachment"));
    let text = download.text().await.unwrap();
    let lines: Vec<Value> = text.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(|line| line["action"] == "signin"));
    assert_eq!(lines[2]["actor_id"], admin_user.id.to_string(), "the admin signed in first");
    assert!(lines[0]["id"].as_i64() > lines[1]["id"].as_i64());

    // The API: admins only, same shape.
    let admin_token = app.api_token(&admin_user).await;
    let listed = app.api_json("/api/v1/audit?action=signin.failed", &admin_token).await;
    assert_eq!(listed["total"], 1);
    assert_eq!((listed["page"].as_i64(), listed["per_page"].as_i64()), (Some(1), Some(50)));
    let event = &listed["events"][0];
    for field in ["id", "at", "action", "actor_id", "actor", "address", "target", "detail"] {
        assert!(event.get(field).is_some(), "{field} in {event}");
    }
    assert_eq!(event["actor"], "stranger@example.com");
    assert_eq!(event["address"], "127.0.0.1");
    let editor_token = app.api_token(&editor_user).await;
    let refused = app.api(Method::GET, "/api/v1/audit", &editor_token).send().await.unwrap();
    assert_eq!(api_error(refused).await.0, 403);
    let refused = app.api(Method::GET, "/api/v1/audit", &editor_token).send().await.unwrap();
    assert_eq!(api_error(refused).await.1, "forbidden");
    let bad = app.api(Method::GET, "/api/v1/audit?from=yesterday", &admin_token).send().await.unwrap();
    assert_eq!(api_error(bad).await.0, 400);
    assert_eq!(editor.get("/admin/audit").await.status(), 403);
    assert_eq!(editor.get("/admin/audit.jsonl").await.status(), 403);
    assert!(!editor.get_text("/").await.contains("href=\"/admin/audit\""), "no link for editors");
    assert!(admin.get_text("/").await.contains("href=\"/admin/audit\""));
}

#[tokio::test]
async fn the_app_cannot_change_or_delete_the_trail_and_the_prune_removes_only_old_events() {
    // The app's own hourly prune is off: the test prunes when it means to.
    let vars = HashMap::from([("DEBRIEF_AUDIT_RETENTION_DAYS".to_owned(), "0".to_owned())]);
    let app = TestApp::spawn_with(Options { vars, ..Options::default() }).await;
    sqlx::query(
        "insert into audit_event (at, action, actor) values \
         (now() - interval '400 days', 'signin', 'old'), (now() - interval '10 days', 'signin', 'recent')",
    )
    .execute(&app.pool)
    .await
    .unwrap();

    for refused in
        ["update audit_event set actor = 'someone else'", "delete from audit_event", "truncate audit_event"]
    {
        let err = sqlx::query(refused).execute(&app.pool).await.expect_err(refused);
        assert!(err.to_string().contains("append-only"), "{refused}: {err}");
    }
    assert_eq!(app.count("select count(*) from audit_event").await, 2);

    assert_eq!(debrief::audit::db::prune(&app.pool, 0).await.unwrap(), 0, "0 days keeps them forever");
    assert_eq!(debrief::audit::db::prune(&app.pool, 365).await.unwrap(), 1);
    let kept: Vec<String> =
        sqlx::query_scalar("select actor from audit_event").fetch_all(&app.pool).await.unwrap();
    assert_eq!(kept, ["recent"]);
    let err = sqlx::query("delete from audit_event").execute(&app.pool).await;
    assert!(err.is_err(), "the prune's permission ended with its transaction");
}
