//! RPM packages: a 96-byte lead, the signature header (padded to 8 bytes), the main header, then
//! the payload, a cpio archive compressed as the header's `PAYLOADCOMPRESSOR` says (gzip, bzip2,
//! xz, lzma, zstd).
//!
//! The headers are read here rather than with the `rpm` crate, whose reader copies the headers
//! and payload into owned buffers: an index of 16-byte entries and a data store, both bounded
//! (`crate::budget::MAX_RPM_HEADER_TAGS`, `MAX_RPM_HEADER_DATA`, rpm's own limits), sliced
//! from the bytes in memory. The cpio archive ("newc" 070701, its CRC variant 070702, and the
//! portable "odc" 070707) is streamed from the decompressor: each entry's bytes are read
//! through the guarded stream, never buffered. Names are stripped of a leading `./`.
//!
//! A signature header with an RSA, DSA or OpenPGP tag puts "rpm signature header" in
//! `Summary::package_signatures` (present, not verified).

use std::io::{self, Read};

use super::tar::{decoder, lzma_decoder};
use super::{Budget, Codec, EntryMeta, Guarded, Kind, Summary, Visit, Walked, count_entry};
use crate::budget::{MAX_CPIO_NAME, MAX_RPM_HEADER_DATA, MAX_RPM_HEADER_TAGS};
use crate::error::Error;

const LEAD_LEN: usize = 96;
const HEADER_MAGIC: &[u8] = b"\x8e\xad\xe8\x01";
/// Signature-header tags of signatures: DSA (267), RSA (268), PGP (1002), GPG (1005),
/// PGP5 (1006) and rpm 6's OPENPGP (278).
const SIGNATURE_TAGS: [u32; 6] = [267, 268, 278, 1002, 1005, 1006];
const TAG_PAYLOADFORMAT: u32 = 1124;
const TAG_PAYLOADCOMPRESSOR: u32 = 1125;
const TYPE_STRING: u32 = 6;

fn be32(data: &[u8], at: usize) -> Option<u32> {
    let b: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u32::from_be_bytes(b))
}

/// One header structure: its index entries `(tag, type, offset, count)` and data store.
struct Header<'a> {
    index: Vec<(u32, u32, u32, u32)>,
    store: &'a [u8],
    /// Where the structure ends in the file.
    end: usize,
}

impl Header<'_> {
    fn has(&self, tag: u32) -> bool {
        self.index.iter().any(|e| e.0 == tag)
    }

    /// A STRING tag's value (up to its NUL).
    fn string(&self, tag: u32) -> Option<String> {
        let &(_, ty, offset, _) = self.index.iter().find(|e| e.0 == tag)?;
        if ty != TYPE_STRING {
            return None;
        }
        let rest = self.store.get(usize::try_from(offset).ok()?..)?;
        let end = memchr::memchr(0, rest)?;
        Some(String::from_utf8_lossy(rest.get(..end)?).into_owned())
    }
}

/// Reads the header structure at `at`.
fn header<'a>(data: &'a [u8], at: usize, what: &'static str) -> Result<Header<'a>, Error> {
    let off = at as u64;
    let intro = data
        .get(at..at.saturating_add(16))
        .filter(|i| i.len() == 16)
        .ok_or_else(|| Error::truncated(what, off, 16, data.len().saturating_sub(at) as u64))?;
    if intro.get(..4) != Some(HEADER_MAGIC) {
        return Err(Error::parser(
            what,
            "no header magic 8e ad e8 01",
            Some(off),
        ));
    }
    let tags = u64::from(be32(intro, 8).unwrap_or(0));
    let size = u64::from(be32(intro, 12).unwrap_or(0));
    if tags > MAX_RPM_HEADER_TAGS {
        return Err(Error::budget(
            "rpm header index entries",
            tags,
            MAX_RPM_HEADER_TAGS,
            Some(off),
        ));
    }
    if size > MAX_RPM_HEADER_DATA {
        return Err(Error::budget(
            "rpm header data bytes",
            size,
            MAX_RPM_HEADER_DATA,
            Some(off),
        ));
    }
    // Both fit in 32 bits: the sums below cannot overflow a u64, nor a usize on 64-bit.
    let index_len = tags.saturating_mul(16);
    let needed = 16u64.saturating_add(index_len).saturating_add(size);
    let available = data.len().saturating_sub(at) as u64;
    if needed > available {
        return Err(Error::truncated(what, off, needed, available));
    }
    let index_start = at.saturating_add(16);
    let store_start = index_start.saturating_add(usize::try_from(index_len).unwrap_or(usize::MAX));
    let end = store_start.saturating_add(usize::try_from(size).unwrap_or(usize::MAX));
    let index_bytes = data.get(index_start..store_start).unwrap_or(&[]);
    let index = index_bytes
        .chunks_exact(16)
        .map(|e| {
            (
                be32(e, 0).unwrap_or(0),
                be32(e, 4).unwrap_or(0),
                be32(e, 8).unwrap_or(0),
                be32(e, 12).unwrap_or(0),
            )
        })
        .collect();
    Ok(Header {
        index,
        store: data.get(store_start..end).unwrap_or(&[]),
        end,
    })
}

/// Walks an RPM package's payload.
pub fn walk<T: Send>(data: &[u8], budget: &Budget, visit: &Visit<'_, T>) -> Walked<T> {
    Walked::collect(Kind::Rpm, |summary, items| {
        walk_package(data, summary, items, budget, visit)
    })
}

fn walk_package<T>(
    data: &[u8],
    summary: &mut Summary,
    items: &mut Vec<T>,
    budget: &Budget,
    visit: &Visit<'_, T>,
) -> Result<(), Error> {
    if data.len() < LEAD_LEN {
        return Err(Error::truncated(
            "rpm lead",
            0,
            LEAD_LEN as u64,
            data.len() as u64,
        ));
    }
    if !data.starts_with(b"\xed\xab\xee\xdb") {
        return Err(Error::parser("rpm lead", "no magic ed ab ee db", Some(0)));
    }
    let signature = header(data, LEAD_LEN, "rpm signature header")?;
    if SIGNATURE_TAGS.iter().any(|&t| signature.has(t)) {
        summary
            .package_signatures
            .push("rpm signature header".to_owned());
    }
    let main_at = signature
        .end
        .checked_next_multiple_of(8)
        .unwrap_or(usize::MAX);
    let main = header(data, main_at, "rpm header")?;
    if let Some(format) = main.string(TAG_PAYLOADFORMAT) {
        if format != "cpio" {
            return Err(Error::parser(
                "rpm payload",
                format!("payload format `{format}` is not read (only cpio)"),
                Some(main.end as u64),
            ));
        }
    }
    let compressor = main
        .string(TAG_PAYLOADCOMPRESSOR)
        .unwrap_or_else(|| "gzip".to_owned());
    let payload_at = main.end;
    let payload = data.get(payload_at..).unwrap_or(&[]);
    let stream: Box<dyn Read> = match compressor.as_str() {
        "gzip" => decoder(payload, Codec::Gzip),
        "bzip2" => decoder(payload, Codec::Bzip2),
        "xz" => decoder(payload, Codec::Xz),
        "zstd" => decoder(payload, Codec::Zstd),
        "lzma" => lzma_decoder(payload).map_err(|mut e| {
            e.offset = Some(payload_at as u64);
            e
        })?,
        "identity" => Box::new(payload),
        other => {
            return Err(Error::parser(
                "rpm payload",
                format!("payload compressor `{other}` is not read"),
                Some(payload_at as u64),
            ));
        }
    };
    let stream = Guarded::new(stream, budget, payload.len() as u64);
    walk_cpio(stream, summary, items, budget, visit).map_err(|mut e| {
        // Offsets inside the payload are of the decompressed stream: report the payload's.
        e.offset = Some(payload_at as u64);
        e
    })
}

/// What one cpio header says.
struct CpioHeader {
    mode: u64,
    size: u64,
    name_size: u64,
    /// newc pads the header + name and the data to 4 bytes; odc does not pad.
    aligned: bool,
    header_len: u64,
}

fn hex(field: &[u8]) -> Option<u64> {
    u64::from_str_radix(std::str::from_utf8(field).ok()?, 16).ok()
}

fn octal(field: &[u8]) -> Option<u64> {
    u64::from_str_radix(std::str::from_utf8(field).ok()?, 8).ok()
}

/// Reads exactly `buf.len()` bytes; `Ok(false)` at a clean end before the first byte.
fn read_full(r: &mut impl Read, buf: &mut [u8], offset: u64) -> Result<bool, Error> {
    let mut got = 0usize;
    while got < buf.len() {
        let rest = buf.get_mut(got..).unwrap_or(&mut []);
        match r.read(rest) {
            Ok(0) if got == 0 => return Ok(false),
            Ok(0) => {
                return Err(Error::truncated(
                    "cpio header",
                    offset,
                    buf.len() as u64,
                    got as u64,
                ));
            }
            Ok(n) => got = got.saturating_add(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(super::read_error("rpm payload", &e, Some(offset))),
        }
    }
    Ok(true)
}

fn cpio_header(r: &mut impl Read, offset: u64) -> Result<Option<CpioHeader>, Error> {
    let mut magic = [0u8; 6];
    if !read_full(r, &mut magic, offset)? {
        return Ok(None);
    }
    let bad = |what: &'static str| Error::parser("cpio header", what, Some(offset));
    match &magic {
        b"070701" | b"070702" => {
            let mut h = [0u8; 104];
            if !read_full(r, &mut h, offset)? {
                return Err(bad("truncated"));
            }
            let field = |i: usize| {
                h.chunks_exact(8)
                    .nth(i)
                    .and_then(hex)
                    .ok_or(bad("bad hex field"))
            };
            Ok(Some(CpioHeader {
                mode: field(1)?,
                size: field(6)?,
                name_size: field(11)?,
                aligned: true,
                header_len: 110,
            }))
        }
        b"070707" => {
            let mut h = [0u8; 70];
            if !read_full(r, &mut h, offset)? {
                return Err(bad("truncated"));
            }
            // After the magic: dev, ino, mode, uid, gid, nlink, rdev (6 each), mtime (11),
            // namesize (6), filesize (11).
            let field = |at: usize, len: usize| {
                h.get(at..at.saturating_add(len))
                    .and_then(octal)
                    .ok_or(bad("bad octal field"))
            };
            Ok(Some(CpioHeader {
                mode: field(12, 6)?,
                name_size: field(53, 6)?,
                size: field(59, 11)?,
                aligned: false,
                header_len: 76,
            }))
        }
        b"07070X" => Err(bad(
            "a stripped cpio payload (rpm's format for files over 4 GiB) is not read",
        )),
        _ => Err(bad("no cpio magic (070701, 070702 or 070707)")),
    }
}

/// Skips `n` bytes of the stream.
fn skip(r: &mut impl Read, n: u64, offset: u64) -> Result<(), Error> {
    let copied = io::copy(&mut r.take(n), &mut io::sink())
        .map_err(|e| super::read_error("rpm payload", &e, Some(offset)))?;
    if copied < n {
        return Err(Error::truncated("cpio entry", offset, n, copied));
    }
    Ok(())
}

fn pad4(n: u64) -> u64 {
    n.wrapping_neg() & 3
}

fn walk_cpio<R: Read, T>(
    mut stream: R,
    summary: &mut Summary,
    items: &mut Vec<T>,
    budget: &Budget,
    visit: &Visit<'_, T>,
) -> Result<(), Error> {
    let mut offset = 0u64;
    while let Some(h) = cpio_header(&mut stream, offset)? {
        let entry_offset = offset;
        if h.name_size > MAX_CPIO_NAME {
            return Err(Error::budget(
                "bytes of a cpio entry name",
                h.name_size,
                MAX_CPIO_NAME,
                Some(offset),
            ));
        }
        let mut name = vec![0u8; usize::try_from(h.name_size).unwrap_or(0)];
        if !read_full(&mut stream, &mut name, offset)? && !name.is_empty() {
            return Err(Error::truncated("cpio name", offset, h.name_size, 0));
        }
        offset = offset
            .saturating_add(h.header_len)
            .saturating_add(h.name_size);
        if h.aligned {
            let p = pad4(offset);
            skip(&mut stream, p, offset)?;
            offset = offset.saturating_add(p);
        }
        if name.last() == Some(&0) {
            name.pop();
        }
        let name = String::from_utf8_lossy(&name).into_owned();
        if name == "TRAILER!!!" {
            return Ok(());
        }
        let name = name.strip_prefix("./").unwrap_or(&name).to_owned();
        let index = summary.entries;
        count_entry(summary, &budget.limits)?;
        summary.check_name(&name);
        let mut data = (&mut stream).take(h.size);
        match h.mode & 0o170000 {
            0o100000 => {
                let meta = EntryMeta {
                    index,
                    name,
                    size: Some(h.size),
                    offset: Some(entry_offset),
                };
                items.push(visit(&meta, &mut data));
            }
            0o120000 => {
                let mut target = Vec::new();
                (&mut data)
                    .take(MAX_CPIO_NAME)
                    .read_to_end(&mut target)
                    .map_err(|e| super::read_error("rpm payload", &e, Some(offset)))?;
                summary.note(
                    "link",
                    Some(&name),
                    format!(
                        "symbolic link to `{}` (not followed)",
                        String::from_utf8_lossy(&target)
                    ),
                );
            }
            _ => {}
        }
        // Whatever the visitor left unread.
        let left = data.limit();
        skip(&mut stream, left, offset)?;
        offset = offset.saturating_add(h.size);
        if h.aligned {
            let p = pad4(offset);
            skip(&mut stream, p, offset)?;
            offset = offset.saturating_add(p);
        }
    }
    Err(Error::truncated("cpio trailer", offset, 1, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn newc(entries: &[(&str, u32, &[u8])]) -> Vec<u8> {
        let mut out = Vec::new();
        let mut push = |name: &str, mode: u32, data: &[u8]| {
            let name_z = format!("{name}\0");
            out.extend_from_slice(
                format!(
                    "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
                    1, mode, 0, 0, 1, 0, data.len(), 0, 0, 0, 0, name_z.len(), 0
                )
                .as_bytes(),
            );
            out.extend_from_slice(name_z.as_bytes());
            while out.len() % 4 != 0 {
                out.push(0);
            }
            out.extend_from_slice(data);
            while out.len() % 4 != 0 {
                out.push(0);
            }
        };
        for (n, m, d) in entries {
            push(n, *m, d);
        }
        push("TRAILER!!!", 0, b"");
        out
    }

    #[test]
    fn newc_entries_visited_links_noted() {
        let cpio = newc(&[
            ("./usr", 0o040755, b""),
            ("./usr/bin/a", 0o100755, b"hello"),
            ("./usr/bin/b", 0o120777, b"a"),
            ("./usr/bin/c", 0o100644, b"xyz!"),
        ]);
        let budget = Budget::new(Default::default());
        let mut summary = Summary::new(Kind::Rpm);
        let mut items = Vec::new();
        let visit = |m: &EntryMeta, r: &mut dyn Read| {
            let mut v = Vec::new();
            r.read_to_end(&mut v).unwrap();
            (m.name.clone(), v)
        };
        walk_cpio(&cpio[..], &mut summary, &mut items, &budget, &visit).unwrap();
        assert_eq!(
            items,
            [
                ("usr/bin/a".to_owned(), b"hello".to_vec()),
                ("usr/bin/c".to_owned(), b"xyz!".to_vec())
            ]
        );
        assert_eq!(summary.entries, 4);
        assert_eq!(summary.notes[0].id, "link");
        assert!(summary.notes[0].message.contains("`a`"));
    }

    #[test]
    fn visitor_that_stops_early_does_not_desync() {
        let cpio = newc(&[("a", 0o100644, b"0123456789"), ("b", 0o100644, b"xy")]);
        let budget = Budget::new(Default::default());
        let mut summary = Summary::new(Kind::Rpm);
        let mut items = Vec::new();
        let visit = |m: &EntryMeta, r: &mut dyn Read| {
            let mut b = [0u8; 1];
            r.read_exact(&mut b).unwrap();
            (m.name.clone(), b[0])
        };
        walk_cpio(&cpio[..], &mut summary, &mut items, &budget, &visit).unwrap();
        assert_eq!(items, [("a".to_owned(), b'0'), ("b".to_owned(), b'x')]);
    }

    #[test]
    fn cpio_without_trailer_is_truncated() {
        let mut cpio = newc(&[("a", 0o100644, b"0123")]);
        cpio.truncate(cpio.len() - 124);
        let budget = Budget::new(Default::default());
        let mut summary = Summary::new(Kind::Rpm);
        let mut items: Vec<()> = Vec::new();
        let e = walk_cpio(&cpio[..], &mut summary, &mut items, &budget, &|_, _| ()).unwrap_err();
        assert!(
            matches!(e.kind, crate::error::ErrorKind::Truncated { .. }),
            "{e:?}"
        );
    }

    #[test]
    fn header_index_budget() {
        let mut data = vec![0u8; 96];
        data.extend_from_slice(HEADER_MAGIC);
        data.extend_from_slice(&[0; 4]);
        data.extend_from_slice(&0x10000u32.to_be_bytes());
        data.extend_from_slice(&0u32.to_be_bytes());
        let e = header(&data, 96, "rpm signature header").err().unwrap();
        assert!(
            matches!(e.kind, crate::error::ErrorKind::Budget { .. }),
            "{e:?}"
        );
    }
}
