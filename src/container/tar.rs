//! Tar archives (npm .tgz, source releases, a deb's members), plain or compressed with gzip, xz,
//! zstd or bzip2, and single compressed files; read with the `tar` crate over pure-Rust decoders.
//!
//! A compressed archive is one stream: one [`Guarded`] reader over the decoder charges every byte
//! decompressed, skipped entries too, and bounds the stream's expansion ratio. A plain archive's
//! entries are guarded one by one against their stored size. GNU sparse entries read their holes
//! as zeros that no compressed byte pays for, so they are guarded against their stored size in
//! either case: a sparse entry declaring a terabyte stops once its zeros pass the ratio, without
//! allocating anything for the declared size.
//!
//! Entry names go through [`Summary::check_name`] and are never used as paths; links are noted
//! with their target and not followed; directories, devices and FIFOs are counted only.
//!
//! Memory: zstd windows are capped by ruzstd (100 MiB) and legacy `.lzma` dictionaries by
//! the `.lzma` decoder's memory limit; an xz block's LZMA2 dictionary (up to 4 GiB declared,
//! allocated whole by lzma-rust2, whose xz reader has no memory limit) is read from every block
//! header first (`super::xz`), and a file asking for more than
//! [`crate::budget::MAX_XZ_DICTIONARY`] is refused before anything is decoded.

use std::io::{self, Cursor, Read};

use super::{
    Budget, Codec, EntryMeta, Guarded, Kind, Summary, Visit, Walked, count_entry, is_tar_header,
    read_error,
};
use crate::error::Error;

/// Bytes of a gzip header's file name (FNAME) shown as the entry's name (Linux's `PATH_MAX`).
const MAX_GZIP_NAME: usize = 4096;

/// Memory the legacy `.lzma` decoder may use, in KiB: xz's own default limit for
/// decompression with `--memlimit-decompress` unset is unlimited, but the largest preset
/// (`-9`) needs a 64 MiB dictionary; 1.5 GiB (`--lzma1=dict=1536MiB`, xz's maximum) is allowed.
const LZMA_MEM_LIMIT_KIB: u32 = 1536 * 1024 + 1024;

/// A decoder for `codec` over `data`. A gzip or bzip2 stream of several members is read whole,
/// as are an xz file of several streams and a zstd file of several frames.
pub(super) fn decoder<'a>(data: &'a [u8], codec: Codec) -> Box<dyn Read + 'a> {
    match codec {
        Codec::Gzip => Box::new(flate2::read::MultiGzDecoder::new(data)),
        Codec::Bzip2 => Box::new(bzip2::read::MultiBzDecoder::new(data)),
        // Every block's dictionary is checked before the decoder allocates it (src/container/xz.rs).
        Codec::Xz => match super::xz::max_dictionary(data) {
            // Blocks are decoded side by side (xz and dpkg write several), in order.
            Ok(dict) if dict <= crate::budget::MAX_XZ_DICTIONARY => {
                match lzma_rust2::XzReaderMt::new(Cursor::new(data), true, xz_workers()) {
                    Ok(r) => Box::new(r),
                    Err(e) => Box::new(Refused(Some(e))),
                }
            }
            Ok(dict) => Box::new(Refused(Some(super::budget_io(Error::budget(
                "xz dictionary bytes",
                dict,
                crate::budget::MAX_XZ_DICTIONARY,
                None,
            ))))),
            Err(e) => Box::new(Refused(Some(super::budget_io(e)))),
        },
        Codec::Zstd => Box::new(Zstd {
            rest: data,
            frame: None,
        }),
    }
}

/// Threads decoding one xz stream's blocks: the machine's cores, at most four (each holds a
/// block of up to three dictionaries, 192 MiB for `xz -9`).
fn xz_workers() -> u32 {
    std::thread::available_parallelism()
        .map_or(1, |n| u32::try_from(n.get()).unwrap_or(1))
        .min(4)
}

/// A decoder that was refused before it started: its one read gives the reason.
struct Refused(Option<io::Error>);

impl Read for Refused {
    fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
        Err(self
            .0
            .take()
            .unwrap_or_else(|| io::Error::other("the stream was refused")))
    }
}

/// A legacy `.lzma` (LZMA "alone") decoder, with its dictionary bounded by
/// [`LZMA_MEM_LIMIT_KIB`].
pub(super) fn lzma_decoder(data: &[u8]) -> Result<Box<dyn Read + '_>, Error> {
    lzma_rust2::LzmaReader::new_mem_limit(data, LZMA_MEM_LIMIT_KIB, None)
        .map(|r| Box::new(r) as Box<dyn Read>)
        .map_err(|e| Error::parser("lzma header", e, Some(0)))
}

/// A zstd file of one or more frames (skippable frames are passed over).
struct Zstd<'a> {
    rest: &'a [u8],
    frame: Option<ruzstd::decoding::StreamingDecoder<&'a [u8], ruzstd::decoding::FrameDecoder>>,
}

impl Read for Zstd<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            if let Some(frame) = self.frame.as_mut() {
                let n = frame.read(buf)?;
                if n > 0 {
                    return Ok(n);
                }
                if let Some(done) = self.frame.take() {
                    self.rest = done.into_inner();
                }
            }
            if self.rest.is_empty() {
                return Ok(0);
            }
            // Skippable frame: magic 0x184D2A5?, a 32-bit length, that many bytes.
            if let (Some(&[m0, 0x2A, 0x4D, 0x18]), Some(len)) = (
                self.rest
                    .get(..4)
                    .and_then(|m| <&[u8; 4]>::try_from(m).ok()),
                self.rest
                    .get(4..8)
                    .and_then(|l| <[u8; 4]>::try_from(l).ok())
                    .map(u32::from_le_bytes),
            ) {
                if m0 & 0xF0 == 0x50 {
                    let skip = usize::try_from(len).unwrap_or(usize::MAX).saturating_add(8);
                    self.rest = self.rest.get(skip..).ok_or_else(|| {
                        io::Error::new(io::ErrorKind::UnexpectedEof, "truncated skippable frame")
                    })?;
                    continue;
                }
            }
            let frame = ruzstd::decoding::StreamingDecoder::new(self.rest)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e.to_string()))?;
            self.frame = Some(frame);
        }
    }
}

/// How the entries of one tar stream are named and guarded.
pub(super) struct TarRead<'r> {
    /// Whether the stream is already read through a [`Guarded`] decoder (a compressed tar).
    pub stream_guarded: bool,
    /// The most bytes the tar stream can hold: the archive's length when it is read as it is,
    /// its compressed length times the expansion ratio when it is decompressed. A sparse
    /// entry's stored bytes are measured against what is left of it, not against its header.
    pub stream_at_most: u64,
    /// The name the walk reports for a stored name (a deb strips `./`, prefixes `DEBIAN/`).
    pub rename: &'r dyn Fn(&str) -> String,
}

/// The most bytes a compressed stream of `data` may give before the expansion ratio stops it.
pub(super) fn stream_bound(data: &[u8], budget: &Budget) -> u64 {
    (data.len() as u64)
        .saturating_mul(budget.limits.max_ratio)
        .max(budget.limits.ratio_grace)
}

/// Walks the entries of one tar stream, adding to `summary` and `items`; an error stops it.
pub(super) fn walk_entries<R: Read, T>(
    reader: R,
    how: &TarRead<'_>,
    summary: &mut Summary,
    items: &mut Vec<T>,
    budget: &Budget,
    visit: &Visit<'_, T>,
) -> Result<(), Error> {
    use tar::EntryType as E;
    let mut archive = tar::Archive::new(reader);
    let entries = archive
        .entries()
        .map_err(|e| read_error("tar", &e, Some(0)))?;
    let mut next_offset = 0u64;
    for entry in entries {
        let mut entry = entry.map_err(|e| read_error("tar header", &e, Some(next_offset)))?;
        let offset = entry.raw_header_position();
        let ty = entry.header().entry_type();
        let size = entry.size();
        next_offset = entry
            .raw_file_position()
            .saturating_add(entry.header().entry_size().unwrap_or(0));
        if ty == E::XGlobalHeader {
            continue;
        }
        let index = summary.entries;
        count_entry(summary, &budget.limits).map_err(|e| at(e, offset))?;
        let name = (how.rename)(&String::from_utf8_lossy(&entry.path_bytes()));
        summary.check_name(&name);
        match ty {
            E::Regular | E::Continuous | E::GNUSparse => {
                let meta = EntryMeta {
                    index,
                    name,
                    size: Some(size),
                    offset: Some(offset),
                };
                if how.stream_guarded && ty != E::GNUSparse {
                    items.push(visit(&meta, &mut entry));
                } else {
                    // The bytes stored for the entry: for a sparse one, its data blocks only,
                    // and never more than the stream has left (a header declaring gigabytes of
                    // data blocks would otherwise let its holes expand that many times over).
                    let left = how.stream_at_most.saturating_sub(entry.raw_file_position());
                    let stored = entry.header().entry_size().unwrap_or(0).min(size).min(left);
                    let mut guarded = Guarded::new(&mut entry, budget, stored);
                    items.push(visit(&meta, &mut guarded));
                    if let Some(e) = guarded.exceeded() {
                        return Err(at(e.clone(), offset));
                    }
                }
            }
            E::Symlink | E::Link => {
                let target = entry
                    .link_name_bytes()
                    .map(|t| String::from_utf8_lossy(&t).into_owned())
                    .unwrap_or_default();
                let what = if ty == E::Symlink {
                    "symbolic link"
                } else {
                    "hard link"
                };
                summary.note(
                    "link",
                    Some(&name),
                    format!("{what} to `{target}` (not followed)"),
                );
            }
            _ => {}
        }
    }
    Ok(())
}

/// A budget or parse error with the entry's offset when it has none.
fn at(mut e: Error, offset: u64) -> Error {
    if e.offset.is_none() {
        e.offset = Some(offset);
    }
    e
}

/// Walks a tar archive, compressed with `codec` or not.
pub fn walk<T: Send>(
    data: &[u8],
    codec: Option<Codec>,
    budget: &Budget,
    visit: &Visit<'_, T>,
) -> Walked<T> {
    let mut summary = Summary::new(Kind::Tar(codec));
    let mut items = Vec::new();
    let keep = |n: &str| n.to_owned();
    let result = match codec {
        None => {
            let how = TarRead {
                stream_guarded: false,
                stream_at_most: data.len() as u64,
                rename: &keep,
            };
            walk_entries(data, &how, &mut summary, &mut items, budget, visit)
        }
        Some(codec) => {
            let how = TarRead {
                stream_guarded: true,
                stream_at_most: stream_bound(data, budget),
                rename: &keep,
            };
            let stream = Guarded::new(decoder(data, codec), budget, data.len() as u64);
            walk_entries(stream, &how, &mut summary, &mut items, budget, visit)
        }
    };
    Walked {
        items,
        summary,
        error: result.err(),
    }
}

/// Walks one compressed stream: a tar archive inside (its first 512 bytes decompressed are a
/// tar header) is walked as `Tar(Some(codec))`; anything else is one entry, named by the gzip
/// header's FNAME when there is one, else "" (the caller names it).
pub fn walk_compressed<T: Send>(
    data: &[u8],
    codec: Codec,
    budget: &Budget,
    visit: &Visit<'_, T>,
) -> Walked<T> {
    let mut summary = Summary::new(Kind::Compressed(codec));
    let mut items = Vec::new();
    let mut stream = Guarded::new(decoder(data, codec), budget, data.len() as u64);
    let mut head = Vec::with_capacity(super::SNIFF_LEN);
    if let Err(e) = (&mut stream)
        .take(super::SNIFF_LEN as u64)
        .read_to_end(&mut head)
    {
        return Walked {
            items,
            summary,
            error: Some(read_error(codec.as_str(), &e, Some(0))),
        };
    }
    let mut whole = Cursor::new(head).chain(&mut stream);
    if is_tar_header(whole.get_ref().0.get_ref()) {
        summary.kind = Kind::Tar(Some(codec));
        let keep = |n: &str| n.to_owned();
        let how = TarRead {
            stream_guarded: true,
            stream_at_most: stream_bound(data, budget),
            rename: &keep,
        };
        let result = walk_entries(whole, &how, &mut summary, &mut items, budget, visit);
        return Walked {
            items,
            summary,
            error: result.err(),
        };
    }
    let mut error = count_entry(&mut summary, &budget.limits).err();
    if error.is_none() {
        let name = match codec {
            Codec::Gzip => gzip_name(data).unwrap_or_default(),
            _ => String::new(),
        };
        if !name.is_empty() {
            summary.check_name(&name);
        }
        let meta = EntryMeta {
            index: 0,
            name,
            size: None,
            offset: Some(0),
        };
        items.push(visit(&meta, &mut whole));
        drop(whole);
        error = stream.exceeded().cloned();
    }
    Walked {
        items,
        summary,
        error,
    }
}

/// The file name a gzip header stores (RFC 1952 FNAME), lossy, at most 4,096 bytes.
pub fn gzip_name(data: &[u8]) -> Option<String> {
    if data.get(..3)? != b"\x1f\x8b\x08" {
        return None;
    }
    let flags = *data.get(3)?;
    let mut at = 10usize;
    if flags & 0x04 != 0 {
        let xlen = u16::from_le_bytes([*data.get(10)?, *data.get(11)?]);
        at = at.checked_add(2)?.checked_add(usize::from(xlen))?;
    }
    if flags & 0x08 == 0 {
        return None;
    }
    let rest = data.get(at..)?;
    let end = memchr::memchr(0, rest)?;
    let name = rest.get(..end.min(MAX_GZIP_NAME))?;
    Some(String::from_utf8_lossy(name).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(codec: Codec, data: &[u8]) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        decoder(data, codec).read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn zstd_frames_and_skippable_frames_are_read_in_turn() {
        use ruzstd::encoding::{CompressionLevel, compress_to_vec};
        let mut data = compress_to_vec(&b"first "[..], CompressionLevel::Fastest);
        // A skippable frame (magic 0x184D2A53, 3 bytes of user data).
        data.extend_from_slice(&[0x53, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 1, 2, 3]);
        data.extend_from_slice(&compress_to_vec(&b"second"[..], CompressionLevel::Fastest));
        assert_eq!(read_all(Codec::Zstd, &data).unwrap(), b"first second");
        // A skippable frame claiming more bytes than there are.
        let mut cut = compress_to_vec(&b"x"[..], CompressionLevel::Fastest);
        cut.extend_from_slice(&[0x50, 0x2A, 0x4D, 0x18, 0xFF, 0, 0, 0]);
        assert!(read_all(Codec::Zstd, &cut).is_err());
    }

    #[test]
    fn gzip_name_reads_fname_after_fextra() {
        // Header: magic, deflate, flags FEXTRA|FNAME, mtime, xfl, os; XLEN 4 + 4 bytes; name.
        let mut data = vec![
            0x1f, 0x8b, 8, 0x0c, 0, 0, 0, 0, 0, 3, 4, 0, b'A', b'B', 0, 0,
        ];
        data.extend_from_slice(b"tool.exe\0");
        assert_eq!(gzip_name(&data).as_deref(), Some("tool.exe"));
        data[3] = 0x04;
        assert_eq!(gzip_name(&data), None, "no FNAME flag");
        assert_eq!(gzip_name(&data[..11]), None, "truncated FEXTRA");
        assert_eq!(gzip_name(b"\x1f\x8b\x08\x08\0\0\0\0\0\x03no-nul"), None);
    }

    #[test]
    fn visitor_that_stops_early_leaves_the_walk_in_step() {
        let mut b = ::tar::Builder::new(Vec::new());
        for (name, data) in [("a", &b"0123456789"[..]), ("b", b"xy")] {
            let mut h = ::tar::Header::new_gnu();
            h.set_size(data.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, name, data).unwrap();
        }
        let data = b.into_inner().unwrap();
        let budget = Budget::new(Default::default());
        let visit = |m: &EntryMeta, r: &mut dyn Read| {
            let mut one = [0u8; 1];
            r.read_exact(&mut one).unwrap();
            (m.name.clone(), one[0])
        };
        let w = walk(&data, None, &budget, &visit);
        assert!(w.error.is_none(), "{:?}", w.error);
        assert_eq!(w.items, [("a".to_owned(), b'0'), ("b".to_owned(), b'x')]);
    }

    #[test]
    fn lzma_dictionary_past_the_limit_is_refused() {
        // props 0x5d, dictionary 0xFFFFFFFF (4 GiB), size unknown.
        let mut data = vec![0x5d, 0xff, 0xff, 0xff, 0xff];
        data.extend_from_slice(&[0xff; 8]);
        data.extend_from_slice(&[0; 16]);
        assert!(lzma_decoder(&data).is_err());
    }
}
