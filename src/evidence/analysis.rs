//! The analysis of an artifact, by its format: what a reader is shown of a
//! file, as the JSON the API returns and one line for the lists.

use serde_json::json;

use super::detect::Format;

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
    let _ = max_decompressed;
    match format {
        Format::GoTrace { go_version } => Ok(trace(go_version, bytes.len())),
        Format::Other => Err(AnalysisError::Unreadable("a plain attachment has no analysis".into())),
        Format::Pprof { .. } | Format::PprofText { .. } | Format::GoroutineDump { .. } => {
            Err(AnalysisError::Unreadable("this kind of file is not analysed yet".into()))
        }
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
    use super::*;

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
