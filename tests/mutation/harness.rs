//! The mutation harness: deterministic, structure-aware mutants of every fixture, each run through
//! the whole `check` + `verify` pipeline (`bingate::scan::examine` with signature verification and
//! the SmartScreen-risk estimate, then every shipped policy and every renderer), with a panic
//! detector, a per-input time bound and a per-input memory bound.
//!
//! Shared by `tests/mutation.rs` (the CI run) and `examples/mutate.rs` (`--long`, `--replay`).
//! It finds structure boundaries with its own small PE, ELF and DER readers, never bingate's, so a
//! parser bug cannot hide the very fields that would expose it.
//!
//! Mutant `i` of a fixture is a pure function of (seed, fixture name, fixture bytes, `i`): even
//! indices walk a shuffled list of systematic mutations (every boundary truncation, every field
//! set to every special value, every DER length rewrite…), odd indices draw random ones (bit
//! flips, byte runs, stacked field changes, random DER lengths). A failure prints
//! `fixture:index`, which `cargo run --example mutate -- --seed S --replay fixture:index` rebuilds.

// Each includer (the CI test, the example) uses part of this module.
#![allow(dead_code)]
// `GlobalAlloc` is an unsafe trait: the counting allocator below only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, Once};
use std::time::{Duration, Instant};

/// The seed of the CI run ("bingate!" in ASCII).
pub const DEFAULT_SEED: u64 = 0x6269_6e67_6174_6521;

/// Public-corpus files larger than this are left out (their examination is slow in debug builds
/// and adds little: the structures are the same as in the small ones).
pub const PUBLIC_MAX_SIZE: u64 = 2 << 20;

// ---------------------------------------------------------------------------------------------
// Deterministic randomness (splitmix64; no `rand`).

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// A splitmix64 stream.
pub struct Rng(u64);

impl Rng {
    /// The stream of one mutant: (global seed, fixture name, mutant index).
    pub fn for_mutant(seed: u64, fixture: &str, index: u64) -> Rng {
        let mut s = seed;
        let a = splitmix(&mut s);
        let mut t = fnv1a(fixture.as_bytes()) ^ a;
        let b = splitmix(&mut t);
        let mut u = b ^ index.wrapping_mul(0xD6E8_FEB8_6659_FD93);
        Rng(splitmix(&mut u))
    }

    pub fn next_u64(&mut self) -> u64 {
        splitmix(&mut self.0)
    }

    /// Uniform-enough in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        if n == 0 { 0 } else { self.next_u64() % n }
    }

    pub fn pick(&mut self, n: usize) -> usize {
        usize::try_from(self.below(n as u64)).unwrap_or(0)
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

// ---------------------------------------------------------------------------------------------
// Memory accounting: a counting global allocator, per thread.
//
// Each examination runs on one thread (bingate's `examine` spawns none once the trust store is
// loaded), so per-thread counters measure one input at a time even with several workers, and
// the CI test's other tests do not disturb them.

thread_local! {
    static CURRENT: Cell<i64> = const { Cell::new(0) };
    static PEAK: Cell<i64> = const { Cell::new(0) };
    static LIMIT: Cell<i64> = const { Cell::new(i64::MAX) };
    static TRAP: Cell<i64> = const { Cell::new(i64::MAX) };
    static REFUSED: Cell<bool> = const { Cell::new(false) };
    static LABEL: RefCell<String> = const { RefCell::new(String::new()) };
    static IN_MUTANT: Cell<bool> = const { Cell::new(false) };
    static PANICS: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Wraps [`System`], counting live and peak bytes per thread; while an input is examined, an
/// allocation past the hard cap (a multiple of the memory bound) is refused after naming the
/// input on stderr, so an unbounded allocation aborts with its replay id instead of exhausting
/// the machine.
pub struct CountingAlloc;

fn note_alloc(size: usize) -> bool {
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    if size >= TRAP.try_with(Cell::get).unwrap_or(i64::MAX) {
        // `--trap-alloc`: stop where the allocation is made, for a debugger's backtrace.
        std::process::abort();
    }
    CURRENT
        .try_with(|c| {
            let now = c.get().saturating_add(size);
            if now > LIMIT.try_with(Cell::get).unwrap_or(i64::MAX) {
                refuse(size);
                return false;
            }
            c.set(now);
            let _ = PEAK.try_with(|p| {
                if now > p.get() {
                    p.set(now);
                }
            });
            true
        })
        .unwrap_or(true)
}

fn note_free(size: usize) {
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let _ = CURRENT.try_with(|c| c.set(c.get().saturating_sub(size)));
}

fn refuse(size: i64) {
    let first = REFUSED.try_with(|r| !r.replace(true)).unwrap_or(false);
    if first {
        // Lift the cap so that the message itself may allocate.
        let _ = LIMIT.try_with(|l| l.set(i64::MAX));
        let label = LABEL
            .try_with(|l| l.try_borrow().map(|s| s.clone()).unwrap_or_default())
            .unwrap_or_default();
        let _ = writeln!(
            std::io::stderr(),
            "mutation harness: {label}: an allocation of {size} bytes passes the hard memory cap; \
             refused (an abort may follow)"
        );
    }
}

unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !note_alloc(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc(layout) };
        if p.is_null() {
            note_free(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !note_alloc(layout.size()) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.alloc_zeroed(layout) };
        if p.is_null() {
            note_free(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System` through this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) };
        note_free(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let old = layout.size();
        if new_size > old && !note_alloc(new_size - old) {
            return std::ptr::null_mut();
        }
        // SAFETY: forwarded unchanged to the system allocator.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if p.is_null() {
            if new_size > old {
                note_free(new_size - old);
            }
        } else if new_size < old {
            note_free(old - new_size);
        }
        p
    }
}

// ---------------------------------------------------------------------------------------------
// Panic recording.

static HOOK: Once = Once::new();

/// Installs a panic hook that records (instead of printing) every panic raised while an input is
/// examined on this thread, contained or not; other panics go to the previous hook.
pub fn install_panic_recorder() {
    HOOK.call_once(|| {
        // bingate installs its quiet hook on its first contained call: make that happen now, so
        // ours wraps it and also sees the panics bingate contains (goblin's).
        let _ = bingate::guard::contain("mutation harness warm-up", None, || ());
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if IN_MUTANT.try_with(Cell::get).unwrap_or(false) {
                let payload = info.payload();
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "<non-string payload>".into());
                let at = info
                    .location()
                    .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()))
                    .unwrap_or_default();
                let _ = PANICS.try_with(|p| p.borrow_mut().push(format!("{msg} (at {at})")));
            } else {
                previous(info);
            }
        }));
    });
}

/// A contained panic inside goblin or the `authenticode` crate: third-party parser bugs (for
/// goblin, m4b/goblin#450) that `bingate::guard::contain` turns into an error for the file, by
/// design. Any other panic, contained or not, is a failure.
fn is_third_party(panic: &str) -> bool {
    ["goblin-", "authenticode-"]
        .iter()
        .any(|c| panic.contains(&format!("/{c}")) || panic.contains(&format!("\\{c}")))
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

/// One input file: its name (the replay id's first half) and bytes.
#[derive(Clone)]
pub struct Fixture {
    pub name: String,
    pub bytes: Vec<u8>,
}

pub fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus")
}

fn is_binary(bytes: &[u8]) -> bool {
    bytes.starts_with(b"MZ")
        || bytes.starts_with(b"\x7fELF")
        || bingate::container::sniff(&bytes[..bytes.len().min(bingate::container::SNIFF_LEN)])
            .is_some()
}

fn sorted_files(dir: &Path, recursive: bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
    paths.sort();
    for p in paths {
        if p.is_dir() {
            if recursive {
                sorted_files(&p, true, out);
            }
        } else if p.is_file() {
            out.push(p);
        }
    }
}

/// Every PE and ELF file of corpus/pe, corpus/elf, corpus/signed and corpus/risk (the other
/// files there, `expected.json`, are not binaries), the signed ELF files made from them (see
/// [`signed_elf_fixtures`]) and, with `public`, the files of corpus/public under
/// [`PUBLIC_MAX_SIZE`] when that directory has been fetched.
pub fn fixtures(public: bool) -> Vec<Fixture> {
    let root = corpus();
    let mut out = Vec::new();
    for sub in [
        "pe",
        "elf",
        "signed",
        "risk",
        "integrity",
        "containers",
        "msi",
        "installers",
    ] {
        let mut paths = Vec::new();
        sorted_files(&root.join(sub), false, &mut paths);
        for p in paths {
            let bytes = std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
            if is_binary(&bytes) {
                let file = p.file_name().map(|f| f.to_string_lossy().into_owned());
                out.push(Fixture {
                    name: format!("{sub}/{}", file.unwrap_or_default()),
                    bytes,
                });
            }
        }
    }
    out.extend(signed_elf_fixtures());
    if public {
        let mut paths = Vec::new();
        sorted_files(&root.join("public"), true, &mut paths);
        for p in paths {
            let small = std::fs::metadata(&p).is_ok_and(|m| m.len() < PUBLIC_MAX_SIZE);
            let Ok(bytes) = std::fs::read(&p) else {
                continue;
            };
            if small && is_binary(&bytes) {
                let rel = p.strip_prefix(&root).unwrap_or(&p);
                out.push(Fixture {
                    name: rel.to_string_lossy().replace('\\', "/"),
                    bytes,
                });
            }
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The signing time written into the signed ELF fixtures (2026-01-01T00:00:00Z), so that they
/// are the same bytes on every run (RSA PKCS#1 v1.5 and RFC 6979 ECDSA are deterministic).
const SIGNED_AT: u64 = 1_767_225_600;

/// ELF files signed in memory with the test PKI, so that the ELF signature verifiers (the
/// `.bingate.sig` section and the kernel's appended module signature) see real signatures to
/// be mutated: corpus/ carries no signed ELF file. Made with bingate's own signer; the harness
/// finds their structures with its own readers.
pub fn signed_elf_fixtures() -> Vec<Fixture> {
    use bingate::elfsig::SignOptions;
    use bingate::hash::DigestAlg;
    use bingate::sign::key;

    let pki = corpus().join("pki");
    let read = |p: PathBuf| std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let specs = [
        ("pie-default", "leaf-rsa", "section"),
        ("m32-pie", "leaf-ecdsa", "section"),
        ("ppc32-be", "leaf-rsa", "section"),
        ("hello.o", "leaf-rsa", "module"),
    ];
    let mut out = Vec::new();
    for (elf, leaf, format) in specs {
        let input = read(corpus().join("elf").join(elf));
        let signer = key::load_private_key(&read(pki.join(format!("{leaf}.key"))), None, leaf)
            .unwrap_or_else(|e| panic!("{leaf}.key: {e}"));
        let certs = key::load_certificates(&read(pki.join(format!("{leaf}-chain.pem"))), leaf)
            .unwrap_or_else(|e| panic!("{leaf}-chain.pem: {e}"));
        let (cert, chain) = certs
            .split_first()
            .expect("a certificate in the chain file");
        let opts = SignOptions {
            signer: &signer,
            cert,
            chain,
            digest: DigestAlg::Sha256,
            timestamper: None,
            replace: false,
            signed_at: SIGNED_AT,
        };
        let (signed, _) = bingate::sign::stream::sign_in_memory(&input, format == "module", &opts)
            .unwrap_or_else(|e| panic!("signing {elf}: {e}"));
        out.push(Fixture {
            name: format!("signed-elf/{elf}.{leaf}.{format}"),
            bytes: signed,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Reading and writing integers.

pub fn rd(d: &[u8], off: usize, width: u8, be: bool) -> Option<u64> {
    let b = d.get(off..off.checked_add(usize::from(width))?)?;
    let fold = |v: u64, x: &u8| (v << 8) | u64::from(*x);
    Some(if be {
        b.iter().fold(0, fold)
    } else {
        b.iter().rev().fold(0, fold)
    })
}

pub fn wr(d: &mut [u8], off: usize, width: u8, be: bool, v: u64) -> bool {
    let w = usize::from(width);
    let Some(b) = off.checked_add(w).and_then(|end| d.get_mut(off..end)) else {
        return false;
    };
    for (i, x) in b.iter_mut().enumerate() {
        let shift = if be { w - 1 - i } else { i } * 8;
        *x = (v >> shift) as u8;
    }
    true
}

fn mask(width: u8) -> u64 {
    if width >= 8 {
        u64::MAX
    } else {
        (1u64 << (u32::from(width) * 8)) - 1
    }
}

fn adjust(d: &mut [u8], off: usize, width: u8, be: bool, delta: i64) -> bool {
    let Some(cur) = rd(d, off, width, be) else {
        return false;
    };
    let new = i128::from(cur) + i128::from(delta);
    if new < 0 || new > i128::from(mask(width)) {
        return false;
    }
    wr(d, off, width, be, new as u64)
}

fn align_up(v: usize, a: usize) -> Option<usize> {
    v.checked_add(a - 1).map(|x| x / a * a)
}

fn to_usize(v: u64) -> Option<usize> {
    usize::try_from(v).ok()
}

// ---------------------------------------------------------------------------------------------
// The structure model of one fixture.

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Format {
    Pe,
    Elf,
    Other,
}

/// What a header field means, which decides what "pointing into itself" is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum FieldKind {
    Count,
    /// A file offset.
    Offset,
    /// A PE relative virtual address.
    Rva,
    /// A virtual address (PE: ImageBase + RVA; ELF: through the PT_LOAD mapping).
    Va,
    /// An offset from the start of the PE resource section.
    RsrcOffset,
    Size,
    Type,
    Flags,
    Index,
}

/// One header field the mutators know.
#[derive(Clone, Debug)]
pub struct Field {
    pub name: String,
    pub off: usize,
    pub width: u8,
    pub be: bool,
    pub kind: FieldKind,
    /// The value that makes the field point at itself.
    pub self_ref: u64,
    /// The value in the unmutated fixture.
    pub cur: u64,
    /// Interesting values besides the special ones: types, and pointers that make cycles.
    pub choices: Vec<u64>,
}

/// What encloses a DER blob, for the fix-ups after a length is re-encoded.
#[derive(Clone, Copy, Debug)]
pub enum Container {
    /// A WIN_CERTIFICATE: its dwLength and the security directory's Size.
    CertEntry { dwlen: usize, dir_size: usize },
    /// The `.bingate.sig` section, zero-padded up to `end`.
    ElfSection { end: usize },
    /// An appended module signature: the big-endian sig_len after the CMS.
    Module { sig_len: usize },
}

/// One DER TLV inside a signature.
#[derive(Clone, Debug)]
pub struct DerNode {
    pub tag: u8,
    pub tag_off: usize,
    pub len_off: usize,
    /// Bytes of the length encoding (1 for the short form).
    pub len_bytes: usize,
    pub content_len: usize,
    pub depth: u32,
    /// Depth below the nearest enclosing signedData ContentInfo (nested signatures and
    /// timestamps start again at 0).
    pub rel_depth: u32,
    pub parent: Option<usize>,
    pub container: Container,
}

#[derive(Clone, Copy, Debug)]
pub struct CertEntry {
    pub off: usize,
    /// dwLength rounded up to 8 and clamped to the table.
    pub span: usize,
}

#[derive(Clone, Copy, Debug)]
pub struct CertTable {
    pub dir_size: usize,
    pub start: usize,
    pub end: usize,
}

#[derive(Clone, Copy, Debug)]
pub struct SigSection {
    pub shdr: usize,
    pub shentsize: usize,
    pub table_end: usize,
    pub shnum_field: usize,
    pub be: bool,
}

#[derive(Clone, Debug)]
pub struct Model {
    pub format: Format,
    pub len: usize,
    pub fields: Vec<Field>,
    /// Structure boundaries (sorted, unique, inside the file).
    pub boundaries: Vec<usize>,
    /// Regions worth aiming random flips and runs at: headers, tables, signatures.
    pub regions: Vec<(usize, usize)>,
    pub certs: Vec<CertEntry>,
    pub cert_table: Option<CertTable>,
    pub der: Vec<DerNode>,
    pub sig_section: Option<SigSection>,
    /// Start of an appended module signature's CMS.
    pub module: Option<usize>,
    /// Decimal numbers of an ELF signature manifest (start, length).
    pub digits: Vec<(usize, usize)>,
    /// The bytes a signature of the fixture covers (sorted ranges), when it is signed and the
    /// layout is plain enough to say: changing one of them in place must not leave the
    /// signature valid.
    pub covered: Vec<(usize, usize)>,
    /// The systematic mutations, shuffled by the seed and interleaved across families (see
    /// [`Model::plan`]).
    pub ops: Vec<Op>,
    /// The same, by family (truncations, fields, DER, certificate table, ELF signature).
    pub families: Vec<Vec<Op>>,
}

enum AddrMap {
    None,
    /// (va, virtual span, raw offset, raw size) per section; SizeOfHeaders; ImageBase.
    Pe {
        sections: Vec<(u64, u64, u64, u64)>,
        headers: u64,
        image_base: u64,
    },
    /// (offset, vaddr, filesz) per PT_LOAD.
    Elf(Vec<(u64, u64, u64)>),
}

impl AddrMap {
    fn pe_off(&self, rva: u64) -> Option<usize> {
        let AddrMap::Pe {
            sections, headers, ..
        } = self
        else {
            return None;
        };
        for &(va, span, raw, size) in sections {
            if rva >= va && rva < va.saturating_add(span) {
                let delta = rva - va;
                return (delta < size)
                    .then(|| to_usize(raw.saturating_add(delta)))
                    .flatten();
            }
        }
        (rva < *headers).then(|| to_usize(rva)).flatten()
    }

    fn rva(&self, off: usize) -> u64 {
        let off = off as u64;
        match self {
            AddrMap::Pe { sections, .. } => sections
                .iter()
                .find(|&&(_, _, raw, size)| off >= raw && off < raw.saturating_add(size))
                .map_or(off, |&(va, _, raw, _)| va.saturating_add(off - raw)),
            AddrMap::Elf(loads) => loads
                .iter()
                .find(|&&(o, _, sz)| off >= o && off < o.saturating_add(sz))
                .map_or(off, |&(o, va, _)| va.saturating_add(off - o)),
            AddrMap::None => off,
        }
    }

    fn va(&self, off: usize) -> u64 {
        match self {
            AddrMap::Pe { image_base, .. } => image_base.wrapping_add(self.rva(off)),
            _ => self.rva(off),
        }
    }
}

struct Builder<'a> {
    d: &'a [u8],
    be: bool,
    map: AddrMap,
    rsrc_base: usize,
    m: Model,
}

impl<'a> Builder<'a> {
    fn new(d: &'a [u8]) -> Self {
        Builder {
            d,
            be: false,
            map: AddrMap::None,
            rsrc_base: 0,
            m: Model {
                format: Format::Other,
                len: d.len(),
                fields: Vec::new(),
                boundaries: Vec::new(),
                regions: Vec::new(),
                certs: Vec::new(),
                cert_table: None,
                der: Vec::new(),
                sig_section: None,
                module: None,
                digits: Vec::new(),
                covered: Vec::new(),
                ops: Vec::new(),
                families: Vec::new(),
            },
        }
    }

    fn push(
        &mut self,
        name: String,
        off: usize,
        width: u8,
        kind: FieldKind,
        choices: Vec<u64>,
        be: bool,
    ) -> Option<u64> {
        let v = rd(self.d, off, width, be)?;
        let self_ref = match kind {
            FieldKind::Rva => self.map.rva(off),
            FieldKind::Va => self.map.va(off),
            FieldKind::RsrcOffset => off.saturating_sub(self.rsrc_base) as u64,
            _ => off as u64,
        };
        self.m.fields.push(Field {
            name,
            off,
            width,
            be,
            kind,
            self_ref,
            cur: v,
            choices,
        });
        Some(v)
    }

    /// A field in the file's byte order; returns its current value when it is inside the file.
    fn field(
        &mut self,
        name: impl Into<String>,
        off: usize,
        width: u8,
        kind: FieldKind,
    ) -> Option<u64> {
        self.push(name.into(), off, width, kind, Vec::new(), self.be)
    }

    /// Adds choices to the field just pushed.
    fn more_choices(&mut self, extra: &[u64]) {
        if let Some(f) = self.m.fields.last_mut() {
            f.choices.extend_from_slice(extra);
        }
    }

    /// Sets what "pointing at itself" means for the field just pushed.
    fn self_ref(&mut self, v: u64) {
        if let Some(f) = self.m.fields.last_mut() {
            f.self_ref = v;
        }
    }

    fn typed(
        &mut self,
        name: impl Into<String>,
        off: usize,
        width: u8,
        choices: &'static [u64],
    ) -> Option<u64> {
        self.push(
            name.into(),
            off,
            width,
            FieldKind::Type,
            choices.to_vec(),
            self.be,
        )
    }

    fn boundary(&mut self, b: u64) {
        if let Some(b) = to_usize(b).filter(|&b| b > 0 && b < self.d.len()) {
            self.m.boundaries.push(b);
        }
    }

    fn region(&mut self, start: usize, end: usize) {
        let end = end.min(self.d.len());
        if start < end {
            self.m.regions.push((start, end));
        }
    }

    fn finish(mut self) -> Model {
        self.m.boundaries.sort_unstable();
        self.m.boundaries.dedup();
        self.m
    }
}

impl Model {
    /// Reads the structures of `d` with the harness's own readers.
    pub fn build(d: &[u8]) -> Model {
        let mut b = Builder::new(d);
        if d.starts_with(b"MZ") {
            b.m.format = Format::Pe;
            pe_model(&mut b);
        } else if d.starts_with(b"\x7fELF") {
            b.m.format = Format::Elf;
            elf_model(&mut b);
        } else {
            container_model(&mut b);
        }
        b.finish()
    }

    /// Builds the systematic mutation list: each family shuffled with (seed, fixture name),
    /// then the families interleaved, so that a short run samples every family of the fixture
    /// (a signed file's few certificate-table mutations are not drowned by its hundreds of
    /// header fields) and a long one exhausts the small families first.
    pub fn plan(&mut self, seed: u64, fixture: &str) {
        let mut families: BTreeMap<u8, Vec<Op>> = BTreeMap::new();
        for op in systematic(self) {
            families.entry(op.family()).or_default().push(op);
        }
        let mut rng = Rng::for_mutant(seed, fixture, u64::MAX);
        let mut families: Vec<Vec<Op>> = families.into_values().collect();
        for ops in &mut families {
            for i in (1..ops.len()).rev() {
                let j = rng.pick(i + 1);
                ops.swap(i, j);
            }
        }
        let total = families.iter().map(Vec::len).sum();
        let mut ops = Vec::with_capacity(total);
        for round in 0.. {
            if ops.len() == total {
                break;
            }
            ops.extend(families.iter().filter_map(|f| f.get(round)));
        }
        self.ops = ops;
        self.families = families;
    }

    /// A random systematic mutation: a family first, then one of its mutations.
    fn random_op(&self, rng: &mut Rng) -> Option<Op> {
        let family = self.families.get(rng.pick(self.families.len()))?;
        family.get(rng.pick(family.len())).copied()
    }
}

// PE ------------------------------------------------------------------------------------------

const PE_MACHINES: &[u64] = &[0, 0x14c, 0x8664, 0xaa64, 0x1c4, 0x200, 0xebc, 0xffff];
const PE_MAGICS: &[u64] = &[0, 0x10b, 0x20b, 0x107];
const PE_SUBSYSTEMS: &[u64] = &[0, 1, 2, 3, 9, 10, 11, 12, 14, 16];
const PE_CERT_REVISIONS: &[u64] = &[0, 0x100, 0x200];
const PE_CERT_TYPES: &[u64] = &[0, 1, 2, 3, 4, 0xef];
const PE_DEBUG_TYPES: &[u64] = &[0, 1, 2, 4, 13, 14, 16, 20];
const DIR_NAMES: [&str; 16] = [
    "export",
    "import",
    "resource",
    "exception",
    "security",
    "basereloc",
    "debug",
    "arch",
    "globalptr",
    "tls",
    "load_config",
    "bound_import",
    "iat",
    "delay_import",
    "clr",
    "reserved",
];
/// Resource types whose data is parsed (RT_VERSION, RT_MANIFEST, RT_GROUP_ICON).
const RT_VERSION: u64 = 16;

fn pe_model(b: &mut Builder<'_>) {
    let d = b.d;
    b.region(0, 0x40);
    b.boundary(0x40);
    let Some(lfanew) = b.field("dos.e_lfanew", 0x3c, 4, FieldKind::Offset) else {
        return;
    };
    let Some(lfanew) = to_usize(lfanew) else {
        return;
    };
    b.boundary(lfanew as u64);
    if lfanew.checked_add(4).and_then(|e| d.get(lfanew..e)) != Some(b"PE\0\0") {
        return;
    }
    let coff = lfanew + 4;
    let oh = coff + 20;
    // The DOS stub and Rich header, the signature and the COFF header.
    b.region(0x40, oh);
    let nsec = rd(d, coff + 2, 2, false).unwrap_or(0);
    let opt_size = rd(d, coff + 16, 2, false).unwrap_or(0) as usize;
    let magic = rd(d, oh, 2, false).unwrap_or(0);
    let plus = magic == 0x20b;
    let headers = rd(d, oh + 60, 4, false).unwrap_or(0);
    let image_base = if plus {
        rd(d, oh + 24, 8, false)
    } else {
        rd(d, oh + 28, 4, false)
    }
    .unwrap_or(0);
    let st = oh + opt_size;
    let mut sections = Vec::new();
    for i in 0..nsec.min(96) as usize {
        let s = st + 40 * i;
        let (Some(vs), Some(va), Some(rs), Some(rp)) = (
            rd(d, s + 8, 4, false),
            rd(d, s + 12, 4, false),
            rd(d, s + 16, 4, false),
            rd(d, s + 20, 4, false),
        ) else {
            break;
        };
        sections.push((va, vs.max(rs), rp, rs));
    }
    b.map = AddrMap::Pe {
        sections: sections.clone(),
        headers,
        image_base,
    };

    b.typed("coff.Machine", coff, 2, PE_MACHINES);
    b.field("coff.NumberOfSections", coff + 2, 2, FieldKind::Count);
    b.field("coff.PointerToSymbolTable", coff + 8, 4, FieldKind::Offset);
    b.field("coff.NumberOfSymbols", coff + 12, 4, FieldKind::Count);
    b.field("coff.SizeOfOptionalHeader", coff + 16, 2, FieldKind::Size);
    b.field("coff.Characteristics", coff + 18, 2, FieldKind::Flags);
    b.boundary(coff as u64);
    b.boundary(oh as u64);
    b.typed("opt.Magic", oh, 2, PE_MAGICS);
    b.field("opt.SizeOfCode", oh + 4, 4, FieldKind::Size);
    b.field("opt.AddressOfEntryPoint", oh + 16, 4, FieldKind::Rva);
    b.field("opt.BaseOfCode", oh + 20, 4, FieldKind::Rva);
    if plus {
        b.field("opt.ImageBase", oh + 24, 8, FieldKind::Va);
    } else {
        b.field("opt.ImageBase", oh + 28, 4, FieldKind::Va);
    }
    b.field("opt.SectionAlignment", oh + 32, 4, FieldKind::Size);
    b.field("opt.FileAlignment", oh + 36, 4, FieldKind::Size);
    b.field("opt.MajorSubsystemVersion", oh + 48, 2, FieldKind::Flags);
    b.field("opt.SizeOfImage", oh + 56, 4, FieldKind::Size);
    b.field("opt.SizeOfHeaders", oh + 60, 4, FieldKind::Offset);
    b.field("opt.CheckSum", oh + 64, 4, FieldKind::Flags);
    b.typed("opt.Subsystem", oh + 68, 2, PE_SUBSYSTEMS);
    b.field("opt.DllCharacteristics", oh + 70, 2, FieldKind::Flags);
    let (nrva_off, dd) = if plus {
        (oh + 108, oh + 112)
    } else {
        (oh + 92, oh + 96)
    };
    b.field("opt.NumberOfRvaAndSizes", nrva_off, 4, FieldKind::Count);
    let ndirs = rd(d, nrva_off, 4, false).unwrap_or(0).min(16) as usize;
    let mut dirs = [(0u64, 0u64); 16];
    for (i, name) in DIR_NAMES.iter().enumerate().take(ndirs) {
        let e = dd + 8 * i;
        if e + 8 > oh + opt_size {
            break;
        }
        let kind = if i == 4 {
            FieldKind::Offset
        } else {
            FieldKind::Rva
        };
        let va = b.field(format!("dir[{name}].VirtualAddress"), e, 4, kind);
        let size = b.field(format!("dir[{name}].Size"), e + 4, 4, FieldKind::Size);
        if let (Some(va), Some(size)) = (va, size) {
            dirs[i] = (va, size);
        }
    }
    b.boundary(st as u64);
    for (i, &(_, _, raw, size)) in sections.iter().enumerate() {
        let s = st + 40 * i;
        b.boundary(s as u64);
        b.field(
            format!("section[{i}].VirtualSize"),
            s + 8,
            4,
            FieldKind::Size,
        );
        b.field(
            format!("section[{i}].VirtualAddress"),
            s + 12,
            4,
            FieldKind::Rva,
        );
        b.field(
            format!("section[{i}].SizeOfRawData"),
            s + 16,
            4,
            FieldKind::Size,
        );
        b.field(
            format!("section[{i}].PointerToRawData"),
            s + 20,
            4,
            FieldKind::Offset,
        );
        b.field(
            format!("section[{i}].PointerToRelocations"),
            s + 24,
            4,
            FieldKind::Offset,
        );
        b.field(
            format!("section[{i}].NumberOfRelocations"),
            s + 32,
            2,
            FieldKind::Count,
        );
        b.field(
            format!("section[{i}].Characteristics"),
            s + 36,
            4,
            FieldKind::Flags,
        );
        b.boundary(raw);
        b.boundary(raw.saturating_add(size));
    }
    let table_end = st + 40 * sections.len();
    b.boundary(table_end as u64);
    b.boundary(headers);
    b.region(oh, table_end.max(headers as usize).min(table_end + 512));

    // The certificate table (its "VirtualAddress" is a file offset).
    let (cert_off, cert_size) = dirs[4];
    if cert_size > 0 {
        pe_certs(b, dd + 8 * 4 + 4, cert_off, cert_size);
        // What the Authenticode digest covers, where it is plain: the headers but CheckSum and
        // the security directory entry, and every section's raw data, all before the table.
        // (The data after the last section is covered too, measured by a byte count that gaps
        // make ambiguous; it is left out rather than guessed.)
        if let Some(t) = b.m.cert_table {
            let (checksum, security) = (oh + 64, dd + 8 * 4);
            let headers = to_usize(headers).unwrap_or(usize::MAX);
            let plain = checksum + 4 <= security
                && security + 8 <= headers
                && headers <= t.start
                && sections
                    .iter()
                    .all(|&(_, _, raw, size)| raw.saturating_add(size) <= t.start as u64);
            if plain {
                let mut covered = vec![
                    (0, checksum),
                    (checksum + 4, security),
                    (security + 8, headers),
                ];
                covered.extend(
                    sections
                        .iter()
                        .filter(|s| s.3 > 0)
                        .map(|&(_, _, raw, size)| (raw as usize, (raw + size) as usize)),
                );
                covered.sort_unstable();
                b.m.covered = covered;
            }
        }
    }
    let off = |b: &Builder<'_>, i: usize| {
        let (va, size) = dirs[i];
        (va != 0 && size != 0).then(|| b.map.pe_off(va)).flatten()
    };
    if let Some(o) = off(b, 2) {
        pe_resources(b, o, dirs[2].1);
    }
    if let Some(o) = off(b, 10) {
        pe_load_config(b, o, plus);
    }
    if let Some(o) = off(b, 6) {
        let n = (dirs[6].1 / 28).min(16) as usize;
        b.region(o, o + 28 * n);
        for i in 0..n {
            let e = o + 28 * i;
            b.boundary(e as u64);
            b.typed(format!("debug[{i}].Type"), e + 12, 4, PE_DEBUG_TYPES);
            let size = b.field(format!("debug[{i}].SizeOfData"), e + 16, 4, FieldKind::Size);
            b.field(
                format!("debug[{i}].AddressOfRawData"),
                e + 20,
                4,
                FieldKind::Rva,
            );
            let raw = b.field(
                format!("debug[{i}].PointerToRawData"),
                e + 24,
                4,
                FieldKind::Offset,
            );
            if let (Some(size), Some(raw)) = (size, raw) {
                b.boundary(raw);
                b.boundary(raw.saturating_add(size));
                if let (Some(r), Some(s)) = (to_usize(raw), to_usize(size)) {
                    b.region(r, r.saturating_add(s.min(4096)));
                }
            }
        }
    }
    if let Some(o) = off(b, 1) {
        for i in 0..32 {
            let e = o + 20 * i;
            match d.get(e..e + 20) {
                Some(desc) if desc.iter().any(|&x| x != 0) => {}
                _ => break,
            }
            b.boundary(e as u64);
            b.field(
                format!("import[{i}].OriginalFirstThunk"),
                e,
                4,
                FieldKind::Rva,
            );
            b.field(format!("import[{i}].Name"), e + 12, 4, FieldKind::Rva);
            b.field(format!("import[{i}].FirstThunk"), e + 16, 4, FieldKind::Rva);
        }
        b.region(o, o + 20 * 8);
    }
    if let Some(o) = off(b, 0) {
        b.field("export.Name", o + 12, 4, FieldKind::Rva);
        b.field("export.NumberOfFunctions", o + 20, 4, FieldKind::Count);
        b.field("export.NumberOfNames", o + 24, 4, FieldKind::Count);
        b.field("export.AddressOfFunctions", o + 28, 4, FieldKind::Rva);
        b.field("export.AddressOfNames", o + 32, 4, FieldKind::Rva);
        b.field("export.AddressOfNameOrdinals", o + 36, 4, FieldKind::Rva);
    }
    if let Some(o) = off(b, 5) {
        b.field("basereloc[0].VirtualAddress", o, 4, FieldKind::Rva);
        b.field("basereloc[0].SizeOfBlock", o + 4, 4, FieldKind::Size);
    }
    if let Some(o) = off(b, 14) {
        b.region(o, o + 72);
        b.field("clr.cb", o, 4, FieldKind::Size);
        let md = b.field("clr.MetaData.VirtualAddress", o + 8, 4, FieldKind::Rva);
        b.field("clr.MetaData.Size", o + 12, 4, FieldKind::Size);
        b.field("clr.Flags", o + 16, 4, FieldKind::Flags);
        if let Some(m) = md.and_then(|md| b.map.pe_off(md)) {
            b.region(m, m + 256);
            b.field("clr.metadata.VersionLength", m + 12, 4, FieldKind::Size);
        }
    }
}

fn pe_certs(b: &mut Builder<'_>, dir_size: usize, start: u64, size: u64) {
    let d = b.d;
    let (Some(start), Some(size)) = (to_usize(start), to_usize(size)) else {
        return;
    };
    let end = start.saturating_add(size).min(d.len());
    if start >= end {
        return;
    }
    b.m.cert_table = Some(CertTable {
        dir_size,
        start,
        end,
    });
    b.region(start, end);
    b.boundary(start as u64);
    b.boundary(end as u64);
    let mut pos = start;
    let mut i = 0;
    while pos + 8 <= end && i < 32 {
        let Some(len) = b.field(format!("cert[{i}].dwLength"), pos, 4, FieldKind::Size) else {
            break;
        };
        b.typed(
            format!("cert[{i}].wRevision"),
            pos + 4,
            2,
            PE_CERT_REVISIONS,
        );
        b.typed(
            format!("cert[{i}].wCertificateType"),
            pos + 6,
            2,
            PE_CERT_TYPES,
        );
        let len = to_usize(len).unwrap_or(usize::MAX);
        b.boundary(pos as u64);
        b.boundary(pos as u64 + 8);
        b.boundary(pos.saturating_add(len) as u64);
        if len < 8 {
            break;
        }
        let span = align_up(len, 8).unwrap_or(usize::MAX).min(end - pos);
        b.m.certs.push(CertEntry { off: pos, span });
        let blob_end = pos.saturating_add(len).min(end);
        der_blob(
            b,
            pos + 8,
            blob_end,
            Container::CertEntry {
                dwlen: pos,
                dir_size,
            },
        );
        pos += span;
        i += 1;
    }
}

fn pe_resources(b: &mut Builder<'_>, base: usize, size: u64) {
    let d = b.d;
    b.rsrc_base = base;
    b.region(
        base,
        base.saturating_add(to_usize(size).unwrap_or(0).min(1 << 16)),
    );
    // (directory offset from base, depth, resource type)
    let mut stack = vec![(0usize, 0u32, 0u64)];
    let mut seen = BTreeSet::new();
    let mut entries = 0;
    while let Some((rel, depth, ty)) = stack.pop() {
        let o = base.saturating_add(rel);
        if !seen.insert(o) || o + 16 > d.len() || entries > 512 {
            continue;
        }
        b.boundary(o as u64);
        let named = b.field(
            format!("rsrc@{rel:#x}.NumberOfNamedEntries"),
            o + 12,
            2,
            FieldKind::Count,
        );
        let ids = b.field(
            format!("rsrc@{rel:#x}.NumberOfIdEntries"),
            o + 14,
            2,
            FieldKind::Count,
        );
        let n = (named.unwrap_or(0) + ids.unwrap_or(0)).min(64) as usize;
        for i in 0..n {
            let e = o + 16 + 8 * i;
            entries += 1;
            let Some(name) = b.field(
                format!("rsrc@{rel:#x}[{i}].Name"),
                e,
                4,
                FieldKind::RsrcOffset,
            ) else {
                break;
            };
            let Some(target) = b.field(
                format!("rsrc@{rel:#x}[{i}].OffsetToData"),
                e + 4,
                4,
                FieldKind::RsrcOffset,
            ) else {
                break;
            };
            // Subdirectory pointers that make cycles: to this directory, to the root, and to
            // this entry read as a directory.
            let here = (e - base) as u64;
            b.more_choices(&[0x8000_0000 | rel as u64, 0x8000_0000, 0x8000_0000 | here]);
            let ty = if depth == 0 { name } else { ty };
            let t = (target & 0x7fff_ffff) as usize;
            if target & 0x8000_0000 != 0 {
                if depth < 3 {
                    stack.push((t, depth + 1, ty));
                }
                continue;
            }
            // A data entry: RVA, Size, CodePage, Reserved.
            let de = base.saturating_add(t);
            b.boundary(de as u64);
            let rva = b.field(
                format!("rsrc.data@{t:#x}.OffsetToData"),
                de,
                4,
                FieldKind::Rva,
            );
            let len = b.field(format!("rsrc.data@{t:#x}.Size"), de + 4, 4, FieldKind::Size);
            if let (Some(rva), Some(len)) = (rva, len) {
                if let Some(at) = b.map.pe_off(rva) {
                    b.boundary(at as u64);
                    b.boundary((at as u64).saturating_add(len));
                    b.region(at, at.saturating_add(to_usize(len).unwrap_or(0).min(4096)));
                    if ty == RT_VERSION {
                        b.field(format!("version@{t:#x}.wLength"), at, 2, FieldKind::Size);
                        b.field(
                            format!("version@{t:#x}.wValueLength"),
                            at + 2,
                            2,
                            FieldKind::Size,
                        );
                        // The first child block (after the header and the 4-aligned VS_FIXEDFILEINFO).
                        let child = align_up(at + 6 + 32, 4).unwrap_or(at) + 52;
                        b.field(
                            format!("version@{t:#x}.child.wLength"),
                            child,
                            2,
                            FieldKind::Size,
                        );
                    }
                }
            }
        }
    }
}

fn pe_load_config(b: &mut Builder<'_>, o: usize, plus: bool) {
    let Some(size) = b.field("loadcfg.Size", o, 4, FieldKind::Size) else {
        return;
    };
    let end = o.saturating_add(to_usize(size).unwrap_or(0).min(4096));
    b.region(o, end);
    b.boundary(end as u64);
    let fields: &[(&str, usize, u8, FieldKind)] = if plus {
        &[
            ("SecurityCookie", 0x58, 8, FieldKind::Va),
            ("SEHandlerTable", 0x60, 8, FieldKind::Va),
            ("SEHandlerCount", 0x68, 8, FieldKind::Count),
            ("GuardCFCheckFunctionPointer", 0x70, 8, FieldKind::Va),
            ("GuardCFFunctionTable", 0x80, 8, FieldKind::Va),
            ("GuardCFFunctionCount", 0x88, 8, FieldKind::Count),
            ("GuardFlags", 0x90, 4, FieldKind::Flags),
        ]
    } else {
        &[
            ("SecurityCookie", 0x3c, 4, FieldKind::Va),
            ("SEHandlerTable", 0x40, 4, FieldKind::Va),
            ("SEHandlerCount", 0x44, 4, FieldKind::Count),
            ("GuardCFCheckFunctionPointer", 0x48, 4, FieldKind::Va),
            ("GuardCFFunctionTable", 0x50, 4, FieldKind::Va),
            ("GuardCFFunctionCount", 0x54, 4, FieldKind::Count),
            ("GuardFlags", 0x58, 4, FieldKind::Flags),
        ]
    };
    for &(name, at, width, kind) in fields {
        if o + at + usize::from(width) <= end {
            b.field(format!("loadcfg.{name}"), o + at, width, kind);
        }
    }
}

// ELF -----------------------------------------------------------------------------------------

const ELF_CLASSES: &[u64] = &[0, 1, 2, 3];
const ELF_TYPES: &[u64] = &[0, 1, 2, 3, 4, 0xfe00, 0xffff];
const ELF_MACHINES: &[u64] = &[0, 3, 8, 20, 40, 62, 183, 243];
const PT_TYPES: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    6,
    7,
    0x6474_e550,
    0x6474_e551,
    0x6474_e552,
    0x6474_e553,
];
const SHT_TYPES: &[u64] = &[
    0,
    1,
    2,
    3,
    4,
    5,
    6,
    7,
    8,
    9,
    11,
    14,
    18,
    0x6fff_fff6,
    0x6fff_ffff,
];
const DT_TAGS: &[u64] = &[0, 1, 5, 6, 10, 14, 15, 16, 20, 22, 24, 29, 30, 0x6fff_fffb];
const NOTE_TYPES: &[u64] = &[0, 1, 3, 4, 5, 0x100];
const GNU_PROPERTY_TYPES: &[u64] = &[0, 0xc000_0000, 0xc000_0002, 0xc001_0001, 0xc000_8002];
/// d_tag values whose d_val is an address.
const DT_ADDRESS: &[u64] = &[
    3,
    4,
    5,
    6,
    7,
    12,
    13,
    17,
    23,
    25,
    26,
    0x6fff_fef5,
    0x6fff_fff0,
];
/// d_tag values whose d_val is a string-table offset.
const DT_STRING: &[u64] = &[1, 14, 15, 29];

fn elf_model(b: &mut Builder<'_>) {
    let d = b.d;
    let class = d.get(4).copied().unwrap_or(0);
    let data = d.get(5).copied().unwrap_or(0);
    b.region(0, 64);
    b.boundary(16);
    b.typed("ident.EI_CLASS", 4, 1, ELF_CLASSES);
    b.typed("ident.EI_DATA", 5, 1, ELF_CLASSES);
    if !(class == 1 || class == 2) || !(data == 1 || data == 2) {
        return;
    }
    let is64 = class == 2;
    b.be = data == 2;
    let w: u8 = if is64 { 8 } else { 4 };
    let (phoff_at, shoff_at, sizes_at) = if is64 { (32, 40, 52) } else { (28, 32, 40) };
    let rdw = |b: &Builder<'_>, off: usize, width: u8| rd(d, off, width, b.be);
    let phoff = rdw(b, phoff_at, w).unwrap_or(0);
    let shoff = rdw(b, shoff_at, w).unwrap_or(0);
    let ehsize = rdw(b, sizes_at, 2).unwrap_or(0);
    let phentsize = rdw(b, sizes_at + 2, 2).unwrap_or(0);
    let phnum = rdw(b, sizes_at + 4, 2).unwrap_or(0);
    let shentsize = rdw(b, sizes_at + 6, 2).unwrap_or(0);
    let shnum = rdw(b, sizes_at + 8, 2).unwrap_or(0);
    let shstrndx = rdw(b, sizes_at + 10, 2).unwrap_or(0);

    // PT_LOAD mapping first, for the self-pointing addresses.
    let ph_len: u64 = if is64 { 56 } else { 32 };
    let mut phdrs = Vec::new();
    if phentsize >= ph_len {
        for i in 0..phnum.min(64) {
            let Some(p) = to_usize(phoff.saturating_add(i * phentsize)) else {
                break;
            };
            let ph = if is64 {
                (
                    rdw(b, p, 4),
                    rdw(b, p + 8, 8),
                    rdw(b, p + 16, 8),
                    rdw(b, p + 32, 8),
                )
            } else {
                (
                    rdw(b, p, 4),
                    rdw(b, p + 4, 4),
                    rdw(b, p + 8, 4),
                    rdw(b, p + 16, 4),
                )
            };
            let (Some(ty), Some(off), Some(va), Some(filesz)) = ph else {
                break;
            };
            phdrs.push((p, ty, off, va, filesz));
        }
    }
    b.map = AddrMap::Elf(
        phdrs
            .iter()
            .filter(|p| p.1 == 1)
            .map(|&(_, _, off, va, filesz)| (off, va, filesz))
            .collect(),
    );

    b.typed("ehdr.e_type", 16, 2, ELF_TYPES);
    b.typed("ehdr.e_machine", 18, 2, ELF_MACHINES);
    b.field("ehdr.e_entry", 24, w, FieldKind::Va);
    b.field("ehdr.e_phoff", phoff_at, w, FieldKind::Offset);
    b.field("ehdr.e_shoff", shoff_at, w, FieldKind::Offset);
    b.field("ehdr.e_ehsize", sizes_at, 2, FieldKind::Size);
    b.field("ehdr.e_phentsize", sizes_at + 2, 2, FieldKind::Size);
    b.field("ehdr.e_phnum", sizes_at + 4, 2, FieldKind::Count);
    b.field("ehdr.e_shentsize", sizes_at + 6, 2, FieldKind::Size);
    b.field("ehdr.e_shnum", sizes_at + 8, 2, FieldKind::Count);
    if b.field("ehdr.e_shstrndx", sizes_at + 10, 2, FieldKind::Index)
        .is_some()
    {
        // Past the table, the last section, SHN_XINDEX (the index then lives in section 0).
        b.more_choices(&[shnum, shnum.saturating_sub(1), 0xffff]);
    }
    b.boundary(ehsize);
    b.boundary(phoff);
    b.boundary(phoff.saturating_add(phnum.saturating_mul(phentsize)));
    if let Some(p) = to_usize(phoff) {
        b.region(
            p,
            p.saturating_add(to_usize(phnum * phentsize).unwrap_or(0)),
        );
    }

    let mut dynamic = None;
    let mut notes = Vec::new();
    for (i, &(p, ty, off, _, filesz)) in phdrs.iter().enumerate() {
        b.boundary(p as u64);
        b.boundary(off);
        b.boundary(off.saturating_add(filesz));
        let name = format!("phdr[{i}]");
        b.typed(format!("{name}.p_type"), p, 4, PT_TYPES);
        if is64 {
            b.field(format!("{name}.p_flags"), p + 4, 4, FieldKind::Flags);
            b.field(format!("{name}.p_offset"), p + 8, 8, FieldKind::Offset);
            b.field(format!("{name}.p_vaddr"), p + 16, 8, FieldKind::Va);
            b.field(format!("{name}.p_filesz"), p + 32, 8, FieldKind::Size);
            b.field(format!("{name}.p_memsz"), p + 40, 8, FieldKind::Size);
            b.field(format!("{name}.p_align"), p + 48, 8, FieldKind::Size);
        } else {
            b.field(format!("{name}.p_offset"), p + 4, 4, FieldKind::Offset);
            b.field(format!("{name}.p_vaddr"), p + 8, 4, FieldKind::Va);
            b.field(format!("{name}.p_filesz"), p + 16, 4, FieldKind::Size);
            b.field(format!("{name}.p_memsz"), p + 20, 4, FieldKind::Size);
            b.field(format!("{name}.p_flags"), p + 24, 4, FieldKind::Flags);
            b.field(format!("{name}.p_align"), p + 28, 4, FieldKind::Size);
        }
        match ty {
            2 => dynamic = Some((off, filesz)),
            4 => notes.push((off, filesz)),
            3 => {
                if let Some(o) = to_usize(off) {
                    b.region(o, o.saturating_add(to_usize(filesz).unwrap_or(0).min(256)));
                }
            }
            _ => {}
        }
    }

    // Section headers.
    let sh_len: u64 = if is64 { 64 } else { 40 };
    let mut shdrs = Vec::new();
    if shentsize >= sh_len {
        for i in 0..shnum.min(512) {
            let Some(s) = to_usize(shoff.saturating_add(i * shentsize)) else {
                break;
            };
            let sh = if is64 {
                (
                    rdw(b, s, 4),
                    rdw(b, s + 4, 4),
                    rdw(b, s + 24, 8),
                    rdw(b, s + 32, 8),
                )
            } else {
                (
                    rdw(b, s, 4),
                    rdw(b, s + 4, 4),
                    rdw(b, s + 16, 4),
                    rdw(b, s + 20, 4),
                )
            };
            let (Some(name), Some(ty), Some(off), Some(size)) = sh else {
                break;
            };
            shdrs.push((s, name, ty, off, size));
        }
    }
    let strtab = shdrs
        .get(to_usize(shstrndx).unwrap_or(usize::MAX))
        .and_then(|&(_, _, _, off, size)| {
            let o = to_usize(off)?;
            d.get(o..o.checked_add(to_usize(size)?)?)
        });
    let section_name = |name: u64| -> String {
        strtab
            .and_then(|t| t.get(to_usize(name)?..))
            .map(|t| {
                let end = t.iter().position(|&c| c == 0).unwrap_or(t.len()).min(32);
                String::from_utf8_lossy(&t[..end]).into_owned()
            })
            .unwrap_or_default()
    };
    b.boundary(shoff);
    b.boundary(shoff.saturating_add(shnum.saturating_mul(shentsize)));
    if let Some(s) = to_usize(shoff) {
        b.region(
            s,
            s.saturating_add(to_usize(shnum * shentsize).unwrap_or(0)),
        );
    }
    for (i, &(s, name_off, ty, off, size)) in shdrs.iter().enumerate() {
        let sname = section_name(name_off);
        let name = format!("shdr[{i}]({sname})");
        b.boundary(s as u64);
        b.boundary(off);
        if ty != 8 {
            b.boundary(off.saturating_add(size));
        }
        b.field(format!("{name}.sh_name"), s, 4, FieldKind::Index);
        b.typed(format!("{name}.sh_type"), s + 4, 4, SHT_TYPES);
        let f: [(&str, usize, FieldKind); 8] = if is64 {
            [
                ("sh_flags", 8, FieldKind::Flags),
                ("sh_addr", 16, FieldKind::Va),
                ("sh_offset", 24, FieldKind::Offset),
                ("sh_size", 32, FieldKind::Size),
                ("sh_link", 40, FieldKind::Index),
                ("sh_info", 44, FieldKind::Index),
                ("sh_addralign", 48, FieldKind::Size),
                ("sh_entsize", 56, FieldKind::Size),
            ]
        } else {
            [
                ("sh_flags", 8, FieldKind::Flags),
                ("sh_addr", 12, FieldKind::Va),
                ("sh_offset", 16, FieldKind::Offset),
                ("sh_size", 20, FieldKind::Size),
                ("sh_link", 24, FieldKind::Index),
                ("sh_info", 28, FieldKind::Index),
                ("sh_addralign", 32, FieldKind::Size),
                ("sh_entsize", 36, FieldKind::Size),
            ]
        };
        for (fname, at, kind) in f {
            let link = matches!(fname, "sh_link" | "sh_info");
            let width = if link { 4 } else { w };
            if b.field(format!("{name}.{fname}"), s + at, width, kind)
                .is_some()
                && link
            {
                // A section linked to itself, to the name table, to SHN_XINDEX.
                b.self_ref(i as u64);
                b.more_choices(&[shstrndx, shnum, 0xffff]);
            }
        }
        match ty {
            6 if dynamic.is_none() => dynamic = Some((off, size)),
            7 => notes.push((off, size)),
            _ => {}
        }
        if sname == ".bingate.sig" {
            if let (Some(o), Some(len)) = (to_usize(off), to_usize(size)) {
                let end = o.saturating_add(len).min(d.len());
                b.region(o, end);
                b.m.sig_section = Some(SigSection {
                    shdr: s,
                    shentsize: to_usize(shentsize).unwrap_or(0),
                    table_end: to_usize(shoff.saturating_add(shnum * shentsize)).unwrap_or(0),
                    shnum_field: sizes_at + 8,
                    be: b.be,
                });
                der_blob(b, o, end, Container::ElfSection { end });
                // The manifest's file digest covers all but the signature's contents (which
                // bingate puts last: then nothing follows them).
                b.m.covered = [(0, o), (end, d.len())]
                    .into_iter()
                    .filter(|(s, e)| s < e)
                    .collect();
                manifest_digits(b, o, end);
            }
        }
    }

    if let Some((off, size)) = dynamic {
        elf_dynamic(b, off, size, is64);
    }
    for (i, (off, size)) in notes.into_iter().enumerate().take(8) {
        elf_notes(b, i, off, size, is64);
    }
    elf_module_signature(b);
}

fn elf_dynamic(b: &mut Builder<'_>, off: u64, size: u64, is64: bool) {
    let Some(o) = to_usize(off) else {
        return;
    };
    let ent: usize = if is64 { 16 } else { 8 };
    let w: u8 = if is64 { 8 } else { 4 };
    let n = (to_usize(size).unwrap_or(0) / ent).min(128);
    b.region(o, o.saturating_add(n * ent));
    for i in 0..n {
        let e = o + i * ent;
        b.boundary(e as u64);
        let Some(tag) = b.typed(format!("dyn[{i}].d_tag"), e, w, DT_TAGS) else {
            break;
        };
        let kind = if DT_ADDRESS.contains(&tag) {
            FieldKind::Va
        } else if DT_STRING.contains(&tag) {
            FieldKind::Index
        } else if matches!(tag, 2 | 8 | 9 | 10 | 11 | 18 | 19) {
            FieldKind::Size
        } else {
            FieldKind::Flags
        };
        b.field(
            format!("dyn[{i}](tag {tag:#x}).d_val"),
            e + usize::from(w),
            w,
            kind,
        );
        if tag == 0 {
            break;
        }
    }
}

fn elf_notes(b: &mut Builder<'_>, which: usize, off: u64, size: u64, is64: bool) {
    let d = b.d;
    let (Some(start), Some(size)) = (to_usize(off), to_usize(size)) else {
        return;
    };
    let end = start.saturating_add(size).min(d.len());
    b.region(start, end);
    let mut pos = start;
    for n in 0..16 {
        if pos + 12 > end {
            break;
        }
        let name = format!("note{which}[{n}]");
        b.boundary(pos as u64);
        let namesz = b
            .field(format!("{name}.n_namesz"), pos, 4, FieldKind::Size)
            .unwrap_or(0);
        let descsz = b
            .field(format!("{name}.n_descsz"), pos + 4, 4, FieldKind::Size)
            .unwrap_or(0);
        let ty = b
            .typed(format!("{name}.n_type"), pos + 8, 4, NOTE_TYPES)
            .unwrap_or(0);
        let Some(name_end) = align_up(pos + 12 + to_usize(namesz).unwrap_or(usize::MAX / 2), 4)
        else {
            break;
        };
        let is_gnu = d.get(pos + 12..pos + 16) == Some(b"GNU\0");
        let desc_align = if is_gnu && ty == 5 && is64 { 8 } else { 4 };
        let Some(desc) = align_up(name_end, desc_align) else {
            break;
        };
        let Some(desc_end) = desc.checked_add(to_usize(descsz).unwrap_or(usize::MAX / 2)) else {
            break;
        };
        if is_gnu && ty == 5 {
            // GNU properties: pr_type, pr_datasz, data (aligned).
            let mut p = desc;
            for k in 0..8 {
                if p + 8 > desc_end.min(end) {
                    break;
                }
                b.typed(
                    format!("{name}.prop[{k}].pr_type"),
                    p,
                    4,
                    GNU_PROPERTY_TYPES,
                );
                let sz = b.field(
                    format!("{name}.prop[{k}].pr_datasz"),
                    p + 4,
                    4,
                    FieldKind::Size,
                );
                let Some(next) = align_up(
                    p + 8 + to_usize(sz.unwrap_or(0)).unwrap_or(usize::MAX / 2),
                    desc_align,
                ) else {
                    break;
                };
                p = next;
            }
        }
        let Some(next) = align_up(desc_end, desc_align) else {
            break;
        };
        pos = next;
    }
}

fn elf_module_signature(b: &mut Builder<'_>) {
    const MAGIC: &[u8] = b"~Module signature appended~\n";
    let d = b.d;
    if !d.ends_with(MAGIC) || d.len() < MAGIC.len() + 12 {
        return;
    }
    let info = d.len() - MAGIC.len() - 12;
    b.region(info, d.len());
    b.boundary(info as u64);
    b.boundary((d.len() - MAGIC.len()) as u64);
    b.typed("modsig.algo", info, 1, &[0, 1, 4]);
    b.typed("modsig.id_type", info + 2, 1, &[0, 1, 2, 3]);
    let Some(sig_len) = b.push(
        "modsig.sig_len".into(),
        info + 8,
        4,
        FieldKind::Size,
        Vec::new(),
        true,
    ) else {
        return;
    };
    let Some(cms) = info.checked_sub(to_usize(sig_len).unwrap_or(usize::MAX)) else {
        return;
    };
    b.m.module = Some(cms);
    b.boundary(cms as u64);
    b.region(cms, info);
    der_blob(b, cms, info, Container::Module { sig_len: info + 8 });
    // A module signature covers the module: everything before the CMS.
    b.m.covered = vec![(0, cms)];
}

fn manifest_digits(b: &mut Builder<'_>, start: usize, end: usize) {
    const HEAD: &[u8] = b"bingate-elf-signature 1\n";
    let d = b.d;
    let Some(region) = d.get(start..end) else {
        return;
    };
    let Some(at) = region.windows(HEAD.len()).position(|w| w == HEAD) else {
        return;
    };
    let text_start = start + at;
    let text_end = region[at..]
        .iter()
        .position(|&c| !(c == b'\n' || (0x20..0x7f).contains(&c)))
        .map_or(end, |p| text_start + p);
    let text = &d[text_start..text_end];
    let mut i = 0;
    while i < text.len() {
        let token_start = i;
        while i < text.len() && text[i] != b' ' && text[i] != b'\n' {
            i += 1;
        }
        let token = &text[token_start..i];
        if !token.is_empty() && token.iter().all(u8::is_ascii_digit) && b.m.digits.len() < 256 {
            b.m.digits.push((text_start + token_start, token.len()));
        }
        i += 1;
    }
}

// DER -----------------------------------------------------------------------------------------

/// Upper bound on TLVs recorded per file (a signed fixture has a few hundred).
const MAX_DER_NODES: usize = 8192;
const SIGNED_DATA_OID: &[u8] = &[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02,
];

struct Tlv {
    tag: u8,
    tag_off: usize,
    len_off: usize,
    len_bytes: usize,
    content_off: usize,
    content_len: usize,
}

impl Tlv {
    fn end(&self) -> usize {
        self.content_off + self.content_len
    }
}

/// One DER TLV at `pos`, inside `..end` (definite lengths of up to four bytes only).
fn read_tlv(d: &[u8], pos: usize, end: usize) -> Option<Tlv> {
    if pos >= end {
        return None;
    }
    let tag = *d.get(pos)?;
    let mut p = pos + 1;
    if tag & 0x1f == 0x1f {
        loop {
            let x = *d.get(p)?;
            p += 1;
            if x & 0x80 == 0 {
                break;
            }
            if p - pos > 6 {
                return None;
            }
        }
    }
    let len_off = p;
    let first = *d.get(p)?;
    p += 1;
    let len = match first {
        0..=0x7f => usize::from(first),
        0x81..=0x84 => {
            let n = usize::from(first & 0x7f);
            let v = rd(d, p, n as u8, true)?;
            p += n;
            to_usize(v)?
        }
        _ => return None,
    };
    let content_off = p;
    if content_off.checked_add(len)? > end {
        return None;
    }
    Some(Tlv {
        tag,
        tag_off: pos,
        len_off,
        len_bytes: content_off - len_off,
        content_off,
        content_len: len,
    })
}

/// Does `d[start..end]` hold exactly a sequence of TLVs starting with a constructed one?
fn holds_der(d: &[u8], start: usize, end: usize) -> bool {
    if !matches!(d.get(start), Some(0x30 | 0x31 | 0xa0)) {
        return false;
    }
    let mut pos = start;
    for _ in 0..4096 {
        if pos == end {
            return true;
        }
        match read_tlv(d, pos, end) {
            Some(t) => pos = t.end(),
            None => return false,
        }
    }
    false
}

fn der_blob(b: &mut Builder<'_>, start: usize, end: usize, container: Container) {
    // One top-level ContentInfo; what follows it is padding.
    if let Some(t) = read_tlv(b.d, start, end) {
        let end = t.end();
        b.boundary(end as u64);
        walk_der(b, start, end, 0, 0, None, container);
    }
}

fn walk_der(
    b: &mut Builder<'_>,
    start: usize,
    end: usize,
    depth: u32,
    rel: u32,
    parent: Option<usize>,
    container: Container,
) {
    let d = b.d;
    let mut pos = start;
    while let Some(t) = read_tlv(d, pos, end) {
        if b.m.der.len() >= MAX_DER_NODES || depth > 48 {
            return;
        }
        let content = d.get(t.content_off..t.end()).unwrap_or_default();
        let rel_here = if t.tag == 0x30 && content.starts_with(SIGNED_DATA_OID) {
            0
        } else {
            rel
        };
        let idx = b.m.der.len();
        b.m.der.push(DerNode {
            tag: t.tag,
            tag_off: t.tag_off,
            len_off: t.len_off,
            len_bytes: t.len_bytes,
            content_len: t.content_len,
            depth,
            rel_depth: rel_here,
            parent,
            container,
        });
        if rel_here <= 3 {
            b.boundary(t.tag_off as u64);
            b.boundary(t.content_off as u64);
        }
        // Constructed TLVs, and OCTET STRINGs that wrap DER (extension values, nested data).
        let wraps_der = t.tag == 0x04 && holds_der(d, t.content_off, t.end());
        if t.tag & 0x20 != 0 || wraps_der {
            walk_der(
                b,
                t.content_off,
                t.end(),
                depth + 1,
                rel_here + 1,
                Some(idx),
                container,
            );
        }
        pos = t.end();
    }
}

// ---------------------------------------------------------------------------------------------
// Mutations.

/// A value a field is set to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Val {
    Zero,
    Max,
    Inc,
    Dec,
    Len,
    LenInc,
    LenDec,
    /// The field's own position: its file offset, RVA, VA or resource offset.
    SelfRef,
    /// The value times 1000 (saturating; 1000 when it was 0).
    Times1000,
    /// The top bit toggled (resource subdirectory flags, signed/unsigned confusion).
    TopBit,
    Raw(u64),
}

const SPECIALS: [Val; 10] = [
    Val::Zero,
    Val::Max,
    Val::Inc,
    Val::Dec,
    Val::Len,
    Val::LenInc,
    Val::LenDec,
    Val::SelfRef,
    Val::Times1000,
    Val::TopBit,
];

/// The special values worth trying on a field of this kind: 0, all-ones and ±1 everywhere; the
/// file length (±1), the field's own position, ×1000 and the top bit where the field is a
/// position, size or count; the top bit on flags; type fields get their `choices` besides.
fn specials(kind: FieldKind) -> &'static [Val] {
    match kind {
        FieldKind::Type => &SPECIALS[..4],
        FieldKind::Flags => &[Val::Zero, Val::Max, Val::Inc, Val::Dec, Val::TopBit],
        _ => &SPECIALS,
    }
}

/// How a DER TLV is corrupted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DerHow {
    LenZero,
    LenMax,
    LenInc,
    LenDec,
    LenRaw(u64),
    /// The first length byte set to 0x80 (BER indefinite length, forbidden in DER).
    Indefinite,
    /// The first length byte set to 0xFF (reserved).
    Reserved,
    TagZero,
    /// The constructed bit toggled.
    TagFlip,
    /// The tag switched to the high-tag-number form (0x1F).
    TagHigh,
    /// The same length re-encoded in the 0x81..0x84 long form (non-minimal, so not DER); with
    /// `fix`, the enclosing lengths, dwLength and the directory size are adjusted to match.
    Reencode {
        width: u8,
        fix: bool,
    },
    /// The length replaced by the all-ones value of a `width`-byte long form (4: 0x84 FF FF FF
    /// FF; 8: past every u32).
    Huge {
        width: u8,
        fix: bool,
    },
    /// The length set to 0x0FFF_FFFF (0x84 0F FF FF FF), the largest the `der` crate accepts
    /// (256 MiB − 1): a length that passes its range check and lies about the input.
    Decodable {
        fix: bool,
    },
    /// The whole TLV removed, enclosing lengths, dwLength and the directory size fixed (a
    /// SignedData without its certificate set, a SignerInfo without signed attributes...).
    Drop,
    /// The tag set to `[3]` constructed: in a CMS certificate set, the `other` CertificateChoices
    /// (which the `authenticode` crate's `certificates()` panics on).
    TagOther,
    /// `count` distinct 4-byte INTEGERs inserted in descending order at the start of a SET's
    /// content, lengths fixed: the worst case of `der` 0.7's insertion sort.
    Flood {
        count: u32,
    },
}

/// DER structure mutations, a family of their own so that every signed fixture gets some.
const DER_STRUCTURE_HOWS: [DerHow; 2] = [DerHow::Drop, DerHow::TagOther];

/// Values inserted by [`DerHow::Flood`]: 8,000 values (32 KB) fit the 2-byte lengths of a
/// signature's enclosing values; sorting them in reverse takes seconds without a SET budget.
const FLOOD_COUNT: u32 = 8_000;

const DER_HOWS: [DerHow; 19] = [
    DerHow::LenZero,
    DerHow::LenMax,
    DerHow::LenInc,
    DerHow::LenDec,
    DerHow::Indefinite,
    DerHow::Reserved,
    DerHow::TagZero,
    DerHow::TagFlip,
    DerHow::TagHigh,
    DerHow::Reencode {
        width: 1,
        fix: true,
    },
    DerHow::Reencode {
        width: 2,
        fix: true,
    },
    DerHow::Reencode {
        width: 3,
        fix: true,
    },
    DerHow::Reencode {
        width: 4,
        fix: true,
    },
    DerHow::Reencode {
        width: 4,
        fix: false,
    },
    DerHow::Huge {
        width: 4,
        fix: true,
    },
    DerHow::Huge {
        width: 4,
        fix: false,
    },
    DerHow::Huge {
        width: 8,
        fix: true,
    },
    DerHow::Decodable { fix: true },
    DerHow::Decodable { fix: false },
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fill {
    Zero,
    Ones,
    Random,
    Repeat,
}

/// One mutation. Offsets are the unmutated fixture's; every write is bounds-checked, so a
/// mutation applied after another that moved bytes just lands elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    Truncate(usize),
    Set {
        field: usize,
        val: Val,
    },
    Der {
        node: usize,
        how: DerHow,
    },
    /// Insert `copies` copies of a WIN_CERTIFICATE after it (`fix`: grow the directory Size).
    CertDup {
        entry: usize,
        copies: usize,
        fix: bool,
    },
    /// Append `len` bytes after the certificate table (`header`: starting with a
    /// WIN_CERTIFICATE header that claims 4 GiB; `fix`: grow the directory Size).
    CertAppend {
        len: usize,
        fix: bool,
        header: bool,
    },
    /// A second section header for `.bingate.sig` (e_shnum + 1).
    SigSectionDup,
    /// The appended module signature appended again.
    ModuleDup,
    /// A decimal number of the ELF signature manifest set to all 9s or all 0s.
    Digits {
        token: usize,
        nines: bool,
    },
    BitFlips {
        count: u8,
        focused: bool,
    },
    Run {
        max_len: usize,
        fill: Fill,
        focused: bool,
    },
}

impl Op {
    /// The family a systematic mutation belongs to (see [`Model::plan`]).
    fn family(&self) -> u8 {
        match self {
            Op::Truncate(_) => 0,
            Op::Set { .. } => 1,
            Op::Der {
                how: DerHow::Drop | DerHow::TagOther | DerHow::Flood { .. },
                ..
            } => 5,
            Op::Der { .. } => 2,
            Op::CertDup { .. } | Op::CertAppend { .. } => 3,
            _ => 4,
        }
    }

    pub fn family_name(&self) -> &'static str {
        [
            "truncate",
            "field",
            "der",
            "cert-table",
            "elf-signature",
            "der-structure",
        ][usize::from(self.family())]
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Op::Truncate(_) => "truncate",
            Op::Set { val, .. } => match val {
                Val::Times1000 => "count-x1000",
                Val::SelfRef => "self-pointer",
                Val::Len | Val::LenInc | Val::LenDec => "past-end",
                _ => "field",
            },
            Op::Der { how, .. } => match how {
                DerHow::Reencode { .. } | DerHow::Huge { .. } | DerHow::Decodable { .. } => {
                    "der-reencode"
                }
                DerHow::TagZero | DerHow::TagFlip | DerHow::TagHigh => "der-tag",
                DerHow::Drop => "der-drop",
                DerHow::TagOther => "der-other-choice",
                DerHow::Flood { .. } => "der-set-flood",
                _ => "der-length",
            },
            Op::CertDup { .. } => "cert-duplicate",
            Op::CertAppend { .. } => "cert-append",
            Op::SigSectionDup | Op::ModuleDup => "sig-duplicate",
            Op::Digits { .. } => "manifest",
            Op::BitFlips { .. } => "bit-flip",
            Op::Run { .. } => "byte-run",
        }
    }
}

/// The fields of the containers bingate walks, read with the harness's own readers: a zip's
/// end-of-central-directory record, central directory and local headers; tar headers' octal
/// sizes; the compound file header of an MSI; a cabinet's header and folder entries. Truncations
/// and random flips cover the compressed streams themselves.
fn container_model(b: &mut Builder) {
    let d = b.d;
    b.be = false;
    if let Some(eocd) = (0..d.len().saturating_sub(21))
        .rev()
        .find(|&i| d[i..].starts_with(b"PK\x05\x06"))
    {
        b.region(eocd, eocd + 22);
        b.field("zip EOCD entries on disk", eocd + 8, 2, FieldKind::Count);
        b.field("zip EOCD entries", eocd + 10, 2, FieldKind::Count);
        b.field("zip EOCD cd size", eocd + 12, 4, FieldKind::Size);
        let cd = b.field("zip EOCD cd offset", eocd + 16, 4, FieldKind::Offset);
        b.field("zip EOCD comment length", eocd + 20, 2, FieldKind::Size);
        let mut at = cd
            .and_then(|c| usize::try_from(c).ok())
            .unwrap_or(usize::MAX);
        let mut n = 0;
        while n < 64 && d.get(at..).is_some_and(|r| r.starts_with(b"PK\x01\x02")) {
            b.boundary(at as u64);
            b.region(at, at + 46);
            b.field(format!("zip cd[{n}] method"), at + 10, 2, FieldKind::Type);
            b.more_choices(&[0, 8, 9, 12, 14, 93, 99]);
            b.field(
                format!("zip cd[{n}] compressed size"),
                at + 20,
                4,
                FieldKind::Size,
            );
            b.field(format!("zip cd[{n}] size"), at + 24, 4, FieldKind::Size);
            let name = b.field(
                format!("zip cd[{n}] name length"),
                at + 28,
                2,
                FieldKind::Size,
            );
            let extra = b.field(
                format!("zip cd[{n}] extra length"),
                at + 30,
                2,
                FieldKind::Size,
            );
            let comment = b.field(
                format!("zip cd[{n}] comment length"),
                at + 32,
                2,
                FieldKind::Size,
            );
            let local = b.field(
                format!("zip cd[{n}] local offset"),
                at + 42,
                4,
                FieldKind::Offset,
            );
            if let Some(l) = local.and_then(|l| usize::try_from(l).ok()) {
                if d.get(l..).is_some_and(|r| r.starts_with(b"PK\x03\x04")) {
                    b.boundary(l as u64);
                    b.region(l, l + 30);
                    b.field(format!("zip local[{n}] method"), l + 8, 2, FieldKind::Type);
                    b.field(
                        format!("zip local[{n}] compressed size"),
                        l + 18,
                        4,
                        FieldKind::Size,
                    );
                    b.field(format!("zip local[{n}] size"), l + 22, 4, FieldKind::Size);
                    b.field(
                        format!("zip local[{n}] name length"),
                        l + 26,
                        2,
                        FieldKind::Size,
                    );
                    b.field(
                        format!("zip local[{n}] extra length"),
                        l + 28,
                        2,
                        FieldKind::Size,
                    );
                }
            }
            let len = [name, extra, comment]
                .iter()
                .map(|v| v.unwrap_or(0) as usize)
                .sum::<usize>();
            at = at.saturating_add(46).saturating_add(len);
            n += 1;
        }
    } else if d.get(257..262) == Some(b"ustar") {
        // Uncompressed tar: each header's 12-byte octal size.
        let mut at = 0usize;
        let mut n = 0;
        while n < 64 && d.get(at + 257..at + 262) == Some(b"ustar") {
            b.boundary(at as u64);
            b.region(at, at + 512);
            b.m.digits.push((at + 124, 11));
            let size = std::str::from_utf8(&d[at + 124..at + 135])
                .ok()
                .and_then(|t| u64::from_str_radix(t.trim_matches(['\0', ' ']), 8).ok())
                .unwrap_or(0) as usize;
            at = at
                .saturating_add(512)
                .saturating_add(size.div_ceil(512) * 512);
            n += 1;
        }
    } else if d.starts_with(b"MSCF") {
        b.region(0, 64.min(d.len()));
        b.field("cab size", 8, 4, FieldKind::Size);
        b.field("cab files offset", 16, 4, FieldKind::Offset);
        b.field("cab folders", 26, 2, FieldKind::Count);
        b.field("cab files", 28, 2, FieldKind::Count);
        b.field("cab flags", 30, 2, FieldKind::Flags);
        b.more_choices(&[1, 2, 4, 7]);
    } else if d.starts_with(b"\xd0\xcf\x11\xe0") {
        b.region(0, 512.min(d.len()));
        b.field("cfb sector shift", 30, 2, FieldKind::Size);
        b.field("cfb FAT sectors", 44, 4, FieldKind::Count);
        b.field("cfb first directory sector", 48, 4, FieldKind::Index);
        b.field("cfb first mini FAT sector", 60, 4, FieldKind::Index);
        b.field("cfb mini FAT sectors", 64, 4, FieldKind::Count);
        b.field("cfb first DIFAT sector", 68, 4, FieldKind::Index);
        b.field("cfb DIFAT sectors", 72, 4, FieldKind::Count);
        b.field("cfb DIFAT[0]", 76, 4, FieldKind::Index);
    } else if d.starts_with(b"\xed\xab\xee\xdb") {
        // The signature header's index count and data size, after the 96-byte lead.
        b.be = true;
        b.region(96, 112.min(d.len()));
        b.field("rpm signature index entries", 104, 4, FieldKind::Count);
        b.field("rpm signature data size", 108, 4, FieldKind::Size);
        b.be = false;
    } else {
        // Compressed streams (gzip, xz, zstd, bzip2) and ar: their headers.
        b.region(0, 64.min(d.len()));
    }
}

fn systematic(m: &Model) -> Vec<Op> {
    let mut ops = Vec::new();
    let mut cuts = BTreeSet::new();
    for &b in &m.boundaries {
        for t in [b.saturating_sub(1), b, b.saturating_add(1)] {
            if t > 0 && t < m.len {
                cuts.insert(t);
            }
        }
    }
    ops.extend(cuts.into_iter().map(Op::Truncate));
    for (i, f) in m.fields.iter().enumerate() {
        let mut seen = BTreeSet::from([f.cur]);
        let vals = specials(f.kind)
            .iter()
            .copied()
            .chain(f.choices.iter().map(|&c| Val::Raw(c)));
        for val in vals {
            // Each new value once; none that leaves the field as it was.
            if seen.insert(field_value(f, f.cur, val, m.len)) {
                ops.push(Op::Set { field: i, val });
            }
        }
    }
    for entry in 0..m.certs.len() {
        for (copies, fix) in [(1, true), (1, false), (16, true)] {
            ops.push(Op::CertDup { entry, copies, fix });
        }
    }
    if m.cert_table.is_some() {
        for len in [8, 64, 4096] {
            for fix in [true, false] {
                for header in [false, true] {
                    ops.push(Op::CertAppend { len, fix, header });
                }
            }
        }
    }
    for (node, n) in m.der.iter().enumerate() {
        if n.rel_depth <= 4 && n.parent.is_some() {
            ops.extend(DER_STRUCTURE_HOWS.iter().map(|&how| Op::Der { node, how }));
        }
        // SET OF values and the IMPLICIT SET OFs of CMS (certificates, attributes).
        if n.rel_depth <= 8 && (n.tag == 0x31 || n.tag & 0xe0 == 0xa0) {
            ops.push(Op::Der {
                node,
                how: DerHow::Flood { count: FLOOD_COUNT },
            });
        }
        if n.rel_depth <= 4 {
            ops.extend(DER_HOWS.iter().map(|&how| Op::Der { node, how }));
        } else {
            // Deeper nodes (inside certificates, attributes, timestamps) get the sharpest
            // allocation probe; the other corruptions reach them at random.
            ops.push(Op::Der {
                node,
                how: DerHow::Decodable { fix: true },
            });
        }
    }
    if m.sig_section.is_some() {
        ops.push(Op::SigSectionDup);
    }
    if m.module.is_some() {
        ops.push(Op::ModuleDup);
    }
    for token in 0..m.digits.len() {
        ops.push(Op::Digits { token, nines: true });
        ops.push(Op::Digits {
            token,
            nines: false,
        });
    }
    ops
}

fn field_value(f: &Field, cur: u64, val: Val, len: usize) -> u64 {
    let max = mask(f.width);
    let len = len as u64;
    let v = match val {
        Val::Zero => 0,
        Val::Max => max,
        Val::Inc => cur.wrapping_add(1),
        Val::Dec => cur.wrapping_sub(1),
        Val::Len => len,
        Val::LenInc => len.wrapping_add(1),
        Val::LenDec => len.wrapping_sub(1),
        Val::SelfRef => f.self_ref,
        Val::Times1000 => {
            if cur == 0 {
                1000
            } else {
                cur.saturating_mul(1000).min(max)
            }
        }
        Val::TopBit => cur ^ (1u64 << (u32::from(f.width) * 8 - 1)),
        Val::Raw(v) => v,
    };
    v & max
}

fn splice(d: &mut Vec<u8>, at: usize, remove: usize, insert: &[u8]) -> Option<i64> {
    let end = at.checked_add(remove)?;
    if end > d.len() {
        return None;
    }
    d.splice(at..end, insert.iter().copied());
    Some(insert.len() as i64 - remove as i64)
}

/// Writes a TLV's length in place, when the new value fits its current encoding.
fn write_len_in_place(d: &mut [u8], n: &DerNode, value: u64) -> bool {
    if n.len_bytes == 1 {
        value < 0x80 && wr(d, n.len_off, 1, true, value)
    } else {
        let k = (n.len_bytes - 1) as u8;
        value <= mask(k) && wr(d, n.len_off + 1, k, true, value)
    }
}

fn apply_der(d: &mut Vec<u8>, m: &Model, node: usize, how: DerHow) -> String {
    let Some(n) = m.der.get(node) else {
        return "der (no node)".into();
    };
    let name = format!(
        "der[{node}](tag {:#04x} @{:#x} depth {})",
        n.tag, n.tag_off, n.depth
    );
    let cur = n.content_len as u64;
    let k = n.len_bytes - 1;
    let set_byte = |d: &mut Vec<u8>, at: usize, f: &dyn Fn(u8) -> u8| {
        if let Some(x) = d.get_mut(at) {
            *x = f(*x);
        }
    };
    match how {
        DerHow::LenZero | DerHow::LenMax | DerHow::LenInc | DerHow::LenDec | DerHow::LenRaw(_) => {
            let v = match how {
                DerHow::LenZero => 0,
                DerHow::LenMax if k == 0 => 0x7f,
                DerHow::LenMax => mask(k as u8),
                DerHow::LenInc => cur.wrapping_add(1),
                DerHow::LenDec => cur.wrapping_sub(1),
                DerHow::LenRaw(v) => v,
                _ => cur,
            };
            if k == 0 {
                // Short form: the byte as computed (0x80 and up change the form itself).
                set_byte(d, n.len_off, &|_| v as u8);
                format!("{name} length {cur:#x} -> byte {:#04x}", v as u8)
            } else {
                let v = v & mask(k as u8);
                wr(d, n.len_off + 1, k as u8, true, v);
                format!("{name} length {cur:#x} -> {v:#x} ({k}-byte form)")
            }
        }
        DerHow::Indefinite => {
            set_byte(d, n.len_off, &|_| 0x80);
            format!("{name} length -> indefinite (0x80)")
        }
        DerHow::Reserved => {
            set_byte(d, n.len_off, &|_| 0xff);
            format!("{name} length -> reserved 0xff")
        }
        DerHow::TagZero => {
            set_byte(d, n.tag_off, &|_| 0);
            format!("{name} tag -> 0x00")
        }
        DerHow::TagFlip => {
            set_byte(d, n.tag_off, &|t| t ^ 0x20);
            format!("{name} constructed bit flipped")
        }
        DerHow::TagHigh => {
            set_byte(d, n.tag_off, &|t| t | 0x1f);
            format!("{name} tag -> high-tag-number form")
        }
        DerHow::TagOther => {
            set_byte(d, n.tag_off, &|_| 0xa3);
            format!("{name} tag -> [3] constructed (other choice)")
        }
        DerHow::Drop => {
            let total = n.len_off - n.tag_off + n.len_bytes + n.content_len;
            let Some(delta) = splice(d, n.tag_off, total, &[]) else {
                return format!("{name} (outside the file)");
            };
            fix_after_splice(d, m, n, delta);
            format!("{name} removed ({total} bytes), enclosing lengths fixed")
        }
        DerHow::Flood { count } => {
            let mut values = Vec::with_capacity(count as usize * 6);
            for i in (0..count).rev() {
                // INTEGER, 4 content bytes, positive and distinct.
                values.extend_from_slice(&[0x02, 0x04]);
                values.extend_from_slice(&(0x0100_0000 | i).to_be_bytes());
            }
            let at = n.len_off + n.len_bytes;
            let Some(delta) = splice(d, at, 0, &values) else {
                return format!("{name} (outside the file)");
            };
            grow_with_reencoding(d, m, n, delta);
            format!("{name}: {count} INTEGERs in descending order inserted, lengths re-encoded")
        }
        DerHow::Reencode { fix, .. } | DerHow::Huge { fix, .. } | DerHow::Decodable { fix } => {
            let huge = !matches!(how, DerHow::Reencode { .. });
            let (width, value) = match how {
                DerHow::Reencode { width, .. } => (width, cur),
                DerHow::Huge { width, .. } => (width, mask(width)),
                _ => (4, 0x0fff_ffff),
            };
            if !huge && value > mask(width) {
                return format!("{name} length does not fit {width} bytes (unchanged)");
            }
            let mut enc = vec![0x80 | width];
            enc.extend(
                (0..width)
                    .rev()
                    .map(|i| (value >> (u32::from(i) * 8)) as u8),
            );
            let Some(delta) = splice(d, n.len_off, n.len_bytes, &enc) else {
                return format!("{name} (outside the file)");
            };
            let what = match how {
                DerHow::Reencode { .. } => "re-encoded",
                _ => "lies",
            };
            if fix && delta != 0 {
                fix_after_splice(d, m, n, delta);
            }
            format!(
                "{name} length {what}: {value:#x} as 0x{:02x}+{width} bytes{}",
                0x80 | width,
                if fix { ", enclosing lengths fixed" } else { "" }
            )
        }
    }
}

/// The minimal DER length encoding of `len`.
fn der_len(len: u64) -> Vec<u8> {
    if len < 0x80 {
        return vec![len as u8];
    }
    let bytes = len.to_be_bytes();
    let skip = bytes.iter().take_while(|b| **b == 0).count();
    let mut v = vec![0x80 | (8 - skip) as u8];
    v.extend_from_slice(&bytes[skip..]);
    v
}

/// After `grown` bytes were inserted into `n`'s content: `n`'s length and every ancestor's are
/// re-encoded in minimal form (innermost first: each rewrite only moves bytes after it), then the
/// container's length fields grow by the total.
fn grow_with_reencoding(d: &mut Vec<u8>, m: &Model, n: &DerNode, grown: i64) {
    let mut total = grown;
    let mut cur = Some(n);
    while let Some(t) = cur {
        let enc = der_len((t.content_len as i64 + total) as u64);
        if let Some(delta) = splice(d, t.len_off, t.len_bytes, &enc) {
            total += delta;
        }
        cur = t.parent.and_then(|p| m.der.get(p));
    }
    fix_container(d, n.container, total);
}

/// After a TLV grew or shrank by `delta` bytes: its ancestors' lengths (when they still fit
/// their encoding) and the container's own length fields.
fn fix_after_splice(d: &mut Vec<u8>, m: &Model, n: &DerNode, delta: i64) {
    let mut parent = n.parent;
    while let Some(p) = parent.and_then(|p| m.der.get(p)) {
        let new = p.content_len as i64 + delta;
        if new >= 0 {
            write_len_in_place(d, p, new as u64);
        }
        parent = p.parent;
    }
    fix_container(d, n.container, delta);
}

/// The length fields of the structure holding the signature, after it grew by `delta`.
fn fix_container(d: &mut Vec<u8>, container: Container, delta: i64) {
    match container {
        Container::CertEntry { dwlen, dir_size } => {
            adjust(d, dwlen, 4, false, delta);
            adjust(d, dir_size, 4, false, delta);
        }
        Container::ElfSection { end } => {
            // Keep the file layout: take the growth out of (or give the shrink back to) the
            // zero padding at the end of the section.
            if delta > 0 {
                let delta = delta as usize;
                if end + delta <= d.len() {
                    d.drain(end..end + delta);
                }
            } else {
                let at = end
                    .saturating_sub(delta.unsigned_abs() as usize)
                    .min(d.len());
                let zeros = vec![0u8; delta.unsigned_abs() as usize];
                d.splice(at..at, zeros);
            }
        }
        Container::Module { sig_len } => {
            let at = (sig_len as i64 + delta) as usize;
            adjust(d, at, 4, true, delta);
        }
    }
}

fn pick_pos(rng: &mut Rng, m: &Model, focused: bool, len: usize) -> Option<usize> {
    if len == 0 {
        return None;
    }
    if focused && !m.regions.is_empty() {
        let (s, e) = m.regions[rng.pick(m.regions.len())];
        let p = s + rng.pick(e - s);
        if p < len {
            return Some(p);
        }
    }
    Some(rng.pick(len))
}

/// Applies one mutation; returns its description.
pub fn apply(d: &mut Vec<u8>, m: &Model, op: Op, rng: &mut Rng) -> String {
    match op {
        Op::Truncate(at) => {
            let at = at.min(d.len());
            d.truncate(at);
            format!("truncate at {at:#x}")
        }
        Op::Set { field, val } => {
            let Some(f) = m.fields.get(field) else {
                return "set (no field)".into();
            };
            let Some(cur) = rd(d, f.off, f.width, f.be) else {
                return format!("{} (outside the file)", f.name);
            };
            let v = field_value(f, cur, val, m.len);
            wr(d, f.off, f.width, f.be, v);
            let why = match val {
                Val::Raw(_) => String::new(),
                other => format!(" ({other:?})"),
            };
            format!("{} {cur:#x} -> {v:#x}{why}", f.name)
        }
        Op::Der { node, how } => apply_der(d, m, node, how),
        Op::CertDup { entry, copies, fix } => {
            let (Some(e), Some(t)) = (m.certs.get(entry), m.cert_table) else {
                return "cert duplicate (no entry)".into();
            };
            let Some(copy) = d.get(e.off..e.off + e.span).map(<[u8]>::to_vec) else {
                return "cert duplicate (outside the file)".into();
            };
            let at = e.off + e.span;
            let insert: Vec<u8> = copy
                .iter()
                .copied()
                .cycle()
                .take(copy.len() * copies)
                .collect();
            splice(d, at, 0, &insert);
            if fix {
                adjust(d, t.dir_size, 4, false, insert.len() as i64);
            }
            format!(
                "cert[{entry}] duplicated x{copies}{}",
                if fix { " (directory size grown)" } else { "" }
            )
        }
        Op::CertAppend { len, fix, header } => {
            let Some(t) = m.cert_table else {
                return "cert append (no table)".into();
            };
            let mut bytes: Vec<u8> = (0..len).map(|_| rng.next_u64() as u8).collect();
            if header && len >= 8 {
                bytes[..8].copy_from_slice(&[0xf8, 0xff, 0xff, 0xff, 0x00, 0x02, 0x02, 0x00]);
            }
            let at = t.end.min(d.len());
            splice(d, at, 0, &bytes);
            if fix {
                adjust(d, t.dir_size, 4, false, len as i64);
            }
            format!(
                "{len} bytes appended after the certificate table{}{}",
                if header {
                    " (a header claiming 4 GiB)"
                } else {
                    ""
                },
                if fix { " (directory size grown)" } else { "" }
            )
        }
        Op::SigSectionDup => {
            let Some(s) = m.sig_section else {
                return "signature section duplicate (none)".into();
            };
            let Some(copy) = d.get(s.shdr..s.shdr + s.shentsize).map(<[u8]>::to_vec) else {
                return "signature section duplicate (outside the file)".into();
            };
            let at = s.table_end.min(d.len());
            splice(d, at, 0, &copy);
            adjust(d, s.shnum_field, 2, s.be, 1);
            "second .bingate.sig section header".into()
        }
        Op::ModuleDup => {
            let Some(start) = m.module else {
                return "module signature duplicate (none)".into();
            };
            let copy = d.get(start..).map(<[u8]>::to_vec).unwrap_or_default();
            d.extend_from_slice(&copy);
            "module signature appended twice".into()
        }
        Op::Digits { token, nines } => {
            let Some(&(start, len)) = m.digits.get(token) else {
                return "manifest (no number)".into();
            };
            let c = if nines { b'9' } else { b'0' };
            if let Some(s) = d.get_mut(start..start + len) {
                s.fill(c);
            }
            format!("manifest number @{start:#x} -> all {}", c as char)
        }
        Op::BitFlips { count, focused } => {
            let mut at = Vec::new();
            for _ in 0..count {
                let Some(p) = pick_pos(rng, m, focused, d.len()) else {
                    break;
                };
                let bit = rng.below(8) as u8;
                d[p] ^= 1 << bit;
                at.push(format!("{p:#x}.{bit}"));
            }
            format!("{count} bit flips at {}", at.join(","))
        }
        Op::Run {
            max_len,
            fill,
            focused,
        } => {
            let Some(p) = pick_pos(rng, m, focused, d.len()) else {
                return "byte run (empty file)".into();
            };
            let len = 1 + rng.pick(max_len);
            let repeat = rng.next_u64() as u8;
            let end = (p + len).min(d.len());
            for x in &mut d[p..end] {
                *x = match fill {
                    Fill::Zero => 0,
                    Fill::Ones => 0xff,
                    Fill::Random => rng.next_u64() as u8,
                    Fill::Repeat => repeat,
                };
            }
            format!("{fill:?} run of {} bytes at {p:#x}", end - p)
        }
    }
}

/// A random variant of one of the systematic mutations: other values, other cut points.
fn randomize(op: Op, rng: &mut Rng, m: &Model) -> Op {
    match op {
        Op::Set { field, .. } => {
            let f = &m.fields[field];
            let v = match rng.below(6) {
                0 => rng.next_u64(),
                1 => rng.below(2 * m.len as u64 + 2),
                2 => rng.below(256),
                3 => 1u64 << rng.below(u64::from(f.width) * 8),
                4 => f.self_ref.wrapping_add(rng.below(64)).wrapping_sub(32),
                _ => (m.len as u64).wrapping_add(rng.below(64)).wrapping_sub(32),
            };
            Op::Set {
                field,
                val: Val::Raw(v),
            }
        }
        Op::Truncate(at) => Op::Truncate(
            at.saturating_add(rng.pick(33))
                .saturating_sub(16)
                .clamp(1, m.len.max(2) - 1),
        ),
        Op::Der { node, .. } => Op::Der {
            node,
            how: if rng.chance(50) {
                DerHow::LenRaw(match rng.below(4) {
                    0 => rng.next_u64(),
                    1 => rng.below(0x1_0000),
                    2 => rng.below(0x1000_0000),
                    _ => rng.below(0x100),
                })
            } else {
                DER_HOWS[rng.pick(DER_HOWS.len())]
            },
        },
        Op::CertAppend { fix, header, .. } => Op::CertAppend {
            len: 1 + rng.pick(8192),
            fix,
            header,
        },
        other => other,
    }
}

fn random_flips(rng: &mut Rng) -> Op {
    Op::BitFlips {
        count: 1 + rng.below(16) as u8,
        focused: rng.chance(60),
    }
}

fn random_run(rng: &mut Rng) -> Op {
    let fill = [Fill::Zero, Fill::Ones, Fill::Random, Fill::Repeat][rng.pick(4)];
    Op::Run {
        max_len: if rng.chance(5) { 4096 } else { 32 },
        fill,
        focused: rng.chance(60),
    }
}

/// One mutant of a fixture.
pub struct Mutant {
    pub bytes: Vec<u8>,
    pub kind: &'static str,
    pub label: String,
    pub systematic: bool,
}

/// For a mutant whose signature still verified: the first byte it changed in place that the
/// fixture's signature covers (none for mutants that changed the length).
pub fn covered_change(fixture: &[u8], m: &Model, mutant: &[u8]) -> Option<usize> {
    if mutant.len() != fixture.len() {
        return None;
    }
    m.covered.iter().find_map(|&(s, e)| {
        let (a, b) = (fixture.get(s..e)?, mutant.get(s..e)?);
        a.iter().zip(b).position(|(x, y)| x != y).map(|p| s + p)
    })
}

/// Mutant `index` of `fixture` (whose model was planned with the same `seed`).
pub fn mutant(fixture: &Fixture, m: &Model, seed: u64, index: u64) -> Mutant {
    let mut rng = Rng::for_mutant(seed, &fixture.name, index);
    let mut d = fixture.bytes.clone();
    let slot = usize::try_from(index / 2).unwrap_or(usize::MAX);
    if index % 2 == 0 && slot < m.ops.len() {
        let op = m.ops[slot];
        let label = apply(&mut d, m, op, &mut rng);
        return Mutant {
            bytes: d,
            kind: op.kind(),
            label,
            systematic: true,
        };
    }
    let has_ops = !m.ops.is_empty();
    let roll = rng.below(100);
    let (kind, label) = match roll {
        0..25 if has_ops => {
            let op = m.random_op(&mut rng).unwrap_or(Op::Truncate(0));
            let op = randomize(op, &mut rng, m);
            (op.kind(), apply(&mut d, m, op, &mut rng))
        }
        25..40 if has_ops => {
            let n = 2 + rng.pick(3);
            let mut ops: Vec<Op> = (0..n)
                .filter_map(|_| {
                    let op = m.random_op(&mut rng)?;
                    Some(if rng.chance(50) {
                        randomize(op, &mut rng, m)
                    } else {
                        op
                    })
                })
                .collect();
            if rng.chance(30) {
                ops.push(random_flips(&mut rng));
            }
            // Cuts last, so that the other mutations land first.
            ops.sort_by_key(|op| matches!(op, Op::Truncate(_)));
            let labels: Vec<String> = ops
                .iter()
                .map(|&op| apply(&mut d, m, op, &mut rng))
                .collect();
            ("stacked", labels.join(" + "))
        }
        80..90 => {
            let op = Op::Truncate(rng.pick(d.len().max(1)));
            (op.kind(), apply(&mut d, m, op, &mut rng))
        }
        90.. if !m.der.is_empty() => {
            let node = rng.pick(m.der.len());
            let op = randomize(
                Op::Der {
                    node,
                    how: DerHow::LenZero,
                },
                &mut rng,
                m,
            );
            (op.kind(), apply(&mut d, m, op, &mut rng))
        }
        r if r % 2 == 0 => {
            let op = random_flips(&mut rng);
            (op.kind(), apply(&mut d, m, op, &mut rng))
        }
        _ => {
            let op = random_run(&mut rng);
            (op.kind(), apply(&mut d, m, op, &mut rng))
        }
    };
    Mutant {
        bytes: d,
        kind,
        label,
        systematic: false,
    }
}

// ---------------------------------------------------------------------------------------------
// The pipeline each mutant goes through.

/// What the harness notes about one examination.
pub struct Observed {
    pub error: bool,
    pub status: Option<String>,
    /// Renderers that returned an error (none should, writing to a sink).
    pub render_errors: Vec<String>,
}

/// `check` + `verify` on bytes in memory: `examine` (hash, facts, signature verdict, risk
/// estimate), every shipped policy evaluated, and every renderer (human, JSON, SARIF, verify,
/// risk) writing to a sink.
pub struct Pipeline {
    signing: bingate::config::SigningConfig,
    weights: bingate::risk::Weights,
    policies: Vec<bingate::policy::Policy>,
    today: bingate::policy::Date,
}

impl Pipeline {
    /// Trusts corpus/pki/root.pem only (no embedded Microsoft roots), with the test CRL, the
    /// RSA leaf as a candidate module signer, and a fixed verification time.
    pub fn new() -> Pipeline {
        let pki = corpus().join("pki");
        let trust = bingate::cli::TrustArgs {
            trust: vec![pki.join("root.pem")],
            no_default_trust: true,
            system_trust: false,
            ctl: None,
            crl: vec![pki.join("intermediate.crl.pem")],
            time: Some("2026-11-22T00:00:00Z".into()),
            strict: false,
            require: bingate::cli::RequireArg::All,
            cert: vec![pki.join("leaf-rsa.pem")],
        };
        let signing = trust
            .resolve()
            .expect("the test trust configuration resolves");
        let policies = bingate::policy::builtin_names()
            .map(|n| bingate::policy::load(n, &[]).unwrap_or_else(|e| panic!("policy {n}: {e}")))
            .collect();
        let today = bingate::policy::Date::from_unix(signing.at);
        let p = Pipeline {
            signing,
            weights: bingate::risk::Weights::default(),
            policies,
            today,
        };
        // Take every first-use allocation (and the anchors the chains decode on first use)
        // outside any measurement.
        if let Ok(signed) = std::fs::read(corpus().join("signed/valid-rsa.exe")) {
            let _ = p.run(&signed);
        }
        p
    }

    pub fn run(&self, bytes: &[u8]) -> Observed {
        use bingate::report::{
            HumanRenderer, JsonRenderer, Renderer, RiskRenderer, SarifRenderer, VerifyRenderer,
        };

        // Containers give their report and those of everything inside; binaries one (or more,
        // with an installer payload).
        let mut reports = bingate::scan::examine_all(
            bytes,
            Path::new("mutant.exe"),
            Some(&self.signing),
            Some(&self.weights),
        );
        let observed_error = reports.first().is_some_and(|r| r.error.is_some());
        let status = reports
            .first()
            .and_then(|r| r.signature.as_ref())
            .map(|s| format!("{:?}", s.status));
        let mut summary = bingate::report::Summary::default();
        for p in &self.policies {
            let mut ev = bingate::policy::Evaluator::new(p, self.today);
            for report in &mut reports {
                report.findings = Some(ev.evaluate(&report.subject()));
            }
            summary.policy = Some(ev.finish());
        }
        for report in &reports {
            summary.add_file(report);
        }
        let mut render_errors = Vec::new();
        let mut render = |name: &str, r: &mut dyn Renderer| {
            let res = r
                .begin()
                .and_then(|()| reports.iter().try_for_each(|report| r.file(report)))
                .and_then(|()| r.finish(&[], &summary));
            if let Err(e) = res {
                render_errors.push(format!("{name}: {e}"));
            }
        };
        render("human", &mut HumanRenderer::new(std::io::sink(), true));
        render("json", &mut JsonRenderer::new(std::io::sink(), None));
        render("verify", &mut VerifyRenderer::new(std::io::sink(), true));
        render("risk", &mut RiskRenderer::new(std::io::sink(), true));
        if let Some(policy) = self.policies.last() {
            render(
                "sarif",
                &mut SarifRenderer::new(std::io::sink(), policy, Path::new(".")),
            );
        }
        Observed {
            error: observed_error,
            status,
            render_errors,
        }
    }
}

impl Default for Pipeline {
    fn default() -> Self {
        Pipeline::new()
    }
}

// ---------------------------------------------------------------------------------------------
// Bounds and measurement.

/// The per-input bounds.
#[derive(Clone, Copy, Debug)]
pub struct Bounds {
    /// Wall time of one input. A hang detector, not a benchmark: mutants take milliseconds, the
    /// slowest seen 0.44 s (debug, a file with three RSA chains, on a loaded machine), and the
    /// bound is an order of magnitude above, so a loaded CI machine does not trip it while a
    /// loop over a count in the millions, or quadratic work, does.
    pub time: Duration,
    /// Peak bytes allocated while examining one input, above what was live before:
    /// `max(mem_floor, mem_factor × input size)`.
    pub mem_floor: u64,
    pub mem_factor: u64,
    /// Allocations past `hard_factor ×` the memory bound are refused (see [`CountingAlloc`]).
    pub hard_factor: u64,
    /// An input running this long is a hang: the watchdog names it and exits the process.
    pub hang: Duration,
}

impl Bounds {
    /// 5 s per input in debug builds (unoptimised RSA, SHA-256 and goblin are ~10× slower),
    /// 1 s in release; 80 MiB or 8× the input (an xz stream made with `xz -9`, the largest
    /// preset, needs a 64 MiB dictionary however small it is: budget::MAX_XZ_DICTIONARY).
    pub fn for_this_build() -> Bounds {
        let time = if cfg!(debug_assertions) {
            Duration::from_secs(5)
        } else {
            Duration::from_secs(1)
        };
        Bounds {
            time,
            mem_floor: 80 << 20,
            mem_factor: 8,
            hard_factor: 16,
            hang: (time * 12).max(Duration::from_secs(30)),
        }
    }

    pub fn memory(&self, input_len: usize) -> u64 {
        self.mem_floor
            .max(self.mem_factor.saturating_mul(input_len as u64))
    }
}

/// One examination, measured.
pub struct Measured {
    pub elapsed: Duration,
    /// Peak bytes above the baseline.
    pub peak: u64,
    pub observed: Option<Observed>,
    /// Broken bounds and panics: each one a failure.
    pub problems: Vec<String>,
    /// goblin and `authenticode` panics that bingate contained (not failures).
    pub third_party_panics: Vec<String>,
}

thread_local! {
    /// `examine` forks with `rayon::join`; inside a one-thread pool both halves run on that
    /// pool's thread, so the per-thread memory counter and the panic recorder see all of the
    /// work of one input (and workers do not share the global pool).
    static POOL: rayon::ThreadPool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .thread_name(|_| "mutant".into())
        .build()
        .expect("a one-thread rayon pool");
}

/// Makes any single allocation of `bytes` or more while an input is examined abort the
/// process (the example's `--trap-alloc`, for `gdb --args ... --replay ...`).
pub fn trap_allocations_from(bytes: u64) {
    TRAP_FROM.store(bytes, Ordering::Relaxed);
}

static TRAP_FROM: AtomicU64 = AtomicU64::new(u64::MAX);

/// Runs `target` on `input` under the panic recorder, the clock and the memory counter.
pub fn measure(
    input: &[u8],
    bounds: &Bounds,
    label: &str,
    target: &(dyn Fn(&[u8]) -> Observed + Sync),
) -> Measured {
    if on_a_one_thread_pool() {
        measure_here(input, bounds, label, target)
    } else {
        POOL.with(|pool| pool.install(|| measure_here(input, bounds, label, target)))
    }
}

fn on_a_one_thread_pool() -> bool {
    rayon::current_thread_index().is_some() && rayon::current_num_threads() == 1
}

fn measure_here(
    input: &[u8],
    bounds: &Bounds,
    label: &str,
    target: &(dyn Fn(&[u8]) -> Observed + Sync),
) -> Measured {
    install_panic_recorder();
    let mem_bound = bounds.memory(input.len());
    LABEL.with(|l| {
        let mut l = l.borrow_mut();
        l.clear();
        l.push_str(label);
    });
    PANICS.with(|p| p.borrow_mut().clear());
    REFUSED.with(|r| r.set(false));
    let base = CURRENT.with(Cell::get);
    PEAK.with(|p| p.set(base));
    let hard = i64::try_from(mem_bound.saturating_mul(bounds.hard_factor)).unwrap_or(i64::MAX);
    LIMIT.with(|l| l.set(base.saturating_add(hard)));
    let trap = TRAP_FROM.load(Ordering::Relaxed);
    TRAP.with(|t| t.set(i64::try_from(trap).unwrap_or(i64::MAX)));
    IN_MUTANT.with(|f| f.set(true));
    let start = Instant::now();
    let result = panic::catch_unwind(AssertUnwindSafe(|| target(input)));
    let elapsed = start.elapsed();
    IN_MUTANT.with(|f| f.set(false));
    TRAP.with(|t| t.set(i64::MAX));
    LIMIT.with(|l| l.set(i64::MAX));
    let peak = u64::try_from(PEAK.with(Cell::get).saturating_sub(base)).unwrap_or(0);
    let panics = PANICS.with(|p| std::mem::take(&mut *p.borrow_mut()));
    let mut problems = Vec::new();
    let mut third_party_panics = Vec::new();
    match &result {
        Err(_) => problems.push(format!(
            "panic: {}",
            panics
                .last()
                .map_or("<no message recorded>", String::as_str)
        )),
        Ok(o) => {
            for p in panics {
                if is_third_party(&p) {
                    third_party_panics.push(p);
                } else {
                    problems.push(format!("contained panic outside goblin/authenticode: {p}"));
                }
            }
            for e in &o.render_errors {
                problems.push(format!("renderer error: {e}"));
            }
        }
    }
    if REFUSED.with(|r| r.replace(false)) {
        problems.push(format!(
            "an allocation was refused at the hard cap ({} MiB)",
            hard >> 20
        ));
    }
    if elapsed > bounds.time {
        problems.push(format!(
            "took {:.3} s (bound {} s)",
            elapsed.as_secs_f64(),
            bounds.time.as_secs_f64()
        ));
    }
    if peak > mem_bound {
        problems.push(format!(
            "peak memory {:.1} MiB (bound {:.1} MiB)",
            mib(peak),
            mib(mem_bound)
        ));
    }
    Measured {
        elapsed,
        peak,
        observed: result.ok(),
        problems,
        third_party_panics,
    }
}

pub fn mib(b: u64) -> f64 {
    b as f64 / f64::from(1u32 << 20)
}

// ---------------------------------------------------------------------------------------------
// Runs.

/// What to run.
#[derive(Clone, Copy, Debug)]
pub struct Plan {
    pub seed: u64,
    pub per_fixture: u64,
    pub jobs: usize,
    pub bounds: Bounds,
    /// Progress lines on stderr every ten seconds.
    pub progress: bool,
}

/// Totals of a run.
#[derive(Default, Debug)]
pub struct Stats {
    pub fixtures: usize,
    pub mutants: u64,
    pub systematic: u64,
    /// Systematic mutations available, summed over the fixtures.
    pub systematic_available: u64,
    /// Fixtures whose every systematic mutation ran.
    pub exhausted: usize,
    /// Systematic mutations run and available, by family, summed over the fixtures.
    pub families: BTreeMap<&'static str, (u64, u64)>,
    pub by_kind: BTreeMap<&'static str, u64>,
    pub errors: u64,
    pub statuses: BTreeMap<String, u64>,
    pub total_time: Duration,
    pub max_time: Duration,
    pub max_time_id: String,
    pub max_peak: u64,
    pub max_peak_id: String,
    pub third_party_panics: BTreeMap<String, u64>,
    pub failures: Vec<String>,
    /// Mutants whose signature still verified (the first thousand), for review: each should
    /// have changed only bytes the signature does not cover.
    pub still_valid: Vec<String>,
    pub wall: Duration,
}

impl Stats {
    fn merge(&mut self, o: Stats) {
        self.mutants += o.mutants;
        self.systematic += o.systematic;
        for (k, v) in o.by_kind {
            *self.by_kind.entry(k).or_default() += v;
        }
        self.errors += o.errors;
        for (k, v) in o.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.total_time += o.total_time;
        if o.max_time > self.max_time {
            self.max_time = o.max_time;
            self.max_time_id = o.max_time_id;
        }
        if o.max_peak > self.max_peak {
            self.max_peak = o.max_peak;
            self.max_peak_id = o.max_peak_id;
        }
        for (k, v) in o.third_party_panics {
            *self.third_party_panics.entry(k).or_default() += v;
        }
        self.failures.extend(o.failures);
        self.still_valid.extend(o.still_valid);
        self.still_valid.truncate(1000);
    }

    /// The one-line summary.
    pub fn summary(&self, plan: &Plan) -> String {
        let kinds: Vec<String> = self
            .by_kind
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(k, v)| format!("{k} {v}"))
            .collect();
        let families: Vec<String> = self
            .families
            .iter()
            .map(|(k, (ran, of))| format!("{k} {ran}/{of}"))
            .collect();
        format!(
            "mutation: {} mutants ({} fixtures x {}, seed {:#x}, {} systematic of {} available, \
             {} fixtures exhausted; by family: {}) in {:.1} s wall, {:.1} s examining on {} thread(s); \
             kinds: {}; reports: {} with an error, {} with facts; signatures: {}; \
             max time {:.3} s ({}); max peak {:.2} MiB ({}); third-party panics contained: {}; \
             failures: {}",
            self.mutants,
            self.fixtures,
            plan.per_fixture,
            plan.seed,
            self.systematic,
            self.systematic_available,
            self.exhausted,
            families.join(", "),
            self.wall.as_secs_f64(),
            self.total_time.as_secs_f64(),
            plan.jobs,
            kinds.join(", "),
            self.errors,
            self.mutants - self.errors,
            statuses.join(", "),
            self.max_time.as_secs_f64(),
            self.max_time_id,
            mib(self.max_peak),
            self.max_peak_id,
            self.third_party_panics.values().sum::<u64>(),
            self.failures.len(),
        )
    }
}

/// Watches the workers: an input running past `bounds.hang` is named on stderr and the process
/// exits, so that a hang fails CI with its replay id instead of timing the job out.
struct Watchdog {
    slots: Mutex<Vec<Option<(String, Instant)>>>,
    done: AtomicBool,
}

/// Runs `plan.per_fixture` mutants of every fixture through `pipeline`.
pub fn run(fixtures: &[Fixture], plan: &Plan, pipeline: &Pipeline) -> Stats {
    let started = Instant::now();
    install_panic_recorder();
    let models: Vec<Model> = fixtures
        .iter()
        .map(|f| {
            let mut m = Model::build(&f.bytes);
            m.plan(plan.seed, &f.name);
            m
        })
        .collect();
    let jobs = plan.jobs.max(1);
    let total = fixtures.len() as u64 * plan.per_fixture;
    let next = AtomicU64::new(0);
    let done = AtomicU64::new(0);
    let watch = Watchdog {
        slots: Mutex::new(vec![None; jobs]),
        done: AtomicBool::new(false),
    };
    let seed = plan.seed;
    let mut stats = std::thread::scope(|s| {
        let (watch, done_ref) = (&watch, &done);
        s.spawn(move || {
            let mut last_progress = Instant::now();
            while !watch.done.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(200));
                if let Ok(slots) = watch.slots.lock() {
                    for (label, since) in slots.iter().flatten() {
                        if since.elapsed() > plan.bounds.hang {
                            let _ = writeln!(
                                std::io::stderr(),
                                "mutation harness: HANG: {label} has run for {:.0} s (hang bound {} s); \
                                 replay: cargo run --release --example mutate -- --seed {seed:#x} --replay {}",
                                since.elapsed().as_secs_f64(),
                                plan.bounds.hang.as_secs(),
                                label.split(' ').next().unwrap_or_default(),
                            );
                            std::process::exit(3);
                        }
                    }
                }
                if plan.progress && last_progress.elapsed() > Duration::from_secs(10) {
                    last_progress = Instant::now();
                    let n = done_ref.load(Ordering::Relaxed);
                    let secs = started.elapsed().as_secs_f64();
                    let _ = writeln!(
                        std::io::stderr(),
                        "[mutate] {n}/{total} mutants, {secs:.0} s, {:.0}/s",
                        n as f64 / secs
                    );
                }
            }
        });
        let workers: Vec<_> = (0..jobs)
            .map(|w| {
                let (next, done, models) = (&next, &done, &models);
                // The worker loop runs on its own one-thread pool (see POOL): no hand-off to
                // another thread per input.
                s.spawn(move || {
                    POOL.with(|pool| {
                        pool.install(|| {
                            let mut st = Stats::default();
                            let target = |b: &[u8]| pipeline.run(b);
                            loop {
                                let k = next.fetch_add(1, Ordering::Relaxed);
                                if k >= total {
                                    break;
                                }
                                let fi = (k % fixtures.len() as u64) as usize;
                                let index = k / fixtures.len() as u64;
                                let (fx, model) = (&fixtures[fi], &models[fi]);
                                let mt = mutant(fx, model, seed, index);
                                let id = format!("{}:{index}", fx.name);
                                let label = format!("{id} [{}] {}", mt.kind, mt.label);
                                if let Ok(mut slots) = watch.slots.lock() {
                                    slots[w] = Some((label.clone(), Instant::now()));
                                }
                                let r = measure(&mt.bytes, &plan.bounds, &label, &target);
                                if let Ok(mut slots) = watch.slots.lock() {
                                    slots[w] = None;
                                }
                                st.mutants += 1;
                                st.systematic += u64::from(mt.systematic);
                                *st.by_kind.entry(mt.kind).or_default() += 1;
                                st.total_time += r.elapsed;
                                if r.elapsed > st.max_time {
                                    st.max_time = r.elapsed;
                                    st.max_time_id = id.clone();
                                }
                                if r.peak > st.max_peak {
                                    st.max_peak = r.peak;
                                    st.max_peak_id = id.clone();
                                }
                                if let Some(o) = &r.observed {
                                    st.errors += u64::from(o.error);
                                    if let Some(s) = &o.status {
                                        *st.statuses.entry(s.clone()).or_default() += 1;
                                        if s == "Valid" {
                                            if let Some(at) = covered_change(&fx.bytes, model, &mt.bytes) {
                                                st.failures.push(format!(
                                                    "{label}: the signature still verifies although byte {at:#x}, which it covers, changed"
                                                ));
                                            }
                                        }
                                        if s == "Valid" && st.still_valid.len() < 1000 {
                                            st.still_valid.push(label.clone());
                                        }
                                    }
                                }
                                for p in r.third_party_panics {
                                    let at = p.rsplit("(at ").next().unwrap_or_default();
                                    let at = at
                                        .find("goblin-")
                                        .or_else(|| at.find("authenticode-"))
                                        .map_or(at, |i| &at[i..]);
                                    *st.third_party_panics
                                        .entry(at.trim_end_matches(')').into())
                                        .or_default() += 1;
                                }
                                for p in r.problems {
                                    st.failures.push(format!("{label}: {p}"));
                                }
                                done.fetch_add(1, Ordering::Relaxed);
                            }
                            st
                        })
                    })
                })
            })
            .collect();
        let mut all = Stats::default();
        for w in workers {
            all.merge(w.join().expect("a harness worker panicked"));
        }
        watch.done.store(true, Ordering::Relaxed);
        all
    });
    stats.fixtures = fixtures.len();
    stats.systematic_available = models.iter().map(|m| m.ops.len() as u64).sum();
    // Even indices below per_fixture are systematic.
    let slots = usize::try_from(plan.per_fixture.div_ceil(2)).unwrap_or(usize::MAX);
    stats.exhausted = models.iter().filter(|m| m.ops.len() <= slots).count();
    for m in &models {
        for (i, op) in m.ops.iter().enumerate() {
            let e = stats.families.entry(op.family_name()).or_default();
            e.0 += u64::from(i < slots);
            e.1 += 1;
        }
    }
    stats.failures.sort();
    stats.wall = started.elapsed();
    stats
}

/// Parses `123` or `0x7b`.
pub fn parse_u64(s: &str) -> Option<u64> {
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(&hex.replace('_', ""), 16).ok(),
        None => s.replace('_', "").parse().ok(),
    }
}
