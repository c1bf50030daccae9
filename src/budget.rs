//! Budgets: every limit that bounds the work a file can make bingate do.
//!
//! Each is a named constant with the reason for its value. Exceeding one is a finding for that
//! file (an [`crate::error::ErrorKind::Budget`] error or a warning), never a crash or a hang.
//! (After webpki `verify_cert.rs` `Budget`.)

/// Default maximum file size examined: 4 GiB. The largest PE the Windows loader maps is 4 GiB
/// (SizeOfImage is a u32); ELF files this large are debug-info dumps, not shipped programs.
/// Configurable with `--max-file-size`.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 4 << 30;

/// Maximum PE sections. The PE/COFF specification says the Windows loader limits images to 96
/// sections; real linkers produce far fewer. We allow more than the loader so that odd but
/// loadable files are still described, and refuse beyond the u16 field's practical use.
pub const MAX_PE_SECTIONS: u64 = 4096;

/// Maximum ELF section headers read. ELF can declare more than 65,279 via extended numbering
/// (e_shnum = 0, count in section 0's sh_size); 65,535 covers every real file, including large
/// `-ffunction-sections` objects, while a hostile count in the millions is refused.
pub const MAX_ELF_SECTIONS: u64 = 65_535;

/// Maximum ELF program headers read. e_phnum is a u16 (PN_XNUM extension aside); real files have
/// fewer than 20.
pub const MAX_ELF_SEGMENTS: u64 = 4096;

/// Maximum symbols examined per symbol table (canary, FORTIFY, SafeStack and CFI markers).
/// The largest distribution binaries carry ~200k symbols in .symtab; four million bounds the
/// work on a hostile count to a fraction of a second.
pub const MAX_SYMBOLS_EXAMINED: u64 = 4_000_000;

/// Maximum dynamic entries read. PT_DYNAMIC of real programs has fewer than 100 entries.
pub const MAX_DYNAMIC_ENTRIES: u64 = 65_536;

/// Maximum notes walked in note segments/sections (GNU property, build id, ABI tag…).
pub const MAX_NOTES: u64 = 4096;

/// Maximum GNU properties read from one NT_GNU_PROPERTY_TYPE_0 note.
pub const MAX_GNU_PROPERTIES: u64 = 1024;

/// Maximum PE import descriptors walked (driver detection). Large Windows DLLs import from
/// fewer than 200 modules.
pub const MAX_IMPORT_DESCRIPTORS: u64 = 4096;

/// Maximum load configuration structure read, in bytes. The largest today (Windows 11 SDK,
/// PE32+) is 0x148 bytes; the structure grows a few fields per Windows release.
pub const MAX_LOAD_CONFIG_SIZE: u64 = 4096;

/// Maximum PE debug directory entries read. Real images have fewer than 10.
pub const MAX_DEBUG_ENTRIES: u64 = 256;

/// Maximum length of a string read from a file (interpreter path, RPATH, DLL name).
pub const MAX_STRING_LEN: u64 = 4096;

/// Maximum WIN_CERTIFICATE entries read from one attribute certificate table. Real files carry
/// one, UEFI images re-signed by a second CA two; sixteen leaves room without unbounded work.
pub const MAX_CERT_ENTRIES: u64 = 16;

/// Maximum certificates in a validated path, leaf and anchor included. Code-signing chains have
/// three or four; webpki allows the same order of magnitude.
pub const MAX_CHAIN_DEPTH: usize = 8;

/// Maximum certificate signature checks while building one path (webpki's budget is 100).
pub const MAX_SIGNATURE_CHECKS: u64 = 64;

/// Maximum nested Authenticode signatures (1.3.6.1.4.1.311.2.4.1) followed in one file.
/// Real files nest one (SHA-256 inside SHA-1); a chain of nestings is a decompression bomb.
pub const MAX_NESTED_SIGNATURES: u64 = 8;

/// Maximum certificates read from one ELF signature's CMS certificate set. A signer with its
/// chain is three or four; a bag of thousands is only there to make chain building slow.
pub const MAX_CERTIFICATES_PER_SIGNATURE: u64 = 64;

/// Most values in one DER SET (or constructed context-specific value, how CMS encodes its
/// IMPLICIT SET OFs) of a signature, checked by the DER walk before anything is decoded. `der`
/// 0.7 insertion-sorts every SET OF it decodes: an unsorted SET of n values costs n²/2
/// comparisons (20,000 values in one unsigned attribute took about a minute), so with this cap a
/// SET costs at most 32 comparisons per value. Real signatures stay far below it: the largest SET
/// in 1,100 signed PE files (the public corpus, 20 PyPI wheels' vendored DLLs, the fixtures) is a
/// certificate bag of 6 (node.exe), and MAX_CERTIFICATES_PER_SIGNATURE already caps bags at 64.
pub const MAX_SET_ELEMENTS: u32 = 64;

/// Timestamps (RFC 3161 tokens and legacy countersignatures) read from one SignerInfo; only the
/// first decides, as in WinVerifyTrust. Real signatures carry one. Each costs a signature check
/// (up to a 16384-bit RSA one), so the rest are counted and reported, not verified.
pub const MAX_TIMESTAMPS_PER_SIGNATURE: usize = 4;

/// Largest policy or waiver file read (`--policy`, `--waivers`, `extends`). The shipped policies
/// are under 40 KB; 50,000 rules fit in about 16 MiB. `/dev/zero` given as a policy is refused
/// before any byte is read (not a regular file).
pub const MAX_POLICY_FILE_SIZE: u64 = 16 << 20;

/// Largest key, certificate, chain, CRL or passphrase file read. Real ones are kilobytes; a CRL of
/// a big CA a few megabytes.
pub const MAX_SMALL_INPUT_SIZE: u64 = 64 << 20;

/// Largest RSA modulus read from a certificate, in bits. Windows and OpenSSL accept 16384-bit
/// keys (some CAs and release keys use 8192; 16384 is the largest OpenSSL generates by default
/// limits), and the `rsa` crate's own decoder stops at 4096. Verifying costs O(bits²) per
/// modular multiplication with the exponent bounded to 2^33 - 1 by the crate: `bingate verify` of
/// corpus/integrity/bigkey-rsa16384.exe takes 12.5 ms against 3.3 ms for an RSA-2048 file (release
/// build, median of 7, the 2-core reference machine), so a 16384-bit check costs about 9 ms.
pub const MAX_RSA_KEY_BITS: usize = 16_384;

/// Maximum size of a `.bingate.sig` section or an appended module signature verified: a CMS
/// with a chain and a timestamp is a few tens of KiB; the manifest of 65,535 sections
/// (`MAX_ELF_SECTIONS`) at ~200 bytes a line stays under 16 MiB.
pub const MAX_ELF_SIGNATURE_LEN: u64 = 32 << 20;

/// Bytes hashed for the per-section digests of an ELF signature manifest (when signing, and when
/// verifying says which sections changed), as a multiple of the file's size. Sections of a real
/// ELF file do not overlap in the file, so their digests read each byte at most once; a hostile
/// table of 65,535 sections over the same megabytes would read the file 65,535 times. Identical
/// ranges are hashed once; past this budget signing refuses the file and verifying stops naming
/// changed sections (the verdict comes from the whole-file digest, which is always computed).
pub const MAX_SECTION_DIGEST_FACTOR: u64 = 2;

/// Directory levels of the PE resource tree walked. The Windows loader (`LdrFindResource`) reads
/// exactly three — type, name, language — and expects data entries at the third; a subdirectory
/// below that is never reached by Windows, so it is reported and not followed.
pub const MAX_RESOURCE_DEPTH: u32 = 3;

/// Resource directory entries visited per file, all levels together. One directory can declare
/// 131,070 entries (two u16 counts); real trees hold about three per resource (type, name and
/// language entries), and the largest in the public corpus (7-Zip's 7z.dll, 52 icons in 25
/// groups) has 162. 65,536 leaves room for icon libraries of thousands of resources in several
/// languages, while a hostile tree of 0xFFFF-entry directories stops at its first leaves.
pub const MAX_RESOURCE_ENTRIES: u64 = 65_536;

/// Malformations listed per resource tree; the rest are counted in one closing message. A
/// hostile tree can make every one of its 65,536 entries wrong, and the report needs only a few.
pub const MAX_RESOURCE_MALFORMATIONS: usize = 64;

/// Bytes of an RT_VERSION resource read. The root VS_VERSION_INFO block's wLength is a u16, so
/// no version resource can describe more than 65,535 bytes.
pub const MAX_VERSION_INFO_SIZE: u64 = 0xFFFF;

/// Child blocks read per VS_VERSION_INFO block (string tables, strings, vars). Real version
/// resources have one StringFileInfo with one table of about a dozen strings; 1,024 is far past
/// any writer's output while bounding what the 6-byte minimum block could make us collect.
pub const MAX_VERSION_CHILDREN: u64 = 1024;

/// Bytes of an RT_MANIFEST resource parsed. The 17 manifests of the public corpus are 381 to
/// 1,505 bytes; side-by-side manifests listing many files or COM classes reach tens of KiB.
/// A larger one is reported and not parsed.
pub const MAX_MANIFEST_SIZE: u64 = 1 << 20;

/// XML nodes (elements, text, comments, processing instructions) parsed from one manifest,
/// passed to roxmltree's `nodes_limit`. Real manifests have tens to a few thousand nodes; a 1 MiB
/// manifest of `<a/>` would make 262,144, which this refuses.
pub const MAX_MANIFEST_XML_NODES: u32 = 65_536;

/// Deepest nesting of constructed DER values accepted in a signature (Authenticode, ELF section,
/// module signature) before it is decoded. The deepest real signature in the corpus nests 33
/// levels (msvcp140_1.dll: a nested SHA-256 signature, with its RFC 3161 token, inside the
/// primary signature's unsigned attributes; node.exe nests 26). Nested signatures are themselves
/// capped at `MAX_NESTED_SIGNATURES`, each adding a dozen levels, so 128 leaves room for every
/// legitimate shape while a hostile blob of thousands of nested SEQUENCEs is refused before any
/// decoder sees it. The decoders bingate uses follow fixed schemas and do not recurse on input
/// depth; this walk is the one place that reads arbitrary nesting, and it is iterative.
pub const MAX_DER_DEPTH: usize = 128;

/// Largest `FILE:Zone.Identifier` sidecar read as a Mark of the Web. Windows writes a few hundred
/// bytes (ZoneId, ReferrerUrl, HostUrl); anything larger is not one and is reported unread.
pub const MAX_ZONE_IDENTIFIER_LEN: u64 = 64 * 1024;

/// How deep a policy's `extends` chain may go (a cycle is reported before this is reached). The
/// shipped policies extend at most one level; eight leaves room for organisation layers.
pub const MAX_EXTENDS_DEPTH: usize = 8;

// ---------------------------------------------------------------------------------------------
// Key files (sign::key)
// ---------------------------------------------------------------------------------------------

/// Largest RSA modulus accepted, in bits: OpenSSL's `OPENSSL_RSA_MAX_MODULUS_BITS`. Code-signing
/// keys are 2048 to 4096 bits; a bigger modulus only makes every signature slower.
pub const MAX_RSA_BITS: usize = 16_384;

/// Most PBKDF2 iterations run to decrypt a key. OpenSSL writes 2,048; OWASP's 2023 password
/// storage guidance asks for 600,000 (HMAC-SHA-256). Three times that leaves room for cautious
/// users and bounds a hostile file to a few seconds.
pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;

/// Most memory scrypt may use to decrypt a key, counted as OpenSSL counts it
/// (`128·r·(N+2) + 128·r·p` bytes): OpenSSL's default `maxmem`, 32 MiB (`SCRYPT_MAX_MEM` in
/// `providers/implementations/kdfs/scrypt.c`). `openssl pkcs8 -scrypt` uses N=16384, r=8, p=1
/// (16 MiB).
pub const MAX_SCRYPT_MEMORY: u64 = 32 << 20;

/// Most scrypt work (N·r·p) run to decrypt a key: 32 times OpenSSL's default (2^17). Memory alone
/// does not bound it (p multiplies the work but barely the memory).
pub const MAX_SCRYPT_WORK: u64 = 1 << 22;

/// Most iterations of one PKCS#12 key derivation (the RFC 7292 appendix B KDF of the MAC and the
/// legacy `pbeWithSHAAnd…` schemes, or PBES2's PBKDF2) in a .pfx/.p12 file. OpenSSL writes 2,048
/// (`PKCS12_DEFAULT_ITER`), Windows 2,000, Java's keytool 10,000; RFC 8018 §4.2 calls 10,000,000
/// appropriate "for especially critical keys", so that is the cap: about two seconds of SHA-1 or
/// SHA-256 chains here, and a file asking for more is refused before any is run.
pub const MAX_PKCS12_ITERATIONS: u32 = 10_000_000;

/// Most hash-chain iterations spent on one PKCS#12 file, all derivations together: the MAC's,
/// each encrypted certificate container's and the key's (a derivation longer than one digest,
/// such as 3DES's 24-byte key from SHA-1, or a key and its IV, counts once per chain). Bounds a
/// file with many encrypted containers; four maximal derivations (MAC, certificates, key: what an
/// OpenSSL 3 or Java export with a huge iteration count needs) fit: four times
/// [`MAX_PKCS12_ITERATIONS`], about eight seconds.
pub const MAX_PKCS12_WORK: u64 = 40_000_000;

/// Largest PKCS#11 PIN file read (`pin-source=file:`), in bytes. PKCS#11 PINs are short
/// (`ulMaxPinLen` is 255 on SoftHSM2 and most cards; CloudHSM's `user:password` form is under
/// 100): a bigger file is the wrong file, and is not read into memory.
pub const MAX_PKCS11_PIN_FILE: u64 = 4096;

/// How many token objects an "absent or ambiguous key" error lists (src/sign/pkcs11.rs). A
/// token can hold thousands of objects; the message only has to show the user what the URI
/// could have meant.
pub const MAX_PKCS11_LISTED: usize = 20;

/// Most SafeBags (key, certificate, CRL, secret bags) read from one PKCS#12 file, and most
/// ContentInfos in its AuthenticatedSafe. An export holds one key and its chain (two to five
/// bags, in two ContentInfos); a browser's whole certificate store exported as one file has a
/// few hundred.
pub const MAX_PKCS12_BAGS: usize = 1024;

/// Most PEM blocks read from one file. A signer's chain has two to four; the whole Mozilla root
/// store as one bundle (`ca-certificates.crt`) has about 150.
pub const MAX_PEM_BLOCKS: usize = 1024;

// ---------------------------------------------------------------------------------------------
// The RFC 3161 client's HTTP (sign::tsp)
// ---------------------------------------------------------------------------------------------

/// Response status line and headers, all 1xx interim heads included: 64 KiB. This is the order
/// of what HTTP servers accept for a request head (nginx `large_client_header_buffers` 4 × 8 KiB,
/// Apache `LimitRequestFieldSize` 8 KiB × 100 fields); a TSA reply needs a few hundred bytes.
pub const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Response body: 1 MiB. A TimeStampResp is a token plus the TSA's chain, 2 to 10 KiB from
/// public TSAs (DigiCert, Sectigo, GlobalSign, FreeTSA); 1 MiB leaves room for long chains and
/// CRLs inside the token while bounding what a hostile server can make us hold.
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// Chunked framing on top of the body (chunk-size lines, extensions, trailers): 64 KiB, the same
/// as a head. A TSA sends its reply in one or a few chunks.
pub const MAX_CHUNK_FRAMING_BYTES: usize = 64 * 1024;

/// One chunk-size line with its extensions. RFC 9112 §7.1.1 sets no limit; a size is at most 16
/// hex digits and TSAs send no extensions, so 1 KiB is generous.
pub const MAX_CHUNK_LINE_BYTES: usize = 1024;

/// Addresses tried for one host name (a name may resolve to many; each try can take until the
/// deadline).
pub const MAX_ADDRESSES: usize = 8;

/// Longest URL accepted: RFC 9110 §4.1 asks for at least 8000 octets.
pub const MAX_URL_BYTES: usize = 8000;

/// Longest timeout honoured: a longer one is taken as a day, so that `Instant` arithmetic cannot
/// overflow.
pub const MAX_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(24 * 60 * 60);

/// Server-provided text (HTTP reason phrase, statusString, header values) shown in an error is
/// cut to this many characters.
pub const MAX_SHOWN_CHARS: usize = 512;

// ---------------------------------------------------------------------------------------------
// ELF signatures (elfsig)
// ---------------------------------------------------------------------------------------------

/// Manifests longer than this are refused when verifying: 65,535 sections (the section budget)
/// at ~200 bytes per line.
pub const MAX_MANIFEST_LEN: usize = 16 << 20;

// ---------------------------------------------------------------------------------------------
// PE headers (pe::headers)
// ---------------------------------------------------------------------------------------------

/// `Rich` markers looked at (from the last one back): a DOS stub may hold the word by chance.
pub const MAX_RICH_MARKERS: usize = 8;

/// How far before its `Rich` marker a Rich header's `DanS` start is looked for: 8 bytes per
/// entry, and linkers write a few dozen entries.
pub const MAX_RICH_LEN: usize = 16 * 1024;

/// Entries kept from one Rich header: 8 bytes each, so MAX_RICH_LEN holds at most 2,048; real
/// headers list a few dozen (one per compiler/linker product and build used).
pub const MAX_RICH_ENTRIES: usize = 1024;

// ---------------------------------------------------------------------------------------------
// X.509 extensions (pki::ext)
// ---------------------------------------------------------------------------------------------

/// Longest arc accepted, in base-128 digits (18 × 7 = 126 bits fit a u128).
pub const MAX_ARC_DIGITS: u32 = 18;

// ---------------------------------------------------------------------------------------------
// Authenticode page hashes (authenticode::pagehash)
// ---------------------------------------------------------------------------------------------

/// Absolute cap on the page hashes computed for one signature: one per 4 KiB page (the page size
/// the hashes are taken over) of the largest file bingate reads by default
/// ([`DEFAULT_MAX_FILE_SIZE`], 4 GiB: 1,048,576 pages), one partial page per section
/// ([`MAX_PE_SECTIONS`]), the header page and the final entry. Each file also gets a budget of
/// its own size in pages plus its sections plus two (`authenticode::pagehash::page_budget`); this
/// bounds the work when `--max-file-size` is raised.
pub const MAX_PAGE_HASHES: u64 = DEFAULT_MAX_FILE_SIZE / 4096 + MAX_PE_SECTIONS + 2;

// ---------------------------------------------------------------------------------------------
// Policy files (policy::load)
// ---------------------------------------------------------------------------------------------

/// Unknown rule names in one policy or waiver file that get a "did you mean" hint: each hint
/// compares the name with every rule id (edit distance), so a file of 50,000 misspelt ids would
/// cost 50,000 × rules comparisons; 32 hints are more than anyone reads.
pub const MAX_ID_HINTS: usize = 32;

// ---------------------------------------------------------------------------------------------
// Trust stores and CRLs (pki::trust, pki::crl)
// ---------------------------------------------------------------------------------------------

/// Largest trust file read (PEM bundle, DER certificate or `authroot.stl`): 64 MiB. Today's
/// `authroot.stl` is 200 KiB, Debian's `ca-certificates.crt` 220 KiB, Microsoft's full root
/// bundle 1.2 MiB; a file hundreds of times larger is not a trust list.
pub const MAX_TRUST_FILE_SIZE: u64 = 64 << 20;

/// Most certificates taken from one trust file or directory. Microsoft's program has ~560 roots,
/// Mozilla's ~150; ten thousand bounds the work on a hostile file.
pub const MAX_TRUST_CERTS: usize = 10_000;

/// Most entries read from a CTL (555 in authroot.stl of October 2026).
pub const MAX_CTL_ENTRIES: usize = 10_000;

/// Most attributes read per CTL entry (Microsoft uses 11 property ids today).
pub const MAX_CTL_ATTRIBUTES: usize = 64;

/// Maximum CRLs read from one file. A CRL bundle holds one list per issuing CA; real PKIs have a
/// handful to a few dozen CAs, so 256 leaves room without letting one file make unbounded work
/// (each CRL may cost a signature check per certificate checked).
pub const MAX_CRLS_PER_FILE: usize = 256;

// ---------------------------------------------------------------------------------------------
// Risk evidence text (risk)
// ---------------------------------------------------------------------------------------------

/// Items of one piece of evidence shown in its text; the rest are counted: a file can declare
/// thousands of sections (MAX_PE_SECTIONS), and evidence is read by a person, so its length must
/// not grow with the file.
pub const EVIDENCE_ITEMS_SHOWN: usize = 8;

/// Companions (unsigned DLLs beside an executable) named in one piece of evidence before "and N
/// more": a directory can hold any number of files.
pub const COMPANIONS_SHOWN: usize = 5;

// ---------------------------------------------------------------------------------------------
// Certificate chains (pki::chain)
// ---------------------------------------------------------------------------------------------

/// Certificate signature checks remembered per process (each entry: a 32-byte id and a bool),
/// so the CA certificates shared by the chains of a run's files are checked once. Real runs
/// meet a few dozen distinct CA certificates; a run that meets more than 4,096 starts over
/// (memory stays under 1 MiB whatever the files hold).
pub const MAX_REMEMBERED_SIGNATURE_CHECKS: usize = 4096;

// Containers (src/container/): archives, packages and installers read in memory.

/// Containers nested in containers below a top-level file. ClamAV's `MaxRecursion` default is
/// 17; real downloads nest three deep at most (an MSI in a zip, its CAB, a file). 42.zip nests
/// five levels of sixteen; the expanded-bytes budget stops it either way.
pub const MAX_CONTAINER_DEPTH: u32 = 8;

/// Entries listed per container. ClamAV's `MaxFiles` default is 10,000 per scan; a PyTorch
/// wheel lists about 12,000 files and a large npm tarball a few tens of thousands, so a
/// million leaves room while bounding the central directory a hostile zip can declare.
pub const MAX_CONTAINER_ENTRIES: u64 = 1_000_000;

/// Bytes decompressed for one top-level file, at every depth. Only binaries and nested
/// containers are read whole (other entries only as far as their first bytes), so this is
/// several times the largest real package (a 2.5 GB CUDA wheel holds about 4 GB of
/// libraries) while stopping a zip bomb (42.zip: 4.5 PB) after a bounded amount of work.
pub const MAX_EXPANDED_BYTES: u64 = 16 << 30;

/// Expansion ratio of one compressed unit (a zip entry, a gzip stream, a CAB folder), checked
/// past [`EXPANSION_RATIO_GRACE`]. Apache POI's `ZipSecureFile` refuses entries that expand
/// more than 100 times (its `MIN_INFLATE_RATIO` of 0.01, checked past its grace size);
/// DEFLATE itself cannot exceed 1032:1, so a unit past this ratio is a bomb or a file of zeros,
/// never a shipped binary.
pub const MAX_EXPANSION_RATIO: u64 = 100;

/// Decompressed bytes of one unit before its ratio is checked: small entries (a 40-byte file
/// of spaces) legitimately expand more than [`MAX_EXPANSION_RATIO`] times. POI makes the same
/// allowance (`GRACE_ENTRY_SIZE`, 100 KiB, in `ZipArchiveThresholdInputStream`); a mebibyte
/// here, because a tar's whole compressed stream is one unit and starts with header blocks of
/// zeros.
pub const EXPANSION_RATIO_GRACE: u64 = 1 << 20;

/// Notes kept per container (unsafe names, links); the rest are counted.
pub const MAX_CONTAINER_NOTES: usize = 64;

/// Bytes of binaries read from containers and waiting for (or in) their examination on the
/// pool while the reader goes on with the next entries. Past it the reader examines the entry
/// itself before reading on, so memory stays bounded whatever a package holds; 256 MiB keeps
/// both cores busy on the largest DLLs seen in packages (Chromium's 150 MB libraries).
pub const MAX_CONTAINER_BYTES_IN_FLIGHT: u64 = 256 << 20;

/// Bytes one CAB data block (CFDATA) may expand to: [MS-CAB] 2.5 says a block holds at most
/// 32,768 uncompressed bytes (CB_MAX_CHUNK); 64 KiB - 1, the field's own limit, leaves room for
/// writers that round up, while a block's output is allocated from this number.
pub const MAX_CAB_BLOCK_UNCOMPRESSED: u64 = 0xFFFF;

/// Largest LZX window of a CAB folder, as a power of two: [MS-CAB] 2.1 allows 15..=21 (32 KiB to
/// 2 MiB); the lzxd crate would accept up to 2^25, a 32 MiB allocation a hostile folder could ask
/// for per folder.
pub const MAX_CAB_LZX_WINDOW_BITS: u8 = 21;

// Installer payloads (src/container/installer.rs), recognised in a PE file's overlay.

/// Bytes before the certificate table or the end of the file searched for a zip
/// self-extractor's end-of-central-directory record: the record (22 bytes) and the longest
/// comment it can declare (65,535), APPNOTE 4.3.16. An archive that ends farther away is not
/// recognised.
pub const ZIP_EOCD_SEARCH: u64 = 22 + 65_535;

/// 512-byte aligned offsets in the overlay probed for an NSIS first header (the first MiB).
/// makensis writes it at the first aligned offset after the stub; the stub itself scans the
/// whole file, but a payload behind a megabyte of other data is not something makensis makes.
pub const NSIS_HEADER_PROBES: u64 = 2048;

/// Bytes of the image's end searched for Inno Setup's loader offset table (the stub keeps it
/// in its resources, the last section of a stub of about 700 KB), and of the overlay's head
/// searched for the setup data's signature when no table is found (installers before 5.1.5,
/// which have no table, put it at the head). Every PE file with bytes after its image is
/// searched, so the windows are what a scan of Wine's 690 DLLs can afford: 16 MiB each made the
/// human `check` of that directory 1.9 times as long (perf: memchr in the searches).
pub const INNO_TABLE_WINDOW: u64 = 1 << 20;
pub const INNO_SIGNATURE_WINDOW: u64 = 1 << 20;

/// Containers a WiX Burn `.wixburn` section can list: the section is 512 bytes, of which the
/// header takes 48 and each container size 4 (wix `src/burn/stub/StubSection.cpp`).
pub const MAX_BURN_CONTAINERS: u64 = (512 - 48) / 4;

/// Bytes that may come before a zip whose offsets count from the start of a larger file (a
/// self-extractor's zip sliced from its PE): the reader then shows that many zero bytes before
/// the zip, and the zip crate's search for the end record may scan them all. Self-extractor
/// stubs (WinZip, Info-ZIP, 7-Zip) are a few hundred KiB, signed installer stubs a few MiB;
/// 64 MiB leaves room and keeps a hostile offset from costing more than a short scan.
pub const MAX_ZIP_PREFIX: u64 = 64 << 20;

/// Index entries of one RPM header (the signature header or the main one): rpm's own
/// `hdrchkTags` (lib/header_internal.h) refuses 65,536 or more.
pub const MAX_RPM_HEADER_TAGS: u64 = 0xFFFF;

/// Bytes of one RPM header's data store: rpm's `hdrchkData` (lib/header_internal.h,
/// `HEADER_DATA_MAX`) allows up to 256 MiB, for file signatures in large packages.
pub const MAX_RPM_HEADER_DATA: u64 = 0x0FFF_FFFF;

/// Bytes of one cpio entry's name in an RPM payload (newc stores it with its length): Linux's
/// `PATH_MAX`, 4,096, which rpm's paths never exceed.
pub const MAX_CPIO_NAME: u64 = 4096;

/// LZMA2 dictionary of an xz block: xz's largest preset (`-9`, `-9e`) uses 64 MiB (xz(1),
/// "Presets"), which every xz file made with a preset fits; the format allows 4 GiB, which
/// lzma-rust2 would allocate on the header's word. Read from every block header before
/// decoding (src/container/xz.rs); larger is a budget error for the file.
pub const MAX_XZ_DICTIONARY: u64 = 64 << 20;

// ---------------------------------------------------------------------------------------------
// The signing server (serve)
// ---------------------------------------------------------------------------------------------

/// Request-body bytes read and thrown away after an answer is decided without them (a refused
/// upload, an error found from the head), so that the client reads the answer rather than a
/// connection reset: 64 MiB. nginx's lingering close and Apache httpd's both bound this by time
/// only; a byte bound as well keeps a client that declared a huge upload from holding a
/// connection busy at line rate.
pub const LINGER_BYTES: u64 = 64 << 20;

/// Time spent reading and throwing away such bytes: 5 s, nginx's `lingering_timeout` default
/// (its `lingering_time`, 30 s, bounds the whole close; Apache httpd waits at most 2 s per read
/// and 30 s in all).
pub const LINGER_TIME: std::time::Duration = std::time::Duration::from_secs(5);
