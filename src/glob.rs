//! The one place globset is called. Every glob a user or a policy file supplies (`--exclude`,
//! waiver `path`) is compiled here into a `GlobSet`, whose `build` reports a pattern the regex
//! engine cannot compile (nested alternates past its size limit) as an error:
//! `Glob::compile_matcher` panics on those instead. The call is also contained, so a panic
//! inside globset becomes an error naming the pattern.

use globset::{Glob, GlobSet, GlobSetBuilder};

/// `pattern` for a message: at most 80 characters of it.
fn shown(pattern: &str) -> String {
    match pattern.char_indices().nth(80) {
        Some((i, _)) => format!("{:?}… ({} bytes)", &pattern[..i], pattern.len()),
        None => format!("{pattern:?}"),
    }
}

/// Compiles `patterns` into one set; the error names the pattern that failed.
pub fn compile_all<'a>(patterns: impl IntoIterator<Item = &'a str>) -> Result<GlobSet, String> {
    let mut b = GlobSetBuilder::new();
    for p in patterns {
        let g = Glob::new(p).map_err(|e| format!("invalid glob {}: {e}", shown(p)))?;
        b.add(g);
    }
    crate::guard::contain("glob", None, || b.build())
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("invalid glob: {e}"))
}

/// Compiles one pattern.
pub fn compile(pattern: &str) -> Result<GlobSet, String> {
    compile_all([pattern]).map_err(|e| {
        if e.starts_with("invalid glob \"") {
            e
        } else {
            format!(
                "invalid glob {}: {}",
                shown(pattern),
                e.trim_start_matches("invalid glob: ")
            )
        }
    })
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
    }
}
