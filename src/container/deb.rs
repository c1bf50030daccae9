//! Debian packages: an ar archive holding `debian-binary`, `control.tar[.gz|.xz|.zst]` and
//! `data.tar[.gz|.xz|.zst|.bz2]` (deb(5)).
//!
//! The ar members are sliced from the bytes in memory (a 60-byte header before each, data
//! padded to an even length), so `data.tar.xz` is decompressed straight from the package without
//! a copy; that is also why the `ar` crate, which reads members through `io::Read`, is not used.
//! data.tar's regular files are visited with their names stripped of a leading `./`, and
//! control.tar's as `DEBIAN/<name>` (where `dpkg-deb -e` puts them). Unknown members are noted.

use super::tar::{TarRead, decoder, walk_entries};
use super::{Budget, Codec, Guarded, Kind, Summary, Visit, Walked};
use crate::error::Error;

/// The global ar header.
const AR_MAGIC: &[u8] = b"!<arch>\n";
/// Bytes of an ar member header.
const MEMBER_HEADER: usize = 60;

/// One ar member.
struct Member<'a> {
    name: String,
    offset: u64,
    data: &'a [u8],
}

/// The ar archive's members, in order; an error for a header that does not parse.
fn members(data: &[u8]) -> Result<Vec<Member<'_>>, Error> {
    if !data.starts_with(AR_MAGIC) {
        return Err(Error::parser("ar", "no `!<arch>` magic", Some(0)));
    }
    let mut out = Vec::new();
    let mut at = AR_MAGIC.len();
    while at < data.len() {
        let Some(header) = at
            .checked_add(MEMBER_HEADER)
            .and_then(|end| data.get(at..end))
        else {
            return Err(Error::truncated(
                "ar member header",
                at as u64,
                MEMBER_HEADER as u64,
                (data.len().saturating_sub(at)) as u64,
            ));
        };
        if header.get(58..60) != Some(b"`\n") {
            return Err(Error::parser(
                "ar member header",
                "bad end marker",
                Some(at as u64),
            ));
        }
        let name_field = String::from_utf8_lossy(header.get(..16).unwrap_or(&[]))
            .trim_end()
            .to_owned();
        // GNU ar ends names with `/`; dpkg's members are short names.
        let name = name_field
            .strip_suffix('/')
            .unwrap_or(&name_field)
            .to_owned();
        let size_text = String::from_utf8_lossy(header.get(48..58).unwrap_or(&[]))
            .trim()
            .to_owned();
        let size: usize = size_text.parse().map_err(|_| {
            Error::parser(
                "ar member size",
                format!("`{size_text}`"),
                Some((at as u64).saturating_add(48)),
            )
        })?;
        let start = at.saturating_add(MEMBER_HEADER);
        let Some(member) = start.checked_add(size).and_then(|end| data.get(start..end)) else {
            return Err(Error::truncated(
                "ar member",
                start as u64,
                size as u64,
                data.len().saturating_sub(start) as u64,
            ));
        };
        out.push(Member {
            name,
            offset: at as u64,
            data: member,
        });
        // Data is padded to an even length.
        at = start.saturating_add(size).saturating_add(size % 2);
    }
    Ok(out)
}

/// The compression of a `control.tar*` / `data.tar*` member by its suffix, or `None` for an
/// unknown suffix (`Some(None)` is a plain tar).
fn tar_codec(suffix: &str) -> Option<Option<Codec>> {
    match suffix {
        "" => Some(None),
        ".gz" => Some(Some(Codec::Gzip)),
        ".xz" => Some(Some(Codec::Xz)),
        ".zst" => Some(Some(Codec::Zstd)),
        ".bz2" => Some(Some(Codec::Bzip2)),
        _ => None,
    }
}

/// Walks a Debian package's control and data archives.
pub fn walk<T: Send>(data: &[u8], budget: &Budget, visit: &Visit<'_, T>) -> Walked<T> {
    Walked::collect(Kind::Deb, |summary, items| {
        walk_members(data, summary, items, budget, visit)
    })
}

fn walk_members<T>(
    data: &[u8],
    summary: &mut Summary,
    items: &mut Vec<T>,
    budget: &Budget,
    visit: &Visit<'_, T>,
) -> Result<(), Error> {
    let members = members(data)?;
    if members.first().map(|m| m.name.as_str()) != Some("debian-binary") {
        return Err(Error::parser(
            "deb",
            "the first member is not `debian-binary`",
            Some(AR_MAGIC.len() as u64),
        ));
    }
    let control = |n: &str| format!("DEBIAN/{}", n.strip_prefix("./").unwrap_or(n));
    let payload = |n: &str| n.strip_prefix("./").unwrap_or(n).to_owned();
    for member in members.iter().skip(1) {
        let (suffix, rename): (&str, &dyn Fn(&str) -> String) =
            if let Some(s) = member.name.strip_prefix("control.tar") {
                (s, &control)
            } else if let Some(s) = member.name.strip_prefix("data.tar") {
                (s, &payload)
            } else {
                summary.note(
                    "skipped-entry",
                    Some(&member.name),
                    "an ar member deb(5) does not define: not read",
                );
                continue;
            };
        let Some(codec) = tar_codec(suffix) else {
            summary.note(
                "skipped-entry",
                Some(&member.name),
                "a compression this reader does not know: not read",
            );
            continue;
        };
        let body_offset = member.offset.saturating_add(MEMBER_HEADER as u64);
        let offset_in = |mut e: Error| {
            // Offsets inside a compressed member are of the decompressed stream: report the member.
            e.offset = match (codec, e.offset) {
                (None, Some(o)) => Some(body_offset.saturating_add(o)),
                _ => Some(member.offset),
            };
            e
        };
        let result = match codec {
            None => {
                let how = TarRead {
                    stream_guarded: false,
                    stream_at_most: member.data.len() as u64,
                    rename,
                };
                walk_entries(member.data, &how, summary, items, budget, visit)
            }
            Some(codec) => {
                let how = TarRead {
                    stream_guarded: true,
                    stream_at_most: super::tar::stream_bound(member.data, budget),
                    rename,
                };
                let stream = Guarded::new(
                    decoder(member.data, codec),
                    budget,
                    member.data.len() as u64,
                );
                walk_entries(stream, &how, summary, items, budget, visit)
            }
        };
        result.map_err(offset_in)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ar(members: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = AR_MAGIC.to_vec();
        for (name, data) in members {
            out.extend_from_slice(
                format!(
                    "{:<16}{:<12}{:<6}{:<6}{:<8}{:<10}`\n",
                    name,
                    0,
                    0,
                    0,
                    100644,
                    data.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(data);
            if data.len() % 2 == 1 {
                out.push(b'\n');
            }
        }
        out
    }

    #[test]
    fn ar_members_sliced_with_padding() {
        let bytes = ar(&[("debian-binary", b"2.0\n"), ("odd/", b"abc"), ("x", b"yz")]);
        let m = members(&bytes).unwrap();
        let names: Vec<_> = m.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["debian-binary", "odd", "x"]);
        assert_eq!(m[1].data, b"abc");
        assert_eq!(m[2].data, b"yz");
    }

    #[test]
    fn ar_member_past_the_end_is_truncated() {
        let mut bytes = ar(&[("debian-binary", b"2.0\n")]);
        bytes.truncate(bytes.len() - 1);
        let e = members(&bytes).err().unwrap();
        assert!(
            matches!(e.kind, crate::error::ErrorKind::Truncated { .. }),
            "{e:?}"
        );
    }

    #[test]
    fn unknown_member_is_noted() {
        let bytes = ar(&[("debian-binary", b"2.0\n"), ("_gpgorigin", b"sig")]);
        let budget = Budget::new(Default::default());
        let w = walk(&bytes, &budget, &|_, _| ());
        assert!(w.error.is_none(), "{:?}", w.error);
        assert_eq!(w.summary.kind, Kind::Deb);
        assert_eq!(w.summary.notes[0].entry.as_deref(), Some("_gpgorigin"));
    }
}
