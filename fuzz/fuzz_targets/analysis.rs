//! What the analysis queue runs on an upload: detection on the first bytes,
//! then the analysis of the whole file within a small bound.

#![no_main]

use debrief::evidence::{
    analysis::{analyse, is_analysed},
    detect::{PREFIX_BYTES, detect},
};
use libfuzzer_sys::fuzz_target;

/// Small, so a gzip bomb is refused quickly.
const MAX_DECOMPRESSED: u64 = 1 << 20;

fuzz_target!(|data: &[u8]| {
    let format = detect(&data[..data.len().min(PREFIX_BYTES)]);
    if !is_analysed(&format) {
        return;
    }
    if let Ok(analysed) = analyse(&format, data, MAX_DECOMPRESSED) {
        assert!(analysed.analysis["format"].is_string(), "the analysis names its format");
        assert!(!analysed.summary.is_empty(), "every analysis has a summary");
    }
});
