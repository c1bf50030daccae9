//! Windows Installer databases (.msi, .msm, .msp, .mst): a compound file (OLE2, [MS-CFB]) read
//! in memory, its streams given to the visitor.
//!
//! The compound file is read here, not through a general CFB crate, because every number in it
//! comes from the file: the FAT, mini FAT and directory are bounded by the file's own size (a
//! FAT may not claim more sectors than the file holds), every sector chain is followed at most
//! once (a sector claimed by two chains, or a loop, is an error), and a stream is read sector by
//! sector from the mapped bytes, never copied whole. The Authenticode side
//! (`crate::authenticode::msi`) hashes the same streams through [`Cfb`].
//!
//! Stream names are decoded from MSI's compressed name encoding (two base-64 characters per
//! UTF-16 unit in 0x3800..0x47FF, one in 0x4800..0x483F, 0x4840 marking a table): a table stream
//! is shown as `!Name`, a control character as `[N]` (`[5]DigitalSignature`,
//! `[5]SummaryInformation`). A stream in a storage is `Storage/Stream`. CAB file keys are not
//! mapped to the File table's long names (the CAB walk shows the keys, as `gcab -l` does).

use std::io::{self, Read};

use super::{Budget, EntryMeta, Guarded, Kind, Summary, Visit, Walked, count_entry};
use crate::error::{Error, Result};
use crate::read::Bytes;

/// The compound file (OLE2) signature.
pub const CFB_MAGIC: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";

/// Root storage class ids of Windows Installer files, as stored (GUID in little-endian fields):
/// {000C1084-0000-0000-C000-000000000046} (.msi and .msm), {000C1086-…} (.msp, a patch) and
/// {000C1082-…} (.mst, a transform).
pub const INSTALLER_CLSIDS: [[u8; 16]; 3] = [clsid(0x84), clsid(0x86), clsid(0x82)];

const fn clsid(low: u8) -> [u8; 16] {
    [
        low, 0x10, 0x0c, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x46,
    ]
}

/// Special sector numbers ([MS-CFB] 2.1).
const ENDOFCHAIN: u32 = 0xFFFF_FFFE;
const FREESECT: u32 = 0xFFFF_FFFF;
const NOSTREAM: u32 = 0xFFFF_FFFF;

const HEADER_DIFAT_ENTRIES: usize = 109;
const DIR_ENTRY_LEN: u64 = 128;
const MINI_SECTOR: u64 = 64;

/// What a directory entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EntryType {
    Storage,
    Stream,
    Root,
}

/// One directory entry, its fields as stored (the MSI signature pre-hash needs them raw).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirEntry {
    /// The UTF-16LE name without its terminating NUL.
    pub name: Vec<u8>,
    pub kind: EntryType,
    pub clsid: [u8; 16],
    pub state_bits: [u8; 4],
    pub created: [u8; 8],
    pub modified: [u8; 8],
    /// The stream size (the low 32 bits in a version 3 file, as [MS-CFB] says readers must).
    pub size: u64,
    start: u32,
    left: u32,
    right: u32,
    child: u32,
    /// The entry's sectors (regular or mini, by `mini`), resolved when the file was opened.
    sectors: Vec<u32>,
    mini: bool,
}

/// A compound file opened from bytes in memory: its directory, and every stream's sector chain
/// already followed and checked.
pub struct Cfb<'a> {
    data: &'a [u8],
    sector_size: u64,
    /// Sectors of the mini stream (the root entry's chain).
    mini_stream: Vec<u32>,
    pub entries: Vec<DirEntry>,
    /// For each storage (and the root, entry 0): its children, in directory-tree order.
    children: Vec<Vec<usize>>,
}

fn bad(what: impl std::fmt::Display, offset: Option<u64>) -> Error {
    Error::parser("compound file", what, offset)
}

/// Follows a chain from `start` through `table` until `needed` sectors are taken (all of it
/// when `None`), marking each sector in `used`: a sector met twice (a loop, or two chains
/// sharing it) is an error, so all chains together take at most one step per sector.
fn follow(
    table: &[u32],
    start: u32,
    needed: Option<u64>,
    used: &mut [bool],
    what: &str,
) -> Result<Vec<u32>> {
    let mut out = Vec::new();
    let mut cur = start;
    loop {
        if needed.is_some_and(|n| out.len() as u64 >= n) {
            return Ok(out);
        }
        if cur == ENDOFCHAIN {
            return match needed {
                Some(n) => Err(bad(
                    format!(
                        "the {what} chain ends after {} sectors; {n} needed",
                        out.len()
                    ),
                    None,
                )),
                None => Ok(out),
            };
        }
        let i = usize::try_from(cur).unwrap_or(usize::MAX);
        let (Some(next), Some(u)) = (table.get(i), used.get_mut(i)) else {
            return Err(bad(
                format!("the {what} chain names sector {cur:#x}, past the end of its table"),
                None,
            ));
        };
        if *u {
            return Err(bad(
                format!("the {what} chain meets sector {cur:#x} a second time"),
                None,
            ));
        }
        *u = true;
        out.push(cur);
        cur = *next;
    }
}

fn ceil_div(n: u64, d: u64) -> u64 {
    n.div_ceil(d.max(1))
}

impl<'a> Cfb<'a> {
    /// Opens a compound file. Every table size is checked against the file's size before
    /// anything is allocated for it.
    pub fn open(data: &'a [u8]) -> Result<Cfb<'a>> {
        let b = Bytes::new(data, true);
        if b.get("compound file signature", 0, 8)? != CFB_MAGIC {
            return Err(bad("not a compound file (no D0CF11E0 signature)", Some(0)));
        }
        let major = b.u16("major version", 0x1a)?;
        let shift = b.u16("sector shift", 0x1e)?;
        let sector_size: u64 = match (major, shift) {
            (3, 9) => 512,
            (4, 12) => 4096,
            _ => {
                return Err(bad(
                    format!("version {major} with sector shift {shift} (3/9 or 4/12 expected)"),
                    Some(0x1a),
                ));
            }
        };
        let mini_shift = b.u16("mini sector shift", 0x20)?;
        if mini_shift != 6 {
            return Err(bad(
                format!("mini sector shift {mini_shift} (6 expected)"),
                Some(0x20),
            ));
        }
        let len = b.len();
        // Sectors the file holds (the last may be cut short; reading past the end is an error
        // when a stream gets there).
        let nsec = ceil_div(len.saturating_sub(sector_size), sector_size);
        let nsec_usize = usize::try_from(nsec).map_err(|_| bad("file too large", None))?;
        let num_fat = u64::from(b.u32("number of FAT sectors", 0x2c)?);
        if num_fat > nsec {
            return Err(Error::budget(
                "FAT sectors a compound file declares (more than the file holds)",
                num_fat,
                nsec,
                Some(0x2c),
            ));
        }
        let first_dir = b.u32("first directory sector", 0x30)?;
        let cutoff = u64::from(b.u32("mini stream cutoff", 0x38)?);
        let first_minifat = b.u32("first mini FAT sector", 0x3c)?;
        let num_minifat = u64::from(b.u32("number of mini FAT sectors", 0x40)?);
        let first_difat = b.u32("first DIFAT sector", 0x44)?;
        let num_difat = u64::from(b.u32("number of DIFAT sectors", 0x48)?);
        if num_minifat > nsec || num_difat > nsec {
            return Err(Error::budget(
                "mini FAT or DIFAT sectors a compound file declares (more than the file holds)",
                num_minifat.max(num_difat),
                nsec,
                Some(0x40),
            ));
        }
        let sector = |s: u32| -> Result<&'a [u8]> {
            let off = u64::from(s)
                .checked_add(1)
                .and_then(|n| n.checked_mul(sector_size))
                .ok_or_else(|| bad(format!("sector {s:#x} out of range"), None))?;
            b.get("compound file sector", off, sector_size)
        };
        let per_sector = usize::try_from(sector_size / 4).unwrap_or(128);

        // The FAT's own sectors: 109 in the header, the rest in the DIFAT chain.
        let want_fat = usize::try_from(num_fat).unwrap_or(usize::MAX);
        let mut fat_sectors: Vec<u32> = Vec::with_capacity(want_fat);
        for i in 0..HEADER_DIFAT_ENTRIES {
            if fat_sectors.len() >= want_fat {
                break;
            }
            let off = 0x4c_u64.saturating_add((i as u64).saturating_mul(4));
            fat_sectors.push(b.u32("header DIFAT entry", off)?);
        }
        let mut difat = first_difat;
        let mut difat_steps = 0u64;
        while fat_sectors.len() < want_fat && difat != ENDOFCHAIN && difat != FREESECT {
            difat_steps = difat_steps.saturating_add(1);
            if difat_steps > num_difat.max(1) {
                return Err(bad("the DIFAT chain is longer than the header says", None));
            }
            let s = Bytes::new(sector(difat)?, true);
            let entries = per_sector.saturating_sub(1);
            for i in 0..entries {
                if fat_sectors.len() >= want_fat {
                    break;
                }
                fat_sectors.push(s.u32("DIFAT entry", (i as u64).saturating_mul(4))?);
            }
            difat = s.u32("next DIFAT sector", (entries as u64).saturating_mul(4))?;
        }
        if fat_sectors.len() < want_fat {
            return Err(bad(
                format!(
                    "the DIFAT lists {} FAT sectors; the header declares {num_fat}",
                    fat_sectors.len()
                ),
                None,
            ));
        }
        // Only the entries for sectors the file holds are kept: the rest point nowhere.
        let mut fat: Vec<u32> =
            Vec::with_capacity(nsec_usize.min(want_fat.saturating_mul(per_sector)));
        'fat: for s in &fat_sectors {
            let sec = Bytes::new(sector(*s)?, true);
            for i in 0..per_sector {
                if fat.len() >= nsec_usize {
                    break 'fat;
                }
                fat.push(sec.u32("FAT entry", (i as u64).saturating_mul(4))?);
            }
        }
        let mut used = vec![false; fat.len()];

        // The directory.
        let dir_chain = follow(&fat, first_dir, None, &mut used, "directory")?;
        let per_dir = usize::try_from(sector_size / DIR_ENTRY_LEN).unwrap_or(4);
        let mut entries = Vec::with_capacity(dir_chain.len().saturating_mul(per_dir));
        let mut types = Vec::with_capacity(entries.capacity());
        for s in &dir_chain {
            let sec = Bytes::new(sector(*s)?, true);
            for i in 0..per_dir {
                let e = sec.sub(
                    "directory entry",
                    (i as u64).saturating_mul(DIR_ENTRY_LEN),
                    DIR_ENTRY_LEN,
                )?;
                let raw_type = e.u8("entry type", 66)?;
                types.push(raw_type);
                let name_len = u64::from(e.u16("entry name length", 64)?);
                let name = if (2..=64).contains(&name_len) {
                    e.get("entry name", 0, name_len.saturating_sub(2))?.to_vec()
                } else {
                    Vec::new()
                };
                let mut size = e.u64("stream size", 120)?;
                if major == 3 {
                    size &= 0xFFFF_FFFF;
                }
                let arr = |off: u64, n: u64| e.get("directory entry field", off, n);
                entries.push(DirEntry {
                    name,
                    kind: match raw_type {
                        1 => EntryType::Storage,
                        5 => EntryType::Root,
                        _ => EntryType::Stream,
                    },
                    clsid: arr(80, 16)?.try_into().unwrap_or_default(),
                    state_bits: arr(96, 4)?.try_into().unwrap_or_default(),
                    created: arr(100, 8)?.try_into().unwrap_or_default(),
                    modified: arr(108, 8)?.try_into().unwrap_or_default(),
                    size,
                    start: e.u32("start sector", 116)?,
                    left: e.u32("left sibling", 68)?,
                    right: e.u32("right sibling", 72)?,
                    child: e.u32("child", 76)?,
                    sectors: Vec::new(),
                    mini: false,
                });
            }
        }
        if types.first() != Some(&5) {
            return Err(bad(
                "the first directory entry is not the root storage",
                None,
            ));
        }

        // The mini FAT and the mini stream (the root entry's data).
        let minifat_chain = if num_minifat == 0 {
            Vec::new()
        } else {
            follow(&fat, first_minifat, None, &mut used, "mini FAT")?
        };
        let mut minifat: Vec<u32> =
            Vec::with_capacity(minifat_chain.len().saturating_mul(per_sector));
        for s in &minifat_chain {
            let sec = Bytes::new(sector(*s)?, true);
            for i in 0..per_sector {
                minifat.push(sec.u32("mini FAT entry", (i as u64).saturating_mul(4))?);
            }
        }
        let root_size = entries.first().map_or(0, |r| r.size);
        let root_start = entries.first().map_or(ENDOFCHAIN, |r| r.start);
        let mini_stream = if root_size == 0 {
            Vec::new()
        } else {
            follow(
                &fat,
                root_start,
                Some(ceil_div(root_size, sector_size)),
                &mut used,
                "mini stream",
            )?
        };
        let mini_sectors = ceil_div(root_size, MINI_SECTOR);
        minifat.truncate(usize::try_from(mini_sectors).unwrap_or(usize::MAX));
        let mut mini_used = vec![false; minifat.len()];

        // The tree: every storage's children, each entry reached once.
        let n = entries.len();
        let mut children = vec![Vec::new(); n];
        let mut reached = vec![false; n];
        if let Some(r) = reached.first_mut() {
            *r = true;
        }
        let mut storages = vec![0usize];
        while let Some(parent) = storages.pop() {
            let Some(first) = entries.get(parent).map(|e| e.child) else {
                continue;
            };
            // In-order walk of the red-black tree under `parent`.
            let mut stack: Vec<u32> = Vec::new();
            let mut cur = first;
            let mut kids = Vec::new();
            loop {
                while cur != NOSTREAM {
                    let i = usize::try_from(cur).unwrap_or(usize::MAX);
                    let Some(r) = reached.get_mut(i) else {
                        return Err(bad(format!("directory entry {cur} does not exist"), None));
                    };
                    if *r {
                        return Err(bad(
                            format!("directory entry {cur} is reached twice (a loop in the tree)"),
                            None,
                        ));
                    }
                    *r = true;
                    stack.push(cur);
                    cur = entries.get(i).map_or(NOSTREAM, |e| e.left);
                }
                let Some(top) = stack.pop() else {
                    break;
                };
                let i = usize::try_from(top).unwrap_or(usize::MAX);
                kids.push(i);
                cur = entries.get(i).map_or(NOSTREAM, |e| e.right);
            }
            for &k in &kids {
                if types.get(k) == Some(&1) {
                    storages.push(k);
                } else if types.get(k) != Some(&2) {
                    return Err(bad(
                        format!(
                            "directory entry {k} in the tree has type {}",
                            types.get(k).copied().unwrap_or(0)
                        ),
                        None,
                    ));
                }
            }
            if let Some(c) = children.get_mut(parent) {
                *c = kids;
            }
        }

        // Every stream reached: its chain, regular or mini.
        for (i, e) in entries.iter_mut().enumerate() {
            if e.kind != EntryType::Stream
                || !reached.get(i).copied().unwrap_or(false)
                || e.size == 0
            {
                continue;
            }
            if e.size < cutoff {
                e.mini = true;
                e.sectors = follow(
                    &minifat,
                    e.start,
                    Some(ceil_div(e.size, MINI_SECTOR)),
                    &mut mini_used,
                    "mini stream sector",
                )?;
            } else {
                if e.size > len {
                    return Err(bad(
                        format!(
                            "a stream declares {} bytes, more than the file's {len}",
                            e.size
                        ),
                        None,
                    ));
                }
                e.sectors = follow(
                    &fat,
                    e.start,
                    Some(ceil_div(e.size, sector_size)),
                    &mut used,
                    "stream",
                )?;
            }
        }
        Ok(Cfb {
            data,
            sector_size,
            mini_stream,
            entries,
            children,
        })
    }

    /// The root storage's class id.
    pub fn root_clsid(&self) -> [u8; 16] {
        self.entries.first().map_or([0; 16], |e| e.clsid)
    }

    /// The children of storage `i` (0 is the root), in directory-tree order.
    pub fn children(&self, i: usize) -> &[usize] {
        self.children.get(i).map_or(&[], Vec::as_slice)
    }

    /// A reader over stream `i`'s bytes, straight from the mapped file.
    pub fn stream(&self, i: usize) -> StreamReader<'_, 'a> {
        StreamReader {
            cfb: self,
            entry: self.entries.get(i),
            pos: 0,
        }
    }

    /// The bytes of regular sector `s` from `off`, at most `len`.
    fn sector_bytes(&self, s: u32, off: u64, len: u64) -> io::Result<&'a [u8]> {
        let start = u64::from(s)
            .checked_add(1)
            .and_then(|n| n.checked_mul(self.sector_size))
            .and_then(|n| n.checked_add(off))
            .ok_or_else(|| io::Error::other("sector offset overflows"))?;
        let b = Bytes::new(self.data, true);
        b.get("stream sector", start, len)
            .map_err(|e| io::Error::new(io::ErrorKind::UnexpectedEof, e.to_string()))
    }
}

/// Reads one stream sector by sector (see [`Cfb::stream`]).
pub struct StreamReader<'c, 'a> {
    cfb: &'c Cfb<'a>,
    entry: Option<&'c DirEntry>,
    pos: u64,
}

impl<'a> StreamReader<'_, 'a> {
    /// The next run of the stream's bytes (empty at its end).
    pub fn next_chunk(&mut self) -> io::Result<&'a [u8]> {
        let Some(e) = self.entry else {
            return Ok(&[]);
        };
        let left = e.size.saturating_sub(self.pos);
        if left == 0 {
            return Ok(&[]);
        }
        let unit = if e.mini {
            MINI_SECTOR
        } else {
            self.cfb.sector_size
        };
        let idx =
            usize::try_from(self.pos.checked_div(unit).unwrap_or(u64::MAX)).unwrap_or(usize::MAX);
        let within = self.pos.checked_rem(unit).unwrap_or(0);
        let take = unit.saturating_sub(within).min(left);
        let Some(&s) = e.sectors.get(idx) else {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "stream chain shorter than its size",
            ));
        };
        let bytes =
            if e.mini {
                // Mini sector s lies at s*64 in the mini stream, itself in regular sectors.
                let at = u64::from(s)
                    .saturating_mul(MINI_SECTOR)
                    .saturating_add(within);
                let ss = self.cfb.sector_size;
                let Some(&reg) = self.cfb.mini_stream.get(
                    usize::try_from(at.checked_div(ss).unwrap_or(u64::MAX)).unwrap_or(usize::MAX),
                ) else {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "mini sector past the mini stream",
                    ));
                };
                self.cfb
                    .sector_bytes(reg, at.checked_rem(ss).unwrap_or(0), take)?
            } else {
                self.cfb.sector_bytes(s, within, take)?
            };
        self.pos = self.pos.saturating_add(take);
        Ok(bytes)
    }
}

impl Read for StreamReader<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let Some(e) = self.entry else {
            return Ok(0);
        };
        let saved = self.pos;
        let chunk = self.next_chunk()?;
        let n = chunk.len().min(buf.len());
        if let (Some(dst), Some(src)) = (buf.get_mut(..n), chunk.get(..n)) {
            dst.copy_from_slice(src);
        }
        self.pos = saved.saturating_add(n as u64).min(e.size);
        Ok(n)
    }
}

/// Whether a compound file is a Windows Installer database (its root storage's class id).
pub fn is_installer(data: &[u8]) -> bool {
    Cfb::open(data).is_ok_and(|c| INSTALLER_CLSIDS.contains(&c.root_clsid()))
}

/// The base-64 alphabet of MSI stream names.
const NAME_CHARS: &[u8; 64] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz._";

/// A stream or storage name as MSI shows it (see the module doc).
pub fn decode_name(raw: &[u8]) -> String {
    let mut out = String::new();
    let ch = |i: u16| {
        char::from(
            NAME_CHARS
                .get(usize::from(i & 0x3f))
                .copied()
                .unwrap_or(b'?'),
        )
    };
    for (k, unit) in raw
        .chunks_exact(2)
        .map(|c| {
            u16::from_le_bytes([
                c.first().copied().unwrap_or(0),
                c.get(1).copied().unwrap_or(0),
            ])
        })
        .enumerate()
    {
        match unit {
            0x3800..=0x47ff => {
                let v = unit.wrapping_sub(0x3800);
                out.push(ch(v));
                out.push(ch(v >> 6));
            }
            0x4800..=0x483f => out.push(ch(unit.wrapping_sub(0x4800))),
            0x4840 if k == 0 => out.push('!'),
            u if u < 0x20 => out.push_str(&format!("[{u}]")),
            u => out.push(char::from_u32(u32::from(u)).unwrap_or(char::REPLACEMENT_CHARACTER)),
        }
    }
    out
}

/// Walks the streams of an installer database, depth first in directory order.
pub fn walk<T: Send>(data: &[u8], budget: &Budget, visit: &Visit<'_, T>) -> Walked<T> {
    let mut summary = Summary::new(Kind::Msi);
    let mut items = Vec::new();
    let cfb = match Cfb::open(data) {
        Ok(c) => c,
        Err(e) => {
            return Walked {
                items,
                summary,
                error: Some(e),
            };
        }
    };
    let error = walk_storage(&cfb, budget, visit, &mut summary, &mut items).err();
    Walked {
        items,
        summary,
        error,
    }
}

fn walk_storage<T>(
    cfb: &Cfb<'_>,
    budget: &Budget,
    visit: &Visit<'_, T>,
    summary: &mut Summary,
    items: &mut Vec<T>,
) -> Result<()> {
    // (storage, its path prefix), depth first; the tree has no loops (checked on opening).
    let mut todo: Vec<(usize, String)> = vec![(0, String::new())];
    while let Some((storage, prefix)) = todo.pop() {
        let mut substorages = Vec::new();
        for &i in cfb.children(storage) {
            let Some(e) = cfb.entries.get(i) else {
                continue;
            };
            count_entry(summary, &budget.limits)?;
            let name = format!("{prefix}{}", decode_name(&e.name));
            summary.check_name(&name);
            if e.kind == EntryType::Storage {
                substorages.push((i, format!("{name}/")));
                continue;
            }
            let meta = EntryMeta {
                index: summary.entries.saturating_sub(1),
                name,
                size: Some(e.size),
                offset: e.sectors.first().filter(|_| !e.mini).map(|s| {
                    u64::from(*s)
                        .saturating_add(1)
                        .saturating_mul(cfb.sector_size)
                }),
            };
            // Stored, not compressed: the ratio is 1, the bytes are charged all the same.
            let mut r = Guarded::new(cfb.stream(i), budget, e.size);
            items.push(visit(&meta, &mut r));
        }
        todo.extend(substorages.into_iter().rev());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msi_names_decode() {
        // "_Tables" as a table name: 0x4840 then encoded pairs.
        let enc = |s: &str| -> Vec<u8> { s.encode_utf16().flat_map(u16::to_le_bytes).collect() };
        assert_eq!(
            decode_name(&enc("\u{5}DigitalSignature")),
            "[5]DigitalSignature"
        );
        // One char 'c' (index 38) alone: 0x4800 + 38.
        let one: Vec<u8> = (0x4800u16 + 38).to_le_bytes().to_vec();
        assert_eq!(decode_name(&one), "c");
        // Pair "ab": 'a' = 36, 'b' = 37 -> 0x3800 + 36 + (37 << 6).
        let pair: Vec<u8> = (0x3800u16 + 36 + (37 << 6)).to_le_bytes().to_vec();
        assert_eq!(decode_name(&pair), "ab");
        let table: Vec<u8> = [0x4840u16, 0x4800 + 38]
            .iter()
            .flat_map(|u| u.to_le_bytes())
            .collect();
        assert_eq!(decode_name(&table), "!c");
    }

    #[test]
    fn fat_claiming_more_sectors_than_the_file_is_refused() {
        let mut h = vec![0u8; 1024];
        h[..8].copy_from_slice(CFB_MAGIC);
        h[0x1a] = 3;
        h[0x1e] = 9;
        h[0x20] = 6;
        h[0x2c..0x30].copy_from_slice(&0x8000_0000u32.to_le_bytes());
        let e = Cfb::open(&h)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(e.contains("FAT sectors"), "{e}");
    }
}
