//! Reading goroutine dumps line by line: `?debug=2` dumps (one block per
//! goroutine), `?debug=1` profiles (stacks already grouped with a count) and
//! crash output (a panic or fatal error, then the goroutines).
//!
//! The text is never copied whole: each line is looked at once, names and
//! locations are interned, and a stack seen before costs one id. Only the
//! first goroutine of each distinct stack keeps its argument text; the
//! others keep a hash of it, which is all exact grouping needs.

use std::hash::BuildHasher;

use super::FastMap;

/// An interned string.
pub type Sym = u32;

/// Placeholder for a frame's arguments until its stack is known to be new.
const NO_ARGS: Sym = Sym::MAX;
/// Placeholder for a frame's location until its `\tfile:line` line comes;
/// a frame left without one gets the empty string when its stack is kept.
const NO_LOCATION: Sym = Sym::MAX - 1;

/// An interned stack.
pub type StackId = u32;

/// Strings seen in a dump, each stored once.
#[derive(Debug, Default)]
pub struct Interner {
    ids: FastMap<Box<str>, Sym>,
    strings: Vec<Box<str>>,
}

impl Interner {
    pub fn intern(&mut self, text: &str) -> Sym {
        if let Some(id) = self.ids.get(text) {
            return *id;
        }
        let id = self.strings.len() as Sym;
        self.strings.push(text.into());
        self.ids.insert(text.into(), id);
        id
    }

    pub fn get(&self, id: Sym) -> &str {
        &self.strings[id as usize]
    }
}

/// One call in a stack.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Frame {
    /// `net/http.(*persistConn).readLoop`
    pub function: Sym,
    /// `/usr/lib/go/src/net/http/transport.go:2205`, without the pc offset.
    pub location: Sym,
    /// The argument text of the first goroutine seen with this stack
    /// (`0xc0000ce5a0, {0x77fa40?, 0xc000014178?}`), or `...`.
    pub args: Sym,
}

/// A distinct stack: its frames, and whether the runtime cut it short.
#[derive(Debug)]
pub struct Stack {
    pub frames: Vec<Frame>,
    /// `...additional frames elided...` (or `...N frames elided...`).
    pub elided: bool,
}

/// One goroutine of a debug=2 dump or crash, or one record of a debug=1
/// profile (then `count` goroutines share it and `id` is `None`).
#[derive(Debug)]
pub struct Goroutine {
    pub id: Option<u64>,
    pub count: u64,
    /// The header's state up to the first comma, as written:
    /// `chan receive (nil chan)`, `chan send (leaked)`, `sync.Mutex.Lock`.
    /// For debug=1 records, the state the frames imply (see [`implied_state`]).
    pub state: Sym,
    pub wait_minutes: Option<u32>,
    pub locked_to_thread: bool,
    /// Labels as the dump writes them: `{"handler":"checkout"}`.
    pub labels: Option<Sym>,
    pub stack: StackId,
    /// The function named on the `created by` line.
    pub created_by: Option<Sym>,
    /// `created by F in goroutine N` (Go 1.21+).
    pub parent: Option<u64>,
    /// The goroutines named by `[originating from goroutine N]:` blocks
    /// (`GODEBUG=tracebackancestors=N`), nearest first.
    pub ancestors: Vec<u64>,
}

/// What a crash says before its goroutines.
#[derive(Debug, Default, Clone)]
pub struct Crash {
    /// `panic`, `fatal error`, `stack overflow` or `signal`.
    pub kind: &'static str,
    /// The panic value or fatal error text, continuation lines included
    /// (`panic: a [recovered]` then `\tpanic: b`).
    pub message: String,
    /// `[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4abcc2]`
    pub signal: Option<String>,
    /// The first goroutine printed after the message: the one that panicked.
    pub goroutine: Option<u64>,
}

/// Which text a dump is, as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// `goroutine profile: total N` and `K @ 0x…` records (debug=1).
    Grouped,
    /// `goroutine N [state]:` blocks (debug=2).
    Full,
    /// A panic or fatal error followed by goroutine blocks.
    Crash,
}

/// A dump as read: goroutines, their stacks and what the crash said.
#[derive(Debug)]
pub struct Dump {
    pub layout: Layout,
    pub goroutines: Vec<Goroutine>,
    pub stacks: Vec<Stack>,
    pub strings: Interner,
    /// The `total N` of a debug=1 profile.
    pub declared_total: Option<u64>,
    pub crash: Option<Crash>,
    /// The text ends mid-goroutine or mid-line, or a debug=1 profile holds
    /// fewer goroutines than its total.
    pub truncated: bool,
}

impl Dump {
    pub fn str(&self, id: Sym) -> &str {
        self.strings.get(id)
    }

    pub fn stack(&self, id: StackId) -> &Stack {
        &self.stacks[id as usize]
    }
}

/// Reads a whole dump. Invalid UTF-8 is replaced, CRLF line ends accepted.
pub fn parse(bytes: &[u8]) -> Dump {
    let mut parser = Parser::default();
    // The text is checked once as a whole; only a dump with invalid UTF-8
    // pays for a copy with the bad bytes replaced.
    // (The lossy conversion alone checks far slower than this.)
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => std::borrow::Cow::Borrowed(text),
        Err(_) => String::from_utf8_lossy(bytes),
    };
    let mut start = 0;
    for end in memchr::memchr_iter(b'\n', text.as_bytes()).chain([text.len()]) {
        // A newline is a character boundary: the text slices for free.
        let line = &text[start..end];
        start = end + 1;
        parser.line(line.strip_suffix('\r').unwrap_or(line));
    }
    let ends_mid_line = !bytes.is_empty() && !bytes.ends_with(b"\n");
    parser.finish(ends_mid_line)
}

/// Where the parser is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Section {
    /// Before the first goroutine: crash message lines, log lines.
    Preamble,
    /// In a goroutine's own frames.
    Frames,
    /// In `[originating from goroutine N]:` or `runtime stack:` frames,
    /// which are read past.
    Skipped,
    /// After a `created by` line: only its location may follow.
    CreatedBy,
}

/// A goroutine being read.
#[derive(Debug)]
struct Open {
    goroutine: Goroutine,
    elided: bool,
    /// The last frame is waiting for its `\tfile:line` line.
    awaiting_location: bool,
    /// `goroutine running on other thread; stack unavailable`
    stack_unavailable: bool,
}

#[derive(Default)]
struct Parser<'a> {
    strings: Interner,
    stacks: Vec<Stack>,
    stack_ids: FastMap<Vec<(Sym, Sym, u64)>, StackId>,
    goroutines: Vec<Goroutine>,
    open: Option<Open>,
    /// The open goroutine's frames and a hash of each one's arguments
    /// (buffers kept from one goroutine to the next).
    frames: Vec<Frame>,
    args_hashes: Vec<u64>,
    /// The open goroutine's stack as the key it is interned by.
    key: Vec<(Sym, Sym, u64)>,
    /// The argument text of each of the open goroutine's frames.
    args: Vec<&'a str>,
    section: Option<Section>,
    layout: Option<Layout>,
    declared_total: Option<u64>,
    crash: Option<Crash>,
    /// The crash message is still being read (continuation lines).
    in_crash_message: bool,
    cut_short: bool,
}

impl<'a> Parser<'a> {
    fn section(&self) -> Section {
        self.section.unwrap_or(Section::Preamble)
    }

    fn line(&mut self, line: &'a str) {
        if is_blank(line) {
            self.close();
            self.section = Some(Section::Preamble);
            self.in_crash_message = false;
            return;
        }
        if let Some(header) = parse_header(line) {
            self.close();
            self.start_goroutine(header);
            return;
        }
        if let Some(total) = line.strip_prefix("goroutine profile: total ") {
            self.layout.get_or_insert(Layout::Grouped);
            self.declared_total = total.trim().parse().ok();
            return;
        }
        if let Some(count) = grouped_record_count(line) {
            self.close();
            self.layout.get_or_insert(Layout::Grouped);
            self.start_record(count);
            return;
        }
        if let Some(ancestor) = line.strip_prefix("[originating from goroutine ") {
            if let (Some(open), Some(id)) = (self.open.as_mut(), leading_number(ancestor)) {
                open.goroutine.ancestors.push(id);
            }
            self.section = Some(Section::Skipped);
            return;
        }
        if line == "runtime stack:" {
            self.section = Some(Section::Skipped);
            return;
        }
        if self.open.is_none() || self.section() == Section::Preamble {
            self.preamble(line);
            return;
        }
        self.goroutine_line(line);
    }

    fn preamble(&mut self, line: &str) {
        if let Some(crash) = crash_start(line) {
            self.layout = Some(Layout::Crash);
            match &mut self.crash {
                // `fatal error: stack overflow` after `runtime: goroutine stack exceeds`.
                Some(existing) if existing.kind == "stack overflow" => {
                    if existing.message.is_empty() {
                        existing.message = crash.message;
                    }
                }
                Some(existing) if existing.goroutine.is_none() && crash.kind == "panic" => {
                    existing.message.push('\n');
                    existing.message.push_str(line);
                }
                Some(_) => {}
                None => self.crash = Some(crash),
            }
            self.in_crash_message = true;
            return;
        }
        let Some(crash) = self.crash.as_mut() else { return };
        if line.starts_with("[signal ") {
            crash.signal = Some(line.to_string());
            self.in_crash_message = false;
        } else if self.in_crash_message && crash.goroutine.is_none() && line.starts_with('\t') {
            // `panic: first [recovered]` / `\tpanic: second`
            crash.message.push('\n');
            crash.message.push_str(line.trim());
        }
    }

    fn goroutine_line(&mut self, line: &'a str) {
        let section = self.section();
        let Some(open) = self.open.as_mut() else { return };
        if let Some(location) = line.strip_prefix('\t') {
            if location.starts_with("goroutine running on other thread") {
                open.stack_unavailable = true;
                return;
            }
            if section == Section::Frames && open.awaiting_location {
                if let Some(frame) = self.frames.last_mut() {
                    frame.location = self.strings.intern(location_of(location));
                }
                open.awaiting_location = false;
            }
            return;
        }
        if line.starts_with("...") && line.ends_with("elided...") {
            if section == Section::Frames {
                open.elided = true;
                open.awaiting_location = false;
            }
            return;
        }
        if section == Section::Skipped {
            return;
        }
        if let Some(created) = line.strip_prefix("created by ") {
            // `F in goroutine N`, read from the end (a function name holds no spaces).
            let parent = created
                .trim_end()
                .rsplit_once(' ')
                .and_then(|(head, id)| Some((head.strip_suffix(" in goroutine")?, id.parse::<u64>().ok()?)));
            let (function, parent) = match parent {
                Some((function, id)) => (function, Some(id)),
                None => (created.trim(), None),
            };
            open.goroutine.created_by = Some(self.strings.intern(function));
            open.goroutine.parent = parent;
            open.awaiting_location = false;
            self.section = Some(Section::CreatedBy);
            return;
        }
        if section == Section::CreatedBy {
            return;
        }
        if let Some(frame) = line.strip_prefix('#') {
            // debug=1: `#\t0x45e504\tsync.runtime_SemacquireMutex+0x24\t/usr/…/sema.go:77`
            if let Some(labels) = frame.trim_start().strip_prefix("labels: ") {
                open.goroutine.labels = Some(self.strings.intern(labels.trim()));
                return;
            }
            let mut fields = frame.split('\t').map(str::trim).filter(|f| !f.is_empty());
            let (_pc, Some(function)) = (fields.next(), fields.next()) else { return };
            let function = function.rsplit_once("+0x").map_or(function, |(name, _)| name);
            let location = fields.next().unwrap_or("");
            self.frames.push(Frame {
                function: self.strings.intern(function),
                location: self.strings.intern(location),
                args: NO_ARGS,
            });
            self.args_hashes.push(0);
            self.args.push("");
            return;
        }
        if let Some((function, args)) = split_call(line) {
            self.frames.push(Frame {
                function: self.strings.intern(function),
                location: NO_LOCATION,
                args: NO_ARGS,
            });
            self.args_hashes.push(hash_of(args));
            // Kept aside until `close` knows whether the stack is new.
            self.args.push(args);
            open.awaiting_location = true;
        }
    }

    fn start_goroutine(&mut self, header: Header<'_>) {
        self.layout.get_or_insert(Layout::Full);
        if let Some(crash) = self.crash.as_mut() {
            crash.goroutine.get_or_insert(header.id);
        }
        self.in_crash_message = false;
        let state = self.strings.intern(header.state);
        let labels = header.labels.map(|labels| self.strings.intern(labels));
        self.open = Some(Open::new(Goroutine {
            id: Some(header.id),
            count: 1,
            state,
            wait_minutes: header.wait_minutes,
            locked_to_thread: header.locked_to_thread,
            labels,
            stack: 0,
            created_by: None,
            parent: None,
            ancestors: Vec::new(),
        }));
        self.section = Some(Section::Frames);
    }

    fn start_record(&mut self, count: u64) {
        let state = self.strings.intern("");
        self.open = Some(Open::new(Goroutine {
            id: None,
            count,
            state,
            wait_minutes: None,
            locked_to_thread: false,
            labels: None,
            stack: 0,
            created_by: None,
            parent: None,
            ancestors: Vec::new(),
        }));
        self.section = Some(Section::Frames);
    }

    /// Ends the goroutine being read, interning its stack.
    fn close(&mut self) {
        let Some(open) = self.open.take() else { return };
        let Open { mut goroutine, elided, awaiting_location, stack_unavailable } = open;
        let is_record = goroutine.id.is_none();
        if awaiting_location || (self.frames.is_empty() && !stack_unavailable && !is_record) {
            self.cut_short = true;
        }
        if is_record {
            let state = implied_state(self.frames.iter().map(|f| self.strings.get(f.function)));
            goroutine.state = self.strings.intern(state);
        }
        self.key.clear();
        self.key.extend(self.frames.iter().zip(&self.args_hashes).map(|(f, h)| (f.function, f.location, *h)));
        if elided {
            // A stack cut short by the runtime differs from the same frames whole.
            self.key.push((Sym::MAX, Sym::MAX, 0));
        }
        let id = match self.stack_ids.get(self.key.as_slice()) {
            Some(id) => *id,
            None => {
                let id = self.stacks.len() as StackId;
                self.stack_ids.insert(self.key.clone(), id);
                let mut frames = self.frames.clone();
                for (frame, args) in frames.iter_mut().zip(&self.args) {
                    frame.args = self.strings.intern(args);
                    if frame.location == NO_LOCATION {
                        frame.location = self.strings.intern("");
                    }
                }
                self.stacks.push(Stack { frames, elided });
                id
            }
        };
        self.frames.clear();
        self.args_hashes.clear();
        self.args.clear();
        goroutine.stack = id;
        self.goroutines.push(goroutine);
    }

    fn finish(mut self, ends_mid_line: bool) -> Dump {
        self.close();
        let layout = if self.crash.is_some() { Layout::Crash } else { self.layout.unwrap_or(Layout::Full) };
        let listed: u64 = self.goroutines.iter().map(|g| g.count).sum();
        let short_of_total = self.declared_total.is_some_and(|total| listed < total);
        Dump {
            layout,
            goroutines: self.goroutines,
            stacks: self.stacks,
            strings: self.strings,
            declared_total: self.declared_total,
            crash: self.crash,
            truncated: self.cut_short || ends_mid_line || short_of_total,
        }
    }
}

impl Open {
    fn new(goroutine: Goroutine) -> Self {
        Open { goroutine, elided: false, awaiting_location: false, stack_unavailable: false }
    }
}

/// Whether a line holds nothing but white space. Looked at on every line:
/// a byte test first, the Unicode one only for a line starting otherwise.
fn is_blank(line: &str) -> bool {
    match line.bytes().find(|b| !b.is_ascii_whitespace()) {
        None => true,
        Some(b) if b.is_ascii() => false,
        Some(_) => line.trim().is_empty(),
    }
}

/// A hash of a frame's argument text: the same text always gives the same
/// hash, in this dump and the next.
fn hash_of(text: &str) -> u64 {
    foldhash::fast::FixedState::with_seed(0).hash_one(text)
}

/// A goroutine header, read.
#[derive(Debug, PartialEq, Eq)]
pub struct Header<'a> {
    pub id: u64,
    pub state: &'a str,
    pub wait_minutes: Option<u32>,
    pub locked_to_thread: bool,
    pub labels: Option<&'a str>,
}

/// `goroutine 21 [select, 1 minutes, locked to thread]:`, also with Go
/// 1.22's `gp=0x… m=… mp=…` before the bracket and labels in it.
pub fn parse_header(line: &str) -> Option<Header<'_>> {
    let rest = line.strip_prefix("goroutine ")?;
    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 || !rest[digits..].starts_with(' ') {
        return None;
    }
    let id = rest[..digits].parse().ok()?;
    let rest = rest[digits..].trim_end().strip_suffix(':')?;
    let open = rest.find('[')?;
    let close = rest.rfind(']')?;
    if close < open {
        return None;
    }
    let inside = &rest[open + 1..close];
    // Labels after the bracket: `goroutine 7 [select] {"k":"v"}:`.
    let after = rest[close + 1..].trim();
    let mut labels = after.starts_with('{').then_some(after);
    // Most headers hold no colon at all: a byte search first spares them
    // a substring search.
    let labelled = memchr::memchr(b':', inside.as_bytes()).and_then(|_| inside.find("labels: "));
    let (fields, inner_labels) = match labelled {
        Some(at) => (inside[..at].trim_end().trim_end_matches(','), Some(inside[at + 8..].trim())),
        None => (inside, None),
    };
    labels = labels.or(inner_labels);
    // The state is the text up to the first comma, as the dump's readers count it.
    let mut parts = fields.split(',').map(str::trim);
    let state = parts.next().unwrap_or("");
    let mut header = Header { id, state, wait_minutes: None, locked_to_thread: false, labels };
    for part in parts {
        if let Some(minutes) = part.strip_suffix(" minutes") {
            header.wait_minutes = minutes.trim().parse().ok();
        } else if part == "locked to thread" {
            header.locked_to_thread = true;
        }
    }
    Some(header)
}

/// `50 @ 0x437cb6 0x4469be …`: the count of a debug=1 record.
fn grouped_record_count(line: &str) -> Option<u64> {
    if !line.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    let (count, rest) = line.split_once(" @ ")?;
    if !rest.starts_with("0x") {
        return None;
    }
    count.parse().ok()
}

fn leading_number(text: &str) -> Option<u64> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    text[..digits].parse().ok()
}

/// `main.(*cache).get(0xc000010000, {0x1, 0x2})` split into the function
/// and the argument text. Lines that are not calls give `None`.
pub fn split_call(line: &str) -> Option<(&str, &str)> {
    let line = line.trim_end();
    let body = line.strip_suffix(')')?;
    let open = memchr::memrchr(b'(', body.as_bytes())?;
    let function = &body[..open];
    if function.is_empty() || memchr::memchr(b' ', function.as_bytes()).is_some() {
        return None;
    }
    Some((function, &body[open + 1..]))
}

/// `/src/net/http/transport.go:2205 +0x4a fp=… sp=… pc=…` → `…/transport.go:2205`.
fn location_of(text: &str) -> &str {
    let text = text.trim();
    // The first space that starts one of the marks (found by a byte search
    // for spaces, as this runs on every frame of a dump).
    let end = memchr::memchr_iter(b' ', text.as_bytes())
        .find(|at| ["+0x", "fp=", "pc="].iter().any(|mark| text[at + 1..].starts_with(mark)))
        .unwrap_or(text.len());
    &text[..end]
}

/// The first line of a crash, if `line` is one.
fn crash_start(line: &str) -> Option<Crash> {
    let crash = |kind, message: &str| Some(Crash { kind, message: message.to_string(), ..Crash::default() });
    if let Some(message) = line.strip_prefix("panic: ") {
        return crash("panic", message);
    }
    if let Some(message) = line.strip_prefix("fatal error: ") {
        let kind = if message == "stack overflow" { "stack overflow" } else { "fatal error" };
        return crash(kind, message);
    }
    if line.starts_with("runtime: goroutine stack exceeds") {
        return crash("stack overflow", "");
    }
    const SIGNALS: [&str; 4] =
        ["SIGQUIT: quit", "SIGABRT: abort", "SIGSEGV: segmentation violation", "SIGBUS: bus error"];
    if SIGNALS.iter().any(|signal| line.starts_with(signal)) {
        return crash("signal", line);
    }
    if line.starts_with("unexpected fault address") {
        return crash("fatal error", line);
    }
    None
}

/// A debug=1 record has no header: its state is what its top frames show,
/// when they show it.
pub fn implied_state<'a>(mut functions: impl Iterator<Item = &'a str>) -> &'static str {
    let Some(top) = functions.next() else { return "unknown" };
    let second = functions.next().unwrap_or("");
    match top {
        "sync.runtime_SemacquireMutex"
        | "sync.runtime_SemacquireRWMutex"
        | "sync.runtime_SemacquireRWMutexR" => "semacquire",
        "sync.runtime_Semacquire" | "sync.runtime_SemacquireWaitGroup" => "semacquire",
        "internal/poll.runtime_pollWait" => "IO wait",
        "time.Sleep" => "sleep",
        "runtime.chanrecv1" | "runtime.chanrecv2" => "chan receive",
        "runtime.chansend1" => "chan send",
        "runtime.selectgo" | "runtime.block" => "select",
        "sync.runtime_notifyListWait" => "sync.Cond.Wait",
        "runtime/pprof.runtime_goroutineProfileWithLabels" => "running",
        _ if second == "runtime.selectgo" => "select",
        _ => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_reads_state_wait_and_lock() {
        let header = parse_header("goroutine 21 [select, 3 minutes, locked to thread]:").unwrap();
        assert_eq!(header.id, 21);
        assert_eq!(header.state, "select");
        assert_eq!(header.wait_minutes, Some(3));
        assert!(header.locked_to_thread);
    }

    #[test]
    fn header_keeps_the_qualifier_of_a_state() {
        let header = parse_header("goroutine 68 [chan receive (nil chan), 1 minutes]:").unwrap();
        assert_eq!(header.state, "chan receive (nil chan)");
        let header = parse_header("goroutine 9 [chan send (leaked)]:").unwrap();
        assert_eq!(header.state, "chan send (leaked)");
    }

    #[test]
    fn header_of_go_1_22_sigquit_dump_reads_past_gp_and_m() {
        let header = parse_header("goroutine 0 gp=0x5d6f40 m=0 mp=0x5d7a60 [idle]:").unwrap();
        assert_eq!(header.id, 0);
        assert_eq!(header.state, "idle");
    }

    #[test]
    fn header_reads_labels_inside_or_after_the_bracket() {
        let inside = parse_header(
            r#"goroutine 7 [select, 2 minutes, labels: {"handler":"checkout", "tenant":"acme"}]:"#,
        )
        .unwrap();
        assert_eq!(inside.state, "select");
        assert_eq!(inside.wait_minutes, Some(2));
        assert_eq!(inside.labels, Some(r#"{"handler":"checkout", "tenant":"acme"}"#));
        let after = parse_header(r#"goroutine 7 [select] {"handler":"checkout"}:"#).unwrap();
        assert_eq!(after.labels, Some(r#"{"handler":"checkout"}"#));
    }

    #[test]
    fn lines_that_are_not_headers_are_refused() {
        for line in ["goroutine profile: total 3", "goroutine x [running]:", "goroutine 1 running", ""] {
            assert!(parse_header(line).is_none(), "{line}");
        }
    }

    #[test]
    fn call_lines_split_into_function_and_arguments() {
        assert_eq!(
            split_call("net/http.(*persistConn).readLoop(0xc0000ce5a0)"),
            Some(("net/http.(*persistConn).readLoop", "0xc0000ce5a0"))
        );
        assert_eq!(split_call("main.chargeCard(...)"), Some(("main.chargeCard", "...")));
        assert_eq!(
            split_call("main.Map[...].Get({0x1?, 0x2?})"),
            Some(("main.Map[...].Get", "{0x1?, 0x2?}"))
        );
        assert_eq!(split_call("exit status 2"), None);
    }

    #[test]
    fn locations_lose_pc_offsets_and_frame_pointers() {
        assert_eq!(location_of("/src/a.go:12 +0x4a"), "/src/a.go:12");
        assert_eq!(location_of("/src/a.go:86 +0x5d fp=0xc0 sp=0xc1 pc=0x4a"), "/src/a.go:86");
        assert_eq!(location_of("/src/a.go:50"), "/src/a.go:50");
    }

    #[test]
    fn a_dump_cut_mid_goroutine_is_marked_truncated() {
        let dump = parse(
            b"goroutine 1 [running]:\nmain.main()\n\t/a.go:3 +0x1\n\ngoroutine 2 [select]:\nmain.wait(",
        );
        assert!(dump.truncated);
        assert_eq!(dump.goroutines.len(), 2);
        let whole = parse(b"goroutine 1 [running]:\nmain.main()\n\t/a.go:3 +0x1\n");
        assert!(!whole.truncated);
    }

    #[test]
    fn a_repanic_keeps_both_messages_and_a_stackless_goroutine_is_whole() {
        let text = "panic: first [recovered]\n\tpanic: second\n\ngoroutine 1 [running]:\nmain.main()\n\t/a.go:3 +0x1\n\n\
                    goroutine 9 [running]:\n\tgoroutine running on other thread; stack unavailable\n";
        let dump = parse(text.as_bytes());
        let crash = dump.crash.as_ref().unwrap();
        assert_eq!(crash.message, "first [recovered]\npanic: second");
        assert_eq!(crash.goroutine, Some(1));
        assert_eq!(dump.goroutines.len(), 2);
        assert!(!dump.truncated);
    }

    #[test]
    fn identical_stacks_are_stored_once() {
        let block = "goroutine 1 [select]:\nmain.wait(0x1)\n\t/a.go:3 +0x1\ncreated by main.main in goroutine 1\n\t/a.go:9 +0x2\n\n";
        let text = block.repeat(3);
        let dump = parse(text.as_bytes());
        assert_eq!(dump.goroutines.len(), 3);
        assert_eq!(dump.stacks.len(), 1);
        assert_eq!(dump.goroutines[0].parent, Some(1));
        assert_eq!(dump.str(dump.goroutines[0].created_by.unwrap()), "main.main");
    }
}
