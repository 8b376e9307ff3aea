//! The analysis against the recorded fixtures and their oracle, and the
//! hand-made dumps of newer Go versions.

use std::collections::BTreeMap;
use std::fs;

use super::*;

const FULL_DUMPS: [&str; 5] = [
    "httpleak.goroutine.debug2.txt",
    "chansend.goroutine.debug2.txt",
    "ctxleak.goroutine.debug2.txt",
    "mutex.goroutine.debug2.txt",
    "bigdump.goroutine.debug2.txt",
];

const GROUPED_DUMPS: [&str; 5] = [
    "httpleak.goroutine.debug1.txt",
    "chansend.goroutine.debug1.txt",
    "ctxleak.goroutine.debug1.txt",
    "mutex.goroutine.debug1.txt",
    "bigdump.goroutine.debug1.txt",
];

const CRASHES: [&str; 5] = [
    "crash.deadlock.txt",
    "crash.map_writes.txt",
    "crash.panic.txt",
    "crash.panic_nil.txt",
    "crash.stack_overflow.txt",
];

fn fixtures() -> String {
    format!("{}/tests/fixtures", env!("CARGO_MANIFEST_DIR"))
}

/// A dump's bytes; `bigdump` is stored gzipped.
fn dump_bytes(name: &str) -> Vec<u8> {
    let path = format!("{}/dumps/{name}", fixtures());
    fs::read(&path).or_else(|_| fs::read(format!("{path}.gz"))).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn oracle(name: &str) -> String {
    let path = format!("{}/oracle/{name}", fixtures());
    fs::read_to_string(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn handmade(name: &str) -> Vec<u8> {
    let path = format!("{}/dumps/handmade/{name}", fixtures());
    fs::read(&path).unwrap_or_else(|err| panic!("{path}: {err}"))
}

fn analysis_of(name: &str) -> DumpAnalysis {
    analyse_dump(&dump_bytes(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

/// `    400 select` lines of `uniq -c` as a map.
fn counted_lines(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let (count, what) = line.trim_start().split_once(' ').unwrap();
            (what.to_string(), count.parse().unwrap())
        })
        .collect()
}

fn suspect_keys(analysis: &DumpAnalysis) -> Vec<&str> {
    analysis.suspects.iter().map(|s| s.key.as_str()).collect()
}

fn group_with_top<'a>(analysis: &'a DumpAnalysis, top: &str) -> &'a GroupView {
    analysis.groups.iter().find(|g| g.top_function == top).unwrap_or_else(|| panic!("no group at {top}"))
}

#[test]
fn state_counts_equal_what_the_headers_add_up_to() {
    for name in FULL_DUMPS {
        let analysis = analysis_of(name);
        let count: u64 = oracle(&format!("{name}.count.txt")).trim().parse().unwrap();
        assert_eq!(analysis.goroutines, count, "{name}");
        assert_eq!(analysis.states, counted_lines(&oracle(&format!("{name}.states.txt"))), "{name}");
        assert_eq!(analysis.states.values().sum::<u64>(), count, "{name}");
        assert_eq!(analysis.groups.iter().map(|g| g.count).sum::<u64>(), count, "{name}");
        assert!(!analysis.truncated, "{name}");
    }
}

#[test]
fn whole_headers_equal_the_oracle() {
    for name in FULL_DUMPS {
        let bytes = dump_bytes(name);
        let bytes =
            if super::is_gzip(&bytes) { super::gunzip(&bytes, MAX_DUMP_BYTES).unwrap() } else { bytes };
        let dump = parse::parse(&bytes);
        let mut headers: BTreeMap<String, u64> = BTreeMap::new();
        for goroutine in &dump.goroutines {
            let mut header = dump.str(goroutine.state).to_string();
            if let Some(minutes) = goroutine.wait_minutes {
                header.push_str(&format!(", {minutes} minutes"));
            }
            if goroutine.locked_to_thread {
                header.push_str(", locked to thread");
            }
            *headers.entry(header).or_default() += 1;
        }
        assert_eq!(headers, counted_lines(&oracle(&format!("{name}.headers.txt"))), "{name}");
    }
}

#[test]
fn grouped_profiles_give_their_total_and_records() {
    for name in GROUPED_DUMPS {
        let analysis = analysis_of(name);
        let total = oracle(&format!("{name}.total.txt"));
        assert_eq!(format!("goroutine profile: total {}", analysis.goroutines), total.trim(), "{name}");
        assert_eq!(analysis.layout, "grouped");
        assert!(!analysis.truncated, "{name}");

        let dump = parse::parse(&dump_bytes(name));
        let records: Vec<String> = dump
            .goroutines
            .iter()
            .map(|record| {
                let mut line = record.count.to_string();
                for frame in &dump.stack(record.stack).frames {
                    line.push(' ');
                    line.push_str(dump.str(frame.function));
                }
                line
            })
            .collect();
        let expected = oracle(&format!("{name}.records.txt"));
        let expected: Vec<&str> = expected.lines().collect();
        assert_eq!(records, expected, "{name}");
    }
}

#[test]
fn the_full_and_grouped_dumps_of_one_program_agree_on_group_sizes() {
    let full = analysis_of("mutex.goroutine.debug2.txt");
    let grouped = analysis_of("mutex.goroutine.debug1.txt");
    let sizes = |a: &DumpAnalysis| a.groups.iter().map(|g| g.count).collect::<Vec<_>>();
    assert_eq!(sizes(&full), sizes(&grouped));
    assert_eq!(grouped.states.get("semacquire"), Some(&70));
}

#[test]
fn httpleak_groups_show_the_persistconn_loops_and_their_creator() {
    let analysis = analysis_of("httpleak.goroutine.debug2.txt");
    let read_loop = group_with_top(&analysis, "internal/poll.runtime_pollWait");
    assert!(read_loop.count >= 200);
    let write_loop = group_with_top(&analysis, "net/http.(*persistConn).writeLoop");
    assert_eq!(write_loop.count, 200);
    assert_eq!(write_loop.state, "select");
    assert_eq!(write_loop.max_wait_minutes, Some(1));
    assert_eq!(write_loop.created_by.as_deref(), Some("net/http.(*Transport).dialConn"));
    assert_eq!(analysis.groups[0].count, 200);
}

#[test]
fn exact_groups_split_what_similar_groups_join() {
    let analysis = analysis_of("ctxleak.goroutine.debug2.txt");
    let watchers = analysis.groups.iter().position(|g| g.top_function == "main.watchSession").unwrap();
    // Every watcher has its own context pointer.
    let exact: Vec<&ExactGroupView> = analysis.exact_groups.iter().filter(|e| e.group == watchers).collect();
    assert_eq!(analysis.groups[watchers].count, 30);
    assert_eq!(exact.len(), analysis.groups[watchers].exact_groups);
    assert!(exact.len() > 1);
    assert_eq!(exact.iter().map(|e| e.count).sum::<u64>(), 30);
    assert!(exact[0].frames[0].args.is_some());
}

#[test]
fn each_leak_program_names_its_suspect() {
    let cases: [(&str, &[&str]); 6] = [
        ("httpleak.goroutine.debug2.txt", &[key::HTTP_CLIENT_PERSISTCONN]),
        ("chansend.goroutine.debug2.txt", &[key::CHAN_SEND_NO_RECEIVER, key::CHAN_RECEIVE_NO_SENDER]),
        ("ctxleak.goroutine.debug2.txt", &[key::CONTEXT_NEVER_CANCELLED]),
        ("mutex.goroutine.debug2.txt", &[key::MUTEX_PILEUP, key::WAITGROUP_PILEUP]),
        ("httpleak.goroutine.debug1.txt", &[key::HTTP_CLIENT_PERSISTCONN]),
        ("mutex.goroutine.debug1.txt", &[key::MUTEX_PILEUP, key::WAITGROUP_PILEUP]),
    ];
    for (name, expected) in cases {
        let analysis = analysis_of(name);
        let keys = suspect_keys(&analysis);
        for key in expected {
            assert!(keys.contains(key), "{name}: {keys:?}");
        }
    }
    let http = analysis_of("httpleak.goroutine.debug2.txt");
    assert_eq!(http.suspects[0].key, key::HTTP_CLIENT_PERSISTCONN);
    assert_eq!(http.suspects[0].evidence.count, 600);
    assert_eq!(http.suspects[0].cause_category, category::MISSING_TIMEOUT);
    assert!(http.suspects[0].playbooks.contains(&playbook::HTTP_CLIENT_HARDENING.to_string()));
    let chan = analysis_of("chansend.goroutine.debug2.txt");
    assert_eq!(chan.suspects[0].key, key::CHAN_SEND_NO_RECEIVER);
    assert_eq!(chan.suspects[0].evidence.count, 40);
    let ctx = analysis_of("ctxleak.goroutine.debug2.txt");
    assert_eq!(ctx.suspects[0].key, key::CONTEXT_NEVER_CANCELLED);
    assert_eq!(ctx.suspects[0].evidence.count, 50);
    assert!(!suspect_keys(&ctx).contains(&key::CHAN_RECEIVE_NO_SENDER));
    let mutex = analysis_of("mutex.goroutine.debug2.txt");
    assert_eq!(mutex.suspects[0].key, key::MUTEX_PILEUP);
    assert_eq!(mutex.suspects[0].evidence.count, 50);
    let holders = &mutex.suspects[0].evidence.likely_holders;
    assert_eq!(holders.len(), 1);
    assert_eq!(mutex.groups[holders[0]].top_function, "main.(*cache).refreshAll");
}

#[test]
fn suspects_use_only_the_taxonomy_and_point_at_their_group() {
    const TAXONOMY: [&str; 10] = [
        "goroutine leak",
        "missing timeout",
        "context not propagated",
        "unrecovered panic",
        "data race",
        "middleware chain broken",
        "resource exhaustion",
        "config change",
        "dependency failure",
        "capacity",
    ];
    for name in FULL_DUMPS.iter().chain(&GROUPED_DUMPS) {
        let analysis = analysis_of(name);
        for suspect in &analysis.suspects {
            assert!(
                TAXONOMY.contains(&suspect.cause_category.as_str()),
                "{name}: {}",
                suspect.cause_category
            );
            assert!(!suspect.playbooks.is_empty());
            let group = &analysis.groups[suspect.group];
            assert!(group.count >= MIN_GROUP_SIZE, "{name}");
            assert_eq!(group.state, suspect.evidence.state);
        }
    }
}

#[test]
fn the_big_dump_names_the_mutex_and_channel_pileups() {
    let analysis = analysis_of("bigdump.goroutine.debug2.txt");
    assert_eq!(analysis.goroutines, 10_501);
    assert_eq!(analysis.groups[0].count, 6000);
    let keys = suspect_keys(&analysis);
    assert!(keys.contains(&key::MUTEX_PILEUP), "{keys:?}");
    assert!(keys.contains(&key::CHAN_RECEIVE_NO_SENDER), "{keys:?}");
}

#[test]
fn crashes_without_long_waits_have_no_suspects() {
    for name in CRASHES {
        let analysis = analysis_of(name);
        assert!(analysis.suspects.is_empty(), "{name}: {:?}", suspect_keys(&analysis));
    }
}

#[test]
fn crashes_put_the_panic_and_its_goroutine_first() {
    let first_lines: Vec<String> = oracle("crash.first-lines.txt").lines().map(str::to_string).collect();
    for (name, first_line) in CRASHES.iter().zip(&first_lines) {
        let analysis = analysis_of(name);
        assert_eq!(analysis.layout, "crash", "{name}");
        let panic = analysis.panic.as_ref().unwrap_or_else(|| panic!("{name}: no panic"));
        assert_eq!(panic.group, Some(0), "{name}");
        if let Some(message) = first_line.strip_prefix("panic: ").or(first_line.strip_prefix("fatal error: "))
        {
            assert_eq!(panic.message.lines().next(), Some(message), "{name}");
        }
    }
    let card = analysis_of("crash.panic.txt");
    let panic = card.panic.unwrap();
    assert_eq!(panic.kind, "panic");
    assert_eq!(panic.goroutine, Some(1));
    assert_eq!(panic.top_function.as_deref(), Some("main.chargeCard"));
    assert_eq!(card.goroutines, 4);
    assert_eq!(card.states.get("chan receive"), Some(&3));

    let nil = analysis_of("crash.panic_nil.txt").panic.unwrap();
    assert!(nil.signal.unwrap().starts_with("[signal SIGSEGV"));

    let overflow = analysis_of("crash.stack_overflow.txt");
    let panic = overflow.panic.unwrap();
    assert_eq!(panic.kind, "stack overflow");
    assert_eq!(panic.message, "stack overflow");
    assert_eq!(overflow.groups[0].top_function, "main.walkTree");
    assert!(overflow.groups[0].elided);
    // The runtime stack printed before the goroutines is not a goroutine.
    assert!(overflow.groups.iter().all(|g| g.top_function != "runtime.throw"));

    let deadlock = analysis_of("crash.deadlock.txt").panic.unwrap();
    assert_eq!(deadlock.kind, "fatal error");
    assert_eq!(deadlock.message, "all goroutines are asleep - deadlock!");
}

#[test]
fn a_dump_cut_short_is_analysed_and_marked_truncated() {
    let bytes = dump_bytes("chansend.goroutine.debug2.txt");
    let cut = &bytes[..bytes.len() * 2 / 3];
    let analysis = analyse_dump(cut).unwrap();
    assert!(analysis.truncated);
    assert!(analysis.goroutines > 10 && analysis.goroutines < 61);

    let grouped = dump_bytes("httpleak.goroutine.debug1.txt");
    let analysis = analyse_dump(&grouped[..grouped.len() / 2]).unwrap();
    assert!(analysis.truncated);

    let gz = dump_bytes("bigdump.goroutine.debug2.txt");
    let analysis = analyse_dump(&gz[..gz.len() / 2]).unwrap();
    assert!(analysis.truncated);
    assert!(analysis.goroutines > 1000);
}

#[test]
fn crlf_line_ends_and_invalid_utf8_change_nothing_but_the_bytes() {
    let plain = dump_bytes("mutex.goroutine.debug2.txt");
    let crlf: Vec<u8> =
        plain.iter().flat_map(|b| if *b == b'\n' { vec![b'\r', b'\n'] } else { vec![*b] }).collect();
    let expected = analyse_dump(&plain).unwrap();
    let analysis = analyse_dump(&crlf).unwrap();
    assert_eq!(analysis.states, expected.states);
    assert_eq!(suspect_keys(&analysis), suspect_keys(&expected));
    assert!(!analysis.truncated);

    let mut broken = plain.clone();
    let at = broken.windows(9).position(|w| w == b"main.(*ca").unwrap();
    broken[at + 5] = 0xff;
    let analysis = analyse_dump(&broken).unwrap();
    assert_eq!(analysis.goroutines, 72);
    assert_eq!(analysis.states, expected.states);
}

#[test]
fn files_that_are_no_dump_are_refused() {
    assert_eq!(analyse_dump(b""), Err(DumpError::Empty));
    assert_eq!(analyse_dump(b"hello\nworld\n"), Err(DumpError::NoGoroutines));
}

#[test]
fn the_analysis_serialises_with_the_documented_fields() {
    let analysis = analysis_of("chansend.goroutine.debug2.txt");
    let json = serde_json::to_value(&analysis).unwrap();
    assert_eq!(json["format"], "goroutine_dump");
    assert_eq!(json["goroutines"], 61);
    assert_eq!(json["states"]["chan send"], 40);
    for field in ["count", "state", "max_wait_minutes", "top_function", "created_by", "frames"] {
        assert!(json["groups"][0].get(field).is_some(), "{field}");
    }
    for field in ["group", "key", "signature", "explanation", "cause_category", "playbooks"] {
        assert!(json["suspects"][0].get(field).is_some(), "{field}");
    }
    assert_eq!(json["truncated"], false);
    assert!(json["panic"].is_null());
    let back: DumpAnalysis = serde_json::from_value(json).unwrap();
    assert_eq!(back.groups.len(), analysis.groups.len());
}

#[test]
fn groups_past_the_cap_are_counted_not_listed() {
    let mut text = String::new();
    for id in 0..(MAX_GROUPS + 20) {
        text.push_str(&format!("goroutine {id} [select]:\nmain.f{id}()\n\t/a.go:{id} +0x1\n\n"));
    }
    let analysis = analyse_dump(text.as_bytes()).unwrap();
    assert_eq!(analysis.groups.len(), MAX_GROUPS);
    assert_eq!(analysis.groups_total, MAX_GROUPS + 20);
    assert_eq!(analysis.groups_omitted, 20);
    assert_eq!(analysis.goroutines_in_omitted_groups, 20);
    assert_eq!(analysis.goroutines, (MAX_GROUPS + 20) as u64);
}

#[test]
fn diff_shows_groups_that_grew_appeared_and_vanished() {
    let before = analysis_of("chansend.goroutine.debug2.txt");
    let after = analysis_of("httpleak.goroutine.debug2.txt");
    let diff = diff_dumps(&before, &after);
    assert_eq!(diff.format, "goroutine_diff");
    let row = |top: &str| diff.groups.iter().find(|g| g.top_function == top).unwrap();
    assert_eq!(row("main.publishResult").delta, -40);
    assert_eq!(row("main.publishResult").after, 0);
    assert_eq!(row("net/http.(*persistConn).writeLoop").before, 0);
    assert_eq!(row("net/http.(*persistConn).writeLoop").delta, 200);
    assert!(diff.groups[0].delta.unsigned_abs() >= diff.groups[1].delta.unsigned_abs());
    let json = serde_json::to_value(&diff).unwrap();
    for field in ["top_function", "state", "before", "after", "delta"] {
        assert!(json["groups"][0].get(field).is_some(), "{field}");
    }
    assert!(diff_dumps(&before, &before).groups.iter().all(|g| g.delta == 0));
}

// Hand-made dumps of the text newer Go versions write.

#[test]
fn go_1_21_created_by_in_goroutine_builds_the_parent_tree() {
    let analysis = analyse_dump(&handmade("go1.21-created-by-in-goroutine.txt")).unwrap();
    assert_eq!(analysis.goroutines, 15);
    let fetchers = group_with_top(&analysis, "net/http.(*persistConn).roundTrip");
    assert_eq!(fetchers.created_by.as_deref(), Some("main.startFetchers"));
    let parent = analysis.parents.iter().find(|p| p.goroutine == 1).unwrap();
    assert!(parent.present);
    assert_eq!(parent.children, 12);
    let orphan = analysis.parents.iter().find(|p| p.goroutine == 7).unwrap();
    assert!(!orphan.present);
    assert_eq!(suspect_keys(&analysis), [key::HTTP_CLIENT_PERSISTCONN]);
}

#[test]
fn go_1_20_sync_wait_reasons_are_states_and_name_their_pileups() {
    let analysis = analyse_dump(&handmade("go1.20-sync-wait-reasons.txt")).unwrap();
    assert_eq!(analysis.states.get("sync.Mutex.Lock"), Some(&12));
    assert_eq!(analysis.states.get("sync.RWMutex.RLock"), Some(&3));
    assert_eq!(analysis.states.get("sync.WaitGroup.Wait"), Some(&11));
    let keys = suspect_keys(&analysis);
    assert_eq!(keys, [key::MUTEX_PILEUP, key::WAITGROUP_PILEUP]);
    assert_eq!(analysis.suspects[0].evidence.count, 12);
    let holder = &analysis.groups[analysis.suspects[0].evidence.likely_holders[0]];
    assert_eq!(holder.top_function, "main.(*store).refresh");
    assert_eq!(analysis.goroutines, 28);
}

#[test]
fn go_1_22_sigquit_dump_counts_goroutine_zero_and_reads_the_signal() {
    let analysis = analyse_dump(&handmade("go1.22-sigquit-gp-headers.txt")).unwrap();
    assert_eq!(analysis.layout, "crash");
    assert_eq!(analysis.goroutines, 4);
    assert_eq!(analysis.states.get("idle"), Some(&1));
    let panic = analysis.panic.as_ref().unwrap();
    assert_eq!(panic.kind, "signal");
    assert_eq!(panic.message, "SIGQUIT: quit");
    assert_eq!(panic.goroutine, Some(0));
    assert!(analysis.groups.iter().any(|g| g.locked_to_thread));
    assert!(analysis.suspects.is_empty());
}

#[test]
fn go_1_26_leaked_and_durable_markers_are_kept_in_the_state() {
    let analysis = analyse_dump(&handmade("go1.26-leaked-durable.txt")).unwrap();
    assert_eq!(analysis.states.get("chan send (leaked)"), Some(&3));
    assert_eq!(analysis.states.get("chan receive (durable)"), Some(&2));
    let leaked = group_with_top(&analysis, "main.sendResult");
    assert!(leaked.leaked);
    // The runtime says they leaked: no size or wait threshold applies.
    assert_eq!(suspect_keys(&analysis), [key::LEAKED_GOROUTINE]);
}

#[test]
fn go_1_27_header_labels_reach_the_groups() {
    let analysis = analyse_dump(&handmade("go1.27-header-labels.txt")).unwrap();
    assert_eq!(analysis.goroutines, 3);
    assert_eq!(analysis.states.get("select"), Some(&2));
    let group = group_with_top(&analysis, "main.serveCheckout");
    assert_eq!(group.labels.len(), 2);
    assert!(group.labels.iter().any(|l| l.contains(r#""tenant":"acme""#)));
    assert_eq!(group.max_wait_minutes, Some(4));
}

#[test]
fn ancestors_and_elided_frames_are_read_past() {
    let dump = parse::parse(&handmade("go1.21-ancestors-elided.txt"));
    assert_eq!(dump.goroutines.len(), 3);
    let worker = dump.goroutines.iter().find(|g| g.id == Some(42)).unwrap();
    assert_eq!(worker.ancestors, [17, 1]);
    assert_eq!(worker.parent, Some(17));
    let stack = dump.stack(worker.stack);
    assert_eq!(stack.frames.len(), 2);
    let deep = dump.goroutines.iter().find(|g| g.id == Some(43)).unwrap();
    assert!(dump.stack(deep.stack).elided);
    assert!(!dump.truncated);
}

#[test]
fn debug1_labels_are_read_into_the_groups() {
    let analysis = analyse_dump(&handmade("debug1-labels.txt")).unwrap();
    assert_eq!(analysis.goroutines, 26);
    let group = group_with_top(&analysis, "main.handleSearch");
    assert_eq!(group.labels, [r#"{"handler":"search", "tenant":"globex"}"#]);
    assert_eq!(group.count, 25);
}

#[test]
fn a_small_healthy_dump_has_no_suspects() {
    let analysis = analyse_dump(&handmade("healthy.txt")).unwrap();
    assert!(analysis.suspects.is_empty(), "{:?}", suspect_keys(&analysis));
    assert_eq!(analysis.goroutines, 5);
}

/// A 50 MB, 100,000-goroutine dump made of the big dump's text: run with
/// `--ignored` (and `--release` for figures worth quoting).
#[test]
#[ignore]
fn a_fifty_megabyte_dump_is_read_in_one_pass() {
    let gz = dump_bytes("bigdump.goroutine.debug2.txt");
    let text = super::gunzip(&gz, MAX_DUMP_BYTES).unwrap();
    let copies = (50 << 20) / text.len() + 1;
    let mut big = Vec::with_capacity(text.len() * copies);
    for _ in 0..copies {
        big.extend_from_slice(&text);
        big.push(b'\n');
    }
    let started = std::time::Instant::now();
    let analysis = analyse_dump(&big).unwrap();
    let elapsed = started.elapsed();
    println!(
        "{} MB, {} goroutines, {} groups in {elapsed:?}",
        big.len() >> 20,
        analysis.goroutines,
        analysis.groups_total
    );
    assert_eq!(analysis.goroutines, 10_501 * copies as u64);
    assert_eq!(analysis.groups_total, 6);
}
