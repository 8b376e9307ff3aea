//! The `debrief` binary: user and token creation, and a clear exit when
//! PostgreSQL cannot be reached.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use crate::helpers::TestApp;

fn debrief(database_url: &str, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_debrief"))
        .args(args)
        .env("DATABASE_URL", database_url)
        .env("RUST_LOG", "warn")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary runs");
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[tokio::test]
async fn the_cli_creates_a_user_and_a_token_that_the_api_accepts() {
    let app = TestApp::spawn().await;
    let url = format!("{}/{}", crate::helpers::server_url(), app.database);

    let created = debrief(
        &url,
        &["user", "create", "--email", "Cli@Example.com", "--name", "Cli User", "--role", "editor"],
        "a password from stdin\n",
    );
    assert!(created.status.success(), "{}", text(&created.stderr));
    assert!(text(&created.stdout).contains("Created Cli User <cli@example.com> as editor."));

    let token = debrief(&url, &["token", "create", "--email", "cli@example.com", "--name", "ci job"], "");
    assert!(token.status.success(), "{}", text(&token.stderr));
    let token = text(&token.stdout).trim().to_owned();
    assert!(token.starts_with("dbr_"), "{token}");

    let me = app.api_json("/api/v1/me", &token).await;
    assert_eq!(me["email"], "cli@example.com");
    assert_eq!(me["role"], "editor");
    assert_eq!(app.client().login("cli@example.com", "a password from stdin").await.status(), 303);
}

#[tokio::test]
async fn the_cli_refuses_bad_input_with_a_clear_message() {
    let app = TestApp::spawn().await;
    let url = format!("{}/{}", crate::helpers::server_url(), app.database);

    let short = debrief(
        &url,
        &["user", "create", "--email", "a@example.com", "--name", "A", "--role", "editor"],
        "short\n",
    );
    assert!(!short.status.success());
    assert!(text(&short.stderr).contains("password: Use at least 12 characters."), "{}", text(&short.stderr));

    let role = debrief(
        &url,
        &["user", "create", "--email", "a@example.com", "--name", "A", "--role", "root"],
        "x\n",
    );
    assert_eq!(role.status.code(), Some(1));
    assert!(text(&role.stderr).contains("--role: Choose viewer, editor or admin."));

    let nobody = debrief(&url, &["token", "create", "--email", "nobody@example.com", "--name", "x"], "");
    assert!(text(&nobody.stderr).contains("no user has the email nobody@example.com"));
    assert_eq!(app.count("select count(*) from app_user").await, 0);
}

#[test]
fn an_unreachable_database_stops_the_app_with_one_clear_line() {
    // Port 1 on loopback: nothing listens there.
    let output = debrief("postgres://postgres:hunter2@127.0.0.1:1/debrief", &["serve"], "");

    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.trim().is_empty()).collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(lines[0].contains("cannot reach PostgreSQL at 127.0.0.1:1/debrief"), "{stderr}");
    assert!(!stderr.contains("panicked") && !stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn a_bad_setting_is_named_at_start() {
    let output =
        Command::new(env!("CARGO_BIN_EXE_debrief")).env("DEBRIEF_MAX_UPLOAD_BYTES", "lots").output().unwrap();

    assert_eq!(output.status.code(), Some(2));
    assert!(
        text(&output.stderr).contains("DEBRIEF_MAX_UPLOAD_BYTES=\"lots\" is not valid"),
        "{}",
        text(&output.stderr)
    );
}
