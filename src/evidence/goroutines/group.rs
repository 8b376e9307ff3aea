//! Goroutines with the same stack, gathered at two levels as panicparse
//! does: exact (same frames, same argument values) and similar (same
//! functions and lines, any arguments). The parent tree comes from
//! `created by F in goroutine N`.

use super::FastMap;

use super::parse::{Dump, Layout, StackId, Sym};
use super::{ExactGroupView, FrameView, GroupView, ParentView};

/// The most frames a group shows; a stack overflow has thousands.
pub const MAX_FRAMES_SHOWN: usize = 64;
/// The most distinct label sets a group lists.
pub const MAX_LABEL_SETS: usize = 20;
/// The most goroutine ids a group lists as examples.
pub const MAX_EXAMPLE_IDS: usize = 10;

/// Every group of a dump, biggest first (a crash's panicking goroutine
/// first of all), with the exact groups inside them and the parent tree.
pub struct Grouping {
    pub groups: Vec<GroupView>,
    pub exact_groups: Vec<ExactGroupView>,
    pub parents: Vec<ParentView>,
    /// The group of the goroutine that panicked, in a crash.
    pub panic_group: Option<usize>,
}

#[derive(Hash, PartialEq, Eq, Clone, Copy)]
struct SimilarKey {
    similar_stack: u32,
    state: Sym,
    created_by: Option<Sym>,
    locked: bool,
}

struct Building {
    key: SimilarKey,
    stack: StackId,
    count: u64,
    waits: Option<(u32, u32)>,
    labels: Vec<Sym>,
    ids: Vec<u64>,
    exact: Vec<usize>,
}

struct ExactBuilding {
    stack: StackId,
    labels: Option<Sym>,
    count: u64,
    waits: Option<(u32, u32)>,
}

pub fn group(dump: &Dump) -> Grouping {
    let similar_of = similar_stacks(dump);
    let waits_known = dump.layout != Layout::Grouped;

    let mut groups: Vec<Building> = Vec::new();
    let mut group_index: FastMap<SimilarKey, usize> = FastMap::default();
    let mut exact: Vec<ExactBuilding> = Vec::new();
    let mut exact_index: FastMap<(usize, StackId, Option<Sym>), usize> = FastMap::default();
    // For the parent tree: each goroutine's group, by position.
    let mut group_of_goroutine: Vec<u32> = Vec::with_capacity(dump.goroutines.len());

    for goroutine in &dump.goroutines {
        let key = SimilarKey {
            similar_stack: similar_of[goroutine.stack as usize],
            state: goroutine.state,
            created_by: goroutine.created_by,
            locked: goroutine.locked_to_thread,
        };
        let wait = waits_known.then(|| goroutine.wait_minutes.unwrap_or(0));
        let at = *group_index.entry(key).or_insert_with(|| {
            groups.push(Building {
                key,
                stack: goroutine.stack,
                count: 0,
                waits: None,
                labels: Vec::new(),
                ids: Vec::new(),
                exact: Vec::new(),
            });
            groups.len() - 1
        });
        let building = &mut groups[at];
        building.count += goroutine.count;
        building.waits = widen(building.waits, wait);
        if let Some(labels) = goroutine.labels
            && building.labels.len() < MAX_LABEL_SETS
            && !building.labels.contains(&labels)
        {
            building.labels.push(labels);
        }
        if let Some(id) = goroutine.id
            && building.ids.len() < MAX_EXAMPLE_IDS
        {
            building.ids.push(id);
        }
        let exact_at = *exact_index.entry((at, goroutine.stack, goroutine.labels)).or_insert_with(|| {
            exact.push(ExactBuilding {
                stack: goroutine.stack,
                labels: goroutine.labels,
                count: 0,
                waits: None,
            });
            building.exact.push(exact.len() - 1);
            exact.len() - 1
        });
        exact[exact_at].count += goroutine.count;
        exact[exact_at].waits = widen(exact[exact_at].waits, wait);
        group_of_goroutine.push(at as u32);
    }

    // Biggest first; the panicking goroutine's group before all.
    let panicking = dump.crash.as_ref().and_then(|crash| crash.goroutine);
    let panic_building = panicking.and_then(|id| {
        dump.goroutines.iter().position(|g| g.id == Some(id)).map(|at| group_of_goroutine[at] as usize)
    });
    let mut order: Vec<usize> = (0..groups.len()).collect();
    order.sort_by(|a, b| {
        let first = |i: &usize| Some(*i) != panic_building;
        first(a)
            .cmp(&first(b))
            .then(groups[*b].count.cmp(&groups[*a].count))
            .then_with(|| top_function(dump, groups[*a].stack).cmp(top_function(dump, groups[*b].stack)))
    });
    let mut rank = vec![0usize; groups.len()];
    for (position, original) in order.iter().enumerate() {
        rank[*original] = position;
    }

    let mut views = Vec::with_capacity(groups.len());
    let mut exact_views = Vec::with_capacity(exact.len());
    for original in &order {
        let building = &groups[*original];
        let index = views.len();
        let mut exact_members: Vec<&ExactBuilding> = building.exact.iter().map(|e| &exact[*e]).collect();
        exact_members.sort_by_key(|member| std::cmp::Reverse(member.count));
        for member in exact_members {
            exact_views.push(ExactGroupView {
                group: index,
                count: member.count,
                min_wait_minutes: member.waits.map(|w| w.0),
                max_wait_minutes: member.waits.map(|w| w.1),
                labels: member.labels.map(|l| dump.str(l).to_string()),
                frames: frame_views(dump, member.stack, true),
            });
        }
        views.push(group_view(dump, building));
    }

    Grouping {
        groups: views,
        exact_groups: exact_views,
        parents: parent_tree(dump, &group_of_goroutine, &rank),
        panic_group: panic_building.map(|original| rank[original]),
    }
}

fn widen(range: Option<(u32, u32)>, wait: Option<u32>) -> Option<(u32, u32)> {
    match (range, wait) {
        (Some((low, high)), Some(wait)) => Some((low.min(wait), high.max(wait))),
        (None, Some(wait)) => Some((wait, wait)),
        (range, None) => range,
    }
}

/// For each stack, the id of its similar stack: the same functions and
/// locations, arguments ignored.
fn similar_stacks(dump: &Dump) -> Vec<u32> {
    let mut ids: FastMap<(Vec<(Sym, Sym)>, bool), u32> = FastMap::default();
    dump.stacks
        .iter()
        .map(|stack| {
            let key = (stack.frames.iter().map(|f| (f.function, f.location)).collect(), stack.elided);
            let next = ids.len() as u32;
            *ids.entry(key).or_insert(next)
        })
        .collect()
}

fn top_function(dump: &Dump, stack: StackId) -> &str {
    dump.stack(stack).frames.first().map_or("", |f| dump.str(f.function))
}

fn frame_views(dump: &Dump, stack: StackId, with_args: bool) -> Vec<FrameView> {
    dump.stack(stack)
        .frames
        .iter()
        .take(MAX_FRAMES_SHOWN)
        .map(|frame| FrameView {
            function: dump.str(frame.function).to_string(),
            location: dump.str(frame.location).to_string(),
            args: with_args.then(|| dump.str(frame.args).to_string()),
        })
        .collect()
}

fn group_view(dump: &Dump, building: &Building) -> GroupView {
    let stack = dump.stack(building.stack);
    let state = dump.str(building.key.state).to_string();
    GroupView {
        count: building.count,
        state: state.clone(),
        min_wait_minutes: building.waits.map(|w| w.0),
        max_wait_minutes: building.waits.map(|w| w.1),
        top_function: top_function(dump, building.stack).to_string(),
        user_function: stack
            .frames
            .iter()
            .map(|f| dump.str(f.function))
            .find(|function| !is_standard_library(function))
            .map(str::to_string),
        user_args: stack
            .frames
            .iter()
            .find(|f| !is_standard_library(dump.str(f.function)))
            .map(|f| dump.str(f.args).to_string()),
        created_by: building.key.created_by.map(|f| dump.str(f).to_string()),
        locked_to_thread: building.key.locked,
        leaked: state.contains("(leaked)"),
        labels: building.labels.iter().map(|l| dump.str(*l).to_string()).collect(),
        frames: frame_views(dump, building.stack, false),
        frames_omitted: stack.frames.len().saturating_sub(MAX_FRAMES_SHOWN),
        elided: stack.elided,
        exact_groups: building.exact.len(),
        goroutine_ids: building.ids.clone(),
    }
}

/// Whether a function belongs to Go's own library: its import path's first
/// element has no dot (`net/http`, `runtime`) and is not `main`.
pub fn is_standard_library(function: &str) -> bool {
    let path_end = function.rfind('/').map_or(0, |slash| slash + 1);
    let package = &function[..path_end + function[path_end..].find('.').unwrap_or(function.len() - path_end)];
    let first = package.split('/').next().unwrap_or("");
    !first.contains('.') && first != "main"
}

/// The goroutines that created others, most children first.
pub const MAX_PARENTS: usize = 100;

fn parent_tree(dump: &Dump, group_of_goroutine: &[u32], rank: &[usize]) -> Vec<ParentView> {
    struct Node {
        children: u64,
        groups: Vec<usize>,
        created_by: Option<Sym>,
    }
    let mut nodes: FastMap<u64, Node> = FastMap::default();
    for (at, goroutine) in dump.goroutines.iter().enumerate() {
        let Some(parent) = goroutine.parent else { continue };
        let node = nodes.entry(parent).or_insert(Node { children: 0, groups: Vec::new(), created_by: None });
        node.children += goroutine.count;
        node.created_by = node.created_by.or(goroutine.created_by);
        let group = rank[group_of_goroutine[at] as usize];
        if !node.groups.contains(&group) {
            node.groups.push(group);
        }
    }
    if nodes.is_empty() {
        return Vec::new();
    }
    let mut present: FastMap<u64, usize> = FastMap::default();
    for (at, goroutine) in dump.goroutines.iter().enumerate() {
        if let Some(id) = goroutine.id
            && nodes.contains_key(&id)
        {
            present.insert(id, at);
        }
    }
    let mut parents: Vec<ParentView> = nodes
        .into_iter()
        .map(|(id, mut node)| {
            node.groups.sort_unstable();
            let at = present.get(&id).copied();
            ParentView {
                goroutine: id,
                present: at.is_some(),
                group: at.map(|at| rank[group_of_goroutine[at] as usize]),
                function: node.created_by.map(|f| dump.str(f).to_string()),
                children: node.children,
                child_groups: node.groups,
            }
        })
        .collect();
    parents.sort_by(|a, b| b.children.cmp(&a.children).then(a.goroutine.cmp(&b.goroutine)));
    parents.truncate(MAX_PARENTS);
    parents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standard_library_is_told_from_user_code() {
        assert!(is_standard_library("net/http.(*persistConn).readLoop"));
        assert!(is_standard_library("runtime.gopark"));
        assert!(is_standard_library("sync.(*Mutex).Lock"));
        assert!(!is_standard_library("main.(*cache).get"));
        assert!(!is_standard_library("github.com/acme/shop/cart.(*Store).Get"));
        assert!(!is_standard_library("example.com/x.F"));
    }
}
