//! The embedded bundle decoded at run time, the way bingate read it before `build.rs` indexed it:
//! the PEM bundles with `der::pem`, the TOML files with `toml_span`, every certificate with
//! `x509_cert`. The tests below check the build-time index, and the store and lookups made from
//! it, against this independent reading of the same files, certificate by certificate; and that
//! the build script refuses malformed or inconsistent files with a message naming them.

#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::collections::HashMap;

use der::Encode;
use sha1::Digest as _;

use super::{BY_SUBJECT, Decoded, EmbeddedAnchors, PROVENANCE, ROOTS, Use};
use crate::pki::chain::Anchor;
use crate::pki::trust::{
    self, Parsed, Provenance, RequiredRoot, TrustEntry, TrustOptions, Window, anchor, parse_iso,
    pem_blocks, purposes, with_required,
};
use crate::read::hex;

/// The build script itself, so that its parts can be tested on inputs it must refuse.
#[allow(dead_code)]
#[path = "../../../build.rs"]
mod build_script;

const CODE_SIGNING_PEM: &str = include_str!("../../../policies/trust/microsoft-codesigning.pem");
const TIME_STAMPING_PEM: &str = include_str!("../../../policies/trust/microsoft-timestamping.pem");
const ROOTS_TOML: &str = include_str!("../../../policies/trust/microsoft-roots.toml");
const REQUIRED_TOML: &str = include_str!("../../../policies/trust/windows-required-roots.toml");

/// Per-root metadata from microsoft-roots.toml.
struct TomlRoot {
    sha1: String,
    subject: String,
    code_signing: Window,
    time_stamping: Window,
}

/// The embedded certificates (each once, in order of first appearance), which bundle holds
/// each, the TOML metadata and the required roots.
struct Reference {
    ders: Vec<Vec<u8>>,
    certs: Vec<Parsed>,
    in_code_signing: Vec<bool>,
    in_time_stamping: Vec<bool>,
    roots: HashMap<String, TomlRoot>,
    provenance: Provenance,
    required: HashMap<String, RequiredRoot>,
}

impl Reference {
    fn decode() -> Reference {
        let mut e = Reference {
            ders: Vec::new(),
            certs: Vec::new(),
            in_code_signing: Vec::new(),
            in_time_stamping: Vec::new(),
            roots: HashMap::new(),
            provenance: Provenance::default(),
            required: required_roots(),
        };
        let mut by_sha256: HashMap<[u8; 32], usize> = HashMap::new();
        for (text, code_signing) in [(CODE_SIGNING_PEM, true), (TIME_STAMPING_PEM, false)] {
            for der in pem_blocks(text.as_bytes()).unwrap() {
                let sha256: [u8; 32] = sha2::Sha256::digest(&der).into();
                let i = *by_sha256.entry(sha256).or_insert_with(|| {
                    e.certs.push(Parsed::from_der(&der).unwrap());
                    e.ders.push(der.clone());
                    e.in_code_signing.push(false);
                    e.in_time_stamping.push(false);
                    e.certs.len().saturating_sub(1)
                });
                if code_signing {
                    e.in_code_signing[i] = true;
                } else {
                    e.in_time_stamping[i] = true;
                }
            }
        }
        e.parse_toml();
        e
    }

    fn parse_toml(&mut self) {
        let doc = toml_span::parse(ROOTS_TOML).unwrap();
        let s = |path: &str| {
            doc.pointer(path)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        self.provenance = Provenance {
            source: "microsoft-ctl".to_owned(),
            package: format!("{} {}", s("/source/package"), s("/source/version")),
            ctl_this_update: s("/source/ctl_this_update"),
            ctl_sequence_number: s("/source/ctl_sequence_number"),
            note: None,
        };
        for r in doc.pointer("/root").unwrap().as_array().unwrap() {
            let get = |k: &str| r.as_table().and_then(|t| t.get(k)).and_then(|v| v.as_str());
            let date = |k: &str| get(k).map(|d| parse_iso(d).unwrap());
            self.roots.insert(
                get("sha256").unwrap().to_ascii_lowercase(),
                TomlRoot {
                    sha1: get("sha1").unwrap_or_default().to_ascii_lowercase(),
                    subject: get("subject").unwrap_or_default().to_owned(),
                    code_signing: Window {
                        not_before: date("code_signing_not_before"),
                        disallowed_after: date("code_signing_disallowed_after"),
                    },
                    time_stamping: Window {
                        not_before: date("time_stamping_not_before"),
                        disallowed_after: date("time_stamping_disallowed_after"),
                    },
                },
            );
        }
    }

    /// What the store held for certificate `i`: its entry and its window for each purpose.
    fn entry(&self, i: usize) -> TrustEntry {
        let p = &self.certs[i];
        let sha256 = hex(&p.sha256);
        let meta = &self.roots[&sha256];
        let (cs, ts, note) = with_required(
            self.required.get(&hex(&p.sha1)),
            self.in_code_signing[i].then_some(meta.code_signing),
            self.in_time_stamping[i].then_some(meta.time_stamping),
        );
        TrustEntry {
            subject: meta.subject.clone(),
            sha1: if meta.sha1.is_empty() {
                hex(&p.sha1)
            } else {
                meta.sha1.clone()
            },
            sha256,
            source: "microsoft-ctl".to_owned(),
            purposes: purposes(&cs, &ts),
            code_signing: cs,
            time_stamping: ts,
            note,
        }
    }

    /// The anchors for one purpose, in the order the store held them.
    fn anchors(&self, u: Use) -> Vec<Anchor> {
        (0..self.certs.len())
            .filter_map(|i| {
                let e = self.entry(i);
                let w = match u {
                    Use::CodeSigning => e.code_signing,
                    Use::TimeStamping => e.time_stamping,
                };
                w.map(|w| anchor(&self.certs[i].cert, w, true))
            })
            .collect()
    }
}

/// windows-required-roots.toml, by lowercase SHA-1 thumbprint.
fn required_roots() -> HashMap<String, RequiredRoot> {
    let doc = toml_span::parse(REQUIRED_TOML).unwrap();
    let mut out = HashMap::new();
    for r in doc.pointer("/root").unwrap().as_array().unwrap() {
        let t = r.as_table().unwrap();
        let get = |k: &str| t.get(k).and_then(|v| v.as_str()).map(str::to_owned);
        let sha1 = get("sha1").unwrap().to_ascii_lowercase();
        let purposes: Vec<String> = t
            .get("purposes")
            .and_then(|v| v.as_array())
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        assert!(
            purposes
                .iter()
                .all(|p| p == "code-signing" || p == "time-stamping")
        );
        out.insert(
            sha1.clone(),
            RequiredRoot {
                name: get("name").unwrap_or_default(),
                code_signing: purposes.iter().any(|p| p == "code-signing"),
                time_stamping: purposes.iter().any(|p| p == "time-stamping"),
                embedded: t.get("embedded").and_then(|v| v.as_bool()).unwrap_or(true),
                sha1,
            },
        );
    }
    out
}

/// Every field of the build-time index equals what the run-time decode finds: DER, thumbprints,
/// the positions of subject, issuer, serial, key and key identifier, subject text, windows,
/// the required flag; and the subject order, the counts, the provenance, the required roots.
#[test]
fn index_matches_a_run_time_decode_of_the_same_files() {
    let r = Reference::decode();
    assert_eq!(ROOTS.len(), r.certs.len());
    assert_eq!(
        r.certs.len(),
        380,
        "309 + 331 - 260 in both (policies/trust/README.md)"
    );
    for (i, (root, p)) in ROOTS.iter().zip(&r.certs).enumerate() {
        let tbs = &p.cert.tbs_certificate;
        let what = format!("certificate {i} ({})", tbs.subject);
        assert_eq!(root.der.bytes(), r.ders[i].as_slice(), "{what}");
        assert_eq!(root.sha1, p.sha1, "{what}");
        assert_eq!(root.sha256, p.sha256, "{what}");
        assert_eq!(
            root.sha1,
            <[u8; 20]>::from(sha1::Sha1::digest(root.der.bytes()))
        );
        // Lookups compare these bytes with the DER of decoded names and keys: they must be
        // what the decoded certificate encodes to.
        assert_eq!(
            root.subject.bytes(),
            tbs.subject.to_der().unwrap(),
            "{what}"
        );
        assert_eq!(root.issuer.bytes(), tbs.issuer.to_der().unwrap(), "{what}");
        assert_eq!(root.serial.bytes(), tbs.serial_number.as_bytes(), "{what}");
        let spki = tbs.subject_public_key_info.to_der().unwrap();
        assert_eq!(root.spki.bytes(), spki, "{what}");
        assert_eq!(
            root.key_id.map(|k| k.bytes().to_vec()),
            crate::pki::ext::subject_key_id(&p.cert),
            "{what}"
        );
        let e = r.entry(i);
        assert_eq!(root.subject_text, e.subject, "{what}");
        assert_eq!(hex(&root.sha1), e.sha1, "{what}");
        assert_eq!(root.code_signing, e.code_signing, "{what}");
        assert_eq!(root.time_stamping, e.time_stamping, "{what}");
        assert_eq!(root.required, e.note.is_some(), "{what}");
        assert_eq!(
            root.required,
            r.required.contains_key(&hex(&p.sha1)),
            "{what}"
        );
    }
    let mut order: Vec<usize> = BY_SUBJECT.iter().map(|&i| usize::from(i)).collect();
    assert!(order.windows(2).all(|w| {
        let (a, b) = (&ROOTS[w[0]], &ROOTS[w[1]]);
        (a.subject.bytes(), w[0]) < (b.subject.bytes(), w[1])
    }));
    order.sort_unstable();
    assert_eq!(order, (0..ROOTS.len()).collect::<Vec<_>>());
    assert_eq!(super::anchors_for(Use::CodeSigning), 309);
    assert_eq!(super::anchors_for(Use::TimeStamping), 331);
    assert_eq!(
        super::anchors_for(Use::CodeSigning),
        r.anchors(Use::CodeSigning).len()
    );
    assert_eq!(
        super::anchors_for(Use::TimeStamping),
        r.anchors(Use::TimeStamping).len()
    );
    assert_eq!(
        (
            PROVENANCE.package,
            PROVENANCE.ctl_this_update,
            PROVENANCE.ctl_sequence_number
        ),
        (
            r.provenance.package.as_str(),
            r.provenance.ctl_this_update.as_str(),
            r.provenance.ctl_sequence_number.as_str()
        )
    );
    assert_eq!(trust::required_roots(), r.required);
    assert_eq!(r.required.len(), 6);
}

/// The store loaded from the index lists, anchors and finds exactly what the store decoded at
/// run time did: every entry, every anchor in order with its window, and for every embedded
/// certificate the same answer from each lookup as a linear search over decoded anchors.
#[test]
fn store_from_the_index_equals_the_store_decoded_at_run_time() {
    let r = Reference::decode();
    let store = trust::load(&TrustOptions {
        default_store: true,
        ..TrustOptions::default()
    })
    .unwrap();
    let expected: Vec<TrustEntry> = (0..r.certs.len()).map(|i| r.entry(i)).collect();
    assert_eq!(store.entries(), expected.as_slice());
    assert_eq!(store.provenance.as_ref(), Some(&r.provenance));
    assert_eq!(store.embedded_decoded(), 0, "listing decodes nothing");
    for (u, anchors) in [
        (Use::CodeSigning, &store.code_signing),
        (Use::TimeStamping, &store.time_stamping),
    ] {
        let want = r.anchors(u);
        let key = |a: &Anchor| (a.cert.clone(), a.program, a.not_before, a.disallowed_after);
        assert_eq!(anchors.len(), want.len());
        for p in &r.certs {
            let c = &p.cert;
            let tbs = &c.tbs_certificate;
            let find = want.iter().find(|a| {
                a.cert.tbs_certificate.subject == tbs.subject
                    && a.cert.tbs_certificate.subject_public_key_info == tbs.subject_public_key_info
            });
            assert_eq!(anchors.find(c).map(key), find.map(key), "{}", tbs.subject);
            let named: Vec<_> = want
                .iter()
                .filter(|a| a.cert.tbs_certificate.subject == tbs.subject)
                .map(key)
                .collect();
            let got: Vec<_> = anchors
                .with_subject(&tbs.subject)
                .into_iter()
                .map(key)
                .collect();
            assert_eq!(got, named, "{}", tbs.subject);
            let by_serial = want.iter().find(|a| {
                a.cert.tbs_certificate.serial_number == tbs.serial_number
                    && a.cert.tbs_certificate.issuer == tbs.issuer
            });
            assert_eq!(
                anchors
                    .by_issuer_serial(&tbs.issuer, &tbs.serial_number)
                    .map(key),
                by_serial.map(key)
            );
            if let Some(id) = crate::pki::ext::subject_key_id(c) {
                let by_id = want
                    .iter()
                    .find(|a| crate::pki::ext::subject_key_id(&a.cert) == Some(id.clone()));
                assert_eq!(anchors.by_key_id(&id).map(key), by_id.map(key));
            }
        }
        let all: Vec<_> = anchors.iter().map(key).collect();
        assert_eq!(all, want.iter().map(key).collect::<Vec<_>>());
    }
    assert_eq!(store.embedded_decoded(), r.certs.len());
}

/// A lookup decodes the certificates whose subject matches, and only those, once.
#[test]
fn a_lookup_decodes_only_the_matching_roots() {
    let r = Reference::decode();
    let name = "CN=Microsoft Root Certificate Authority 2011";
    let i = r
        .certs
        .iter()
        .position(|p| p.cert.tbs_certificate.subject.to_string().starts_with(name))
        .unwrap();
    let cert = &r.certs[i].cert;
    let decoded = Decoded::new();
    let code_signing = EmbeddedAnchors::new(decoded.clone(), Use::CodeSigning);
    let time_stamping = EmbeddedAnchors::new(decoded.clone(), Use::TimeStamping);
    assert_eq!(decoded.count(), 0);
    assert!(code_signing.find(cert).is_some());
    assert_eq!(decoded.count(), 1);
    // The same root for the other purpose, or looked up again: decoded already.
    assert!(time_stamping.find(cert).is_some());
    assert_eq!(
        code_signing
            .with_subject(&cert.tbs_certificate.subject)
            .len(),
        1
    );
    assert_eq!(decoded.count(), 1);
    // A name no embedded root has decodes nothing.
    let test_root = crate::test_support::fixture("pki", "root.pem");
    let test_root = x509_cert::Certificate::load_pem_chain(&test_root).unwrap();
    assert!(code_signing.find(&test_root[0]).is_none());
    assert!(
        code_signing
            .with_subject(&test_root[0].tbs_certificate.subject)
            .is_empty()
    );
    assert_eq!(decoded.count(), 1);
}

// ---- the build script on inputs it must refuse -------------------------------------------------

fn build(cs: &str, ts: &str, roots: &str, required: &str) -> Result<(), String> {
    build_script::Index::build(cs, ts, roots, required)
        .map(|_| ())
        .map_err(|e| format!("{e:?}"))
}

/// The first certificate of the code-signing bundle, alone, as PEM.
fn first_pem() -> String {
    let begin = CODE_SIGNING_PEM
        .find("-----BEGIN CERTIFICATE-----")
        .unwrap();
    let end = CODE_SIGNING_PEM.find("-----END CERTIFICATE-----").unwrap();
    format!(
        "{}-----END CERTIFICATE-----\n",
        &CODE_SIGNING_PEM[begin..end]
    )
}

/// A microsoft-roots.toml with one `[[root]]` for the first certificate.
fn one_root(extra: &str) -> String {
    let der = &pem_blocks(first_pem().as_bytes()).unwrap()[0];
    format!(
        "[source]\npackage = \"p\"\nversion = \"1\"\nctl_this_update = \"2026-01-01T00:00:00Z\"\n\
         ctl_sequence_number = \"01\"\n\n[[root]]\nsha256 = \"{}\"\nsubject = \"CN=x\"\n{extra}",
        hex(&sha2::Sha256::digest(der))
    )
}

const NO_REQUIRED: &str = "[[root]]\nsha1 = \"00\"\nembedded = false\n";

#[test]
fn the_build_script_accepts_a_minimal_bundle() {
    let pem = first_pem();
    build(&pem, &pem, &one_root(""), NO_REQUIRED).unwrap();
}

#[test]
fn the_build_script_refuses_inconsistent_or_malformed_files() {
    let pem = first_pem();
    let ok_roots = one_root("");
    let cases: Vec<(String, String, String, &str)> = vec![
        // A certificate without a [[root]].
        (
            pem.clone(),
            one_root("").replace("sha256 = \"", "sha256 = \"00"),
            NO_REQUIRED.to_owned(),
            "microsoft-roots.toml: no [[root]] for the embedded certificate sha256",
        ),
        // A date that is not one, with its line.
        (
            pem.clone(),
            one_root("code_signing_not_before = \"2026-02-30T00:00:00Z\"\n"),
            NO_REQUIRED.to_owned(),
            "microsoft-roots.toml:10: code_signing_not_before = \"2026-02-30T00:00:00Z\" is not a date",
        ),
        // A thumbprint that is not the certificate's.
        (
            pem.clone(),
            one_root("sha1 = \"0000000000000000000000000000000000000000\"\n"),
            NO_REQUIRED.to_owned(),
            "microsoft-roots.toml:10: sha1 0000000000000000000000000000000000000000 is not the certificate's",
        ),
        // Two [[root]] for one certificate.
        (
            pem.clone(),
            format!("{ok_roots}\n[[root]]\nsha256 = {:?}\n", {
                let der = &pem_blocks(pem.as_bytes()).unwrap()[0];
                hex(&sha2::Sha256::digest(der))
            }),
            NO_REQUIRED.to_owned(),
            "already has a [[root]] at line 8",
        ),
        // A required root that is not embedded, and one that says it is not but is.
        (
            pem.clone(),
            ok_roots.clone(),
            "[[root]]\nsha1 = \"00\"\nname = \"Gone\"\n".to_owned(),
            "windows-required-roots.toml:2: Gone (00) is not in the embedded bundles",
        ),
        (
            pem.clone(),
            ok_roots.clone(),
            format!(
                "[[root]]\nsha1 = {:?}\nembedded = false\n",
                hex(&sha1::Sha1::digest(&pem_blocks(pem.as_bytes()).unwrap()[0]))
            ),
            "says embedded = false, but the bundle holds it",
        ),
        (
            pem.clone(),
            ok_roots.clone(),
            "[[root]]\nsha1 = \"00\"\npurposes = [\"server-auth\"]\n".to_owned(),
            "windows-required-roots.toml:3: unknown purpose \"server-auth\" for 00",
        ),
        // Base64 and DER damage, and a block without an END.
        (
            pem.replacen("MII", "M!I", 1),
            ok_roots.clone(),
            NO_REQUIRED.to_owned(),
            "microsoft-codesigning.pem:1: '!' is not a base64 character",
        ),
        (
            pem.replacen("MII", "MIJ", 1),
            ok_roots.clone(),
            NO_REQUIRED.to_owned(),
            "microsoft-codesigning.pem:1: certificate:",
        ),
        (
            pem.replace("-----END CERTIFICATE-----", ""),
            ok_roots.clone(),
            NO_REQUIRED.to_owned(),
            "microsoft-codesigning.pem:1: a CERTIFICATE block has no END line",
        ),
        (
            "no certificate here".to_owned(),
            ok_roots.clone(),
            NO_REQUIRED.to_owned(),
            "microsoft-codesigning.pem: no CERTIFICATE block",
        ),
        // TOML that does not parse, and a [source] without its package.
        (
            pem.clone(),
            format!("{ok_roots}\n[[root]\n"),
            NO_REQUIRED.to_owned(),
            "microsoft-roots.toml:",
        ),
        (
            pem.clone(),
            ok_roots.replace("package = \"p\"\n", ""),
            NO_REQUIRED.to_owned(),
            "microsoft-roots.toml: [source] has no package string",
        ),
    ];
    for (code_signing, roots, required, want) in cases {
        let e = build(&code_signing, &pem, &roots, &required).unwrap_err();
        assert!(
            e.starts_with("policies/trust/") && e.contains(want),
            "{e}\nwanted: {want}"
        );
    }
}

#[test]
fn the_build_scripts_dates_agree_with_the_run_time_parser() {
    for d in [
        "1970-01-01T00:00:00Z",
        "2000-02-29T23:59:59Z",
        "2100-03-01T00:00:00Z",
        "2024-12-31T12:34:56Z",
        "9999-12-31T23:59:59Z",
        "2021-02-29T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "2026-00-01T00:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01 00:00:00Z",
        "2026-1-01T00:00:00Z",
    ] {
        assert_eq!(build_script::unix_seconds(d), parse_iso(d), "{d}");
    }
}

#[test]
fn the_build_scripts_base64_agrees_with_der_pem() {
    for der in pem_blocks(CODE_SIGNING_PEM.as_bytes())
        .unwrap()
        .iter()
        .take(20)
    {
        let pem = der::pem::encode_string("CERTIFICATE", der::pem::LineEnding::LF, der).unwrap();
        let body: String = pem.lines().filter(|l| !l.starts_with("-----")).collect();
        assert_eq!(&build_script::base64(&body).unwrap(), der);
    }
    for (text, want) in [
        ("", Some(vec![])),
        ("QQ==", Some(vec![b'A'])),
        ("QUI=", Some(b"AB".to_vec())),
    ] {
        assert_eq!(build_script::base64(text).ok(), want, "{text}");
    }
    for bad in ["Q", "QQ=", "Q===", "QQ==QQ==", "QQ=A"] {
        assert!(build_script::base64(bad).is_err(), "{bad}");
    }
}
