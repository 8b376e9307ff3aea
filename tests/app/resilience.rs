//! The app under trouble: the database going away and coming back, being
//! stopped, and what it writes to its log.

use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, Instant},
};

use debrief::auth::domain::Role;
use tokio::{net::TcpListener, sync::Mutex, task::JoinSet};

use crate::helpers::{Client, Options, TempDir, TestApp, server_url};

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

/// The real binary, serving with every log level on, its log in a file.
struct LoggedServer {
    child: std::process::Child,
    log: std::path::PathBuf,
    database: String,
    _dir: TempDir,
}

impl LoggedServer {
    async fn start() -> (LoggedServer, String, String) {
        let dir = TempDir::new();
        let log = dir.path.join("debrief.log");
        let database = format!("debrief_test_{}", uuid::Uuid::new_v4().simple());
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_debrief"))
            .arg("serve")
            .env("DATABASE_URL", format!("{}/{database}", server_url()))
            .env("DEBRIEF_BIND", "127.0.0.1:0")
            .env("DEBRIEF_DATA_DIR", &dir.path)
            .env("RUST_LOG", "trace")
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("the binary starts");
        let server = LoggedServer { child, log, database, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = server.text();
            let origin =
                text.lines().find_map(|line| line.split("origin=").nth(1)).map(|o| o.trim().to_owned());
            let token =
                text.lines().find_map(|line| line.split("first admin: ").nth(1)).map(|t| t.trim().to_owned());
            if let (Some(origin), Some(token)) = (origin, token) {
                return (server, origin, token);
            }
            assert!(Instant::now() < deadline, "the server did not start: {text}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, as an orchestrator stops it, then the whole log.
    fn stop(mut self) -> String {
        let _ = std::process::Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
        self.text()
    }
}

impl Drop for LoggedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let database = self.database.clone();
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            runtime.block_on(async move {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&format!("{}/postgres", server_url())).await
                {
                    let sql = format!("drop database if exists \"{database}\" with (force)");
                    let _ = sqlx::query(&sql).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

#[tokio::test]
async fn passwords_tokens_and_session_ids_never_reach_the_log() {
    let (server, origin, setup_token) = LoggedServer::start().await;
    let client = Client::new(&origin);
    let password = "a password that must stay secret";
    let setup = client
        .submit(
            "/setup",
            "/setup",
            &[
                ("setup_token", setup_token.as_str()),
                ("email", "ana@example.com"),
                ("name", "Ana Ops"),
                ("password", password),
                ("password_confirm", password),
            ],
        )
        .await;
    assert_eq!(setup.status(), 303);
    let failed = Client::new(&origin).login("ana@example.com", "wrong password attempt").await;
    assert_eq!(failed.status(), 401);
    let again = Client::new(&origin);
    assert_eq!(again.login("ana@example.com", password).await.status(), 303);
    let response = again.submit("/account", "/account/tokens", &[("name", "hook")]).await;
    let page = response.text().await.unwrap();
    let token =
        page.split("data-testid=\"new-token\">").nth(1).unwrap().split('<').next().unwrap().to_owned();
    let me =
        reqwest::Client::new().get(format!("{origin}/api/v1/me")).bearer_auth(&token).send().await.unwrap();
    assert_eq!(me.status(), 200);
    let session_id = again.session_cookie().unwrap();
    let csrf = again.csrf_token("/account").await;

    let log = server.stop();

    assert!(
        log.contains("signed in") && log.contains("Debrief has stopped"),
        "the whole run is logged: {log}"
    );
    for (what, secret) in [
        ("password", password),
        ("wrong password", "wrong password attempt"),
        ("API token", token.as_str()),
        ("session id", session_id.as_str()),
        ("CSRF token", csrf.as_str()),
    ] {
        assert!(!log.contains(secret), "the {what} appears in the log");
    }
}
