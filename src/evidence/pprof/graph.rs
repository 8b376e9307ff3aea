//! The call graph by function that `go tool pprof` builds for `-top`,
//! `-peek` and friends (`graph.New` at function granularity): each sample
//! adds its value once to every function on its stack (so recursion is not
//! counted twice), its leaf gets the flat value, and a call edge is marked
//! inline when it only ever happened inside one location's inlined lines.
//!
//! A profile of random call paths has as many distinct edges as frames
//! (millions), and `-top` needs none of them: only whether the calls into a
//! function were inlined. So the graph keeps the edges of the functions a
//! caller asks to peek at, and reads the inline marks off the pairs of lines
//! inside locations, which are few.

use std::collections::{HashMap, HashSet};

use regex::Regex;

use super::model::Profile;

/// One function of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub name: String,
    pub flat: i64,
    pub cum: i64,
}

/// A call from `caller` to `callee` (node indices) with the value through it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edge {
    pub weight: i64,
    pub inline: bool,
}

/// Whether pprof marks a function `(inline)`: every call into it was inlined.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inlining {
    No,
    Inline,
    Partial,
}

/// How a call between two functions was seen: inside one location (an
/// inlined line calling its callee) and from one location to the next.
#[derive(Debug, Clone, Copy, Default)]
struct Seen {
    inlined: bool,
    outright: bool,
}

#[derive(Debug, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    index: HashMap<String, usize>,
    /// `(caller, callee)` to the edge between them, for the edges touching
    /// a function [`Graph::peeking`] chose.
    pub edges: HashMap<(usize, usize), Edge>,
    peek: Option<Regex>,
    /// Per node: whether its edges are kept.
    peeked: Vec<bool>,
    /// The calls some location makes between its own lines, `(outer,
    /// inner)`, and how each was seen in the samples.
    inner_calls: HashMap<(usize, usize), Seen>,
    /// Per node: whether it is the inner end of some location's line pair.
    inner_callee: Vec<bool>,
    /// Per node: whether a call into it ran from one location to another.
    called_outright: Vec<bool>,
    /// Per node: the last sample its cum counted (so recursion counts once).
    counted_in: Vec<u64>,
    /// Samples added so far, over every profile added.
    samples: u64,
}

impl Graph {
    /// A graph that also keeps every edge into or out of a function whose
    /// name matches `re` (for a peek at its callers and callees).
    pub fn peeking(re: &Regex) -> Graph {
        Graph { peek: Some(re.clone()), ..Graph::default() }
    }

    /// Adds the samples of `profile` chosen by `keep`, each weighted by
    /// `weight` (its value, or the negated value for a diff's base).
    pub fn add_profile(
        &mut self,
        profile: &Profile,
        weight: impl Fn(&[i64]) -> i64,
        keep: impl Fn(usize) -> bool,
    ) {
        let location_nodes: Vec<Vec<usize>> =
            (0..profile.locations.len()).map(|l| self.location_nodes(profile, l)).collect();
        let mut seen_edges = HashSet::new();
        for (i, sample) in profile.samples.iter().enumerate() {
            let w = weight(&sample.values);
            if w == 0 || !keep(i) {
                continue;
            }
            self.samples += 1;
            seen_edges.clear();
            let mut parent: Option<usize> = None;
            // Root first, so each edge runs from caller to callee.
            for &location in sample.locations.iter().rev() {
                let nodes = &location_nodes[location];
                for (ni, &node) in nodes.iter().enumerate().rev() {
                    if self.counted_in[node] != self.samples {
                        self.counted_in[node] = self.samples;
                        self.nodes[node].cum = self.nodes[node].cum.wrapping_add(w);
                    }
                    if let Some(caller) = parent.filter(|caller| *caller != node) {
                        // An inlined line is any but the location's outermost one.
                        let inline = ni != nodes.len() - 1;
                        self.saw_call(caller, node, inline);
                        if (self.peeked[caller] || self.peeked[node]) && seen_edges.insert((caller, node)) {
                            let edge = self.edges.entry((caller, node)).or_insert(Edge { weight: 0, inline });
                            edge.weight = edge.weight.wrapping_add(w);
                            edge.inline &= inline;
                        }
                    }
                    parent = Some(node);
                }
            }
            if let Some(leaf) = parent {
                self.nodes[leaf].flat = self.nodes[leaf].flat.wrapping_add(w);
            }
        }
    }

    /// Notes one call for the inline marks.
    fn saw_call(&mut self, caller: usize, callee: usize, inline: bool) {
        if !inline {
            self.called_outright[callee] = true;
        }
        if self.inner_callee[callee]
            && let Some(seen) = self.inner_calls.get_mut(&(caller, callee))
        {
            if inline {
                seen.inlined = true;
            } else {
                seen.outright = true;
            }
        }
    }

    /// The nodes of one location's lines, innermost first; an unsymbolized
    /// location is one node named after its binary, or `<unknown>`.
    fn location_nodes(&mut self, profile: &Profile, location: usize) -> Vec<usize> {
        let location = &profile.locations[location];
        let mut names: Vec<String> = location
            .lines
            .iter()
            .map(|line| match line {
                Some(f) if !profile.str(profile.functions[*f].name).is_empty() => {
                    profile.str(profile.functions[*f].name).to_string()
                }
                _ => unnamed(profile, location.mapping),
            })
            .collect();
        if names.is_empty() {
            names.push(unnamed(profile, location.mapping));
        }
        let nodes: Vec<usize> = names.into_iter().map(|name| self.node(name)).collect();
        for pair in nodes.windows(2) {
            let (inner, outer) = (pair[0], pair[1]);
            if inner != outer {
                self.inner_calls.entry((outer, inner)).or_default();
                self.inner_callee[inner] = true;
            }
        }
        nodes
    }

    fn node(&mut self, name: String) -> usize {
        if let Some(index) = self.index.get(&name) {
            return *index;
        }
        self.peeked.push(self.peek.as_ref().is_some_and(|re| re.is_match(&name)));
        self.inner_callee.push(false);
        self.called_outright.push(false);
        self.counted_in.push(0);
        self.nodes.push(Node { name: name.clone(), flat: 0, cum: 0 });
        self.index.insert(name, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    /// For every node, whether pprof prints `(inline)` or
    /// `(partial-inline)` after it. pprof marks an edge inline when every
    /// time it was seen it was inlined, and a node by the marks of the
    /// edges into it; only a location's line pairs can be inlined calls,
    /// and a call seen outright even once is not inline.
    pub fn inlinings(&self) -> Vec<Inlining> {
        let mut inline = vec![false; self.nodes.len()];
        for ((_, callee), seen) in &self.inner_calls {
            if seen.inlined && !seen.outright {
                inline[*callee] = true;
            }
        }
        inline
            .into_iter()
            .zip(&self.called_outright)
            .map(|marks| match marks {
                (true, true) => Inlining::Partial,
                (true, false) => Inlining::Inline,
                _ => Inlining::No,
            })
            .collect()
    }

    /// Node indices as `pprof -top` lists them: nodes with any value, by
    /// flat (absolute) descending, then name, then cum descending.
    pub fn sorted(&self) -> Vec<usize> {
        let mut order: Vec<usize> =
            (0..self.nodes.len()).filter(|n| self.nodes[*n].flat != 0 || self.nodes[*n].cum != 0).collect();
        order.sort_by(|a, b| {
            let (a, b) = (&self.nodes[*a], &self.nodes[*b]);
            b.flat
                .unsigned_abs()
                .cmp(&a.flat.unsigned_abs())
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| b.cum.unsigned_abs().cmp(&a.cum.unsigned_abs()))
        });
        order
    }
}

/// The name pprof gives a frame it has no function for.
fn unnamed(profile: &Profile, mapping: Option<usize>) -> String {
    let file = mapping.map_or("", |m| profile.str(profile.mappings[m].file));
    match file.rsplit('/').next() {
        Some(base) if !base.is_empty() => format!("[{base}]"),
        _ => "<unknown>".to_string(),
    }
}
