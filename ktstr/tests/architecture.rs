//! The layering of ktstr's top-level modules: a module imports only modules below it, so the graph of
//! `crate::x` references between them has no cycle. Test code (`#[cfg(test)]` items and `*_tests.rs`
//! files) may reach anywhere and is not counted.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// For each top-level module, the modules it references, each with the first file that does.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

#[test]
fn top_level_modules_have_no_cycle() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let graph = crate_graph(&src);
    assert!(
        graph.len() > 5,
        "read too few modules from {}",
        src.display()
    );
    let cycles = cycles(&graph);
    assert!(
        cycles.is_empty(),
        "module cycles among ktstr's top-level modules; a layer may import only layers below it, so \
         move what both sides need into a lower module:\n{}",
        cycles
            .iter()
            .map(|(component, cycle)| format!(
                "{} — among {}",
                describe(cycle, &graph),
                component.iter().cloned().collect::<Vec<_>>().join(", ")
            ))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

#[test]
fn a_cycle_is_found_and_named_with_the_files_that_make_it() {
    let files = [
        ("a/mod.rs", "use crate::{b::{X, Y}, c};"),
        ("b/x.rs", "fn f() { crate::a::g() }"),
        ("c.rs", "use super::d::Z;"),
        (
            "d.rs",
            "// crate::c in a comment\nconst S: &str = \"crate::c\";",
        ),
    ];
    let graph = graph_of(&files);
    let found = cycles(&graph);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].1, ["a", "b"]);
    let text = describe(&found[0].1, &graph);
    assert_eq!(text, "a → b (a/mod.rs) → a (b/x.rs)");
    assert_eq!(graph["c"].keys().collect::<Vec<_>>(), ["d"]);
    assert!(
        graph["d"].is_empty(),
        "comments and strings are not references"
    );
}

#[test]
fn test_code_and_test_files_are_not_counted() {
    let files = [
        (
            "a.rs",
            "use crate::b;\n#[cfg(test)]\nmod tests {\n    use crate::c;\n}\n",
        ),
        (
            "b.rs",
            "#[cfg(test)]\n#[path = \"b_tests.rs\"]\nmod tests;\nfn f() {}",
        ),
        ("b_tests.rs", "use crate::a;"),
        (
            "c.rs",
            "#[cfg(test)]\nfn helper() { crate::a::f() }\nfn g() { let _ = '{'; }",
        ),
    ];
    let graph = graph_of(&files);
    assert!(cycles(&graph).is_empty(), "{graph:?}");
    assert_eq!(graph["a"].keys().collect::<Vec<_>>(), ["b"]);
}

/// The graph of in-memory files, each named by its path under `src`.
fn graph_of(files: &[(&str, &str)]) -> Graph {
    let sources = files
        .iter()
        .map(|(path, text)| (PathBuf::from(path), text.to_string()))
        .collect::<Vec<_>>();
    build_graph(&sources, &BTreeMap::new())
}

/// The graph of the crate whose source root is `src`.
fn crate_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    collect_rs_files(src, &mut files);
    let sources = files
        .into_iter()
        .filter(|path| path.file_name().is_some_and(|n| n != "lib.rs"))
        .map(|path| {
            let text = std::fs::read_to_string(&path).expect("readable source");
            (path.strip_prefix(src).unwrap().to_path_buf(), text)
        })
        .collect::<Vec<_>>();
    let lib = std::fs::read_to_string(src.join("lib.rs")).expect("lib.rs");
    build_graph(&sources, &lib_aliases(&lib))
}

fn collect_rs_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir)
        .expect("readable source dir")
        .flatten()
    {
        let path = entry.path();
        if path.is_dir() {
            collect_rs_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Names `lib.rs` re-exports a module under (`pub use sched::schedulers;`), mapped to that module.
fn lib_aliases(lib: &str) -> BTreeMap<String, String> {
    clean(lib)
        .split(';')
        .filter_map(|item| item.trim().strip_prefix("pub use "))
        .filter_map(|path| {
            let (path, alias) = match path.split_once(" as ") {
                Some((path, alias)) => (path, alias.trim()),
                None => (path, path.rsplit("::").next()?),
            };
            let module = path.trim().split("::").next()?;
            (alias != module).then(|| (alias.to_string(), module.to_string()))
        })
        .collect()
}

/// Edges between the top-level modules of `sources` (paths relative to the source root).
fn build_graph(sources: &[(PathBuf, String)], aliases: &BTreeMap<String, String>) -> Graph {
    let is_test_file = |path: &Path| path.to_string_lossy().ends_with("_tests.rs");
    let production = sources.iter().filter(|(path, _)| !is_test_file(path));
    let mut graph: Graph = production
        .clone()
        .filter_map(|(path, _)| module_path(path).into_iter().next())
        .map(|module| (module, BTreeMap::new()))
        .collect();
    let modules: BTreeSet<String> = graph.keys().cloned().collect();
    for (path, text) in production {
        let Some(from) = module_path(path).into_iter().next() else {
            continue;
        };
        let code = without_test_items(&clean(text));
        for name in references(&code, &module_path(path)) {
            let to = aliases.get(&name).cloned().unwrap_or(name);
            if to != from && modules.contains(&to) {
                let file = path.to_string_lossy().into_owned();
                graph.get_mut(&from).unwrap().entry(to).or_insert(file);
            }
        }
    }
    graph
}

/// The module path of a file: `sched/locate.rs` → `[sched, locate]`, `sched/mod.rs` → `[sched]`.
fn module_path(path: &Path) -> Vec<String> {
    let mut parts: Vec<String> = path
        .with_extension("")
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    if parts.last().is_some_and(|p| p == "mod") {
        parts.pop();
    }
    parts
}

/// `text` without comments, and with string and character literals emptied.
fn clean(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let rest = &chars[i..];
        let skip = match rest {
            ['/', '/', ..] => rest.iter().position(|&c| c == '\n').unwrap_or(rest.len()),
            ['/', '*', ..] => block_comment_len(rest),
            ['r', '"' | '#', ..] if !is_ident(chars.get(i.wrapping_sub(1))) => raw_string_len(rest),
            ['"', ..] => quoted_len(rest, '"'),
            ['\'', '\\', ..] | ['\'', _, '\'', ..] => quoted_len(rest, '\''),
            _ => 0,
        };
        if skip == 0 {
            out.push(chars[i]);
            i += 1;
        } else {
            out.push(' ');
            i += skip;
        }
    }
    out
}

fn is_ident(c: Option<&char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || *c == '_')
}

/// Length of a (possibly nested) block comment at the start of `rest`.
fn block_comment_len(rest: &[char]) -> usize {
    let (mut depth, mut i) = (0, 0);
    while i < rest.len() {
        match &rest[i..] {
            ['/', '*', ..] => (depth, i) = (depth + 1, i + 2),
            ['*', '/', ..] if depth == 1 => return i + 2,
            ['*', '/', ..] => (depth, i) = (depth - 1, i + 2),
            _ => i += 1,
        }
    }
    rest.len()
}

/// Length of a string or character literal opened by `quote` at the start of `rest`.
fn quoted_len(rest: &[char], quote: char) -> usize {
    let mut i = 1;
    while i < rest.len() {
        match rest[i] {
            '\\' => i += 2,
            c if c == quote => return i + 1,
            _ => i += 1,
        }
    }
    rest.len()
}

/// Length of a raw string (`r"..."`, `r#"..."#`) at the start of `rest`; 1 for an `r` that opens none.
fn raw_string_len(rest: &[char]) -> usize {
    let hashes = rest[1..].iter().take_while(|&&c| c == '#').count();
    if rest.get(1 + hashes) != Some(&'"') {
        return 1;
    }
    let close: Vec<char> = std::iter::once('"')
        .chain(std::iter::repeat_n('#', hashes))
        .collect();
    let body = 2 + hashes;
    (body..rest.len())
        .find(|&i| rest[i..].starts_with(&close))
        .map_or(rest.len(), |i| i + close.len())
}

/// `code` without the items marked `#[cfg(test)]`: up to their `;` or the end of their `{ ... }`.
fn without_test_items(code: &str) -> String {
    const MARK: &str = "#[cfg(test)]";
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find(MARK) {
        out.push_str(&rest[..at]);
        rest = &rest[at + MARK.len()..];
        let mut depth = 0usize;
        let end = rest.char_indices().find_map(|(i, c)| match c {
            '{' | '[' | '(' => {
                depth += 1;
                None
            }
            '}' | ']' | ')' => {
                depth = depth.saturating_sub(1);
                (depth == 0 && c == '}').then_some(i + 1)
            }
            ';' if depth == 0 => Some(i + 1),
            _ => None,
        });
        rest = &rest[end.unwrap_or(rest.len())..];
    }
    out.push_str(rest);
    out
}

/// The top-level names `code` reaches through `crate::`, `ktstr::` or enough `super::`s, in a file of
/// module path `path`; a `{a, b::c}` group after the root names each of its members.
fn references(code: &str, path: &[String]) -> BTreeSet<String> {
    let tokens = path_tokens(code);
    let mut found = BTreeSet::new();
    for (i, token) in tokens.iter().enumerate() {
        let starts_path = i == 0 || tokens[i - 1] != "::";
        let supers = tokens[i..]
            .chunks(2)
            .take_while(|pair| pair == &["super", "::"])
            .count();
        let root = match token.as_str() {
            "crate" | "ktstr" => i + 2,
            "super" if supers == path.len() => i + 2 * supers,
            _ => continue,
        };
        if !starts_path || tokens.get(root - 1).map(String::as_str) != Some("::") {
            continue;
        }
        match tokens.get(root).map(String::as_str) {
            Some("{") => found.extend(group_heads(&tokens[root + 1..])),
            Some(name) if is_ident(name.chars().next().as_ref()) => {
                found.insert(name.to_string());
            }
            _ => {}
        }
    }
    found
}

/// Identifiers, `::`, and single punctuation characters of `code`.
fn path_tokens(code: &str) -> Vec<String> {
    let mut tokens = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if is_ident(Some(&c)) {
            let mut ident = c.to_string();
            while let Some(next) = chars.next_if(|c| is_ident(Some(c))) {
                ident.push(next);
            }
            tokens.push(ident);
        } else if c == ':' && chars.next_if_eq(&':').is_some() {
            tokens.push("::".to_string());
        } else if !c.is_whitespace() {
            tokens.push(c.to_string());
        }
    }
    tokens
}

/// The first name of each member of a `{ ... }` group whose opening brace precedes `tokens`.
fn group_heads(tokens: &[String]) -> Vec<String> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut at_member_start = true;
    for token in tokens {
        match token.as_str() {
            "{" => depth += 1,
            "}" if depth == 0 => break,
            "}" => depth -= 1,
            "," if depth == 0 => at_member_start = true,
            name if at_member_start && depth == 0 => {
                heads.push(name.to_string());
                at_member_start = false;
            }
            _ => {}
        }
    }
    heads
}

/// Every group of modules that reach one another (a strongly connected component of more than one
/// module), with one cycle through it that starts at its alphabetically first module.
fn cycles(graph: &Graph) -> Vec<(BTreeSet<String>, Vec<String>)> {
    let mut seen = BTreeSet::new();
    let mut found = Vec::new();
    for start in graph.keys() {
        if seen.contains(start) {
            continue;
        }
        let component: BTreeSet<String> = graph
            .keys()
            .filter(|other| reaches(graph, start, other) && reaches(graph, other, start))
            .cloned()
            .collect();
        seen.extend(component.iter().cloned());
        if component.len() > 1 {
            let cycle = cycle_through(graph, start, &component);
            found.push((component, cycle));
        }
    }
    found
}

fn reaches(graph: &Graph, from: &str, to: &str) -> bool {
    let mut stack = vec![from.to_string()];
    let mut visited = BTreeSet::new();
    while let Some(node) = stack.pop() {
        if node == to {
            return true;
        }
        if visited.insert(node.clone()) {
            stack.extend(graph.get(&node).into_iter().flat_map(|e| e.keys().cloned()));
        }
    }
    false
}

/// A path from `start` back to `start` inside `component`, by breadth-first search.
fn cycle_through(graph: &Graph, start: &str, component: &BTreeSet<String>) -> Vec<String> {
    let mut came_from: BTreeMap<String, String> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start.to_string()]);
    while let Some(node) = queue.pop_front() {
        for next in graph[&node].keys().filter(|n| component.contains(*n)) {
            if next == start {
                let mut cycle = vec![node.clone()];
                while let Some(prev) = came_from.get(cycle.last().unwrap()) {
                    cycle.push(prev.clone());
                }
                cycle.reverse();
                return cycle;
            }
            if !came_from.contains_key(next) {
                came_from.insert(next.clone(), node.clone());
                queue.push_back(next.clone());
            }
        }
    }
    unreachable!("{start} is in a cycle of its component")
}

/// `a → b (file) → a (file)`: the cycle with the first file that makes each edge.
fn describe(cycle: &[String], graph: &Graph) -> String {
    let mut text = cycle[0].clone();
    for (i, from) in cycle.iter().enumerate() {
        let to = &cycle[(i + 1) % cycle.len()];
        text.push_str(&format!(" → {to} ({})", graph[from][to]));
    }
    text
}
