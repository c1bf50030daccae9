//! A SignedData whose `digestAlgorithms` SET writes the digest algorithm with NULL parameters
//! where the SignerInfo writes none, or the other way round, names one algorithm (RFC 5754
//! section 2: both encodings must be accepted). Microsoft's signer made such signatures (the
//! VC++ runtime's msvcp140.dll in numpy 2.1's Windows wheels, `tests/public_microsoft.rs`);
//! bingate called them malformed because the authenticode crate compares the two identifiers
//! byte for byte. The SET is covered by no signature, so a file re-signed here with either
//! encoding must read exactly as the original does, and osslsigncode must agree. A different
//! algorithm in the SET than in the SignerInfo is still malformed.

mod common;

use std::path::Path;
use std::process::Command;

use cms::content_info::ContentInfo;
use cms::signed_data::SignedData;
use common::der::der_len;
use common::run::test_pki_json;
use common::{interop, paths};
use der::{Decode, Encode};
use serde_json::Value;

const TIME: &str = "2026-11-22T00:00:00Z";
/// 2026-11-22T00:00:00Z as a Unix time, for osslsigncode's -time.
const UNIX_TIME: &str = "1795305600";

/// The offset of a PE's security directory entry (data directory 4).
fn security_dir(pe: &[u8]) -> usize {
    let e_lfanew = u32::from_le_bytes(pe[0x3c..0x40].try_into().unwrap()) as usize;
    let magic = u16::from_le_bytes(pe[e_lfanew + 24..e_lfanew + 26].try_into().unwrap());
    let dirs = e_lfanew + 24 + if magic == 0x20b { 112 } else { 96 };
    dirs + 4 * 8
}

/// The first certificate entry's offset and its SignedData.
fn first_signature(pe: &[u8]) -> (usize, ContentInfo, SignedData) {
    let dir = security_dir(pe);
    let off = u32::from_le_bytes(pe[dir..dir + 4].try_into().unwrap()) as usize;
    let der = &pe[off + 8..];
    let ci = ContentInfo::from_der(&der[..der_len(der)]).unwrap();
    let sd: SignedData = ci.content.decode_as().unwrap();
    (off, ci, sd)
}

/// `pe` (one certificate entry, last in the file) with its signature's SignedData rewritten by
/// `edit` and the entry and directory sizes updated.
fn resign(pe: &[u8], edit: impl FnOnce(&mut SignedData)) -> Vec<u8> {
    let dir = security_dir(pe);
    let size = u32::from_le_bytes(pe[dir + 4..dir + 8].try_into().unwrap()) as usize;
    let (off, ci, mut sd) = first_signature(pe);
    assert_eq!(off + size, pe.len(), "the fixture's table is last");
    edit(&mut sd);
    let ci = ContentInfo {
        content_type: ci.content_type,
        content: der::Any::encode_from(&sd).unwrap(),
    };
    let der = ci.to_der().unwrap();
    let mut out = pe[..off].to_vec();
    let entry = 8 + der.len();
    out.extend_from_slice(&(entry as u32).to_le_bytes());
    out.extend_from_slice(&pe[off + 4..off + 8]);
    out.extend_from_slice(&der);
    out.resize(off + entry.next_multiple_of(8), 0);
    let table = (out.len() - off) as u32;
    out[dir + 4..dir + 8].copy_from_slice(&table.to_le_bytes());
    out
}

/// The SignedData's one digest algorithm, with `parameters`.
fn set_params(sd: &mut SignedData, parameters: Option<der::Any>) {
    let mut a = sd.digest_algorithms.as_slice()[0].clone();
    a.parameters = parameters;
    sd.digest_algorithms = der::asn1::SetOfVec::try_from(vec![a]).unwrap();
}

fn null() -> der::Any {
    der::Any::from(der::asn1::Null)
}

fn verify(path: &Path) -> Value {
    let doc = test_pki_json("verify", TIME, &[path.to_str().unwrap()]);
    doc["files"][0]["signature"].clone()
}

/// The fixture re-signed with NULL parameters and with none in the SET, whatever the
/// SignerInfo says.
fn variants(dir: &Path) -> Vec<std::path::PathBuf> {
    let pe = paths::read("corpus/signed/valid-rsa.exe");
    let mut out = Vec::new();
    for (name, params) in [("null.exe", Some(null())), ("absent.exe", None)] {
        let signed = resign(&pe, |sd| set_params(sd, params));
        let p = dir.join(name);
        std::fs::write(&p, signed).unwrap();
        out.push(p);
    }
    out
}

#[test]
fn null_or_absent_parameters_in_the_set_read_as_the_original() {
    let dir = paths::tempdir();
    let original = verify(&paths::repo("corpus/signed/valid-rsa.exe"));
    assert_eq!(original["status"], "valid", "{original}");
    let (_, _, sd) = first_signature(&paths::read("corpus/signed/valid-rsa.exe"));
    let signer_params = sd.signer_infos.0.as_slice()[0]
        .digest_alg
        .parameters
        .clone();
    let mut differing = 0;
    for p in variants(dir.path()) {
        let sig = verify(&p);
        assert_eq!(sig["status"], "valid", "{}: {sig}", p.display());
        assert_eq!(
            sig["signatures"][0]["signer"],
            original["signatures"][0]["signer"],
            "{}",
            p.display()
        );
        let (_, _, sd) = first_signature(&std::fs::read(&p).unwrap());
        if sd.digest_algorithms.as_slice()[0].parameters != signer_params {
            differing += 1;
        }
    }
    // One of the two differs from the SignerInfo's encoding: the case that was malformed.
    assert_eq!(differing, 1);
}

#[test]
fn another_algorithm_in_the_set_stays_malformed() {
    let dir = paths::tempdir();
    let pe = paths::read("corpus/signed/valid-rsa.exe");
    let signed = resign(&pe, |sd| {
        let mut a = sd.digest_algorithms.as_slice()[0].clone();
        a.oid = der::asn1::ObjectIdentifier::new_unwrap("1.3.14.3.2.26"); // SHA-1
        sd.digest_algorithms = der::asn1::SetOfVec::try_from(vec![a]).unwrap();
    });
    let p = dir.path().join("sha1-in-set.exe");
    std::fs::write(&p, signed).unwrap();
    let sig = verify(&p);
    assert_eq!(sig["status"], "malformed", "{sig}");
}

/// osslsigncode 2.9 (OpenSSL compares the algorithms by OID) calls both variants valid.
#[test]
fn osslsigncode_agrees_on_both_encodings() {
    if !interop::require("osslsigncode") {
        return;
    }
    let dir = paths::tempdir();
    let root = paths::pki("root.pem");
    for p in variants(dir.path()) {
        let out = Command::new("osslsigncode")
            .args(["verify", "-ignore-crl", "-CAfile"])
            .arg(&root)
            .arg("-TSA-CAfile")
            .arg(&root)
            .args(["-time", UNIX_TIME, "-in"])
            .arg(&p)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            p.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}
