//! Archives and packages end to end (`check`, `verify`, `risk` on corpus/containers/, built by
//! corpus/recipes/build-containers.sh with zip, tar, gzip, xz, zstd, bzip2, dpkg-deb and
//! rpmbuild): every binary inside is reported as `container!/entry`, with the same facts as the
//! corpus file it is a copy of; the listing tools (unzip, tar, dpkg-deb, rpm) name every binary
//! entry bingate reports; --exclude and waivers match the inner paths; unsafe names are
//! reported and never touch the file system.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::run::{bingate, bingate_in};
use common::{interop, paths};
use serde_json::Value;

fn expected() -> BTreeMap<String, Value> {
    let v: Value =
        serde_json::from_slice(&paths::read(paths::corpus("containers/expected.json"))).unwrap();
    v.as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.starts_with('_'))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn check_json(args: &[&str]) -> Value {
    let mut all = vec!["check", "--format", "json"];
    all.extend_from_slice(args);
    let out = bingate(&all);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

fn files(v: &Value) -> Vec<Value> {
    v["files"].as_array().unwrap().clone()
}

/// A report entry without what depends on where the bytes came from.
fn facts_of(f: &Value) -> Value {
    let mut f = f.clone();
    let o = f.as_object_mut().unwrap();
    o.remove("path");
    o.remove("findings");
    f
}

#[test]
fn every_binary_inside_is_reported_with_the_facts_of_its_source() {
    for (name, exp) in expected() {
        let path = format!("corpus/containers/{name}");
        let report = check_json(&[&path]);
        let files = files(&report);
        let first = &files[0];
        assert_eq!(
            first["path"],
            path.as_str(),
            "{name}: the container comes first"
        );
        assert_eq!(
            first["container"]["kind"]["type"]
                .as_str()
                .map(str::to_owned),
            Some(match exp["kind"].as_str().unwrap() {
                k if k.starts_with("tar") => "tar".to_owned(),
                "gzip" => "compressed".to_owned(),
                k => k.to_owned(),
            }),
            "{name}: {first}"
        );
        assert!(
            first.get("error").is_none_or(Value::is_null),
            "{name}: {first}"
        );
        let binaries = exp["binaries"].as_object().unwrap();
        let reported: BTreeMap<String, &Value> = files
            .iter()
            .filter(|f| f["format"].is_string())
            .map(|f| {
                let p = f["path"].as_str().unwrap();
                let inner = p
                    .strip_prefix(&format!("{path}!/"))
                    .unwrap_or_else(|| panic!("{name}: {p} is not inside {path}"));
                (inner.to_owned(), f)
            })
            .collect();
        assert_eq!(
            reported.keys().collect::<Vec<_>>(),
            binaries.keys().collect::<Vec<_>>(),
            "{name}: the binaries reported inside"
        );
        assert_eq!(
            first["container"]["binaries"].as_u64(),
            Some(binaries.len() as u64),
            "{name}"
        );
        for (inner, source) in binaries {
            let direct = check_json(&[&format!("corpus/{}", source.as_str().unwrap())]);
            assert_eq!(
                facts_of(reported[inner]),
                facts_of(&files_of(&direct)[0]),
                "{name}!/{inner} against corpus/{source}"
            );
        }
        if let Some(nested) = exp.get("nested").and_then(Value::as_object) {
            for (inner, kind) in nested {
                let p = format!("{path}!/{inner}");
                let n = files.iter().find(|f| f["path"] == p.as_str());
                let n = n.unwrap_or_else(|| panic!("{name}: no report for {p}"));
                assert!(n["container"].is_object(), "{p}: {n} ({kind})");
            }
        }
        if let Some(sigs) = exp.get("package_signatures") {
            assert_eq!(&first["container"]["package_signatures"], sigs, "{name}");
        }
    }
}

fn files_of(v: &Value) -> Vec<Value> {
    files(v)
}

#[test]
fn listing_tools_name_every_binary_bingate_reports_inside() {
    for (name, exp) in expected() {
        let listing: Vec<&str> = exp["listing"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        if !interop::available(
            interop::installed(listing[0]),
            format!("{} is not installed", listing[0]),
        ) {
            continue;
        }
        let out = Command::new(listing[0])
            .args(&listing[1..])
            .arg(paths::corpus(format!("containers/{name}")))
            .output()
            .unwrap();
        assert!(out.status.success(), "{listing:?} {name}");
        let text = String::from_utf8_lossy(&out.stdout);
        for inner in exp["binaries"].as_object().unwrap().keys() {
            // Nested entries: the outer tool lists the nested container's own name.
            let outer_entry = inner.split("!/").next().unwrap();
            let found = text.lines().any(|l| {
                let l = l.trim_end();
                l.ends_with(outer_entry)
                    || (name.ends_with(".gz") && l.ends_with(&name[..name.len() - 3]))
            });
            assert!(
                found,
                "{listing:?} {name} does not list {outer_entry}:\n{text}"
            );
        }
    }
}

#[test]
fn a_walked_container_without_binaries_is_skipped_a_named_one_is_reported() {
    let dir = paths::tempdir();
    std::fs::copy(
        paths::corpus("containers/text.tar.gz"),
        dir.path().join("text.tar.gz"),
    )
    .unwrap();
    std::fs::copy(
        paths::corpus("containers/bins.tar.xz"),
        dir.path().join("bins.tar.xz"),
    )
    .unwrap();
    let walked = check_json(&[dir.path().to_str().unwrap()]);
    let paths: Vec<String> = files(&walked)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        paths.iter().all(|p| !p.contains("text.tar.gz")),
        "{paths:?}"
    );
    assert!(
        paths.iter().any(|p| p.ends_with("bins.tar.xz!/x86.dll")),
        "{paths:?}"
    );
    let named = check_json(&["corpus/containers/text.tar.gz"]);
    let f = &files(&named)[0];
    assert_eq!(f["container"]["binaries"], 0, "{f}");
    assert!(f["container"]["entries"].as_u64().unwrap() >= 2, "{f}");
}

#[test]
fn exclude_globs_match_paths_inside_containers() {
    let all = check_json(&["corpus/containers/wheel.whl"]);
    assert_eq!(files(&all).len(), 3);
    let out = check_json(&["--exclude", "*.so", "corpus/containers/wheel.whl"]);
    let paths: Vec<&str> = files(&out)
        .iter()
        .map(|f| f["path"].as_str().unwrap().to_owned())
        .collect::<Vec<_>>()
        .leak()
        .iter()
        .map(String::as_str)
        .collect();
    assert_eq!(
        paths,
        [
            "corpus/containers/wheel.whl",
            "corpus/containers/wheel.whl!/pkg/_native.pyd"
        ]
    );
}

#[test]
fn waivers_match_paths_inside_containers() {
    let dir = paths::tempdir();
    let policy = dir.path().join("policy.toml");
    std::fs::write(
        &policy,
        concat!(
            "name = \"inner\"\ndescription = \"one rule that fails on every ELF file\"\n",
            "[[rule]]\nid = \"elf-stripped\"\ndescription = \"stripped\"\nlevel = \"deny\"\n",
            "applies = { format = \"elf\" }\ncheck = { fact = \"stripped\", equals = true }\n",
            "rationale = \"fixture\"\n[rule.remediation]\ndefault = \"strip\"\n",
            "[[waiver]]\nrule = \"elf-stripped\"\npath = \"tool.deb!/usr/bin/*\"\n",
            "reason = \"fixture\"\n",
        ),
    )
    .unwrap();
    std::fs::copy(
        paths::corpus("containers/tool.deb"),
        dir.path().join("tool.deb"),
    )
    .unwrap();
    let out = bingate_in(
        dir.path(),
        &[
            "check",
            "--format",
            "json",
            "--policy",
            "policy.toml",
            "tool.deb",
        ],
    );
    let v: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let tool = files(&v)
        .into_iter()
        .find(|f| f["path"] == "tool.deb!/usr/bin/tool")
        .expect("the binary inside is reported");
    let findings = tool["findings"].as_array().unwrap();
    let finding = findings
        .iter()
        .find(|f| f["rule"] == "elf-stripped")
        .unwrap_or_else(|| panic!("{tool}"));
    assert!(finding["waiver"].is_object(), "{finding}");
}

#[test]
fn unsafe_names_are_reported_and_never_touch_the_file_system() {
    let dir = paths::tempdir();
    let work = dir.path().join("work");
    std::fs::create_dir(&work).unwrap();
    let fixture = paths::corpus("containers/unsafe-names.zip");
    let out = bingate_in(
        &work,
        &["check", "--format", "json", fixture.to_str().unwrap()],
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let first = &files(&v)[0];
    let notes = first["container"]["notes"].as_array().unwrap();
    let unsafe_entries: Vec<&str> = notes
        .iter()
        .filter(|n| n["id"] == "unsafe-name")
        .map(|n| n["entry"].as_str().unwrap())
        .collect();
    let exp = &expected()["unsafe-names.zip"];
    let want: Vec<&str> = exp["unsafe_names"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(unsafe_entries, want, "{first}");
    // Nothing was written anywhere near the working directory.
    assert_eq!(std::fs::read_dir(&work).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    assert!(!std::path::Path::new("/abs/evil.dll").exists());
}

#[test]
fn verify_counts_unsigned_pe_files_inside_at_every_depth() {
    let out = bingate(&[
        "verify",
        "--format",
        "json",
        "--trust",
        "corpus/pki/root.pem",
        "--time",
        "2026-11-22T00:00:00Z",
        "corpus/containers/nested.zip",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let files = files(&v);
    let by_path = |p: &str| {
        files
            .iter()
            .find(|f| f["path"] == p)
            .unwrap_or_else(|| panic!("no {p} in {files:?}"))
            .clone()
    };
    let app = by_path("corpus/containers/nested.zip!/inner.tar.gz!/bin/app.exe");
    assert_eq!(app["signature"]["status"], "valid", "{app}");
    let helper = by_path("corpus/containers/nested.zip!/inner.tar.gz!/bin/helper.exe");
    assert_eq!(helper["signature"]["status"], "unsigned", "{helper}");
    let zip = by_path("corpus/containers/nested.zip");
    assert_eq!(zip["container"]["unsigned_pe"], 1, "{zip}");
    assert_eq!(
        zip["container"]["unsigned_pe_shown"][0],
        "corpus/containers/nested.zip!/inner.tar.gz!/bin/helper.exe"
    );
    let text = bingate(&[
        "verify",
        "--trust",
        "corpus/pki/root.pem",
        "--time",
        "2026-11-22T00:00:00Z",
        "corpus/containers/nested.zip",
    ]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("nested.zip!/inner.tar.gz!/bin/app.exe"),
        "{text}"
    );
    assert!(text.contains("1 unsigned PE file inside"), "{text}");
}

#[test]
fn sarif_results_name_the_entry_inside_the_container() {
    let out = bingate(&[
        "check",
        "--format",
        "sarif",
        "--policy",
        "default",
        "corpus/containers/tool.rpm",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let results = v["runs"][0]["results"].as_array().unwrap();
    assert!(!results.is_empty(), "{v}");
    for r in results {
        // The location is the file a repository holds; the entry is named inside it.
        let loc = &r["locations"][0];
        assert_eq!(
            loc["physicalLocation"]["artifactLocation"]["uri"], "corpus/containers/tool.rpm",
            "{r}"
        );
        assert_eq!(
            loc["logicalLocations"][0]["fullyQualifiedName"], "usr/bin/tool",
            "{r}"
        );
        assert!(
            r["message"]["text"]
                .as_str()
                .unwrap()
                .starts_with("In usr/bin/tool: "),
            "{r}"
        );
    }
}
