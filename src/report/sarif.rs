//! `--format sarif`: one SARIF 2.1.0 log with one run, written as the files are checked, in the
//! shape GitHub code scanning ingests.
//!
//! The header (`tool.driver` with every rule of the policy, `originalUriBaseIds`) is written by
//! `begin`, one result per failing or waived finding by `file`, and the invocation by `finish`;
//! nothing but the rule table is held in memory.
//!
//! - Rules: every policy rule whose level is not `off`, in policy order, then the built-in
//!   `parse-error` rule unless the policy already lists it. `ruleIndex` points into that table.
//!   Each rule carries `help` (its remediation per toolchain), `helpUri` (see [`help_uri`]) and
//!   the properties GitHub reads: `tags` (`security` and the rule's controls),
//!   `security-severity` and `problem.severity` (see [`security_severity`]) and `precision`
//!   (see [`precision`]).
//! - Results: `fail` findings, and `waived` findings as results carrying an external, accepted
//!   suppression with the waiver's reason. `pass` and `not-applicable` findings give no result,
//!   and neither does a finding below [`SarifRenderer::min_level`] (`--min-level`); the rules
//!   stay in the table.
//! - Levels: deny → `error`, warn → `warning`, info → `note` (off → `none`).
//! - Locations: the file's URI relative to the `SRCROOT` base, which `originalUriBaseIds` maps to
//!   the `root` given to [`SarifRenderer::new`] (`--sarif-root`, default the current directory:
//!   in CI the repository root, which is what GitHub resolves relative URIs against) as an
//!   absolute `file://` URI. A file outside the root gets an absolute `file://` URI and no base.
//!   Paths are made absolute and normalised lexically (`.` and `..` folded, symbolic links not
//!   resolved); each segment is percent-encoded except RFC 3986 unreserved characters. The
//!   region is the start of the file (see [`WHOLE_FILE_REGION`]).
//! - Entries of containers (`pkg.whl!/lib/x.dll`): the location is the container file (the one
//!   a repository holds), the path inside is a logical location and starts the message, and the
//!   fingerprint covers both.
//! - `partialFingerprints`: `bingateFinding/v1` and GitHub's `primaryLocationLineHash`, both
//!   from [`fingerprint`].
//!
//! The log validates against the OASIS SARIF 2.1.0 schema (errata 01; `tests/sarif_schema.rs`)
//! and passes Microsoft's SARIF Multitool `validate` with its SARIF and GitHub rule kinds
//! (`tests/sarif_github.rs`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};

use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use super::{FileReport, Renderer, Skipped, Summary};
use crate::policy::{Check, Finding, Level, PARSE_ERROR_RULE, Policy, Rule, Status};

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

/// The `partialFingerprints` key GitHub code scanning matches results on ("code scanning only
/// uses the `primaryLocationLineHash`", GitHub's SARIF support page).
pub(crate) const GITHUB_FINGERPRINT_KEY: &str = "primaryLocationLineHash";

/// `tool.driver.informationUri`: the repository (Cargo.toml's `repository`).
pub(crate) const INFORMATION_URI: &str = env!("CARGO_PKG_REPOSITORY");

/// The URL of `docs/policies.md` that `helpUri`s point into: the file at this version's tag in
/// the repository, or `BINGATE_DOCS_BASE` when that is set at build time (a fork, a mirror, a
/// build from an untagged commit).
pub(crate) const DOCS_BASE: &str = match option_env!("BINGATE_DOCS_BASE") {
    Some(base) => base,
    None => concat!(
        env!("CARGO_PKG_REPOSITORY"),
        "/blob/v",
        env!("CARGO_PKG_VERSION"),
        "/docs/policies.md"
    ),
};

/// `docs/policies.md` as it was when this binary was built: a rule has a `helpUri` only when
/// this text has a heading for it under `## Rules`, so no link points at a missing anchor.
const POLICIES_MD: &str = include_str!("../../docs/policies.md");

/// The region of every result: line 1, column 1, empty (an insertion point at the start of the
/// file). bingate's findings are about a whole binary, which has no lines, but GitHub's SARIF
/// support page lists `startLine`, `startColumn`, `endLine` and `endColumn` as required for a
/// result to be shown as intended, and the Multitool warns (SARIF2017) when `region` is absent.
/// The start of the file is the one place that exists in every file; an empty region claims no
/// span of text, so it says nothing false about a file that is not text.
pub(crate) const WHOLE_FILE_REGION: [(&str, u32); 4] = [
    ("startLine", 1),
    ("startColumn", 1),
    ("endLine", 1),
    ("endColumn", 1),
];

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
    min_level: Level,
}

/// The absolute root and the directory relative paths are taken from.
struct Base {
    root: PathBuf,
    cwd: Option<PathBuf>,
}

impl<W: Write> SarifRenderer<W> {
    /// `root` is the directory result URIs are relative to (the `SRCROOT` base; `--sarif-root`,
    /// by default the current directory). A relative `root` and relative report paths are taken
    /// from the current directory.
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

    /// Leaves out results whose finding level is below `level` (`--min-level`); the rules stay
    /// in `tool.driver.rules`. The default, `info`, leaves out nothing.
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
        let region: Map<String, Value> = WHOLE_FILE_REGION
            .iter()
            .map(|&(k, v)| (k.to_string(), json!(v)))
            .collect();
        let mut where_ =
            json!({ "physicalLocation": { "artifactLocation": artifact, "region": region } });
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
        let fp = fingerprint(&finding.rule, &fingerprinted);
        result.insert(
            "partialFingerprints".into(),
            json!({
                FINGERPRINT_KEY: fp,
                GITHUB_FINGERPRINT_KEY: github_fingerprint(&fp),
            }),
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
            "{{\n  \"$schema\": {},\n  \"version\": {},\n  \"runs\": [\n    {{\n      \"tool\": {{\n        \"driver\": {{\"name\": \"bingate\", \"informationUri\": {}, \"version\": {version}, \"semanticVersion\": {version}, \"rules\": [",
            serde_json::to_string(SARIF_SCHEMA).map_err(to_io)?,
            serde_json::to_string(SARIF_VERSION).map_err(to_io)?,
            serde_json::to_string(INFORMATION_URI).map_err(to_io)?,
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
            if !matches!(finding.status, Status::Fail | Status::Waived)
                || finding.level < self.min_level
            {
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
/// percent-encoded; absolute `file://` for a file outside the root), followed for an entry of a
/// container by `!/` and the path inside it.
///
/// Chosen so that the same rule failing on the same file is one alert across runs: it does not
/// change when the binary is rebuilt (no file hash: a rebuilt binary has new bytes, and a hash
/// of them would make every release a new alert; no facts, no message text), nor with the
/// machine or directory the scan ran in (relative to the root, whose absolute path is not
/// included), nor with the order of the results. It changes when the file moves or the rule is
/// renamed, which is a new alert. A file outside the root has its absolute URI in the
/// fingerprint, so its fingerprint is only stable where that path is.
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

/// `primaryLocationLineHash`: the first 16 hex digits of [`fingerprint`] (64 bits, the size of
/// the hash GitHub's upload action computes) and `:1`, in the action's `<hex>:<n>` form.
///
/// GitHub keys alerts on this value (with the repository, the path and the rule). Left out,
/// GitHub's `upload-sarif` action would compute it from the text of line 1 of the file, which
/// for a binary is its header: it changes on every rebuild of an ELF file (entry point, section
/// offsets), so each rebuild would close the alert and open a new one. When it is present the
/// action keeps it (and logs a warning that its own hash differs).
pub(crate) fn github_fingerprint(fp: &str) -> String {
    format!("{}:1", fp.get(..16).unwrap_or(fp))
}

/// GitHub's `security-severity` for a rule's level, with its `problem.severity`.
///
/// GitHub reads `security-severity` (a score from 0.1 to 10.0, as a string) on rules tagged
/// `security` and shows it as a band: critical from 9.0, high from 7.0 to 8.9, medium from 4.0
/// to 6.9, low from 0.1 to 3.9. bingate's levels map into the middle of a band:
///
/// | level | `security-severity` | GitHub band | `problem.severity` |
/// |---|---|---|---|
/// | deny | 8.0 | high | error |
/// | warn | 5.0 | medium | warning |
/// | info | 2.0 | low | recommendation |
///
/// No bingate rule is critical: a missing mitigation makes a flaw easier to exploit, it is not
/// a flaw itself. `off` rules are not in the log (`None`). `problem.severity` is what GitHub
/// reads for rules without a security severity; it is given too, so a consumer that reads only
/// one of them sees the same ranking.
pub(crate) fn security_severity(level: Level) -> Option<(&'static str, &'static str)> {
    match level {
        Level::Deny => Some(("8.0", "error")),
        Level::Warn => Some(("5.0", "warning")),
        Level::Info => Some(("2.0", "recommendation")),
        Level::Off => None,
    }
}

/// GitHub's `precision` (how often a result is a true positive; it orders alerts with the same
/// severity): `high` for rules that read facts from the file's headers and signature, which are
/// decided, not guessed; `medium` for the SmartScreen-risk estimate, which is a prediction of
/// what Microsoft's reputation service will do.
pub(crate) fn precision(check: &Check) -> &'static str {
    match check {
        Check::RiskAtMost(_) => "medium",
        Check::Fact { .. } | Check::Named(_) => "high",
    }
}

/// Whether `docs/policies.md` (as built into this binary) has a `### <id>` heading under
/// `## Rules`.
pub(crate) fn documented_rule(id: &str) -> bool {
    let mut in_rules = false;
    for line in POLICIES_MD.lines() {
        if let Some(h2) = line.strip_prefix("## ") {
            in_rules = h2.trim() == "Rules";
        } else if in_rules && line.strip_prefix("### ").map(str::trim) == Some(id) {
            return true;
        }
    }
    false
}

/// `helpUri` of a rule: `{DOCS_BASE}#{id}` when docs/policies.md documents the id (every rule
/// of a shipped policy, and `parse-error`; a rule id is kebab-case, so GitHub's heading anchor
/// of `### pe-aslr` is `pe-aslr`). A rule of a user's own policy that bingate does not document
/// gets none: a link to a page that does not describe it would mislead, and its `help` text
/// (the policy's remediation) is still there.
pub(crate) fn help_uri(id: &str) -> Option<String> {
    documented_rule(id).then(|| format!("{DOCS_BASE}#{id}"))
}

/// The properties GitHub reads on a rule.
fn rule_properties(tags: &[&str], level: Level, precision: &str) -> Value {
    let mut props = Map::new();
    props.insert("tags".into(), json!(tags));
    if let Some((score, problem)) = security_severity(level) {
        props.insert("security-severity".into(), json!(score));
        props.insert("problem.severity".into(), json!(problem));
    }
    props.insert("precision".into(), json!(precision));
    Value::Object(props)
}

fn rule_descriptor(rule: &Rule) -> Value {
    let mut d = Map::new();
    d.insert("id".into(), Value::String(rule.id.clone()));
    d.insert("name".into(), Value::String(pascal_case(&rule.id)));
    d.insert(
        "shortDescription".into(),
        json!({ "text": rule.description }),
    );
    // GitHub requires fullDescription; a rule without a rationale repeats its description.
    let full = if rule.rationale.is_empty() {
        &rule.description
    } else {
        &rule.rationale
    };
    d.insert("fullDescription".into(), json!({ "text": full }));
    let mut help = rule
        .remediation
        .entries()
        .iter()
        .map(|(toolchain, text)| format!("{toolchain}: {text}"))
        .collect::<Vec<_>>()
        .join("\n");
    if help.is_empty() {
        // GitHub requires help.text (the Multitool's GH2012 is an error without it).
        help = rule.description.clone();
    }
    d.insert("help".into(), json!({ "text": help }));
    if let Some(uri) = help_uri(&rule.id) {
        d.insert("helpUri".into(), Value::String(uri));
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
    d.insert(
        "properties".into(),
        rule_properties(&tags, rule.level, precision(&rule.check)),
    );
    Value::Object(d)
}

fn parse_error_descriptor() -> Value {
    let mut d = json!({
        "id": PARSE_ERROR_RULE,
        "name": pascal_case(PARSE_ERROR_RULE),
        "shortDescription": { "text": "bingate could not parse the binary" },
        "fullDescription": {
            "text": "A file that looks like a PE or ELF binary but cannot be parsed cannot be shown to meet any rule, so it fails the gate."
        },
        "help": {
            "text": "default: Check that the file is complete and is the binary the build produced (a truncated download, a failed strip or a file renamed to .exe/.so are the usual causes); if it is unparseable on purpose, waive parse-error for it with a reason and an expiry date."
        },
        "defaultConfiguration": { "level": "error" },
        // Decided, not estimated: the file could not be parsed.
        "properties": rule_properties(&["security"], Level::Deny, "high"),
    });
    if let (Some(o), Some(uri)) = (d.as_object_mut(), help_uri(PARSE_ERROR_RULE)) {
        o.insert("helpUri".into(), Value::String(uri));
    }
    d
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

    #[test]
    fn severity_follows_githubs_bands() {
        assert_eq!(security_severity(Level::Deny), Some(("8.0", "error")));
        assert_eq!(security_severity(Level::Warn), Some(("5.0", "warning")));
        assert_eq!(
            security_severity(Level::Info),
            Some(("2.0", "recommendation"))
        );
        assert_eq!(security_severity(Level::Off), None);
    }

    #[test]
    fn only_documented_rules_get_a_help_uri() {
        assert!(documented_rule("pe-aslr"));
        assert!(documented_rule(PARSE_ERROR_RULE));
        // A heading outside `## Rules` is not a rule's section.
        assert!(!documented_rule("The `[risk]` section"));
        assert!(!documented_rule("acme-own-rule"));
        assert_eq!(
            help_uri("elf-nx").as_deref(),
            Some(format!("{DOCS_BASE}#elf-nx").as_str())
        );
        assert_eq!(help_uri("acme-own-rule"), None);
    }

    #[test]
    fn github_fingerprint_is_a_prefix_of_ours() {
        let fp = fingerprint("pe-aslr", "bin/a.exe");
        assert_eq!(github_fingerprint(&fp), "207d199cac6b464a:1");
        assert_eq!(github_fingerprint("abc"), "abc:1");
    }
}
