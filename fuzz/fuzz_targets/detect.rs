//! Format detection on arbitrary first bytes: it must always answer.

#![no_main]

use debrief::evidence::{detect::detect, gunzip::is_gzip};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let format = detect(data);
    let _ = format.name();
    // Only gzip data can be told as a gzipped format.
    assert!(is_gzip(data) || !format.is_gzipped(), "{format:?} from plain bytes");
});
