//! The verdict: every layer put together the way WinVerifyTrust decides.
//!
//! For each signature (every WIN_CERTIFICATE entry, and nested signatures recursively): the image
//! digest, the CMS signer signature, the timestamp (which, when valid and inside the signer's
//! validity, moves the chain's validation time to the stamped time unless the signer carries the
//! lifetime-signing EKU), the chain to a code-signing anchor, revocation from CRL files, page
//! hashes, and anomalies. The file's status is the primary signature's (entry 0, not nested)
//! unless every signature is required.

use authenticode::AuthenticodeSignature;
use serde::Serialize;
use x509_cert::Certificate;

use super::image::DigestAlg;
use super::signature::{self, SignatureInfo, Signer};
use super::table::{self, Anomaly};
use super::timestamp::{Kind, Timestamp};
use crate::budget::MAX_NESTED_SIGNATURES;
use crate::pe::SigningLayout;
use crate::pki::chain::{self, Anchors, ChainError, Purpose};

const NESTED_SIGNATURE: &str = "1.3.6.1.4.1.311.2.4.1";
const LIFETIME_SIGNING: &str = "1.3.6.1.4.1.311.10.3.13";
const OPUS_INFO: &str = "1.3.6.1.4.1.311.2.1.12";

/// The verdict vocabulary shared by every signature format bingate verifies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Valid,
    Invalid,
    Untrusted,
    Unsigned,
    Malformed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Valid => "valid",
            Status::Invalid => "invalid",
            Status::Untrusted => "untrusted",
            Status::Unsigned => "unsigned",
            Status::Malformed => "malformed",
        }
    }
}

/// A machine-readable reason with a message for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: String,
    pub message: String,
}

fn reason(code: &str, message: impl Into<String>) -> Reason {
    Reason {
        code: code.to_owned(),
        message: message.into(),
    }
}

/// Revocation lookup: `Some(revoked_at)` when a CRL lists `cert` (issued by `issuer`).
pub type RevocationLookup<'a> = &'a (dyn Fn(&Certificate, &Certificate) -> Option<u64> + Sync);
/// Page-hash check over (file, layout, SpcIndirectDataContent): `Some(verified)` when present.
pub type PageHashCheck<'a> = &'a (dyn Fn(&[u8], &SigningLayout, &[u8]) -> Option<bool> + Sync);

/// Where anchors come from: fixed sets, or a store that may still be loading.
pub trait AnchorSource: Sync {
    fn code_signing(&self) -> &Anchors;
    fn time_stamping(&self) -> &Anchors;
}

/// Two fixed anchor sets.
pub struct FixedAnchors<'a> {
    pub code_signing: &'a Anchors,
    pub time_stamping: &'a Anchors,
}

impl AnchorSource for FixedAnchors<'_> {
    fn code_signing(&self) -> &Anchors {
        self.code_signing
    }
    fn time_stamping(&self) -> &Anchors {
        self.time_stamping
    }
}

/// What the caller decides: trust, time, strictness, revocation.
pub struct VerifyEnv<'a> {
    /// Trust anchors, asked for only when a chain is built (after the file has been hashed), so
    /// a store still loading in the background does not hold up hashing.
    pub anchors: &'a dyn AnchorSource,
    /// Verification time (Unix seconds) when no valid timestamp decides it.
    pub at: u64,
    pub strict: bool,
    pub require_all: bool,
    pub revoked: RevocationLookup<'a>,
    pub page_hashes: PageHashCheck<'a>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TimestampReport {
    pub kind: Kind,
    pub time: String,
    pub tsa: Option<String>,
    pub valid: bool,
    pub chain: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageHashReport {
    pub present: bool,
    pub verified: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureReport {
    pub entry: usize,
    pub nested: usize,
    pub digest_algorithm: String,
    pub digest: signature::DigestCheck,
    pub signer: Option<Signer>,
    pub key_bits: Option<u32>,
    pub chain: Vec<String>,
    pub program_name: Option<String>,
    pub more_info_url: Option<String>,
    pub timestamp: Option<TimestampReport>,
    pub page_hashes: PageHashReport,
    pub status: Status,
    pub reasons: Vec<Reason>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnomalyReport {
    pub id: String,
    #[serde(flatten)]
    pub detail: serde_json::Value,
}

/// The `signature` object of a file's report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SignatureVerdict {
    pub status: Status,
    pub signatures: Vec<SignatureReport>,
    pub anomalies: Vec<AnomalyReport>,
    /// Set for unsigned and malformed files: why.
    pub error: Option<String>,
}

fn has_eku(cert: &Certificate, oid: &str) -> bool {
    use der::Decode;
    cert.tbs_certificate
        .extensions
        .as_ref()
        .and_then(|exts| exts.iter().find(|e| e.extn_id.to_string() == "2.5.29.37"))
        .and_then(|e| {
            x509_cert::ext::pkix::ExtendedKeyUsage::from_der(e.extn_value.as_bytes()).ok()
        })
        .is_some_and(|eku| eku.0.iter().any(|o| o.to_string() == oid))
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
                let units: Vec<u16> = inner
                    .value()
                    .chunks_exact(2)
                    .map(|c| {
                        u16::from_be_bytes([
                            c.first().copied().unwrap_or(0),
                            c.get(1).copied().unwrap_or(0),
                        ])
                    })
                    .collect();
                String::from_utf16_lossy(&units)
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

fn chain_status(e: &ChainError) -> (Status, &'static str) {
    match e {
        ChainError::Untrusted { .. }
        | ChainError::NoIssuer { .. }
        | ChainError::Disallowed { .. } => (Status::Untrusted, "untrusted-root"),
        ChainError::Expired { .. } | ChainError::NotYetValid { .. } => (Status::Invalid, "expired"),
        ChainError::WrongPurpose { .. } | ChainError::KeyUsage { .. } => {
            (Status::Invalid, "wrong-certificate-type")
        }
        _ => (Status::Invalid, "bad-chain"),
    }
}

struct Ctx<'a, 'e> {
    data: &'a [u8],
    layout: &'a SigningLayout,
    env: &'a VerifyEnv<'e>,
    out: Vec<SignatureReport>,
    nested_seen: u64,
    /// (entry, OIDs) of unsigned attributes that are neither timestamps nor nested signatures.
    unauthenticated: Vec<(usize, Vec<String>)>,
    digests: signature::DigestCache,
}

impl Ctx<'_, '_> {
    fn timestamp(
        &self,
        ts: &[Timestamp],
        signer: Option<&Certificate>,
    ) -> (Option<TimestampReport>, Option<u64>, Vec<Reason>) {
        let mut reasons = Vec::new();
        let Some(t) = ts.first() else {
            return (None, None, reasons);
        };
        let mut valid = t.imprint_match && t.cms.message_digest_match && t.cms.signature_valid;
        if !valid {
            reasons.push(reason(
                "timestamp-invalid",
                "the timestamp does not verify; it is ignored",
            ));
        }
        let chain = match &t.tsa_cert {
            Some(tsa) if valid => match chain::build(
                tsa,
                &t.certificates,
                self.env.anchors.time_stamping(),
                t.time,
                Purpose::TimeStamping,
            ) {
                Ok(p) => p.subjects,
                Err(e) => {
                    valid = false;
                    reasons.push(reason(
                        "timestamp-untrusted",
                        format!("timestamp: {}", e.message()),
                    ));
                    Vec::new()
                }
            },
            _ => Vec::new(),
        };
        // The stamped time must fall inside the signer's validity to extend it.
        if valid {
            if let Some(c) = signer {
                let v = &c.tbs_certificate.validity;
                let inside = t.time >= v.not_before.to_unix_duration().as_secs()
                    && t.time <= v.not_after.to_unix_duration().as_secs();
                if !inside {
                    valid = false;
                    reasons.push(reason(
                        "timestamp-outside-validity",
                        format!(
                            "timestamp {} is outside the signer's validity",
                            crate::time::show(t.time)
                        ),
                    ));
                }
            }
        }
        let report = TimestampReport {
            kind: t.kind,
            time: crate::time::show(t.time),
            tsa: t.tsa.clone(),
            valid,
            chain,
        };
        (Some(report), valid.then_some(t.time), reasons)
    }

    fn signature(&mut self, entry: usize, nested: usize, der: &[u8]) {
        let info = match signature::inspect_cached(
            self.data,
            self.layout,
            entry,
            der,
            &mut self.digests,
        ) {
            Ok(i) => i,
            Err(e) => {
                self.out.push(SignatureReport {
                    entry,
                    nested,
                    digest_algorithm: String::new(),
                    digest: signature::DigestCheck {
                        algorithm: String::new(),
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
                    reasons: vec![reason("malformed-signature", e)],
                });
                return;
            }
        };
        if !info.other_unsigned_attributes.is_empty() {
            self.unauthenticated
                .push((entry, info.other_unsigned_attributes.clone()));
        }
        let Ok(sig) = signature::parse(der) else {
            return;
        };
        let (signer_cert, bag) = signature::certificates(der).unwrap_or((None, Vec::new()));
        self.judge(entry, nested, &info, &sig, signer_cert.as_ref(), &bag);
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
        let mut reasons = Vec::new();
        let mut status = Status::Valid;
        let mut worsen = |s: Status, r: Reason, reasons: &mut Vec<Reason>| {
            if status == Status::Valid || (status == Status::Untrusted && s == Status::Invalid) {
                status = s;
            }
            reasons.push(r);
        };
        if !info.digest.matches {
            worsen(
                Status::Invalid,
                reason(
                    "digest-mismatch",
                    format!(
                        "the image hash ({}) differs from the signed one",
                        info.digest.algorithm
                    ),
                ),
                &mut reasons,
            );
        }
        if !info.cms.algorithms_consistent {
            worsen(
                Status::Invalid,
                reason(
                    "algorithm-mismatch",
                    "the SignerInfo and the indirect data name different digest algorithms",
                ),
                &mut reasons,
            );
        }
        if !info.cms.message_digest_match || !info.cms.signature_valid {
            let msg = info
                .cms
                .error
                .clone()
                .unwrap_or_else(|| "the signer's signature does not verify".into());
            worsen(Status::Invalid, reason("bad-signature", msg), &mut reasons);
        }
        let (timestamp, ts_time, ts_reasons) = self.timestamp(&info.timestamps, signer);
        reasons.extend(ts_reasons);
        let lifetime = signer.is_some_and(|c| has_eku(c, LIFETIME_SIGNING));
        let decisive = match (ts_time, lifetime) {
            (Some(t), false) => t,
            _ => self.env.at,
        };
        let mut chain_subjects = Vec::new();
        match signer {
            None => worsen(
                Status::Invalid,
                reason(
                    "no-signer-certificate",
                    "no certificate in the signature matches the signer",
                ),
                &mut reasons,
            ),
            Some(leaf) => match chain::build(
                leaf,
                bag,
                self.env.anchors.code_signing(),
                decisive,
                Purpose::CodeSigning,
            ) {
                Ok(path) => {
                    chain_subjects = path.subjects.clone();
                    for pair in path.certs.windows(2) {
                        if let [cert, issuer] = pair {
                            if let Some(revoked_at) = (self.env.revoked)(cert, issuer) {
                                let saved = ts_time.is_some_and(|t| t < revoked_at);
                                if !saved {
                                    worsen(
                                        Status::Invalid,
                                        reason(
                                            "revoked",
                                            format!(
                                                "{} was revoked {}",
                                                cert.tbs_certificate.subject,
                                                crate::time::show(revoked_at)
                                            ),
                                        ),
                                        &mut reasons,
                                    );
                                }
                            }
                        }
                    }
                }
                Err(e) => {
                    let (s, code) = chain_status(&e);
                    let mut msg = e.message();
                    if lifetime && ts_time.is_some() {
                        msg.push_str(
                            " (lifetime-signing certificate: the timestamp does not extend it)",
                        );
                    }
                    worsen(s, reason(code, msg), &mut reasons);
                }
            },
        }
        let indirect = sig.encapsulated_content().unwrap_or_default();
        let ph = (self.env.page_hashes)(self.data, self.layout, indirect);
        if ph == Some(false) {
            worsen(
                Status::Invalid,
                reason("page-hash-mismatch", "a page hash does not match the file"),
                &mut reasons,
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
            status,
            reasons,
        });
    }
}

fn anomaly(a: &Anomaly) -> AnomalyReport {
    let mut detail = serde_json::to_value(a).unwrap_or_default();
    if let Some(o) = detail.as_object_mut() {
        o.remove("kind");
    }
    AnomalyReport {
        id: a.id().to_owned(),
        detail,
    }
}

fn extra(id: &str, detail: serde_json::Value) -> AnomalyReport {
    AnomalyReport {
        id: id.to_owned(),
        detail,
    }
}

/// Verifies every signature of a PE image.
pub fn verify(data: &[u8], env: &VerifyEnv<'_>) -> SignatureVerdict {
    let malformed = |e: String| SignatureVerdict {
        status: Status::Malformed,
        signatures: Vec::new(),
        anomalies: Vec::new(),
        error: Some(e),
    };
    let layout = match crate::pe::signing_layout(data) {
        Ok(l) => l,
        Err(e) => return malformed(e.to_string()),
    };
    let table = match table::read(data, &layout) {
        Ok(Some(t)) => t,
        Ok(None) => {
            return SignatureVerdict {
                status: Status::Unsigned,
                signatures: Vec::new(),
                anomalies: Vec::new(),
                error: Some("no certificate table".into()),
            };
        }
        Err(e) => return malformed(e.to_string()),
    };
    let mut ctx = Ctx {
        data,
        layout: &layout,
        env,
        out: Vec::new(),
        nested_seen: 0,
        unauthenticated: Vec::new(),
        digests: signature::DigestCache::default(),
    };
    for e in table
        .entries
        .iter()
        .filter(|e| e.cert_type == table::WIN_CERT_TYPE_PKCS_SIGNED_DATA)
    {
        ctx.signature(e.index, 0, e.der);
    }
    let signatures = ctx.out;
    let ctx_unauth = ctx.unauthenticated;
    let mut anomalies: Vec<AnomalyReport> = table.anomalies.iter().map(anomaly).collect();
    // SHA-1 (or MD5) everywhere: no signature with SHA-256 or better.
    let strong = signatures.iter().any(|s| {
        matches!(
            DigestAlg::from_oid_name(&s.digest_algorithm),
            Some(DigestAlg::Sha256 | DigestAlg::Sha384 | DigestAlg::Sha512)
        )
    });
    // Only signatures that could be read say anything about algorithms.
    let readable = signatures.iter().any(|s| s.status != Status::Malformed);
    if readable && !strong {
        anomalies.push(extra("sha1-only", serde_json::json!({"algorithms": signatures.iter().map(|s| s.digest_algorithm.clone()).collect::<Vec<_>>()})));
    }
    for s in &signatures {
        if s.key_bits.is_some_and(|b| b < 2048)
            && s.signer.as_ref().is_some_and(|x| x.key_algorithm == "rsa")
        {
            anomalies.push(extra(
                "weak-key",
                serde_json::json!({"entry": s.entry, "nested": s.nested, "bits": s.key_bits}),
            ));
        }
    }
    for (entry, oids) in &ctx_unauth {
        anomalies.push(extra(
            "unauthenticated-attribute",
            serde_json::json!({"entry": entry, "oids": oids}),
        ));
    }
    // The stored checksum, when set, must be right (zero means "not set": not an anomaly).
    let stored = crate::read::Bytes::new(data, true)
        .u32("PE CheckSum", layout.checksum_offset)
        .unwrap_or(0);
    if stored != 0 {
        let computed = crate::pe::compute_checksum(data, layout.checksum_offset);
        if stored != computed {
            anomalies.push(extra(
                "bad-checksum",
                serde_json::json!({"stored": stored, "computed": computed}),
            ));
        }
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
    if env.strict && status == Status::Valid && !anomalies.is_empty() {
        status = Status::Invalid;
    }
    SignatureVerdict {
        status,
        signatures,
        anomalies,
        error: None,
    }
}
