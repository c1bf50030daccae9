//! Interop tests run an outside tool (osslsigncode, openssl, sign-file, checksec…) or read the
//! fetched public corpus (`corpus/fetch-public.sh`) when it is there. When it is not, the test
//! prints a note and skips, unless `BINGATE_REQUIRE_INTEROP=1` (what `.ci/run` sets), where the
//! absence fails the test.

use std::fmt::Display;
use std::path::Path;

use super::paths;

/// `BINGATE_REQUIRE_INTEROP=1`: a missing tool or public corpus is a failure, not a skip.
pub fn required() -> bool {
    std::env::var("BINGATE_REQUIRE_INTEROP").as_deref() == Ok("1")
}

/// Something the test needs is absent (`what`, e.g. "osslsigncode is not installed"): under
/// `BINGATE_REQUIRE_INTEROP=1` this panics with `BINGATE_REQUIRE_INTEROP=1 but {what}`;
/// otherwise it prints a note and returns, and the caller skips.
// A test's note to the person running it: tests print.
#[allow(clippy::disallowed_macros)]
#[track_caller]
pub fn skip(what: impl Display) {
    assert!(!required(), "BINGATE_REQUIRE_INTEROP=1 but {what}");
    eprintln!("note: skipped: {what} (set BINGATE_REQUIRE_INTEROP=1 to make this fatal)");
}

/// `present`, after [`skip`]`(what)` when it is false.
#[track_caller]
pub fn available(present: bool, what: impl Display) -> bool {
    if !present {
        skip(what);
    }
    present
}

/// Whether `tool` can be run: an absolute path that exists, otherwise an executable file of
/// that name in a directory of `PATH` (what `command -v` and `Command::new` find).
pub fn installed(tool: &str) -> bool {
    if tool.contains('/') {
        return Path::new(tool).exists();
    }
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path).any(|dir| executable(&dir.join(tool)))
}

#[cfg(unix)]
fn executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn executable(p: &Path) -> bool {
    p.is_file() || p.with_extension("exe").is_file()
}

/// Whether `tool` is [`installed`]; when it is not, see [`skip`].
#[track_caller]
pub fn require(tool: &str) -> bool {
    available(installed(tool), format_args!("{tool} is not installed"))
}

/// Whether the public-corpus file or directory `path` (relative to the repository root, e.g.
/// `corpus/public/msvc-runtime/vcruntime140.dll`, or absolute) exists; when it does not, see
/// [`skip`].
#[track_caller]
pub fn public(path: impl AsRef<Path>) -> bool {
    let path = path.as_ref();
    available(
        paths::repo(path).exists(),
        format_args!("{} is absent: run corpus/fetch-public.sh", path.display()),
    )
}
