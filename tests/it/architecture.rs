//! The layering, checked: `cargo metadata` for the dependencies between crates, and the
//! sources for `crate::` paths between the modules of one crate. A forbidden edge fails here
//! before it becomes a habit.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// The services: each is a library crate with `run(config, shutdown)`, reached only from the
/// binary.
const SERVICES: &[&str] = &["kadr-upload-api", "kadr-catalog", "kadr-worker"];

/// Crates below the services, which know nothing of HTTP.
const BELOW_HTTP: &[&str] = &[
    "kadr-core",
    "kadr-runtime",
    "kadr-storage",
    "kadr-queue",
    "kadr-media",
    "kadr-config",
    "kadr-db",
];

/// Workspace crates and their normal (not dev, not build) dependencies by name.
struct Workspace {
    deps: BTreeMap<String, BTreeSet<String>>,
    dirs: BTreeMap<String, PathBuf>,
}

fn workspace() -> Workspace {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut deps = BTreeMap::new();
    let mut dirs = BTreeMap::new();
    for p in meta["packages"].as_array().unwrap() {
        let name = p["name"].as_str().unwrap().to_owned();
        let normal: BTreeSet<String> = p["dependencies"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["kind"].is_null())
            .map(|d| d["name"].as_str().unwrap().to_owned())
            .collect();
        let manifest = PathBuf::from(p["manifest_path"].as_str().unwrap());
        dirs.insert(name.clone(), manifest.parent().unwrap().to_owned());
        deps.insert(name, normal);
    }
    Workspace { deps, dirs }
}

impl Workspace {
    fn has(&self, name: &str) -> bool {
        self.deps.contains_key(name)
    }

    /// Every crate `name` depends on, directly or through workspace crates.
    fn closure(&self, name: &str) -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![name.to_owned()];
        while let Some(n) = todo.pop() {
            for d in self.deps.get(&n).into_iter().flatten() {
                if seen.insert(d.clone()) {
                    todo.push(d.clone());
                }
            }
        }
        seen
    }
}

#[test]
fn crates_depend_only_downwards() {
    let ws = workspace();
    for name in SERVICES.iter().chain(BELOW_HTTP) {
        assert!(ws.has(name), "the workspace has no crate {name}");
    }
    // The closure follows workspace edges (the binary reaches FFmpeg through the worker too).
    assert!(ws.closure("kadr").contains("kadr-media"));
    assert!(ws.closure("kadr-catalog").contains("kadr-core"));
    let mut wrong = Vec::new();
    // Only the worker and the binary run FFmpeg.
    for name in ws.deps.keys() {
        if !matches!(name.as_str(), "kadr" | "kadr-worker" | "kadr-media")
            && ws.closure(name).contains("kadr-media")
        {
            wrong.push(format!("{name} depends on kadr-media"));
        }
    }
    // No service reaches another.
    for a in SERVICES {
        let reach = ws.closure(a);
        for b in SERVICES {
            if a != b && reach.contains(*b) {
                wrong.push(format!("service {a} depends on service {b}"));
            }
        }
    }
    // Nothing below the services knows actix.
    for name in BELOW_HTTP {
        for d in ws.closure(name) {
            if d.starts_with("actix") || d == "kadr-http" || SERVICES.contains(&d.as_str()) {
                wrong.push(format!("{name} depends on {d}"));
            }
        }
    }
    // Storage and media know no database.
    for name in ["kadr-storage", "kadr-media"] {
        for d in ws.closure(name) {
            if matches!(
                d.as_str(),
                "kadr-db" | "sea-orm" | "sqlx" | "kadr-migration"
            ) {
                wrong.push(format!("{name} depends on {d}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "forbidden dependencies:\n{}",
        wrong.join("\n")
    );
}

/// The top-level modules of a crate (`src/x.rs` or `src/x/`) and which others each names
/// through `crate::`.
fn module_graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let mut files: Vec<(String, PathBuf)> = Vec::new();
    for entry in std::fs::read_dir(src).unwrap() {
        let path = entry.unwrap().path();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        if stem == "lib" || stem == "main" {
            continue;
        }
        if path.is_dir() {
            let mut stack = vec![path];
            while let Some(dir) = stack.pop() {
                for e in std::fs::read_dir(dir).unwrap() {
                    let p = e.unwrap().path();
                    if p.is_dir() {
                        stack.push(p);
                    } else if p.extension().is_some_and(|x| x == "rs") {
                        files.push((stem.clone(), p));
                    }
                }
            }
        } else if path.extension().is_some_and(|x| x == "rs") {
            files.push((stem, path));
        }
    }
    let modules: BTreeSet<String> = files.iter().map(|(m, _)| m.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (module, path) in &files {
        let text = std::fs::read_to_string(path).unwrap();
        let uses = graph.entry(module.clone()).or_default();
        for (i, _) in text.match_indices("crate::") {
            let rest = &text[i + "crate::".len()..];
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            // `crate::{a, b}` groups.
            let names: Vec<String> = if rest.starts_with('{') {
                rest[1..rest.find('}').unwrap_or(1)]
                    .split(',')
                    .map(|s| {
                        s.trim()
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect()
                    })
                    .collect()
            } else {
                vec![name]
            };
            for n in names {
                if n != *module && modules.contains(&n) {
                    uses.insert(n);
                }
            }
        }
    }
    graph
}

/// A cycle in `graph`, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        done: &mut BTreeSet<String>,
        path: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut c = path[at..].to_vec();
            c.push(n.to_owned());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_owned());
        for m in graph.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, graph, done, path) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    for n in graph.keys() {
        if let Some(c) = visit(n, graph, &mut done, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

#[test]
fn modules_of_a_crate_do_not_import_each_other_in_a_cycle() {
    let ws = workspace();
    let mut cycles = Vec::new();
    for (name, dir) in &ws.dirs {
        let src = dir.join("src");
        if !src.is_dir() {
            continue;
        }
        if let Some(c) = cycle(&module_graph(&src)) {
            cycles.push(format!("{name}: {}", c.join(" → ")));
        }
    }
    assert!(cycles.is_empty(), "module cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_cycle_finder_finds_cycles() {
    let g = |edges: &[(&str, &str)]| {
        let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (a, b) in edges {
            g.entry((*a).to_owned())
                .or_default()
                .insert((*b).to_owned());
            g.entry((*b).to_owned()).or_default();
        }
        g
    };
    assert_eq!(cycle(&g(&[("a", "b"), ("b", "c")])), None);
    assert_eq!(
        cycle(&g(&[("a", "b"), ("b", "c"), ("c", "a")])),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
}
