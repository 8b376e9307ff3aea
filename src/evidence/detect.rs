//! Which kind of evidence a file is, told from its first bytes alone: a
//! file's name and declared type say nothing Debrief trusts.

use super::gunzip::{gunzip_prefix, is_gzip};

/// How many bytes (decompressed, for gzip) detection looks at.
pub const PREFIX_BYTES: usize = 64 * 1024;

/// What a file is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// A `profile.proto` message, gzipped as Go writes it or plain.
    Pprof { gzipped: bool },
    /// One of the legacy text profiles (`?debug=1` of heap, block, mutex).
    PprofText { kind: TextProfile, gzipped: bool },
    /// Goroutine stacks as text: a dump, or the output of a crash.
    GoroutineDump { kind: DumpKind, gzipped: bool },
    /// A Go execution trace, with the Go version its header names (`1.22`).
    GoTrace { go_version: String },
    /// None of the above: kept as a plain attachment.
    Other,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextProfile {
    /// `heap profile: …`
    Heap,
    /// `--- contention:` (the block profile)
    Contention,
    /// `--- mutex:`
    Mutex,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpKind {
    /// `goroutine profile: total N`: stacks grouped with their counts.
    Grouped,
    /// `goroutine N [state]:` blocks, one per goroutine.
    Full,
    /// A crash: `panic:`, `fatal error:`, a stack overflow, a signal,
    /// followed by the goroutines.
    Crash,
}

impl Format {
    /// The name the API and the pages use: `pprof`, `goroutine_dump`,
    /// `go_trace` or `other`.
    pub fn name(&self) -> &'static str {
        match self {
            Format::Pprof { .. } | Format::PprofText { .. } => "pprof",
            Format::GoroutineDump { .. } => "goroutine_dump",
            Format::GoTrace { .. } => "go_trace",
            Format::Other => "other",
        }
    }

    pub fn is_gzipped(&self) -> bool {
        matches!(
            self,
            Format::Pprof { gzipped: true }
                | Format::PprofText { gzipped: true, .. }
                | Format::GoroutineDump { gzipped: true, .. }
        )
    }
}

/// The format of a file whose first bytes (at least [`PREFIX_BYTES`] of
/// them when the file is that long) are `prefix`.
pub fn detect(prefix: &[u8]) -> Format {
    if is_gzip(prefix) {
        let inner = gunzip_prefix(prefix, PREFIX_BYTES);
        return match detect_plain(&inner) {
            Format::Pprof { .. } => Format::Pprof { gzipped: true },
            Format::PprofText { kind, .. } => Format::PprofText { kind, gzipped: true },
            Format::GoroutineDump { kind, .. } => Format::GoroutineDump { kind, gzipped: true },
            // A trace is never gzipped by Go; anything else inside gzip is just a file.
            Format::GoTrace { .. } | Format::Other => Format::Other,
        };
    }
    detect_plain(prefix)
}

fn detect_plain(bytes: &[u8]) -> Format {
    if let Some(go_version) = trace_version(bytes) {
        return Format::GoTrace { go_version };
    }
    let text = String::from_utf8_lossy(&bytes[..bytes.len().min(PREFIX_BYTES)]);
    let mut lines = text.lines().map(|line| line.trim_end_matches('\r'));
    let first = lines.clone().find(|line| !line.trim().is_empty()).unwrap_or_default();
    if first.starts_with("heap profile:") {
        return Format::PprofText { kind: TextProfile::Heap, gzipped: false };
    }
    if first.starts_with("--- contention:") {
        return Format::PprofText { kind: TextProfile::Contention, gzipped: false };
    }
    if first.starts_with("--- mutex:") {
        return Format::PprofText { kind: TextProfile::Mutex, gzipped: false };
    }
    if first.starts_with("goroutine profile: total ") {
        return Format::GoroutineDump { kind: DumpKind::Grouped, gzipped: false };
    }
    if is_goroutine_header(first) {
        return Format::GoroutineDump { kind: DumpKind::Full, gzipped: false };
    }
    // Crash output often follows lines of the program's own log.
    if lines.any(is_crash_line) {
        return Format::GoroutineDump { kind: DumpKind::Crash, gzipped: false };
    }
    if looks_like_profile_proto(bytes) {
        return Format::Pprof { gzipped: false };
    }
    Format::Other
}

/// `go 1.22 trace\0\0\0`: the 16-byte header of every execution trace.
fn trace_version(bytes: &[u8]) -> Option<String> {
    let header = bytes.get(..16)?;
    let version = header.strip_prefix(b"go 1.")?;
    let end = version.iter().position(|b| *b == b' ')?;
    let (minor, rest) = version.split_at(end);
    if minor.is_empty() || minor.len() > 3 || !minor.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if !rest.starts_with(b" trace") || !rest[b" trace".len()..].iter().all(|b| *b == 0) {
        return None;
    }
    Some(format!("1.{}", std::str::from_utf8(minor).ok()?))
}

/// `goroutine 1 [running]:`, and since Go 1.22 in SIGQUIT dumps
/// `goroutine 0 gp=0x… m=0 mp=0x… [idle]:`.
fn is_goroutine_header(line: &str) -> bool {
    let Some(rest) = line.strip_prefix("goroutine ") else { return false };
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0 && rest[digits..].starts_with(' ') && rest.contains('[') && rest.ends_with(':')
}

fn is_crash_line(line: &str) -> bool {
    const STARTS: [&str; 8] = [
        "panic: ",
        "fatal error: ",
        "runtime: goroutine stack exceeds",
        "SIGQUIT: quit",
        "SIGABRT: abort",
        "SIGSEGV: segmentation violation",
        "unexpected fault address",
        "fatal: morestack on g0",
    ];
    STARTS.iter().any(|start| line.starts_with(start))
}

/// Whether the bytes open as a `profile.proto` message: its first fields
/// (eight, or all that the bytes hold) are fields of `Profile`
/// with their own wire types, and each length-delimited one fits. Go
/// writes the period type first, other writers the sample types: the
/// order is not fixed. Whether it decodes whole is for the profile reader.
fn looks_like_profile_proto(bytes: &[u8]) -> bool {
    const VARINT: u64 = 0;
    const LEN: u64 = 2;
    let mut rest = bytes;
    let mut fields = 0;
    while fields < 8 && !rest.is_empty() {
        let Some((tag, after)) = varint(rest) else { return false };
        let (number, wire) = (tag >> 3, tag & 7);
        let expected = match number {
            1..=6 | 11 => LEN,
            7..=10 | 12 | 14 => VARINT,
            13 if wire == LEN || wire == VARINT => wire,
            _ => return false,
        };
        if wire != expected {
            return false;
        }
        let Some((value, after)) = varint(after) else { return false };
        rest = if wire == LEN {
            match usize::try_from(value).ok().filter(|length| *length <= after.len()) {
                Some(length) => &after[length..],
                // A long field can run past the prefix: what was read agrees.
                None => return fields >= 3,
            }
        } else {
            after
        };
        fields += 1;
    }
    fields == 8 || (fields >= 2 && rest.is_empty())
}

fn varint(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let mut value = 0u64;
    for (at, byte) in bytes.iter().take(10).enumerate() {
        value |= u64::from(byte & 0x7f) << (7 * at);
        if byte & 0x80 == 0 {
            return Some((value, &bytes[at + 1..]));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use std::{fs, io::Write, path::PathBuf};

    use flate2::{Compression, write::GzEncoder};

    use super::*;

    fn fixture(path: &str) -> Vec<u8> {
        let full = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path);
        fs::read(&full).unwrap_or_else(|err| panic!("{}: {err}", full.display()))
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
        encoder.write_all(bytes).unwrap();
        encoder.finish().unwrap()
    }

    #[test]
    fn every_fixture_is_told_from_its_bytes() {
        let expected = [
            ("pprof/httpleak.cpu.pb.gz", Format::Pprof { gzipped: true }),
            ("pprof/httpleak.goroutine.pb.gz", Format::Pprof { gzipped: true }),
            ("pprof/mutex.mutex.pb.gz", Format::Pprof { gzipped: true }),
            ("pprof/heapgrow.heap.debug1.txt", Format::PprofText { kind: TextProfile::Heap, gzipped: false }),
            (
                "pprof/mutex.block.debug1.txt",
                Format::PprofText { kind: TextProfile::Contention, gzipped: false },
            ),
            ("pprof/mutex.mutex.debug1.txt", Format::PprofText { kind: TextProfile::Mutex, gzipped: false }),
            (
                "dumps/httpleak.goroutine.debug1.txt",
                Format::GoroutineDump { kind: DumpKind::Grouped, gzipped: false },
            ),
            (
                "dumps/httpleak.goroutine.debug2.txt",
                Format::GoroutineDump { kind: DumpKind::Full, gzipped: false },
            ),
            (
                "dumps/bigdump.goroutine.debug2.txt.gz",
                Format::GoroutineDump { kind: DumpKind::Full, gzipped: true },
            ),
            ("dumps/crash.panic.txt", Format::GoroutineDump { kind: DumpKind::Crash, gzipped: false }),
            ("dumps/crash.map_writes.txt", Format::GoroutineDump { kind: DumpKind::Crash, gzipped: false }),
            ("dumps/crash.deadlock.txt", Format::GoroutineDump { kind: DumpKind::Crash, gzipped: false }),
            (
                "dumps/crash.stack_overflow.txt",
                Format::GoroutineDump { kind: DumpKind::Crash, gzipped: false },
            ),
            ("traces/trace.out", Format::GoTrace { go_version: "1.19".into() }),
        ];
        for (path, format) in expected {
            let bytes = fixture(path);
            assert_eq!(detect(&bytes[..bytes.len().min(PREFIX_BYTES)]), format, "{path}");
        }
    }

    #[test]
    fn a_plain_profile_proto_is_told_from_its_first_fields() {
        let plain = super::super::gunzip::gunzip(&fixture("pprof/httpleak.heap.pb.gz"), 1 << 26).unwrap();
        assert_eq!(detect(&plain), Format::Pprof { gzipped: false });
    }

    #[test]
    fn crash_output_after_log_lines_and_dumps_with_crlf_are_recognised() {
        let logged = b"2026/11/20 14:02:11 starting\n2026/11/20 14:02:12 serving\npanic: boom\n\ngoroutine 1 [running]:\n";
        assert_eq!(detect(logged), Format::GoroutineDump { kind: DumpKind::Crash, gzipped: false });
        let crlf = b"goroutine 7 [chan send, 3 minutes]:\r\nmain.worker()\r\n";
        assert_eq!(detect(crlf), Format::GoroutineDump { kind: DumpKind::Full, gzipped: false });
        let sigquit =
            b"SIGQUIT: quit\nPC=0x46e0a1 m=0 sigcode=0\n\ngoroutine 0 gp=0x5a4f40 m=0 mp=0x5a5a60 [idle]:\n";
        assert_eq!(detect(sigquit), Format::GoroutineDump { kind: DumpKind::Crash, gzipped: false });
        let new_header = b"goroutine 0 gp=0x5a4f40 m=0 mp=0x5a5a60 [idle]:\nruntime.futex()\n";
        assert_eq!(detect(new_header), Format::GoroutineDump { kind: DumpKind::Full, gzipped: false });
    }

    #[test]
    fn the_handmade_traces_of_other_releases_are_told_apart() {
        for (file, version) in [("go1.11.trace", "1.11"), ("go1.21.trace", "1.21"), ("go1.22.trace", "1.22")]
        {
            let bytes = fixture(&format!("traces/handmade/{file}"));
            assert_eq!(detect(&bytes), Format::GoTrace { go_version: version.into() }, "{file}");
        }
        assert_eq!(crate::evidence::analysis::trace_releases("1.11"), "Go 1.11 to 1.18");
        assert_eq!(crate::evidence::analysis::trace_releases("1.21"), "Go 1.21");
        assert_eq!(crate::evidence::analysis::trace_releases("1.22"), "Go 1.22");
    }

    #[test]
    fn trace_headers_of_every_version_are_read() {
        assert_eq!(detect(b"go 1.22 trace\0\0\0\x01\x02"), Format::GoTrace { go_version: "1.22".into() });
        assert_eq!(detect(b"go 1.5 trace\0\0\0\0\x01"), Format::GoTrace { go_version: "1.5".into() });
        assert_eq!(detect(b"go 1.22 traces\0\0"), Format::Other);
        assert_eq!(detect(b"go 1.x trace\0\0\0\0"), Format::Other);
    }

    #[test]
    fn anything_else_is_a_plain_attachment_whatever_it_is_called() {
        for other in [
            &b""[..],
            b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>",
            b"<!doctype html><title>x</title>",
            b"\x89PNG\r\n\x1a\n",
            b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            b"mentions goroutine 1 [running]: in passing",
        ] {
            assert_eq!(detect(other), Format::Other, "{:?}", String::from_utf8_lossy(other));
        }
        assert_eq!(detect(&gzip(b"just some text")), Format::Other);
        assert_eq!(
            detect(&gzip(b"goroutine profile: total 4\n")),
            Format::GoroutineDump { kind: DumpKind::Grouped, gzipped: true }
        );
        assert_eq!(Format::Other.name(), "other");
        assert_eq!(Format::PprofText { kind: TextProfile::Heap, gzipped: false }.name(), "pprof");
    }

    #[test]
    fn random_bytes_are_not_taken_for_a_profile() {
        let mut state = 0x9e37_79b9_7f4a_7c15u64;
        let mut taken = 0;
        for _ in 0..2_000 {
            let bytes: Vec<u8> = (0..4096)
                .map(|_| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    state as u8
                })
                .collect();
            taken += usize::from(detect(&bytes) != Format::Other);
        }
        assert_eq!(taken, 0, "random buffers taken for evidence");
    }

    #[test]
    fn invalid_utf8_does_not_hide_a_dump() {
        let mut bytes = b"goroutine 1 [running]:\nmain.main()\n\t/src/\xff\xfe.go:3\n".to_vec();
        bytes.push(0xc3);
        assert_eq!(detect(&bytes), Format::GoroutineDump { kind: DumpKind::Full, gzipped: false });
    }
}
