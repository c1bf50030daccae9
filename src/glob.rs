//! The one place globset is called. Every glob a user or a policy file supplies (`--exclude`,
//! waiver `path`) is compiled here into a `GlobSet`, whose `build` reports a pattern the regex
//! engine cannot compile (nested alternates past its size limit) as an error:
//! `Glob::compile_matcher` panics on those instead. The call is also contained, so a panic
//! inside globset becomes an error naming the pattern.
//!
//! [`RootGlobs`] is how both kinds of glob are matched: against a file's path relative to the
//! scanned root (the PATH on the command line it was found under), at any depth unless anchored.

use globset::{Glob, GlobSet, GlobSetBuilder};

/// `pattern` for a message: at most 80 characters of it.
fn shown(pattern: &str) -> String {
    match pattern.char_indices().nth(80) {
        Some((i, _)) => format!("{:?}… ({} bytes)", &pattern[..i], pattern.len()),
        None => format!("{pattern:?}"),
    }
}

/// Compiles `(as typed, as compiled)` pairs into one set; the error names the pattern as typed.
fn build<'a>(patterns: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for (typed, p) in patterns {
        let g = Glob::new(p).map_err(|e| format!("invalid glob {}: {e}", shown(typed)))?;
        b.add(g);
    }
    crate::guard::contain("glob", None, || b.build())
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("invalid glob: {e}"))
}

/// Compiles `patterns` into one set; the error names the pattern that failed.
#[cfg(test)]
fn compile_all<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<GlobSet, String> {
    build(patterns.into_iter().map(|p| (p, p)))
}

/// Compiles one pattern.
#[cfg(test)]
fn compile(pattern: &str) -> Result<GlobSet, String> {
    compile_all([pattern]).map_err(|e| named(pattern, e))
}

/// A set-level error (`invalid glob: …`) for a single pattern, with the pattern named.
fn named(pattern: &str, e: String) -> String {
    if e.starts_with("invalid glob \"") {
        e
    } else {
        format!(
            "invalid glob {}: {}",
            shown(pattern),
            e.trim_start_matches("invalid glob: ")
        )
    }
}

/// Globs matched against a path relative to the scanned root, the way gitignore matches its
/// patterns:
///
/// - the path is the file's path below the PATH named on the command line, components joined
///   with `/`, no leading `./` or `/` (a file named directly is its own file name);
/// - a glob that starts with `/` (or `./`) is anchored: it must match that whole relative path;
/// - any other glob matches if it matches the relative path or any trailing part of it that
///   starts after a `/`: `vendor/**` matches `vendor/x.dll` and `a/b/vendor/x.dll`, `*.so` and
///   `libfoo.so` match at any depth, `build/*.dll` matches `build/x.dll` and `a/build/x.dll`.
///
/// Globset's syntax is kept: `*` also matches `/`, `**`, `?`, `[abc]` and `{a,b}` work as usual.
/// A path of n components costs at most n matches of one compiled set per kind.
#[derive(Debug, Clone)]
pub struct RootGlobs {
    anchored: GlobSet,
    floating: GlobSet,
}

impl Default for RootGlobs {
    fn default() -> Self {
        RootGlobs {
            anchored: GlobSet::empty(),
            floating: GlobSet::empty(),
        }
    }
}

impl RootGlobs {
    /// Compiles `patterns`; the error names the pattern that failed, as typed.
    pub fn new<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<Self, String> {
        let mut anchored = Vec::new();
        let mut floating = Vec::new();
        for p in patterns {
            match p.strip_prefix("./").or_else(|| p.strip_prefix('/')) {
                Some(rest) => anchored.push((p, rest)),
                None => floating.push((p, p)),
            }
        }
        let single = match (anchored.as_slice(), floating.as_slice()) {
            ([(p, _)], []) | ([], [(p, _)]) => Some(*p),
            _ => None,
        };
        let sets = build(anchored).and_then(|a| Ok((a, build(floating)?)));
        match sets {
            Ok((anchored, floating)) => Ok(RootGlobs { anchored, floating }),
            Err(e) => Err(match single {
                Some(p) => named(p, e),
                None => e,
            }),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.anchored.is_empty() && self.floating.is_empty()
    }

    /// Whether `rel` (relative to the scanned root, `/`-separated) matches one of the globs.
    pub fn is_match(&self, rel: &str) -> bool {
        if self.anchored.is_match(rel) {
            return true;
        }
        if self.floating.is_empty() {
            return false;
        }
        std::iter::once(rel)
            .chain(
                rel.match_indices('/')
                    .filter_map(|(i, _)| rel.get(i.saturating_add(1)..)),
            )
            .any(|tail| !tail.is_empty() && self.floating.is_match(tail))
    }

    /// Whether the directory at `rel` is not to be entered: a glob matches the directory itself
    /// (`vendor`) or what is inside it (`vendor/**` matches `vendor/`).
    pub fn excludes_dir(&self, rel: &str) -> bool {
        self.is_match(rel) || self.is_match(&format!("{rel}/"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hostile_globs_are_errors_not_panics() {
        assert!(compile("dist/**/*.exe").unwrap().is_match("dist/a/b.exe"));
        assert!(compile("{a,{b,c}}").unwrap().is_match("c"));
        // 1,000 nested alternates: the regex is over its size limit (compile_matcher panics).
        let deep = format!("{}b{}", "{a,".repeat(1000), "}".repeat(1000));
        let e = compile(&deep).unwrap_err();
        assert!(e.contains("invalid glob"), "{e}");
        assert!(compile("[").is_err());
        assert!(compile_all(["*.so", "{"]).unwrap_err().contains("\"{\""));
        let e = RootGlobs::new([deep.as_str()]).unwrap_err();
        assert!(e.starts_with("invalid glob \"{a,{a,"), "{e}");
        assert!(
            RootGlobs::new(["*.so", "/{"])
                .unwrap_err()
                .contains("\"/{\"")
        );
    }

    fn globs(patterns: &[&str]) -> RootGlobs {
        RootGlobs::new(patterns.iter().copied()).unwrap()
    }

    #[test]
    fn directory_globs_match_at_any_depth() {
        let g = globs(&["vendor/**"]);
        for rel in [
            "vendor/x.dll",
            "a/vendor/x.dll",
            "a/b/c/vendor/x.dll",
            "vendor/a/b/x.so",
        ] {
            assert!(g.is_match(rel), "{rel}");
        }
        for rel in [
            "x.dll",
            "vendors/x.dll",
            "myvendor/x.dll",
            "a/vendor",
            "vendor",
        ] {
            assert!(!g.is_match(rel), "{rel}");
        }
        for dir in ["vendor", "a/b/c/vendor"] {
            assert!(g.excludes_dir(dir), "{dir}");
        }
        assert!(!g.excludes_dir("vendors"));
        // A bare name excludes the directory itself, at any depth.
        assert!(globs(&["vendor"]).excludes_dir("a/b/vendor"));
        assert!(globs(&["vendor"]).is_match("a/b/vendor"));
        assert!(!globs(&["vendor"]).is_match("a/b/vendor.dll"));
    }

    #[test]
    fn name_globs_match_any_component() {
        let g = globs(&["*.so"]);
        assert!(g.is_match("libc.so"));
        assert!(g.is_match("a/b/libc.so"));
        assert!(!g.is_match("a/b/libc.so.6"));
        let g = globs(&["libfoo.so"]);
        assert!(g.is_match("lib/x86_64/libfoo.so"));
        assert!(!g.is_match("lib/x86_64/libfoo.so.1"));
        assert!(!g.is_match("lib/notlibfoo.so"));
    }

    #[test]
    fn slash_globs_match_at_a_directory_boundary() {
        let g = globs(&["build/*.dll"]);
        assert!(g.is_match("build/x.dll"));
        assert!(g.is_match("a/b/build/x.dll"));
        assert!(!g.is_match("rebuild/x.dll"));
        assert!(!g.is_match("build/x.exe"));
        let g = globs(&["sub/x.exe"]);
        assert!(g.is_match("sub/x.exe"));
        assert!(g.is_match("dist/sub/x.exe"));
        assert!(!g.is_match("sub/x.exe.bak"));
        assert!(!g.is_match("xsub/x.exe"));
    }

    #[test]
    fn a_leading_slash_or_dot_slash_anchors_at_the_root() {
        for p in ["/vendor/**", "./vendor/**"] {
            let g = globs(&[p]);
            assert!(g.is_match("vendor/x.dll"), "{p}");
            assert!(g.excludes_dir("vendor"), "{p}");
            assert!(!g.is_match("a/vendor/x.dll"), "{p}");
            assert!(!g.excludes_dir("a/vendor"), "{p}");
        }
        // Anchored and floating globs in one set.
        let g = globs(&["/top.exe", "*.so"]);
        assert!(g.is_match("top.exe") && !g.is_match("a/top.exe") && g.is_match("a/b.so"));
    }

    #[test]
    fn empty_globs_match_nothing() {
        let g = RootGlobs::default();
        assert!(g.is_empty());
        assert!(!g.is_match("x") && !g.excludes_dir("x"));
        assert!(!globs(&["*.so"]).is_empty());
    }
}
