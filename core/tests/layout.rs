//! The crate's layout, kept (issue 15): no module cycle in core, no source file above 600 lines,
//! and every file says in its module doc what it holds.
//!
//! The dependency graph is read from the source: every `crate::`, `super::` and `self::` path (and
//! a `use child::` of a module's own child) resolves to the deepest module it names, giving an
//! edge from the file that writes it. A file's use of its own ancestors (`use super::*` in a file
//! that adds `impl` blocks to its folder's type) is not an edge: the file is part of that folder.
//! Every other use is, re-exports too; `#[cfg(test)]` modules are left out. Two checks: the module
//! graph has no cycle (so no two files of a folder use each other, and a folder's root uses its
//! files only one way), and neither has the graph of
//! the top-level folders (the pipeline: model -> network -> scenario -> formulation -> solve ->
//! analysis -> report, with solver, plan, result and error below).
//!
//! Run alone: `cargo test -p stockade --test layout -- --nocapture` prints both orders.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

const MAX_LINES: usize = 600;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.expect("dir entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `core/src/a/b.rs` -> ["a", "b"]; `a/mod.rs` -> ["a"]; `lib.rs` -> [].
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|s| s.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().expect("file name");
    let stem = last.trim_end_matches(".rs").to_string();
    if stem != "mod" && stem != "lib" {
        parts.push(stem);
    }
    parts
}

/// The code of a file without comments, string contents and `#[cfg(test)]` modules.
fn code_of(text: &str) -> String {
    let text = match text.find("#[cfg(test)]\nmod ") {
        Some(i) => &text[..i],
        None => text,
    };
    let mut out = String::new();
    for line in text.lines() {
        let line = match line.find("//") {
            Some(i) => &line[..i],
            None => line,
        };
        // Drop string literals ("..." on one line) so paths in messages do not count.
        let mut in_str = false;
        let mut prev = ' ';
        for c in line.chars() {
            if c == '"' && prev != '\\' {
                in_str = !in_str;
            } else if !in_str {
                out.push(c);
            }
            prev = c;
        }
        out.push('\n');
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Every path written in `code` that starts at `crate`, `super` or `self` (or at a child
/// module of `me`, after `use`), as segments.
fn paths(code: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for statement in code.split(';') {
        let trimmed = statement.trim_start();
        let is_use = ["use ", "pub use ", "pub(crate) use ", "pub(super) use "]
            .iter()
            .any(|p| trimmed.starts_with(p));
        let chars: Vec<char> = statement.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if !is_ident(chars[i]) || (i > 0 && (is_ident(chars[i - 1]) || chars[i - 1] == ':')) {
                i += 1;
                continue;
            }
            // Read a path a::b::c starting here.
            let mut segs = Vec::new();
            let mut j = i;
            loop {
                let start = j;
                while j < chars.len() && is_ident(chars[j]) {
                    j += 1;
                }
                segs.push(chars[start..j].iter().collect::<String>());
                if j + 2 < chars.len()
                    && chars[j] == ':'
                    && chars[j + 1] == ':'
                    && is_ident(chars[j + 2])
                {
                    j += 2;
                } else {
                    break;
                }
            }
            let first = segs[0].as_str();
            let rooted = matches!(first, "crate" | "super" | "self");
            let child = is_use && children.contains(first) && segs.len() > 1;
            if rooted || child {
                assert!(
                    !(segs.len() == 1 && first == "crate" && j + 2 < chars.len() && chars[j] == ':' && chars[j + 2] == '{'),
                    "write `use crate::a::{{..}}` per module, not `use crate::{{a::.., b::..}}`: {statement}"
                );
                out.push(segs);
            }
            i = j.max(i + 1);
        }
    }
    out
}

struct Graph {
    /// Module -> modules it uses.
    edges: BTreeMap<Vec<String>, BTreeSet<Vec<String>>>,
}

fn core_graph() -> Graph {
    let src = root().join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules: BTreeSet<Vec<String>> = files.iter().map(|f| module_of(&src, f)).collect();
    let mut edges = BTreeMap::new();
    for file in &files {
        let me = module_of(&src, file);
        let children: BTreeSet<String> = modules
            .iter()
            .filter(|m| m.len() == me.len() + 1 && m.starts_with(&me))
            .map(|m| m[me.len()].clone())
            .collect();
        let text = std::fs::read_to_string(file).expect("read source");
        let mut uses = BTreeSet::new();
        for segs in paths(&code_of(&text), &children) {
            let mut at: Vec<String> = me.clone();
            let mut rest = segs.as_slice();
            match rest[0].as_str() {
                "crate" => {
                    at.clear();
                    rest = &rest[1..];
                }
                "self" => rest = &rest[1..],
                "super" => {
                    while rest.first().is_some_and(|s| s == "super") {
                        at.pop();
                        rest = &rest[1..];
                    }
                }
                _ => {}
            }
            for s in rest {
                let mut next = at.clone();
                next.push(s.clone());
                if modules.contains(&next) {
                    at = next;
                } else {
                    break;
                }
            }
            if !me.starts_with(&at) {
                uses.insert(at);
            }
        }
        edges.insert(me, uses);
    }
    Graph { edges }
}

/// A topological order of `edges` (dependencies first), or a cycle.
fn order<T: Ord + Clone + std::fmt::Debug>(
    edges: &BTreeMap<T, BTreeSet<T>>,
) -> Result<Vec<T>, Vec<T>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit<T: Ord + Clone>(
        n: &T,
        edges: &BTreeMap<T, BTreeSet<T>>,
        marks: &mut BTreeMap<T, Mark>,
        stack: &mut Vec<T>,
        out: &mut Vec<T>,
    ) -> Result<(), Vec<T>> {
        match marks.get(n) {
            Some(Mark::Done) => return Ok(()),
            Some(Mark::Open) => {
                let from = stack.iter().position(|s| s == n).expect("on stack");
                let mut cycle = stack[from..].to_vec();
                cycle.push(n.clone());
                return Err(cycle);
            }
            None => {}
        }
        marks.insert(n.clone(), Mark::Open);
        stack.push(n.clone());
        for m in edges.get(n).into_iter().flatten() {
            visit(m, edges, marks, stack, out)?;
        }
        stack.pop();
        marks.insert(n.clone(), Mark::Done);
        out.push(n.clone());
        Ok(())
    }
    let mut marks = BTreeMap::new();
    let mut out = Vec::new();
    for n in edges.keys() {
        visit(n, edges, &mut marks, &mut Vec::new(), &mut out)?;
    }
    Ok(out)
}

#[test]
fn core_modules_have_no_cycle() {
    let graph = core_graph();
    let named: BTreeMap<String, BTreeSet<String>> = graph
        .edges
        .iter()
        .map(|(k, v)| {
            (
                if k.is_empty() {
                    "crate".into()
                } else {
                    k.join("::")
                },
                v.iter().map(|m| m.join("::")).collect(),
            )
        })
        .collect();
    match order(&named) {
        Ok(o) => eprintln!("modules, dependencies first: {}", o.join(" ")),
        Err(cycle) => panic!("module cycle: {}", cycle.join(" -> ")),
    }
}

#[test]
fn core_folders_are_layered() {
    let graph = core_graph();
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, to) in &graph.edges {
        let Some(f) = from.first() else { continue };
        let entry = top.entry(f.clone()).or_default();
        for t in to {
            if t[0] != *f {
                entry.insert(t[0].clone());
            }
        }
    }
    match order(&top) {
        Ok(o) => eprintln!("folders, dependencies first: {}", o.join(" ")),
        Err(cycle) => panic!("folder cycle: {}", cycle.join(" -> ")),
    }
}

#[test]
fn no_source_file_is_too_long_and_each_says_what_it_holds() {
    let workspace = root().join("..");
    let mut files = Vec::new();
    for dir in ["core/src", "server/src", "python/src"] {
        rust_files(&workspace.join(dir), &mut files);
    }
    let mut long = Vec::new();
    let mut undocumented = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("read source");
        let lines = text.lines().count();
        let name = f
            .strip_prefix(&workspace)
            .unwrap_or(f)
            .display()
            .to_string();
        if lines > MAX_LINES {
            long.push(format!("{name} ({lines} lines)"));
        }
        if !text.trim_start().starts_with("//!") {
            undocumented.push(name);
        }
    }
    assert!(long.is_empty(), "files above {MAX_LINES} lines: {long:?}");
    assert!(
        undocumented.is_empty(),
        "files without a module doc (//!) saying what they hold: {undocumented:?}"
    );
}

#[test]
fn the_checker_finds_a_cycle() {
    // The oracle for the checker itself: a hand-made graph with a cycle, and one without.
    let mut edges: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    edges.insert("a", ["b"].into());
    edges.insert("b", ["c"].into());
    edges.insert("c", BTreeSet::new());
    assert_eq!(order(&edges), Ok(vec!["c", "b", "a"]));
    edges.insert("c", ["a"].into());
    assert!(order(&edges).is_err());
    let children: BTreeSet<String> = ["child".to_string()].into();
    let found = paths(
        "use crate::x::y; pub use child::Z; let a = super::super::q::r(1);",
        &children,
    );
    let segs: Vec<String> = found.iter().map(|s| s.join("::")).collect();
    assert_eq!(segs, ["crate::x::y", "child::Z", "super::super::q::r"]);
}
