//! Zip and its relatives (wheel, nupkg, jar, apk, vsix, appx/msix, a zip appended to a PE), read
//! with the `zip` crate from the central directory.
//!
//! The walk has two passes. The first, in order, lists every entry from the central directory and
//! its local header: it counts entries, notes unsafe names, links, encrypted entries and
//! compression methods not read, records the package's own signature files, and refuses a zip
//! whose entries overlap (David Fifield's "better zip bomb" points many central entries at one
//! local header, or lays local data ranges over each other, to expand the same bytes again and
//! again). The second reads the regular files side by side on rayon's threads, each thread with
//! its own clone of the archive (the parsed central directory is shared), and keeps the results
//! in the container's order.
//!
//! A self-extractor's zip may come as the bytes after the stub while its central directory still
//! counts offsets from the start of the whole file: the reader then presents the bytes shifted by
//! the difference, the missing prefix reading as zeros (at most `crate::budget::MAX_ZIP_PREFIX`
//! bytes, and only when a central directory starts where the end record says it ends).

use std::io::{self, Read, Seek, SeekFrom};
use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use zip::{CompressionMethod, ZipArchive};

use super::{Budget, EntryMeta, Guarded, Kind, Summary, Visit, Walked, count_entry};
use crate::budget::MAX_ZIP_PREFIX;
use crate::error::Error;

/// Bytes of a symbolic link's target shown in its note (Linux's `PATH_MAX` is 4,096).
const MAX_LINK_TARGET: u64 = 4096;

/// Bytes of the smallest central directory header (APPNOTE 4.3.12: 46 bytes before the name):
/// a zip cannot list more entries than its length over this.
const CENTRAL_HEADER_MIN: u64 = 46;

/// The bytes of a zip, seen as if `shift` bytes (read as zeros) came before them.
#[derive(Clone)]
struct Shifted<'a> {
    data: &'a [u8],
    shift: u64,
    pos: u64,
}

impl Shifted<'_> {
    fn len(&self) -> u64 {
        self.shift.saturating_add(self.data.len() as u64)
    }
}

impl Read for Shifted<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = if self.pos < self.shift {
            let zeros = usize::try_from(self.shift.saturating_sub(self.pos))
                .unwrap_or(usize::MAX)
                .min(buf.len());
            if let Some(b) = buf.get_mut(..zeros) {
                b.fill(0);
            }
            zeros
        } else {
            let at = usize::try_from(self.pos.saturating_sub(self.shift)).unwrap_or(usize::MAX);
            let rest = self.data.get(at..).unwrap_or(&[]);
            let n = rest.len().min(buf.len());
            if let (Some(dst), Some(src)) = (buf.get_mut(..n), rest.get(..n)) {
                dst.copy_from_slice(src);
            }
            n
        };
        self.pos = self.pos.saturating_add(n as u64);
        Ok(n)
    }
}

impl Seek for Shifted<'_> {
    fn seek(&mut self, to: SeekFrom) -> io::Result<u64> {
        let target = match to {
            SeekFrom::Start(n) => Some(n),
            SeekFrom::End(d) => self.len().checked_add_signed(d),
            SeekFrom::Current(d) => self.pos.checked_add_signed(d),
        };
        match target {
            Some(t) => {
                self.pos = t;
                Ok(t)
            }
            None => Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "seek before the start of the zip",
            )),
        }
    }
}

fn u16_at(data: &[u8], at: usize) -> Option<u64> {
    let b = data.get(at..at.checked_add(2)?)?;
    Some(u64::from(u16::from_le_bytes([*b.first()?, *b.get(1)?])))
}

fn u32_at(data: &[u8], at: usize) -> Option<u64> {
    let b: [u8; 4] = data.get(at..at.checked_add(4)?)?.try_into().ok()?;
    Some(u64::from(u32::from_le_bytes(b)))
}

fn u64_at(data: &[u8], at: usize) -> Option<u64> {
    let b: [u8; 8] = data.get(at..at.checked_add(8)?)?.try_into().ok()?;
    Some(u64::from_le_bytes(b))
}

/// What the end of central directory record (and its zip64 twin) declares.
struct End {
    /// Where the record is in `data`.
    at: u64,
    entries: u64,
    /// How many bytes the central directory's declared offset is past where it really is.
    shift: u64,
}

/// Finds the last end-of-central-directory record (it is within the last 64 KiB + 22 bytes:
/// its comment length is 16 bits) and reads the entry count and the directory's place.
fn end_record(data: &[u8]) -> Option<End> {
    let len = data.len();
    let last = len.checked_sub(22)?;
    let first = last.saturating_sub(0xFFFF);
    let at = (first..=last)
        .rev()
        .find(|&i| data.get(i..i.saturating_add(4)) == Some(b"PK\x05\x06"))?;
    let mut entries = u16_at(data, at.checked_add(10)?)?;
    let mut cd_size = u32_at(data, at.checked_add(12)?)?;
    let mut cd_offset = u32_at(data, at.checked_add(16)?)?;
    let mut record = at;
    // Zip64: the locator is the 20 bytes before, the zip64 record (56 bytes without its
    // extensible data) just before the locator.
    if let Some(loc) = at.checked_sub(20) {
        if data.get(loc..loc.saturating_add(4)) == Some(b"PK\x06\x07") {
            if let Some(z) = loc.checked_sub(56) {
                if data.get(z..z.saturating_add(4)) == Some(b"PK\x06\x06") {
                    entries = u64_at(data, z.checked_add(32)?)?;
                    cd_size = u64_at(data, z.checked_add(40)?)?;
                    cd_offset = u64_at(data, z.checked_add(48)?)?;
                    record = z;
                }
            }
        }
    }
    let actual = (record as u64).checked_sub(cd_size)?;
    let mut shift = cd_offset.saturating_sub(actual);
    // Shift only where a central directory really starts (or is empty), and not too far.
    let starts_directory = cd_size == 0
        || usize::try_from(actual)
            .ok()
            .and_then(|a| data.get(a..a.checked_add(4)?))
            == Some(b"PK\x01\x02");
    if !starts_directory || shift > MAX_ZIP_PREFIX {
        shift = 0;
    }
    Some(End {
        at: at as u64,
        entries,
        shift,
    })
}

/// What the first pass learned of one entry.
struct Plan {
    index: usize,
    name: String,
    size: u64,
    compressed: u64,
    header: u64,
}

/// Whether `name` is a signature file of the package itself: jar/apk `META-INF/*.{RSA,DSA,EC,SF}`,
/// appx/msix `AppxSignature.p7x`, nupkg `.signature.p7s`, wheel `*.dist-info/RECORD.{jws,p7s}`,
/// vsix `package/services/digital-signature/*`.
pub fn is_package_signature(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    if let Some(rest) = lower.strip_prefix("meta-inf/") {
        if !rest.contains('/')
            && [".rsa", ".dsa", ".ec", ".sf"]
                .iter()
                .any(|e| rest.ends_with(e))
        {
            return true;
        }
    }
    if lower == "appxsignature.p7x" || lower == ".signature.p7s" {
        return true;
    }
    if let Some((dir, file)) = lower.split_once('/') {
        if dir.ends_with(".dist-info") && (file == "record.jws" || file == "record.p7s") {
            return true;
        }
    }
    lower.starts_with("package/services/digital-signature/") && !lower.ends_with('/')
}

/// What reading one entry gave.
enum Outcome<T> {
    /// Not read: another entry's error stopped the walk.
    Stopped,
    /// The entry could not be opened.
    Failed(Error),
    /// The visitor's result, and the budget error reached while it read, if one was.
    Visited(T, Option<Error>),
}

/// Walks a zip's regular files (see the module doc).
pub fn walk<T: Send>(data: &[u8], budget: &Budget, visit: &Visit<'_, T>) -> Walked<T> {
    let mut summary = Summary::new(Kind::Zip);
    let limits = &budget.limits;
    let mut shift = 0;
    if let Some(end) = end_record(data) {
        if end.entries > limits.max_entries {
            let e = Error::budget(
                "entries in one container",
                end.entries,
                limits.max_entries,
                Some(end.at),
            );
            return failed(summary, e);
        }
        let possible = (data.len() as u64) / CENTRAL_HEADER_MIN;
        if end.entries > possible {
            let e = Error::bad_value(
                "zip entry count (more than the file can hold)",
                end.entries,
                Some(end.at),
            );
            return failed(summary, e);
        }
        shift = end.shift;
    }
    let reader = Shifted {
        data,
        shift,
        pos: 0,
    };
    let reader_len = reader.len();
    let mut archive = match ZipArchive::new(reader) {
        Ok(a) => a,
        Err(e) => return failed(summary, Error::parser("zip", e, None)),
    };

    // First pass: list, note, check overlaps.
    let mut plans = Vec::new();
    let mut ranges: Vec<(u64, u64, usize)> = Vec::new();
    let mut error = None;
    for index in 0..archive.len() {
        if let Err(e) = count_entry(&mut summary, limits) {
            error = Some(e);
            break;
        }
        let file = match archive.by_index_raw(index) {
            Ok(f) => f,
            Err(e) => {
                error = Some(Error::parser("zip entry", e, None));
                break;
            }
        };
        let name = file.name().to_owned();
        let header = file.header_start();
        let Some(data_start) = file.data_start() else {
            error = Some(Error::parser(
                "zip entry",
                "no data offset",
                Some(header.saturating_sub(shift)),
            ));
            break;
        };
        let compressed = file.compressed_size();
        // The compressed bytes must be in the file: the expansion ratio is measured against
        // this size, so a size declared past the end (a zip64 extra read in another order, a
        // patched header) would let a small file inflate without limit.
        let end = data_start
            .checked_add(compressed)
            .filter(|&end| end <= reader_len);
        let Some(end) = end else {
            error = Some(Error::bad_value(
                "zip entry compressed size (past the end of the file)",
                compressed,
                Some(header.saturating_sub(shift)),
            ));
            break;
        };
        ranges.push((header, end, index));
        summary.check_name(&name);
        let is_dir = file.is_dir();
        let is_symlink = file.is_symlink();
        let encrypted = file.encrypted();
        let method = file.compression();
        let size = file.size();
        drop(file);
        if is_dir {
            continue;
        }
        if is_symlink {
            let target = link_target(&mut archive, index, budget);
            summary.note(
                "link",
                Some(&name),
                format!("symbolic link to `{target}` (not followed)"),
            );
            continue;
        }
        if encrypted {
            summary.note(
                "skipped-entry",
                Some(&name),
                "encrypted: its bytes were not read",
            );
            continue;
        }
        if !matches!(
            method,
            CompressionMethod::Stored | CompressionMethod::Deflated | CompressionMethod::Deflate64
        ) {
            summary.note(
                "skipped-entry",
                Some(&name),
                format!("compression method {method} is not read: its bytes were not examined"),
            );
            continue;
        }
        if is_package_signature(&name) {
            summary.package_signatures.push(name.clone());
        }
        plans.push(Plan {
            index,
            name,
            size,
            compressed,
            header,
        });
    }
    if error.is_none() {
        error = overlap(&mut ranges, shift);
    }
    if let Some(e) = error {
        return failed(summary, e);
    }

    // Second pass: the regular files, side by side.
    let stop = AtomicBool::new(false);
    let outcomes: Vec<Outcome<T>> = plans
        .par_iter()
        .map_init(
            || archive.clone(),
            |archive, plan| {
                if stop.load(Ordering::Relaxed) {
                    return Outcome::Stopped;
                }
                let out = read_entry(archive, plan, shift, budget, visit);
                if !matches!(out, Outcome::Visited(_, None)) {
                    stop.store(true, Ordering::Relaxed);
                }
                out
            },
        )
        .collect();
    let (items, error) = in_order(outcomes);
    Walked {
        items,
        summary,
        error,
    }
}

/// The results of the entries read side by side, in the container's order, up to the first
/// entry that did not read whole, and the first error in that order. An entry skipped because
/// another's error stopped the walk may come before the entry that failed (the threads finish
/// in any order): the error is looked for past it, so a walk that stopped always says why.
fn in_order<T>(outcomes: Vec<Outcome<T>>) -> (Vec<T>, Option<Error>) {
    let mut items = Vec::with_capacity(outcomes.len());
    let mut error = None;
    let mut whole = true;
    for out in outcomes {
        match out {
            Outcome::Visited(t, e) => {
                if whole {
                    items.push(t);
                }
                if let Some(e) = e {
                    error.get_or_insert(e);
                    whole = false;
                }
            }
            Outcome::Failed(e) => {
                error.get_or_insert(e);
                whole = false;
            }
            Outcome::Stopped => whole = false,
        }
        // An error is only set with `whole` cleared: nothing after it is kept or needed.
        if error.is_some() {
            break;
        }
    }
    (items, error)
}

fn failed<T>(summary: Summary, error: Error) -> Walked<T> {
    Walked {
        items: Vec::new(),
        summary,
        error: Some(error),
    }
}

/// An error when two entries' byte ranges (local header to end of data) overlap.
fn overlap(ranges: &mut [(u64, u64, usize)], shift: u64) -> Option<Error> {
    ranges.sort_unstable();
    let mut prev: Option<(u64, usize)> = None;
    for &(start, end, index) in ranges.iter() {
        if let Some((prev_end, prev_index)) = prev {
            if start < prev_end {
                return Some(Error::parser(
                    "zip",
                    format!(
                        "entries {prev_index} and {index} overlap (an overlapping-entry zip bomb \
                         expands the same bytes several times)"
                    ),
                    Some(start.saturating_sub(shift)),
                ));
            }
        }
        if prev.is_none_or(|(prev_end, _)| end > prev_end) {
            prev = Some((end, index));
        }
    }
    None
}

/// A symbolic link's target (its entry's bytes), at most [`MAX_LINK_TARGET`] bytes, lossy.
fn link_target(archive: &mut ZipArchive<Shifted<'_>>, index: usize, budget: &Budget) -> String {
    let Ok(file) = archive.by_index(index) else {
        return "?".to_owned();
    };
    let compressed = file.compressed_size();
    let mut target = Vec::new();
    let mut reader = Guarded::new(file, budget, compressed).take(MAX_LINK_TARGET);
    if reader.read_to_end(&mut target).is_err() {
        return "?".to_owned();
    }
    String::from_utf8_lossy(&target).into_owned()
}

fn read_entry<T>(
    archive: &mut ZipArchive<Shifted<'_>>,
    plan: &Plan,
    shift: u64,
    budget: &Budget,
    visit: &Visit<'_, T>,
) -> Outcome<T> {
    let offset = plan.header.saturating_sub(shift);
    let file = match archive.by_index(plan.index) {
        Ok(f) => f,
        Err(e) => return Outcome::Failed(Error::parser("zip entry", e, Some(offset))),
    };
    let meta = EntryMeta {
        index: plan.index as u64,
        name: plan.name.clone(),
        size: Some(plan.size),
        offset: Some(offset),
    };
    let mut reader = Guarded::new(file, budget, plan.compressed);
    let t = visit(&meta, &mut reader);
    let exceeded = reader.exceeded().cloned();
    Outcome::Visited(t, exceeded)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_signature_names() {
        for yes in [
            "META-INF/CERT.RSA",
            "META-INF/foo.sf",
            "META-INF/KEY.EC",
            "AppxSignature.p7x",
            ".signature.p7s",
            "numpy-2.0.dist-info/RECORD.jws",
            "x.dist-info/RECORD.p7s",
            "package/services/digital-signature/xml-signature/a.psdsxs",
        ] {
            assert!(is_package_signature(yes), "{yes}");
        }
        for no in [
            "META-INF/MANIFEST.MF",
            "META-INF/sub/CERT.RSA",
            "lib/AppxSignature.p7x",
            "x.dist-info/RECORD",
            "package/services/digital-signature/",
            "a/b.dist-info/RECORD.jws",
        ] {
            assert!(!is_package_signature(no), "{no}");
        }
    }

    fn zip_with(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
        use std::io::Write;
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
        let options = zip::write::SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated);
        for (name, data) in entries {
            if name.ends_with('/') {
                w.add_directory(name.as_str(), options).unwrap();
            } else {
                w.start_file(name.as_str(), options).unwrap();
                w.write_all(data).unwrap();
            }
        }
        w.finish().unwrap().into_inner()
    }

    #[test]
    fn entries_read_side_by_side_come_back_in_order() {
        let mut entries: Vec<(String, Vec<u8>)> = (0..300)
            .map(|i| {
                (
                    format!("f{i:03}"),
                    vec![(i % 256) as u8; 1 + (i * 37) % 5000],
                )
            })
            .collect();
        entries.insert(10, ("dir/".to_owned(), Vec::new()));
        let data = zip_with(&entries);
        let budget = Budget::new(Default::default());
        let visit = |m: &EntryMeta, r: &mut dyn Read| {
            let mut v = Vec::new();
            r.read_to_end(&mut v).unwrap();
            (m.index, m.name.clone(), v)
        };
        let w = walk(&data, &budget, &visit);
        assert!(w.error.is_none(), "{:?}", w.error);
        assert_eq!(w.summary.entries, 301);
        let files: Vec<(String, Vec<u8>)> = entries
            .into_iter()
            .filter(|(n, _)| !n.ends_with('/'))
            .collect();
        let got: Vec<(String, Vec<u8>)> = w
            .items
            .iter()
            .map(|(_, n, v)| (n.clone(), v.clone()))
            .collect();
        assert_eq!(got, files);
        assert!(
            w.items.windows(2).all(|p| p[0].0 < p[1].0),
            "container order"
        );
    }

    #[test]
    fn a_ratio_error_in_one_entry_stops_the_walk_after_it() {
        let mut entries: Vec<(String, Vec<u8>)> = (0..50)
            .map(|i| (format!("f{i:02}"), vec![b'x'; 10]))
            .collect();
        entries[20].1 = vec![0u8; 8 << 20];
        let data = zip_with(&entries);
        let budget = Budget::new(Default::default());
        let visit = |_: &EntryMeta, r: &mut dyn Read| {
            let _ = io::copy(r, &mut io::sink());
        };
        let w = walk(&data, &budget, &visit);
        let e = w.error.expect("a ratio error");
        assert!(e.to_string().contains("expansion ratio"), "{e}");
        assert!(w.items.len() <= 21, "{}", w.items.len());
    }

    /// Regression (seen in CI): entry 20's ratio error stopped the walk, an earlier entry read
    /// after that was skipped, and the walk then ended at the skipped entry with no error at all,
    /// so a container that stopped early looked whole.
    #[test]
    fn an_entry_skipped_before_the_one_that_failed_still_reports_the_error() {
        let e = || Error::budget("test", 2, 1, None);
        let (items, error) = in_order(vec![
            Outcome::Visited(0, None),
            Outcome::Stopped,
            Outcome::Visited(2, None),
            Outcome::Visited(3, Some(e())),
            Outcome::Visited(4, None),
        ]);
        assert_eq!(items, [0]);
        assert!(error.is_some());
        let (items, error) = in_order(vec![
            Outcome::Visited(0, None),
            Outcome::Stopped,
            Outcome::Failed(e()),
        ]);
        assert_eq!(items, [0]);
        assert!(error.is_some());
        // In order, the error's own entry is kept and nothing after it.
        let (items, error) = in_order(vec![
            Outcome::Visited(0, None),
            Outcome::Visited(1, Some(e())),
            Outcome::Stopped,
        ]);
        assert_eq!(items, [0, 1]);
        assert!(error.is_some());
        let (items, error) = in_order::<u8>(vec![Outcome::Visited(0, None)]);
        assert_eq!(items, [0]);
        assert!(error.is_none());
    }

    #[test]
    fn shifted_reads_zeros_then_data() {
        let mut r = Shifted {
            data: b"abc",
            shift: 2,
            pos: 0,
        };
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        assert_eq!(out, b"\0\0abc");
        assert_eq!(r.seek(SeekFrom::End(-1)).unwrap(), 4);
        assert!(r.seek(SeekFrom::Current(-10)).is_err());
    }
}
