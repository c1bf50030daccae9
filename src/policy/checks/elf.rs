//! The ELF checks a rule can name: FORTIFY_SOURCE and safe library search paths (RPATH/RUNPATH),
//! each judged from the file's ELF hardening facts.

use super::super::model::Status;
use crate::elf::ElfHardening;

/// Directories anyone can write to: a library path there lets any local user inject code.
const WORLD_WRITABLE: &[&str] = &["/tmp", "/var/tmp", "/dev/shm"];

/// `elf-fortify`.
pub(super) fn elf_fortify(e: &ElfHardening) -> (Status, String) {
    let (f, u) = (e.fortify.fortified, e.fortify.unfortified);
    match (f, u) {
        (0, 0) => (
            Status::NotApplicable,
            "no fortifiable libc function is used".into(),
        ),
        (0, u) => (
            Status::Fail,
            format!(
                "{u} fortifiable libc function{} imported, none through a __*_chk variant",
                if u == 1 { "" } else { "s" }
            ),
        ),
        (f, u) => (
            Status::Pass,
            format!(
                "{f} __*_chk function{} imported ({u} call{} left unfortified)",
                if f == 1 { "" } else { "s" },
                if u == 1 { "" } else { "s" }
            ),
        ),
    }
}

/// Why an RPATH/RUNPATH entry is unsafe, if it is.
fn path_problem(entry: &str) -> Option<&'static str> {
    if entry.is_empty() {
        return Some("empty entry (means the current directory)");
    }
    if entry.starts_with("$ORIGIN") || entry.starts_with("${ORIGIN}") {
        return None;
    }
    if !entry.starts_with('/') {
        return Some("relative to the current directory");
    }
    let under =
        |dir: &str| entry == dir || entry.strip_prefix(dir).is_some_and(|r| r.starts_with('/'));
    WORLD_WRITABLE
        .iter()
        .any(|d| under(d))
        .then_some("in a world-writable directory")
}

/// `elf-safe-paths`.
pub(super) fn elf_safe_paths(e: &ElfHardening) -> (Status, String) {
    let entries: Vec<(&str, &String)> = e
        .rpath
        .iter()
        .map(|p| ("RPATH", p))
        .chain(e.runpath.iter().map(|p| ("RUNPATH", p)))
        .collect();
    if entries.is_empty() {
        return (Status::Pass, "no RPATH or RUNPATH".into());
    }
    let bad: Vec<String> = entries
        .iter()
        .filter_map(|(tag, p)| path_problem(p).map(|why| format!("{tag} \"{p}\": {why}")))
        .collect();
    if bad.is_empty() {
        (
            Status::Pass,
            format!(
                "{} RPATH/RUNPATH entries, all absolute or $ORIGIN-relative",
                entries.len()
            ),
        )
    } else {
        (Status::Fail, bad.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_library_paths_are_named() {
        assert_eq!(
            path_problem(""),
            Some("empty entry (means the current directory)")
        );
        assert_eq!(
            path_problem("lib"),
            Some("relative to the current directory")
        );
        assert_eq!(
            path_problem("/tmp/lib"),
            Some("in a world-writable directory")
        );
        assert_eq!(path_problem("/tmpfoo/lib"), None);
        assert_eq!(path_problem("$ORIGIN/../lib"), None);
        assert_eq!(path_problem("/usr/lib/x"), None);
    }
}
