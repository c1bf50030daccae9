//! Linux kernel module signatures, as `scripts/sign-file` appends them and
//! `kernel/module_signature.c` checks them:
//!
//! `[module][DER CMS SignedData][struct module_signature, 12 bytes]["~Module signature appended~\n"]`
//!
//! `struct module_signature { u8 algo, hash, id_type, signer_len, key_id_len; u8 pad[3];
//! __be32 sig_len; }` with everything zero but `id_type = 2` (PKEY_ID_PKCS7) and `sig_len`. The
//! CMS is detached (the module is the content), carries no certificates and no signed
//! attributes, and names its signer by issuer and serial number: the kernel finds the key in
//! its keyring. Verification here does the same with the certificates it is given.

use x509_cert::Certificate;

use super::{Hashed, Piece, SignError, SignOptions};
use crate::budget::MAX_ELF_SIGNATURE_LEN;
use crate::cms::open::OpenError;
use crate::cms::verdict::{Judgement, ReasonCode, reason};
use crate::cms::verdict::{
    PageHashReport, SignatureReport, SignatureVerdict, SignerId, Status, VerifyEnv,
};
use crate::hash::DigestAlg;
use crate::pki::ext::subject_key_id;

pub const MAGIC: &[u8] = b"~Module signature appended~\n";
/// `struct module_signature`.
const INFO_LEN: usize = 12;
const PKEY_ID_PKCS7: u8 = 2;
const ID_DATA: &str = "1.2.840.113549.1.7.1";

/// An appended signature, split off its module.
pub struct Appended<'a> {
    /// The module as it was signed.
    pub module: &'a [u8],
    pub cms: &'a [u8],
}

/// Splits an appended signature off `data`: `None` when there is no magic, an error when the
/// trailer is there but does not hold together (the kernel's `mod_check_sig` rules).
pub fn split(data: &[u8]) -> Option<Result<Appended<'_>, String>> {
    let body = data.strip_suffix(MAGIC)?;
    Some((|| {
        let at = body
            .len()
            .checked_sub(INFO_LEN)
            .ok_or("module signature trailer is truncated")?;
        let (rest, info) = body.split_at(at);
        let [
            algo,
            hash,
            id_type,
            signer_len,
            key_id_len,
            p0,
            p1,
            p2,
            l0,
            l1,
            l2,
            l3,
        ] = info
        else {
            return Err("module signature trailer is truncated".to_owned());
        };
        if *id_type != PKEY_ID_PKCS7 {
            return Err(format!(
                "module signature id_type is {id_type}, not 2 (PKCS#7): not a signature this kernel format allows"
            ));
        }
        if [algo, hash, signer_len, key_id_len, p0, p1, p2]
            .iter()
            .any(|b| **b != 0)
        {
            return Err(
                "struct module_signature has non-zero fields the kernel rejects".to_owned(),
            );
        }
        let sig_len = u32::from_be_bytes([*l0, *l1, *l2, *l3]);
        if u64::from(sig_len) > MAX_ELF_SIGNATURE_LEN {
            return Err(format!(
                "module signature length {sig_len} exceeds the {MAX_ELF_SIGNATURE_LEN}-byte budget"
            ));
        }
        let module_len = rest
            .len()
            .checked_sub(sig_len as usize)
            .ok_or_else(|| format!("module signature length {sig_len} exceeds the file"))?;
        let (module, cms) = rest.split_at(module_len);
        Ok(Appended { module, cms })
    })())
}

/// The bytes appended to a module: CMS, `struct module_signature`, magic.
fn trailer(cms: &[u8]) -> Result<Vec<u8>, SignError> {
    let len = u32::try_from(cms.len())
        .map_err(|_| SignError::Unsupported("module signature too large".into()))?;
    let mut out = Vec::with_capacity(cms.len().saturating_add(40));
    out.extend_from_slice(cms);
    out.extend_from_slice(&[0, 0, PKEY_ID_PKCS7, 0, 0, 0, 0, 0]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(MAGIC);
    Ok(out)
}

/// How to sign one module: its bytes (the input without any signature being replaced) are
/// streamed and hashed; the signature is appended after them.
#[derive(Debug)]
pub struct Plan {
    module_len: u64,
    pieces: Vec<Piece>,
}

/// Plans signing `data` (an ELF file, normally a `.ko`) with an appended module signature.
pub fn prepare(data: &[u8], opts: &SignOptions<'_>) -> Result<Plan, SignError> {
    let module = match split(data) {
        None => data,
        Some(_) if !opts.replace => {
            return Err(SignError::AlreadySigned {
                what: "appended module signature".into(),
            });
        }
        Some(Ok(a)) => a.module,
        Some(Err(e)) => {
            return Err(SignError::Unsupported(format!(
                "cannot replace the existing module signature: {e}"
            )));
        }
    };
    // Only ELF files are modules; the layout must at least read.
    super::layout::Layout::parse(module)?;
    let module_len = module.len() as u64;
    Ok(Plan {
        module_len,
        pieces: vec![Piece::Input {
            offset: 0,
            len: module_len,
        }],
    })
}

impl Plan {
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The module's length: the input bytes the signed file keeps.
    pub fn kept(&self) -> u64 {
        self.module_len
    }

    /// The appended signature (CMS, `struct module_signature`, magic) for the module whose
    /// digest `hashed` holds.
    pub fn finish(&self, hashed: Hashed, opts: &SignOptions<'_>) -> Result<Vec<u8>, SignError> {
        self.finish_by(hashed, &|digest: &[u8]| {
            crate::cms::build::module_signature(opts.signer, opts.cert, opts.digest, digest)
                .map_err(SignError::from)
        })
    }

    /// The appended signature with the CMS `make` returns for the module's digest.
    pub fn finish_by(
        &self,
        hashed: Hashed,
        make: super::MakeCmsBy<'_>,
    ) -> Result<Vec<u8>, SignError> {
        let digest = hashed.state.finalize();
        let cms = make(&digest)?;
        if u64::try_from(cms.len()).unwrap_or(u64::MAX) > MAX_ELF_SIGNATURE_LEN {
            return Err(SignError::Unsupported(format!(
                "the module signature is {} bytes (budget {MAX_ELF_SIGNATURE_LEN})",
                cms.len()
            )));
        }
        trailer(&cms)
    }
}

fn malformed(e: impl Into<String>) -> SignatureVerdict {
    SignatureVerdict {
        decided_by: None,
        status: Status::Malformed,
        format: Some(crate::cms::verdict::SignatureFormat::KernelModule),
        signatures: Vec::new(),
        anomalies: Vec::new(),
        error: Some(e.into()),
    }
}

fn hex_colon(b: &[u8]) -> String {
    b.iter()
        .map(|x| format!("{x:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Verifies an appended module signature against `certs` (the `--cert` files) and the
/// certificates of the code-signing anchors, as the kernel checks it against its keyring: the
/// signer must be one of them and the signature must verify over the module. Validity dates and
/// key usage are not checked (the kernel does not check them either).
pub fn verify(data: &[u8], env: &VerifyEnv<'_>, certs: &[Certificate]) -> SignatureVerdict {
    let a = match split(data) {
        None => {
            return SignatureVerdict::unsigned("no appended module signature");
        }
        Some(Err(e)) => return malformed(e),
        Some(Ok(a)) => a,
    };
    let opened = match crate::cms::open::open(a.cms, "module signature SignedData") {
        Ok(o) => o,
        Err(OpenError::NotSignedData(oid)) => {
            return malformed(format!("module signature holds {oid}, not SignedData"));
        }
        Err(e @ OpenError::SignedData(_)) => return malformed(e.to_string()),
        Err(e) => return malformed(format!("module signature CMS: {e}")),
    };
    // The kernel reads exactly the length the trailer gives: nothing may follow the SignedData.
    if crate::read::der_element_len(a.cms) != Some(a.cms.len() as u64) {
        return malformed("module signature CMS: bytes follow the SignedData");
    }
    let sd = &opened.signed_data;
    if sd.encap.econtent_type.to_string() != ID_DATA || sd.encap.econtent.is_some() {
        return malformed("module signature is not detached id-data (the kernel requires it)");
    }
    let Some(si) = opened.only_signer() else {
        return malformed("module signature must have exactly one SignerInfo");
    };
    let alg = DigestAlg::from_oid(&si.digest_alg.oid.to_string());
    let signer_id = match &si.sid {
        cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(ias) => Some(SignerId {
            issuer: ias.issuer.to_string(),
            serial: hex_colon(ias.serial_number.as_bytes()),
        }),
        cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(skid) => Some(SignerId {
            issuer: "(subjectKeyIdentifier)".into(),
            serial: hex_colon(skid.0.as_bytes()),
        }),
    };
    // Candidates: the given certificates, then the anchors' own certificates (looked up by the
    // signer's identifier, so only a matching embedded root is decoded).
    let anchors = env.anchors.code_signing();
    let matching = certs
        .iter()
        .find(|c| match &si.sid {
            cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(ias) => {
                c.tbs_certificate.serial_number == ias.serial_number
                    && c.tbs_certificate.issuer == ias.issuer
            }
            cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(skid) => {
                subject_key_id(c).as_deref() == Some(skid.0.as_bytes())
            }
        })
        .or_else(|| {
            match &si.sid {
                cms::signed_data::SignerIdentifier::IssuerAndSerialNumber(ias) => {
                    anchors.by_issuer_serial(&ias.issuer, &ias.serial_number)
                }
                cms::signed_data::SignerIdentifier::SubjectKeyIdentifier(skid) => {
                    anchors.by_key_id(skid.0.as_bytes())
                }
            }
            .map(|a| &a.cert)
        });
    let mut j = Judgement::default();
    let mut computed = None;
    match (alg, matching) {
        (None, _) => j.worsen(
            Status::Invalid,
            reason(
                ReasonCode::UnsupportedDigest,
                format!("digest algorithm {} is not supported", si.digest_alg.oid),
            ),
        ),
        (Some(_), None) => {
            let id = signer_id
                .as_ref()
                .map(|s| format!("issuer {}, serial {}", s.issuer, s.serial))
                .unwrap_or_default();
            j.worsen(
                Status::Untrusted,
                reason(
                    ReasonCode::SignerUnknown,
                    format!("the signer ({id}) is not among the given certificates (--cert)"),
                ),
            );
        }
        (Some(alg), Some(cert)) => {
            computed = crate::hash::digest(alg, a.module);
            let check = crate::cms::signer::verify_signer_info(si, a.module, Some(cert));
            if si.signed_attrs.is_some() {
                j.worsen(
                    Status::Invalid,
                    reason(ReasonCode::SignedAttributes, "module signatures must not carry signed attributes (the kernel rejects them)"),
                );
            }
            if !check.signature_valid {
                j.worsen(
                    Status::Invalid,
                    reason(
                        ReasonCode::BadSignature,
                        check.error.unwrap_or_else(|| {
                            "the signature does not verify over the module".into()
                        }),
                    ),
                );
            }
        }
    }
    let cert = matching.cloned();
    let view = cert.as_ref().and_then(crate::cms::signer::signer_from_cert);
    let alg_name = alg.map_or_else(
        || crate::hash::Algorithm::Unknown(si.digest_alg.oid.to_string()),
        crate::hash::Algorithm::Known,
    );
    let report = SignatureReport {
        entry: 0,
        nested: 0,
        digest_algorithm: alg_name.clone(),
        digest: crate::cms::signer::DigestCheck {
            error: None,
            algorithm: alg_name,
            // The digest is inside the signature itself (no signed attributes): shown as
            // computed; `match` says whether the signature verified over it.
            signed: String::new(),
            computed: computed.as_deref().map(crate::read::hex),
            matches: j.status == Status::Valid,
        },
        signer: view,
        key_bits: cert.as_ref().and_then(|c| {
            crate::pki::keys::key_info(&c.tbs_certificate.subject_public_key_info).bits
        }),
        chain: cert
            .iter()
            .map(|c| c.tbs_certificate.subject.to_string())
            .collect(),
        program_name: None,
        more_info_url: None,
        timestamp: None,
        page_hashes: PageHashReport {
            present: false,
            verified: false,
        },
        status: j.status,
        reasons: j.reasons,
        signer_id,
        changes: Vec::new(),
    };
    SignatureVerdict {
        decided_by: None,
        status: report.status,
        format: Some(crate::cms::verdict::SignatureFormat::KernelModule),
        signatures: vec![report],
        anomalies: Vec::new(),
        error: None,
    }
}
