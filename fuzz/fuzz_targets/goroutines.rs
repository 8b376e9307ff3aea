//! The goroutine dump analysis on arbitrary bytes, plain or gzipped. A
//! deflate stream inflates at most about 1000 times its size, so the
//! fuzzer's short inputs stay far below the analysis's own bound.

#![no_main]

use debrief::evidence::goroutines::{analyse_dump, diff_dumps};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(dump) = analyse_dump(data) else { return };
    let _ = serde_json::to_string(&dump).expect("an analysis serialises");
    let diff = diff_dumps(&dump, &dump);
    assert!(diff.groups.iter().all(|group| group.delta == 0), "a dump differs from itself");
});
