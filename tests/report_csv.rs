//! `--format csv` end to end, read back with an independent reader (python3's `csv` module):
//! one row per file, every column agreeing with the JSON report of the same run, RFC 4180
//! quoting of hostile file names and the formula-injection guard, and the view's filters.

mod common;

use std::collections::BTreeSet;
use std::process::Command;

use common::run::{bingate, bingate_in};
use common::{interop, paths};
use serde_json::Value;

const TIME: &str = "2026-11-22T00:00:00Z";

/// The header, written out here rather than taken from the code under test.
const HEADER: &[&str] = &[
    "path",
    "container",
    "format",
    "arch",
    "bits",
    "kind",
    "toolchain",
    "size",
    "sha256",
    "nx",
    "cet",
    "wx",
    "aslr",
    "high_entropy_va",
    "cfg",
    "safeseh",
    "gs",
    "wx_sections",
    "pie",
    "relro",
    "canary",
    "fortify_source",
    "fortified",
    "unfortified",
    "rpath",
    "runpath",
    "textrel",
    "signature",
    "signer",
    "timestamp",
    "risk",
    "policy",
    "deny",
    "warn",
    "info",
    "failing_rules",
    "company",
    "product",
    "description",
    "file_version",
    "product_version",
    "original_filename",
    "warnings",
    "error",
];

/// The records of a CSV document as python3's csv module reads them (RFC 4180 dialect).
fn python_rows(csv: &[u8]) -> Option<Vec<Vec<String>>> {
    if !interop::require("python3") {
        return None;
    }
    let dir = paths::tempdir();
    let file = dir.path().join("report.csv");
    std::fs::write(&file, csv).unwrap();
    let out = Command::new("python3")
        .args([
            "-c",
            "import csv, json, sys\n\
             with open(sys.argv[1], newline='', encoding='utf-8') as f:\n\
             \x20   print(json.dumps(list(csv.reader(f, strict=True))))",
        ])
        .arg(&file)
        .output()
        .expect("run python3");
    assert!(
        out.status.success(),
        "python3 could not read the CSV: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).unwrap())
}

/// The run's stdout, after checking it ended with a tool-error-free exit code.
fn stdout(args: &[&str]) -> Vec<u8> {
    let out = bingate(args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{args:?}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// A row as a map from column name to cell.
fn cell<'a>(row: &'a [String], name: &str) -> &'a str {
    let i = HEADER.iter().position(|h| *h == name).unwrap();
    &row[i]
}

fn s(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Bool(true) => "yes".into(),
        Value::Bool(false) => "no".into(),
        other => other.to_string(),
    }
}

/// What the container column must say, from the JSON `container.kind`.
fn container_name(kind: &Value) -> String {
    let codec = kind.get("codec").and_then(Value::as_str);
    let ext = |c: &str| {
        match c {
            "gzip" => "gz",
            "zstd" => "zst",
            "bzip2" => "bz2",
            other => other,
        }
        .to_owned()
    };
    match (kind["type"].as_str().unwrap(), codec) {
        ("tar", Some(c)) => format!("tar.{}", ext(c)),
        ("compressed", Some(c)) => c.to_owned(),
        (t, _) => t.to_owned(),
    }
}

/// The signature whose status is the file's.
fn deciding(sig: &Value) -> Option<&Value> {
    let sigs = sig["signatures"].as_array()?;
    match sig.get("decided_by") {
        Some(d) => sigs
            .iter()
            .find(|s| s["entry"] == d["entry"] && s["nested"] == d["nested"]),
        None => sigs.first(),
    }
}

const LEVELS: [&str; 3] = ["info", "warn", "deny"];

fn at_or_above(level: &str, min: &str) -> bool {
    let rank = |l: &str| LEVELS.iter().position(|x| *x == l);
    matches!((rank(level), rank(min)), (Some(a), Some(b)) if a >= b)
}

/// Every column of `row` against the JSON entry `f`, with findings counted at `min` or above.
fn assert_row_matches(row: &[String], f: &Value, min: &str) {
    let path = f["path"].as_str().unwrap();
    let want = |name: &str, v: String| {
        assert_eq!(cell(row, name), v, "{path}: column {name}");
    };
    want("path", path.to_owned());
    want(
        "container",
        f.get("container")
            .map(|c| container_name(&c["kind"]))
            .unwrap_or_default(),
    );
    for k in ["format", "arch", "bits", "kind", "size", "sha256"] {
        want(k, s(&f[k]));
    }
    want("toolchain", s(&f["toolchain"]["name"]));
    let h = &f["hardening"];
    let pe = f["format"] == "pe" && !h.is_null();
    let elf = f["format"] == "elf" && !h.is_null();
    let pe_only = |name: &str, v: &dyn Fn() -> String| want(name, if pe { v() } else { "".into() });
    pe_only("aslr", &|| {
        match (h["dynamic_base"].as_bool(), h["relocs_stripped"].as_bool()) {
            (Some(true), Some(false)) => "yes",
            (Some(true), Some(true)) => "no-relocs",
            _ => "no",
        }
        .into()
    });
    pe_only("high_entropy_va", &|| s(&h["high_entropy_va"]));
    pe_only("cfg", &|| {
        match (h["guard_cf"].as_bool(), h["cfg_instrumented"].as_bool()) {
            (Some(true), Some(true)) => "yes",
            (Some(true), _) => "flag-only",
            _ => "no",
        }
        .into()
    });
    pe_only("safeseh", &|| s(&h["safe_seh"]));
    pe_only("gs", &|| s(&h["gs_cookie"]));
    pe_only("wx_sections", &|| {
        h["wx_sections"]
            .as_array()
            .unwrap()
            .iter()
            .map(s)
            .collect::<Vec<_>>()
            .join(";")
    });
    let elf_only =
        |name: &str, v: &dyn Fn() -> String| want(name, if elf { v() } else { "".into() });
    elf_only("pie", &|| s(&h["pie"]));
    elf_only("relro", &|| s(&h["relro"]));
    elf_only("canary", &|| s(&h["canary"]));
    elf_only("textrel", &|| s(&h["textrel"]));
    elf_only("fortified", &|| s(&h["fortify"]["fortified"]));
    elf_only("unfortified", &|| s(&h["fortify"]["unfortified"]));
    elf_only("fortify_source", &|| {
        s(&Value::Bool(
            h["fortify"]["fortified"].as_u64().unwrap() > 0,
        ))
    });
    for k in ["rpath", "runpath"] {
        elf_only(k, &|| {
            let v: Vec<String> = h[k].as_array().unwrap().iter().map(s).collect();
            if v.is_empty() {
                "no".into()
            } else {
                v.join(":")
            }
        });
    }
    // The columns both formats have.
    let (nx, cet, wx) = if pe {
        (
            s(&h["nx_compat"]),
            s(&h["cet_compat"]),
            s(&Value::Bool(
                !h["wx_sections"].as_array().unwrap().is_empty(),
            )),
        )
    } else if elf {
        let marks: Vec<&str> = ["ibt", "shstk", "bti", "pac"]
            .into_iter()
            .filter(|m| h[*m].as_bool().unwrap())
            .collect();
        let cet = if marks.is_empty() {
            "no".to_owned()
        } else {
            marks.join("+")
        };
        (s(&h["nx"]), cet, s(&h["wx_segments"]))
    } else {
        Default::default()
    };
    want("nx", nx);
    want("cet", cet);
    want("wx", wx);

    let sig = f.get("signature");
    want(
        "signature",
        sig.map(|v| s(&v["status"])).unwrap_or_default(),
    );
    let ours = sig.and_then(deciding);
    want(
        "signer",
        ours.map(|o| s(&o["signer"]["subject"])).unwrap_or_default(),
    );
    want(
        "timestamp",
        ours.map(|o| &o["timestamp"])
            .filter(|t| t["valid"] == true)
            .map(|t| s(&t["time"]))
            .unwrap_or_default(),
    );
    want(
        "risk",
        f.get("risk").map(|r| s(&r["level"])).unwrap_or_default(),
    );

    match f.get("findings").and_then(Value::as_array) {
        Some(fs) => {
            let counted = |status: &str| {
                fs.iter()
                    .filter(|x| x["status"] == status)
                    .filter(|x| at_or_above(x["level"].as_str().unwrap(), min))
                    .collect::<Vec<_>>()
            };
            let failing = counted("fail");
            let waived = counted("waived");
            want(
                "policy",
                if !failing.is_empty() {
                    "fail"
                } else if !waived.is_empty() {
                    "waived-only"
                } else {
                    "pass"
                }
                .into(),
            );
            for level in LEVELS {
                want(
                    level,
                    if at_or_above(level, min) {
                        failing
                            .iter()
                            .filter(|x| x["level"] == level)
                            .count()
                            .to_string()
                    } else {
                        String::new()
                    },
                );
            }
            want(
                "failing_rules",
                failing
                    .iter()
                    .map(|x| s(&x["rule"]))
                    .collect::<Vec<_>>()
                    .join(";"),
            );
        }
        None => {
            for k in ["policy", "deny", "warn", "info", "failing_rules"] {
                want(k, String::new());
            }
        }
    }
    let v = f.get("version");
    for (col, key) in [
        ("company", "company"),
        ("product", "product"),
        ("description", "description"),
        ("file_version", "file_version"),
        ("product_version", "product_version"),
        ("original_filename", "original_filename"),
    ] {
        want(col, v.and_then(|v| v.get(key)).map(s).unwrap_or_default());
    }
    want(
        "warnings",
        f["warnings"].as_array().unwrap().len().to_string(),
    );
    want("error", s(&f["error"]));
}

fn check_args<'a>(format: &'a str, extra: &[&'a str], paths: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "check",
        "--format",
        format,
        "--today",
        "2026-11-22",
        "--time",
        TIME,
        "--trust",
        "corpus/pki/root.pem",
    ];
    v.extend_from_slice(extra);
    v.extend_from_slice(paths);
    v
}

const CORPUS: &[&str] = &[
    "corpus/pe",
    "corpus/elf",
    "corpus/risk",
    "corpus/signed",
    "corpus/containers",
];

#[test]
fn csv_rows_agree_with_the_json_report_for_the_corpus() {
    // A file that does not parse, for the error column: an ELF header whose program headers
    // are past the end.
    let dir = paths::tempdir();
    let truncated = dir.path().join("truncated.elf");
    std::fs::write(&truncated, &paths::read(paths::corpus("elf/canary"))[..64]).unwrap();
    let mut targets = CORPUS.to_vec();
    targets.push(truncated.to_str().unwrap());
    let json: Value = serde_json::from_slice(&stdout(&check_args("json", &[], &targets))).unwrap();
    let csv = stdout(&check_args("csv", &[], &targets));
    assert!(csv.ends_with(b"\r\n"), "records end with CRLF");
    let Some(rows) = python_rows(&csv) else {
        return;
    };
    assert_eq!(rows[0], HEADER, "the header row");
    let files = json["files"].as_array().unwrap();
    assert_eq!(
        rows.len() - 1,
        json["summary"]["files"].as_u64().unwrap() as usize,
        "one row per file, no summary row"
    );
    assert_eq!(rows.len() - 1, files.len());
    for (row, f) in rows[1..].iter().zip(files) {
        assert_eq!(row.len(), HEADER.len(), "{row:?}");
        assert_row_matches(row, f, "info");
    }
    // The corpus exercises what the columns are for: both formats, containers, signatures,
    // the risk estimate, failing findings, version strings and errors.
    let column =
        |name: &str| -> BTreeSet<&str> { rows[1..].iter().map(|r| cell(r, name)).collect() };
    for (name, value) in [
        ("format", "pe"),
        ("format", "elf"),
        ("container", "zip"),
        ("signature", "valid"),
        ("signature", "unsigned"),
        ("policy", "fail"),
        ("company", "Bingate Test Corp"),
    ] {
        assert!(column(name).contains(value), "no row with {name} = {value}");
    }
    for name in ["risk", "timestamp", "signer", "error", "failing_rules"] {
        assert!(
            column(name).iter().any(|c| !c.is_empty()),
            "{name} always empty"
        );
    }
}

#[test]
fn csv_without_policy_or_verification_leaves_those_columns_empty() {
    let args = ["check", "--no-policy", "--no-verify", "--format"];
    let json: Value = serde_json::from_slice(&stdout(
        &[
            &args[..],
            &["json", "corpus/risk/app.exe", "corpus/elf/rpath"],
        ]
        .concat(),
    ))
    .unwrap();
    let csv = stdout(
        &[
            &args[..],
            &["csv", "corpus/risk/app.exe", "corpus/elf/rpath"],
        ]
        .concat(),
    );
    let Some(rows) = python_rows(&csv) else {
        return;
    };
    assert_eq!(rows.len(), 3);
    for (row, f) in rows[1..].iter().zip(json["files"].as_array().unwrap()) {
        assert_row_matches(row, f, "info");
        for k in [
            "signature",
            "signer",
            "risk",
            "policy",
            "deny",
            "failing_rules",
        ] {
            assert_eq!(cell(row, k), "", "{k}");
        }
    }
    // Rows in path order: the ELF file first.
    let (elf, pe) = (&rows[1], &rows[2]);
    assert_eq!(cell(elf, "path"), "corpus/elf/rpath");
    assert_ne!(cell(elf, "rpath"), "no");
    assert_eq!(cell(elf, "original_filename"), "");
    // The version resource is read without verification too (the content pass does not run).
    assert_eq!(cell(pe, "original_filename"), "app.exe");
    assert_eq!(cell(pe, "product_version"), "1.2.3.4");
    assert_eq!(cell(pe, "aslr"), "yes");
}

/// A file name a spreadsheet would run, with a quote, commas and a newline in it.
const HOSTILE: &str = "=cmd|' \\C calc'!A0,\"quoted\", and\na newline";

#[test]
fn hostile_file_names_round_trip_and_are_guarded_against_formulas() {
    let dir = paths::tempdir();
    let names = [HOSTILE, "@SUM(1+1)", "+plus", "-minus", "\ttab", "plain.so"];
    for name in names {
        std::fs::copy(paths::corpus("elf/canary"), dir.path().join(name)).unwrap();
    }
    let mut args = vec!["check", "--no-policy", "--format", "csv", "--"];
    args.extend(names);
    let out = bingate_in(dir.path(), &args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let raw = String::from_utf8(out.stdout.clone()).unwrap();
    // Quoted (comma, quote, newline), with the guard inside the quotes and the quotes doubled.
    assert!(
        raw.contains("\r\n\"'=cmd|' \\C calc'!A0,\"\"quoted\"\", and\na newline\","),
        "{raw}"
    );
    assert!(raw.contains("\r\n'@SUM(1+1),"), "{raw}");
    let Some(rows) = python_rows(&out.stdout) else {
        return;
    };
    assert_eq!(
        rows.len(),
        names.len() + 1,
        "the newline stays inside its field"
    );
    let mut got: Vec<&str> = rows[1..].iter().map(|r| cell(r, "path")).collect();
    got.sort_unstable();
    let mut want: Vec<String> = names
        .iter()
        .map(|n| {
            if n.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{n}")
            } else {
                (*n).to_owned()
            }
        })
        .collect();
    want.sort_unstable();
    assert_eq!(got, want);
    for r in &rows[1..] {
        assert_eq!(r.len(), HEADER.len());
        assert_eq!(cell(r, "format"), "elf");
    }
}

#[test]
fn only_failures_and_min_level_filter_rows_and_findings() {
    let paths = ["corpus/elf", "corpus/pe"];
    let json: Value = serde_json::from_slice(&stdout(&check_args("json", &[], &paths))).unwrap();
    let files = json["files"].as_array().unwrap();
    for min in ["deny", "warn", "info"] {
        let failing: Vec<&Value> = files
            .iter()
            .filter(|f| {
                f["findings"].as_array().is_some_and(|fs| {
                    fs.iter().any(|x| {
                        x["status"] == "fail" && at_or_above(x["level"].as_str().unwrap(), min)
                    })
                })
            })
            .collect();
        let csv = stdout(&check_args(
            "csv",
            &["--only-failures", "--min-level", min],
            &paths,
        ));
        let Some(rows) = python_rows(&csv) else {
            return;
        };
        assert_eq!(rows[0], HEADER);
        assert_eq!(
            rows[1..]
                .iter()
                .map(|r| cell(r, "path"))
                .collect::<Vec<_>>(),
            failing
                .iter()
                .map(|f| f["path"].as_str().unwrap())
                .collect::<Vec<_>>(),
            "--only-failures --min-level {min}"
        );
        for (row, f) in rows[1..].iter().zip(&failing) {
            assert_row_matches(row, f, min);
            assert_eq!(cell(row, "policy"), "fail");
        }
        // Without --only-failures every file has a row, its counts at the level or above.
        let csv = stdout(&check_args("csv", &["--min-level", min], &paths));
        let rows = python_rows(&csv).unwrap();
        assert_eq!(rows.len() - 1, files.len());
        for (row, f) in rows[1..].iter().zip(files) {
            assert_row_matches(row, f, min);
        }
    }
    // The levels differ on this corpus: deny keeps fewer rows than info.
    let count = |min: &str| {
        python_rows(&stdout(&check_args(
            "csv",
            &["--only-failures", "--min-level", min],
            &paths,
        )))
        .map_or(0, |r| r.len())
    };
    if interop::installed("python3") {
        assert!(count("deny") < count("info"));
    }
}

#[test]
fn csv_to_an_output_file_is_the_same_as_stdout() {
    let dir = paths::tempdir();
    let file = dir.path().join("r.csv");
    let to_stdout = stdout(&[
        "check",
        "--no-policy",
        "--format",
        "csv",
        "corpus/elf/canary",
    ]);
    let out = bingate(&[
        "check",
        "--no-policy",
        "--format",
        "csv",
        "--output",
        file.to_str().unwrap(),
        "corpus/elf/canary",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.is_empty());
    assert_eq!(std::fs::read(&file).unwrap(), to_stdout);
}
