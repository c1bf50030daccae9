//! The module graph drawn in the crate docs (src/lib.rs, "Module graph") is the code's: every
//! top-level module is on exactly one line, and every `crate::` path outside test code names a
//! module on a lower line. Layers that only point down cannot form a cycle.

mod common;

use std::collections::BTreeMap;

use common::paths;

/// Module name → line of the picture (0 = top).
fn layers(lib_rs: &str) -> BTreeMap<String, usize> {
    let mut in_picture = false;
    let mut seen_heading = false;
    let mut layers = BTreeMap::new();
    let mut line_no = 0;
    for line in lib_rs.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            continue;
        };
        let doc = doc.strip_prefix(' ').unwrap_or(doc);
        if doc == "# Module graph" {
            seen_heading = true;
            continue;
        }
        if seen_heading && doc == "```text" {
            in_picture = true;
            continue;
        }
        if !in_picture {
            continue;
        }
        if doc == "```" {
            break;
        }
        // A line starting with a space continues the previous line's description.
        if doc.starts_with(' ') || doc.is_empty() {
            continue;
        }
        let names = doc.split("  ").next().unwrap_or_default();
        for name in names.split(' ').filter(|n| !n.is_empty()) {
            let previous = layers.insert(name.to_owned(), line_no);
            assert!(previous.is_none(), "{name} is on two lines of the picture");
        }
        line_no += 1;
    }
    assert!(!layers.is_empty(), "no module picture in src/lib.rs");
    layers
}

/// The top-level modules `lib.rs` declares.
fn declared(lib_rs: &str) -> Vec<String> {
    lib_rs
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let l = l
                .strip_prefix("pub mod ")
                .or_else(|| l.strip_prefix("pub(crate) mod "))
                .or_else(|| l.strip_prefix("mod "))?;
            l.strip_suffix(';').map(str::to_owned)
        })
        .collect()
}

/// `source` without comments and without items under `#[cfg(test)]` (test code may reach
/// anywhere: a test of `cms` may build a PE file).
fn non_test_code(source: &str) -> String {
    let mut out = String::new();
    let mut pending_cfg_test = false;
    let mut skipping = 0i64;
    for line in source.lines() {
        let trimmed = line.trim_start();
        if skipping > 0 {
            skipping += braces(line);
            continue;
        }
        if trimmed.starts_with("#[cfg(test)]") {
            pending_cfg_test = true;
            continue;
        }
        if pending_cfg_test {
            if trimmed.starts_with("#[") {
                continue;
            }
            pending_cfg_test = false;
            let depth = braces(line);
            if depth > 0 {
                skipping = depth;
            }
            continue;
        }
        if trimmed.starts_with("//") {
            continue;
        }
        let code = line.split(" //").next().unwrap_or_default();
        out.push_str(code);
        out.push('\n');
    }
    out
}

fn braces(line: &str) -> i64 {
    let open = line.matches('{').count() as i64;
    let close = line.matches('}').count() as i64;
    open - close
}

/// Top-level modules named by `crate::name` or `crate::{a, b::c}` in `code`.
fn crate_paths(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (i, _) in code.match_indices("crate::") {
        // `bingate::crate::` does not occur; skip identifiers that merely end in "crate".
        if code[..i]
            .chars()
            .next_back()
            .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            continue;
        }
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let group = &group[..group.find('}').unwrap_or(group.len())];
            for item in group.split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    out.push(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.push(name);
        }
    }
    out
}

#[test]
fn the_picture_in_lib_rs_is_the_module_graph() {
    let src = paths::root().join("src");
    let lib_rs = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let layers = layers(&lib_rs);
    let declared = declared(&lib_rs);

    let mut missing: Vec<&String> = declared
        .iter()
        .filter(|m| !layers.contains_key(*m))
        .collect();
    missing.sort();
    assert!(
        missing.is_empty(),
        "modules not in the picture: {missing:?}"
    );
    let stale: Vec<&String> = layers.keys().filter(|m| !declared.contains(m)).collect();
    assert!(
        stale.is_empty(),
        "the picture names modules lib.rs does not declare: {stale:?}"
    );

    let mut violations = Vec::new();
    for module in &declared {
        let dir = src.join(module);
        let root = if dir.is_dir() {
            dir
        } else {
            src.join(format!("{module}.rs"))
        };
        for file in paths::rust_files(&root) {
            let code = non_test_code(&std::fs::read_to_string(&file).unwrap());
            for used in crate_paths(&code) {
                if &used == module || !layers.contains_key(&used) {
                    continue;
                }
                if layers[&used] <= layers[module] {
                    let rel = file.strip_prefix(paths::root()).unwrap_or(&file);
                    violations.push(format!("{} uses crate::{used}", rel.display()));
                }
            }
        }
    }
    violations.sort();
    violations.dedup();
    assert!(
        violations.is_empty(),
        "uses of a module on the same or a higher line of the picture in src/lib.rs:\n  {}",
        violations.join("\n  ")
    );
}

/// The checker itself: test code is skipped, code and grouped imports are seen.
#[test]
fn the_checker_sees_code_and_skips_tests_and_comments() {
    let source = "\
use crate::{cms, pki::chain};
// crate::cli in a comment
fn f() { crate::report::x(); } // crate::scan after code
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use crate::cli;
    fn g() { crate::scan::y(); }
}
fn h() { crate::pe::z(); }
";
    let code = non_test_code(source);
    assert_eq!(crate_paths(&code), ["cms", "pki", "report", "pe"]);

    let picture = "//! # Module graph\n//!\n//! ```text\n//! a b    top\n//! c      below\n//!        more\n//! ```\n";
    let l = layers(picture);
    assert_eq!(l["a"], 0);
    assert_eq!(l["b"], 0);
    assert_eq!(l["c"], 1);
    assert_eq!(l.len(), 3);
}
