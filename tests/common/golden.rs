//! Golden files: expected output committed under `tests/golden/`, compared byte for byte.
//! `BINGATE_BLESS=1 cargo test` rewrites them from today's output instead; review the diff.

use std::path::PathBuf;

use super::paths;

/// `tests/golden/<name>` (`name` may have directories, e.g. `matrix/default.txt`).
pub fn path(name: &str) -> PathBuf {
    paths::repo("tests/golden").join(name)
}

/// `BINGATE_BLESS` is set: goldens are written, not compared.
pub fn blessing() -> bool {
    std::env::var_os("BINGATE_BLESS").is_some()
}

/// Compares `actual` with `tests/golden/<name>`; `Err` says where it differs (or why the file
/// cannot be read). With `BINGATE_BLESS` set, writes `actual` there instead (creating the
/// directory) and returns `Ok`.
pub fn check(name: &str, actual: &[u8]) -> Result<(), String> {
    let path = path(name);
    if blessing() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return Ok(());
    }
    let expected = std::fs::read(&path)
        .map_err(|e| format!("{}: {e} (bless with BINGATE_BLESS=1)", path.display()))?;
    if expected == actual {
        return Ok(());
    }
    let a = String::from_utf8_lossy(actual);
    let e = String::from_utf8_lossy(&expected);
    let first = a
        .lines()
        .zip(e.lines())
        .position(|(x, y)| x != y)
        .unwrap_or_else(|| a.lines().count().min(e.lines().count()));
    Err(format!(
        "{name} differs from the golden file at line {}:\n  got:      {}\n  expected: {}\n(bless with BINGATE_BLESS=1 and review the diff)",
        first + 1,
        a.lines().nth(first).unwrap_or("<end of output>"),
        e.lines().nth(first).unwrap_or("<end of file>"),
    ))
}

/// [`check`], panicking with its message when `actual` differs from `tests/golden/<name>`.
#[track_caller]
pub fn assert_golden(name: &str, actual: &[u8]) {
    if let Err(e) = check(name, actual) {
        panic!("{e}");
    }
}
