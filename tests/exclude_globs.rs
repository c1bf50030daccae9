//! `--exclude` and waiver `path` globs are matched against the path relative to the scanned
//! PATH, at any depth, whether the PATH is spelled `dist`, `./dist`, `dist/` or absolutely
//! (README `--exclude`, docs/policies.md "Waiver paths").

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::paths;
use common::run::bingate_in;
use serde_json::Value;

/// A PE with NX_COMPAT (passes the test policy) and one without (fails it).
const GOOD: &str = "corpus/pe/x64-default.exe";
const BAD: &str = "corpus/pe/x64-no-nxcompat.exe";
/// An ELF shared library.
const ELF: &str = "corpus/elf/full-relro";

/// A temporary directory holding `dist/`:
///
/// ```text
/// dist/top.exe                 dist/vendor/v.exe           (vendor at depth 0)
/// dist/a/b/c/keep.exe          dist/a/b/c/vendor/deep.exe  (vendor at depth 3)
/// dist/sub/x.exe (no NX)       dist/lib/libx.so
/// ```
fn tree() -> tempfile::TempDir {
    let dir = paths::tempdir();
    let d = dir.path().join("dist");
    for (src, dst) in [
        (GOOD, "top.exe"),
        (GOOD, "vendor/v.exe"),
        (GOOD, "a/b/c/keep.exe"),
        (GOOD, "a/b/c/vendor/deep.exe"),
        (BAD, "sub/x.exe"),
        (ELF, "lib/libx.so"),
    ] {
        let to = d.join(dst);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(paths::repo(src), &to).unwrap();
    }
    dir
}

/// The four spellings of the same root, as typed in `dir`.
fn spellings(dir: &Path) -> [String; 4] {
    [
        "dist".into(),
        "./dist".into(),
        "dist/".into(),
        dir.join("dist").display().to_string(),
    ]
}

/// `bingate check --format json ARGS` run in `dir`: the exit code and the report.
fn check(dir: &Path, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["check", "--no-verify", "--format", "json"];
    all.extend_from_slice(args);
    let out = bingate_in(dir, &all);
    let doc: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code(), doc)
}

/// The reported files' paths below `root` (as typed), sorted.
fn files(doc: &Value, root: &str) -> BTreeSet<String> {
    let prefix = root.trim_end_matches('/');
    doc["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            let rel = p.strip_prefix(prefix).unwrap_or_else(|| panic!("{p}"));
            rel.trim_start_matches('/').to_owned()
        })
        .collect()
}

fn set(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|p| (*p).to_owned()).collect()
}

#[test]
fn vendor_glob_excludes_vendor_at_depth_0_and_3_for_every_root_spelling() {
    let dir = tree();
    for root in spellings(dir.path()) {
        let (code, doc) = check(
            dir.path(),
            &["--no-policy", "--exclude", "vendor/**", &root],
        );
        assert_eq!(code, Some(0), "{root}");
        assert_eq!(
            files(&doc, &root),
            set(&["a/b/c/keep.exe", "lib/libx.so", "sub/x.exe", "top.exe"]),
            "{root}"
        );
        assert_eq!(doc["summary"]["files"], 4, "{root}: files examined");
    }
    // Without the glob all six are examined: the glob, not the tree, removed two.
    let (_, doc) = check(dir.path(), &["--no-policy", "dist"]);
    assert_eq!(doc["summary"]["files"], 6);
}

#[test]
fn a_leading_slash_anchors_an_exclude_at_the_root() {
    let dir = tree();
    for root in spellings(dir.path()) {
        let (_, doc) = check(
            dir.path(),
            &["--no-policy", "--exclude", "/vendor/**", &root],
        );
        let seen = files(&doc, &root);
        assert!(!seen.contains("vendor/v.exe"), "{root}: {seen:?}");
        assert!(seen.contains("a/b/c/vendor/deep.exe"), "{root}: {seen:?}");
        assert_eq!(doc["summary"]["files"], 5, "{root}");
    }
}

#[test]
fn name_and_slash_globs_match_at_any_depth() {
    let dir = tree();
    for root in spellings(dir.path()) {
        let (_, doc) = check(dir.path(), &["--no-policy", "--exclude", "*.so", &root]);
        assert_eq!(doc["summary"]["files"], 5, "{root}");
        assert!(!files(&doc, &root).contains("lib/libx.so"), "{root}");
        assert_eq!(doc["summary"]["elf"], 0, "{root}");

        let (_, doc) = check(dir.path(), &["--no-policy", "--exclude", "c/*.exe", &root]);
        assert_eq!(
            files(&doc, &root),
            set(&["lib/libx.so", "sub/x.exe", "top.exe", "vendor/v.exe"]),
            "{root}: c/*.exe matches a/b/c/keep.exe and (* crosses /) a/b/c/vendor/deep.exe"
        );
    }
    // The root's own name and the directories above it never take part.
    let (_, doc) = check(dir.path(), &["--no-policy", "--exclude", "dist/**", "dist"]);
    assert_eq!(doc["summary"]["files"], 6);
}

/// `--exclude vendor` matches the directory by name; the files inside (`vendor/v.exe`) do not
/// match it themselves, so they are gone only because the directory was not entered.
#[test]
fn an_excluded_directory_is_not_entered() {
    let dir = tree();
    for root in spellings(dir.path()) {
        let (_, doc) = check(dir.path(), &["--no-policy", "--exclude", "vendor", &root]);
        assert_eq!(
            files(&doc, &root),
            set(&["a/b/c/keep.exe", "lib/libx.so", "sub/x.exe", "top.exe"]),
            "{root}"
        );
        assert_eq!(doc["summary"]["files"], 4, "{root}");
    }
    // A symlink loop inside vendor/ is reported when vendor/ is entered (with
    // --follow-symlinks), and not when `vendor/**` excludes it.
    #[cfg(unix)]
    {
        std::os::unix::fs::symlink("..", dir.path().join("dist/a/b/c/vendor/loop")).unwrap();
        let (_, doc) = check(dir.path(), &["--no-policy", "--follow-symlinks", "dist"]);
        let reasons: Vec<&Value> = doc["skipped"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| &s["reason"])
            .collect();
        assert!(reasons.contains(&&Value::from("symlink-loop")), "{doc}");
        let (_, doc) = check(
            dir.path(),
            &[
                "--no-policy",
                "--follow-symlinks",
                "--exclude",
                "vendor/**",
                "dist",
            ],
        );
        assert_eq!(doc["skipped"], Value::Array(Vec::new()), "{doc}");
        assert_eq!(doc["summary"]["files"], 4);
    }
}

#[test]
fn a_named_path_is_never_excluded() {
    let dir = tree();
    let (_, doc) = check(
        dir.path(),
        &["--no-policy", "--exclude", "*.so", "dist/lib/libx.so"],
    );
    assert_eq!(doc["summary"]["files"], 1);
    assert_eq!(doc["summary"]["elf"], 1);
}

/// A policy with one deny rule `sub/x.exe` fails (NX_COMPAT), and a waiver for `waiver_path`.
fn policy(dir: &Path, waiver_path: &str) -> String {
    let path = dir.join("policy.toml");
    std::fs::write(
        &path,
        format!(
            "name = \"nx\"\ndescription = \"NX only\"\n\
             [[rule]]\nid = \"pe-nx-compat\"\ndescription = \"DEP\"\nlevel = \"deny\"\n\
             applies = {{ format = \"pe\" }}\ncheck = {{ fact = \"nx_compat\", equals = true }}\n\
             rationale = \"r\"\n[rule.remediation]\ndefault = \"Link with /NXCOMPAT.\"\n\
             [[waiver]]\nrule = \"pe-nx-compat\"\npath = \"{waiver_path}\"\nreason = \"test\"\n"
        ),
    )
    .unwrap();
    path.display().to_string()
}

fn waived(doc: &Value) -> &Value {
    &doc["summary"]["policy"]["waived"]
}

#[test]
fn waiver_paths_match_the_same_for_every_root_spelling() {
    let dir = tree();
    // Without a waiver sub/x.exe fails the gate.
    let (code, doc) = check(
        dir.path(),
        &["--policy", &policy(dir.path(), "nomatch"), "dist"],
    );
    assert_eq!(code, Some(1));
    assert_eq!(waived(&doc), 0);
    for glob in ["sub/x.exe", "x.exe", "sub/**", "/sub/x.exe", "*.exe"] {
        let pol = policy(dir.path(), glob);
        for root in spellings(dir.path()) {
            let (code, doc) = check(dir.path(), &["--policy", &pol, &root]);
            assert_eq!(code, Some(0), "{glob} under {root}");
            assert_eq!(waived(&doc), 1, "{glob} under {root}");
            let x = doc["files"]
                .as_array()
                .unwrap()
                .iter()
                .find(|f| f["path"].as_str().unwrap().ends_with("sub/x.exe"))
                .unwrap();
            assert_eq!(x["findings"][0]["status"], "waived", "{glob} under {root}");
        }
    }
    // The root's own name is not part of the relative path, nor is anything above it.
    for glob in ["dist/sub/x.exe", "/x.exe", "a/sub/x.exe"] {
        let pol = policy(dir.path(), glob);
        for root in spellings(dir.path()) {
            let (code, doc) = check(dir.path(), &["--policy", &pol, &root]);
            assert_eq!(code, Some(1), "{glob} under {root}");
            assert_eq!(waived(&doc), 0, "{glob} under {root}");
            assert_eq!(
                doc["summary"]["policy"]["unused_waivers"][0]["target"],
                format!("path {glob}")
            );
        }
    }
    // A file named directly is matched by its file name.
    for (glob, code) in [("x.exe", 0), ("/x.exe", 0), ("sub/x.exe", 1)] {
        let pol = policy(dir.path(), glob);
        for named in ["dist/sub/x.exe", "./dist/sub/x.exe"] {
            let (c, _) = check(dir.path(), &["--policy", &pol, named]);
            assert_eq!(c, Some(code), "{glob} for {named}");
        }
    }
}

#[test]
fn sha256_waivers_do_not_depend_on_paths() {
    let dir = tree();
    let (_, doc) = check(dir.path(), &["--no-policy", "dist/sub/x.exe"]);
    let sha = doc["files"][0]["sha256"].as_str().unwrap().to_owned();
    let pol = policy(dir.path(), "unused");
    let text = std::fs::read_to_string(&pol)
        .unwrap()
        .replace("path = \"unused\"", &format!("sha256 = \"{sha}\""));
    std::fs::write(&pol, text).unwrap();
    for root in spellings(dir.path()) {
        let (code, doc) = check(dir.path(), &["--policy", &pol, &root]);
        assert_eq!(code, Some(0), "{root}");
        assert_eq!(waived(&doc), 1, "{root}");
        // Human and SARIF output show no hash, but the waiver still needs it: it is computed.
        for format in ["human", "sarif"] {
            let out = bingate_in(
                dir.path(),
                &[
                    "check",
                    "--no-verify",
                    "--format",
                    format,
                    "--policy",
                    &pol,
                    &root,
                ],
            );
            assert_eq!(out.status.code(), Some(0), "{format} {root}");
        }
    }
    // Without the waiver the same file fails: the exit code above is the waiver's doing.
    let unwaived = policy(dir.path(), "unused");
    let out = bingate_in(
        dir.path(),
        &["check", "--no-verify", "--policy", &unwaived, "dist"],
    );
    assert_eq!(out.status.code(), Some(1));
}
