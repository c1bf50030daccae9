//! The verdict: every layer put together the way WinVerifyTrust decides.
//!
//! For each signature (every WIN_CERTIFICATE entry, and nested signatures recursively): the image
//! digest, the CMS signer signature, the timestamp (which, when valid and inside the signer's
//! validity, moves the chain's validation time to the stamped time unless the signer carries the
//! lifetime-signing EKU), the chain to a code-signing anchor, revocation from CRL files, page
//! hashes, and anomalies. The file's status is the primary signature's (entry 0, not nested)
//! unless every signature is required.

use authenticode::AuthenticodeSignature;
use x509_cert::Certificate;

use super::signature::{self, SignatureInfo};
use super::table::{self, Anomaly};
use crate::budget::MAX_NESTED_SIGNATURES;
use crate::cms::signer::{DigestCheck, KeyAlgorithm};
use crate::cms::verdict::{
    AnomalyId, AnomalyReport, DecidedBy, Judgement, PageHashReport, ReasonCode, SignatureReport,
    SignatureVerdict, Status, VerifyEnv, judge_identity, reason,
};
use crate::hash::{Algorithm, DigestAlg};
use crate::pe::SigningLayout;

const NESTED_SIGNATURE: &str = "1.3.6.1.4.1.311.2.4.1";
const OPUS_INFO: &str = "1.3.6.1.4.1.311.2.1.12";

/// A weak digest, or none that could be read (a signature without one is never the strong one).
fn weak_digest(alg: &Algorithm) -> bool {
    match alg {
        Algorithm::Known(a) => a.is_weak(),
        Algorithm::Unknown(oid) => oid.is_empty(),
    }
}

/// The dual-signing rule: a SHA-1 (or MD5) primary that is not valid for trust reasons only,
/// with a valid nested signature of a SHA-2 digest in the same entry.
fn dual_signed_decider(signatures: &[SignatureReport]) -> Option<DecidedBy> {
    let primary = signatures.iter().find(|s| s.entry == 0 && s.nested == 0)?;
    if primary.status == Status::Valid
        || primary.status == Status::Malformed
        || !weak_digest(&primary.digest_algorithm)
        || primary.reasons.iter().any(|r| r.code.is_integrity())
    {
        return None;
    }
    let nested = signatures.iter().find(|s| {
        s.entry == 0
            && s.nested > 0
            && s.status == Status::Valid
            && !weak_digest(&s.digest_algorithm)
    })?;
    Some(DecidedBy {
        entry: nested.entry,
        nested: nested.nested,
        reason: format!(
            "the {} primary signature is {} ({}); Windows 8 and later verify the {} signature \
             nested in it, which is valid",
            primary.digest_algorithm,
            primary.status.as_str(),
            primary
                .reasons
                .iter()
                .map(|r| r.code.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            nested.digest_algorithm
        ),
    })
}

/// SpcSpOpusInfo: program name and more-info URL (signed attribute, shown as written).
fn opus_info(sig: &AuthenticodeSignature) -> (Option<String>, Option<String>) {
    use der::{Decode, Reader, SliceReader};
    let Some(attr) = sig
        .signer_info()
        .signed_attrs
        .as_ref()
        .and_then(|a| a.iter().find(|a| a.oid.to_string() == OPUS_INFO))
        .and_then(|a| a.values.iter().next())
    else {
        return (None, None);
    };
    let mut name = None;
    let mut url = None;
    let Ok(mut r) = SliceReader::new(attr.value()) else {
        return (None, None);
    };
    while !r.is_finished() {
        let Ok(item) = der::Any::decode(&mut r) else {
            break;
        };
        use der::Tagged;
        let der::Tag::ContextSpecific { number, .. } = item.tag() else {
            continue;
        };
        // [0] programName: EXPLICIT SpcString (unicode [0] BMPString | ascii [1] IA5String);
        // [1] moreInfo: EXPLICIT SpcLink (url [0] IA5String).
        let Ok(inner) = der::Any::from_der(item.value()) else {
            continue;
        };
        let text = match inner.tag() {
            der::Tag::ContextSpecific { number: n, .. }
                if n.value() == 0 && number.value() == 0 =>
            {
                crate::read::utf16_lossy(inner.value(), false)
            }
            _ => String::from_utf8_lossy(inner.value()).into_owned(),
        };
        if number.value() == 0 {
            name = Some(text);
        } else if number.value() == 1 {
            url = Some(text);
        }
    }
    (name, url)
}

/// What a signature's digest is computed from.
#[derive(Clone, Copy)]
pub enum Source<'a> {
    /// A PE image: its image hash, and page hashes when the signature has them.
    Pe {
        data: &'a [u8],
        layout: &'a SigningLayout,
    },
    /// Another format (MSI, CAB): its digest per algorithm; no page hashes.
    Digest(&'a signature::DigestFn<'a>),
}

struct Ctx<'a, 'e> {
    source: Source<'a>,
    env: &'a VerifyEnv<'e>,
    out: Vec<SignatureReport>,
    nested_seen: u64,
    /// (entry, OIDs) of unsigned attributes that are neither timestamps nor nested signatures.
    unauthenticated: Vec<(usize, Vec<String>)>,
    digests: signature::DigestCache,
}

impl Ctx<'_, '_> {
    fn signature(&mut self, entry: usize, nested: usize, der: &[u8]) {
        let parsed = match signature::parse(der) {
            Ok(p) => p,
            Err(e) => {
                self.out.push(SignatureReport {
                    entry,
                    nested,
                    digest_algorithm: Algorithm::Unknown(String::new()),
                    digest: DigestCheck {
                        error: None,
                        algorithm: Algorithm::Unknown(String::new()),
                        signed: String::new(),
                        computed: None,
                        matches: false,
                    },
                    signer: None,
                    key_bits: None,
                    chain: Vec::new(),
                    program_name: None,
                    more_info_url: None,
                    timestamp: None,
                    page_hashes: PageHashReport {
                        present: false,
                        verified: false,
                    },
                    status: Status::Malformed,
                    reasons: vec![reason(ReasonCode::MalformedSignature, e)],
                    signer_id: None,
                    changes: Vec::new(),
                });
                return;
            }
        };
        let info = match self.source {
            Source::Pe { data, layout } => {
                signature::inspect_parsed(data, layout, entry, &parsed, &mut self.digests)
            }
            Source::Digest(f) => {
                signature::inspect_parsed_with(entry, &parsed, &mut self.digests, f)
            }
        };
        if !info.other_unsigned_attributes.is_empty() {
            self.unauthenticated
                .push((entry, info.other_unsigned_attributes.clone()));
        }
        let sig = &parsed.sig;
        self.judge(
            entry,
            nested,
            &info,
            sig,
            parsed.signer_cert(),
            &parsed.certs,
        );
        // Nested signatures, depth first, within the budget.
        let nested_values: Vec<Vec<u8>> = sig
            .signer_info()
            .unsigned_attrs
            .as_ref()
            .map(|attrs| {
                attrs
                    .iter()
                    .filter(|a| a.oid.to_string() == NESTED_SIGNATURE)
                    .flat_map(|a| a.values.iter().filter_map(|v| der::Encode::to_der(v).ok()))
                    .collect()
            })
            .unwrap_or_default();
        for v in nested_values {
            self.nested_seen = self.nested_seen.saturating_add(1);
            if self.nested_seen > MAX_NESTED_SIGNATURES {
                break;
            }
            self.signature(entry, nested.saturating_add(1), &v);
        }
    }

    fn judge(
        &mut self,
        entry: usize,
        nested: usize,
        info: &SignatureInfo,
        sig: &AuthenticodeSignature,
        signer: Option<&Certificate>,
        bag: &[Certificate],
    ) {
        let mut j = Judgement::default();
        if !info.digest.matches {
            j.worsen(
                Status::Invalid,
                reason(
                    ReasonCode::DigestMismatch,
                    match &info.digest.error {
                        Some(e) => format!(
                            "the image hash ({}) cannot be computed: {e}",
                            info.digest.algorithm
                        ),
                        None => format!(
                            "the image hash ({}) differs from the signed one",
                            info.digest.algorithm
                        ),
                    },
                ),
            );
        }
        if !info.cms.algorithms_consistent {
            j.worsen(
                Status::Invalid,
                reason(
                    ReasonCode::AlgorithmMismatch,
                    "the SignerInfo and the indirect data name different digest algorithms",
                ),
            );
        }
        if !info.cms.message_digest_match || !info.cms.signature_valid {
            let msg = info
                .cms
                .error
                .clone()
                .unwrap_or_else(|| "the signer's signature does not verify".into());
            j.worsen(Status::Invalid, reason(ReasonCode::BadSignature, msg));
        }
        let (chain_subjects, timestamp) =
            judge_identity(self.env, signer, bag, &info.timestamps, &mut j);
        let indirect = sig.encapsulated_content().unwrap_or_default();
        let ph = match self.source {
            Source::Pe { data, layout } => {
                super::pagehash::verify(data, layout, indirect).map(|p| p.verified)
            }
            Source::Digest(_) => None,
        };
        if ph == Some(false) {
            j.worsen(
                Status::Invalid,
                reason(
                    ReasonCode::PageHashMismatch,
                    "a page hash does not match the file",
                ),
            );
        }
        let (program_name, more_info_url) = opus_info(sig);
        self.out.push(SignatureReport {
            entry,
            nested,
            digest_algorithm: info.digest.algorithm.clone(),
            digest: info.digest.clone(),
            signer: info.signer.clone(),
            key_bits: info.signer_key.as_ref().and_then(|k| k.bits),
            chain: chain_subjects,
            program_name,
            more_info_url,
            timestamp,
            page_hashes: PageHashReport {
                present: ph.is_some(),
                verified: ph == Some(true),
            },
            status: j.status,
            reasons: j.reasons,
            signer_id: None,
            changes: Vec::new(),
        });
    }
}

fn anomaly(a: &Anomaly) -> AnomalyReport {
    let mut detail = serde_json::to_value(a).unwrap_or_default();
    if let Some(o) = detail.as_object_mut() {
        o.remove("kind");
    }
    AnomalyReport { id: a.id(), detail }
}

fn extra(id: AnomalyId, detail: serde_json::Value) -> AnomalyReport {
    AnomalyReport { id, detail }
}

/// Verifies every signature of a PE image.
pub fn verify(data: &[u8], env: &VerifyEnv<'_>) -> SignatureVerdict {
    match crate::pe::signing_layout(data) {
        Ok(layout) => verify_layout(data, &layout, env),
        Err(e) => malformed(e.to_string()),
    }
}

/// The verdict on a PE image whose headers cannot be read (`error` says why).
pub fn malformed(error: String) -> SignatureVerdict {
    SignatureVerdict {
        status: Status::Malformed,
        format: None,
        signatures: Vec::new(),
        anomalies: Vec::new(),
        error: Some(error),
        decided_by: None,
    }
}

/// [`verify`] with the layout already read from the headers.
pub fn verify_layout(
    data: &[u8],
    layout: &crate::pe::SigningLayout,
    env: &VerifyEnv<'_>,
) -> SignatureVerdict {
    verify_layout_with(data, layout, env, Known::default())
}

/// What a caller that wrote the file already computed from the bytes it wrote.
#[derive(Default)]
pub struct Known {
    /// Image digests (see [`signature::DigestCache::seeded`]); others are computed.
    pub digests: signature::DigestCache,
    /// The PE checksum of the file; computed when `None`.
    pub checksum: Option<u32>,
}

/// [`verify_layout`] with image digests and the checksum already known (`known`); the rest is
/// computed.
pub fn verify_layout_with(
    data: &[u8],
    layout: &crate::pe::SigningLayout,
    env: &VerifyEnv<'_>,
    known: Known,
) -> SignatureVerdict {
    let Known { digests, checksum } = known;
    let table = match table::read(data, layout) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return SignatureVerdict::unsigned("no certificate table");
        }
        Err(e) => return malformed(e.to_string()),
    };
    let mut ctx = Ctx {
        source: Source::Pe { data, layout },
        env,
        out: Vec::new(),
        nested_seen: 0,
        unauthenticated: Vec::new(),
        digests,
    };
    // The stored checksum, when set, must be right (zero means "not set": not an anomaly). It
    // is a pass over the file of its own: computed beside the signatures' image hashes.
    let stored = crate::read::Bytes::new(data, true)
        .u32("PE CheckSum", layout.checksum_offset)
        .unwrap_or(0);
    let ((), computed) = rayon::join(
        || {
            for e in table
                .entries
                .iter()
                .filter(|e| e.cert_type == table::WIN_CERT_TYPE_PKCS_SIGNED_DATA)
            {
                ctx.signature(e.index, 0, e.der);
            }
        },
        || {
            (stored != 0).then(|| {
                checksum
                    .unwrap_or_else(|| crate::pe::compute_checksum(data, layout.checksum_offset))
            })
        },
    );
    let anomalies: Vec<AnomalyReport> = table.anomalies.iter().map(anomaly).collect();
    let mut verdict = finish(ctx.out, ctx.unauthenticated, anomalies, env);
    if let Some(computed) = computed {
        if stored != computed {
            verdict.anomalies.push(extra(
                AnomalyId::BadChecksum,
                serde_json::json!({"stored": stored, "computed": computed}),
            ));
            if env.strict && verdict.status == Status::Valid {
                verdict.status = Status::Invalid;
            }
        }
    }
    verdict
}

/// The file's verdict from its signatures' reports: the anomalies every format shares (SHA-1
/// only, weak keys, unauthenticated attributes) added to `anomalies`, then the status (the
/// primary's, every signature's with `require_all`, or the nested one's by the dual-signing
/// rule), made invalid by any anomaly when strict.
fn finish(
    signatures: Vec<SignatureReport>,
    ctx_unauth: Vec<(usize, Vec<String>)>,
    mut anomalies: Vec<AnomalyReport>,
    env: &VerifyEnv<'_>,
) -> SignatureVerdict {
    // SHA-1 (or MD5) everywhere: no signature with SHA-256 or better.
    let strong = signatures.iter().any(|s| {
        matches!(
            s.digest_algorithm.known(),
            Some(DigestAlg::Sha256 | DigestAlg::Sha384 | DigestAlg::Sha512)
        )
    });
    // Only signatures that could be read say anything about algorithms.
    let readable = signatures.iter().any(|s| s.status != Status::Malformed);
    if readable && !strong {
        anomalies.push(extra(AnomalyId::Sha1Only, serde_json::json!({"algorithms": signatures.iter().map(|s| s.digest_algorithm.clone()).collect::<Vec<_>>()})));
    }
    for s in &signatures {
        if s.key_bits.is_some_and(|b| b < 2048)
            && s.signer
                .as_ref()
                .is_some_and(|x| x.key_algorithm == KeyAlgorithm::Rsa)
        {
            anomalies.push(extra(
                AnomalyId::WeakKey,
                serde_json::json!({"entry": s.entry, "nested": s.nested, "bits": s.key_bits}),
            ));
        }
    }
    for (entry, oids) in &ctx_unauth {
        anomalies.push(extra(
            AnomalyId::UnauthenticatedAttribute,
            serde_json::json!({"entry": entry, "oids": oids}),
        ));
    }
    let primary = signatures
        .iter()
        .find(|s| s.entry == 0 && s.nested == 0)
        .map(|s| s.status);
    let mut status = if env.require_all {
        if signatures.iter().all(|s| s.status == Status::Valid) && !signatures.is_empty() {
            Status::Valid
        } else {
            signatures
                .iter()
                .map(|s| s.status)
                .find(|s| *s == Status::Invalid)
                .or_else(|| {
                    signatures
                        .iter()
                        .map(|s| s.status)
                        .find(|s| *s != Status::Valid)
                })
                .unwrap_or(Status::Malformed)
        }
    } else {
        primary.unwrap_or(Status::Malformed)
    };
    let decided_by = if env.require_all {
        None
    } else {
        dual_signed_decider(&signatures)
    };
    if decided_by.is_some() {
        status = Status::Valid;
    }
    if env.strict && status == Status::Valid && !anomalies.is_empty() {
        status = Status::Invalid;
    }
    SignatureVerdict {
        status,
        format: Some(crate::cms::verdict::SignatureFormat::Authenticode),
        signatures,
        anomalies,
        error: None,
        decided_by,
    }
}

/// Verifies a SignedData stored apart from the bytes it signs (an MSI's `\x05DigitalSignature`
/// stream, a cabinet's appended signature): the same layers as a PE's entry 0, nested
/// signatures included, with the digest from `source`.
pub fn verify_detached(der: &[u8], source: Source<'_>, env: &VerifyEnv<'_>) -> SignatureVerdict {
    // The DER element only: signers pad the stored signature (to 8 bytes, or a sector).
    let der = crate::read::der_element_len(der)
        .and_then(|n| usize::try_from(n).ok())
        .and_then(|n| der.get(..n))
        .unwrap_or(der);
    let mut ctx = Ctx {
        source,
        env,
        out: Vec::new(),
        nested_seen: 0,
        unauthenticated: Vec::new(),
        digests: signature::DigestCache::default(),
    };
    ctx.signature(0, 0, der);
    finish(ctx.out, ctx.unauthenticated, Vec::new(), env)
}
