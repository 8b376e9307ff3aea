//! Go's legacy text profiles (`?debug=1` of heap, block and mutex), read as
//! `go tool pprof` reads them (same sample types, same scaling), plus the
//! `#` symbol lines Go writes under each record, which pprof ignores: they
//! give the functions' names without the binary.

use std::collections::HashMap;
use std::sync::LazyLock;

use regex::Regex;

use super::model::{Function, Location, Profile, Sample, Str, ValueType};
use super::read::ProfileError;
use crate::evidence::detect::TextProfile;

static HEAP_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"heap profile: *(\d+): *(\d+) *\[ *(\d+): *(\d+) *\] *@ *(heap[_a-z0-9]*)/?(\d*)").unwrap()
});
static HEAP_SAMPLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(-?\d+): *(-?\d+) *\[ *(\d+): *(\d+) *\] @([ x0-9a-f]*)").unwrap());
static CONTENTION_SAMPLE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(\d+) *(\d+) @([ x0-9a-f]*)").unwrap());
static HEX: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"0x[0-9a-f]+").unwrap());
/// `#\t0x4be00d\tsync.(*Mutex).Lock+0x8d\t/usr/lib/go/src/sync/mutex.go:90`, or `#\t0x4be00d` alone.
static SYMBOL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^#\s+0x([0-9a-f]+)(?:\s+(\S.*?)\+0x[0-9a-f]+\s+(.*?)(?::\d+)?)?\s*$").unwrap()
});

/// A legacy text profile of the given kind.
pub(super) fn read_text(bytes: &[u8], kind: TextProfile) -> Result<Profile, ProfileError> {
    let text = String::from_utf8_lossy(bytes);
    // Blank lines before the header are skipped, as format detection skips them.
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, line)| (i + 1, line.trim()))
        .skip_while(|(_, line)| line.is_empty());
    let mut builder = match kind {
        TextProfile::Heap => heap_builder(&mut lines)?,
        TextProfile::Contention | TextProfile::Mutex => contention_builder(&mut lines)?,
    };
    let mut record: Option<Record> = None;
    if let Some((number, line)) = builder.pending_first.take() {
        record = Some(
            builder.parse_sample(&line).map_err(|message| ProfileError::Text { line: number, message })?,
        );
    }
    for (number, line) in lines {
        if line.starts_with("MAPPED_LIBRARIES:") || line.starts_with("--- Memory map:") {
            break;
        }
        if line.starts_with('#') {
            if let (Some(record), Some(symbol)) = (record.as_mut(), SYMBOL.captures(line)) {
                record.add_symbol(&symbol);
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        if line.starts_with("---") && !matches!(builder.kind, Kind::Heap { .. }) {
            break;
        }
        if let Some(done) = record.take() {
            builder.finish(done);
        }
        record =
            Some(builder.parse_sample(line).map_err(|message| ProfileError::Text { line: number, message })?);
    }
    if let Some(done) = record.take() {
        builder.finish(done);
    }
    Ok(builder.profile)
}

/// How sample lines of this profile are read.
enum Kind {
    /// `heap profile:` with the sampling rate and whether alloc columns are present.
    Heap { rate: i64, scaled: bool, has_alloc: bool },
    /// `--- contention:` / `--- mutex:` with the clock rate for cycles.
    Contention { cpu_hz: i64 },
}

struct Builder {
    kind: Kind,
    profile: Profile,
    strings: HashMap<String, Str>,
    functions: HashMap<(Str, Str), usize>,
    locations: HashMap<(u64, Vec<Option<usize>>), usize>,
    /// A sample line read while looking for the header's attributes.
    pending_first: Option<(usize, String)>,
}

/// One sample line and the symbol lines under it.
struct Record {
    values: Vec<i64>,
    addresses: Vec<u64>,
    /// Program counter, then function and file when named.
    symbols: Vec<(u64, Option<(String, String)>)>,
}

impl Record {
    fn add_symbol(&mut self, captures: &regex::Captures) {
        let Ok(pc) = u64::from_str_radix(&captures[1], 16) else { return };
        let named = captures
            .get(2)
            .map(|name| (name.as_str().to_string(), captures.get(3).map_or("", |f| f.as_str()).to_string()));
        self.symbols.push((pc, named));
    }
}

type Lines<'a> = dyn Iterator<Item = (usize, &'a str)> + 'a;

fn heap_builder(lines: &mut Lines) -> Result<Builder, ProfileError> {
    let (number, header) = lines.next().unwrap_or((1, ""));
    let bad = |message: &str| ProfileError::Text { line: number, message: message.to_string() };
    let captures = HEAP_HEADER.captures(header).ok_or_else(|| bad("expected a `heap profile:` header"))?;
    let period = match &captures[6] {
        "" => 0,
        digits => digits.parse::<i64>().map_err(|_| bad("the sampling rate is not a number"))?,
    };
    let has_alloc = (captures[3] != captures[1] && &captures[3] != "0")
        || (captures[4] != captures[2] && &captures[4] != "0");
    // pprof's reading of the sampling kinds: `heap/N` means a rate of N/2.
    let (rate, scaled) = match &captures[5] {
        "heapz_v2" | "heap_v2" => (period, true),
        "heapprofile" => (1, false),
        "heap" => (period / 2, true),
        _ => return Err(bad("unknown heap profile sampling kind")),
    };
    let types: &[(&str, &str)] = if has_alloc {
        // Alloc before inuse, so that the default (last) type is inuse_space.
        &[
            ("alloc_objects", "count"),
            ("alloc_space", "bytes"),
            ("inuse_objects", "count"),
            ("inuse_space", "bytes"),
        ]
    } else {
        &[("objects", "count"), ("space", "bytes")]
    };
    let mut builder = Builder::new(Kind::Heap { rate, scaled, has_alloc });
    builder.set_types(types, ("space", "bytes"), rate);
    Ok(builder)
}

fn contention_builder(lines: &mut Lines) -> Result<Builder, ProfileError> {
    // The `--- contention:` / `--- mutex:` line, already recognised.
    lines.next();
    let mut builder = Builder::new(Kind::Contention { cpu_hz: 0 });
    let mut period = 1i64;
    let mut cpu_hz = 0i64;
    let mut rest: Vec<(usize, &str)> = Vec::new();
    // `key=value` attributes come before the first sample line.
    for (number, line) in &mut *lines {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            rest.push((number, line));
            break;
        };
        let number_of = |value: &str| {
            parse_go_int(value.trim()).ok_or_else(|| ProfileError::Text {
                line: number,
                message: format!("{} is not a number", value.trim()),
            })
        };
        match key.trim() {
            "cycles/second" => cpu_hz = number_of(value)?,
            "sampling period" => period = number_of(value)?,
            "ms since reset" => builder.profile.duration_nanos = number_of(value)?.saturating_mul(1_000_000),
            "discarded samples" => {}
            other => {
                return Err(ProfileError::Text {
                    line: number,
                    message: format!("unknown attribute {other:?}"),
                });
            }
        }
    }
    builder.kind = Kind::Contention { cpu_hz };
    builder.set_types(
        &[("contentions", "count"), ("delay", "nanoseconds")],
        ("contentions", "count"),
        period,
    );
    // The first sample line was read while looking for attributes: parse it now.
    if let Some((number, line)) = rest.pop() {
        builder.pending_first = Some((number, line.to_string()));
    }
    Ok(builder)
}

/// An integer as Go's `strconv.ParseInt(s, 0, 64)` reads it (decimal, `0x` hex, `0` octal).
fn parse_go_int(s: &str) -> Option<i64> {
    let (negative, digits) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let value = if let Some(hex) = digits.strip_prefix("0x").or_else(|| digits.strip_prefix("0X")) {
        i64::from_str_radix(hex, 16).ok()?
    } else if digits.len() > 1 && digits.starts_with('0') {
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else {
        digits.parse::<i64>().ok()?
    };
    Some(if negative { -value } else { value })
}

impl Builder {
    fn new(kind: Kind) -> Self {
        let mut builder = Builder {
            kind,
            profile: Profile::default(),
            strings: HashMap::new(),
            functions: HashMap::new(),
            locations: HashMap::new(),
            pending_first: None,
        };
        builder.intern("");
        builder
    }

    fn intern(&mut self, s: &str) -> Str {
        if let Some(index) = self.strings.get(s) {
            return *index;
        }
        self.profile.strings.push(s.to_string());
        self.strings.insert(s.to_string(), self.profile.strings.len() - 1);
        self.profile.strings.len() - 1
    }

    fn set_types(&mut self, types: &[(&str, &str)], period_type: (&str, &str), period: i64) {
        let types =
            types.iter().map(|(kind, unit)| ValueType { kind: self.intern(kind), unit: self.intern(unit) });
        self.profile.sample_types = types.collect();
        self.profile.period_type =
            Some(ValueType { kind: self.intern(period_type.0), unit: self.intern(period_type.1) });
        self.profile.period = period;
    }

    /// The values and addresses of one sample line, or why it cannot be read.
    fn parse_sample(&self, line: &str) -> Result<Record, String> {
        let (values, addresses) = match self.kind {
            Kind::Heap { rate, scaled, has_alloc } => parse_heap_sample(line, rate, scaled, has_alloc)?,
            Kind::Contention { cpu_hz } => parse_contention_sample(line, self.profile.period, cpu_hz)?,
        };
        Ok(Record { values, addresses, symbols: Vec::new() })
    }

    /// Adds a record as a sample. When Go wrote symbol lines for it, the
    /// stack keeps the frames it named, as the proto form of the same
    /// profile does (Go hides leading runtime frames and `runtime.goexit`
    /// in both); otherwise every address stays, unnamed.
    fn finish(&mut self, record: Record) {
        let mut stack = Vec::with_capacity(record.addresses.len());
        // Symbol lines by program counter, in order (an inlined callee first).
        let mut by_pc: HashMap<u64, Vec<&Option<(String, String)>>> = HashMap::new();
        for (pc, named) in &record.symbols {
            by_pc.entry(*pc).or_default().push(named);
        }
        for address in &record.addresses {
            // Return addresses point after the call; pprof steps back one byte.
            let pc = address.wrapping_sub(1);
            let named = by_pc.get(&pc).map_or(&[][..], Vec::as_slice);
            if !record.symbols.is_empty() && named.is_empty() {
                continue;
            }
            let lines: Vec<Option<usize>> = named.iter().map(|named| self.function(named.as_ref())).collect();
            stack.push(self.location(pc, lines));
        }
        self.profile.samples.push(Sample {
            locations: stack,
            values: record.values,
            labels: Vec::new(),
            num_labels: Vec::new(),
        });
    }

    fn function(&mut self, named: Option<&(String, String)>) -> Option<usize> {
        let (name, file) = named?;
        let key = (self.intern(name), self.intern(file));
        let next = self.profile.functions.len();
        let index = *self.functions.entry(key).or_insert(next);
        if index == next {
            self.profile.functions.push(Function { name: key.0, filename: key.1 });
        }
        Some(index)
    }

    fn location(&mut self, pc: u64, lines: Vec<Option<usize>>) -> usize {
        let next = self.profile.locations.len();
        let key = (pc, lines);
        if let Some(index) = self.locations.get(&key) {
            return *index;
        }
        self.profile.locations.push(Location { lines: key.1.clone(), mapping: None });
        self.locations.insert(key, next);
        next
    }
}

fn parse_addresses(text: &str) -> Result<Vec<u64>, String> {
    HEX.find_iter(text)
        .map(|hex| {
            u64::from_str_radix(&hex.as_str()[2..], 16)
                .map_err(|_| format!("{} is not an address", hex.as_str()))
        })
        .collect()
}

fn number(text: &str) -> Result<i64, String> {
    text.parse::<i64>().map_err(|_| format!("{text} is not a number Debrief can read"))
}

/// `inuse_count: inuse_bytes [alloc_count: alloc_bytes] @ addresses`, scaled
/// up by the sampling rate as pprof does.
fn parse_heap_sample(
    line: &str,
    rate: i64,
    scaled: bool,
    has_alloc: bool,
) -> Result<(Vec<i64>, Vec<u64>), String> {
    let captures =
        HEAP_SAMPLE.captures(line).ok_or_else(|| format!("expected a heap sample, found {line:?}"))?;
    let mut values = Vec::with_capacity(4);
    let mut add = |count: &str, size: &str, what: &str| -> Result<(), String> {
        let (count, size) = (number(count)?, number(size)?);
        if count == 0 && size != 0 {
            return Err(format!("{what} count was 0 but {what} bytes was {size}"));
        }
        let (count, size) =
            if count != 0 && scaled { scale_heap_sample(count, size, rate) } else { (count, size) };
        values.extend([count, size]);
        Ok(())
    };
    if has_alloc {
        add(&captures[3], &captures[4], "allocation")?;
    }
    add(&captures[1], &captures[2], "inuse")?;
    Ok((values, parse_addresses(&captures[5])?))
}

/// Go samples one allocation per `rate` bytes on average; this undoes the
/// sampling the way the runtime and pprof do (`scaleHeapSample`).
fn scale_heap_sample(count: i64, size: i64, rate: i64) -> (i64, i64) {
    if count == 0 || size == 0 {
        return (0, 0);
    }
    if rate <= 1 {
        return (count, size);
    }
    let average = size as f64 / count as f64;
    let scale = 1.0 / (1.0 - (-average / rate as f64).exp());
    ((count as f64 * scale) as i64, (size as f64 * scale) as i64)
}

/// `cycles count @ addresses`: delay in cycles turned into nanoseconds.
fn parse_contention_sample(line: &str, period: i64, cpu_hz: i64) -> Result<(Vec<i64>, Vec<u64>), String> {
    let captures = CONTENTION_SAMPLE
        .captures(line)
        .ok_or_else(|| format!("expected a contention sample, found {line:?}"))?;
    let (mut cycles, mut count) = (number(&captures[1])?, number(&captures[2])?);
    if period > 0 {
        if cpu_hz > 0 {
            let cpu_ghz = cpu_hz as f64 / 1e9;
            cycles = (cycles as f64 * period as f64 / cpu_ghz) as i64;
        }
        count = count.saturating_mul(period);
    }
    Ok((vec![count, cycles], parse_addresses(&captures[3])?))
}
