//! The Authenticode image hash over bingate's own [`SigningLayout`] (goblin stays behind the
//! facts): which bytes are covered is decided by [`covered_ranges`].

use std::ops::Range;

use digest::Digest;

use crate::hash::DigestAlg;
use crate::pe::SigningLayout;

/// Why an image hash could not be computed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImageHashError {
    /// MD5 is never accepted.
    Unsupported(&'static str),
    /// A header field's range (CheckSum, the security directory entry) lies outside the file.
    FieldOutside { field: &'static str, offset: u64 },
    /// The certificate table the security directory declares lies outside the file.
    TableOutside {
        offset: u64,
        size: u64,
        file_len: u64,
    },
    /// The certificate table overlaps the headers or a section's raw data: those bytes would be
    /// both signed and the signature.
    TableOverlapsImage {
        offset: u64,
        size: u64,
        image_end: u64,
    },
}

impl std::fmt::Display for ImageHashError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ImageHashError::Unsupported(a) => write!(f, "{a} image hashes are not accepted"),
            ImageHashError::FieldOutside { field, offset } => {
                write!(f, "the {field} at offset {offset:#x} lies outside the file")
            }
            ImageHashError::TableOutside {
                offset,
                size,
                file_len,
            } => write!(
                f,
                "the certificate table ({size} bytes at {offset:#x}) runs past the end of the \
                 file ({file_len} bytes)"
            ),
            ImageHashError::TableOverlapsImage {
                offset,
                size,
                image_end,
            } => write!(
                f,
                "the certificate table ({size} bytes at {offset:#x}) overlaps the headers or \
                 section data, which end at {image_end:#x}"
            ),
        }
    }
}

/// The byte ranges of `data` the Authenticode image hash covers, in file order: every byte of
/// the file except the OptionalHeader CheckSum (4 bytes), the security directory entry (8 bytes)
/// and the certificate table the directory declares (docs/authenticode.md, "The image hash").
///
/// That is the file order osslsigncode, signify and relic hash (and what Windows hashes on every
/// real file tested): bytes between SizeOfHeaders and the first section, between sections, and
/// after the last section (an overlay, or data after the certificate table) are covered, so a
/// change to any of them fails the signature. The Authenticode specification's section-by-section
/// description skips gap bytes; hashing that way would let them change undetected.
pub fn covered_ranges(
    data: &[u8],
    layout: &SigningLayout,
) -> Result<Vec<Range<usize>>, ImageHashError> {
    let len = data.len() as u64;
    let field = |field: &'static str, offset: u64, size: u64| {
        offset
            .checked_add(size)
            .filter(|end| *end <= len)
            .map(|end| (offset, end))
            .ok_or(ImageHashError::FieldOutside { field, offset })
    };
    let mut excluded = vec![
        field("CheckSum field", layout.checksum_offset, 4)?,
        field("security directory entry", layout.security_dir_offset, 8)?,
    ];
    if let Some((offset, size)) = layout.certificate_table.filter(|(_, size)| *size != 0) {
        let end = offset.checked_add(size).filter(|end| *end <= len).ok_or(
            ImageHashError::TableOutside {
                offset,
                size,
                file_len: len,
            },
        )?;
        let image_end = layout
            .sections
            .iter()
            .filter(|(_, raw)| *raw != 0)
            .map(|(ptr, raw)| ptr.saturating_add(*raw))
            .chain(std::iter::once(layout.size_of_headers))
            .max()
            .unwrap_or(0);
        if offset < image_end {
            return Err(ImageHashError::TableOverlapsImage {
                offset,
                size,
                image_end,
            });
        }
        excluded.push((offset, end));
    }
    excluded.sort_unstable();
    let mut out = Vec::with_capacity(excluded.len().saturating_add(1));
    let mut at = 0u64;
    for (start, end) in excluded {
        if start > at {
            out.push(us(at)?..us(start)?);
        }
        at = at.max(end);
    }
    if at < len {
        out.push(us(at)?..us(len)?);
    }
    Ok(out)
}

fn us(v: u64) -> Result<usize, ImageHashError> {
    usize::try_from(v).map_err(|_| ImageHashError::FieldOutside {
        field: "offset",
        offset: v,
    })
}

/// The image hash of `data` with `alg` over [`covered_ranges`].
pub fn image_digest(
    data: &[u8],
    layout: &SigningLayout,
    alg: DigestAlg,
) -> Result<Vec<u8>, ImageHashError> {
    let ranges = covered_ranges(data, layout)?;
    fn run<D: Digest>(data: &[u8], ranges: &[Range<usize>]) -> Vec<u8> {
        let mut d = D::new();
        for r in ranges {
            if let Some(bytes) = data.get(r.clone()) {
                crate::hash::feed(bytes, |step| d.update(step));
            }
        }
        d.finalize().to_vec()
    }
    Ok(match alg {
        DigestAlg::Md5 => return Err(ImageHashError::Unsupported("MD5")),
        DigestAlg::Sha1 => run::<sha1::Sha1>(data, &ranges),
        DigestAlg::Sha256 => run::<sha2::Sha256>(data, &ranges),
        DigestAlg::Sha384 => run::<sha2::Sha384>(data, &ranges),
        DigestAlg::Sha512 => run::<sha2::Sha512>(data, &ranges),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    fn layout(table: Option<(u64, u64)>, sections: Vec<(u64, u64)>) -> SigningLayout {
        SigningLayout {
            checksum_offset: 0x58,
            security_dir_offset: 0x98,
            size_of_headers: 0x200,
            certificate_table: table,
            sections,
        }
    }

    #[test]
    fn every_byte_but_checksum_directory_and_table_is_covered() {
        let data = vec![0u8; 0x1000];
        // Headers to 0x200, a gap to 0x400, sections 0x400..0x600 and 0x800..0xc00 (gap
        // between), table at 0xc00..0xe00, then 0x200 bytes after the table.
        let l = layout(Some((0xc00, 0x200)), vec![(0x400, 0x200), (0x800, 0x400)]);
        let r = covered_ranges(&data, &l).unwrap();
        assert_eq!(r, vec![0..0x58, 0x5c..0x98, 0xa0..0xc00, 0xe00..0x1000]);
        // No table: everything but the two fields.
        let r = covered_ranges(&data, &layout(None, vec![(0x400, 0x200)])).unwrap();
        assert_eq!(r, vec![0..0x58, 0x5c..0x98, 0xa0..0x1000]);
    }

    #[test]
    fn a_changed_gap_byte_changes_the_hash() {
        let mut data: Vec<u8> = (0..0x1000u32).map(|i| i as u8).collect();
        let l = layout(Some((0xe00, 0x200)), vec![(0x400, 0x200), (0x800, 0x400)]);
        let before = image_digest(&data, &l, DigestAlg::Sha256).unwrap();
        for at in [0x300usize, 0x700, 0xd00] {
            let mut d = data.clone();
            d[at] ^= 1;
            assert_ne!(
                image_digest(&d, &l, DigestAlg::Sha256).unwrap(),
                before,
                "{at:#x}"
            );
        }
        // The excluded ranges are not covered.
        for at in [0x58usize, 0x9f, 0xe00, 0xfff] {
            data[at] ^= 0xff;
        }
        assert_eq!(image_digest(&data, &l, DigestAlg::Sha256).unwrap(), before);
    }

    #[test]
    fn a_table_outside_the_file_or_over_the_image_is_refused() {
        let data = vec![0u8; 0x1000];
        let over = layout(Some((0x500, 0x100)), vec![(0x400, 0x400)]);
        assert!(matches!(
            covered_ranges(&data, &over),
            Err(ImageHashError::TableOverlapsImage {
                offset: 0x500,
                image_end: 0x800,
                ..
            })
        ));
        let headers = layout(Some((0x100, 0x100)), vec![]);
        assert!(covered_ranges(&data, &headers).is_err());
        let past = layout(Some((0xf00, 0x200)), vec![(0x400, 0x200)]);
        assert!(matches!(
            covered_ranges(&data, &past),
            Err(ImageHashError::TableOutside { .. })
        ));
        let huge = layout(Some((u64::MAX - 1, 4)), vec![]);
        assert!(covered_ranges(&data, &huge).is_err());
        let mut bad_field = layout(None, vec![]);
        bad_field.checksum_offset = 0xffe;
        assert!(covered_ranges(&data, &bad_field).is_err());
        assert!(image_digest(&data, &layout(None, vec![]), DigestAlg::Md5).is_err());
    }
}
