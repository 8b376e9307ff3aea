//! The analyses checked against the recorded output of `go tool pprof` on
//! the fixtures (tests/fixtures/oracle), and against hostile input.

use std::path::PathBuf;

use super::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn oracle(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("oracle").join(name)).unwrap_or_else(|err| panic!("{name}: {err}"))
}

fn profile(name: &str) -> Profile {
    let bytes = std::fs::read(fixtures().join("pprof").join(name)).unwrap();
    read_profile(&bytes, 256 << 20).unwrap_or_else(|err| panic!("{name}: {err}"))
}

/// The `Showing nodes ...` line and the rows of a recorded `-top`.
fn oracle_top(name: &str) -> (String, Vec<String>) {
    let text = oracle(name);
    let summary = text.lines().find(|l| l.starts_with("Showing nodes")).unwrap_or_default().to_string();
    let rows = text.lines().skip_while(|l| !l.trim_start().starts_with("flat  flat%")).skip(1);
    (summary, rows.map(str::to_string).collect())
}

fn sample_types_of(file: &str) -> Vec<String> {
    oracle(&format!("{file}.sample_types.txt")).lines().map(str::to_string).collect()
}

const PROTO_FIXTURES: [&str; 12] = [
    "cpulabels.cpu.pb.gz",
    "diff-after.cpu.pb.gz",
    "diff-after.heap.pb.gz",
    "diff-before.cpu.pb.gz",
    "diff-before.heap.pb.gz",
    "heapgrow.allocs.pb.gz",
    "heapgrow.heap.pb.gz",
    "httpleak.cpu.pb.gz",
    "httpleak.goroutine.pb.gz",
    "httpleak.heap.pb.gz",
    "mutex.block.pb.gz",
    "mutex.mutex.pb.gz",
];

const TEXT_FIXTURES: [(&str, &str); 3] = [
    ("heapgrow.heap.debug1.txt", "heapgrow.heap.pb.gz"),
    ("mutex.block.debug1.txt", "mutex.block.pb.gz"),
    ("mutex.mutex.debug1.txt", "mutex.mutex.pb.gz"),
];

/// Compares our table with a recorded one, row by row, reporting every difference.
fn assert_same_table(what: &str, ours: &TopTable, (summary, rows): &(String, Vec<String>)) {
    assert_eq!(&ours.summary_line(), summary, "{what}: summary line");
    let our_rows = ours.text_rows();
    let differing: Vec<String> = our_rows
        .iter()
        .zip(rows)
        .filter(|(a, b)| a != b)
        .map(|(a, b)| format!("\n  ours:  {a}\n  pprof: {b}"))
        .collect();
    assert!(differing.is_empty(), "{what}: {} rows differ:{}", differing.len(), differing.concat());
    assert_eq!(our_rows.len(), rows.len(), "{what}: row count");
}

#[test]
fn every_proto_fixture_and_sample_type_tops_as_pprof_does() {
    for file in PROTO_FIXTURES {
        let profile = profile(file);
        let types = sample_types_of(file);
        let ours: Vec<String> = profile.sample_types().into_iter().map(|t| t.name).collect();
        assert_eq!(ours, types, "{file}: sample types");
        for sample_type in &types {
            let index = sample_index_for(&profile, Some(sample_type)).unwrap();
            let table = top_table(&profile, index, &Filter::default());
            assert_same_table(&format!("{file} {sample_type}"), &table, &oracle_top(&format!("{file}.{sample_type}.top-all.txt")));
        }
    }
}

#[test]
fn the_default_sample_type_is_the_one_pprof_shows_first() {
    let expected = [
        ("cpulabels.cpu.pb.gz", "cpu"),
        ("heapgrow.heap.pb.gz", "inuse_space"),
        ("heapgrow.allocs.pb.gz", "alloc_space"),
        ("mutex.mutex.pb.gz", "delay"),
        ("httpleak.goroutine.pb.gz", "goroutine"),
        ("heapgrow.heap.debug1.txt", "inuse_space"),
        ("mutex.block.debug1.txt", "delay"),
    ];
    for (file, sample_type) in expected {
        let analysis = analyse(&profile(file), None).unwrap();
        assert_eq!(analysis.default_sample_type, sample_type, "{file}");
        let recorded = oracle(&format!("{file}.top.txt"));
        assert!(recorded.contains(&format!("Type: {sample_type}\n")), "{file}: pprof shows {sample_type} first");
    }
}

#[test]
fn text_profiles_without_symbols_top_as_pprof_does_without_a_binary() {
    for (file, _) in TEXT_FIXTURES {
        let profile = profile(file).without_symbols();
        for sample_type in sample_types_of(file) {
            let index = sample_index_for(&profile, Some(&sample_type)).unwrap();
            let table = top_table(&profile, index, &Filter::default());
            assert_same_table(&format!("{file} {sample_type}"), &table, &oracle_top(&format!("{file}.{sample_type}.top-all.txt")));
        }
    }
}

/// A row of a recorded table without the `(inline)` marks, which only the
/// proto form (with its inlining information) can give.
fn without_inline_marks(row: &str) -> String {
    row.trim_end_matches(" (inline)").trim_end_matches(" (partial-inline)").to_string()
}

#[test]
fn text_profiles_named_from_their_symbol_lines_match_the_proto_of_the_same_moment() {
    for (file, proto_file) in TEXT_FIXTURES {
        let profile = profile(file);
        for sample_type in sample_types_of(file) {
            let index = sample_index_for(&profile, Some(&sample_type)).unwrap();
            let table = top_table(&profile, index, &Filter::default());
            let (summary, rows) = oracle_top(&format!("{proto_file}.{sample_type}.top-all.txt"));
            let rows: Vec<String> = rows.iter().map(|r| without_inline_marks(r)).collect();
            let mut ours: Vec<String> = table.text_rows().iter().map(|r| without_inline_marks(r)).collect();
            let mut theirs = rows.clone();
            // Rows of equal flat value may order differently once inline marks are gone.
            ours.sort();
            theirs.sort();
            assert_eq!(table.summary_line(), summary, "{file} {sample_type}");
            assert_eq!(ours, theirs, "{file} {sample_type}");
        }
    }
}
