//! `--format sarif`: one SARIF 2.1.0 log with one run, written as the files are checked.
//!
//! The header (`tool.driver` with every rule of the policy, `originalUriBaseIds`) is written by
//! `begin`, one result per failing or waived finding by `file`, and the invocation by `finish`;
//! nothing but the rule table is held in memory.
//!
//! - Rules: every policy rule whose level is not `off`, in policy order, then the built-in
//!   `parse-error` rule unless the policy already lists it. `ruleIndex` points into that table.
//! - Results: `fail` findings, and `waived` findings as results carrying an external, accepted
//!   suppression with the waiver's reason. `pass` and `not-applicable` findings give no result.
//! - Levels: deny → `error`, warn → `warning`, info → `note` (off → `none`).
//! - Locations: the file's URI relative to the `SRCROOT` base, which `originalUriBaseIds` maps to
//!   the `root` given to [`SarifRenderer::new`] as an absolute `file://` URI. A file outside the
//!   root gets an absolute `file://` URI and no base. Paths are made absolute and normalised
//!   lexically (`.` and `..` folded, symbolic links not resolved); each segment is
//!   percent-encoded except RFC 3986 unreserved characters.
//! - Entries of containers (`pkg.whl!/lib/x.dll`): the location is the container file (the one
//!   a repository holds), the path inside is a logical location and starts the message, and the
//!   fingerprint covers both.
//! - `partialFingerprints["bingateFinding/v1"]`: see [`fingerprint`].
//!
//! The log validates against the OASIS SARIF 2.1.0 schema (errata 01); `tests/sarif_schema.rs`
//! checks it.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{FileReport, Renderer, Skipped, Summary};
use crate::policy::{Finding, Level, PARSE_ERROR_RULE, Policy, Rule, Status};

/// The schema the log names: the OASIS SARIF 2.1.0 standard schema, errata 01 (the one
/// `tests/schemas/sarif-schema-2.1.0.json` holds).
pub(crate) const SARIF_SCHEMA: &str =
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json";

/// The SARIF version written.
pub(crate) const SARIF_VERSION: &str = "2.1.0";

/// The `uriBaseId` every relative result URI is relative to.
pub(crate) const URI_BASE_ID: &str = "SRCROOT";

/// The key of the fingerprint in `partialFingerprints`; bump the version if its input changes.
pub(crate) const FINGERPRINT_KEY: &str = "bingateFinding/v1";

/// A streaming SARIF renderer.
pub struct SarifRenderer<W: Write> {
    out: W,
    /// `tool.driver.rules`, built once from the policy.
    rules: Vec<Value>,
    /// Rule id → index in `rules`.
    rule_index: HashMap<String, usize>,
    policy_name: String,
    policy_source: String,
    root: PathBuf,
    /// Resolved by `begin`.
    base: Option<Base>,
    first_result: bool,
    /// Results below this level are left out (`--min-level`).
    #[allow(dead_code)]
    min_level: Level,
}

/// The absolute root and the directory relative paths are taken from.
struct Base {
    root: PathBuf,
    cwd: Option<PathBuf>,
}

impl<W: Write> SarifRenderer<W> {
    /// `root` is the directory result URIs are relative to (the `SRCROOT` base): the scanned
    /// directory when exactly one directory is scanned, else the current directory. A relative
    /// `root` and relative report paths are taken from the current directory.
    pub fn new(out: W, policy: &Policy, root: &Path) -> Self {
        let mut rules = Vec::new();
        let mut rule_index = HashMap::new();
        for rule in policy.rules.iter().filter(|r| r.level != Level::Off) {
            rule_index.insert(rule.id.clone(), rules.len());
            rules.push(rule_descriptor(rule));
        }
        if !policy.rules.iter().any(|r| r.id == PARSE_ERROR_RULE) {
            rule_index.insert(PARSE_ERROR_RULE.to_string(), rules.len());
            rules.push(parse_error_descriptor());
        }
        SarifRenderer {
            out,
            rules,
            rule_index,
            policy_name: policy.name.clone(),
            policy_source: policy.source.clone(),
            root: root.to_path_buf(),
            base: None,
            first_result: true,
            min_level: Level::Info,
        }
    }

    /// Leaves out results below `level` (`--min-level`).
    pub fn min_level(mut self, level: Level) -> Self {
        self.min_level = level;
        self
    }

    pub fn into_inner(self) -> W {
        self.out
    }

    fn result(&self, base: &Base, file: &FileReport, finding: &Finding) -> Value {
        // An entry of a container points at the container file (what a repository holds); the
        // path inside goes into the message, a logical location and the fingerprint.
        let (outer, inner) = match file.inside.and_then(|i| file.path.split_at_checked(i)) {
            Some((outer, rest)) => (outer, rest.strip_prefix("!/")),
            None => (file.path.as_str(), None),
        };
        let location = ArtifactUri::of(Path::new(outer), &base.root, base.cwd.as_deref());
        let mut artifact = Map::new();
        artifact.insert("uri".into(), Value::String(location.uri().to_string()));
        if let ArtifactUri::Relative(_) = location {
            artifact.insert("uriBaseId".into(), Value::String(URI_BASE_ID.into()));
        }

        let mut text = match inner {
            Some(inner) => format!("In {inner}: {}", finding.message),
            None => finding.message.clone(),
        };
        if let Some(r) = &finding.remediation {
            text.push_str("\nRemediation: ");
            text.push_str(r);
        }

        let mut result = Map::new();
        result.insert("ruleId".into(), Value::String(finding.rule.clone()));
        if let Some(&i) = self.rule_index.get(&finding.rule) {
            result.insert("ruleIndex".into(), json!(i));
        }
        result.insert(
            "level".into(),
            Value::String(sarif_level(finding.level).into()),
        );
        result.insert("message".into(), json!({ "text": text }));
        let mut where_ = json!({ "physicalLocation": { "artifactLocation": artifact } });
        let fingerprinted = match inner {
            Some(inner) => {
                if let Some(o) = where_.as_object_mut() {
                    o.insert(
                        "logicalLocations".into(),
                        json!([{ "fullyQualifiedName": inner, "kind": "module" }]),
                    );
                }
                format!("{}!/{inner}", location.uri())
            }
            None => location.uri().to_owned(),
        };
        result.insert("locations".into(), json!([where_]));
        result.insert(
            "partialFingerprints".into(),
            json!({ FINGERPRINT_KEY: fingerprint(&finding.rule, &fingerprinted) }),
        );
        if finding.status == Status::Waived {
            let mut suppression = Map::new();
            suppression.insert("kind".into(), Value::String("external".into()));
            suppression.insert("status".into(), Value::String("accepted".into()));
            if let Some(w) = &finding.waiver {
                suppression.insert("justification".into(), Value::String(w.reason.clone()));
                let mut props = Map::new();
                props.insert("origin".into(), Value::String(w.origin.clone()));
                if let Some(e) = &w.expires {
                    props.insert("expires".into(), Value::String(e.clone()));
                }
                suppression.insert("properties".into(), Value::Object(props));
            }
            result.insert(
                "suppressions".into(),
                Value::Array(vec![Value::Object(suppression)]),
            );
        }
        Value::Object(result)
    }
}

fn to_io(e: serde_json::Error) -> io::Error {
    io::Error::other(e)
}

impl<W: Write> Renderer for SarifRenderer<W> {
    fn begin(&mut self) -> io::Result<()> {
        let cwd = std::env::current_dir().ok();
        let root = absolute(&self.root, cwd.as_deref()).ok_or_else(|| {
            io::Error::other(format!(
                "cannot make the SARIF root `{}` absolute: the current directory is unknown",
                self.root.display()
            ))
        })?;
        let root_uri = file_uri(&root, true);
        self.base = Some(Base { root, cwd });

        let version = serde_json::to_string(env!("CARGO_PKG_VERSION")).map_err(to_io)?;
        write!(
            self.out,
            "{{\n  \"$schema\": {},\n  \"version\": {},\n  \"runs\": [\n    {{\n      \"tool\": {{\n        \"driver\": {{\"name\": \"bingate\", \"version\": {version}, \"semanticVersion\": {version}, \"rules\": [",
            serde_json::to_string(SARIF_SCHEMA).map_err(to_io)?,
            serde_json::to_string(SARIF_VERSION).map_err(to_io)?,
        )?;
        for (i, rule) in self.rules.iter().enumerate() {
            self.out.write_all(if i == 0 {
                b"\n          "
            } else {
                b",\n          "
            })?;
            serde_json::to_writer(&mut self.out, rule).map_err(to_io)?;
        }
        self.out.write_all(if self.rules.is_empty() {
            b"]}\n      },\n"
        } else {
            b"\n        ]}\n      },\n"
        })?;
        let base_ids = json!({ URI_BASE_ID: { "uri": root_uri } });
        self.out.write_all(b"      \"originalUriBaseIds\": ")?;
        serde_json::to_writer(&mut self.out, &base_ids).map_err(to_io)?;
        let props = json!({ "policy": self.policy_name, "policySource": self.policy_source });
        self.out.write_all(b",\n      \"properties\": ")?;
        serde_json::to_writer(&mut self.out, &props).map_err(to_io)?;
        self.out.write_all(b",\n      \"results\": [")
    }

    fn file(&mut self, file: &FileReport) -> io::Result<()> {
        let Some(findings) = &file.findings else {
            return Ok(());
        };
        let base = self
            .base
            .as_ref()
            .ok_or_else(|| io::Error::other("SarifRenderer::file called before begin"))?;
        for finding in findings {
            if !matches!(finding.status, Status::Fail | Status::Waived) {
                continue;
            }
            let result = self.result(base, file, finding);
            self.out.write_all(if self.first_result {
                b"\n        "
            } else {
                b",\n        "
            })?;
            self.first_result = false;
            serde_json::to_writer(&mut self.out, &result).map_err(to_io)?;
        }
        Ok(())
    }

    fn finish(&mut self, _skipped: &[Skipped], _summary: &Summary) -> io::Result<()> {
        self.out.write_all(if self.first_result {
            b"],\n"
        } else {
            b"\n      ],\n"
        })?;
        self.out.write_all(
            b"      \"invocations\": [{\"executionSuccessful\": true}]\n    }\n  ]\n}\n",
        )?;
        self.out.flush()
    }
}

/// SARIF `level` for a policy level.
pub(crate) fn sarif_level(level: Level) -> &'static str {
    match level {
        Level::Deny => "error",
        Level::Warn => "warning",
        Level::Info => "note",
        Level::Off => "none",
    }
}

/// `pe-aslr` → `PeAslr`: the reportingDescriptor `name` (SARIF §3.49.7 asks for a readable
/// identifier in PascalCase).
pub(crate) fn pascal_case(id: &str) -> String {
    let mut out = String::with_capacity(id.len());
    for word in id.split(['-', '_', '.']).filter(|w| !w.is_empty()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    if out.is_empty() { id.to_string() } else { out }
}

/// The fingerprint of a finding: lowercase hex SHA-256 of `rule id`, a NUL byte, and the
/// artifact URI as written in the result (relative to `SRCROOT`, forward slashes,
/// percent-encoded; absolute `file://` for a file outside the root).
///
/// Chosen so that the same rule failing on the same file is one alert across runs: it does not
/// change when the binary is rebuilt (no file hash, no facts, no message text), nor with the
/// machine the scan ran on (the root's absolute path is not included), nor with the order of
/// the results. It changes when the file moves or the rule is renamed, which is a new alert.
pub(crate) fn fingerprint(rule: &str, uri: &str) -> String {
    let mut h = Sha256::new();
    h.update(rule.as_bytes());
    h.update([0u8]);
    h.update(uri.as_bytes());
    let digest = h.finalize();
    let mut hex = String::with_capacity(64);
    for b in digest {
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

fn rule_descriptor(rule: &Rule) -> Value {
    let mut d = Map::new();
    d.insert("id".into(), Value::String(rule.id.clone()));
    d.insert("name".into(), Value::String(pascal_case(&rule.id)));
    d.insert(
        "shortDescription".into(),
        json!({ "text": rule.description }),
    );
    if !rule.rationale.is_empty() {
        d.insert("fullDescription".into(), json!({ "text": rule.rationale }));
    }
    let help = rule
        .remediation
        .entries()
        .iter()
        .map(|(toolchain, text)| format!("{toolchain}: {text}"))
        .collect::<Vec<_>>()
        .join("\n");
    if !help.is_empty() {
        d.insert("help".into(), json!({ "text": help }));
    }
    d.insert(
        "defaultConfiguration".into(),
        json!({ "level": sarif_level(rule.level) }),
    );
    // `tags` must hold distinct strings (the schema says uniqueItems).
    let mut tags: Vec<&str> = vec!["security"];
    for c in &rule.controls {
        if !tags.contains(&c.as_str()) {
            tags.push(c);
        }
    }
    d.insert("properties".into(), json!({ "tags": tags }));
    Value::Object(d)
}

fn parse_error_descriptor() -> Value {
    json!({
        "id": PARSE_ERROR_RULE,
        "name": pascal_case(PARSE_ERROR_RULE),
        "shortDescription": { "text": "bingate could not parse the binary" },
        "fullDescription": {
            "text": "A file that looks like a PE or ELF binary but cannot be parsed cannot be shown to meet any rule, so it fails the gate."
        },
        "defaultConfiguration": { "level": "error" },
        "properties": { "tags": ["security"] },
    })
}

/// Where a result points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ArtifactUri {
    /// Relative to `SRCROOT`: `sub/dir/a%20b.exe`.
    Relative(String),
    /// No `uriBaseId`: outside the root, an absolute `file:///usr/bin/ls`; or, when a relative
    /// path cannot be made absolute (no current directory), the path as given, encoded.
    Unbased(String),
}

impl ArtifactUri {
    /// The URI of `path` against the absolute, normalised `root`; relative paths are taken from
    /// `cwd`.
    pub(crate) fn of(path: &Path, root: &Path, cwd: Option<&Path>) -> ArtifactUri {
        let Some(abs) = absolute(path, cwd) else {
            // No current directory: the best is the path as given, relative to nothing known.
            return ArtifactUri::Unbased(encode_path(path));
        };
        match abs.strip_prefix(root) {
            Ok(rel) if rel.as_os_str().is_empty() => ArtifactUri::Unbased(file_uri(&abs, false)),
            Ok(rel) => ArtifactUri::Relative(encode_path(rel)),
            Err(_) => ArtifactUri::Unbased(file_uri(&abs, false)),
        }
    }

    pub(crate) fn uri(&self) -> &str {
        match self {
            ArtifactUri::Relative(u) | ArtifactUri::Unbased(u) => u,
        }
    }
}

/// `path` made absolute against `cwd` and normalised lexically: `.` dropped, `..` removes the
/// previous component (never above the root). `None` for a relative path without a `cwd`.
pub(crate) fn absolute(path: &Path, cwd: Option<&Path>) -> Option<PathBuf> {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        cwd?.join(path)
    };
    let mut out = PathBuf::new();
    for c in joined.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                // `pop` on `/` leaves `/`: `/..` is `/`.
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    Some(out)
}

/// Percent-encodes one path segment: everything but RFC 3986 unreserved characters
/// (`A-Z a-z 0-9 - . _ ~`), byte by byte of the UTF-8 form. `:` is encoded too, so a relative
/// reference never reads as a scheme.
pub(crate) fn encode_segment(segment: &str, out: &mut String) {
    for b in segment.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
}

/// The normal components of `path`, each encoded, joined with `/`.
fn encode_path(path: &Path) -> String {
    let mut out = String::new();
    for c in path.components() {
        let segment = match c {
            Component::Normal(s) => s.to_string_lossy(),
            Component::ParentDir => "..".into(),
            Component::CurDir | Component::RootDir | Component::Prefix(_) => continue,
        };
        if !out.is_empty() {
            out.push('/');
        }
        encode_segment(&segment, &mut out);
    }
    out
}

/// `file:///abs/path`, with a trailing `/` when `dir`. A Windows drive prefix is kept as
/// `file:///C:/…`.
pub(crate) fn file_uri(abs: &Path, dir: bool) -> String {
    let mut out = String::from("file://");
    for c in abs.components() {
        match c {
            Component::Prefix(p) => {
                // `C:`, `\\?\C:` → `/C:`; `\\server\share` → `/server/share` (untested on
                // Windows).
                let s = p.as_os_str().to_string_lossy();
                for seg in s.split(['\\', '/']).filter(|s| !s.is_empty() && *s != "?") {
                    out.push('/');
                    // Keep the drive colon (`C:`) readable, as file URIs do.
                    let mut enc = String::new();
                    encode_segment(seg, &mut enc);
                    out.push_str(&enc.replace("%3A", ":"));
                }
            }
            Component::RootDir => {}
            Component::Normal(s) => {
                out.push('/');
                encode_segment(&s.to_string_lossy(), &mut out);
            }
            Component::CurDir | Component::ParentDir => {}
        }
    }
    if dir || out == "file://" {
        out.push('/');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn level_mapping_follows_sarif_names() {
        assert_eq!(sarif_level(Level::Deny), "error");
        assert_eq!(sarif_level(Level::Warn), "warning");
        assert_eq!(sarif_level(Level::Info), "note");
        assert_eq!(sarif_level(Level::Off), "none");
    }

    #[test]
    fn rule_names_are_pascal_case_of_the_id() {
        assert_eq!(pascal_case("pe-aslr"), "PeAslr");
        assert_eq!(pascal_case("elf-full-relro"), "ElfFullRelro");
        assert_eq!(pascal_case("parse-error"), "ParseError");
        assert_eq!(pascal_case("nx"), "Nx");
        assert_eq!(pascal_case("--"), "--");
    }

    #[test]
    fn segments_encode_everything_but_unreserved() {
        let mut s = String::new();
        encode_segment("a b%c#d?e:f", &mut s);
        assert_eq!(s, "a%20b%25c%23d%3Fe%3Af");
        let mut s = String::new();
        encode_segment("Az09-._~", &mut s);
        assert_eq!(s, "Az09-._~");
        let mut s = String::new();
        encode_segment("é", &mut s);
        assert_eq!(s, "%C3%A9");
    }

    #[test]
    fn path_under_root_is_relative_with_forward_slashes() {
        let root = Path::new("/scan/root");
        let u = ArtifactUri::of(Path::new("/scan/root/sub dir/My App.exe"), root, None);
        assert_eq!(
            u,
            ArtifactUri::Relative("sub%20dir/My%20App.exe".to_string())
        );
    }

    #[test]
    fn relative_report_path_is_taken_from_cwd() {
        let root = Path::new("/work/proj");
        let cwd = Path::new("/work/proj");
        let u = ArtifactUri::of(Path::new("./bin/../lib/libx.so"), root, Some(cwd));
        assert_eq!(u, ArtifactUri::Relative("lib/libx.so".to_string()));
        // Relative path with no current directory: encoded as given, not relative to SRCROOT.
        let u = ArtifactUri::of(Path::new("bin/a b"), root, None);
        assert_eq!(u, ArtifactUri::Unbased("bin/a%20b".to_string()));
    }

    #[test]
    fn path_outside_root_is_an_absolute_file_uri() {
        let root = Path::new("/scan/root");
        let u = ArtifactUri::of(Path::new("/usr/bin/my tool"), root, None);
        assert_eq!(
            u,
            ArtifactUri::Unbased("file:///usr/bin/my%20tool".to_string())
        );
        // A sibling whose name starts with the root's is not under it.
        let u = ArtifactUri::of(Path::new("/scan/rootkit/x"), root, None);
        assert_eq!(
            u,
            ArtifactUri::Unbased("file:///scan/rootkit/x".to_string())
        );
    }

    #[test]
    fn root_uri_is_absolute_with_a_trailing_slash() {
        assert_eq!(file_uri(Path::new("/a b/c"), true), "file:///a%20b/c/");
        assert_eq!(file_uri(Path::new("/"), true), "file:///");
    }

    #[test]
    fn absolute_folds_dot_and_dotdot_lexically() {
        assert_eq!(
            absolute(Path::new("../x/./y"), Some(Path::new("/a/b"))),
            Some(PathBuf::from("/a/x/y"))
        );
        assert_eq!(
            absolute(Path::new("/../x"), None),
            Some(PathBuf::from("/x"))
        );
        assert_eq!(absolute(Path::new("x"), None), None);
    }

    #[test]
    fn fingerprint_is_fixed_per_rule_and_uri() {
        let a = fingerprint("pe-aslr", "bin/a.exe");
        assert_eq!(a, fingerprint("pe-aslr", "bin/a.exe"));
        assert_eq!(a.len(), 64);
        assert!(
            a.bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        );
        assert_ne!(a, fingerprint("pe-cfg", "bin/a.exe"));
        assert_ne!(a, fingerprint("pe-aslr", "bin/b.exe"));
        // The separator keeps ("ab", "c") apart from ("a", "bc").
        assert_ne!(fingerprint("ab", "c"), fingerprint("a", "bc"));
        // Pinned (`printf 'pe-aslr\0bin/a.exe' | sha256sum`): the key says v1, so the value
        // must not drift between builds.
        assert_eq!(
            a,
            "207d199cac6b464a89aa7037a914d516b207aed2688ef34e9a20f58f36105af5"
        );
    }
}
