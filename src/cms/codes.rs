//! The ids a signature verdict reports: reason codes (why a signature is not valid, or why its
//! timestamp is ignored) and anomaly ids (what is odd about a signed file without necessarily
//! invalidating it). docs/report-schema.md lists both (a test keeps it equal to these enums).

use crate::ids::id_enum;

id_enum! {
    /// Why a signature is not valid, or why its timestamp does not count (`reasons[].code`).
    pub enum ReasonCode {
        DigestMismatch = "digest-mismatch": "the file's hash differs from the signed one (or cannot be computed)",
        AlgorithmMismatch = "algorithm-mismatch": "the SignerInfo and the signed content name different digest algorithms",
        BadSignature = "bad-signature": "the signer's signature (or the messageDigest attribute) does not verify",
        NoSignerCertificate = "no-signer-certificate": "no certificate in the signature matches the signer",
        UntrustedRoot = "untrusted-root": "the signer's chain does not reach a trusted code-signing anchor (untrusted)",
        Expired = "expired": "a certificate in the chain is expired or not yet valid at the decisive time",
        WrongCertificateType = "wrong-certificate-type": "a certificate in the chain lacks the code-signing EKU or the key usage it needs",
        BadChain = "bad-chain": "the chain cannot be built or verified for another reason",
        Revoked = "revoked": "a --crl file revokes a certificate in the chain (not saved by an earlier valid timestamp)",
        PageHashMismatch = "page-hash-mismatch": "a page hash does not match the file",
        MalformedSignature = "malformed-signature": "the signature cannot be parsed",
        Sha1Certificate = "sha1-certificate": "Windows' SHA-1 rule: a SHA-1 code-signing certificate on a Trusted Root Program chain, signature made from 2016 (untrusted)",
        TimestampInvalid = "timestamp-invalid": "the timestamp does not verify; it is ignored",
        TimestampUntrusted = "timestamp-untrusted": "the TSA's chain does not reach a time-stamping anchor; the timestamp is ignored",
        TimestampOutsideValidity = "timestamp-outside-validity": "the stamped time is outside the signer's validity; the timestamp is ignored",
        TimestampRevoked = "timestamp-revoked": "a --crl file revokes the TSA before the stamped time; the timestamp is ignored",
        Sha1Timestamp = "sha1-timestamp": "Windows' SHA-1 rule: a SHA-1 timestamp after 2017-02-14 on a Trusted Root Program chain counts as none",
        TimestampUnreadable = "timestamp-unreadable": "an ELF signature's timestamp cannot be read; it is ignored",
        ModifiedAfterSigning = "modified-after-signing": "an ELF file differs from its signed manifest (`changes` names what)",
        SignaturePadding = "signature-padding": "non-zero bytes after the CMS structure in .bingate.sig, not covered by the signature",
        SignatureSectionAllocated = "signature-section-allocated": ".bingate.sig is SHF_ALLOC: it would be loaded",
        SignerUnknown = "signer-unknown": "no --cert matches a module signature's signer (untrusted, with signer_id)",
        SignedAttributes = "signed-attributes": "a module signature carries signed attributes, which the kernel rejects",
        UnsupportedDigest = "unsupported-digest": "a module signature names a digest algorithm bingate does not support",
    }
}

impl ReasonCode {
    /// The signed bytes or the signature itself are wrong (as opposed to who signed and when): a
    /// primary failing one of these is never overruled by a nested signature.
    pub fn is_integrity(self) -> bool {
        matches!(
            self,
            ReasonCode::DigestMismatch
                | ReasonCode::AlgorithmMismatch
                | ReasonCode::BadSignature
                | ReasonCode::PageHashMismatch
                | ReasonCode::MalformedSignature
                | ReasonCode::NoSignerCertificate
        )
    }

    /// The `timestamp-…` codes: the timestamp itself failed and is ignored. `sha1-timestamp`
    /// (Windows' SHA-1 rule) is not one of them.
    pub fn is_timestamp(self) -> bool {
        matches!(
            self,
            ReasonCode::TimestampInvalid
                | ReasonCode::TimestampUntrusted
                | ReasonCode::TimestampOutsideValidity
                | ReasonCode::TimestampRevoked
                | ReasonCode::TimestampUnreadable
        )
    }
}

id_enum! {
    /// What is odd about a signed file (`anomalies[].id`); any anomaly fails `--strict`.
    pub enum AnomalyId {
        Padding = "padding": "bytes inside a WIN_CERTIFICATE after the signature beyond 8-byte alignment, or non-zero (CVE-2013-3900)",
        TrailingData = "trailing-data": "file data after the certificate table, not covered by the signature",
        MultipleEntries = "multiple-entries": "more than one WIN_CERTIFICATE entry (Windows reads the first)",
        UnsupportedEntry = "unsupported-entry": "an entry whose revision or type is not a PKCS#7 Authenticode signature",
        TableSlack = "table-slack": "bytes at the end of the certificate table too short to be an entry",
        Sha1Only = "sha1-only": "no readable signature uses SHA-256 or better",
        WeakKey = "weak-key": "an RSA signer key below 2048 bits",
        UnauthenticatedAttribute = "unauthenticated-attribute": "an unsigned attribute that is neither a timestamp nor a nested signature",
        BadChecksum = "bad-checksum": "the stored PE checksum is set and wrong",
    }
}

id_enum! {
    /// The signature format a verdict found (`signature.format`).
    pub enum SignatureFormat {
        Authenticode = "authenticode": "an Authenticode signature in a PE certificate table",
        ElfSection = "elf-section": "bingate's ELF signature section, .bingate.sig",
        KernelModule = "kernel-module": "a signature appended to a Linux kernel module",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_codes_are_the_timestamp_prefixed_ones() {
        for c in ReasonCode::ALL {
            assert_eq!(
                c.is_timestamp(),
                c.as_str().starts_with("timestamp-"),
                "{c}"
            );
        }
    }

    #[test]
    fn ids_parse_back() {
        for c in ReasonCode::ALL {
            assert_eq!(ReasonCode::parse(c.as_str()), Some(*c));
        }
        for a in AnomalyId::ALL {
            assert_eq!(AnomalyId::parse(a.as_str()), Some(*a));
        }
    }
}
