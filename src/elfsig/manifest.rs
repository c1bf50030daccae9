//! The signed manifest of a `.bingate.sig` signature: UTF-8 text, one item per line.
//!
//! ```text
//! bingate-elf-signature 1
//! digest sha256
//! file <hex digest of the whole file, signature section contents read as zeros>
//! section <name> <offset> <size> <hex digest of the section's bytes>
//! ...
//! ```
//!
//! Sections are listed in section-header order, each one with file contents (not SHT_NOBITS,
//! not empty), the signature section itself included (its digest is that of zeros). Offsets
//! and sizes are decimal. Names are written as they are, so a name with a space, a newline or
//! bytes that are not UTF-8 cannot be signed (refused when signing).

pub use crate::budget::MAX_MANIFEST_LEN;
use crate::hash::DigestAlg;
use crate::read::hex;

pub const HEADER: &str = "bingate-elf-signature 1";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub offset: u64,
    pub size: u64,
    pub digest: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    pub digest: DigestAlg,
    pub file: Vec<u8>,
    pub sections: Vec<Entry>,
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 || !s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i.checked_add(2)?)?, 16).ok())
        .collect()
}

/// A section name the manifest can carry unambiguously.
pub fn name_is_writable(name: &str) -> bool {
    !name.is_empty()
        && !name
            .bytes()
            .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
}

/// The number of decimal digits of `n` (as [`Manifest::render`] writes it: no leading zeros).
fn decimal_len(n: u64) -> usize {
    n.checked_ilog10()
        .map_or(1, |l| usize::try_from(l).unwrap_or(0).saturating_add(1))
}

/// The length of the text [`Manifest::render`] writes for a manifest of `alg` digests over
/// `sections` (name, offset, size): known before any digest is, since every digest of one
/// algorithm is as long. `None` for MD5, which a manifest never uses.
pub fn rendered_len<'a>(
    alg: DigestAlg,
    sections: impl IntoIterator<Item = (&'a str, u64, u64)>,
) -> Option<usize> {
    let hex_len = crate::hash::digest(alg, b"")?.len().checked_mul(2)?;
    // "{HEADER}\n" "digest {name}\n" "file {hex}\n"
    let mut len = HEADER
        .len()
        .checked_add("\ndigest ".len())?
        .checked_add(alg.name().len())?
        .checked_add("\nfile ".len())?
        .checked_add(hex_len)?
        .checked_add(1)?;
    for (name, offset, size) in sections {
        // "section {name} {offset} {size} {hex}\n"
        len = len
            .checked_add("section ".len())?
            .checked_add(name.len())?
            .checked_add(1)?
            .checked_add(decimal_len(offset))?
            .checked_add(1)?
            .checked_add(decimal_len(size))?
            .checked_add(1)?
            .checked_add(hex_len)?
            .checked_add(1)?;
    }
    Some(len)
}

impl Manifest {
    pub fn render(&self) -> String {
        let mut s = format!(
            "{HEADER}\ndigest {}\nfile {}\n",
            self.digest.name(),
            hex(&self.file)
        );
        for e in &self.sections {
            s.push_str(&format!(
                "section {} {} {} {}\n",
                e.name,
                e.offset,
                e.size,
                hex(&e.digest)
            ));
        }
        s
    }

    /// Parses a manifest strictly: the exact header, known digest, one `file` line, well-formed
    /// `section` lines, a final newline, nothing else.
    pub fn parse(text: &[u8]) -> Result<Manifest, String> {
        if text.len() > MAX_MANIFEST_LEN {
            return Err(format!(
                "manifest of {} bytes exceeds the {MAX_MANIFEST_LEN}-byte budget",
                text.len()
            ));
        }
        let text = std::str::from_utf8(text).map_err(|e| format!("manifest is not UTF-8: {e}"))?;
        let body = text
            .strip_suffix('\n')
            .ok_or("manifest does not end with a newline")?;
        let mut lines = body.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(format!("manifest does not start with {HEADER:?}"));
        }
        let alg_line = lines.next().ok_or("manifest has no digest line")?;
        let alg = alg_line
            .strip_prefix("digest ")
            .and_then(DigestAlg::from_oid_name)
            .filter(|a| matches!(a, DigestAlg::Sha256 | DigestAlg::Sha384 | DigestAlg::Sha512))
            .ok_or_else(|| {
                format!("manifest digest line {alg_line:?} names no supported digest")
            })?;
        let want = crate::hash::digest(alg, b"").map(|d| d.len()).unwrap_or(0);
        let file_line = lines.next().ok_or("manifest has no file line")?;
        let file = file_line
            .strip_prefix("file ")
            .and_then(unhex)
            .filter(|d| d.len() == want)
            .ok_or_else(|| {
                format!(
                    "manifest file line {file_line:?} is not a {} digest",
                    alg.name()
                )
            })?;
        let mut sections = Vec::new();
        for (i, line) in lines.enumerate() {
            let bad = || {
                format!(
                    "manifest line {}: {line:?} is not `section <name> <offset> <size> <digest>`",
                    i.saturating_add(4)
                )
            };
            let mut f = line.split(' ');
            if f.next() != Some("section") {
                return Err(bad());
            }
            let (Some(name), Some(off), Some(size), Some(d), None) =
                (f.next(), f.next(), f.next(), f.next(), f.next())
            else {
                return Err(bad());
            };
            let digest = unhex(d).filter(|d| d.len() == want).ok_or_else(bad)?;
            let canonical = |s: &str| s == "0" || !s.starts_with('0');
            if !name_is_writable(name) || !canonical(off) || !canonical(size) {
                return Err(bad());
            }
            sections.push(Entry {
                name: name.to_owned(),
                offset: off.parse().map_err(|_| bad())?,
                size: size.parse().map_err(|_| bad())?,
                digest,
            });
        }
        Ok(Manifest {
            digest: alg,
            file,
            sections,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn rendered_len_is_the_length_of_the_rendered_text() {
        let numbers = [0, 1, 9, 10, 99, 100, 4095, 4096, 1 << 32, u64::MAX];
        for alg in [DigestAlg::Sha256, DigestAlg::Sha384, DigestAlg::Sha512] {
            let zero = crate::hash::digest(alg, b"").unwrap();
            for count in [0usize, 1, 3, 10] {
                let m = Manifest {
                    digest: alg,
                    file: zero.clone(),
                    sections: (0..count)
                        .map(|i| Entry {
                            name: format!(".s{i}"),
                            offset: numbers[i % numbers.len()],
                            size: numbers[(i * 7 + 3) % numbers.len()],
                            digest: zero.clone(),
                        })
                        .collect(),
                };
                let want = m.render().len();
                let got = rendered_len(
                    alg,
                    m.sections
                        .iter()
                        .map(|e| (e.name.as_str(), e.offset, e.size)),
                );
                assert_eq!(got, Some(want), "{alg:?} with {count} sections");
            }
        }
        assert_eq!(rendered_len(DigestAlg::Md5, []), None);
    }

    #[test]
    fn manifest_round_trips_and_rejects_variants() {
        let m = Manifest {
            digest: DigestAlg::Sha256,
            file: vec![1; 32],
            sections: vec![Entry {
                name: ".text".into(),
                offset: 4096,
                size: 10,
                digest: vec![2; 32],
            }],
        };
        let text = m.render();
        assert_eq!(Manifest::parse(text.as_bytes()).unwrap(), m);
        for bad in [
            text.trim_end().to_owned(),
            text.replace("sha256", "md5"),
            text.replace(" 4096 ", " 04096 "),
            text.replace(".text", ".te xt"),
            format!("{text}extra\n"),
            text.replace("file 01", "file 1"),
        ] {
            assert!(Manifest::parse(bad.as_bytes()).is_err(), "{bad}");
        }
    }
}
