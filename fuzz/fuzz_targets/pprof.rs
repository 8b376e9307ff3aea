//! The profile reader and every pprof analysis on arbitrary bytes, with a
//! small decompression bound: a profile is read or refused, never a panic.

#![no_main]

use debrief::evidence::pprof::{self, Filter, tags, top_table};
use libfuzzer_sys::fuzz_target;

/// Small, so a gzip bomb is refused quickly.
const MAX_DECOMPRESSED: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let Ok(profile) = pprof::read_profile(data, MAX_DECOMPRESSED) else { return };
    let types = profile.sample_types();
    for (index, sample_type) in types.iter().enumerate() {
        let table = top_table(&profile, index, &Filter::default());
        let _ = table.summary_line();
        let _ = table.text_rows();
        let _ = tags::tags_text(&tags::tags(&profile, index), &sample_type.unit.to_lowercase());
    }
    let analysis = pprof::analyse(&profile, None).expect("the default sample type exists");
    let _ = serde_json::to_string(&analysis).expect("an analysis serialises");
    for sample_type in &types {
        let _ = pprof::analyse(&profile, Some(&sample_type.name));
    }
    // Against itself without symbols: both sides have the same sample types and units.
    let diff = pprof::analyse_diff(&profile.without_symbols(), &profile, None);
    let _ = serde_json::to_string(&diff.expect("a profile compares with itself")).unwrap();
});
