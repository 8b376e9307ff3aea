//! The shape of the code, read from the sources: each feature folder under
//! `src/` may use the shared primitives below it, never another feature's
//! pages, and the features depend on each other without a cycle, so a new
//! part of the incident page plugs in without reaching into its siblings.

use std::{
    collections::{BTreeMap, BTreeSet},
    fs,
    path::{Path, PathBuf},
};

/// The folder of shared primitives every feature may use.
const SHARED: &str = "web";

/// What of a feature no other feature may use: its pages.
const PRIVATE_MODULES: [&str; 2] = ["handlers", "views"];

/// What the shared primitives may use of the features: the signed-in
/// user's type and its role, and nothing else.
const SHARED_MAY_USE: [&str; 2] = ["auth::db::User", "auth::domain::Role"];

/// Every `crate::…` path in `source`, each as its segments, with grouped
/// imports (`use crate::{a::b, c::{d, e}}`) spelled out. Comments and
/// string literals are not code and are skipped.
fn crate_paths(source: &str) -> Vec<Vec<String>> {
    let code = strip_comments_and_strings(source);
    let mut paths = Vec::new();
    let mut rest = code.as_str();
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().next_back();
        rest = &rest[at + "crate::".len()..];
        // `mycrate::x` is another path, not ours.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        paths.extend(path_tree(rest, Vec::new()));
    }
    paths
}

/// The paths of one path tree at the start of `text`, below `prefix`.
fn path_tree(text: &str, prefix: Vec<String>) -> Vec<Vec<String>> {
    let mut segments = prefix;
    let mut text = text.trim_start();
    loop {
        if let Some(group) = text.strip_prefix('{') {
            return split_group(group)
                .into_iter()
                .flat_map(|item| path_tree(item, segments.clone()))
                .collect();
        }
        let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(text.len());
        if end == 0 {
            break;
        }
        segments.push(text[..end].to_owned());
        match text[end..].trim_start().strip_prefix("::") {
            Some(next) => text = next.trim_start(),
            None => break,
        }
    }
    if segments.is_empty() { Vec::new() } else { vec![segments] }
}

/// The comma-separated items of a brace group, up to its closing brace.
fn split_group(group: &str) -> Vec<&str> {
    let mut items = Vec::new();
    let (mut depth, mut start) = (0usize, 0);
    for (at, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                items.push(&group[start..at]);
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&group[start..at]);
                start = at + 1;
            }
            _ => {}
        }
    }
    items.into_iter().filter(|item| !item.trim().is_empty()).collect()
}

/// The source with `//` comments and the insides of string literals
/// blanked, so a path named in prose or in SQL is not taken for a use.
fn strip_comments_and_strings(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut chars = source.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for skipped in chars.by_ref() {
                    if skipped == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                out.push('"');
                while let Some(inside) = chars.next() {
                    match inside {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push('"');
            }
            // A char literal such as '"' or '{' is not the start of anything.
            '\'' => {
                let literal: String = chars.clone().take(3).collect();
                if literal.chars().nth(1) == Some('\'') {
                    chars.nth(1);
                } else if literal.starts_with('\\') && literal.chars().nth(2) == Some('\'') {
                    chars.nth(2);
                }
                out.push('\'');
            }
            _ => out.push(c),
        }
    }
    out
}

/// Every `.rs` file under `folder`.
fn rust_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(rust_files(&path));
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
    files
}

/// One use of another folder: the file it is in and the path it names.
struct Use {
    file: String,
    path: Vec<String>,
}

/// The uses each folder of `src/` makes of the other folders.
fn folder_uses() -> BTreeMap<String, Vec<Use>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let folders: BTreeSet<String> = fs::read_dir(&src)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.is_dir())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let mut uses = BTreeMap::new();
    for folder in &folders {
        let mut found = Vec::new();
        for file in rust_files(&src.join(folder)) {
            let source = fs::read_to_string(&file).unwrap();
            let name = file.strip_prefix(&src).unwrap().display().to_string();
            for path in crate_paths(&source) {
                if path[0] != *folder && folders.contains(&path[0]) {
                    found.push(Use { file: name.clone(), path });
                }
            }
        }
        uses.insert(folder.clone(), found);
    }
    uses
}

/// A cycle in `edges`, as the folders along it, if there is one.
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        trail: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(start) = trail.iter().position(|seen| seen == node) {
            let mut cycle = trail[start..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        trail.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, trail, done) {
                return Some(cycle);
            }
        }
        trail.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_feature_uses_another_features_pages() {
    let offending: Vec<String> = folder_uses()
        .into_values()
        .flatten()
        .filter(|found| found.path.get(1).is_some_and(|module| PRIVATE_MODULES.contains(&module.as_str())))
        .map(|found| format!("{} uses crate::{}", found.file, found.path.join("::")))
        .collect();
    assert!(offending.is_empty(), "pages are their feature's own:\n{}", offending.join("\n"));
}

#[test]
fn the_shared_primitives_use_nothing_of_the_features_but_the_account() {
    let uses = folder_uses();
    let offending: Vec<String> = uses[SHARED]
        .iter()
        .filter(|found| {
            let named = found.path.join("::");
            !SHARED_MAY_USE
                .iter()
                .any(|allowed| named == *allowed || named.starts_with(&format!("{allowed}::")))
        })
        .map(|found| format!("{} uses crate::{}", found.file, found.path.join("::")))
        .collect();
    assert!(offending.is_empty(), "{SHARED}/ sits below the features:\n{}", offending.join("\n"));
}

#[test]
fn the_features_depend_on_each_other_without_a_cycle() {
    let edges: BTreeMap<String, BTreeSet<String>> = folder_uses()
        .into_iter()
        .filter(|(folder, _)| folder != SHARED)
        .map(|(folder, uses)| {
            let targets =
                uses.into_iter().map(|found| found.path[0].clone()).filter(|to| to != SHARED).collect();
            (folder, targets)
        })
        .collect();
    assert!(edges.len() >= 10, "the feature folders are found: {:?}", edges.keys());
    assert_eq!(find_cycle(&edges), None, "features form layers: {edges:#?}");
}

#[test]
fn grouped_and_nested_imports_are_spelled_out() {
    let source =
        "use crate::{\n    auth::{db::User, domain::Role},\n    error::Result,\n    timeline::self,\n};";
    let paths: Vec<String> = crate_paths(source).iter().map(|path| path.join("::")).collect();
    assert_eq!(paths, ["auth::db::User", "auth::domain::Role", "error::Result", "timeline::self"]);
}

#[test]
fn inline_paths_count_and_comments_strings_and_other_crates_do_not() {
    let source = r#"
        // crate::incidents::handlers is mentioned in prose only
        let sql = "select crate::timeline::views";
        let c = '"'; let d = '{';
        let page = crate::incidents::document::render_page(x);
        let other = mycrate::causes::handlers::f();
    "#;
    let paths: Vec<String> = crate_paths(source).iter().map(|path| path.join("::")).collect();
    assert_eq!(paths, ["incidents::document::render_page"]);
}

#[test]
fn a_cycle_is_found_and_named() {
    let edge = |from: &str, to: &[&str]| (from.to_owned(), to.iter().map(|t| t.to_string()).collect());
    let layered: BTreeMap<String, BTreeSet<String>> =
        [edge("a", &["b", "c"]), edge("b", &["c"]), edge("c", &[])].into_iter().collect();
    assert_eq!(find_cycle(&layered), None);
    let tangled: BTreeMap<String, BTreeSet<String>> =
        [edge("a", &["b"]), edge("b", &["c"]), edge("c", &["a"])].into_iter().collect();
    assert_eq!(find_cycle(&tangled), Some(vec!["a".into(), "b".into(), "c".into(), "a".into()]));
}
