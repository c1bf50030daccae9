//! Toolchain markers shared by PE and ELF: Go build info and Rust standard-library paths.
//!
//! Format-specific evidence (Rich header, `.comment`, CLR header) lives in `pe/toolchain.rs` and
//! `elf/toolchain.rs`; these scanners look for byte strings the toolchains embed in any format,
//! inside a [`Haystack`]: the parts of the file where the format says such strings can be (a PE
//! image's section data without its `.debug_*` sections and overlay, an ELF file's `.rodata`).

use memchr::memmem;

use crate::read::Bytes;

/// The regions of a file searched for markers: disjoint, in file order, each with its file
/// offset, so evidence names offsets in the file whatever was left out. A match never spans two
/// regions that are apart in the file; regions that touch or overlap are merged, so each byte is
/// searched once however many sections claim it (a hostile table can declare thousands of
/// sections over the same bytes).
pub struct Haystack<'a> {
    regions: Vec<(u64, &'a [u8])>,
}

impl<'a> Haystack<'a> {
    /// All of `data`, at file offset `base`.
    pub fn at(base: u64, data: &'a [u8]) -> Haystack<'a> {
        Haystack {
            regions: vec![(base, data)],
        }
    }

    /// The given `[start, end)` ranges of `data` (file offsets; clipped to the file, empty ones
    /// dropped), merged where they touch or overlap.
    pub fn ranges(data: &'a [u8], ranges: impl IntoIterator<Item = (u64, u64)>) -> Haystack<'a> {
        let len = data.len() as u64;
        let mut spans: Vec<(u64, u64)> = ranges
            .into_iter()
            .map(|(a, b)| (a.min(len), b.min(len)))
            .filter(|(a, b)| a < b)
            .collect();
        spans.sort_unstable();
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(spans.len());
        for (a, b) in spans {
            match merged.last_mut() {
                Some((_, end)) if a <= *end => *end = (*end).max(b),
                _ => merged.push((a, b)),
            }
        }
        let regions = merged
            .into_iter()
            .filter_map(|(a, b)| {
                let slice = data.get(usize::try_from(a).ok()?..usize::try_from(b).ok()?)?;
                Some((a, slice))
            })
            .collect();
        Haystack { regions }
    }

    /// Bytes searched (the sum of the regions' lengths).
    #[cfg(test)]
    pub(crate) fn searched_bytes(&self) -> u64 {
        self.regions
            .iter()
            .fold(0u64, |n, (_, r)| n.saturating_add(r.len() as u64))
    }

    /// Every match of `needle`, in file order: its file offset and the region's bytes from the
    /// match on (what follows the marker, for the checks that read past it).
    pub fn find_iter<'s>(&'s self, needle: &'s [u8]) -> impl Iterator<Item = (u64, &'a [u8])> + 's {
        self.regions.iter().flat_map(move |&(base, region)| {
            memmem::find_iter(region, needle)
                .filter_map(move |at| Some((base.checked_add(at as u64)?, region.get(at..)?)))
        })
    }

    /// For each probe, its first match (in file order) that the probe accepts: the file offset
    /// and the region's bytes from the match on. One pass over the regions in [`BLOCK`]-sized
    /// blocks, each searched for every probe still looking while it is in cache, so several
    /// needles cost little more than one read of the haystack from memory; a probe stops at its
    /// first accepted match, and the pass stops when every probe has one.
    pub fn first_accepted(&self, probes: &[Probe<'_>]) -> Vec<Option<(u64, &'a [u8])>> {
        let finders: Vec<memmem::Finder<'_>> = probes
            .iter()
            .map(|p| memmem::Finder::new(p.needle))
            .collect();
        let mut found: Vec<Option<(u64, &'a [u8])>> = vec![None; probes.len()];
        // An empty needle is a probe switched off: never searched, never found.
        let mut done: Vec<bool> = probes.iter().map(|p| p.needle.is_empty()).collect();
        let mut open = done.iter().filter(|d| !**d).count();
        for &(base, region) in &self.regions {
            let mut start = 0usize;
            while start < region.len() && open > 0 {
                let end = start.saturating_add(BLOCK).min(region.len());
                let slots = found.iter_mut().zip(done.iter_mut());
                for ((probe, finder), (slot, done)) in probes.iter().zip(&finders).zip(slots) {
                    if *done {
                        continue;
                    }
                    // Matches that start in [start, end); the last may run past `end`.
                    let reach = end
                        .saturating_add(probe.needle.len().saturating_sub(1))
                        .min(region.len());
                    let Some(window) = region.get(start..reach) else {
                        continue;
                    };
                    for i in finder.find_iter(window) {
                        let at = start.saturating_add(i);
                        if at >= end {
                            break;
                        }
                        if (probe.accept)(region, at) {
                            *slot = base.checked_add(at as u64).zip(region.get(at..));
                            *done = true;
                            open = open.saturating_sub(1);
                            break;
                        }
                    }
                }
                start = end;
            }
        }
        found
    }

    /// The first match of `needle`: its file offset and the bytes from there to the region's end.
    pub fn find(&self, needle: &[u8]) -> Option<(u64, &'a [u8])> {
        let finder = memmem::Finder::new(needle);
        self.regions.iter().find_map(|&(base, region)| {
            let at = finder.find(region)?;
            Some((base.checked_add(at as u64)?, region.get(at..)?))
        })
    }
}

/// Bytes of a region searched for every probe before the next block: small enough to stay in
/// a core's L2 cache while each needle is looked for. Measured on this project's machine, eight
/// needles over 100 MB of Wine DLL code and data: 0.90 s of CPU one needle after the other,
/// 0.43 s in 256 KiB blocks (a whole-haystack scan streams from memory each time).
const BLOCK: usize = 256 * 1024;

/// A needle for [`Haystack::first_accepted`], with the test a match must pass:
/// `accept(region, at)` may read the region's bytes around `at` (bounds-checked).
pub struct Probe<'n> {
    pub needle: &'n [u8],
    pub accept: fn(&[u8], usize) -> bool,
}

impl<'n> Probe<'n> {
    /// Any match counts.
    pub fn any(needle: &'n [u8]) -> Probe<'n> {
        Probe {
            needle,
            accept: |_, _| true,
        }
    }
}

/// The markers every image is searched for, found in one pass ([`Haystack::first_accepted`]);
/// the rarer follow-up strings are searched only when these call for them.
pub struct Prescan<'a> {
    buildinfo: Option<(u64, &'a [u8])>,
    pclntab: Option<(u64, &'a [u8])>,
    build_id: Option<(u64, &'a [u8])>,
    rust_path: Option<(u64, &'a [u8])>,
    rust_backtrace: Option<(u64, &'a [u8])>,
    /// The caller's own needles, in order: their first match.
    pub extra: Vec<Option<(u64, &'a [u8])>>,
}

/// Which markers a [`Prescan`] looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Markers {
    Go,
    Rust,
    Both,
    /// The Go markers that can sit in code: the build ID string (at the start of `.text`) and
    /// the PC-line table (in `.text` in older Go); the searches of executable sections.
    GoCode,
}

impl<'a> Prescan<'a> {
    /// Searches `hay` for the Go and Rust markers and for `extra`.
    pub fn run(hay: &Haystack<'a>, extra: &[&[u8]]) -> Prescan<'a> {
        Prescan::of(hay, Markers::Both, extra)
    }

    /// Searches `hay` for the markers `which` names and for `extra`; the others read as absent.
    pub fn of(hay: &Haystack<'a>, which: Markers, extra: &[&[u8]]) -> Prescan<'a> {
        // A needle never matches a slot that is not searched.
        const NOWHERE: &[u8] = &[];
        let go = which != Markers::Rust;
        let rust = matches!(which, Markers::Rust | Markers::Both);
        let data = which != Markers::GoCode;
        let pick = |on: bool, needle: &'static [u8]| if on { needle } else { NOWHERE };
        let mut probes = vec![
            Probe::any(pick(go && data, GO_BUILDINFO_MAGIC)),
            Probe {
                needle: pick(go, PCLNTAB_SHARED),
                accept: |region, at| {
                    at.checked_sub(1)
                        .is_some_and(|s| pclntab_at(region, s).is_some())
                },
            },
            Probe::any(pick(go, GO_BUILD_ID)),
            Probe {
                needle: pick(rust, RUST_STD_PATH),
                accept: |region, at| {
                    region
                        .get(at.saturating_add(RUST_STD_PATH.len())..)
                        .and_then(|h| h.get(..40))
                        .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
                },
            },
            Probe::any(pick(rust, RUST_BACKTRACE)),
        ];
        probes.extend(extra.iter().map(|n| Probe::any(n)));
        let mut found = hay.first_accepted(&probes).into_iter();
        let buildinfo = found.next().flatten();
        let pclntab = found.next().flatten();
        let build_id = found.next().flatten();
        let rust_path = found.next().flatten();
        let rust_backtrace = found.next().flatten();
        Prescan {
            buildinfo,
            pclntab,
            build_id,
            rust_path,
            rust_backtrace,
            extra: found.collect(),
        }
    }

    /// Each marker at the earlier of its places in `self` and `other` (two searches of
    /// different parts of one file); `extra` is `self`'s.
    pub fn earliest(self, other: Prescan<'a>) -> Prescan<'a> {
        type Hit<'h> = Option<(u64, &'h [u8])>;
        fn first<'h>(a: Hit<'h>, b: Hit<'h>) -> Hit<'h> {
            match (a, b) {
                (Some(x), Some(y)) => Some(if y.0 < x.0 { y } else { x }),
                (x, y) => x.or(y),
            }
        }
        Prescan {
            buildinfo: first(self.buildinfo, other.buildinfo),
            pclntab: first(self.pclntab, other.pclntab),
            build_id: first(self.build_id, other.build_id),
            rust_path: first(self.rust_path, other.rust_path),
            rust_backtrace: first(self.rust_backtrace, other.rust_backtrace),
            extra: self.extra,
        }
    }
}

/// The magic that opens Go's build information blob (`debug/buildinfo`).
const GO_BUILDINFO_MAGIC: &[u8] = b"\xff Go buildinf:";
/// Go before 1.18 has no inline version; its build ID note/string is the fallback evidence.
const GO_BUILD_ID: &[u8] = b"Go build ID: \"";
/// Rust's standard library records panic locations under `/rustc/<commit>/library/`.
const RUST_STD_PATH: &[u8] = b"/rustc/";
/// The environment variable std's default panic hook reads; any Rust code that can panic with the
/// standard library carries it, whatever its paths were remapped to.
const RUST_BACKTRACE: &[u8] = b"RUST_BACKTRACE";
/// Messages of std/core panics that sit beside `RUST_BACKTRACE` in a Rust binary. One of them is
/// required with it, so a C program that merely names the variable is not taken for Rust.
const RUST_STD_MESSAGES: &[&[u8]] = &[
    b"called `Option::unwrap()` on a `None` value",
    b"called `Result::unwrap()` on an `Err` value",
    b"' panicked at ",
    b"panicked after panic::always_abort()",
];

/// Messages only `std::rt::lang_start_internal` uses (`rtabort!` when the payload of a panic in
/// `main` cannot be dropped, or when runtime init or cleanup unwinds). rustc calls that function
/// from the `main` it generates for a Rust program; a static library linked into a C or C++
/// program never references it. Checked in rustc 1.95: both strings are in a Rust program (plain
/// and `strip`ped), neither is in a C program linked against a Rust staticlib with section GC
/// (`gcc -Wl,--gc-sections`, as link.exe's `/OPT:REF` in release builds). Without section GC the
/// whole std object comes along, strings included, and the program reads as Rust (the label
/// bingate gave before this rule).
const RUST_LANG_START_MESSAGES: &[&[u8]] = &[
    b"drop of the panic payload panicked",
    b"initialization or cleanup bug",
];

/// Go evidence: the build info blob (with the Go version it records, Go >= 1.18), else the
/// runtime's PC-line table header together with `runtime.main` among its function names (present
/// even in stripped builds that drop build info, such as esbuild's), else the build ID string.
pub fn go_evidence(hay: &Haystack<'_>) -> Option<String> {
    go_evidence_with(hay, &Prescan::of(hay, Markers::Go, &[]))
}

/// [`go_evidence`] from markers already searched for.
pub fn go_evidence_with(hay: &Haystack<'_>, pre: &Prescan<'_>) -> Option<String> {
    if let Some((at, rest)) = pre.buildinfo {
        let version = go_version(rest);
        return Some(match version {
            Some(v) => format!("Go build info at offset {at:#x} ({v})"),
            None => format!("Go build info at offset {at:#x}"),
        });
    }
    if pre.pclntab.is_some() {
        if let Some((at, magic)) = pclntab(hay) {
            if hay.find(b"\0runtime.main\0").is_some() {
                let version = runtime_version(hay)
                    .map(|v| format!("; version string {v}"))
                    .unwrap_or_default();
                return Some(format!(
                    "Go pclntab header (magic {magic:#x}) at offset {at:#x} naming runtime.main{version}"
                ));
            }
        }
    }
    pre.build_id
        .map(|(at, _)| format!("'Go build ID' string at offset {at:#x}"))
}

/// Bytes 1..6 of every PC-line table header: the magic's three 0xff bytes and two zero bytes.
const PCLNTAB_SHARED: &[u8] = b"\xff\xff\xff\0\0";
/// The PC-line table magics (Go 1.2, 1.16, 1.18, 1.20), in the order they are preferred.
const PCLNTAB_MAGICS: [u32; 4] = [0xffff_fff1, 0xffff_fff0, 0xffff_fffa, 0xffff_fffb];

/// The magic of a PC-line table header at `region[start..]`: magic, two zero bytes, the
/// instruction quantum (1, 2 or 4) and the pointer size (4 or 8).
fn pclntab_at(region: &[u8], start: usize) -> Option<u32> {
    let header = region.get(start..start.checked_add(8)?)?;
    let (magic, tail) = header.split_first_chunk::<4>()?;
    let magic = u32::from_le_bytes(*magic);
    (PCLNTAB_MAGICS.contains(&magic) && matches!(tail, [0, 0, 1 | 2 | 4, 4 | 8])).then_some(magic)
}

/// The PC-line table header: the earliest of the first magic in [`PCLNTAB_MAGICS`] order that
/// has one. One search for the bytes the magics share finds every candidate.
fn pclntab(hay: &Haystack<'_>) -> Option<(u64, u32)> {
    let mut first: [Option<u64>; 4] = [None; 4];
    for &(base, region) in &hay.regions {
        for at in memmem::find_iter(region, PCLNTAB_SHARED) {
            let Some(start) = at.checked_sub(1) else {
                continue;
            };
            let Some(magic) = pclntab_at(region, start) else {
                continue;
            };
            let k = PCLNTAB_MAGICS.iter().position(|m| *m == magic);
            if let Some(slot) = k.and_then(|k| first.get_mut(k)) {
                if slot.is_none() {
                    *slot = base.checked_add(start as u64);
                }
            }
            if k == Some(0) {
                break;
            }
        }
        if first.first().is_some_and(Option::is_some) {
            break;
        }
    }
    PCLNTAB_MAGICS
        .iter()
        .zip(first)
        .find_map(|(m, at)| at.map(|at| (at, *m)))
}

/// `runtime.buildVersion`'s text: the first NUL-terminated "go1.N[.M]" in the file.
fn runtime_version(hay: &Haystack<'_>) -> Option<String> {
    for (_, rest) in hay.find_iter(b"go1.") {
        let rest = rest.get(..16).unwrap_or(rest);
        let Some(end) = rest.iter().position(|b| *b == 0) else {
            continue;
        };
        let v = rest.get(..end)?;
        if v.len() > 4 && v.iter().skip(2).all(|b| b.is_ascii_digit() || *b == b'.') {
            return Some(String::from_utf8_lossy(v).into_owned());
        }
    }
    None
}

/// Go 1.18+ build info (`blob` starts at its magic): 14-byte magic, pointer size, flags; with flag
/// 0x2 the version follows at offset 32 as a varint-length-prefixed string.
fn go_version(blob: &[u8]) -> Option<String> {
    let b = Bytes::new(blob, true);
    let flags = b.u8("Go build info", 15).ok()?;
    if flags & 0x2 == 0 {
        return None;
    }
    let start = 32u64;
    let len = u64::from(b.u8("Go build info", start).ok()?);
    if len == 0 || len >= 0x80 {
        return None;
    }
    let raw = b.get("Go build info", start.checked_add(1)?, len).ok()?;
    let v = std::str::from_utf8(raw).ok()?;
    v.starts_with("go").then(|| v.to_owned())
}

/// Evidence of Rust code in `hay`, cheapest marker first: a `/rustc/<40 hex>/` path left by the
/// standard library, else std's `RUST_BACKTRACE` with one of its panic messages (binaries whose
/// paths were remapped or trimmed).
pub fn rust_evidence(hay: &Haystack<'_>) -> Option<String> {
    rust_evidence_with(hay, &Prescan::of(hay, Markers::Rust, &[]))
}

/// [`rust_evidence`] from markers already searched for.
pub fn rust_evidence_with(hay: &Haystack<'_>, pre: &Prescan<'_>) -> Option<String> {
    if let Some((at, rest)) = pre.rust_path {
        let short = rest
            .get(RUST_STD_PATH.len()..)
            .and_then(|h| h.get(..12))
            .map(String::from_utf8_lossy)
            .unwrap_or_default();
        return Some(format!(
            "Rust standard library path /rustc/{short}… at offset {at:#x}"
        ));
    }
    // std's `RUST_BACKTRACE` and one of its panic messages.
    let (at, _) = pre.rust_backtrace?;
    let (message, msg_at) = RUST_STD_MESSAGES
        .iter()
        .find_map(|m| hay.find(m).map(|(p, _)| (*m, p)))?;
    Some(format!(
        "Rust standard library strings 'RUST_BACKTRACE' at offset {at:#x} and '{}' at offset {msg_at:#x}",
        String::from_utf8_lossy(message).trim_matches(|c| c == '\'' || c == ' ')
    ))
}

/// Evidence that the image is a Rust *program* (rustc generated its `main`), not foreign code
/// with a Rust library linked in: a message only `std::rt::lang_start_internal` uses.
pub fn rust_program_evidence(hay: &Haystack<'_>) -> Option<String> {
    RUST_LANG_START_MESSAGES.iter().find_map(|m| {
        hay.find(m).map(|(at, _)| {
            format!(
                "std::rt::lang_start string '{}' at offset {at:#x}",
                String::from_utf8_lossy(m)
            )
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_version_is_read_from_inline_build_info() {
        let mut blob = vec![0u8; 64];
        blob.extend_from_slice(GO_BUILDINFO_MAGIC);
        blob.push(8); // pointer size
        blob.push(2); // inline strings
        blob.resize(64 + 32, 0);
        blob.push(8);
        blob.extend_from_slice(b"go1.22.5");
        let ev = go_evidence(&Haystack::at(0, &blob)).unwrap();
        assert_eq!(ev, "Go build info at offset 0x40 (go1.22.5)");
    }

    #[test]
    fn truncated_go_build_info_still_counts_without_version() {
        let mut blob = b"xx".to_vec();
        blob.extend_from_slice(GO_BUILDINFO_MAGIC);
        blob.push(8);
        blob.push(2);
        assert_eq!(
            go_evidence(&Haystack::at(0, &blob)).unwrap(),
            "Go build info at offset 0x2"
        );
    }

    #[test]
    fn rust_without_rustc_paths_is_found_by_std_strings() {
        let s = b"..RUST_BACKTRACE\0..full\0..called `Result::unwrap()` on an `Err` value\0";
        let ev = rust_evidence(&Haystack::at(0, s)).unwrap();
        assert_eq!(
            ev,
            "Rust standard library strings 'RUST_BACKTRACE' at offset 0x2 and \
             'called `Result::unwrap()` on an `Err` value' at offset 0x1a"
        );
        // Either half alone is not enough.
        assert!(rust_evidence(&Haystack::at(0, b"set RUST_BACKTRACE=1 to see more")).is_none());
        assert!(
            rust_evidence(&Haystack::at(
                0,
                b"called `Option::unwrap()` on a `None` value"
            ))
            .is_none()
        );
    }

    #[test]
    fn rust_program_needs_lang_start_strings() {
        assert!(rust_program_evidence(&Haystack::at(0, b"/rustc/ RUST_BACKTRACE")).is_none());
        let ev = rust_program_evidence(&Haystack::at(0, b"xx\0initialization or cleanup bug\0"))
            .unwrap();
        assert_eq!(
            ev,
            "std::rt::lang_start string 'initialization or cleanup bug' at offset 0x3"
        );
    }

    #[test]
    fn rust_path_needs_a_commit_hash() {
        assert!(rust_evidence(&Haystack::at(0, b"/rustc/not-a-hash")).is_none());
        let s =
            b"....library/std /rustc/0123456789abcdef0123456789abcdef01234567/library/std/src/x.rs";
        assert!(
            rust_evidence(&Haystack::at(0, s))
                .unwrap()
                .starts_with("Rust standard library path /rustc/0123456789ab")
        );
    }

    #[test]
    fn haystack_merges_overlaps_and_reports_file_offsets() {
        let data = b"0123RUST_BACKTRACE9abcdefghij/rustc/x";
        // Three overlapping claims on [4, 20), one range past the end, one empty.
        let hay = Haystack::ranges(data, [(4, 12), (6, 20), (10, 14), (30, 99), (25, 25)]);
        assert_eq!(hay.searched_bytes(), 16 + (data.len() as u64 - 30));
        assert_eq!(hay.find(b"RUST_BACKTRACE").map(|(at, _)| at), Some(4));
        // Bytes outside every range are never searched.
        assert!(hay.find(b"0123").is_none());
        assert!(
            Haystack::ranges(data, [(0, 6), (8, 20)])
                .find(b"RUST_BACKTRACE")
                .is_none()
        );
        let all: Vec<u64> = Haystack::at(100, b"go1.go1.")
            .find_iter(b"go1.")
            .map(|(a, _)| a)
            .collect();
        assert_eq!(all, [100, 104]);
    }

    #[test]
    fn pclntab_prefers_the_first_magic_in_order_not_in_file() {
        let mut data = vec![0u8; 8];
        data.extend_from_slice(&[0xf0, 0xff, 0xff, 0xff, 0, 0, 1, 8]); // Go 1.16 at 8
        data.extend_from_slice(&[0xf1, 0xff, 0xff, 0xff, 0, 0, 3, 8]); // bad quantum at 16
        data.extend_from_slice(&[0xf1, 0xff, 0xff, 0xff, 0, 0, 4, 8]); // Go 1.2 at 24
        assert_eq!(pclntab(&Haystack::at(0, &data)), Some((24, 0xffff_fff1)));
        data.truncate(24);
        assert_eq!(pclntab(&Haystack::at(0, &data)), Some((8, 0xffff_fff0)));
    }

    #[test]
    fn runtime_version_skips_unterminated_candidates() {
        let data = b"go1.xxxxxxxxxxxxxxxxxxxxxx\0go1.21.3\0";
        assert_eq!(
            runtime_version(&Haystack::at(0, data)).as_deref(),
            Some("go1.21.3")
        );
    }

    #[test]
    fn switched_off_probes_find_nothing() {
        let data = b"RUST_BACKTRACE \xff Go buildinf:";
        let hay = Haystack::at(0, data);
        let rust = Prescan::of(&hay, Markers::Rust, &[]);
        assert!(rust.buildinfo.is_none());
        assert_eq!(rust.rust_backtrace.map(|(at, _)| at), Some(0));
        let go = Prescan::of(&hay, Markers::Go, &[b"" as &[u8], b"Go"]);
        assert!(go.rust_backtrace.is_none());
        assert_eq!(go.buildinfo.map(|(at, _)| at), Some(15));
        assert_eq!(
            go.extra
                .iter()
                .map(|e| e.map(|(at, _)| at))
                .collect::<Vec<_>>(),
            [None, Some(17)]
        );
    }
}
