//! The layout rules of docs/architecture.md that a compiler does not check:
//! no module of a crate depends on another that depends back on it (a
//! module cycle), and the engine crates do not know each other or the
//! archive. Read from the sources as text: a `crate::a::b` or `super::b`
//! path outside comments and unit tests is an edge from the module that
//! names it to the module it names.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The crates that are not engines: every other folder of `crates/` is one
/// engine crate (`bru-sqlite`, `bru-postgres`, …).
const NOT_ENGINES: [&str; 6] = [
    "core",
    "format",
    "engine",
    "cli",
    "testsupport",
    "translate",
];

/// The source folder of every crate of the workspace: `crates/*/src`, the
/// binary's `crates/cli`, and `fixtures/src`.
fn source_dirs(root: &Path) -> Vec<PathBuf> {
    let mut dirs = vec![root.join("crates/cli"), root.join("fixtures/src")];
    for entry in std::fs::read_dir(root.join("crates")).expect("read crates/") {
        let src = entry.expect("dir entry").path().join("src");
        if src.is_dir() {
            dirs.push(src);
        }
    }
    dirs.sort();
    dirs
}

/// The manifests of the engine crates.
fn engine_manifests(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(root.join("crates")).expect("read crates/") {
        let dir = entry.expect("dir entry").path();
        let name = dir
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        if dir.join("Cargo.toml").is_file() && !NOT_ENGINES.contains(&name.as_str()) {
            out.push(dir.join("Cargo.toml"));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read source dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// `a::b` for `a/b.rs` or `a/b/mod.rs`; `` for lib.rs / main.rs.
fn module_of(root: &Path, file: &Path) -> String {
    let rel = file
        .strip_prefix(root)
        .expect("under root")
        .with_extension("");
    let mut parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts.join("::")
}

/// The source without comments and without the unit tests at its end.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
    text.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path that follows `prefix` (`crate::`, `super::`) in `code`, with
/// a use-tree's braces expanded: `crate::{a, b::{c, D}}` is `a`, `b::c` and
/// `b::D`.
fn paths_after(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices(prefix) {
        let before = code[..i].chars().next_back();
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        use_tree(&code[i + prefix.len()..], Vec::new(), &mut out);
    }
    out
}

/// Parses one path of a use tree at the start of `text`, after `base`,
/// into `out`; returns how many bytes it took.
fn use_tree(text: &str, base: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let is_path = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    let end = text.find(|c: char| !is_path(c)).unwrap_or(text.len());
    let mut path = base;
    path.extend(
        text[..end]
            .split("::")
            .filter(|s| !s.is_empty() && *s != "self")
            .map(str::to_owned),
    );
    let opens = end == 0 || text[..end].ends_with("::");
    if !(opens && text[end..].starts_with('{')) {
        out.push(path);
        return end;
    }
    let mut at = end + 1;
    loop {
        let rest = &text[at..];
        let skipped = rest.len() - rest.trim_start_matches([' ', '\n', ',', '*']).len();
        at += skipped;
        match text[at..].chars().next() {
            None => return at,
            Some('}') => return at + 1,
            Some(_) => {
                let took = use_tree(&text[at..], path.clone(), out);
                if took == 0 {
                    // Not a path (a comment, an attribute): stop here.
                    return at;
                }
                at += took;
            }
        }
    }
}

fn graph(root: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files = Vec::new();
    rust_files(root, &mut files);
    let modules: BTreeMap<String, PathBuf> = files
        .iter()
        .map(|f| (module_of(root, f), f.clone()))
        .collect();
    let longest_module = |parts: &[&str]| {
        (0..=parts.len())
            .rev()
            .map(|i| parts[..i].join("::"))
            .find(|m| modules.contains_key(m))
    };
    let mut edges = BTreeMap::new();
    for (module, file) in &modules {
        let code = code(&std::fs::read_to_string(file).expect("read source"));
        let mut to = BTreeSet::new();
        for path in paths_after(&code, "crate::") {
            let path: Vec<&str> = path.iter().map(String::as_str).collect();
            to.extend(longest_module(&path));
        }
        let parent: Vec<&str> = module.split("::").filter(|s| !s.is_empty()).collect();
        let parent = &parent[..parent.len().saturating_sub(1)];
        for path in paths_after(&code, "super::") {
            let full: Vec<&str> = parent
                .iter()
                .copied()
                .chain(path.iter().map(String::as_str))
                .collect();
            to.extend(longest_module(&full));
        }
        to.remove(module);
        // A parent naming its own children is how modules are declared.
        to.retain(|m| !m.starts_with(&format!("{module}::")) || module.is_empty());
        edges.insert(module.clone(), to);
    }
    edges
}

/// Modules that reach each other (strongly connected components of size > 1).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let reach = |from: &str| {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.to_owned()];
        while let Some(m) = todo.pop() {
            for n in edges.get(&m).into_iter().flatten() {
                if seen.insert(n.clone()) {
                    todo.push(n.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> =
        edges.keys().map(|m| (m, reach(m))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for (m, r) in &reached {
        if !r.contains(*m) || out.iter().any(|c| c.contains(m)) {
            continue;
        }
        let comp: Vec<String> = reached
            .iter()
            .filter(|(n, rn)| r.contains(**n) && rn.contains(*m))
            .map(|(n, _)| (*n).clone())
            .collect();
        out.push(comp);
    }
    out
}

#[test]
fn no_crate_has_a_module_cycle() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut found = Vec::new();
    for dir in source_dirs(root) {
        for cycle in cycles(&graph(&dir)) {
            found.push(format!("{}: {}", dir.display(), cycle.join(" <-> ")));
        }
    }
    assert!(found.is_empty(), "module cycles:\n{}", found.join("\n"));
}

#[test]
fn the_cycle_check_finds_a_cycle() {
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(m, to)| (m.to_owned(), to.into_iter().map(str::to_owned).collect()))
    .collect();
    assert_eq!(cycles(&edges), vec![vec!["a", "b", "c"]]);
    assert_eq!(
        paths_after("use crate::x::Y; // crate::z\nsupercrate::q", "crate::"),
        vec![vec!["x", "Y"], vec!["z"]]
    );
    assert_eq!(
        paths_after(
            "use crate::{a, b::{self, c, D}, e::*};\nuse crate::f;",
            "crate::"
        ),
        vec![
            vec!["a"],
            vec!["b"],
            vec!["b", "c"],
            vec!["b", "D"],
            vec!["e"],
            vec!["f"]
        ]
    );
}

/// Engine crates depend on bru-core only (never on each other, the archive
/// format or the engine crate), the format crate on no engine, and the core
/// on nothing of bru: read from their manifests' `[dependencies]`.
#[test]
fn dependencies_point_inward() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let normal_deps = |manifest: &Path| {
        let text = std::fs::read_to_string(manifest).expect("manifest");
        let deps = text
            .split("[dependencies]")
            .nth(1)
            .unwrap_or("")
            .split("\n[")
            .next()
            .unwrap_or("")
            .to_owned();
        deps.lines()
            .filter_map(|l| l.split(['.', '=', ' ']).next())
            .filter(|n| n.starts_with("bru-"))
            .map(str::to_owned)
            .collect::<BTreeSet<_>>()
    };
    let engines = engine_manifests(root);
    assert!(engines.len() >= 2, "{engines:?}");
    for engine in &engines {
        assert_eq!(
            normal_deps(engine),
            BTreeSet::from(["bru-core".to_owned()]),
            "{}",
            engine.display()
        );
    }
    assert_eq!(
        normal_deps(&root.join("crates/format/Cargo.toml")),
        BTreeSet::from(["bru-core".to_owned()])
    );
    assert_eq!(
        normal_deps(&root.join("crates/core/Cargo.toml")),
        BTreeSet::<String>::new()
    );
}
