//! Outbound webhooks: set up by admins on their page, queued with the
//! change they tell of, delivered from the durable queue to a real HTTP
//! receiver started by each test, signed, retried with back-off, given up
//! after the last attempt, and never in the way of a request.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use axum::{
    body::Bytes,
    extract::State,
    http::{HeaderMap, StatusCode},
    routing::post,
};
use debrief::{
    auth::domain::Role,
    notify::{Actor, Event, Kind},
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::PgPool;
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::helpers::{Client, Options, TestApp};

/// What a receiver was sent.
#[derive(Debug, Clone)]
struct Received {
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).and_then(|value| value.to_str().ok()).unwrap_or_default()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("the body is JSON")
    }
}

#[derive(Default)]
struct Script {
    /// The statuses to answer with, in order; 200 once they run out.
    statuses: Mutex<VecDeque<u16>>,
    received: Mutex<Vec<Received>>,
}

/// An HTTP endpoint on 127.0.0.1 that records what it is posted and
/// answers as scripted; stopped when dropped.
struct Receiver {
    url: String,
    script: Arc<Script>,
    server: tokio::task::JoinHandle<()>,
}

impl Receiver {
    async fn start(statuses: &[u16]) -> Receiver {
        let script = Arc::new(Script {
            statuses: Mutex::new(statuses.iter().copied().collect()),
            ..Default::default()
        });
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let router = axum::Router::new().route("/hook", post(record)).with_state(script.clone());
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        Receiver { url, script, server }
    }

    fn received(&self) -> Vec<Received> {
        self.script.received.lock().unwrap().clone()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn record(State(script): State<Arc<Script>>, headers: HeaderMap, body: Bytes) -> StatusCode {
    script.received.lock().unwrap().push(Received { headers, body });
    let status = script.statuses.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

/// An endpoint that takes the connection and never answers.
struct Silent {
    url: String,
    accepted: Arc<Mutex<usize>>,
    server: tokio::task::JoinHandle<()>,
}

impl Silent {
    async fn start() -> Silent {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let accepted = Arc::new(Mutex::new(0));
        let counted = accepted.clone();
        let server = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                *counted.lock().unwrap() += 1;
                held.push(socket);
            }
        });
        Silent { url, accepted, server }
    }

    fn accepted(&self) -> usize {
        *self.accepted.lock().unwrap()
    }
}

impl Drop for Silent {
    fn drop(&mut self) {
        self.server.abort();
    }
}

/// An app whose deliveries give up fast and retry at once.
async fn spawn_fast(timeout_ms: u32, attempts: u32) -> TestApp {
    let vars = HashMap::from([
        ("DEBRIEF_WEBHOOK_TIMEOUT_MS".to_owned(), timeout_ms.to_string()),
        ("DEBRIEF_WEBHOOK_BACKOFF_MS".to_owned(), "20".to_owned()),
        ("DEBRIEF_WEBHOOK_ATTEMPTS".to_owned(), attempts.to_string()),
    ]);
    TestApp::spawn_with(Options { vars, ..Default::default() }).await
}

/// Adds a webhook through the admin page; its id.
async fn add_webhook(admin: &Client, url: &str, format: &str, secret: &str, events: &[&str]) -> Uuid {
    let mut fields = vec![("url", url), ("format", format), ("secret", secret)];
    fields.extend(events.iter().map(|event| ("events", *event)));
    let response = admin.submit("/admin/webhooks", "/admin/webhooks", &fields).await;
    assert_eq!(response.status(), 303, "the webhook is added");
    let location = response.headers()["location"].to_str().unwrap();
    location.strip_prefix("/admin/webhooks/").unwrap().parse().unwrap()
}

/// Records that `editor`'s incident INC-1 was `kind`, as the change itself
/// would: in a transaction, then the deliverer is left to notice.
async fn emit(app: &TestApp, kind: Kind) {
    let editor = app.create_user(Role::Editor).await;
    let (id, _) = app.open_incident(&editor).await;
    let incident =
        debrief::incidents::db::find_incident(&app.pool, id.parse().unwrap()).await.unwrap().unwrap();
    let user = debrief::auth::db::find_user(&app.pool, editor.id).await.unwrap().unwrap();
    let actor = Actor::from(&user);
    let event = Event {
        kind,
        incident: &incident,
        actor: Some(&actor),
        recipients: vec![],
        text: format!("{} published INC-1: Checkout 5xx <&>", actor.name),
        path: "/incidents/INC-1".into(),
    };
    let mut tx = app.pool.begin().await.unwrap();
    debrief::notify::emit(&mut tx, &app.address, &event).await.unwrap();
    tx.commit().await.unwrap();
}

/// The state of the webhook's only delivery once it is `wanted`, waiting
/// up to 10 s.
async fn await_state(pool: &PgPool, webhook: Uuid, wanted: &str) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let state: Option<String> =
            sqlx::query_scalar("select state from webhook_delivery where webhook_id = $1")
                .bind(webhook)
                .fetch_optional(pool)
                .await
                .unwrap();
        if state.as_deref() == Some(wanted) {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the delivery is still {state:?}, not {wanted}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The attempts of the webhook's delivery: (number, status, error, ms).
async fn attempts(pool: &PgPool, webhook: Uuid) -> Vec<(i32, Option<i32>, Option<String>, i32)> {
    sqlx::query_as(
        "select a.attempt, a.status, a.error, a.duration_ms from webhook_attempt a \
         join webhook_delivery d on d.id = a.delivery_id where d.webhook_id = $1 order by a.attempt",
    )
    .bind(webhook)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// HMAC-SHA256 as RFC 2104 has it, written apart from the app's own, so
/// that the receiver checks the signature independently.
fn hmac_hex(key: &[u8], body: &[u8]) -> String {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.iter().map(|b| b ^ 0x36).collect::<Vec<u8>>());
    inner.update(body);
    let mut outer = Sha256::new();
    outer.update(block.iter().map(|b| b ^ 0x5c).collect::<Vec<u8>>());
    outer.update(inner.finalize());
    outer.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn a_webhook_added_on_its_page_is_delivered_a_signed_event() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[]).await;
    let (_, admin) = app.signed_in(Role::Admin).await;

    // Arrange: no secret given, so one is generated and shown once.
    let webhook = add_webhook(&admin, &receiver.url, "json", "", &["published", "approved"]).await;
    let page = admin.get_text(&format!("/admin/webhooks/{webhook}")).await;
    let marker = "shown this once only: ";
    let start = page.find(marker).expect("the new secret is shown") + marker.len();
    let secret: String =
        page[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || "-_".contains(*c)).collect();
    assert_eq!(secret.len(), 43, "32 random bytes, base64url: {secret}");
    let again = admin.get_text(&format!("/admin/webhooks/{webhook}")).await;
    assert!(!again.contains(&secret), "the secret is never shown again");
    assert!(again.contains(&format!("…{}", &secret[secret.len() - 4..])), "only how it ends");

    // Act: an event it wants, and one it does not.
    emit(&app, Kind::Published).await;
    let mut db = app.pool.acquire().await.unwrap();
    debrief::notify::webhooks::enqueue(&mut db, Kind::Comment, "{}", "{}").await.unwrap();
    drop(db);
    await_state(&app.pool, webhook, "delivered").await;

    // Assert
    let received = receiver.received();
    assert_eq!(received.len(), 1, "one delivery, of the event it wants");
    let delivery = &received[0];
    assert_eq!(
        delivery.header("x-debrief-signature"),
        format!("sha256={}", hmac_hex(secret.as_bytes(), &delivery.body))
    );
    assert_eq!(delivery.header("content-type"), "application/json");
    assert_eq!(delivery.header("user-agent"), "Debrief-Webhook/1");
    assert_eq!(delivery.header("x-debrief-event"), "published");
    let id: Uuid = sqlx::query_scalar("select id from webhook_delivery where webhook_id = $1")
        .bind(webhook)
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(delivery.header("x-debrief-delivery"), id.to_string());
    let body = delivery.json();
    assert_eq!(body["event"], "published");
    assert_eq!(body["incident"]["ref"], "INC-1");
    assert_eq!(body["incident"]["title"], "Checkout 5xx");
    assert_eq!(body["link"], format!("{}/incidents/INC-1", app.address));
    let logged = attempts(&app.pool, webhook).await;
    assert_eq!(logged.len(), 1);
    assert_eq!((logged[0].0, logged[0].1, logged[0].2.clone()), (1, Some(200), None));
    let page = admin.get_text(&format!("/admin/webhooks/{webhook}")).await;
    assert!(page.contains(r#"data-state="delivered""#), "the log shows it delivered");
}

#[tokio::test]
async fn a_receiver_failing_twice_gets_the_third_attempt_and_each_is_logged() {
    let app = spawn_fast(2000, 5).await;
    let receiver = Receiver::start(&[500, 500]).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let webhook =
        add_webhook(&admin, &receiver.url, "json", "a-secret-of-our-own-choosing", &["approved"]).await;

    emit(&app, Kind::Approved).await;
    await_state(&app.pool, webhook, "delivered").await;

    let logged = attempts(&app.pool, webhook).await;
    let statuses: Vec<(i32, Option<i32>)> = logged.iter().map(|a| (a.0, a.1)).collect();
    assert_eq!(statuses, [(1, Some(500)), (2, Some(500)), (3, Some(200))]);
    assert!(logged[0].2.as_deref().unwrap().contains("500"), "{:?}", logged[0].2);
    let received = receiver.received();
    assert_eq!(received.len(), 3);
    assert!(
        received.iter().all(|r| r.header("x-debrief-delivery") == received[0].header("x-debrief-delivery"))
    );
    assert!(received.iter().all(|r| r.body == received[0].body), "the same bytes each time");
    let (count, last_status): (i32, Option<i32>) =
        sqlx::query_as("select attempts, last_status from webhook_delivery where webhook_id = $1")
            .bind(webhook)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!((count, last_status), (3, Some(200)));
}

#[tokio::test]
async fn a_receiver_that_never_answers_fails_after_the_last_attempt_without_slowing_requests() {
    let app = spawn_fast(300, 2).await;
    let silent = Silent::start().await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let webhook =
        add_webhook(&admin, &silent.url, "json", "a-secret-of-our-own-choosing", &["published"]).await;

    emit(&app, Kind::Published).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while silent.accepted() == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the delivery connects");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    // A delivery hangs now: the app answers as fast as ever.
    let started = std::time::Instant::now();
    let health = app.client().get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert!(started.elapsed() < Duration::from_millis(250), "answered in {:?}", started.elapsed());

    await_state(&app.pool, webhook, "failed").await;
    let logged = attempts(&app.pool, webhook).await;
    assert_eq!(logged.len(), 2, "{logged:?}");
    for (number, (attempt, status, error, duration_ms)) in logged.iter().enumerate() {
        assert_eq!(*attempt, number as i32 + 1);
        assert_eq!(*status, None);
        assert_eq!(error.as_deref(), Some("no answer within 300 ms"));
        assert!((250..5000).contains(duration_ms), "gave up near the timeout: {duration_ms} ms");
    }
    assert!(silent.accepted() >= 2);
    let page = admin.get_text(&format!("/admin/webhooks/{webhook}")).await;
    assert!(page.contains("no answer within 300 ms"), "the log says why");
}

#[tokio::test]
async fn a_slack_webhook_gets_only_a_text_with_the_link() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[]).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let secret = "slack-signing-secret-1234";
    let webhook = add_webhook(&admin, &receiver.url, "slack", secret, &["published"]).await;

    emit(&app, Kind::Published).await;
    await_state(&app.pool, webhook, "delivered").await;

    let received = receiver.received();
    assert_eq!(received.len(), 1);
    let body = received[0].json();
    let fields: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(fields, ["text"], "{body}");
    let text = body["text"].as_str().unwrap();
    assert!(text.contains(&format!("<{}/incidents/INC-1|INC-1>", app.address)), "{text}");
    assert!(text.contains("Checkout 5xx &lt;&amp;&gt;"), "Slack's markup is escaped: {text}");
    assert_eq!(
        received[0].header("x-debrief-signature"),
        format!("sha256={}", hmac_hex(secret.as_bytes(), &received[0].body))
    );
}

#[tokio::test]
async fn only_admins_reach_the_webhooks_and_a_bad_form_adds_nothing() {
    let app = TestApp::spawn().await;
    for role in [Role::Viewer, Role::Editor] {
        let (_, client) = app.signed_in(role).await;
        assert_eq!(client.get("/admin/webhooks").await.status(), 403, "{role} may not see them");
        let fields = [("url", "https://example.com/hook"), ("events", "published"), ("format", "json")];
        let response = client.submit("/account", "/admin/webhooks", &fields).await;
        assert_eq!(response.status(), 403, "{role} may not add one");
    }

    let (_, admin) = app.signed_in(Role::Admin).await;
    let cases: [(&[(&str, &str)], &str); 5] = [
        (&[("url", "ftp://example.com/hook"), ("events", "published")], "starts with https://"),
        (&[("url", "not a url"), ("events", "published")], "not a web address"),
        (&[("url", "https://example.com/hook")], "at least one event"),
        (&[("url", "https://example.com/hook"), ("events", "exploded")], "is not an event"),
        (&[("url", "https://example.com/hook"), ("events", "published"), ("secret", "short")], "16 to 200"),
    ];
    for (fields, message) in cases {
        let mut fields = fields.to_vec();
        fields.push(("format", "json"));
        let response = admin.submit("/admin/webhooks", "/admin/webhooks", &fields).await;
        assert_eq!(response.status(), 422, "{fields:?}");
        let page = response.text().await.unwrap();
        assert!(page.contains(message), "{fields:?} says {message:?}");
        assert!(page.contains(r#"class="field-error""#), "next to its field");
    }
    assert_eq!(app.count("select count(*) from webhook").await, 0, "nothing was added");
}

#[tokio::test]
async fn an_admin_sends_a_test_changes_the_settings_and_deletes_the_webhook() {
    let app = TestApp::spawn().await;
    let receiver = Receiver::start(&[]).await;
    let (_, admin) = app.signed_in(Role::Admin).await;
    let secret = "first-secret-of-twenty";
    let webhook = add_webhook(&admin, &receiver.url, "json", secret, &["published"]).await;
    let page = format!("/admin/webhooks/{webhook}");

    let test = admin.submit(&page, &format!("{page}/test"), &[]).await;
    assert_eq!(test.status(), 303);
    await_state(&app.pool, webhook, "delivered").await;
    let received = receiver.received();
    assert_eq!(received[0].header("x-debrief-event"), "test");
    assert_eq!(received[0].json()["event"], "test");
    assert_eq!(
        received[0].header("x-debrief-signature"),
        format!("sha256={}", hmac_hex(secret.as_bytes(), &received[0].body))
    );

    // Switched off, with a new secret: no more deliveries queued for it.
    let fields = [
        ("url", receiver.url.as_str()),
        ("events", "approved"),
        ("format", "slack"),
        ("secret", "second-secret-of-twenty"),
    ];
    assert_eq!(admin.submit(&page, &page, &fields).await.status(), 303);
    let (events, format, active, stored): (Vec<String>, String, bool, String) =
        sqlx::query_as("select events, format, active, secret from webhook where id = $1")
            .bind(webhook)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        (events, format.as_str(), active, stored.as_str()),
        (vec!["approved".to_owned()], "slack", false, "second-secret-of-twenty")
    );
    emit(&app, Kind::Approved).await;
    assert_eq!(
        app.count("select count(*) from webhook_delivery").await,
        1,
        "an inactive webhook is not queued for"
    );
    let bad = admin.submit(&page, &page, &[("url", "https://example.com"), ("format", "json")]).await;
    assert_eq!(bad.status(), 422, "no event chosen");

    let deleted = admin.submit(&page, &format!("{page}/delete"), &[]).await;
    assert_eq!(deleted.status(), 303);
    assert_eq!(app.count("select count(*) from webhook").await, 0);
    assert_eq!(app.count("select count(*) from webhook_delivery").await, 0, "its log goes with it");
    assert_eq!(admin.get(&page).await.status(), 404);
}
