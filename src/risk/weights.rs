//! The evidence table: every id the estimate can report, its default weight, what it means and
//! what fixes it. `docs/smartscreen.md` documents the same table (a test keeps them equal); a
//! policy's `[risk]` section overrides weights and level thresholds.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::facts::ToolchainName;

crate::ids::id_enum! {
    /// A kind of risk evidence (`risk.evidence[].id`; the ids a policy's `risk.weights` names).
    pub enum EvidenceId {
        Unsigned = "unsigned": "no Authenticode signature",
        MalformedSignature = "malformed-signature": "a certificate table is present but the signature cannot be read",
        UntrustedRoot = "untrusted-root": "the chain does not reach a root enabled for code signing, or the signer is self-signed",
        DigestMismatch = "digest-mismatch": "the image hash (or a page hash) differs from the signed one: the file changed after signing",
        InvalidSignature = "invalid-signature": "the signer's signature or the chain does not verify",
        Revoked = "revoked": "a CRL lists the signer certificate as revoked",
        CertPadding = "cert-padding": "extra bytes inside WIN_CERTIFICATE, outside the signature (CVE-2013-3900; rejected with EnableCertPaddingCheck)",
        TrailingData = "trailing-data": "bytes after the certificate table, which the signature does not cover",
        NoTimestamp = "no-timestamp": "no valid RFC 3161 or legacy timestamp: the signature dies with the certificate (35 for 72-hour Azure Artifact Signing certificates)",
        CertTime = "cert-time": "the signing or timestamp time lies outside the certificate's validity, or a lifetime-signing certificate expired",
        Sha1 = "sha1": "only SHA-1 (or MD5) digests: no SHA-256 signature beside them",
        WeakKey = "weak-key": "RSA below 2048 bits (25), RSA below 3072 bits on a certificate issued from 2021-06-01 (10), or ECDSA (15: Smart App Control accepts no ECC)",
        WrongCertType = "wrong-cert-type": "the signer certificate lacks the code-signing EKU or digitalSignature, or is a CA",
        YoungCert = "young-cert": "the signer certificate was issued less than 60 days before the signing time: the publisher has no reputation yet",
        EvMarkers = "ev-markers": "EV policy OID 2.23.140.1.3 or EV subject attributes: since 2024 EV gives no immediate reputation (reported only)",
        ArtifactSigning = "artifact-signing": "an Azure Artifact Signing (Trusted Signing) certificate: 72-hour lifetime, durable identity in EKU 1.3.6.1.4.1.311.97.* (reported only)",
        SignatureAnomaly = "signature-anomaly": "other certificate-table oddities: several entries, unsupported entry types, slack, unauthenticated attributes",
        NoVersionInfo = "no-version-info": "no RT_VERSION resource, or empty CompanyName/ProductName/FileDescription/FileVersion/OriginalFilename",
        Packer = "packer": "packer markers: section names UPX0/UPX1/.MPRESS*/.aspack/.themida/.vmp*, the UPX! magic, or an executable section with no file data and a large virtual size",
        HighEntropy = "high-entropy": "an executable section above 7.2 bits/byte, or the whole file above 6.7: compressed or encrypted content",
        Overlay = "overlay": "data after the last section that is not the certificate table",
        NoManifest = "no-manifest": "an executable without an RT_MANIFEST, or one without requestedExecutionLevel",
        InstallerDetection = "installer-detection": "a 32-bit executable with an installer-like name (setup, install, update, patch…) and no requestedExecutionLevel: UAC installer detection demands elevation",
        UiAccess = "ui-access": "the manifest asks for uiAccess=true: Windows runs it only when validly signed and installed in a secure location",
        NoIcon = "no-icon": "a GUI executable without an RT_GROUP_ICON",
        BadChecksum = "bad-checksum": "OptionalHeader.CheckSum zero or wrong (20 for drivers, which Windows checks)",
        UnsignedCompanions = "unsigned-companions": "other PE files shipped beside this signed executable carry no signature",
        UnsignedInside = "unsigned-inside": "PE files inside this signed container or installer payload carry no signature",
        ResourceMalformed = "resource-malformed": "the resource tree, version block or manifest is malformed",
        MarkOfTheWeb = "mark-of-the-web": "a Zone.Identifier sidecar (Mark of the Web): where this copy came from (reported only)",
    }
}

/// One kind of evidence: its default weight and fix (what it is: [`EvidenceId::description`]).
pub struct EvidenceKind {
    pub id: EvidenceId,
    pub weight: u32,
    /// What to do about it.
    pub fix: &'static str,
}

/// Default weights: the project's first estimate from public sources (docs/smartscreen.md), adjusted
/// where calibration on real files asked for it (see docs/smartscreen.md, "Calibration").
pub const EVIDENCE: &[EvidenceKind] = &[
    EvidenceKind {
        id: EvidenceId::Unsigned,
        weight: 40,
        fix: "sign with a timestamp: signtool sign /fd SHA256 /tr <TSA URL> /td SHA256 /f <cert.pfx> <file> (or osslsigncode sign -h sha256 -ts <TSA URL>)",
    },
    EvidenceKind {
        id: EvidenceId::MalformedSignature,
        weight: 40,
        fix: "re-sign from the unsigned build output; do not edit the file after signing",
    },
    EvidenceKind {
        id: EvidenceId::UntrustedRoot,
        weight: 35,
        fix: "sign with a certificate from a CA in Microsoft's Trusted Root Program (OV, EV or Azure Artifact Signing); self-signed and private-CA certificates get a strong block",
    },
    EvidenceKind {
        id: EvidenceId::DigestMismatch,
        weight: 40,
        fix: "sign last: run every post-link step (strip, resource edits, installers that patch the file) before signing, then re-sign",
    },
    EvidenceKind {
        id: EvidenceId::InvalidSignature,
        weight: 40,
        fix: "re-sign with a working toolchain and the full certificate chain; check the file with bingate verify before release",
    },
    EvidenceKind {
        id: EvidenceId::Revoked,
        weight: 40,
        fix: "obtain a new certificate and re-sign; a revoked certificate cannot be repaired",
    },
    EvidenceKind {
        id: EvidenceId::CertPadding,
        weight: 25,
        fix: "do not append data to a signed file's certificate table; move configuration into a separate file or sign after embedding it",
    },
    EvidenceKind {
        id: EvidenceId::TrailingData,
        weight: 25,
        fix: "do not append data after signing; embed it before signing or ship it beside the file",
    },
    EvidenceKind {
        id: EvidenceId::NoTimestamp,
        weight: 15,
        fix: "add a timestamp: signtool sign /tr <TSA URL> /td SHA256 (or signtool timestamp /tr <TSA URL> /td SHA256 <file> on a signed file)",
    },
    EvidenceKind {
        id: EvidenceId::CertTime,
        weight: 30,
        fix: "re-sign with a currently valid certificate and a timestamp",
    },
    EvidenceKind {
        id: EvidenceId::Sha1,
        weight: 25,
        fix: "sign with SHA-256: signtool sign /fd SHA256 /td SHA256",
    },
    EvidenceKind {
        id: EvidenceId::WeakKey,
        weight: 25,
        fix: "use an RSA 3072 or 4096 key (CA/B Forum code-signing requirements; Microsoft's root program accepts no ECC for code signing)",
    },
    EvidenceKind {
        id: EvidenceId::WrongCertType,
        weight: 30,
        fix: "sign with a code-signing certificate (EKU 1.3.6.1.5.5.7.3.3, key usage digitalSignature, CA:FALSE)",
    },
    EvidenceKind {
        id: EvidenceId::YoungCert,
        weight: 10,
        fix: "nothing to fix in the file: publisher reputation builds with clean downloads over time; keep signing with the same certificate (or the same Artifact Signing identity) across releases",
    },
    EvidenceKind {
        id: EvidenceId::EvMarkers,
        weight: 0,
        fix: "none needed; do not expect EV to skip the reputation warning",
    },
    EvidenceKind {
        id: EvidenceId::ArtifactSigning,
        weight: 0,
        fix: "always timestamp Artifact Signing signatures",
    },
    EvidenceKind {
        id: EvidenceId::SignatureAnomaly,
        weight: 5,
        fix: "sign once with one tool; do not add signatures or attributes by hand",
    },
    EvidenceKind {
        id: EvidenceId::NoVersionInfo,
        weight: 10,
        fix: "add a VERSIONINFO resource with CompanyName, ProductName, FileDescription, FileVersion and OriginalFilename",
    },
    EvidenceKind {
        id: EvidenceId::Packer,
        weight: 20,
        fix: "do not pack with UPX or a protector: antivirus engines flag packed files far more often, and packing saves download size only",
    },
    EvidenceKind {
        id: EvidenceId::HighEntropy,
        weight: 10,
        fix: "ship code uncompressed; keep compressed payloads in separate signed files rather than inside the executable",
    },
    EvidenceKind {
        id: EvidenceId::Overlay,
        weight: 5,
        fix: "put payloads in a resource or a separate file; installers that need an overlay should be signed after it is appended",
    },
    EvidenceKind {
        id: EvidenceId::NoManifest,
        weight: 5,
        fix: "embed a manifest with <requestedExecutionLevel level=\"asInvoker\" uiAccess=\"false\"/>",
    },
    EvidenceKind {
        id: EvidenceId::InstallerDetection,
        weight: 10,
        fix: "embed a manifest with requestedExecutionLevel (asInvoker unless it must elevate), or build for 64-bit",
    },
    EvidenceKind {
        id: EvidenceId::UiAccess,
        weight: 5,
        fix: "set uiAccess=\"false\" unless this is an accessibility tool installed under Program Files",
    },
    EvidenceKind {
        id: EvidenceId::NoIcon,
        weight: 3,
        fix: "add an application icon resource",
    },
    EvidenceKind {
        id: EvidenceId::BadChecksum,
        weight: 2,
        fix: "set OptionalHeader.CheckSum before signing: link with /RELEASE (MSVC link, lld-link); other linkers leave it zero and a post-link tool must write it",
    },
    EvidenceKind {
        id: EvidenceId::UnsignedCompanions,
        weight: 15,
        fix: "sign every PE file you ship (DLLs, updaters, helpers), not only the main executable",
    },
    EvidenceKind {
        id: EvidenceId::UnsignedInside,
        weight: 15,
        fix: "sign every PE file before packaging it: the installer's or archive's signature covers its own bytes, not the programs it unpacks",
    },
    EvidenceKind {
        id: EvidenceId::ResourceMalformed,
        weight: 5,
        fix: "rebuild the resources with a standard resource compiler (rc.exe, windres, llvm-rc) instead of patching them",
    },
    EvidenceKind {
        id: EvidenceId::MarkOfTheWeb,
        weight: 0,
        fix: "none: this is what SmartScreen sees on a downloaded copy",
    },
];

/// Per-toolchain fixes where the generic one would not tell a Go, Rust or Electron developer
/// what to type.
pub fn fix(id: EvidenceId, toolchain: Option<ToolchainName>) -> &'static str {
    use ToolchainName::{Go, Mingw, Msvc, Rust};
    match (id, toolchain) {
        (EvidenceId::NoVersionInfo, Some(Go)) => {
            "add a VERSIONINFO resource: go-winres (github.com/tc-hib/go-winres) or goversioninfo generates a .syso that go build links in"
        }
        (EvidenceId::NoVersionInfo, Some(Rust)) => {
            "add a VERSIONINFO resource from a build script: the winres or embed-resource crate compiles a .rc with CompanyName, ProductName, FileDescription, FileVersion, OriginalFilename"
        }
        (EvidenceId::NoVersionInfo, Some(Mingw)) => {
            "add a VERSIONINFO block to a .rc file, compile it with windres and link the object"
        }
        (EvidenceId::NoVersionInfo, Some(Msvc)) => {
            "add a VERSIONINFO block to the project's .rc file (Visual Studio: Add > Resource > Version)"
        }
        (EvidenceId::NoManifest, Some(Go)) => {
            "embed a manifest with go-winres or rsrc (a .syso with requestedExecutionLevel asInvoker)"
        }
        (EvidenceId::NoManifest, Some(Rust)) => {
            "embed a manifest with the embed-manifest or winres crate (requestedExecutionLevel asInvoker)"
        }
        (EvidenceId::NoManifest, Some(Msvc)) => {
            "link with /MANIFEST:EMBED /MANIFESTUAC:\"level='asInvoker' uiAccess='false'\""
        }
        (EvidenceId::BadChecksum, Some(Msvc)) => {
            "link with /RELEASE so the linker writes the checksum"
        }
        _ => kind(id).map_or("", |k| k.fix),
    }
}

pub fn kind(id: EvidenceId) -> Option<&'static EvidenceKind> {
    EVIDENCE.iter().find(|k| k.id == id)
}

/// The table's weight for `id` (every id has one; a test keeps [`EVIDENCE`] complete).
pub fn default_weight(id: EvidenceId) -> u32 {
    kind(id).map_or(0, |k| k.weight)
}

/// The level of an estimate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RiskLevel {
    Low,
    Medium,
    High,
}

impl RiskLevel {
    pub fn as_str(self) -> &'static str {
        match self {
            RiskLevel::Low => "low",
            RiskLevel::Medium => "medium",
            RiskLevel::High => "high",
        }
    }

    pub fn parse(s: &str) -> Option<RiskLevel> {
        Some(match s {
            "low" => RiskLevel::Low,
            "medium" => RiskLevel::Medium,
            "high" => RiskLevel::High,
            _ => return None,
        })
    }
}

/// Score at which an estimate becomes `medium` by default: one piece of evidence a user sees
/// (no timestamp, a packer) on an otherwise validly signed file.
pub const DEFAULT_MEDIUM: u32 = 15;
/// Score at which it becomes `high` by default: an untrusted (35) or missing (40) signature alone.
pub const DEFAULT_HIGH: u32 = 35;

/// The weights and thresholds in force: the defaults with a policy's `[risk]` overrides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Weights {
    overrides: BTreeMap<EvidenceId, u32>,
    pub medium: u32,
    pub high: u32,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            overrides: BTreeMap::new(),
            medium: DEFAULT_MEDIUM,
            high: DEFAULT_HIGH,
        }
    }
}

impl Weights {
    /// Overrides by evidence id.
    pub fn with_overrides(
        overrides: BTreeMap<EvidenceId, u32>,
        medium: Option<u32>,
        high: Option<u32>,
    ) -> Weights {
        Weights {
            overrides,
            medium: medium.unwrap_or(DEFAULT_MEDIUM),
            high: high.unwrap_or(DEFAULT_HIGH),
        }
    }

    /// Folds a policy's `[risk]` section into inherited weights: its weights replace the
    /// inherited ones id by id, its thresholds replace the inherited thresholds.
    pub fn merge(&mut self, weights: &[(EvidenceId, u32)], medium: Option<u32>, high: Option<u32>) {
        for (id, w) in weights {
            self.overrides.insert(*id, *w);
        }
        self.medium = medium.unwrap_or(self.medium);
        self.high = high.unwrap_or(self.high);
    }

    /// The overridden weights, by id.
    pub fn overrides(&self) -> &BTreeMap<EvidenceId, u32> {
        &self.overrides
    }

    /// The weight of `id`; `default` is the table's value or a graded one (weak-key, no-timestamp
    /// and bad-checksum vary with the case), replaced wholesale by an override.
    pub fn weight(&self, id: EvidenceId, default: u32) -> u32 {
        self.overrides.get(&id).copied().unwrap_or(default)
    }

    pub fn level(&self, score: u32) -> RiskLevel {
        if score >= self.high {
            RiskLevel::High
        } else if score >= self.medium {
            RiskLevel::Medium
        } else {
            RiskLevel::Low
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_has_every_id_once_in_declaration_order() {
        let table: Vec<EvidenceId> = EVIDENCE.iter().map(|k| k.id).collect();
        assert_eq!(table, EvidenceId::ALL);
    }
}
