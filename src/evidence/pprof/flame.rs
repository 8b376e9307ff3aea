//! Flame graphs of a profile, and differential flame graphs of two, drawn
//! as a self-contained SVG that can sit inline in a page under a strict CSP:
//! no script, no event handler, no style attribute, every name escaped.
//! The tree follows pprof's stacks: root first, each location's inlined
//! frames as frames of their own below the function they were inlined into.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::fmt::Write as _;

use super::Filter;
use super::format::{label, percentage};
use super::model::Profile;
use super::read::ProfileError;
use super::sample_index_for;

/// Frames narrower than this fraction of the whole are left out: they would
/// be under two pixels wide, and a hostile profile has millions of them.
pub const MIN_FRACTION: f64 = 0.001;

/// The most frames a graph keeps, so that its SVG stays a few megabytes.
pub const MAX_NODES: usize = 20_000;

/// While the tree is built, at most this many times `max_nodes` call paths
/// are tracked; deeper paths of later samples only widen their ancestors.
const BUILD_NODES_PER_NODE: usize = 50;

/// The longest function name drawn; longer ones are cut, so one huge name
/// repeated in every frame cannot inflate the SVG.
const MAX_NAME_CHARS: usize = 300;

/// Frame labels are drawn in a monospace font of this size, whose glyphs
/// are about 0.6 of it wide: how many characters fit is computed from it
/// here and again by static/js/flame.js after a zoom.
const FONT_SIZE: f64 = 12.0;
const CHAR_WIDTH: f64 = FONT_SIZE * 0.6;
const TEXT_PADDING: f64 = 3.0;

/// How much of a flame graph is kept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FlameLimits {
    /// Frames whose value is under this fraction of the root's are pruned.
    pub min_fraction: f64,
    /// At most this many frames are kept (the widest ones).
    pub max_nodes: usize,
}

impl Default for FlameLimits {
    fn default() -> Self {
        FlameLimits { min_fraction: MIN_FRACTION, max_nodes: MAX_NODES }
    }
}

/// One frame: a function called along one call path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlameNode {
    pub name: String,
    /// The sum of the values of the samples whose stacks pass through here.
    pub value: i64,
    /// The part of `value` from samples whose leaf is this frame.
    pub self_value: i64,
    /// In a differential graph, the base profile's value on the same call
    /// path; 0 otherwise.
    pub base: i64,
    /// 0 for the root.
    pub depth: usize,
    /// Indices into [`FlameGraph::nodes`], ordered by name.
    pub children: Vec<usize>,
}

/// What pruning left out.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pruned {
    /// Frames not kept (pruned frames and everything below them).
    pub nodes: usize,
    /// The value of the pruned subtrees: the width no frame is drawn in.
    pub value: i64,
}

/// A tree of frames. `nodes[0]` is the root (every sample counted), and the
/// nodes are in depth-first order, so a parent comes before its children.
#[derive(Debug, Clone, PartialEq)]
pub struct FlameGraph {
    pub nodes: Vec<FlameNode>,
    pub sample_type: String,
    /// The sample type's unit as the profile spells it.
    pub unit: String,
    /// In a differential graph, the base profile's total.
    pub base_total: Option<i64>,
    /// In a differential graph, the base's value on call paths the target
    /// never took: they have no width to be drawn in.
    pub vanished: i64,
    pub pruned: Pruned,
}

impl FlameGraph {
    /// The root's value: all samples counted.
    pub fn total(&self) -> i64 {
        self.nodes.first().map_or(0, |root| root.value)
    }

    /// Whether this graph compares a target with a base.
    pub fn is_diff(&self) -> bool {
        self.base_total.is_some()
    }
}

/// The flame graph of one sample type, over the samples `filter` keeps,
/// pruned to [`FlameLimits::default`].
pub fn flame_graph(profile: &Profile, sample_index: usize, filter: &Filter) -> FlameGraph {
    flame_graph_within(profile, sample_index, filter, &FlameLimits::default())
}

/// The flame graph of one sample type, pruned to `limits`.
pub fn flame_graph_within(
    profile: &Profile,
    sample_index: usize,
    filter: &Filter,
    limits: &FlameLimits,
) -> FlameGraph {
    let mut builder = Builder::new(limits);
    builder.add(profile, sample_index, |sample| filter.keeps(profile, sample), Side::Target);
    let (name, unit) = profile
        .sample_types()
        .into_iter()
        .nth(sample_index)
        .map_or_else(Default::default, |t| (t.name, t.unit));
    builder.finish(limits, name, unit, None)
}

/// The target's flame graph with each frame's value in the base on the same
/// call path, for one sample type (the target's default when `None`).
pub fn diff_flame_graph(
    base: &Profile,
    target: &Profile,
    sample_type: Option<&str>,
) -> Result<FlameGraph, ProfileError> {
    let target_index = sample_index_for(target, sample_type)?;
    let kind = target.sample_types()[target_index].clone();
    let base_index = sample_index_for(base, Some(&kind.name))?;
    let (base_unit, target_unit) = (base.unit_of(base_index), target.unit_of(target_index));
    if base_unit != target_unit {
        return Err(ProfileError::UnitMismatch {
            sample_type: kind.name,
            base: base_unit,
            target: target_unit,
        });
    }
    let limits = FlameLimits::default();
    let mut builder = Builder::new(&limits);
    builder.add(target, target_index, |_| true, Side::Target);
    builder.add(base, base_index, |_| true, Side::Base);
    Ok(builder.finish(&limits, kind.name, kind.unit, Some(base.total(base_index))))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Target,
    Base,
}

/// A frame while the tree is built: names are interned, so a million
/// frames of one function hold its name once.
struct BuildNode {
    name: u32,
    value: i64,
    self_value: i64,
    base: i64,
    children: Vec<u32>,
}

struct Builder {
    names: Vec<String>,
    name_ids: HashMap<String, u32>,
    nodes: Vec<BuildNode>,
    /// `(parent, name)` to the child frame.
    child_of: HashMap<(u32, u32), u32>,
    max_build_nodes: usize,
    /// Value of samples whose stacks ran past `max_build_nodes`.
    untracked: i64,
}

impl Builder {
    fn new(limits: &FlameLimits) -> Self {
        let root = BuildNode { name: 0, value: 0, self_value: 0, base: 0, children: Vec::new() };
        Builder {
            names: vec!["root".to_string()],
            name_ids: HashMap::new(),
            nodes: vec![root],
            child_of: HashMap::new(),
            max_build_nodes: limits.max_nodes.saturating_mul(BUILD_NODES_PER_NODE).max(1),
            untracked: 0,
        }
    }

    fn intern(&mut self, name: String) -> u32 {
        if let Some(id) = self.name_ids.get(&name) {
            return *id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.clone());
        self.name_ids.insert(name, id);
        id
    }

    /// Adds the samples `keep` chooses, each by the absolute value of sample
    /// type `index` (as pprof's totals count them).
    fn add(&mut self, profile: &Profile, index: usize, keep: impl Fn(usize) -> bool, side: Side) {
        // Each location's frames, outermost first: the order of a stack read root first.
        let location_frames: Vec<Vec<u32>> = (0..profile.locations.len())
            .map(|l| frame_names(profile, l).into_iter().rev().map(|name| self.intern(name)).collect())
            .collect();
        for (i, sample) in profile.samples.iter().enumerate() {
            let weight = sample.values[index].wrapping_abs();
            if weight == 0 || !keep(i) {
                continue;
            }
            let frames = sample.locations.iter().rev().flat_map(|&l| location_frames[l].iter().copied());
            self.add_stack(frames, weight, side);
        }
    }

    fn add_stack(&mut self, frames: impl Iterator<Item = u32>, weight: i64, side: Side) {
        let mut node = 0u32;
        self.credit(node, weight, side);
        for name in frames {
            let child = match self.child_of.get(&(node, name)) {
                Some(child) => *child,
                None if self.nodes.len() >= self.max_build_nodes => {
                    if side == Side::Target {
                        self.untracked = self.untracked.saturating_add(weight);
                    }
                    return;
                }
                None => {
                    let child = u32::try_from(self.nodes.len()).unwrap_or(u32::MAX);
                    self.nodes.push(BuildNode {
                        name,
                        value: 0,
                        self_value: 0,
                        base: 0,
                        children: Vec::new(),
                    });
                    self.nodes[node as usize].children.push(child);
                    self.child_of.insert((node, name), child);
                    child
                }
            };
            node = child;
            self.credit(node, weight, side);
        }
        if side == Side::Target {
            let leaf = &mut self.nodes[node as usize];
            leaf.self_value = leaf.self_value.saturating_add(weight);
        }
    }

    fn credit(&mut self, node: u32, weight: i64, side: Side) {
        let node = &mut self.nodes[node as usize];
        match side {
            Side::Target => node.value = node.value.saturating_add(weight),
            Side::Base => node.base = node.base.saturating_add(weight),
        }
    }

    /// Keeps the widest frames (a connected tree from the root) within
    /// `limits`, children in name order.
    fn finish(
        mut self,
        limits: &FlameLimits,
        sample_type: String,
        unit: String,
        base_total: Option<i64>,
    ) -> FlameGraph {
        for node in 0..self.nodes.len() {
            let mut children = std::mem::take(&mut self.nodes[node].children);
            children.sort_by(|a, b| {
                self.names[self.nodes[*a as usize].name as usize]
                    .cmp(&self.names[self.nodes[*b as usize].name as usize])
            });
            self.nodes[node].children = children;
        }
        let vanished = self
            .nodes
            .iter()
            .filter(|n| n.value > 0)
            .flat_map(|n| n.children.iter().map(|c| &self.nodes[*c as usize]))
            .filter(|c| c.value == 0)
            .fold(0i64, |sum, c| sum.saturating_add(c.base));

        // The widest frames first, each only once its parent is kept.
        let threshold = self.nodes[0].value as f64 * limits.min_fraction.max(0.0);
        let mut kept = vec![false; self.nodes.len()];
        kept[0] = true;
        let mut kept_count = 1usize;
        let mut frontier: BinaryHeap<(i64, Reverse<u32>)> =
            self.nodes[0].children.iter().map(|c| (self.nodes[*c as usize].value, Reverse(*c))).collect();
        let mut pruned_value = self.untracked;
        while let Some((value, Reverse(node))) = frontier.pop() {
            if value <= 0 {
                // Only the base took this path: nothing to draw it in.
                continue;
            }
            if kept_count >= limits.max_nodes || (value as f64) < threshold {
                pruned_value = pruned_value.saturating_add(value);
                pruned_value = frontier
                    .iter()
                    .filter(|(v, _)| *v > 0)
                    .fold(pruned_value, |s, (v, _)| s.saturating_add(*v));
                break;
            }
            kept[node as usize] = true;
            kept_count += 1;
            frontier.extend(
                self.nodes[node as usize]
                    .children
                    .iter()
                    .map(|c| (self.nodes[*c as usize].value, Reverse(*c))),
            );
        }
        let drawable = self.nodes.iter().filter(|n| n.value > 0).count().max(1);

        let mut graph = FlameGraph {
            nodes: Vec::with_capacity(kept_count),
            sample_type,
            unit,
            base_total,
            vanished,
            pruned: Pruned { nodes: drawable.saturating_sub(kept_count), value: pruned_value },
        };
        // Depth first, so each frame's children follow it in name order.
        let mut stack: Vec<(u32, usize, Option<usize>)> = vec![(0, 0, None)];
        while let Some((node, depth, parent)) = stack.pop() {
            let built = &self.nodes[node as usize];
            let index = graph.nodes.len();
            graph.nodes.push(FlameNode {
                name: self.names[built.name as usize].clone(),
                value: built.value,
                self_value: built.self_value,
                base: built.base,
                depth,
                children: Vec::new(),
            });
            if let Some(parent) = parent {
                graph.nodes[parent].children.push(index);
            }
            for child in built.children.iter().rev().filter(|c| kept[**c as usize]) {
                stack.push((*child, depth + 1, Some(index)));
            }
        }
        graph
    }
}

/// The frames of one location, innermost (inlined) first, named as pprof
/// names them: an unsymbolized location is named after its binary.
fn frame_names(profile: &Profile, location: usize) -> Vec<String> {
    let location = &profile.locations[location];
    let unnamed = || {
        let file = location.mapping.map_or("", |m| profile.str(profile.mappings[m].file));
        match file.rsplit('/').next() {
            Some(base) if !base.is_empty() => format!("[{base}]"),
            _ => "<unknown>".to_string(),
        }
    };
    let mut names: Vec<String> = location
        .lines
        .iter()
        .map(|line| match line {
            Some(f) if !profile.str(profile.functions[*f].name).is_empty() => {
                profile.str(profile.functions[*f].name).to_string()
            }
            _ => unnamed(),
        })
        .collect();
    if names.is_empty() {
        names.push(unnamed());
    }
    names
}

/// How a flame graph is drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct FlameOptions {
    /// The SVG's width in user units (its viewBox); pages scale it to fit.
    pub width: f64,
    pub frame_height: f64,
    /// What the graph shows, for its accessible name (`CPU of api-7f9`).
    pub title: String,
    /// In a differential graph, compare each frame's share of its profile's
    /// total rather than its absolute value, so that two profiles of
    /// different lengths compare fairly.
    pub normalize: bool,
}

impl Default for FlameOptions {
    fn default() -> Self {
        FlameOptions { width: 1200.0, frame_height: 18.0, title: "Flame graph".to_string(), normalize: false }
    }
}

/// The graph as an SVG document, root at the top, values labelled in
/// `unit` (the graph's sample type unit). Each frame is a
/// `<g class="frame">` carrying `data-name`, `data-value`, `data-start`
/// (its left edge, in the same unit as the value) and `data-depth`, which
/// static/js/flame.js uses to zoom and search.
pub fn render_svg(graph: &FlameGraph, unit: &str, options: &FlameOptions) -> String {
    let width = if options.width.is_finite() && options.width > 0.0 { options.width } else { 1200.0 };
    let row = if options.frame_height.is_finite() && options.frame_height > 0.0 {
        options.frame_height
    } else {
        18.0
    };
    let total = graph.total();
    let depth = graph.nodes.iter().map(|n| n.depth + 1).max().unwrap_or(0);
    let note = note(graph, unit);
    let height = row * depth as f64 + if note.is_empty() { 0.0 } else { row * 1.5 };
    let mut svg = String::with_capacity(256 + graph.nodes.len() * 320);
    let _ = write!(
        svg,
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="flame-graph{diff}" viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" aria-label="{label}" font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" font-size="{FONT_SIZE}" data-total="{total}" data-unit="{unit_attr}">"#,
        diff = if graph.is_diff() { " flame-diff" } else { "" },
        label = escape(&format!("{}: {} total", options.title, label(total, unit))),
        unit_attr = escape(unit),
    );
    if total > 0 {
        let mut starts = vec![0i64; graph.nodes.len()];
        for (index, node) in graph.nodes.iter().enumerate() {
            let mut start = starts[index];
            for &child in &node.children {
                starts[child] = start;
                start = start.saturating_add(graph.nodes[child].value);
            }
            let x = starts[index] as f64 / total as f64 * width;
            let w = node.value as f64 / total as f64 * width;
            let y = node.depth as f64 * row;
            let frame = Frame { node, start: starts[index], x, y, w, h: row };
            frame.write(&mut svg, graph, unit, options);
        }
    }
    if !note.is_empty() {
        let _ = write!(
            svg,
            r#"<text class="flame-note" x="{TEXT_PADDING}" y="{y:.1}" fill="currentColor">{text}</text>"#,
            y = row * depth as f64 + row,
            text = escape(&note),
        );
    }
    svg.push_str("</svg>");
    svg
}

struct Frame<'a> {
    node: &'a FlameNode,
    start: i64,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

impl Frame<'_> {
    fn write(&self, svg: &mut String, graph: &FlameGraph, unit: &str, options: &FlameOptions) {
        let node = self.node;
        let name = shorten(&node.name);
        let total = graph.total();
        let mut title =
            format!("{name} ({}, {})", label(node.value, unit), percentage(node.value, total).trim());
        let (fill, delta) = match graph.base_total {
            Some(base_total) => {
                let change = Change::of(node, total, base_total, options.normalize);
                let _ = write!(title, ": {}", change.describe(unit));
                (change.color(), Some(change.delta))
            }
            None => (warm_color(&node.name), None),
        };
        let _ = write!(
            svg,
            r#"<g class="frame" tabindex="0" data-name="{name}" data-value="{value}" data-start="{start}" data-depth="{depth}""#,
            name = escape(&name),
            value = node.value,
            start = self.start,
            depth = node.depth,
        );
        if let Some(delta) = delta {
            let _ = write!(svg, r#" data-delta="{delta}""#);
        }
        let _ = write!(
            svg,
            r#"><title>{title}</title><rect x="{x:.2}" y="{y:.1}" width="{w:.2}" height="{h:.1}" fill="{fill}" rx="2"/><text x="{tx:.2}" y="{ty:.1}">{text}</text></g>"#,
            title = escape(&title),
            x = self.x,
            y = self.y,
            w = self.w,
            h = (self.h - 1.0).max(1.0),
            tx = self.x + TEXT_PADDING,
            ty = self.y + self.h * 0.5 + FONT_SIZE * 0.35,
            text = escape(&fit(&name, self.w)),
        );
    }
}

/// The line under the graph saying what could not be drawn.
fn note(graph: &FlameGraph, unit: &str) -> String {
    let mut parts = Vec::new();
    if graph.pruned.value > 0 {
        parts.push(format!(
            "{} narrow frames not drawn ({}, {})",
            graph.pruned.nodes.max(1),
            label(graph.pruned.value, unit),
            percentage(graph.pruned.value, graph.total()).trim()
        ));
    }
    if graph.vanished > 0 {
        parts.push(format!("{} only on call paths the base took", label(graph.vanished, unit)));
    }
    parts.join("; ")
}

/// A frame's change from the base, absolute or relative to each total.
struct Change {
    /// Target minus the base (scaled to the target's total when normalized).
    delta: i64,
    /// `delta` over the base's value; `None` when the base has none.
    relative: Option<f64>,
}

impl Change {
    fn of(node: &FlameNode, total: i64, base_total: i64, normalize: bool) -> Self {
        let base = if normalize && base_total > 0 {
            node.base as f64 * total as f64 / base_total as f64
        } else {
            node.base as f64
        };
        let delta = node.value as f64 - base;
        Change { delta: delta.round() as i64, relative: (base > 0.0).then(|| delta / base) }
    }

    /// `+12.5ms (+40%)`, `-3ms (-100%)`, `+1.2s (new)`.
    fn describe(&self, unit: &str) -> String {
        let sign = if self.delta > 0 { "+" } else { "" };
        let relative = match self.relative {
            None => "new".to_string(),
            Some(r) if (r * 100.0).abs() >= 10.0 => format!("{:+.0}%", r * 100.0),
            Some(r) => format!("{:+.1}%", r * 100.0),
        };
        format!("{sign}{} ({relative})", label(self.delta, unit))
    }

    /// Red for growth, blue for shrinking, deeper as the relative change
    /// nears 100%; near white when nothing changed.
    fn color(&self) -> String {
        let strength = self.relative.map_or(1.0, |r| r.abs().min(1.0)).sqrt();
        let pale = (235.0 * (1.0 - strength) + 20.0 * strength).round() as u8;
        match self.delta.signum() {
            1 => format!("rgb(250,{pale},{pale})"),
            -1 => format!("rgb({pale},{pale},250)"),
            _ => "rgb(235,235,235)".to_string(),
        }
    }
}

/// A warm color from the function's name: its package picks the hue, so one
/// package's frames look alike, and the function shades it. FNV-1a keeps the
/// colors the same from one build to the next.
fn warm_color(name: &str) -> String {
    let package = package_of(name);
    let hue = fnv1a(package.as_bytes());
    let shade = fnv1a(name.as_bytes());
    let unit = |h: u64, shift: u32| ((h >> shift) & 0xff) as f64 / 255.0;
    let red = 225.0 + 30.0 * unit(shade, 0);
    let green = 80.0 + 140.0 * unit(hue, 8);
    let blue = 30.0 + 70.0 * unit(shade, 16);
    format!("rgb({},{},{})", red.round() as u8, green.round() as u8, blue.round() as u8)
}

/// `net/http` of `net/http.(*persistConn).readLoop`, `main` of `main.run`.
fn package_of(name: &str) -> &str {
    let last_slash = name.rfind('/').map_or(0, |i| i + 1);
    match name[last_slash..].find('.') {
        Some(dot) => &name[..last_slash + dot],
        None => name,
    }
}

fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325u64, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// A name cut to [`MAX_NAME_CHARS`].
fn shorten(name: &str) -> String {
    match name.char_indices().nth(MAX_NAME_CHARS) {
        Some((cut, _)) => format!("{}…", &name[..cut]),
        None => name.to_string(),
    }
}

/// As much of a name as fits in a frame `width` wide: whole, cut with `..`,
/// or nothing when not even three characters fit.
fn fit(name: &str, width: f64) -> String {
    let room = ((width - 2.0 * TEXT_PADDING) / CHAR_WIDTH).floor();
    if room < 3.0 {
        return String::new();
    }
    let room = room as usize;
    if name.chars().count() <= room {
        return name.to_string();
    }
    let mut cut: String = name.chars().take(room - 2).collect();
    cut.push_str("..");
    cut
}

/// Text safe in XML (and HTML) content and in quoted attributes: markup
/// characters become references, and characters XML forbids (controls,
/// U+FFFE, U+FFFF) become U+FFFD.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' => out.push_str("&#9;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            c if c < ' ' || c == '\u{fffe}' || c == '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::PathBuf;

    use super::super::model::{Function, Location, Sample, ValueType};
    use super::super::{read_profile, top_table};
    use super::*;

    fn profile(name: &str) -> Profile {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pprof").join(name);
        read_profile(&std::fs::read(path).unwrap(), 256 << 20).unwrap_or_else(|err| panic!("{name}: {err}"))
    }

    /// A CPU-like profile of the given stacks (root first) and values.
    fn synthetic(stacks: &[(Vec<String>, i64)]) -> Profile {
        let mut strings = vec![String::new(), "samples".to_string(), "count".to_string()];
        let mut functions: HashMap<String, usize> = HashMap::new();
        let mut profile = Profile::default();
        let mut samples = Vec::new();
        for (stack, value) in stacks {
            let locations = stack
                .iter()
                .rev()
                .map(|name| {
                    *functions.entry(name.clone()).or_insert_with(|| {
                        strings.push(name.clone());
                        profile.functions.push(Function { name: strings.len() - 1, filename: 0 });
                        profile
                            .locations
                            .push(Location { lines: vec![Some(profile.functions.len() - 1)], mapping: None });
                        profile.locations.len() - 1
                    })
                })
                .collect();
            samples.push(Sample {
                locations,
                values: vec![*value],
                labels: Vec::new(),
                num_labels: Vec::new(),
            });
        }
        profile.strings = strings;
        profile.sample_types = vec![ValueType { kind: 1, unit: 2 }];
        profile.samples = samples;
        profile
    }

    fn stack(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    fn children_sum(graph: &FlameGraph, node: &FlameNode) -> i64 {
        node.children.iter().map(|c| graph.nodes[*c].value).sum()
    }

    /// An element of a parsed SVG: its name and attributes, unescaped.
    #[derive(Debug)]
    struct Element {
        name: String,
        attributes: Vec<(String, String)>,
    }

    /// A strict little XML reader for what `render_svg` writes: tags nest
    /// and balance, attributes are double-quoted, and `<` and `&` appear only
    /// as markup or as the five references (and numeric ones) we write.
    fn parse_xml(xml: &str) -> Result<(Vec<Element>, String), String> {
        let mut elements = Vec::new();
        let mut open: Vec<String> = Vec::new();
        let mut text = String::new();
        let mut rest = xml;
        let mut roots = 0;
        while !rest.is_empty() {
            let Some(lt) = rest.find('<') else {
                return Err(format!("text after the root: {rest:?}"));
            };
            if lt > 0 {
                if open.is_empty() {
                    return Err("text outside the root".to_string());
                }
                text.push_str(&unescape(&rest[..lt])?);
            }
            rest = &rest[lt + 1..];
            if let Some(after) = rest.strip_prefix('/') {
                let gt = after.find('>').ok_or("unterminated end tag")?;
                let name = &after[..gt];
                if open.pop().as_deref() != Some(name) {
                    return Err(format!("</{name}> closes nothing open"));
                }
                rest = &after[gt + 1..];
                continue;
            }
            let name_len =
                rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '-' || c == ':')).ok_or("cut tag")?;
            if name_len == 0 {
                return Err(format!("bad tag at {:?}", &rest[..rest.len().min(20)]));
            }
            let name = rest[..name_len].to_string();
            if open.is_empty() {
                roots += 1;
            }
            rest = &rest[name_len..];
            let mut attributes = Vec::new();
            loop {
                rest = rest.trim_start_matches(' ');
                if let Some(after) = rest.strip_prefix("/>") {
                    rest = after;
                    break;
                }
                if let Some(after) = rest.strip_prefix('>') {
                    rest = after;
                    open.push(name.clone());
                    break;
                }
                let eq = rest.find('=').ok_or("attribute without value")?;
                let attribute = &rest[..eq];
                if attribute.is_empty()
                    || !attribute.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == ':')
                {
                    return Err(format!("bad attribute name {attribute:?}"));
                }
                let after = rest[eq + 1..].strip_prefix('"').ok_or("unquoted attribute")?;
                let close = after.find('"').ok_or("unterminated attribute")?;
                let value = &after[..close];
                if value.contains('<') {
                    return Err(format!("< in attribute {attribute}"));
                }
                attributes.push((attribute.to_string(), unescape(value)?));
                rest = &after[close + 1..];
                if !(rest.starts_with(' ') || rest.starts_with('>') || rest.starts_with("/>")) {
                    return Err(format!("no space after attribute {attribute}"));
                }
            }
            elements.push(Element { name, attributes });
        }
        if !open.is_empty() {
            return Err(format!("unclosed {open:?}"));
        }
        if roots != 1 || elements.first().is_none_or(|e| e.name != "svg") {
            return Err("not one <svg> root".to_string());
        }
        Ok((elements, text))
    }

    fn unescape(text: &str) -> Result<String, String> {
        let mut out = String::new();
        let mut rest = text;
        while let Some(amp) = rest.find('&') {
            out.push_str(&rest[..amp]);
            let semi = rest[amp..].find(';').ok_or("bare &")? + amp;
            let reference = &rest[amp + 1..semi];
            out.push(match reference {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                n if n.starts_with('#') => {
                    n[1..].parse::<u32>().ok().and_then(char::from_u32).ok_or("bad reference")?
                }
                other => return Err(format!("unknown reference &{other};")),
            });
            rest = &rest[semi + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Parses an SVG and checks that nothing in it can run.
    fn assert_inert(svg: &str) -> Vec<Element> {
        let (elements, _) = parse_xml(svg).unwrap_or_else(|err| panic!("not well-formed: {err}"));
        assert!(!svg.to_lowercase().contains("<script"), "a script element");
        for element in &elements {
            assert!(
                ["svg", "g", "title", "rect", "text"].contains(&element.name.as_str()),
                "unexpected element {}",
                element.name
            );
            for (name, value) in &element.attributes {
                assert!(!name.to_lowercase().starts_with("on"), "event handler {name}={value:?}");
                assert_ne!(name, "style", "style attribute");
                assert!(!name.contains("href"), "link attribute {name}");
            }
        }
        elements
    }

    fn attribute<'a>(element: &'a Element, name: &str) -> Option<&'a str> {
        element.attributes.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    #[test]
    fn the_root_is_the_profile_total_for_every_sample_type() {
        for file in ["cpulabels.cpu.pb.gz", "httpleak.heap.pb.gz"] {
            let profile = profile(file);
            for (index, kind) in profile.sample_types().iter().enumerate() {
                let graph = flame_graph(&profile, index, &Filter::default());
                assert_eq!(graph.total(), profile.total(index), "{file} {}", kind.name);
                assert_eq!(graph.sample_type, kind.name);
            }
        }
    }

    #[test]
    fn every_frame_is_at_least_as_wide_as_its_children_and_its_self_value() {
        for file in ["cpulabels.cpu.pb.gz", "httpleak.heap.pb.gz", "httpleak.cpu.pb.gz", "mutex.mutex.pb.gz"]
        {
            let profile = profile(file);
            for index in 0..profile.sample_types().len() {
                let graph = flame_graph(&profile, index, &Filter::default());
                for node in &graph.nodes {
                    assert!(
                        node.value >= children_sum(&graph, node) + node.self_value,
                        "{file}: {}",
                        node.name
                    );
                    for pair in node.children.windows(2) {
                        assert!(
                            graph.nodes[pair[0]].name < graph.nodes[pair[1]].name,
                            "{file}: children by name"
                        );
                    }
                    for child in &node.children {
                        assert_eq!(graph.nodes[*child].depth, node.depth + 1);
                    }
                }
            }
        }
    }

    /// Whether `name` appears twice on one root-to-leaf path.
    fn recurses(graph: &FlameGraph, name: &str) -> bool {
        fn walk(graph: &FlameGraph, node: usize, name: &str, seen: bool) -> bool {
            let here = graph.nodes[node].name == name;
            if here && seen {
                return true;
            }
            graph.nodes[node].children.iter().any(|c| walk(graph, *c, name, seen || here))
        }
        walk(graph, 0, name, false)
    }

    #[test]
    fn a_function_that_does_not_recurse_is_as_wide_as_its_cum_in_top() {
        for file in ["cpulabels.cpu.pb.gz", "httpleak.heap.pb.gz", "diff-after.cpu.pb.gz"] {
            let profile = profile(file);
            for index in 0..profile.sample_types().len() {
                let unpruned =
                    FlameLimits { min_fraction: 0.0, max_nodes: usize::MAX / BUILD_NODES_PER_NODE };
                let graph = flame_graph_within(&profile, index, &Filter::default(), &unpruned);
                assert_eq!(graph.pruned, Pruned::default());
                let table = top_table(&profile, index, &Filter::default());
                let mut compared = 0;
                for row in table.rows.iter().filter(|r| r.function.starts_with("main.")) {
                    if recurses(&graph, &row.function) {
                        continue;
                    }
                    let width: i64 =
                        graph.nodes.iter().filter(|n| n.name == row.function).map(|n| n.value).sum();
                    assert_eq!(width, row.cum, "{file} {index}: {}", row.function);
                    compared += 1;
                }
                assert!(compared > 0, "{file}: no main.* function compared");
            }
        }
    }

    #[test]
    fn focus_keeps_only_the_samples_through_the_focused_function() {
        let profile = profile("cpulabels.cpu.pb.gz");
        let index = profile.default_sample_index();
        let filter = Filter { focus: Some(regex::Regex::new("checkoutTotal").unwrap()), ignore: None };
        let graph = flame_graph(&profile, index, &filter);
        let table = top_table(&profile, index, &filter);
        let focused: i64 = table.rows.iter().map(|r| r.flat).sum();
        assert_eq!(graph.total(), focused);
        let checkout = table.rows.iter().find(|r| r.function == "main.checkoutTotal").unwrap();
        assert_eq!(graph.total(), checkout.cum);
        assert!(graph.total() < profile.total(index));
        assert!(graph.nodes.iter().all(|n| n.name != "main.rankResults"));
    }

    #[test]
    fn identical_call_paths_merge_and_inlined_frames_sit_below_their_caller() {
        let mut profile = synthetic(&[
            (stack(&["main.main", "main.work", "runtime.memmove"]), 3),
            (stack(&["main.main", "main.work", "runtime.memmove"]), 4),
            (stack(&["main.main", "main.idle"]), 5),
        ]);
        // main.work's location also holds the inlined strings.Repeat, innermost first.
        profile.strings.push("strings.Repeat".to_string());
        profile.functions.push(Function { name: profile.strings.len() - 1, filename: 0 });
        let work = profile.functions.iter().position(|f| profile.strings[f.name] == "main.work").unwrap();
        let location = profile.locations.iter().position(|l| l.lines == vec![Some(work)]).unwrap();
        profile.locations[location].lines.insert(0, Some(profile.functions.len() - 1));

        let graph = flame_graph(&profile, 0, &Filter::default());
        let names: Vec<(usize, &str, i64)> =
            graph.nodes.iter().map(|n| (n.depth, n.name.as_str(), n.value)).collect();
        assert_eq!(
            names,
            [
                (0, "root", 12),
                (1, "main.main", 12),
                (2, "main.idle", 5),
                (2, "main.work", 7),
                (3, "strings.Repeat", 7),
                (4, "runtime.memmove", 7),
            ]
        );
        assert_eq!(graph.nodes[5].self_value, 7);
        assert_eq!(graph.nodes[2].self_value, 5);
    }

    fn many_stacks(count: usize) -> Profile {
        let stacks: Vec<(Vec<String>, i64)> = (0..count)
            .map(|i| {
                (
                    vec!["main.main".to_string(), format!("main.f{}", i % 97), format!("main.g{i}")],
                    1 + (i % 7) as i64,
                )
            })
            .collect();
        synthetic(&stacks)
    }

    #[test]
    fn pruning_bounds_the_frames_of_a_profile_with_many_stacks() {
        let profile = many_stacks(100_000);
        let total = profile.total(0);

        let graph = flame_graph(&profile, 0, &Filter::default());
        assert_eq!(graph.total(), total);
        // main.main and the 97 main.f* are each over 0.1%; no single main.g* is.
        assert_eq!(graph.nodes.len(), 1 + 1 + 97);
        assert_eq!(graph.pruned.nodes, 100_000);
        assert_eq!(graph.pruned.value, total);

        let capped = FlameLimits { min_fraction: 0.0, max_nodes: 1_000 };
        let graph = flame_graph_within(&profile, 0, &Filter::default(), &capped);
        assert_eq!(graph.nodes.len(), 1_000);
        let drawn_self: i64 = graph.nodes.iter().map(|n| n.self_value).sum();
        assert_eq!(drawn_self + graph.pruned.value, total);
        let svg = render_svg(&graph, "count", &FlameOptions::default());
        assert_inert(&svg);
        assert!(svg.len() < 1_000 * 600, "{} bytes", svg.len());
        assert!(svg.contains("narrow frames not drawn"));
    }

    #[test]
    fn stacks_past_the_build_limit_still_widen_their_ancestors() {
        let profile = many_stacks(5_000);
        let limits = FlameLimits { min_fraction: 0.0, max_nodes: 10 };
        let graph = flame_graph_within(&profile, 0, &Filter::default(), &limits);
        assert_eq!(graph.total(), profile.total(0));
        assert_eq!(graph.nodes.len(), 10);
        assert_eq!(graph.nodes[1].value, profile.total(0), "main.main holds every sample");
        assert!(graph.pruned.value > 0);
    }

    #[test]
    fn the_svg_is_well_formed_and_carries_each_frame_for_the_script() {
        let profile = profile("httpleak.cpu.pb.gz");
        let index = profile.default_sample_index();
        let graph = flame_graph(&profile, index, &Filter::default());
        let unit = &profile.sample_types()[index].unit;
        let svg =
            render_svg(&graph, unit, &FlameOptions { title: "CPU".to_string(), ..FlameOptions::default() });
        let elements = assert_inert(&svg);
        let root = &elements[0];
        assert_eq!(attribute(root, "xmlns"), Some("http://www.w3.org/2000/svg"));
        assert_eq!(attribute(root, "role"), Some("img"));
        assert!(attribute(root, "aria-label").unwrap().starts_with("CPU: "));
        assert!(attribute(root, "viewBox").is_some());
        let frames: Vec<&Element> =
            elements.iter().filter(|e| e.name == "g" && attribute(e, "class") == Some("frame")).collect();
        assert_eq!(frames.len(), graph.nodes.len());
        for (frame, node) in frames.iter().zip(&graph.nodes) {
            assert_eq!(attribute(frame, "data-name"), Some(node.name.as_str()));
            assert_eq!(attribute(frame, "data-value"), Some(node.value.to_string().as_str()));
            assert_eq!(attribute(frame, "data-depth"), Some(node.depth.to_string().as_str()));
            assert_eq!(attribute(frame, "tabindex"), Some("0"));
        }
        let root_title = format!("root ({}, 100%)", label(graph.total(), unit));
        assert!(svg.contains(&format!("<title>{root_title}</title>")), "{root_title}");
    }

    #[test]
    fn hostile_function_names_come_out_as_inert_text() {
        let hostile = [
            "</text><script>alert(1)</script>",
            "\" onload=\"x",
            "' onmouseover='alert(1)",
            "<![CDATA[ ]]> &amp; & <!-- -->",
            "main.(*T).f\u{0}\u{1b}\u{fffe}\n",
        ];
        let stacks: Vec<(Vec<String>, i64)> =
            hostile.iter().map(|name| (vec!["main.main".to_string(), name.to_string()], 10)).collect();
        let profile = synthetic(&stacks);
        let graph = flame_graph(&profile, 0, &Filter::default());
        let svg = render_svg(
            &graph,
            "count",
            &FlameOptions { title: "<script>".to_string(), ..FlameOptions::default() },
        );
        let elements = assert_inert(&svg);
        let names: HashSet<&str> = elements.iter().filter_map(|e| attribute(e, "data-name")).collect();
        for name in &hostile[..4] {
            assert!(names.contains(name), "{name:?} not kept as data");
        }
        assert!(names.contains("main.(*T).f\u{fffd}\u{fffd}\u{fffd}\n"));

        let base = synthetic(&[(stack(&["main.main", hostile[0]]), 5)]);
        let diff = diff_flame_graph(&base, &profile, None).unwrap();
        assert_inert(&render_svg(&diff, "count", &FlameOptions::default()));
    }

    #[test]
    fn a_huge_name_in_every_frame_is_cut() {
        let huge = "x".repeat(100_000);
        let stacks: Vec<(Vec<String>, i64)> =
            (0..50).map(|i| (vec![format!("main.f{i}"), huge.clone()], 1)).collect();
        let graph = flame_graph(&synthetic(&stacks), 0, &Filter::default());
        let svg = render_svg(&graph, "count", &FlameOptions::default());
        assert!(svg.len() < 101 * 3 * (MAX_NAME_CHARS + 400), "{} bytes", svg.len());
        assert_inert(&svg);
    }

    #[test]
    fn colors_are_warm_and_stable() {
        assert_eq!(warm_color("main.buildIndex"), warm_color("main.buildIndex"));
        assert_eq!(package_of("net/http.(*persistConn).readLoop"), "net/http");
        assert_eq!(package_of("main.main"), "main");
        assert_eq!(package_of("[libc.so.6]"), "[libc");
        let color = warm_color("runtime.mallocgc");
        let channels: Vec<u8> = color
            .trim_start_matches("rgb(")
            .trim_end_matches(')')
            .split(',')
            .map(|c| c.parse().unwrap())
            .collect();
        assert!(channels[0] >= 225 && channels[0] > channels[1] && channels[1] > channels[2] / 2, "{color}");
    }

    #[test]
    fn labels_are_cut_to_fit_their_frame() {
        assert_eq!(fit("main.buildIndex", 500.0), "main.buildIndex");
        assert_eq!(fit("main.buildIndex", 6.0 + 7.5 * CHAR_WIDTH), "main...");
        assert_eq!(fit("main.buildIndex", 10.0), "");
    }

    #[test]
    fn the_diff_graph_shows_build_index_growing() {
        let (before, after) = (profile("diff-before.cpu.pb.gz"), profile("diff-after.cpu.pb.gz"));
        let graph = diff_flame_graph(&before, &after, None).unwrap();
        assert_eq!(graph.total(), after.total(after.default_sample_index()));
        assert_eq!(graph.base_total, Some(before.total(before.default_sample_index())));
        let grown: Vec<&FlameNode> = graph.nodes.iter().filter(|n| n.name == "main.buildIndex").collect();
        assert!(!grown.is_empty());
        let (value, base) = grown.iter().fold((0, 0), |(v, b), n| (v + n.value, b + n.base));
        assert!(value > base, "main.buildIndex: {value} after, {base} before");

        let unit = &after.sample_types()[after.default_sample_index()].unit;
        let svg = render_svg(&graph, unit, &FlameOptions::default());
        let elements = assert_inert(&svg);
        let frame = elements.iter().find(|e| attribute(e, "data-name") == Some("main.buildIndex")).unwrap();
        let delta: i64 = attribute(frame, "data-delta").unwrap().parse().unwrap();
        assert!(delta > 0);
        let rect =
            elements.iter().skip_while(|e| !std::ptr::eq(*e, frame)).find(|e| e.name == "rect").unwrap();
        let fill = attribute(rect, "fill").unwrap();
        assert!(fill.starts_with("rgb(250,"), "growth is red: {fill}");
        // The title reads `... : +Xms (+Y%)`.
        let title = format!("main.buildIndex ({}, ", label(grown[0].value, unit));
        let line = svg.split("<title>").find(|t| t.starts_with(&title)).unwrap();
        assert!(line.contains(": +") && line.contains("%)</title>"), "{line}");
    }

    #[test]
    fn changes_read_as_signed_deltas_with_their_relative_size() {
        let node = |value, base| FlameNode {
            name: String::new(),
            value,
            self_value: 0,
            base,
            depth: 1,
            children: vec![],
        };
        let change = Change::of(&node(17_500_000, 12_500_000), 100, 100, false);
        assert_eq!(change.describe("nanoseconds"), "+5ms (+40%)");
        assert!(change.color().starts_with("rgb(250,"));
        let change = Change::of(&node(10_000_000, 20_000_000), 100, 100, false);
        assert_eq!(change.describe("nanoseconds"), "-10ms (-50%)");
        assert!(change.color().ends_with(",250)"));
        assert_eq!(Change::of(&node(5, 0), 100, 100, false).describe("count"), "+5 (new)");
        assert_eq!(Change::of(&node(5, 5), 100, 100, false).color(), "rgb(235,235,235)");
        // Twice the samples in the target and twice the value: no change once normalized.
        let normalized = Change::of(&node(20, 10), 200, 100, true);
        assert_eq!(normalized.delta, 0);
        assert_eq!(normalized.describe("count"), "0 (+0.0%)");
    }

    #[test]
    fn a_diff_of_different_units_is_refused() {
        let mut base = synthetic(&[(stack(&["main.main"]), 1)]);
        let target = synthetic(&[(stack(&["main.main"]), 1)]);
        base.strings[2] = "bytes".to_string();
        assert!(matches!(diff_flame_graph(&base, &target, None), Err(ProfileError::UnitMismatch { .. })));
    }
}
