//! The source tree's layering, checked: no import cycle between the top-level modules of
//! `src/` (the `gpu` runtime below the `kernels` below the `loss`es), none between the files
//! of one folder, and the runtime never reaches up into kernels, losses or tensors.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// `(module path, code)` of every file in `src/`: `gpu::recorder` for `src/gpu/recorder.rs`,
/// `gpu` for `src/gpu/mod.rs`. Code is the file without comments and without its test
/// module (tests may use anything).
fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("src/ is readable") {
            let path = entry.expect("entry").path();
            let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                walk(&path, &format!("{prefix}{stem}::"), out);
                continue;
            }
            let name = match stem.as_str() {
                "lib" => "crate".to_string(),
                "mod" => prefix.trim_end_matches("::").to_string(),
                _ => format!("{prefix}{stem}"),
            };
            let text = std::fs::read_to_string(&path).expect("readable");
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            let code: Vec<&str> = code
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect();
            out.push((name, code.join("\n")));
        }
    }
    let mut out = Vec::new();
    walk(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
        "",
        &mut out,
    );
    out
}

/// The modules each file names through a `crate::…` path: the longest prefix that is a module.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let files = sources();
    let modules: BTreeSet<String> = files.iter().map(|f| f.0.clone()).collect();
    let mut edges = BTreeMap::new();
    for (name, code) in &files {
        let mut named = BTreeSet::new();
        for (at, _) in code.match_indices("crate::") {
            let rest = &code[at + "crate::".len()..];
            let path: String = rest
                .chars()
                .take_while(|c| {
                    c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_' || *c == ':'
                })
                .collect();
            let mut candidate = String::new();
            let mut found = None;
            for segment in path.split("::").filter(|s| !s.is_empty()) {
                candidate = if candidate.is_empty() {
                    segment.to_string()
                } else {
                    format!("{candidate}::{segment}")
                };
                if modules.contains(&candidate) {
                    found = Some(candidate.clone());
                }
            }
            if let Some(m) = found.filter(|m| m != name) {
                named.insert(m);
            }
        }
        edges.insert(name.clone(), named);
    }
    edges
}

fn top(module: &str) -> &str {
    module.split("::").next().unwrap_or(module)
}

/// A cycle in `graph`, if there is one.
fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        state: &mut BTreeMap<String, u8>,
        stack: &mut Vec<String>,
    ) -> Option<Vec<String>> {
        match state.get(node) {
            Some(2) => return None,
            Some(1) => {
                let start = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut found = stack[start..].to_vec();
                found.push(node.to_string());
                return Some(found);
            }
            _ => {}
        }
        state.insert(node.to_string(), 1);
        stack.push(node.to_string());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, state, stack) {
                return Some(c);
            }
        }
        stack.pop();
        state.insert(node.to_string(), 2);
        None
    }
    let mut state = BTreeMap::new();
    graph
        .keys()
        .find_map(|n| visit(n, graph, &mut state, &mut Vec::new()))
}

#[test]
fn top_level_modules_form_no_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in edges() {
        if from == "crate" {
            continue; // lib.rs declares and re-exports everything
        }
        for to in tos {
            if top(&to) != top(&from) && to != "crate" {
                graph
                    .entry(top(&from).into())
                    .or_default()
                    .insert(top(&to).into());
            }
        }
    }
    assert_eq!(cycle(&graph), None, "graph: {graph:?}");
    for layer in ["kernels", "loss", "tensor", "shaders"] {
        assert!(
            !graph.get("gpu").is_some_and(|g| g.contains(layer)),
            "the GPU runtime imports {layer}: {graph:?}"
        );
    }
}

#[test]
fn the_files_of_each_folder_form_no_cycle() {
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (from, tos) in edges() {
        for to in tos {
            // Within one folder; a folder's mod.rs is its facade, which its files may name.
            let same_folder = top(&to) == top(&from) && to.contains("::") && from != "crate";
            if same_folder {
                graph.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    assert_eq!(cycle(&graph), None, "graph: {graph:?}");
}
