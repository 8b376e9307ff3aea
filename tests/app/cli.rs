//! The `debrief` binary: user and token creation, a clear exit when
//! PostgreSQL cannot be reached, and `debrief analyze`, which needs no
//! database at all.

use std::{
    io::Write,
    process::{Command, Output, Stdio},
};

use crate::helpers::{TempDir, TestApp};

/// Runs the `debrief` binary on `database_url`, `stdin` written to it.
pub fn debrief(database_url: &str, args: &[&str], stdin: &str) -> Output {
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

/// Nothing listens on port 1: `analyze` must not try it, nor read the rest
/// of the configuration (a bad setting would stop any other command).
const CLOSED_DATABASE: &str = "postgres://postgres:hunter2@127.0.0.1:1/debrief";

fn analyze(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_debrief"))
        .arg("analyze")
        .args(args)
        .env("DATABASE_URL", CLOSED_DATABASE)
        .env("DEBRIEF_MAX_UPLOAD_BYTES", "lots")
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn fixture(path: &str) -> String {
    format!("{}/tests/fixtures/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// The output of a run that must succeed.
fn analyzed(args: &[&str]) -> String {
    let output = analyze(args);
    assert!(output.status.success(), "{args:?}: {}", text(&output.stderr));
    assert!(output.stderr.is_empty(), "{args:?}: {}", text(&output.stderr));
    text(&output.stdout)
}

/// The summary line and the first rows of a recorded `go tool pprof -top`.
fn oracle_top(name: &str, rows: usize) -> Vec<String> {
    let recorded = std::fs::read_to_string(fixture(&format!("oracle/{name}"))).unwrap();
    let start = recorded.lines().position(|line| line.starts_with("Showing nodes")).unwrap();
    recorded.lines().skip(start).take(2 + rows).map(str::to_string).collect()
}

fn assert_shows_block(output: &str, block: &[String]) {
    assert!(output.contains(&block.join("\n")), "expected\n{}\nin\n{output}", block.join("\n"));
}

/// The one line on stderr of a run that must fail with `code`.
fn refusal(args: &[&str], code: i32) -> String {
    let output = analyze(args);
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(code), "{args:?}: {stderr}");
    assert!(output.stdout.is_empty(), "{args:?}: {}", text(&output.stdout));
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
    assert!(lines[0].starts_with("debrief: ") && !stderr.contains("panicked"), "{stderr}");
    lines[0].to_string()
}

#[test]
fn analyze_prints_a_profiles_top_rows_as_go_tool_pprof_does() {
    let cases = [
        ("diff-after.cpu.pb.gz", None, "cpu"),
        ("diff-after.cpu.pb.gz", Some("samples"), "samples"),
        ("heapgrow.heap.pb.gz", None, "inuse_space"),
        ("heapgrow.allocs.pb.gz", Some("alloc_objects"), "alloc_objects"),
        ("httpleak.goroutine.pb.gz", None, "goroutine"),
        ("mutex.mutex.pb.gz", None, "delay"),
    ];
    for (file, asked, shown) in cases {
        let path = fixture(&format!("pprof/{file}"));
        let mut args = vec![path.as_str()];
        if let Some(sample_type) = asked {
            args.extend(["--sample-type", sample_type]);
        }
        let output = analyzed(&args);
        assert!(output.contains(&format!("\nType: {shown}\n")), "{file}: {output}");
        assert_shows_block(&output, &oracle_top(&format!("{file}.{shown}.top-all.txt"), 10));
    }
    let cpu = analyzed(&[&fixture("pprof/diff-after.cpu.pb.gz")]);
    assert!(cpu.contains("Sample types: samples (count), cpu (nanoseconds); default cpu\n"), "{cpu}");
    assert!(cpu.contains("\nDuration: 2.11s\nTotal: 2.12s\n"), "{cpu}");
}

#[test]
fn analyze_sums_up_a_dump_its_states_groups_and_suspects() {
    let output = analyzed(&[&fixture("dumps/httpleak.goroutine.debug2.txt")]);

    assert!(output.contains("Goroutines: 703\n"), "{output}");
    assert!(output.contains("States: 400 select, 252 IO wait, 50 chan receive, 1 running\n"), "{output}");
    let writeloop = output.lines().find(|line| line.contains("net/http.(*persistConn).writeLoop")).unwrap();
    let cells: Vec<&str> = writeloop.split_whitespace().collect();
    assert_eq!(cells[..4], ["200", "select", "1", "min"], "{writeloop}");
    assert!(writeloop.ends_with("net/http.(*Transport).dialConn"), "{writeloop}");
    let suspects = &output[output.find("\nSuspects:\n").expect("suspects listed")..];
    assert!(suspects.contains("HTTP client connections piling up"), "{suspects}");
    assert!(suspects.contains("600 goroutines"), "{suspects}");
    assert!(suspects.contains("http.Client without a Timeout"), "{suspects}");
    assert!(suspects.contains("cause: missing timeout; playbooks: http-client-hardening"), "{suspects}");
}

#[test]
fn analyze_puts_a_crashs_panic_first_and_reads_gzipped_dumps_and_traces() {
    let crash = analyzed(&[&fixture("dumps/crash.panic.txt")]);
    let lines: Vec<&str> = crash.lines().collect();
    assert!(lines[0].ends_with("crash.panic.txt: crash output"), "{crash}");
    assert_eq!(lines[1], "Crash: panic: card declined: amount 250 over limit");
    assert_eq!(lines[2], "Goroutine 1, in main.chargeCard");

    let big = analyzed(&[&fixture("dumps/bigdump.goroutine.debug2.txt.gz")]);
    assert!(big.contains("a gzipped goroutine dump (debug=2)\nGoroutines: 10501\n"), "{big}");
    assert!(big.contains(" 6000 chan receive"), "{big}");

    let trace = analyzed(&[&fixture("traces/trace.out")]);
    assert!(trace.contains("Go execution trace, format 1.19, written by Go 1.19 and 1.20"), "{trace}");
}

#[test]
fn analyze_json_is_the_analysis_the_api_returns() {
    use debrief::evidence::{analysis, detect};

    for file in ["dumps/ctxleak.goroutine.debug2.txt", "pprof/cpulabels.cpu.pb.gz", "traces/trace.out"] {
        let printed = analyzed(&[&fixture(file), "--json"]);
        let bytes = std::fs::read(fixture(file)).unwrap();
        let format = detect::detect(&bytes[..bytes.len().min(detect::PREFIX_BYTES)]);
        let expected = analysis::analyse(&format, &bytes, 256 << 20).unwrap().analysis;
        // Compared as text: reading floats back need not give the same last digit.
        assert_eq!(printed, format!("{}\n", serde_json::to_string_pretty(&expected).unwrap()), "{file}");
    }
    let dump: serde_json::Value =
        serde_json::from_str(&analyzed(&["--json", &fixture("dumps/chansend.goroutine.debug2.txt")]))
            .unwrap();
    assert_eq!(dump["format"], "goroutine_dump");
    let keys: Vec<&str> =
        dump["suspects"].as_array().unwrap().iter().map(|s| s["key"].as_str().unwrap()).collect();
    assert!(keys.contains(&"chan-send-no-receiver"), "{keys:?}");

    let samples: serde_json::Value = serde_json::from_str(&analyzed(&[
        &fixture("pprof/diff-after.cpu.pb.gz"),
        "--json",
        "--sample-type",
        "samples",
    ]))
    .unwrap();
    assert_eq!(samples["format"], "pprof");
    assert_eq!(samples["sample_type"], "samples");
    assert_eq!(samples["default_sample_type"], "cpu");
}

#[test]
fn analyze_base_diffs_two_profiles_as_pprof_diff_base_does() {
    let (before, after) = (fixture("pprof/diff-before.cpu.pb.gz"), fixture("pprof/diff-after.cpu.pb.gz"));

    let output = analyzed(&[&after, "--base", &before]);
    assert_shows_block(&output, &oracle_top("diff.cpu.cpu.top-all.txt", 10));
    let first_row = output.lines().skip_while(|line| !line.contains("flat%")).nth(1).unwrap();
    assert!(first_row.ends_with("  main.buildIndex"), "{first_row}");

    let json: serde_json::Value =
        serde_json::from_str(&analyzed(&[&after, "--base", &before, "--json"])).unwrap();
    assert_eq!(json["format"], "pprof_diff");
    assert_eq!(json["sample_type"], "cpu");
    assert_eq!(json["top"][0]["function"], "main.buildIndex");
    assert!(json["top"][0]["flat"].as_i64().unwrap() > 0);

    let heap = analyzed(&[
        &fixture("pprof/diff-after.heap.pb.gz"),
        "--base",
        &fixture("pprof/diff-before.heap.pb.gz"),
        "--sample-type",
        "alloc_space",
    ]);
    assert_shows_block(&heap, &oracle_top("diff.heap.alloc_space.top-all.txt", 5));
}

#[test]
fn analyze_base_diffs_two_dumps_group_by_group() {
    let (before, after) =
        (fixture("dumps/chansend.goroutine.debug2.txt"), fixture("dumps/httpleak.goroutine.debug2.txt"));

    let output = analyzed(&[&after, "--base", &before]);
    assert!(output.contains("Goroutines: 61 before, 703 after (+642)\n"), "{output}");
    let grew = output.lines().find(|line| line.contains("net/http.(*persistConn).writeLoop")).unwrap();
    assert_eq!(grew.split_whitespace().take(4).collect::<Vec<_>>(), ["+200", "0", "200", "select"], "{grew}");
    let shrank = output.lines().find(|line| line.contains("main.publishResult")).unwrap();
    assert_eq!(shrank.split_whitespace().take(3).collect::<Vec<_>>(), ["-40", "40", "0"], "{shrank}");

    let json: serde_json::Value =
        serde_json::from_str(&analyzed(&[&after, "--json", "--base", &before])).unwrap();
    assert_eq!(json["format"], "goroutine_diff");
    assert_eq!(
        (json["before_goroutines"].as_u64(), json["after_goroutines"].as_u64()),
        (Some(61), Some(703))
    );
}

#[test]
fn analyze_misuse_is_a_usage_error_with_exit_code_2() {
    let (cpu, dump) = (fixture("pprof/diff-after.cpu.pb.gz"), fixture("dumps/chansend.goroutine.debug2.txt"));
    let cases: [(&[&str], &str); 6] = [
        (&[], "analyze needs a FILE"),
        (&[&cpu, &dump], "analyze takes one FILE"),
        (&[&cpu, "--flame"], "unknown option --flame"),
        (&[&cpu, "--sample-type", "wall"], "no sample type \"wall\"; it has samples, cpu"),
        (&[&dump, "--sample-type", "cpu"], "--sample-type is for profiles"),
        (&[&cpu, "--base", &dump], "--base compares two profiles or two goroutine dumps"),
    ];
    for (args, message) in cases {
        let line = refusal(args, 2);
        assert!(line.contains(message), "{args:?}: {line}");
    }
}

#[test]
fn analyze_refuses_what_it_cannot_read_with_exit_code_1() {
    let dir = TempDir::new();
    let missing = dir.path.join("missing.pb.gz").display().to_string();
    assert!(refusal(&[&missing], 1).contains(&format!("cannot read {missing}: ")));

    let readme = fixture("README.md");
    assert_eq!(refusal(&[&readme], 1), format!("debrief: {readme}: not a Go profile, dump or trace"));

    // Sparse: a file past the 1 GiB bound is refused before it is read.
    let huge = dir.path.join("huge.txt");
    std::fs::File::create(&huge).unwrap().set_len((1 << 30) + 1).unwrap();
    let huge = huge.display().to_string();
    assert_eq!(
        refusal(&[&huge], 1),
        format!("debrief: {huge} is larger than 1 GiB, the most debrief analyze reads")
    );

    // Gzip members of 1 MiB of zeros, 300 of them: 300 MiB once inflated, past the 256 MiB bound.
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(b"goroutine profile: total 1\n").unwrap();
    encoder.write_all(&vec![b' '; 1 << 20]).unwrap();
    let member = encoder.finish().unwrap();
    let bomb = dir.path.join("bomb.txt.gz");
    std::fs::write(&bomb, member.repeat(300)).unwrap();
    let line = refusal(&[&bomb.display().to_string()], 1);
    assert!(line.contains("decompresses to more than 268435456 bytes"), "{line}");
}
