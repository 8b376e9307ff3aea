//! The call graph by function that `go tool pprof` builds for `-top`,
//! `-peek` and friends (`graph.New` at function granularity): each sample
//! adds its value once to every function on its stack (so recursion is not
//! counted twice), its leaf gets the flat value, and a call edge is marked
//! inline when it only ever happened inside one location's inlined lines.

use std::collections::{HashMap, HashSet};

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

#[derive(Debug, Default)]
pub struct Graph {
    pub nodes: Vec<Node>,
    index: HashMap<String, usize>,
    /// `(caller, callee)` to the edge between them.
    pub edges: HashMap<(usize, usize), Edge>,
}

impl Graph {
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
        let mut seen_nodes = HashSet::new();
        let mut seen_edges = HashSet::new();
        for (i, sample) in profile.samples.iter().enumerate() {
            let w = weight(&sample.values);
            if w == 0 || !keep(i) {
                continue;
            }
            seen_nodes.clear();
            seen_edges.clear();
            let mut parent: Option<usize> = None;
            // Root first, so each edge runs from caller to callee.
            for &location in sample.locations.iter().rev() {
                let nodes = &location_nodes[location];
                for (ni, &node) in nodes.iter().enumerate().rev() {
                    if seen_nodes.insert(node) {
                        self.nodes[node].cum = self.nodes[node].cum.wrapping_add(w);
                    }
                    if let Some(caller) = parent.filter(|caller| *caller != node)
                        && seen_edges.insert((caller, node))
                    {
                        // An inlined line is any but the location's outermost one.
                        let inline = ni != nodes.len() - 1;
                        let edge = self.edges.entry((caller, node)).or_insert(Edge { weight: 0, inline });
                        edge.weight = edge.weight.wrapping_add(w);
                        edge.inline &= inline;
                    }
                    parent = Some(node);
                }
            }
            if let Some(leaf) = parent {
                self.nodes[leaf].flat = self.nodes[leaf].flat.wrapping_add(w);
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
        names.into_iter().map(|name| self.node(name)).collect()
    }

    fn node(&mut self, name: String) -> usize {
        if let Some(index) = self.index.get(&name) {
            return *index;
        }
        self.nodes.push(Node { name: name.clone(), flat: 0, cum: 0 });
        self.index.insert(name, self.nodes.len() - 1);
        self.nodes.len() - 1
    }

    /// For every node, whether pprof prints `(inline)` or
    /// `(partial-inline)` after it: read off the edges into it, in one pass
    /// over all edges (asking node by node cost nodes × edges, minutes on a
    /// profile of 40,000 functions).
    pub fn inlinings(&self) -> Vec<Inlining> {
        let mut seen = vec![(false, false); self.nodes.len()];
        for ((_, callee), edge) in &self.edges {
            let (inline, not_inline) = &mut seen[*callee];
            if edge.inline {
                *inline = true;
            } else {
                *not_inline = true;
            }
        }
        seen.into_iter()
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
