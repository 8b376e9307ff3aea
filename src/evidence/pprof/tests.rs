//! The analyses checked against the recorded output of `go tool pprof` on
//! the fixtures (tests/fixtures/oracle), and against hostile input.

use std::path::PathBuf;

use super::*;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn oracle(name: &str) -> String {
    std::fs::read_to_string(fixtures().join("oracle").join(name))
        .unwrap_or_else(|err| panic!("{name}: {err}"))
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
            assert_same_table(
                &format!("{file} {sample_type}"),
                &table,
                &oracle_top(&format!("{file}.{sample_type}.top-all.txt")),
            );
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
        assert!(
            recorded.contains(&format!("Type: {sample_type}\n")),
            "{file}: pprof shows {sample_type} first"
        );
    }
}

#[test]
fn text_profiles_without_symbols_top_as_pprof_does_without_a_binary() {
    for (file, _) in TEXT_FIXTURES {
        let profile = profile(file).without_symbols();
        for sample_type in sample_types_of(file) {
            let index = sample_index_for(&profile, Some(&sample_type)).unwrap();
            let table = top_table(&profile, index, &Filter::default());
            assert_same_table(
                &format!("{file} {sample_type}"),
                &table,
                &oracle_top(&format!("{file}.{sample_type}.top-all.txt")),
            );
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

#[test]
fn labels_break_down_as_pprof_tags_prints_them() {
    for file in ["cpulabels.cpu.pb.gz", "httpleak.cpu.pb.gz"] {
        let profile = profile(file);
        let index = profile.default_sample_index();
        let ours = tags::tags_text(&tags::tags(&profile, index), &profile.unit_of(index));
        let recorded = oracle(&format!("{file}.tags.txt"));
        assert_eq!(ours.trim_end(), recorded.trim_end(), "{file}");
    }
}

#[test]
fn a_diff_equals_pprof_diff_base_for_every_sample_type() {
    for kind in ["cpu", "heap"] {
        let base = profile(&format!("diff-before.{kind}.pb.gz"));
        let target = profile(&format!("diff-after.{kind}.pb.gz"));
        for sample_type in sample_types_of(&format!("diff-after.{kind}.pb.gz")) {
            let (name, table) = diff::diff_table(&base, &target, Some(&sample_type)).unwrap();
            assert_eq!(name, sample_type);
            assert_same_table(
                &format!("diff {kind} {sample_type}"),
                &table,
                &oracle_top(&format!("diff.{kind}.{sample_type}.top-all.txt")),
            );
        }
    }
}

#[test]
fn the_diff_analysis_names_the_grown_function_first_with_percentages_of_the_base() {
    let diff =
        analyse_diff(&profile("diff-before.heap.pb.gz"), &profile("diff-after.heap.pb.gz"), None).unwrap();
    assert_eq!((diff.format, diff.sample_type.as_str()), ("pprof_diff", "inuse_space"));
    assert_eq!(diff.top[0].function, "main.buildIndex");
    assert!(diff.top[0].flat_pct > 200.0, "the after profile keeps about four times the memory");
}

#[test]
fn focus_keeps_whole_samples_through_a_function_and_ignore_drops_them() {
    let profile = profile("cpulabels.cpu.pb.gz");
    let index = sample_index_for(&profile, Some("cpu")).unwrap();
    let all = top_table(&profile, index, &Filter::default());
    let focus = Filter { focus: Some(regex::Regex::new("main.searchQuery").unwrap()), ignore: None };
    let focused = top_table(&profile, index, &focus);
    // Only samples through searchQuery remain: its cum is now everything left,
    // and the percentages stay of the whole profile, as pprof's do.
    let row = |table: &TopTable, name: &str| table.rows.iter().find(|r| r.function == name).cloned();
    let search = row(&focused, "main.searchQuery").unwrap();
    assert_eq!(focused.total, all.total);
    assert_eq!(focused.rows.iter().map(|r| r.flat).sum::<i64>(), search.cum);
    assert!(row(&focused, "crypto/sha256.block").is_none());
    let ignore = Filter { focus: None, ignore: Some(regex::Regex::new("main.searchQuery").unwrap()) };
    let ignored = top_table(&profile, index, &ignore);
    assert!(row(&ignored, "main.rankResults").is_none());
    assert_eq!(row(&ignored, "crypto/sha256.block"), row(&all, "crypto/sha256.block"));
    let flat_sum = |table: &TopTable| table.rows.iter().map(|r| r.flat).sum::<i64>();
    assert_eq!(flat_sum(&ignored) + flat_sum(&focused), flat_sum(&all));
}

#[test]
fn peek_lists_callers_and_callees_with_the_value_through_each_call() {
    let profile = profile("cpulabels.cpu.pb.gz");
    let index = sample_index_for(&profile, Some("cpu")).unwrap();
    let peeks = top::peek(&profile, index, &regex::Regex::new("^main.searchQuery$").unwrap());
    assert_eq!(peeks.len(), 1);
    let peek = &peeks[0];
    assert_eq!(peek.callers.iter().map(|c| c.function.as_str()).collect::<Vec<_>>(), ["main.main.func2"]);
    assert_eq!(peek.callees[0].function, "main.rankResults");
    assert_eq!(peek.callees[0].value, peek.cum, "all of searchQuery's time is in rankResults");
    // Recursion does not add rankResults calling itself as a caller of searchQuery's callee.
    let rank = &top::peek(&profile, index, &regex::Regex::new("^main.rankResults$").unwrap())[0];
    assert!(rank.callers.iter().all(|c| c.value <= rank.cum));
}

#[test]
fn the_analysis_has_the_api_shape() {
    let analysis = analyse(&profile("cpulabels.cpu.pb.gz"), None).unwrap();
    let json = serde_json::to_value(&analysis).unwrap();
    assert_eq!(json["format"], "pprof");
    assert_eq!(
        json["sample_types"],
        serde_json::json!([{"type": "samples", "unit": "count"}, {"type": "cpu", "unit": "nanoseconds"}])
    );
    assert_eq!(json["default_sample_type"], "cpu");
    assert_eq!(json["total"], 5_550_000_000i64);
    assert!(json["duration_nanos"].as_i64().unwrap() > 3_000_000_000);
    let first = &json["top"][0];
    assert_eq!(first["function"], "main.rankResults");
    assert_eq!(first["flat"], 1_770_000_000i64);
    assert!((first["flat_pct"].as_f64().unwrap() - 31.89).abs() < 0.01);
    let inlined = json["top"].as_array().unwrap().iter().find(|r| r["function"] == "main.searchQuery");
    assert!(inlined.is_some(), "names carry no (inline) mark");
}

#[test]
fn a_sample_type_can_be_chosen_and_an_unknown_one_names_the_available_ones() {
    let profile = profile("heapgrow.heap.pb.gz");
    assert_eq!(analyse(&profile, Some("alloc_objects")).unwrap().total, 638_305);
    let err = analyse(&profile, Some("cpu")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "the profile has no sample type \"cpu\"; it has alloc_objects, alloc_space, inuse_objects, inuse_space"
    );
}

#[test]
fn top_holds_at_most_the_heaviest_rows_by_flat() {
    let table = top_table(&profile("httpleak.heap.pb.gz"), 3, &Filter::default());
    let analysis = analyse(&profile("httpleak.heap.pb.gz"), None).unwrap();
    assert_eq!(analysis.top.len(), table.rows.len().min(TOP_ROWS));
    assert!(analysis.top.len() >= 50.min(table.rows.len()));
    assert!(analysis.top.windows(2).all(|w| w[0].flat.abs() >= w[1].flat.abs()));
}

mod hostile {
    use std::io::Write;

    use flate2::{Compression, write::GzEncoder};
    use prost::Message;

    use super::super::proto;
    use super::*;

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    /// A small, valid profile: one sample of `main.work` with `cpu` 10.
    fn valid() -> proto::Profile {
        proto::Profile {
            string_table: ["", "cpu", "nanoseconds", "main.work"].map(String::from).to_vec(),
            sample_type: vec![proto::ValueType { r#type: 1, unit: 2 }],
            function: vec![proto::Function { id: 1, name: 3, ..Default::default() }],
            location: vec![proto::Location {
                id: 1,
                line: vec![proto::Line { function_id: 1, ..Default::default() }],
                ..Default::default()
            }],
            sample: vec![proto::Sample { location_id: vec![1], value: vec![10], label: vec![] }],
            ..Default::default()
        }
    }

    fn read(raw: proto::Profile) -> Result<Profile, ProfileError> {
        read_profile(&raw.encode_to_vec(), 1 << 20)
    }

    #[test]
    fn a_valid_hand_made_profile_is_read() {
        let profile = read(valid()).unwrap();
        assert_eq!(top_table(&profile, 0, &Filter::default()).rows[0].function, "main.work");
        let gzipped = read_profile(&gzip(&valid().encode_to_vec()), 1 << 20).unwrap();
        assert_eq!(gzipped, profile);
    }

    #[test]
    fn empty_random_and_truncated_input_is_refused_with_a_reason() {
        assert_eq!(read_profile(b"", 1 << 20), Err(ProfileError::Empty));
        assert_eq!(read_profile(&gzip(b""), 1 << 20), Err(ProfileError::Empty));
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let random: Vec<u8> = (0..4096)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        assert!(matches!(
            read_profile(&random, 1 << 20),
            Err(ProfileError::NotAProfile(_) | ProfileError::NoSampleTypes)
        ));
        let whole = std::fs::read(fixtures().join("pprof/cpulabels.cpu.pb.gz")).unwrap();
        assert!(matches!(read_profile(&whole[..whole.len() / 2], 1 << 24), Err(ProfileError::Corrupt(_))));
        let plain = crate::evidence::gunzip::gunzip(&whole, 1 << 24).unwrap();
        assert!(matches!(
            read_profile(&plain[..plain.len() - 7], 1 << 24),
            Err(ProfileError::NotAProfile(_))
        ));
    }

    #[test]
    fn a_gzip_bomb_is_refused_as_too_large() {
        let bomb = gzip(&vec![0u8; 20 << 20]);
        assert_eq!(read_profile(&bomb, 1 << 20), Err(ProfileError::TooLarge { limit: 1 << 20 }));
        assert_eq!(read_profile(&vec![1u8; 2048], 1024), Err(ProfileError::TooLarge { limit: 1024 }));
    }

    #[test]
    fn out_of_range_references_are_refused_naming_what_is_wrong() {
        let mut raw = valid();
        raw.sample[0].value = vec![10, 20, 30];
        assert_eq!(
            read(raw).unwrap_err().to_string(),
            "sample 0 has 3 values but the profile has 1 sample types"
        );

        let mut raw = valid();
        raw.function[0].name = 99;
        assert_eq!(
            read(raw).unwrap_err().to_string(),
            "function 1 refers to string 99, but the string table has 4 strings"
        );

        let mut raw = valid();
        raw.sample_type[0].unit = -1;
        assert!(matches!(read(raw), Err(ProfileError::StringOutOfRange { index: -1, .. })));

        let mut raw = valid();
        raw.sample[0].location_id = vec![7];
        assert_eq!(read(raw), Err(ProfileError::UnknownLocation { sample: 0, id: 7 }));

        let mut raw = valid();
        raw.location[0].line[0].function_id = 5;
        assert_eq!(read(raw), Err(ProfileError::UnknownFunction { location: 1, id: 5 }));

        let mut raw = valid();
        raw.location[0].mapping_id = 3;
        assert_eq!(read(raw), Err(ProfileError::UnknownMapping { location: 1, id: 3 }));

        let mut raw = valid();
        raw.location.push(raw.location[0].clone());
        assert_eq!(read(raw), Err(ProfileError::DuplicateId { what: "location", id: 1 }));

        let mut raw = valid();
        raw.sample[0].label = vec![proto::Label { key: 1, str: 40, ..Default::default() }];
        assert!(matches!(read(raw), Err(ProfileError::StringOutOfRange { index: 40, .. })));

        let mut raw = valid();
        raw.string_table[0] = "x".to_string();
        assert_eq!(read(raw), Err(ProfileError::FirstStringNotEmpty));

        let mut raw = valid();
        raw.sample_type.clear();
        raw.sample[0].value.clear();
        assert_eq!(read(raw), Err(ProfileError::NoSampleTypes));
    }

    #[test]
    fn extreme_values_do_not_panic() {
        let mut raw = valid();
        raw.sample =
            vec![proto::Sample { location_id: vec![1, 1, 1], value: vec![i64::MAX], label: vec![] }; 3];
        raw.sample.push(proto::Sample { location_id: vec![], value: vec![i64::MIN], label: vec![] });
        let profile = read(raw).unwrap();
        let table = top_table(&profile, 0, &Filter::default());
        let _ = (table.text_rows(), table.summary_line(), analyse(&profile, None).unwrap());
        let _ = tags::tags_text(&tags::tags(&profile, 0), "nanoseconds");
    }

    #[test]
    fn broken_text_profiles_are_refused_with_the_line() {
        let err =
            read_profile(b"heap profile: 1: 2 [3: 4] @ heap/8192\n1: x [1: 2] @ 0x1\n", 1 << 20).unwrap_err();
        assert!(matches!(err, ProfileError::Text { line: 2, .. }), "{err}");
        let err =
            read_profile(b"heap profile: 1: 2 [3: 4] @ heap/8192\n0: 5 [0: 0] @ 0x1\n", 1 << 20).unwrap_err();
        assert_eq!(err.to_string(), "line 2 of the text profile: inuse count was 0 but inuse bytes was 5");
        let err = read_profile(b"--- mutex:\ncycles/second=abc\n", 1 << 20).unwrap_err();
        assert!(matches!(err, ProfileError::Text { line: 2, .. }), "{err}");
        let err = read_profile(b"--- contention:\nhello world\n", 1 << 20).unwrap_err();
        assert!(matches!(err, ProfileError::Text { line: 2, .. }), "{err}");
        let leading_blank =
            b"\n\n--- mutex:\ncycles/second=1000000000\n5 1 @ 0x2\n#\t0x1\tmain.lock+0x1\t/m.go:3\n";
        let profile = read_profile(leading_blank, 1 << 20).unwrap();
        assert_eq!(top_table(&profile, 1, &Filter::default()).rows[0].function, "main.lock");
        let huge = b"heap profile: 1: 2 [3: 4] @ heap/8192\n99999999999999999999: 1 [1: 1] @ 0x1\n";
        assert!(matches!(read_profile(huge, 1 << 20), Err(ProfileError::Text { line: 2, .. })));
    }
}
