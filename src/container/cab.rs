//! Microsoft cabinets ([MS-CAB]): every file of every folder given to the visitor, each folder
//! decompressed once, front to back (stored, MSZIP and LZX; a Quantum folder's files are noted
//! as skipped).
//!
//! The cabinet's tables are read here through the bounds-checked reader: the counts are 16-bit
//! (at most 65,535 folders and files, 65,535 data blocks per folder), each block holds at most
//! [`crate::budget::MAX_CAB_BLOCK_UNCOMPRESSED`] bytes, and every byte decompressed goes through
//! [`Guarded`], one unit per folder (its compressed bytes). The `cab` crate was not used: it
//! decompresses a solid folder from its start again for every file it opens (quadratic in the
//! folder's size) and indexes its block list with offsets from the file.
//!
//! A cabinet that continues into or from another one (a spanning set) is read as far as this
//! cabinet goes, with a `spanning-cabinet` note.

use std::io::{self, Read};

use super::{Budget, EntryMeta, Guarded, Kind, Summary, Visit, Walked, budget_error, count_entry};
use crate::budget::{MAX_CAB_BLOCK_UNCOMPRESSED, MAX_CAB_LZX_WINDOW_BITS};
use crate::error::{Error, Result};
use crate::read::Bytes;

const FLAG_PREV_CABINET: u16 = 0x0001;
const FLAG_NEXT_CABINET: u16 = 0x0002;
const FLAG_RESERVE_PRESENT: u16 = 0x0004;

/// Longest name or cabinet string read (CB_MAX_FILENAME and CB_MAX_CABINET_NAME are 256).
const MAX_NAME: u64 = 256;

/// How a folder's data is compressed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    MsZip,
    Quantum,
    /// LZX with a window of 2^bits bytes.
    Lzx(u8),
    Unknown(u16),
}

impl Compression {
    fn from_bits(t: u16) -> Self {
        match t & 0x000f {
            0 => Compression::None,
            1 => Compression::MsZip,
            2 => Compression::Quantum,
            3 => Compression::Lzx(((t >> 8) & 0x1f) as u8),
            _ => Compression::Unknown(t),
        }
    }
}

/// One CFFOLDER entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Folder {
    /// Offset of its first CFDATA block.
    pub data_offset: u32,
    pub blocks: u16,
    pub compression: Compression,
}

/// One CFFILE entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub size: u32,
    pub folder_offset: u32,
    /// The folder index as stored (0xFFFD..=0xFFFF: continued from or into another cabinet).
    pub folder: u16,
    /// Where the CFFILE entry is.
    pub entry_offset: u64,
}

/// A cabinet's header and tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cabinet {
    pub flags: u16,
    pub header_reserve: u16,
    pub folder_reserve: u8,
    pub data_reserve: u8,
    pub folders: Vec<Folder>,
    pub files: Vec<File>,
}

fn bad(what: impl std::fmt::Display, offset: Option<u64>) -> Error {
    Error::parser("cabinet", what, offset)
}

/// Reads a cabinet's header, folders and files.
pub fn read(data: &[u8]) -> Result<Cabinet> {
    let b = Bytes::new(data, true);
    if b.get("cabinet signature", 0, 4)? != b"MSCF" {
        return Err(bad("not a cabinet (no MSCF signature)", Some(0)));
    }
    let files_at = u64::from(b.u32("coffFiles", 16)?);
    let major = b.u8("versionMajor", 25)?;
    if major != 1 {
        return Err(bad(
            format!("cabinet version {major} (1 expected)"),
            Some(25),
        ));
    }
    let nfolders = b.u16("cFolders", 26)?;
    let nfiles = b.u16("cFiles", 28)?;
    let flags = b.u16("flags", 30)?;
    let mut at = 36u64;
    let (mut header_reserve, mut folder_reserve, mut data_reserve) = (0u16, 0u8, 0u8);
    if flags & FLAG_RESERVE_PRESENT != 0 {
        header_reserve = b.u16("cbCFHeader", 36)?;
        folder_reserve = b.u8("cbCFFolder", 38)?;
        data_reserve = b.u8("cbCFData", 39)?;
        at = 40u64.saturating_add(u64::from(header_reserve));
    }
    for (flag, what) in [
        (FLAG_PREV_CABINET, "previous cabinet name"),
        (FLAG_NEXT_CABINET, "next cabinet name"),
    ] {
        if flags & flag != 0 {
            for _ in 0..2 {
                let s = b.cstr_bytes(what, at, MAX_NAME)?;
                at = at.saturating_add(s.len() as u64).saturating_add(1);
            }
        }
    }
    let folder_len = 8u64.saturating_add(u64::from(folder_reserve));
    // Each table entry takes bytes of the file: a count past what the file holds is refused
    // before anything is allocated for it.
    b.get(
        "CFFOLDER table",
        at,
        folder_len.saturating_mul(u64::from(nfolders)),
    )?;
    let mut folders = Vec::with_capacity(usize::from(nfolders));
    for _ in 0..nfolders {
        folders.push(Folder {
            data_offset: b.u32("coffCabStart", at)?,
            blocks: b.u16("cCFData", at.saturating_add(4))?,
            compression: Compression::from_bits(b.u16("typeCompress", at.saturating_add(6))?),
        });
        at = at.saturating_add(folder_len);
    }
    b.get(
        "CFFILE table",
        files_at,
        17u64.saturating_mul(u64::from(nfiles)),
    )?;
    let mut files = Vec::with_capacity(usize::from(nfiles));
    let mut at = files_at;
    for _ in 0..nfiles {
        let raw = b.cstr_bytes("CFFILE name", at.saturating_add(16), MAX_NAME)?;
        let attribs = b.u16("CFFILE attribs", at.saturating_add(14))?;
        // _A_NAME_IS_UTF (0x80): UTF-8; otherwise the code page is unknown: shown lossily.
        let _ = attribs;
        files.push(File {
            name: String::from_utf8_lossy(raw).into_owned(),
            size: b.u32("cbFile", at)?,
            folder_offset: b.u32("uoffFolderStart", at.saturating_add(4))?,
            folder: b.u16("iFolder", at.saturating_add(8))?,
            entry_offset: at,
        });
        at = at
            .saturating_add(16)
            .saturating_add(raw.len() as u64)
            .saturating_add(1);
    }
    Ok(Cabinet {
        flags,
        header_reserve,
        folder_reserve,
        data_reserve,
        folders,
        files,
    })
}

enum Decoder {
    Stored,
    MsZip {
        inflate: flate2::Decompress,
        history: Vec<u8>,
    },
    Lzx(Box<lzxd::Lzxd>),
}

/// Largest MSZIP history (the DEFLATE window).
const DEFLATE_WINDOW: usize = 32 * 1024;

impl Decoder {
    fn new(c: Compression) -> Option<Decoder> {
        Some(match c {
            Compression::None => Decoder::Stored,
            Compression::MsZip => Decoder::MsZip {
                inflate: flate2::Decompress::new(false),
                history: Vec::new(),
            },
            Compression::Lzx(bits) if (15..=MAX_CAB_LZX_WINDOW_BITS).contains(&bits) => {
                let w = match bits {
                    15 => lzxd::WindowSize::KB32,
                    16 => lzxd::WindowSize::KB64,
                    17 => lzxd::WindowSize::KB128,
                    18 => lzxd::WindowSize::KB256,
                    19 => lzxd::WindowSize::KB512,
                    20 => lzxd::WindowSize::MB1,
                    _ => lzxd::WindowSize::MB2,
                };
                Decoder::Lzx(Box::new(lzxd::Lzxd::new(w)))
            }
            _ => return None,
        })
    }

    fn block(&mut self, data: &[u8], out_len: usize) -> io::Result<Vec<u8>> {
        let bad = |m: String| io::Error::new(io::ErrorKind::InvalidData, m);
        let out = match self {
            Decoder::Stored => data.to_vec(),
            Decoder::MsZip { inflate, history } => {
                let Some(body) = data.strip_prefix(b"CK") else {
                    return Err(bad("an MSZIP block does not start with CK".into()));
                };
                // Each block is a DEFLATE stream that may refer to the previous block's last
                // 32 KiB: they are given to the inflater first as one stored block.
                inflate.reset(false);
                if !history.is_empty() {
                    let n = u16::try_from(history.len()).unwrap_or(0);
                    let mut primer = Vec::with_capacity(history.len().saturating_add(5));
                    primer.push(0);
                    primer.extend_from_slice(&n.to_le_bytes());
                    primer.extend_from_slice(&(!n).to_le_bytes());
                    primer.extend_from_slice(history);
                    let mut sink = Vec::with_capacity(history.len());
                    inflate
                        .decompress_vec(&primer, &mut sink, flate2::FlushDecompress::Sync)
                        .map_err(|e| bad(format!("MSZIP history: {e}")))?;
                }
                let mut out = Vec::with_capacity(out_len);
                inflate
                    .decompress_vec(body, &mut out, flate2::FlushDecompress::Finish)
                    .map_err(|e| bad(format!("MSZIP block: {e}")))?;
                let keep = out.len().min(DEFLATE_WINDOW);
                let total = history.len().saturating_add(keep);
                history.drain(..total.saturating_sub(DEFLATE_WINDOW).min(history.len()));
                history.extend_from_slice(out.get(out.len().saturating_sub(keep)..).unwrap_or(&[]));
                out
            }
            // lzxd is a third-party decoder of untrusted bits: a panic in it is contained
            // and becomes this block's error.
            Decoder::Lzx(l) => crate::guard::contain("LZX decoder", None, || {
                l.decompress_next(data, out_len).map(<[u8]>::to_vec)
            })
            .map_err(|e| bad(e.to_string()))?
            .map_err(|e| bad(format!("LZX block: {e}")))?,
        };
        if out.len() != out_len {
            return Err(bad(format!(
                "a block expands to {} bytes; its header says {out_len}",
                out.len()
            )));
        }
        Ok(out)
    }
}

/// A folder's uncompressed bytes, block by block.
struct FolderReader<'a> {
    data: Bytes<'a>,
    decoder: Decoder,
    /// Next CFDATA block's offset, and blocks left.
    next: u64,
    left: u16,
    data_reserve: u64,
    block: Vec<u8>,
    pos: usize,
    /// Uncompressed bytes given so far.
    offset: u64,
}

impl FolderReader<'_> {
    fn load(&mut self) -> io::Result<bool> {
        if self.left == 0 {
            return Ok(false);
        }
        let err = |e: Error| io::Error::new(io::ErrorKind::InvalidData, e.to_string());
        let at = self.next;
        let cb = u64::from(self.data.u16("cbData", at.saturating_add(4)).map_err(err)?);
        let un = self
            .data
            .u16("cbUncomp", at.saturating_add(6))
            .map_err(err)?;
        if u64::from(un) > MAX_CAB_BLOCK_UNCOMPRESSED {
            return Err(err(Error::budget(
                "bytes one CAB data block expands to",
                u64::from(un),
                MAX_CAB_BLOCK_UNCOMPRESSED,
                Some(at),
            )));
        }
        let body_at = at.saturating_add(8).saturating_add(self.data_reserve);
        let body = self.data.get("CFDATA bytes", body_at, cb).map_err(err)?;
        self.block = self.decoder.block(body, usize::from(un))?;
        self.pos = 0;
        self.next = body_at.saturating_add(cb);
        self.left = self.left.saturating_sub(1);
        Ok(true)
    }
}

impl Read for FolderReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.pos >= self.block.len() {
            if !self.load()? {
                return Ok(0);
            }
        }
        let rest = self.block.get(self.pos..).unwrap_or(&[]);
        let n = rest.len().min(buf.len());
        if let (Some(d), Some(s)) = (buf.get_mut(..n), rest.get(..n)) {
            d.copy_from_slice(s);
        }
        self.pos = self.pos.saturating_add(n);
        self.offset = self.offset.saturating_add(n as u64);
        Ok(n)
    }
}

/// The compressed bytes of a folder (its blocks' data, for the expansion ratio): from its first
/// block to the next folder's, or to the end of the file.
fn folder_span(cab: &Cabinet, i: usize, len: u64) -> u64 {
    let Some(f) = cab.folders.get(i) else {
        return 0;
    };
    let start = u64::from(f.data_offset);
    let end = cab
        .folders
        .iter()
        .map(|g| u64::from(g.data_offset))
        .filter(|&o| o > start)
        .min()
        .unwrap_or(len);
    end.saturating_sub(start)
}

fn io_to_error(e: &io::Error, what: &str, offset: u64) -> Error {
    budget_error(e).unwrap_or_else(|| bad(format!("{what}: {e}"), Some(offset)))
}

/// Walks every file of every folder, folder by folder, each folder decompressed once.
pub fn walk<T: Send>(data: &[u8], budget: &Budget, visit: &Visit<'_, T>) -> Walked<T> {
    let mut summary = Summary::new(Kind::Cab);
    let mut items = Vec::new();
    let cab = match read(data) {
        Ok(c) => c,
        Err(e) => {
            return Walked {
                items,
                summary,
                error: Some(e),
            };
        }
    };
    let error = walk_cab(data, &cab, budget, visit, &mut summary, &mut items).err();
    Walked {
        items,
        summary,
        error,
    }
}

fn walk_cab<T>(
    data: &[u8],
    cab: &Cabinet,
    budget: &Budget,
    visit: &Visit<'_, T>,
    summary: &mut Summary,
    items: &mut Vec<T>,
) -> Result<()> {
    if cab.flags & (FLAG_PREV_CABINET | FLAG_NEXT_CABINET) != 0 {
        summary.note(
            "spanning-cabinet",
            None,
            "the cabinet is part of a set spanning several cabinets: only this one is read, \
             and files continued from or into the others are skipped",
        );
    }
    // Entries in the cabinet's order; files are visited folder by folder in data order.
    let mut by_folder: Vec<Vec<usize>> = vec![Vec::new(); cab.folders.len()];
    for (i, f) in cab.files.iter().enumerate() {
        count_entry(summary, &budget.limits)?;
        summary.check_name(&f.name);
        match by_folder.get_mut(usize::from(f.folder)) {
            Some(v) => v.push(i),
            None => summary.note(
                "skipped-entry",
                Some(&f.name),
                if f.folder >= 0xFFFD {
                    "the file continues from or into another cabinet of a set: not read".to_owned()
                } else {
                    format!(
                        "the file names folder {}, which the cabinet does not have",
                        f.folder
                    )
                },
            ),
        }
    }
    refuse_shared_folder_data(cab, &by_folder)?;
    let len = data.len() as u64;
    for (fi, files) in by_folder.iter_mut().enumerate() {
        let Some(folder) = cab.folders.get(fi) else {
            continue;
        };
        if files.is_empty() {
            continue;
        }
        files.sort_by_key(|&i| cab.files.get(i).map_or(0, |f| f.folder_offset));
        let Some(decoder) = Decoder::new(folder.compression) else {
            for &i in files.iter() {
                if let Some(f) = cab.files.get(i) {
                    summary.note(
                        "skipped-entry",
                        Some(&f.name),
                        format!(
                            "its folder's compression ({:?}) is not read",
                            folder.compression
                        ),
                    );
                }
            }
            continue;
        };
        let mut reader = Guarded::new(
            FolderReader {
                data: Bytes::new(data, true),
                decoder,
                next: u64::from(folder.data_offset),
                left: folder.blocks,
                data_reserve: u64::from(cab.data_reserve),
                block: Vec::new(),
                pos: 0,
                offset: 0,
            },
            budget,
            folder_span(cab, fi, len),
        );
        let mut at = 0u64;
        for &i in files.iter() {
            let Some(f) = cab.files.get(i) else {
                continue;
            };
            let start = u64::from(f.folder_offset);
            if start < at {
                // Files overlapping in a folder: a second pass would be needed; noted instead.
                summary.note(
                    "skipped-entry",
                    Some(&f.name),
                    "the file overlaps the previous one in its folder: not read",
                );
                continue;
            }
            let skipped = io::copy(
                &mut (&mut reader).take(start.saturating_sub(at)),
                &mut io::sink(),
            )
            .map_err(|e| io_to_error(&e, "folder data", u64::from(folder.data_offset)))?;
            at = at.saturating_add(skipped);
            if at < start {
                return Err(bad(
                    format!(
                        "file {:?} starts at {start} in folder {fi}, which holds {at} bytes",
                        f.name
                    ),
                    Some(f.entry_offset),
                ));
            }
            let meta = EntryMeta {
                index: i as u64,
                name: f.name.clone(),
                size: Some(u64::from(f.size)),
                offset: Some(f.entry_offset),
            };
            let mut entry = (&mut reader).take(u64::from(f.size));
            items.push(visit(&meta, &mut entry));
            // The visitor may stop early: the rest of the file is consumed by the next skip.
            let consumed = u64::from(f.size).saturating_sub(entry.limit());
            at = at.saturating_add(consumed);
            if let Some(e) = reader_error(budget) {
                return Err(e);
            }
        }
    }
    Ok(())
}

/// An error when two folders with files to read start at the same data block: each folder is
/// decompressed once, so a folder table repeating one folder (the cabinet twin of the
/// overlapping-entry zip bomb) would expand the same blocks once per copy, each within the
/// expansion ratio. Folders starting inside another's blocks are bounded by the ratio instead:
/// each is measured against the bytes up to the next folder's start ([`folder_span`]).
fn refuse_shared_folder_data(cab: &Cabinet, by_folder: &[Vec<usize>]) -> Result<()> {
    let mut starts: Vec<(u32, usize)> = cab
        .folders
        .iter()
        .enumerate()
        .filter(|(i, f)| f.blocks > 0 && by_folder.get(*i).is_some_and(|v| !v.is_empty()))
        .map(|(i, f)| (f.data_offset, i))
        .collect();
    starts.sort_unstable();
    for pair in starts.windows(2) {
        if let [(a, ia), (b, ib)] = pair {
            if a == b {
                return Err(bad(
                    format!(
                        "folders {ia} and {ib} start at the same data block (the same bytes \
                         would be decompressed once per folder)"
                    ),
                    Some(u64::from(*a)),
                ));
            }
        }
    }
    Ok(())
}

/// A budget error left behind by the visitor's reads (it saw an `io::Error`; the walk must stop).
fn reader_error(budget: &Budget) -> Option<Error> {
    let limits = &budget.limits;
    (budget.expanded() > limits.max_expanded).then(|| {
        Error::budget(
            "bytes decompressed from one file",
            budget.expanded(),
            limits.max_expanded,
            None,
        )
    })
}
