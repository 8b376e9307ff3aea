//! Goroutine dump analysis: totals, counts per state, goroutines grouped by
//! stack, the parent tree, leak suspects and, for crash output, the panic.
//! Pure functions on bytes, as the `analysis` JSON of DESIGN.md describes.

mod group;
mod parse;
mod suspects;

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use super::gunzip::{GunzipError, gunzip, is_gzip};

/// A map keyed by what a dump holds: hashed with a fast hasher, seeded per
/// map so that a hostile dump cannot aim its keys at one bucket.
pub(crate) type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

pub use suspects::{MIN_GROUP_SIZE, MIN_WAIT_MINUTES, category, key, playbook};

/// The most groups an analysis lists; the rest are counted.
pub const MAX_GROUPS: usize = 500;
/// The most exact groups an analysis lists.
pub const MAX_EXACT_GROUPS: usize = 1000;
/// The most bytes a gzipped dump may inflate to.
pub const MAX_DUMP_BYTES: u64 = 1 << 30;

/// Why bytes could not be analysed as a goroutine dump.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DumpError {
    #[error("the file is empty")]
    Empty,
    #[error("no goroutine was found in the file")]
    NoGoroutines,
    #[error(transparent)]
    Gunzip(#[from] GunzipError),
}

/// The analysis of a goroutine dump (`"format":"goroutine_dump"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DumpAnalysis {
    #[schema(pattern = "^goroutine_dump$")]
    pub format: String,
    /// `full` (debug=2), `grouped` (debug=1) or `crash`.
    pub layout: String,
    pub goroutines: u64,
    /// Goroutines per state, the header text up to its first comma. For a
    /// debug=1 profile, which has no headers, the state its frames imply.
    pub states: BTreeMap<String, u64>,
    /// Groups of goroutines with the same functions and lines (argument
    /// values ignored), biggest first; a crash's panicking goroutine first.
    pub groups: Vec<GroupView>,
    pub groups_total: usize,
    pub groups_omitted: usize,
    pub goroutines_in_omitted_groups: u64,
    /// Goroutines with identical stacks, arguments included: the
    /// subdivisions of `groups`.
    pub exact_groups: Vec<ExactGroupView>,
    /// Goroutines that created others (`created by F in goroutine N`).
    pub parents: Vec<ParentView>,
    pub suspects: Vec<Suspect>,
    pub truncated: bool,
    pub panic: Option<PanicView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupView {
    pub count: u64,
    pub state: String,
    /// `null` when the dump shows no waits (debug=1); 0 means under a minute.
    pub min_wait_minutes: Option<u32>,
    pub max_wait_minutes: Option<u32>,
    pub top_function: String,
    /// The first frame outside Go's own library.
    pub user_function: Option<String>,
    pub created_by: Option<String>,
    pub locked_to_thread: bool,
    /// Marked `(leaked)` by the runtime's goroutine leak profile.
    pub leaked: bool,
    pub labels: Vec<String>,
    pub frames: Vec<FrameView>,
    pub frames_omitted: usize,
    /// The runtime cut the stack short (`...additional frames elided...`).
    pub elided: bool,
    pub exact_groups: usize,
    pub goroutine_ids: Vec<u64>,
    /// The arguments of the first user frame of one member.
    #[serde(skip)]
    pub user_args: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct FrameView {
    pub function: String,
    /// `file.go:123`
    pub location: String,
    /// Argument values, in exact groups only.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub args: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ExactGroupView {
    /// Its group in `groups`.
    pub group: usize,
    pub count: u64,
    pub min_wait_minutes: Option<u32>,
    pub max_wait_minutes: Option<u32>,
    pub labels: Option<String>,
    pub frames: Vec<FrameView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ParentView {
    pub goroutine: u64,
    /// Whether the parent itself is in the dump (it may have exited).
    pub present: bool,
    pub group: Option<usize>,
    /// The function that created the children (the `created by` line).
    pub function: Option<String>,
    pub children: u64,
    pub child_groups: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[schema(as = GoroutineSuspect)]
pub struct Suspect {
    /// The biggest group showing the signature.
    pub group: usize,
    pub groups: Vec<usize>,
    pub key: String,
    pub signature: String,
    pub explanation: String,
    pub cause_category: String,
    pub playbooks: Vec<String>,
    pub evidence: SuspectEvidence,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SuspectEvidence {
    /// Goroutines in all the suspect's groups.
    pub count: u64,
    /// The state of its biggest group.
    pub state: String,
    pub states: Vec<String>,
    pub min_wait_minutes: Option<u32>,
    pub max_wait_minutes: Option<u32>,
    pub top_function: String,
    pub user_function: Option<String>,
    pub created_by: Option<String>,
    /// For a lock pile-up: groups that are probably holding the lock.
    pub likely_holders: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct PanicView {
    /// `panic`, `fatal error`, `stack overflow` or `signal`.
    pub kind: String,
    pub message: String,
    pub signal: Option<String>,
    /// The goroutine that panicked (the first one the crash prints).
    pub goroutine: Option<u64>,
    pub group: Option<usize>,
    pub top_function: Option<String>,
}

/// Analyses a goroutine dump, plain or gzipped: debug=1, debug=2 or crash
/// output. A dump cut short is analysed as far as it goes, with
/// `truncated: true`.
pub fn analyse_dump(bytes: &[u8]) -> Result<DumpAnalysis, DumpError> {
    if bytes.is_empty() {
        return Err(DumpError::Empty);
    }
    let mut gzip_cut = false;
    let inflated;
    let text = if is_gzip(bytes) {
        inflated = match gunzip(bytes, MAX_DUMP_BYTES) {
            Ok(inflated) => inflated,
            // A gzip stream cut short still holds the dump up to the cut.
            Err(GunzipError::Corrupt(_)) => {
                gzip_cut = true;
                inflate_readable_part(bytes)?
            }
            Err(err) => return Err(err.into()),
        };
        &inflated[..]
    } else {
        bytes
    };
    let dump = parse::parse(text);
    if dump.goroutines.is_empty() {
        return Err(DumpError::NoGoroutines);
    }
    Ok(analyse(&dump, gzip_cut))
}

/// What damaged gzip data gives before the damage, within the bound.
fn inflate_readable_part(bytes: &[u8]) -> Result<Vec<u8>, DumpError> {
    use std::io::Read;
    let mut decoder = flate2::read::MultiGzDecoder::new(bytes).take(MAX_DUMP_BYTES + 1);
    let mut out = Vec::new();
    let mut chunk = [0u8; 64 * 1024];
    loop {
        match decoder.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(read) => out.extend_from_slice(&chunk[..read]),
        }
    }
    if out.len() as u64 > MAX_DUMP_BYTES {
        return Err(GunzipError::TooLarge { limit: MAX_DUMP_BYTES }.into());
    }
    Ok(out)
}

fn analyse(dump: &parse::Dump, gzip_cut: bool) -> DumpAnalysis {
    let mut states: BTreeMap<String, u64> = BTreeMap::new();
    for goroutine in &dump.goroutines {
        *states.entry(dump.str(goroutine.state).to_string()).or_default() += goroutine.count;
    }
    let listed: u64 = dump.goroutines.iter().map(|g| g.count).sum();
    let waits_known = dump.layout != parse::Layout::Grouped;
    let grouping = group::group(dump);
    let suspects = suspects::find_suspects(&grouping.groups, waits_known);

    let groups_total = grouping.groups.len();
    let mut groups = grouping.groups;
    let omitted: u64 = groups.iter().skip(MAX_GROUPS).map(|g| g.count).sum();
    groups.truncate(MAX_GROUPS);
    let mut exact_groups = grouping.exact_groups;
    exact_groups.retain(|exact| exact.group < MAX_GROUPS);
    exact_groups.truncate(MAX_EXACT_GROUPS);
    let suspects = suspects.into_iter().filter(|s| s.group < MAX_GROUPS).collect();

    let panic = dump.crash.as_ref().map(|crash| PanicView {
        kind: crash.kind.to_string(),
        message: crash.message.clone(),
        signal: crash.signal.clone(),
        goroutine: crash.goroutine,
        group: grouping.panic_group,
        top_function: grouping.panic_group.and_then(|g| groups.get(g)).map(|g| g.top_function.clone()),
    });
    DumpAnalysis {
        format: "goroutine_dump".to_string(),
        layout: match dump.layout {
            parse::Layout::Grouped => "grouped",
            parse::Layout::Full => "full",
            parse::Layout::Crash => "crash",
        }
        .to_string(),
        goroutines: dump.declared_total.unwrap_or(listed).max(listed),
        states,
        groups_total,
        groups_omitted: groups_total.saturating_sub(MAX_GROUPS),
        goroutines_in_omitted_groups: omitted,
        groups,
        exact_groups,
        parents: grouping.parents,
        suspects,
        truncated: dump.truncated || gzip_cut,
        panic,
    }
}

/// Two dumps compared group by group (`"format":"goroutine_diff"`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct DumpDiff {
    #[schema(pattern = "^goroutine_diff$")]
    pub format: String,
    /// Biggest change first: grown, shrunk, appeared or vanished.
    pub groups: Vec<GroupDelta>,
    pub before_goroutines: u64,
    pub after_goroutines: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GroupDelta {
    pub top_function: String,
    pub state: String,
    /// Told apart too: the read loops of client connections and of server
    /// connections share a top function and a state.
    pub created_by: Option<String>,
    pub before: u64,
    pub after: u64,
    pub delta: i64,
}

/// Which groups grew, shrank, appeared or vanished between two dumps,
/// matched by top function, state and creating function.
pub fn diff_dumps(before: &DumpAnalysis, after: &DumpAnalysis) -> DumpDiff {
    type Key<'a> = (&'a str, &'a str, Option<&'a str>);
    let mut rows: FastMap<Key<'_>, (u64, u64)> = FastMap::default();
    for group in &before.groups {
        rows.entry((&group.top_function, &group.state, group.created_by.as_deref())).or_default().0 +=
            group.count;
    }
    for group in &after.groups {
        rows.entry((&group.top_function, &group.state, group.created_by.as_deref())).or_default().1 +=
            group.count;
    }
    let mut groups: Vec<GroupDelta> = rows
        .into_iter()
        .map(|((top_function, state, created_by), (before, after))| GroupDelta {
            top_function: top_function.to_string(),
            state: state.to_string(),
            created_by: created_by.map(str::to_string),
            before,
            after,
            delta: after as i64 - before as i64,
        })
        .collect();
    groups.sort_by(|a, b| {
        b.delta
            .unsigned_abs()
            .cmp(&a.delta.unsigned_abs())
            .then(b.after.cmp(&a.after))
            .then_with(|| a.top_function.cmp(&b.top_function))
            .then_with(|| a.state.cmp(&b.state))
    });
    DumpDiff {
        format: "goroutine_diff".to_string(),
        groups,
        before_goroutines: before.goroutines,
        after_goroutines: after.goroutines,
    }
}

#[cfg(test)]
mod tests;
