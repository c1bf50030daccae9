//! The Authenticode image hash, computed by the authenticode crate over a view of the file that
//! implements its `PeTrait` from bingate's own [`SigningLayout`] (goblin stays behind the facts).

use std::ops::Range;

use authenticode::{PeOffsetError, PeOffsets, PeTrait};
use digest::Digest;

use crate::pe::SigningLayout;

/// Digest algorithms an Authenticode signature may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DigestAlg {
    Md5,
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl DigestAlg {
    pub fn from_oid(oid: &str) -> Option<DigestAlg> {
        Some(match oid {
            "1.2.840.113549.2.5" => DigestAlg::Md5,
            "1.3.14.3.2.26" => DigestAlg::Sha1,
            "2.16.840.1.101.3.4.2.1" => DigestAlg::Sha256,
            "2.16.840.1.101.3.4.2.2" => DigestAlg::Sha384,
            "2.16.840.1.101.3.4.2.3" => DigestAlg::Sha512,
            _ => return None,
        })
    }

    /// The inverse of [`DigestAlg::name`].
    pub fn from_oid_name(name: &str) -> Option<DigestAlg> {
        Some(match name {
            "md5" => DigestAlg::Md5,
            "sha1" => DigestAlg::Sha1,
            "sha256" => DigestAlg::Sha256,
            "sha384" => DigestAlg::Sha384,
            "sha512" => DigestAlg::Sha512,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            DigestAlg::Md5 => "md5",
            DigestAlg::Sha1 => "sha1",
            DigestAlg::Sha256 => "sha256",
            DigestAlg::Sha384 => "sha384",
            DigestAlg::Sha512 => "sha512",
        }
    }
}

struct View<'a> {
    data: &'a [u8],
    layout: &'a SigningLayout,
}

fn us(v: u64) -> Result<usize, PeOffsetError> {
    usize::try_from(v).map_err(|_| PeOffsetError)
}

impl PeTrait for View<'_> {
    fn data(&self) -> &[u8] {
        self.data
    }

    fn num_sections(&self) -> usize {
        self.layout.sections.len()
    }

    fn section_data_range(&self, index: usize) -> Result<Range<usize>, PeOffsetError> {
        let (ptr, size) = *self
            .layout
            .sections
            .get(index.checked_sub(1).ok_or(PeOffsetError)?)
            .ok_or(PeOffsetError)?;
        let start = us(ptr)?;
        Ok(start..start.checked_add(us(size)?).ok_or(PeOffsetError)?)
    }

    fn certificate_table_range(&self) -> Result<Option<Range<usize>>, PeOffsetError> {
        match self.layout.certificate_table {
            Some((off, size)) if size != 0 => {
                let start = us(off)?;
                Ok(Some(
                    start..start.checked_add(us(size)?).ok_or(PeOffsetError)?,
                ))
            }
            _ => Ok(None),
        }
    }

    fn offsets(&self) -> Result<PeOffsets, PeOffsetError> {
        let check_sum = us(self.layout.checksum_offset)?;
        let security_data_dir = us(self.layout.security_dir_offset)?;
        Ok(PeOffsets {
            check_sum,
            after_check_sum: check_sum.checked_add(4).ok_or(PeOffsetError)?,
            security_data_dir,
            after_security_data_dir: security_data_dir.checked_add(8).ok_or(PeOffsetError)?,
            after_header: us(self.layout.size_of_headers)?,
        })
    }
}

/// The image hash of `data` with `alg`, or `None` when the layout's offsets do not fit the file.
pub fn image_digest(data: &[u8], layout: &SigningLayout, alg: DigestAlg) -> Option<Vec<u8>> {
    let view = View { data, layout };
    fn run<D: Digest + digest::Update>(view: &View<'_>) -> Option<Vec<u8>> {
        let mut d = D::new();
        let ok = crate::guard::contain("Authenticode image hash", None, || {
            authenticode::authenticode_digest(view, &mut d)
        })
        .ok()?
        .is_ok();
        ok.then(|| d.finalize().to_vec())
    }
    match alg {
        DigestAlg::Md5 => None,
        DigestAlg::Sha1 => run::<sha1::Sha1>(&view),
        DigestAlg::Sha256 => run::<sha2::Sha256>(&view),
        DigestAlg::Sha384 => run::<sha2::Sha384>(&view),
        DigestAlg::Sha512 => run::<sha2::Sha512>(&view),
    }
}
