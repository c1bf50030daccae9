//! The embedded Microsoft trust store, indexed at build time.
//!
//! Reads the four files of `policies/trust/` (two PEM bundles, `microsoft-roots.toml` and
//! `windows-required-roots.toml`) and writes to `OUT_DIR`:
//!
//! - `embedded_roots.der`: each certificate's DER once, in order of first appearance (the
//!   code-signing bundle, then the time-stamping bundle);
//! - `embedded_roots.rs`, included by `src/pki/embedded/mod.rs`: per certificate, where its DER,
//!   subject, issuer, serial number, public key and key identifier lie in that file, its SHA-1 and
//!   SHA-256 thumbprints, its subject as `microsoft-roots.toml` writes it, and its window for each
//!   purpose (the bundles that hold it, the TOML's dates, Windows' required roots); the
//!   certificates in subject order; the provenance; the required roots.
//!
//! So a run decodes no base64, TOML or X.509 of the embedded store until a chain needs one of its
//! roots. The build fails, naming the file (and line), when these files are malformed or disagree:
//! a certificate without a `[[root]]`, a date that is not one, a thumbprint that does not match, a
//! required root that is not where it says. `src/pki/embedded/reference.rs` decodes the same files
//! at run time with the crates bingate uses (`der`, `x509-cert`, `toml-span`), and a test checks
//! this index against it, so a mistake here cannot go unnoticed.

// The same denials as the library: these inputs are ours, but a wrong offset must be an error.
#![deny(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used
)]

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::Path;

use sha1::Digest as _;

const DIR: &str = "policies/trust";
const CODE_SIGNING_PEM: &str = "microsoft-codesigning.pem";
const TIME_STAMPING_PEM: &str = "microsoft-timestamping.pem";
const ROOTS_TOML: &str = "microsoft-roots.toml";
const REQUIRED_TOML: &str = "windows-required-roots.toml";

/// Most certificates indexed: the subject order is a table of `u16` indices. Microsoft's
/// program has about 560 roots (555 in the October 2026 CTL), of which 380 are embedded.
const MAX_CERTIFICATES: usize = u16::MAX as usize;

/// What makes the build fail, shown by cargo as `Error: <message>`.
pub(crate) struct BuildError(String);

impl std::fmt::Debug for BuildError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An error about `file` (at `line` when known).
fn fail(file: &str, line: Option<usize>, message: impl std::fmt::Display) -> BuildError {
    match line {
        Some(l) => BuildError(format!("{DIR}/{file}:{l}: {message}")),
        None => BuildError(format!("{DIR}/{file}: {message}")),
    }
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let before = text.get(..offset).unwrap_or(text);
    before.matches('\n').count().saturating_add(1)
}

fn main() -> Result<(), BuildError> {
    let manifest = std::env::var_os("CARGO_MANIFEST_DIR")
        .ok_or_else(|| BuildError("CARGO_MANIFEST_DIR is not set".into()))?;
    let out = std::env::var_os("OUT_DIR").ok_or_else(|| BuildError("OUT_DIR is not set".into()))?;
    let dir = Path::new(&manifest).join(DIR);
    let mut directives = String::from("cargo:rerun-if-changed=build.rs\n");
    let mut read = |name: &str| {
        let _ = writeln!(directives, "cargo:rerun-if-changed={DIR}/{name}");
        std::fs::read_to_string(dir.join(name)).map_err(|e| fail(name, None, e))
    };
    let code_signing = read(CODE_SIGNING_PEM)?;
    let time_stamping = read(TIME_STAMPING_PEM)?;
    let roots = read(ROOTS_TOML)?;
    let required = read(REQUIRED_TOML)?;
    std::io::Write::write_all(&mut std::io::stdout(), directives.as_bytes())
        .map_err(|e| BuildError(format!("writing to cargo: {e}")))?;

    let index = Index::build(&code_signing, &time_stamping, &roots, &required)?;
    let out = Path::new(&out);
    std::fs::write(out.join("embedded_roots.der"), &index.der)
        .map_err(|e| BuildError(format!("{}: {e}", out.display())))?;
    std::fs::write(out.join("embedded_roots.rs"), index.source()?)
        .map_err(|e| BuildError(format!("{}: {e}", out.display())))?;
    Ok(())
}

// ---- PEM and base64 ----------------------------------------------------------------------------

/// The DER of every `CERTIFICATE` block of a PEM text (other blocks and text are skipped), with
/// the line of its BEGIN.
fn pem_certificates(file: &str, text: &str) -> Result<Vec<(usize, Vec<u8>)>, BuildError> {
    const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
    const END: &str = "-----END CERTIFICATE-----";
    let mut out = Vec::new();
    let mut at = 0usize;
    while let Some(found) = text.get(at..).and_then(|rest| rest.find(BEGIN)) {
        let begin = at.saturating_add(found);
        let line = line_of(text, begin);
        let body_start = begin.saturating_add(BEGIN.len());
        let body_len = text
            .get(body_start..)
            .and_then(|rest| rest.find(END))
            .ok_or_else(|| fail(file, Some(line), "a CERTIFICATE block has no END line"))?;
        let body_end = body_start.saturating_add(body_len);
        let body = text.get(body_start..body_end).unwrap_or_default();
        let der = base64(body).map_err(|e| fail(file, Some(line), e))?;
        out.push((line, der));
        at = body_end.saturating_add(END.len());
    }
    if out.is_empty() {
        return Err(fail(file, None, "no CERTIFICATE block"));
    }
    Ok(out)
}

/// Standard base64 (RFC 4648 §4) with padding; whitespace between characters is ignored.
pub(crate) fn base64(text: &str) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(text.len());
    let mut quad = [0u8; 4];
    let mut filled = 0usize;
    let mut padding = 0usize;
    for c in text.bytes().filter(|c| !c.is_ascii_whitespace()) {
        let value = match c {
            b'A'..=b'Z' => c.wrapping_sub(b'A'),
            b'a'..=b'z' => c.wrapping_sub(b'a').wrapping_add(26),
            b'0'..=b'9' => c.wrapping_sub(b'0').wrapping_add(52),
            b'+' => 62,
            b'/' => 63,
            b'=' => {
                padding = padding.saturating_add(1);
                0
            }
            _ => return Err(format!("{:?} is not a base64 character", char::from(c))),
        };
        if padding > 0 && c != b'=' {
            return Err("base64 data after padding".into());
        }
        if padding > 2 {
            return Err("more than two padding characters".into());
        }
        if let Some(slot) = quad.get_mut(filled) {
            *slot = value;
        }
        filled = filled.saturating_add(1);
        if filled == 4 {
            let [a, b, c, d] = quad;
            let bytes = [(a << 2) | (b >> 4), (b << 4) | (c >> 2), (c << 6) | d];
            out.extend(bytes.iter().take(3usize.saturating_sub(padding)));
            filled = 0;
        }
    }
    if filled != 0 {
        return Err("base64 data is not a multiple of four characters".into());
    }
    Ok(out)
}

// ---- a DER walk over the fields the index needs ----------------------------------------------

/// One DER element of `der`: its tag, where it starts, where its content starts, where it ends.
#[derive(Clone, Copy)]
struct Tlv {
    tag: u8,
    start: usize,
    content: usize,
    end: usize,
}

impl Tlv {
    /// The element at `at`, which must end by `limit`.
    fn read(der: &[u8], at: usize, limit: usize) -> Result<Tlv, String> {
        let byte = |i: usize| {
            der.get(i)
                .copied()
                .ok_or_else(|| format!("truncated DER at offset {i}"))
        };
        let tag = byte(at)?;
        if tag & 0x1f == 0x1f {
            return Err(format!("high tag number at offset {at}"));
        }
        let first = byte(at.saturating_add(1))?;
        let (len, header) = if first < 0x80 {
            (usize::from(first), 2usize)
        } else {
            let n = usize::from(first & 0x7f);
            if n == 0 || n > 4 {
                return Err(format!("unsupported length form at offset {at}"));
            }
            let mut len = 0usize;
            for i in 0..n {
                let b = byte(at.saturating_add(2).saturating_add(i))?;
                len = len
                    .checked_mul(256)
                    .and_then(|l| l.checked_add(usize::from(b)))
                    .ok_or_else(|| format!("length overflow at offset {at}"))?;
            }
            (len, n.saturating_add(2))
        };
        let content = at
            .checked_add(header)
            .ok_or_else(|| format!("offset overflow at {at}"))?;
        let end = content
            .checked_add(len)
            .filter(|&e| e <= limit)
            .ok_or_else(|| format!("the element at offset {at} runs past its parent"))?;
        Ok(Tlv {
            tag,
            start: at,
            content,
            end,
        })
    }

    /// The element of tag `tag` at `at` within `self`.
    fn child(&self, der: &[u8], at: usize, tag: u8, what: &str) -> Result<Tlv, String> {
        let t = Tlv::read(der, at, self.end)?;
        if t.tag != tag {
            return Err(format!(
                "{what}: tag 0x{:02x} at offset {at}, expected 0x{tag:02x}",
                t.tag
            ));
        }
        Ok(t)
    }
}

/// Where a certificate's fields lie in its DER (ranges of byte offsets).
struct Fields {
    /// `tbsCertificate.subject`, the whole Name element.
    subject: (usize, usize),
    issuer: (usize, usize),
    /// The serial number INTEGER's content octets.
    serial: (usize, usize),
    /// `subjectPublicKeyInfo`, the whole element.
    spki: (usize, usize),
    /// The content of the KeyIdentifier OCTET STRING of the first subjectKeyIdentifier extension,
    /// when its extnValue is exactly one OCTET STRING.
    key_id: Option<(usize, usize)>,
}

const SEQUENCE: u8 = 0x30;
const INTEGER: u8 = 0x02;
const OCTET_STRING: u8 = 0x04;
const BOOLEAN: u8 = 0x01;
const OID: u8 = 0x06;
/// `[0] EXPLICIT Version` and `[3] EXPLICIT Extensions` of a TBSCertificate.
const VERSION: u8 = 0xa0;
const EXTENSIONS: u8 = 0xa3;
/// id-ce-subjectKeyIdentifier (2.5.29.14), the OID's content octets.
const OID_SUBJECT_KEY_ID: &[u8] = &[0x55, 0x1d, 0x0e];

/// Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber,
/// signature, issuer, validity, subject, subjectPublicKeyInfo, [1], [2], [3] extensions }, ... }
fn fields(der: &[u8]) -> Result<Fields, String> {
    let cert = Tlv::read(der, 0, der.len())?;
    if cert.tag != SEQUENCE || cert.end != der.len() {
        return Err("not one DER SEQUENCE".into());
    }
    let tbs = cert.child(der, cert.content, SEQUENCE, "tbsCertificate")?;
    let mut at = tbs.content;
    let first = Tlv::read(der, at, tbs.end)?;
    if first.tag == VERSION {
        at = first.end;
    }
    let serial = tbs.child(der, at, INTEGER, "serialNumber")?;
    let signature = tbs.child(der, serial.end, SEQUENCE, "signature")?;
    let issuer = tbs.child(der, signature.end, SEQUENCE, "issuer")?;
    let validity = tbs.child(der, issuer.end, SEQUENCE, "validity")?;
    let subject = tbs.child(der, validity.end, SEQUENCE, "subject")?;
    let spki = tbs.child(der, subject.end, SEQUENCE, "subjectPublicKeyInfo")?;
    let mut key_id = None;
    at = spki.end;
    while at < tbs.end {
        let t = Tlv::read(der, at, tbs.end)?;
        if t.tag == EXTENSIONS && key_id.is_none() {
            key_id = subject_key_id(der, &t)?;
        }
        at = t.end;
    }
    Ok(Fields {
        subject: (subject.start, subject.end),
        issuer: (issuer.start, issuer.end),
        serial: (serial.content, serial.end),
        spki: (spki.start, spki.end),
        key_id,
    })
}

/// Extensions ::= SEQUENCE OF SEQUENCE { extnID, critical BOOLEAN DEFAULT FALSE, extnValue }.
fn subject_key_id(der: &[u8], explicit: &Tlv) -> Result<Option<(usize, usize)>, String> {
    let list = explicit.child(der, explicit.content, SEQUENCE, "extensions")?;
    let mut at = list.content;
    while at < list.end {
        let ext = list.child(der, at, SEQUENCE, "extension")?;
        at = ext.end;
        let id = ext.child(der, ext.content, OID, "extnID")?;
        if der.get(id.content..id.end) != Some(OID_SUBJECT_KEY_ID) {
            continue;
        }
        let mut next = Tlv::read(der, id.end, ext.end)?;
        if next.tag == BOOLEAN {
            next = Tlv::read(der, next.end, ext.end)?;
        }
        if next.tag != OCTET_STRING {
            return Err(format!(
                "subjectKeyIdentifier extnValue at offset {}",
                next.start
            ));
        }
        // SubjectKeyIdentifier ::= KeyIdentifier (OCTET STRING), the whole extnValue.
        let inner = Tlv::read(der, next.content, next.end).ok();
        return Ok(inner
            .filter(|i| i.tag == OCTET_STRING && i.end == next.end)
            .map(|i| (i.content, i.end)));
    }
    Ok(None)
}

// ---- microsoft-roots.toml and windows-required-roots.toml --------------------------------------

/// The dates a root program attaches to a root for one purpose (Unix seconds).
#[derive(Clone, Copy, Default, PartialEq, Eq)]
struct Window {
    not_before: Option<u64>,
    disallowed_after: Option<u64>,
}

/// One `[[root]]` of microsoft-roots.toml (`line`: its sha256's).
struct RootMeta {
    line: usize,
    /// With its line.
    sha1: Option<(String, usize)>,
    subject: String,
    code_signing: Window,
    time_stamping: Window,
}

/// One `[[root]]` of windows-required-roots.toml (`line`: its sha1's).
struct Required {
    line: usize,
    sha1: String,
    name: String,
    code_signing: bool,
    time_stamping: bool,
    embedded: bool,
}

struct Provenance {
    package: String,
    ctl_this_update: String,
    ctl_sequence_number: String,
}

fn toml_table<'a>(
    file: &str,
    text: &str,
    v: &'a toml_span::Value<'a>,
) -> Result<&'a toml_span::value::Table<'a>, BuildError> {
    v.as_table()
        .ok_or_else(|| fail(file, Some(line_of(text, v.span.start)), "not a table"))
}

/// The `[[root]]` array of a TOML document.
fn toml_roots<'a>(
    file: &str,
    doc: &'a toml_span::Value<'a>,
) -> Result<&'a toml_span::value::Array<'a>, BuildError> {
    doc.pointer("/root")
        .and_then(|v| v.as_array())
        .ok_or_else(|| fail(file, None, "no [[root]] entries"))
}

/// A string key of `table` with its line: absent is `None`, any other type is an error.
fn toml_str<'a>(
    file: &str,
    text: &str,
    table: &'a toml_span::value::Table<'a>,
    key: &str,
) -> Result<Option<(&'a str, usize)>, BuildError> {
    match table.get(key) {
        None => Ok(None),
        Some(v) => {
            let line = line_of(text, v.span.start);
            v.as_str()
                .map(|s| Some((s, line)))
                .ok_or_else(|| fail(file, Some(line), format!("{key} is not a string")))
        }
    }
}

fn parse_roots(text: &str) -> Result<(Provenance, HashMap<String, RootMeta>), BuildError> {
    let file = ROOTS_TOML;
    let doc =
        toml_span::parse(text).map_err(|e| fail(file, Some(line_of(text, e.span.start)), &e))?;
    let source = |key: &str| -> Result<String, BuildError> {
        doc.pointer(&format!("/source/{key}"))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
            .ok_or_else(|| fail(file, None, format!("[source] has no {key} string")))
    };
    let provenance = Provenance {
        package: format!("{} {}", source("package")?, source("version")?),
        ctl_this_update: source("ctl_this_update")?,
        ctl_sequence_number: source("ctl_sequence_number")?,
    };
    let mut roots = HashMap::new();
    for r in toml_roots(file, &doc)? {
        let t = toml_table(file, text, r)?;
        let get = |key: &str| toml_str(file, text, t, key);
        let date = |key: &str| -> Result<Option<u64>, BuildError> {
            get(key)?
                .map(|(d, line)| {
                    unix_seconds(d).ok_or_else(|| {
                        fail(file, Some(line), format!("{key} = {d:?} is not a date"))
                    })
                })
                .transpose()
        };
        let (sha256, line) = get("sha256")?.ok_or_else(|| {
            fail(
                file,
                Some(line_of(text, r.span.start)),
                "a [[root]] without sha256",
            )
        })?;
        let sha256 = sha256.to_ascii_lowercase();
        let meta = RootMeta {
            line,
            sha1: get("sha1")?.map(|(s, l)| (s.to_ascii_lowercase(), l)),
            subject: get("subject")?.unwrap_or_default().0.to_owned(),
            code_signing: Window {
                not_before: date("code_signing_not_before")?,
                disallowed_after: date("code_signing_disallowed_after")?,
            },
            time_stamping: Window {
                not_before: date("time_stamping_not_before")?,
                disallowed_after: date("time_stamping_disallowed_after")?,
            },
        };
        if let Some(first) = roots.insert(sha256.clone(), meta) {
            return Err(fail(
                file,
                Some(line),
                format!(
                    "sha256 {sha256} already has a [[root]] at line {}",
                    first.line
                ),
            ));
        }
    }
    Ok((provenance, roots))
}

fn parse_required(text: &str) -> Result<BTreeMap<String, Required>, BuildError> {
    let file = REQUIRED_TOML;
    let doc =
        toml_span::parse(text).map_err(|e| fail(file, Some(line_of(text, e.span.start)), &e))?;
    let mut out = BTreeMap::new();
    for r in toml_roots(file, &doc)? {
        let t = toml_table(file, text, r)?;
        let get = |key: &str| toml_str(file, text, t, key);
        let (sha1, line) = get("sha1")?.ok_or_else(|| {
            fail(
                file,
                Some(line_of(text, r.span.start)),
                "a [[root]] without sha1",
            )
        })?;
        let sha1 = sha1.to_ascii_lowercase();
        let mut code_signing = false;
        let mut time_stamping = false;
        if let Some(p) = t.get("purposes") {
            let list = p
                .as_array()
                .ok_or_else(|| fail(file, Some(line), "purposes is not an array"))?;
            for v in list {
                match v.as_str() {
                    Some("code-signing") => code_signing = true,
                    Some("time-stamping") => time_stamping = true,
                    other => {
                        let other = other.unwrap_or("(not a string)");
                        return Err(fail(
                            file,
                            Some(line_of(text, v.span.start)),
                            format!("unknown purpose {other:?} for {sha1}"),
                        ));
                    }
                }
            }
        }
        let embedded = match t.get("embedded") {
            None => true,
            Some(v) => v
                .as_bool()
                .ok_or_else(|| fail(file, Some(line), "embedded is not a boolean"))?,
        };
        let root = Required {
            line,
            name: get("name")?.unwrap_or_default().0.to_owned(),
            sha1: sha1.clone(),
            code_signing,
            time_stamping,
            embedded,
        };
        if let Some(first) = out.insert(sha1.clone(), root) {
            return Err(fail(
                file,
                Some(line),
                format!("sha1 {sha1} is already listed at line {}", first.line),
            ));
        }
    }
    Ok(out)
}

/// `YYYY-MM-DDTHH:MM:SSZ` (years 1970 to 9999) to Unix seconds; `None` if it is not one.
pub(crate) fn unix_seconds(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    let shape = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    if !shape {
        return None;
    }
    let n = |from: usize, to: usize| s.get(from..to)?.parse::<u64>().ok();
    let (year, month, day) = (n(0, 4)?, n(5, 7)?, n(8, 10)?);
    let (hour, minute, second) = (n(11, 13)?, n(14, 16)?, n(17, 19)?);
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let month_days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return None,
    };
    if year < 1970 || day == 0 || day > month_days || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    // Days since 1970-01-01: whole years, then whole months of this year, then days.
    let mut days = 0u64;
    for y in 1970..year {
        let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
        days = days.checked_add(if leap { 366 } else { 365 })?;
    }
    const CUMULATIVE: [u64; 12] = [0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334];
    let month_index = usize::try_from(month.checked_sub(1)?).ok()?;
    days = days.checked_add(*CUMULATIVE.get(month_index)?)?;
    if leap && month > 2 {
        days = days.checked_add(1)?;
    }
    days = days.checked_add(day.checked_sub(1)?)?;
    days.checked_mul(86_400)?
        .checked_add(hour.checked_mul(3600)?)?
        .checked_add(minute.checked_mul(60)?)?
        .checked_add(second)
}

// ---- the index -----------------------------------------------------------------------------------

/// One embedded certificate as the index describes it. Ranges are offsets in `Index::der`.
struct Cert {
    der: (usize, usize),
    fields: Fields,
    sha1: [u8; 20],
    sha256: [u8; 32],
    in_code_signing: bool,
    in_time_stamping: bool,
    subject: String,
    /// The window for each purpose it anchors, after the required-roots rule.
    code_signing: Option<Window>,
    time_stamping: Option<Window>,
    required: bool,
}

pub(crate) struct Index {
    der: Vec<u8>,
    certs: Vec<Cert>,
    provenance: Provenance,
    required: BTreeMap<String, Required>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl Index {
    pub(crate) fn build(
        code_signing: &str,
        time_stamping: &str,
        roots: &str,
        required: &str,
    ) -> Result<Index, BuildError> {
        let mut index = Index {
            der: Vec::new(),
            certs: Vec::new(),
            provenance: Provenance {
                package: String::new(),
                ctl_this_update: String::new(),
                ctl_sequence_number: String::new(),
            },
            required: parse_required(required)?,
        };
        let mut by_sha256: HashMap<[u8; 32], usize> = HashMap::new();
        for (file, text, for_code_signing) in [
            (CODE_SIGNING_PEM, code_signing, true),
            (TIME_STAMPING_PEM, time_stamping, false),
        ] {
            for (line, der) in pem_certificates(file, text)? {
                let sha256: [u8; 32] = sha2::Sha256::digest(&der).into();
                let i = match by_sha256.get(&sha256) {
                    Some(&i) => i,
                    None => {
                        index
                            .add(&der, sha256)
                            .map_err(|e| fail(file, Some(line), format!("certificate: {e}")))?;
                        let i = index.certs.len().saturating_sub(1);
                        by_sha256.insert(sha256, i);
                        i
                    }
                };
                if let Some(c) = index.certs.get_mut(i) {
                    if for_code_signing {
                        c.in_code_signing = true;
                    } else {
                        c.in_time_stamping = true;
                    }
                }
            }
        }
        if index.certs.len() > MAX_CERTIFICATES {
            return Err(BuildError(format!(
                "{DIR}: {} certificates, more than the index holds ({MAX_CERTIFICATES})",
                index.certs.len()
            )));
        }
        let (provenance, metadata) = parse_roots(roots)?;
        index.provenance = provenance;
        index.apply(&metadata)?;
        Ok(index)
    }

    /// Appends one certificate's DER and its fields (flags and metadata come later).
    fn add(&mut self, der: &[u8], sha256: [u8; 32]) -> Result<(), String> {
        let f = fields(der)?;
        let base = self.der.len();
        let at = |(a, b): (usize, usize)| -> Result<(usize, usize), String> {
            Ok((
                base.checked_add(a).ok_or("offset overflow")?,
                base.checked_add(b).ok_or("offset overflow")?,
            ))
        };
        let fields = Fields {
            subject: at(f.subject)?,
            issuer: at(f.issuer)?,
            serial: at(f.serial)?,
            spki: at(f.spki)?,
            key_id: f.key_id.map(at).transpose()?,
        };
        self.der.extend_from_slice(der);
        self.certs.push(Cert {
            der: at((0, der.len()))?,
            fields,
            sha1: sha1::Sha1::digest(der).into(),
            sha256,
            in_code_signing: false,
            in_time_stamping: false,
            subject: String::new(),
            code_signing: None,
            time_stamping: None,
            required: false,
        });
        Ok(())
    }

    /// Each certificate's TOML metadata and required-root rule: a purpose it is required for is
    /// anchored with no dates, whatever the CTL says.
    fn apply(&mut self, metadata: &HashMap<String, RootMeta>) -> Result<(), BuildError> {
        for c in &mut self.certs {
            let (sha1, sha256) = (hex(&c.sha1), hex(&c.sha256));
            let meta = metadata.get(&sha256).ok_or_else(|| {
                fail(
                    ROOTS_TOML,
                    None,
                    format!("no [[root]] for the embedded certificate sha256 {sha256}"),
                )
            })?;
            if let Some((s, line)) = meta.sha1.as_ref().filter(|(s, _)| *s != sha1) {
                return Err(fail(
                    ROOTS_TOML,
                    Some(*line),
                    format!("sha1 {s} is not the certificate's ({sha1})"),
                ));
            }
            if meta.subject.is_empty() {
                return Err(fail(
                    ROOTS_TOML,
                    Some(meta.line),
                    "a [[root]] without subject",
                ));
            }
            c.subject = meta.subject.clone();
            c.code_signing = c.in_code_signing.then_some(meta.code_signing);
            c.time_stamping = c.in_time_stamping.then_some(meta.time_stamping);
            if let Some(r) = self.required.get(&sha1) {
                if !r.embedded {
                    return Err(fail(
                        REQUIRED_TOML,
                        Some(r.line),
                        format!("{sha1} says embedded = false, but the bundle holds it"),
                    ));
                }
                c.required = true;
                if r.code_signing {
                    c.code_signing = Some(Window::default());
                }
                if r.time_stamping {
                    c.time_stamping = Some(Window::default());
                }
            }
        }
        for r in self.required.values().filter(|r| r.embedded) {
            if !self.certs.iter().any(|c| hex(&c.sha1) == r.sha1) {
                return Err(fail(
                    REQUIRED_TOML,
                    Some(r.line),
                    format!("{} ({}) is not in the embedded bundles", r.name, r.sha1),
                ));
            }
        }
        Ok(())
    }

    /// The Rust source src/pki/embedded/mod.rs includes.
    fn source(&self) -> Result<String, BuildError> {
        let mut s = String::new();
        let n = self.certs.len();
        let count = |f: fn(&Cert) -> bool| self.certs.iter().filter(|c| f(c)).count();
        let mut by_subject: Vec<usize> = (0..n).collect();
        let subject = |i: usize| {
            self.certs
                .get(i)
                .and_then(|c| self.der.get(c.fields.subject.0..c.fields.subject.1))
                .unwrap_or_default()
        };
        by_subject.sort_by(|&a, &b| subject(a).cmp(subject(b)).then(a.cmp(&b)));
        let p = &self.provenance;
        let _ = write!(
            s,
            "// @generated by build.rs from {DIR}/: do not edit.\n\n\
             /// Each embedded certificate's DER, once.\n\
             static DER: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/embedded_roots.der\"));\n\n\
             /// Roots that anchor code signing and time stamping.\n\
             const CODE_SIGNING_ANCHORS: usize = {};\n\
             const TIME_STAMPING_ANCHORS: usize = {};\n\n\
             static PROVENANCE: EmbeddedProvenance = EmbeddedProvenance {{ package: {:?}, \
             ctl_this_update: {:?}, ctl_sequence_number: {:?} }};\n\n\
             /// The embedded certificates, in order of first appearance.\n\
             static ROOTS: [Root; {n}] = [\n",
            count(|c| c.code_signing.is_some()),
            count(|c| c.time_stamping.is_some()),
            p.package,
            p.ctl_this_update,
            p.ctl_sequence_number,
        );
        for c in &self.certs {
            let _ = writeln!(
                s,
                "    Root {{ der: {}, subject: {}, issuer: {}, serial: {}, spki: {}, key_id: {}, \
                 sha1: {:?}, sha256: {:?}, subject_text: {:?}, code_signing: {}, \
                 time_stamping: {}, required: {} }},",
                span(c.der)?,
                span(c.fields.subject)?,
                span(c.fields.issuer)?,
                span(c.fields.serial)?,
                span(c.fields.spki)?,
                match c.fields.key_id {
                    Some(k) => format!("Some({})", span(k)?),
                    None => "None".to_owned(),
                },
                c.sha1,
                c.sha256,
                c.subject,
                window(c.code_signing),
                window(c.time_stamping),
                c.required,
            );
        }
        let _ = write!(
            s,
            "];\n\n/// Indices of [`ROOTS`] sorted by subject DER (then index).\n\
             static BY_SUBJECT: [u16; {n}] = {by_subject:?};\n\n\
             /// Windows' required built-in roots.\n\
             static REQUIRED: [RequiredRootText; {}] = [\n",
            self.required.len()
        );
        for r in self.required.values() {
            let _ = writeln!(
                s,
                "    RequiredRootText {{ sha1: {:?}, name: {:?}, code_signing: {}, \
                 time_stamping: {}, embedded: {} }},",
                r.sha1, r.name, r.code_signing, r.time_stamping, r.embedded
            );
        }
        s.push_str("];\n");
        Ok(s)
    }
}

fn span((start, end): (usize, usize)) -> Result<String, BuildError> {
    let too_big = || BuildError(format!("{DIR}: the embedded DER is larger than 4 GiB"));
    let len = end.checked_sub(start).ok_or_else(too_big)?;
    let start = u32::try_from(start).map_err(|_| too_big())?;
    let len = u32::try_from(len).map_err(|_| too_big())?;
    Ok(format!("Span {{ start: {start}, len: {len} }}"))
}

fn window(w: Option<Window>) -> String {
    match w {
        None => "None".to_owned(),
        Some(w) => format!(
            "Some(Window {{ not_before: {:?}, disallowed_after: {:?} }})",
            w.not_before, w.disallowed_after
        ),
    }
}
