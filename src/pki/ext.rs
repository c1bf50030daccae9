//! Certificate extensions bingate reads itself.
//!
//! The extended key usage is read here rather than with `x509_cert`'s `ExtendedKeyUsage`
//! because `const-oid` 0.9 refuses arcs above 2^28, and Azure Artifact Signing certificates carry
//! an identity EKU such as `1.3.6.1.4.1.311.97.368317130.201670760.425010060.754072028`. A decode
//! failure must not read as "no EKU" (which would allow every purpose): an EKU that cannot be read
//! is [`Eku::Malformed`] and allows none.

use crate::budget::MAX_ARC_DIGITS;
use der::asn1::AnyRef;
use der::{Decode, Reader, SliceReader, Tag, Tagged};
use x509_cert::Certificate;

pub const OID_EKU: &str = "2.5.29.37";

/// The DER value of the extension `oid` of `c`, if present.
pub fn extension<'a>(c: &'a Certificate, oid: &str) -> Option<&'a [u8]> {
    c.tbs_certificate
        .extensions
        .as_ref()?
        .iter()
        .find(|e| e.extn_id.to_string() == oid)
        .map(|e| e.extn_value.as_bytes())
}

/// The key identifier of `c`'s subjectKeyIdentifier extension, if it has a readable one.
pub fn subject_key_id(c: &Certificate) -> Option<Vec<u8>> {
    let ext = extension(c, "2.5.29.14")?;
    let skid = x509_cert::ext::pkix::SubjectKeyIdentifier::from_der(ext).ok()?;
    Some(skid.0.as_bytes().to_vec())
}

/// The extended key usage of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Eku {
    /// No EKU extension: every purpose is allowed.
    Absent,
    /// Present but unreadable: no purpose is allowed.
    Malformed,
    /// The purposes, as dotted OIDs.
    Oids(Vec<String>),
}

impl Eku {
    /// The listed OIDs (empty for an absent or malformed extension).
    pub fn oids(&self) -> &[String] {
        match self {
            Eku::Oids(v) => v,
            _ => &[],
        }
    }
}

pub fn eku(c: &Certificate) -> Eku {
    match extension(c, OID_EKU) {
        None => Eku::Absent,
        Some(der) => oid_sequence(der).map_or(Eku::Malformed, Eku::Oids),
    }
}

/// `SEQUENCE OF OBJECT IDENTIFIER` as dotted strings.
fn oid_sequence(der: &[u8]) -> Option<Vec<String>> {
    let seq = AnyRef::from_der(der).ok()?;
    if seq.tag() != Tag::Sequence {
        return None;
    }
    let mut r = SliceReader::new(seq.value()).ok()?;
    let mut out = Vec::new();
    while !r.is_finished() {
        let item = AnyRef::decode(&mut r).ok()?;
        if item.tag() != Tag::ObjectIdentifier {
            return None;
        }
        out.push(oid_to_string(item.value())?);
    }
    (!out.is_empty()).then_some(out)
}

/// The dotted form of an OBJECT IDENTIFIER's content octets, with arcs of any size up to 126 bits.
pub fn oid_to_string(content: &[u8]) -> Option<String> {
    let mut arcs: Vec<u128> = Vec::new();
    let mut value: u128 = 0;
    let mut digits: u32 = 0;
    for &b in content {
        if digits == 0 && b == 0x80 {
            return None; // non-minimal encoding
        }
        value = value.checked_mul(128)?.checked_add(u128::from(b & 0x7f))?;
        digits = digits.checked_add(1)?;
        if digits > MAX_ARC_DIGITS {
            return None;
        }
        if b & 0x80 == 0 {
            arcs.push(value);
            value = 0;
            digits = 0;
        }
    }
    if digits != 0 {
        return None; // truncated arc
    }
    let (&first, rest) = arcs.split_first()?;
    let (a, b) = match first {
        0..=39 => (0, first),
        40..=79 => (1, first.checked_sub(40)?),
        _ => (2, first.checked_sub(80)?),
    };
    let mut s = format!("{a}.{b}");
    for arc in rest {
        s.push('.');
        s.push_str(&arc.to_string());
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_with_huge_arcs() {
        // 1.3.6.1.5.5.7.3.3 (code signing).
        assert_eq!(
            oid_to_string(&[0x2b, 6, 1, 5, 5, 7, 3, 3]).as_deref(),
            Some("1.3.6.1.5.5.7.3.3")
        );
        // The Artifact Signing identity EKU of node.exe (arcs above 2^28).
        let der = [
            0x2b, 0x06, 0x01, 0x04, 0x01, 0x82, 0x37, 0x61, 0x81, 0xaf, 0xd0, 0xa5, 0x4a, 0xe0,
            0x95, 0x80, 0x68, 0x81, 0xca, 0xd4, 0xc7, 0x0c, 0x82, 0xe7, 0xc8, 0xf3, 0x5c,
        ];
        assert_eq!(
            oid_to_string(&der).as_deref(),
            Some("1.3.6.1.4.1.311.97.368317130.201670760.425010060.754072028")
        );
        // 2.999 (first arc above 79).
        assert_eq!(oid_to_string(&[0x88, 0x37]).as_deref(), Some("2.999"));
        // Truncated, non-minimal, empty.
        assert_eq!(oid_to_string(&[0x2b, 0x81]), None);
        assert_eq!(oid_to_string(&[0x2b, 0x80, 0x01]), None);
        assert_eq!(oid_to_string(&[]), None);
        assert_eq!(oid_to_string(&[0xff; 40]), None);
    }

    #[test]
    fn eku_sequences() {
        assert_eq!(
            oid_sequence(&[0x30, 0x0a, 0x06, 0x08, 0x2b, 6, 1, 5, 5, 7, 3, 3]),
            Some(vec!["1.3.6.1.5.5.7.3.3".to_owned()])
        );
        // Not a sequence, an element that is not an OID, an empty sequence.
        assert_eq!(oid_sequence(&[0x31, 0x00]), None);
        assert_eq!(oid_sequence(&[0x30, 0x03, 0x02, 0x01, 0x01]), None);
        assert_eq!(oid_sequence(&[0x30, 0x00]), None);
    }
}
