//! The app under trouble: the database going away and coming back, being
//! stopped, and what it writes to its log.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use debrief::auth::domain::Role;
use tokio::{net::TcpListener, sync::Mutex, task::JoinSet};
use tracing_subscriber::layer::SubscriberExt;

use crate::helpers::{LogCapture, Options, TestApp};

/// A TCP relay to PostgreSQL that a test can cut and restore, standing in
/// for the database server going down and coming back on the same address.
struct FlakyLink {
    address: SocketAddr,
    relays: Arc<Mutex<Option<JoinSet<()>>>>,
}

impl FlakyLink {
    async fn start() -> FlakyLink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        let link = FlakyLink { address, relays: Arc::new(Mutex::new(None)) };
        link.serve(listener).await;
        link
    }

    async fn serve(&self, listener: TcpListener) {
        let mut relays = JoinSet::new();
        relays.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((mut client, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut server) = tokio::net::TcpStream::connect("127.0.0.1:5432").await {
                        let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                    }
                });
            }
        });
        *self.relays.lock().await = Some(relays);
    }

    /// Drops every open connection and refuses new ones.
    async fn cut(&self) {
        if let Some(mut relays) = self.relays.lock().await.take() {
            relays.shutdown().await;
        }
    }

    async fn restore(&self) {
        let listener = TcpListener::bind(self.address).await.expect("the link's port is free again");
        self.serve(listener).await;
    }
}

#[tokio::test]
async fn losing_the_database_gives_quick_503s_and_the_app_recovers_without_a_restart() {
    let link = FlakyLink::start().await;
    let app = TestApp::spawn_with(Options {
        database_host: Some(link.address.to_string()),
        vars: [("DEBRIEF_DB_ACQUIRE_TIMEOUT_MS".to_owned(), "1000".to_owned())].into(),
        ..Options::default()
    })
    .await;
    let (_, client) = app.signed_in(Role::Editor).await;
    assert_eq!(client.get("/").await.status(), 200);

    link.cut().await;

    let started = Instant::now();
    let ready = client.get("/readyz").await;
    assert_eq!(ready.status(), 503);
    let page = client.get("/").await;
    assert_eq!(page.status(), 503);
    assert!(page.text().await.unwrap().contains("The database is unavailable right now"));
    let login = app.client().get("/login").await;
    assert_eq!(login.status(), 503);
    let readonly = client.get("/account").await;
    assert_eq!(readonly.status(), 503);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "answers come within the acquire timeout, not a hang"
    );

    link.restore().await;

    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if client.get("/readyz").await.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the app reconnects by itself");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(client.get("/").await.status(), 200, "the same session works again");
}

#[tokio::test]
async fn stopping_the_app_lets_it_finish_cleanly() {
    let app = TestApp::spawn().await;
    let address = app.address.clone();
    let (_, client) = app.signed_in(Role::Viewer).await;
    assert_eq!(client.get("/").await.status(), 200);

    app.stop().await.expect("the app stops without error");

    assert!(reqwest::get(format!("{address}/healthz")).await.is_err(), "the port is closed after stopping");
}

#[tokio::test(flavor = "current_thread")]
async fn passwords_tokens_and_session_ids_never_reach_the_log() {
    let logs = LogCapture::default();
    let subscriber = tracing_subscriber::registry()
        .with(tracing_subscriber::EnvFilter::new("trace"))
        .with(tracing_subscriber::fmt::layer().with_ansi(false).with_writer(logs.clone()));
    let _guard = tracing::subscriber::set_default(subscriber);

    let app = TestApp::spawn().await;
    let (user, client) = app.signed_in(Role::Editor).await;
    let failed = app.client().login(&user.email, "wrong password attempt").await;
    assert_eq!(failed.status(), 401);
    let response = client.submit("/account", "/account/tokens", &[("name", "hook")]).await;
    let page = response.text().await.unwrap();
    let token =
        page.split("data-testid=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let me = reqwest::Client::new().get(app.url("/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let session_id = client.session_cookie().unwrap();
    let csrf = client.csrf_token("/account").await;

    let log = logs.text();
    assert!(log.contains("signed in"), "the capture works: {}", &log[..log.len().min(2000)]);
    for (what, secret) in [
        ("password", user.password.as_str()),
        ("wrong password", "wrong password attempt"),
        ("API token", token.as_str()),
        ("session id", session_id.as_str()),
        ("CSRF token", csrf.as_str()),
    ] {
        assert!(!log.contains(secret), "the {what} appears in the log");
    }
}
