//! Authenticode signatures of Windows Installer files: the `\x05DigitalSignature` stream (a
//! PKCS#7 SignedData whose SpcIndirectDataContent carries SpcSipInfo) and the optional
//! `\x05MsiDigitalSignatureEx` stream (a digest of the streams' metadata).
//!
//! The signed digest covers ([MS-CFB] storages read through `crate::container::msi::Cfb`):
//! 1. with MsiDigitalSignatureEx: first the metadata pre-hash, which must equal that stream;
//! 2. then every storage depth first from the root: its children sorted by their raw UTF-16LE
//!    names compared with their terminating NUL (so a name that is a prefix of another sorts
//!    first), each stream's bytes (the two signature streams at the root skipped), each storage
//!    recursed into, and after the children the storage's own 16-byte class id.
//!
//! The pre-hash walks the same order over metadata: for the root its class id and state bits;
//! for a storage its name, class id, state bits, creation and modification times, then its
//! children; for a stream its name, the low 32 bits of its size, state bits and times.
//! (Learned from osslsigncode's `msi.c` and relic's `msiverify.go`; the directory order in the
//! file does not matter, the sorted order does.)

use digest::DynDigest;

use super::verify::{self, Source};
use crate::cms::verdict::{SignatureVerdict, VerifyEnv};
use crate::container::msi::{Cfb, EntryType};
use crate::hash::DigestAlg;

/// `\x05DigitalSignature` and `\x05MsiDigitalSignatureEx` as stored (UTF-16LE, no NUL).
fn utf16(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// The SpcIndirectDataContent type of an MSI signature: SpcSipInfo.
pub const SPC_SIPINFO_OID: &str = "1.3.6.1.4.1.311.2.1.30";

/// A fresh hasher for `alg` (MD5 is never accepted).
pub(crate) fn hasher(alg: DigestAlg) -> Result<Box<dyn DynDigest>, String> {
    Ok(match alg {
        DigestAlg::Md5 => return Err("MD5 digests are not accepted".into()),
        DigestAlg::Sha1 => Box::new(sha1::Sha1::default()),
        DigestAlg::Sha256 => Box::new(sha2::Sha256::default()),
        DigestAlg::Sha384 => Box::new(sha2::Sha384::default()),
        DigestAlg::Sha512 => Box::new(sha2::Sha512::default()),
    })
}

/// Children of storage `i` in hash order: raw names compared with their NUL terminator.
fn sorted_children(cfb: &Cfb<'_>, i: usize) -> Vec<usize> {
    let mut kids = cfb.children(i).to_vec();
    let key = |k: &usize| {
        let mut n = cfb
            .entries
            .get(*k)
            .map(|e| e.name.clone())
            .unwrap_or_default();
        n.extend_from_slice(&[0, 0]);
        n
    };
    kids.sort_by_key(key);
    kids
}

/// Whether entry `k`, a child of the root, is one of the two signature streams.
fn is_signature_stream(cfb: &Cfb<'_>, k: usize) -> bool {
    let Some(e) = cfb.entries.get(k) else {
        return false;
    };
    e.name == utf16("\u{5}DigitalSignature") || e.name == utf16("\u{5}MsiDigitalSignatureEx")
}

/// The content digest (step 2 of the module doc), fed to `h`.
fn hash_contents(cfb: &Cfb<'_>, h: &mut dyn DynDigest) -> Result<(), String> {
    // (storage, children still to do), depth first without recursion.
    let mut stack: Vec<(usize, std::vec::IntoIter<usize>)> =
        vec![(0, sorted_children(cfb, 0).into_iter())];
    while let Some((storage, kids)) = stack.last_mut() {
        let storage = *storage;
        let Some(k) = kids.next() else {
            if let Some(e) = cfb.entries.get(storage) {
                h.update(&e.clsid);
            }
            stack.pop();
            continue;
        };
        if storage == 0 && is_signature_stream(cfb, k) {
            continue;
        }
        match cfb.entries.get(k).map(|e| e.kind) {
            Some(EntryType::Stream) => {
                let mut r = cfb.stream(k);
                loop {
                    let chunk = r
                        .next_chunk()
                        .map_err(|e| format!("stream {k} cannot be read: {e}"))?;
                    if chunk.is_empty() {
                        break;
                    }
                    h.update(chunk);
                }
            }
            Some(EntryType::Storage) => stack.push((k, sorted_children(cfb, k).into_iter())),
            _ => {}
        }
    }
    Ok(())
}

/// The metadata pre-hash (MsiDigitalSignatureEx).
fn prehash(cfb: &Cfb<'_>, alg: DigestAlg) -> Result<Vec<u8>, String> {
    let mut h = hasher(alg)?;
    let meta = |h: &mut dyn DynDigest, k: usize| {
        let Some(e) = cfb.entries.get(k) else {
            return;
        };
        if e.kind != EntryType::Root {
            h.update(&e.name);
        }
        if e.kind == EntryType::Stream {
            h.update(&(e.size as u32).to_le_bytes());
        } else {
            h.update(&e.clsid);
        }
        h.update(&e.state_bits);
        if e.kind != EntryType::Root {
            h.update(&e.created);
            h.update(&e.modified);
        }
    };
    meta(h.as_mut(), 0);
    let mut stack: Vec<(usize, std::vec::IntoIter<usize>)> =
        vec![(0, sorted_children(cfb, 0).into_iter())];
    while let Some((storage, kids)) = stack.last_mut() {
        let storage = *storage;
        let Some(k) = kids.next() else {
            stack.pop();
            continue;
        };
        if storage == 0 && is_signature_stream(cfb, k) {
            continue;
        }
        meta(h.as_mut(), k);
        if cfb.entries.get(k).map(|e| e.kind) == Some(EntryType::Storage) {
            stack.push((k, sorted_children(cfb, k).into_iter()));
        }
    }
    Ok(h.finalize().to_vec())
}

/// The digest an MSI signature with `alg` signs, given the MsiDigitalSignatureEx stream's
/// bytes when the file has one (which must equal the metadata pre-hash).
pub fn msi_digest(cfb: &Cfb<'_>, alg: DigestAlg, dse: Option<&[u8]>) -> Result<Vec<u8>, String> {
    let mut h = hasher(alg)?;
    if let Some(stored) = dse {
        let computed = prehash(cfb, alg)?;
        if computed != stored {
            return Err(format!(
                "the MsiDigitalSignatureEx stream ({}) differs from the metadata pre-hash ({})",
                crate::read::hex(stored),
                crate::read::hex(&computed)
            ));
        }
        h.update(&computed);
    }
    hash_contents(cfb, h.as_mut())?;
    Ok(h.finalize().to_vec())
}

/// The bytes of root stream `name` (its size is at most the file's: read through the chain).
fn root_stream(cfb: &Cfb<'_>, name: &str) -> Result<Option<Vec<u8>>, String> {
    let raw = utf16(name);
    let Some(&k) = cfb.children(0).iter().find(|&&k| {
        cfb.entries
            .get(k)
            .is_some_and(|e| e.name == raw && e.kind == EntryType::Stream)
    }) else {
        return Ok(None);
    };
    let mut out = Vec::new();
    let mut r = cfb.stream(k);
    loop {
        let chunk = r.next_chunk().map_err(|e| format!("{name:?}: {e}"))?;
        if chunk.is_empty() {
            break;
        }
        out.extend_from_slice(chunk);
    }
    Ok(Some(out))
}

/// Verifies the Authenticode signature of a Windows Installer file (.msi, .msm, .msp, .mst).
pub fn verify_msi(data: &[u8], env: &VerifyEnv<'_>) -> SignatureVerdict {
    let cfb = match Cfb::open(data) {
        Ok(c) => c,
        Err(e) => return verify::malformed(e.to_string()),
    };
    let der = match root_stream(&cfb, "\u{5}DigitalSignature") {
        Ok(Some(d)) => d,
        Ok(None) => return SignatureVerdict::unsigned("no \\x05DigitalSignature stream"),
        Err(e) => return verify::malformed(e),
    };
    let dse = match root_stream(&cfb, "\u{5}MsiDigitalSignatureEx") {
        Ok(d) => d,
        Err(e) => return verify::malformed(e),
    };
    let digest = |alg: DigestAlg, content_type: Option<&str>| -> Result<Vec<u8>, String> {
        if let Some(t) = content_type.filter(|t| *t != SPC_SIPINFO_OID) {
            return Err(format!(
                "the signed content's type is {t}, not SpcSipInfo ({SPC_SIPINFO_OID}): it is \
                 not an MSI signature"
            ));
        }
        msi_digest(&cfb, alg, dse.as_deref())
    };
    verify::verify_detached(&der, Source::Digest(&digest), env)
}
