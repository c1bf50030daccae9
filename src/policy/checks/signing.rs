//! The signing checks a rule can name (pe-signed, pe-signature-valid, pe-timestamped, the SHA-1,
//! padding and key-size checks, elf-signed, elf-signature-valid), judged from the file's
//! signature verdict.

use super::super::eval::Subject;
use super::super::model::{NamedCheck, Status};
use crate::cms::signer::KeyAlgorithm;

/// Signing checks read the file's signature verdict (Authenticode, or an ELF signature).
pub(crate) fn signing(check: NamedCheck, file: &Subject<'_>) -> (Status, String) {
    use crate::cms::verdict::{AnomalyId, Status as Sig};
    let Some(v) = &file.signature else {
        return (
            Status::NotApplicable,
            "the signature was not verified in this run".into(),
        );
    };
    let primary = v.deciding();
    let first_reason = || {
        primary
            .and_then(|s| s.reasons.first())
            .map(|r| r.message.clone())
            .or_else(|| v.error.clone())
            .unwrap_or_default()
    };
    let has = |id: AnomalyId| v.anomalies.iter().any(|a| a.id == id);
    match check {
        NamedCheck::ElfSigned => match v.status {
            Sig::Unsigned => (
                Status::Fail,
                "no ELF signature (no .bingate.sig section, no appended module signature)".into(),
            ),
            Sig::Malformed => (
                Status::Fail,
                format!("the signature cannot be read: {}", first_reason()),
            ),
            _ => (
                Status::Pass,
                format!(
                    "signed ({}, {})",
                    v.format.map_or("unknown format", |f| f.as_str()),
                    v.status.as_str()
                ),
            ),
        },
        NamedCheck::PeSigned => match v.status {
            Sig::Unsigned => (
                Status::Fail,
                "no Authenticode signature (certificate table absent)".into(),
            ),
            Sig::Malformed => (
                Status::Fail,
                format!("the certificate table cannot be read: {}", first_reason()),
            ),
            _ => (Status::Pass, format!("signed ({})", v.status.as_str())),
        },
        NamedCheck::PeSignatureValid | NamedCheck::ElfSignatureValid => match v.status {
            Sig::Valid => {
                let who = primary
                    .and_then(|s| s.signer.as_ref())
                    .map(|s| s.subject.clone())
                    .unwrap_or_default();
                (Status::Pass, format!("valid signature by {who}"))
            }
            // An unsigned file fails pe-signed / elf-signed; judging its absent signature again
            // adds nothing.
            Sig::Unsigned => (
                Status::NotApplicable,
                if check == NamedCheck::ElfSignatureValid {
                    "unsigned: no ELF signature to verify (elf-signed requires one)"
                } else {
                    "unsigned (see pe-signed)"
                }
                .into(),
            ),
            s => (
                Status::Fail,
                format!("signature {}: {}", s.as_str(), first_reason()),
            ),
        },
        NamedCheck::PeTimestamped => match primary.and_then(|s| s.timestamp.as_ref()) {
            Some(t) if t.valid => (Status::Pass, format!("timestamped {}", t.time)),
            Some(t) => (
                Status::Fail,
                format!("the timestamp ({}) does not verify", t.time),
            ),
            None if v.status == Sig::Unsigned => {
                (Status::NotApplicable, Sig::Unsigned.as_str().into())
            }
            None => (
                Status::Fail,
                "no timestamp: the signature expires with the certificate".into(),
            ),
        },
        NamedCheck::PeNoSha1Only => {
            if v.signatures.is_empty() {
                (Status::NotApplicable, Sig::Unsigned.as_str().into())
            } else if has(AnomalyId::Sha1Only) {
                (Status::Fail, "every signature uses SHA-1 or MD5".into())
            } else {
                (
                    Status::Pass,
                    "a SHA-256 or stronger signature is present".into(),
                )
            }
        }
        NamedCheck::PeNoSignaturePadding => {
            let found: Vec<&str> = v
                .anomalies
                .iter()
                .filter(|a| matches!(a.id, AnomalyId::Padding | AnomalyId::TrailingData))
                .map(|a| a.id.as_str())
                .collect();
            if v.status == Sig::Unsigned {
                (Status::NotApplicable, Sig::Unsigned.as_str().into())
            } else if found.is_empty() {
                (
                    Status::Pass,
                    "no padding in WIN_CERTIFICATE and no data after the table".into(),
                )
            } else {
                (
                    Status::Fail,
                    format!("bytes outside the signature: {}", found.join(", ")),
                )
            }
        }
        NamedCheck::PeSigningKeySize => {
            // RSA-2048 is the floor; the CA/Browser Forum code-signing BRs (§6.1.5.2) require
            // RSA-3072 for certificates issued from 2021-06-01.
            const CAB_3072_FROM: u64 = 1_622_505_600; // 2021-06-01T00:00:00Z
            let weak: Vec<String> = v
                .signatures
                .iter()
                .filter_map(|s| {
                    let signer = s.signer.as_ref().filter(|x| x.key_algorithm == KeyAlgorithm::Rsa)?;
                    let bits = s.key_bits?;
                    let issued = signer.not_before.unix();
                    if bits < 2048 {
                        Some(format!("RSA-{bits} (under 2048)"))
                    } else if bits < 3072 && issued >= CAB_3072_FROM {
                        Some(format!("RSA-{bits} on a certificate issued {} (CA/B Forum: 3072 from 2021-06-01)", signer.not_before))
                    } else {
                        None
                    }
                })
                .collect();
            match (v.signatures.is_empty(), weak.is_empty()) {
                (true, _) => (Status::NotApplicable, Sig::Unsigned.as_str().into()),
                (false, true) => (
                    Status::Pass,
                    "signer keys meet RSA-2048 and the CA/B Forum minimums".into(),
                ),
                (false, false) => (
                    Status::Fail,
                    format!("weak signer keys: {}", weak.join("; ")),
                ),
            }
        }
        _ => (Status::NotApplicable, String::new()),
    }
}
