//! The analysis of an artifact, by its format: what a reader is shown of a
//! file, as the JSON the API returns and one line for the lists.

use serde_json::json;

use super::{
    detect::Format,
    goroutines::{self, DumpAnalysis, DumpError},
    gunzip::{GunzipError, gunzip, is_gzip},
    pprof::{self, PprofAnalysis, ProfileError, format::label},
};

/// An analysis, with its one-line summary.
#[derive(Debug, Clone)]
pub struct Analysed {
    pub analysis: serde_json::Value,
    pub summary: String,
}

/// Why a file could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AnalysisError {
    /// It decompresses past the limit: refused, as a too-large upload is.
    #[error("{0}")]
    TooLarge(String),
    /// It is recognised but cannot be read whole.
    #[error("{0}")]
    Unreadable(String),
}

/// Whether a file of this format has an analysis at all.
pub fn is_analysed(format: &Format) -> bool {
    !matches!(format, Format::Other)
}

/// Analyses the whole file `bytes`, of the detected `format`. CPU-bound:
/// call it off the async workers.
pub fn analyse(format: &Format, bytes: &[u8], max_decompressed: u64) -> Result<Analysed, AnalysisError> {
    match format {
        Format::GoTrace { go_version } => Ok(trace(go_version, bytes.len())),
        Format::Other => Err(AnalysisError::Unreadable("a plain attachment has no analysis".into())),
        Format::Pprof { .. } | Format::PprofText { .. } => {
            let profile = pprof::read_profile(bytes, max_decompressed).map_err(profile_error)?;
            let analysis = pprof::analyse(&profile, None).map_err(profile_error)?;
            let suspects = heap_suspects(&profile);
            let mut summary = profile_summary(&analysis);
            if let Some(first) = suspects.first() {
                summary.push_str(&format!("; suspect: {}", first["signature"].as_str().unwrap_or_default()));
            }
            let mut json = to_json(&analysis)?;
            json["suspects"] = serde_json::Value::Array(suspects);
            Ok(Analysed { analysis: json, summary })
        }
        Format::GoroutineDump { .. } => {
            // Decompressed here, within the analysis's own bound.
            let plain = if is_gzip(bytes) {
                std::borrow::Cow::Owned(gunzip(bytes, max_decompressed).map_err(gunzip_error)?)
            } else {
                std::borrow::Cow::Borrowed(bytes)
            };
            let analysis = goroutines::analyse_dump(&plain).map_err(dump_error)?;
            let summary = dump_summary(&analysis);
            Ok(Analysed { analysis: to_json(&analysis)?, summary })
        }
    }
}

/// A timer's share of the memory in use past which it is named a suspect.
const TIMER_SHARE_PCT: f64 = 5.0;

/// What a heap profile shows of a known leak: timers (`time.After`,
/// `time.NewTimer`) created in a loop hold their memory until they fire, so
/// they pile up in the memory in use.
pub fn heap_suspects(profile: &pprof::Profile) -> Vec<serde_json::Value> {
    let Ok(in_use) = pprof::analyse(profile, Some("inuse_space")) else { return Vec::new() };
    let timers = in_use
        .top
        .iter()
        .filter(|row| matches!(row.function.as_str(), "time.NewTimer" | "time.After" | "time.AfterFunc"))
        .max_by(|a, b| a.cum_pct.total_cmp(&b.cum_pct));
    let Some(timer) = timers.filter(|timer| timer.cum_pct >= TIMER_SHARE_PCT) else { return Vec::new() };
    vec![json!({
        "key": goroutines::key::TIMER_IN_LOOP,
        "signature": "timers created in a loop, held until they fire",
        "explanation": format!(
            "{} holds {:.1}% of the memory in use. A time.After (or time.NewTimer) in a select inside a loop makes a \
             new timer on every pass, and each lives until it fires, however soon the loop moves on. Make one timer \
             (time.NewTimer) outside the loop and Reset it, or Stop the timer when the select is done.",
            timer.function, timer.cum_pct
        ),
        "cause_category": "resource exhaustion",
        "playbooks": ["goroutine-leak-hunt"],
        "evidence": {"function": timer.function, "cum": timer.cum, "cum_pct": timer.cum_pct, "sample_type": "inuse_space"},
    })]
}

fn to_json(value: &impl serde::Serialize) -> Result<serde_json::Value, AnalysisError> {
    serde_json::to_value(value)
        .map_err(|err| AnalysisError::Unreadable(format!("the analysis could not be written: {err}")))
}

/// "cpu: 2.31s in 3.01s; heaviest main.burn (45.2%)".
fn profile_summary(analysis: &PprofAnalysis) -> String {
    let unit = analysis
        .sample_types
        .iter()
        .find(|t| t.name == analysis.sample_type)
        .map(|t| t.unit.as_str())
        .unwrap_or_default();
    let mut summary = format!("{} profile: {} in all", analysis.sample_type, label(analysis.total, unit));
    if analysis.duration_nanos > 0 {
        summary.push_str(&format!(" over {}", label(analysis.duration_nanos, "nanoseconds")));
    }
    if let Some(top) = analysis.top.first() {
        summary.push_str(&format!("; heaviest {} ({:.1}% flat)", top.function, top.flat_pct));
    }
    summary
}

/// "703 goroutines; suspect: HTTP client without timeouts (600 goroutines, IO wait, 1 min)".
fn dump_summary(analysis: &DumpAnalysis) -> String {
    let plural = if analysis.goroutines == 1 { "" } else { "s" };
    let mut summary = format!("{} goroutine{plural}", analysis.goroutines);
    if let Some(panic) = &analysis.panic {
        summary = format!("{}: {}; {summary}", panic.kind, panic.message);
    }
    match analysis.suspects.as_slice() {
        [] => {}
        [first, rest @ ..] => {
            let evidence = &first.evidence;
            let wait = evidence.max_wait_minutes.map(|m| format!(", up to {m} min")).unwrap_or_default();
            summary.push_str(&format!(
                "; suspect: {} ({} goroutines, {}{wait})",
                first.signature, evidence.count, evidence.state
            ));
            if !rest.is_empty() {
                summary.push_str(&format!(" and {} more", rest.len()));
            }
        }
    }
    if analysis.truncated {
        summary.push_str(" (the dump is cut short)");
    }
    summary
}

fn profile_error(err: ProfileError) -> AnalysisError {
    match err {
        ProfileError::TooLarge { .. } => AnalysisError::TooLarge(err.to_string()),
        other => AnalysisError::Unreadable(other.to_string()),
    }
}

fn gunzip_error(err: GunzipError) -> AnalysisError {
    match err {
        GunzipError::TooLarge { .. } => AnalysisError::TooLarge(err.to_string()),
        GunzipError::Corrupt(_) => AnalysisError::Unreadable(err.to_string()),
    }
}

fn dump_error(err: DumpError) -> AnalysisError {
    match err {
        DumpError::Gunzip(inner) => gunzip_error(inner),
        other => AnalysisError::Unreadable(other.to_string()),
    }
}

/// A trace is recognised from its header; which Go releases write that
/// version of the format is said with it.
fn trace(go_version: &str, size: usize) -> Analysed {
    let releases = trace_releases(go_version);
    let analysis = json!({
        "format": "go_trace",
        "go_version": go_version,
        "written_by": releases,
        "size": size,
    });
    Analysed { analysis, summary: format!("Go execution trace, format {go_version} ({releases})") }
}

/// The Go releases that write a trace format version: the version moves
/// only when the format changes.
pub fn trace_releases(go_version: &str) -> String {
    let minor: u32 = go_version.strip_prefix("1.").and_then(|minor| minor.parse().ok()).unwrap_or(0);
    match minor {
        0..=4 => format!("an unknown Go release ({go_version})"),
        5 | 6 => "Go 1.5 and 1.6".into(),
        7 => "Go 1.7".into(),
        8 => "Go 1.8".into(),
        9 => "Go 1.9".into(),
        10 => "Go 1.10".into(),
        11..=18 => "Go 1.11 to 1.18".into(),
        19 | 20 => "Go 1.19 and 1.20".into(),
        21 => "Go 1.21".into(),
        22 => "Go 1.22".into(),
        minor => format!("Go 1.{minor} or later"),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::evidence::detect::detect;

    fn analysed(path: &str) -> Analysed {
        let bytes =
            std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(path)).unwrap();
        analyse(&detect(&bytes[..bytes.len().min(65536)]), &bytes, 1 << 30).unwrap()
    }

    #[test]
    fn a_profile_and_a_dump_are_summed_up_in_one_line() {
        let cpu = analysed("pprof/cpulabels.cpu.pb.gz");
        assert_eq!(cpu.analysis["format"], "pprof");
        assert!(cpu.summary.starts_with("cpu profile: "), "{}", cpu.summary);
        let leak = analysed("dumps/httpleak.goroutine.debug2.txt");
        assert_eq!(leak.analysis["format"], "goroutine_dump");
        assert!(leak.summary.starts_with("703 goroutines; suspect: "), "{}", leak.summary);
        let crash = analysed("dumps/crash.map_writes.txt");
        assert!(crash.summary.contains("concurrent map writes"), "{}", crash.summary);
    }

    #[test]
    fn timers_made_in_a_loop_are_named_from_a_heap_profile() {
        let heap = analysed("pprof/heapgrow.heap.pb.gz");
        assert_eq!(heap.analysis["suspects"][0]["key"], "timer-in-loop");
        assert!(heap.summary.contains("suspect: timers created in a loop"), "{}", heap.summary);
        let cpu = analysed("pprof/cpulabels.cpu.pb.gz");
        assert_eq!(cpu.analysis["suspects"], serde_json::json!([]), "a CPU profile has no heap suspects");
        let healthy_heap = analysed("pprof/httpleak.heap.pb.gz");
        assert_eq!(healthy_heap.analysis["suspects"], serde_json::json!([]));
    }

    #[test]
    fn a_bomb_is_too_large_and_a_broken_profile_unreadable() {
        use std::io::Write;
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        encoder.write_all(b"goroutine profile: total 1\n").unwrap();
        encoder.write_all(&vec![b' '; 8 << 20]).unwrap();
        let bomb = encoder.finish().unwrap();
        let format = detect(&bomb);
        assert!(matches!(analyse(&format, &bomb, 1 << 20), Err(AnalysisError::TooLarge(_))));
        let broken = b"\x0a\x04\x08\x01\x10\x02\x12\x05\x0a\x01";
        assert!(matches!(
            analyse(&Format::Pprof { gzipped: false }, broken, 1 << 20),
            Err(AnalysisError::Unreadable(_))
        ));
    }

    #[test]
    fn a_trace_says_its_format_and_the_releases_that_write_it() {
        let analysed =
            analyse(&Format::GoTrace { go_version: "1.19".into() }, b"go 1.19 trace\0\0\0", 1).unwrap();
        assert_eq!(analysed.analysis["format"], "go_trace");
        assert_eq!(analysed.analysis["go_version"], "1.19");
        assert_eq!(analysed.summary, "Go execution trace, format 1.19 (Go 1.19 and 1.20)");
        assert_eq!(trace_releases("1.14"), "Go 1.11 to 1.18");
        assert_eq!(trace_releases("1.25"), "Go 1.25 or later");
    }
}
