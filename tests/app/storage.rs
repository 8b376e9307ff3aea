//! The artifact store's two backends pass the same tests: a local
//! directory, and an S3-compatible bucket on a real S3 server (moto's,
//! started here); and two app processes on one database and one bucket
//! share their artifacts.

use std::{
    net::TcpListener,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use debrief::{
    auth::domain::Role,
    config::{S3Config, StorageConfig},
    evidence::store::{ArtifactStore, StoreError},
};
use reqwest::multipart::{Form, Part};
use serde_json::Value;

use crate::helpers::{Options, TempDir, TestApp};

/// moto's S3 server on a free port, stopped when dropped.
struct S3Server {
    child: Child,
    endpoint: String,
}

impl S3Server {
    fn start() -> Option<S3Server> {
        debrief::install_tls_provider();
        let binary = std::env::var("MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match child {
            Ok(child) => child,
            Err(err) if std::env::var_os("DEBRIEF_SKIP_S3_TESTS").is_some() => {
                eprintln!("skipping the S3 tests: {binary} cannot start ({err})");
                return None;
            }
            Err(err) => panic!(
                "the S3 tests need moto's S3 server ({binary}: {err}); install it \
                 (pip install 'moto[server]') or set DEBRIEF_SKIP_S3_TESTS=1"
            ),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto_server did not start listening");
            std::thread::sleep(Duration::from_millis(50));
        }
        Some(S3Server { child, endpoint: format!("http://127.0.0.1:{port}") })
    }

    /// A new, empty bucket.
    async fn bucket(&self) -> String {
        let name = format!("debrief-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let response = reqwest::Client::new().put(format!("{}/{name}", self.endpoint)).send().await.unwrap();
        assert!(response.status().is_success(), "the bucket is created: {}", response.status());
        name
    }

    fn config(&self, bucket: &str) -> StorageConfig {
        StorageConfig::S3(S3Config {
            bucket: bucket.to_owned(),
            endpoint: Some(self.endpoint.clone()),
            region: "us-east-1".into(),
            access_key_id: Some("testing".into()),
            secret_access_key: Some("testing".to_owned().into()),
            timeout: Duration::from_secs(30),
        })
    }

    fn vars(&self, bucket: &str) -> Vec<(String, String)> {
        [
            ("DEBRIEF_STORAGE", "s3"),
            ("DEBRIEF_S3_BUCKET", bucket),
            ("DEBRIEF_S3_ENDPOINT", &self.endpoint),
            ("DEBRIEF_S3_ACCESS_KEY_ID", "testing"),
            ("DEBRIEF_S3_SECRET_ACCESS_KEY", "testing"),
        ]
        .into_iter()
        .map(|(name, value)| (name.to_owned(), value.to_owned()))
        .collect()
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spools `content` in chunks and keeps it.
async fn keep(store: &ArtifactStore, content: &[u8]) -> String {
    let mut spool = store.spool(64 * 1024 * 1024).await.unwrap();
    for chunk in content.chunks(100_003) {
        spool.write(chunk).await.unwrap();
    }
    let spooled = spool.finish().await.unwrap();
    store.keep(&spooled).await.unwrap();
    store.keep(&spooled).await.unwrap();
    spooled.sha256.clone()
}

/// What every backend must do: keep content under its hash (small in one
/// request, large in parts), read it back exactly, refuse reading past a
/// limit, say what it holds and forget what it is told to.
async fn exercise(store: &ArtifactStore) {
    let small: Vec<u8> = (0..10_000u32).map(|i| (i % 253) as u8).collect();
    let large: Vec<u8> =
        (0..(20 * 1024 * 1024 + 5) as u32).map(|i| (i.wrapping_mul(31) >> 7) as u8).collect();

    let small_sha = keep(store, &small).await;
    let large_sha = keep(store, &large).await;

    assert_eq!(store.read(&small_sha, u64::MAX).await.unwrap(), small);
    assert_eq!(
        store.read(&large_sha, u64::MAX).await.unwrap(),
        large,
        "a multi-part upload reads back whole"
    );
    assert!(matches!(store.read(&large_sha, 1024).await, Err(StoreError::TooLarge { limit: 1024 })));
    assert!(store.contains(&small_sha).await.unwrap());
    store.remove(&small_sha).await.unwrap();
    store.remove(&small_sha).await.unwrap();
    assert!(!store.contains(&small_sha).await.unwrap());
    assert!(store.read(&small_sha, u64::MAX).await.is_err());
}

#[tokio::test]
async fn the_local_store_keeps_and_reads_back_exactly() {
    let root = TempDir::new();
    let config = StorageConfig::Local { dir: root.path.join("artifacts") };
    exercise(&ArtifactStore::open(&config, &root.path.join("spool")).unwrap()).await;
}

#[tokio::test]
async fn the_s3_store_keeps_and_reads_back_exactly() {
    let Some(s3) = S3Server::start() else { return };
    let bucket = s3.bucket().await;
    let root = TempDir::new();
    exercise(&ArtifactStore::open(&s3.config(&bucket), &root.path.join("spool")).unwrap()).await;
}

#[tokio::test]
async fn an_unreachable_store_is_an_error_not_a_hang() {
    debrief::install_tls_provider();
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let config = StorageConfig::S3(S3Config {
        bucket: "nowhere".into(),
        endpoint: Some(format!("http://127.0.0.1:{port}")),
        region: "us-east-1".into(),
        access_key_id: Some("testing".into()),
        secret_access_key: Some("testing".to_owned().into()),
        timeout: Duration::from_secs(2),
    });
    let root = TempDir::new();
    let store = ArtifactStore::open(&config, &root.path.join("spool")).unwrap();
    let started = Instant::now();
    let outcome = tokio::time::timeout(Duration::from_secs(60), store.contains(&"a".repeat(64))).await;
    assert!(matches!(outcome, Ok(Err(StoreError::Store(_)))), "{outcome:?}");
    assert!(started.elapsed() < Duration::from_secs(60));
}

fn dump() -> Vec<u8> {
    std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/dumps/chansend.goroutine.debug2.txt"),
    )
    .unwrap()
}

#[tokio::test]
async fn two_app_processes_on_one_database_and_bucket_share_artifacts_analysed_once() {
    let Some(s3) = S3Server::start() else { return };
    let bucket = s3.bucket().await;
    let mut vars = s3.vars(&bucket);
    // Every recognised file goes through the queue, as a large one would.
    vars.push(("DEBRIEF_ANALYSE_INLINE_BYTES".into(), "1".into()));
    let first =
        TestApp::spawn_with(Options { vars: vars.iter().cloned().collect(), ..Default::default() }).await;
    let second = TestApp::spawn_with(Options {
        vars: vars.into_iter().collect(),
        share_database: Some(first.database.clone()),
        ..Default::default()
    })
    .await;
    let editor = first.create_user(Role::Editor).await;
    let (incident, token) = first.open_incident(&editor).await;

    let form = Form::new().part("file", Part::bytes(dump()).file_name("dump.txt"));
    let path = format!("/api/v1/incidents/{incident}/artifacts");
    let created: Value = first
        .api(reqwest::Method::POST, &path, &token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"].as_str().unwrap().to_owned();

    let mut shown = Value::Null;
    for _ in 0..100 {
        shown = second.api_json(&format!("/api/v1/artifacts/{id}"), &token).await;
        if shown["analysis_status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown["analysis_status"], "done", "{shown}");
    assert_eq!(shown["analysis"]["suspects"][0]["key"], "chan-send-no-receiver");
    for app in [&first, &second] {
        let raw = app
            .api(reqwest::Method::GET, &format!("/api/v1/artifacts/{id}/raw"), &token)
            .send()
            .await
            .unwrap();
        assert_eq!(raw.bytes().await.unwrap().as_ref(), dump().as_slice(), "readable from {}", app.address);
    }
    // Once: one analysis stored, one revision of it, no job left.
    let stored: (i32, i64) =
        sqlx::query_as("select version, (select count(*) from analysis_job) from artifact")
            .fetch_one(&first.pool)
            .await
            .unwrap();
    assert_eq!(stored, (2, 0), "inserted, then analysed once");
    drop(second);
}

/// A `debrief` process of its own on `database`, analysing queued jobs with
/// a short lease; killed when dropped.
struct AppProcess {
    child: Child,
    _data_dir: TempDir,
}

impl AppProcess {
    fn start(database: &str, store_dir: &std::path::Path, lease_secs: u32) -> AppProcess {
        let data_dir = TempDir::new();
        let child = Command::new(env!("CARGO_BIN_EXE_debrief"))
            .env("DATABASE_URL", format!("{}/{database}", crate::helpers::server_url()))
            .env("DEBRIEF_BIND", "127.0.0.1:0")
            .env("DEBRIEF_DATA_DIR", &data_dir.path)
            .env("DEBRIEF_STORAGE_DIR", store_dir)
            .env("DEBRIEF_ANALYSIS_LEASE_SECS", lease_secs.to_string())
            .env("DEBRIEF_DB_MAX_CONNECTIONS", "2")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the binary runs");
        AppProcess { child, _data_dir: data_dir }
    }
}

impl Drop for AppProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn a_process_killed_mid_analysis_leaves_its_job_to_another_that_finishes_it() {
    // The app that takes the upload only serves; the analysis is left to
    // other processes.
    let serving = TestApp::spawn_with(Options {
        vars: [
            ("DEBRIEF_ANALYSE_INLINE_BYTES".to_owned(), "1".to_owned()),
            ("DEBRIEF_ANALYSIS_WORKER".to_owned(), "false".to_owned()),
        ]
        .into(),
        ..Default::default()
    })
    .await;
    let editor = serving.create_user(Role::Editor).await;
    let (incident, token) = serving.open_incident(&editor).await;
    let store_dir = serving.data_dir().join("artifacts");

    // A large dump, so the analysis runs long enough to be cut short.
    let part = std::fs::read(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/dumps/httpleak.goroutine.debug2.txt"),
    )
    .unwrap();
    let copies = 120;
    let mut dump = Vec::with_capacity((part.len() + 1) * copies);
    for _ in 0..copies {
        dump.extend_from_slice(&part);
        dump.push(b'\n');
    }
    let form = Form::new().part("file", Part::bytes(dump).file_name("big.dump.txt"));
    let path = format!("/api/v1/incidents/{incident}/artifacts");
    let created: Value = serving
        .api(reqwest::Method::POST, &path, &token)
        .multipart(form)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(created["analysis_status"], "pending", "{created}");
    let artifact = uuid::Uuid::parse_str(created["id"].as_str().unwrap()).unwrap();

    let mut doomed = AppProcess::start(&serving.database, &store_dir, 2);
    let pid = doomed.child.id();
    let claimed_by_it = format!("%-{pid}-%");
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let claimed: Option<String> =
            sqlx::query_scalar("select locked_by from analysis_job where locked_by like $1")
                .bind(&claimed_by_it)
                .fetch_optional(&serving.pool)
                .await
                .unwrap();
        if claimed.is_some() {
            break;
        }
        assert!(Instant::now() < deadline, "the process never took the job");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    doomed.child.kill().unwrap();
    doomed.child.wait().unwrap();
    let (status, attempts): (String, i32) = sqlx::query_as(
        "select a.analysis_status, j.attempts from artifact a join analysis_job j on j.artifact_id = a.id \
         where a.id = $1",
    )
    .bind(artifact)
    .fetch_one(&serving.pool)
    .await
    .unwrap();
    assert_eq!((status.as_str(), attempts), ("pending", 1), "killed before it stored anything");

    // Another process on the same database and store takes the job once
    // the dead one's lease has run out, and finishes it.
    let other = TestApp::spawn_with(Options {
        vars: [("DEBRIEF_STORAGE_DIR".to_owned(), store_dir.display().to_string())].into(),
        share_database: Some(serving.database.clone()),
        ..Default::default()
    })
    .await;
    let mut shown = Value::Null;
    for _ in 0..600 {
        shown = serving.api_json(&format!("/api/v1/artifacts/{artifact}"), &token).await;
        if shown["analysis_status"] != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(shown["analysis_status"], "done", "{shown}");
    assert_eq!(shown["analysis"]["goroutines"], 703 * copies as u64, "every copy counted once");
    let stored: (i32, i64) =
        sqlx::query_as("select version, (select count(*) from analysis_job) from artifact where id = $1")
            .bind(artifact)
            .fetch_one(&serving.pool)
            .await
            .unwrap();
    assert_eq!(stored, (2, 0), "inserted, then analysed once, with no job left");
    drop(other);
}
