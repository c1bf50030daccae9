//! The fuzz targets' bodies, one function per target, and what they share: the test PKI's root
//! as the only trust anchor, a fixed verification time, and the module-signature trailer. The
//! environment is built once per process (`OnceLock`), so every iteration spends its time in the
//! parser under test, not in loading anchors.
//!
//! `tests/fuzz_regressions.rs` at the crate root includes this file (`#[path]`), so a committed
//! crashing input runs through exactly the code its target ran.

use std::sync::OnceLock;

use bingate::cms::verdict::{FixedAnchors, VerifyEnv};
use bingate::pki::chain::Anchors;
use x509_cert::Certificate;

/// The test PKI root (corpus/pki/root.pem), the anchor every signed fixture chains to.
pub const ROOT_PEM: &[u8] = include_bytes!("../../corpus/pki/root.pem");
/// Its path, for the `--trust` argument of [`signing`]: from `fuzz/` in the fuzz crate, from the
/// crate root when `tests/fuzz_regressions.rs` includes this file.
pub const ROOT_PEM_PATH: &str = if is_fuzz_crate() {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../corpus/pki/root.pem")
} else {
    concat!(env!("CARGO_MANIFEST_DIR"), "/corpus/pki/root.pem")
};

const fn is_fuzz_crate() -> bool {
    let name = env!("CARGO_PKG_NAME").as_bytes();
    let fuzz = b"bingate-fuzz";
    if name.len() != fuzz.len() {
        return false;
    }
    let mut i = 0;
    while i < name.len() {
        if name[i] != fuzz[i] {
            return false;
        }
        i += 1;
    }
    true
}
/// Signer certificates offered to module-signature verification (which carries none).
const MODULE_CERTS: &[&[u8]] = &[
    include_bytes!("../../corpus/pki/leaf-rsa.pem"),
    include_bytes!("../../corpus/pki/leaf-ecdsa.pem"),
];
/// The verification time: 2026-11-22T00:00:00Z, the time most fixtures in
/// corpus/signed/expected.json reason with.
pub const AT_RFC3339: &str = "2026-11-22T00:00:00Z";
pub const AT: u64 = 1_795_305_600;

pub fn anchors() -> &'static Anchors {
    static ANCHORS: OnceLock<Anchors> = OnceLock::new();
    ANCHORS.get_or_init(|| Anchors::from_pem(ROOT_PEM).expect("corpus/pki/root.pem parses"))
}

pub fn module_certs() -> &'static [Certificate] {
    static CERTS: OnceLock<Vec<Certificate>> = OnceLock::new();
    CERTS.get_or_init(|| {
        MODULE_CERTS
            .iter()
            .flat_map(|pem| Certificate::load_pem_chain(pem).expect("corpus/pki leaf parses"))
            .collect()
    })
}

fn not_revoked(_: &Certificate, _: &Certificate) -> Option<u64> {
    None
}

static FIXED: OnceLock<FixedAnchors<'static>> = OnceLock::new();

/// A verification environment: the test root for code signing and time stamping, a fixed time,
/// no revocations, page hashes checked.
pub fn verify_env(strict: bool) -> VerifyEnv<'static> {
    let fixed = FIXED.get_or_init(|| FixedAnchors {
        code_signing: anchors(),
        time_stamping: anchors(),
    });
    VerifyEnv {
        anchors: fixed,
        at: AT,
        strict,
        require_all: false,
        revoked: &not_revoked,
    }
}

/// The `SigningConfig` the command line would build for
/// `--no-default-trust --trust corpus/pki/root.pem --time 2026-11-22T00:00:00Z`.
pub fn signing() -> &'static bingate::config::SigningConfig {
    static SIGNING: OnceLock<bingate::config::SigningConfig> = OnceLock::new();
    SIGNING.get_or_init(|| {
        bingate::cli::TrustArgs {
            trust: vec![ROOT_PEM_PATH.into()],
            no_default_trust: true,
            system_trust: false,
            ctl: None,
            crl: Vec::new(),
            time: Some(AT_RFC3339.to_owned()),
            strict: false,
            require: bingate::cli::RequireArg::Primary,
            cert: Vec::new(),
        }
        .resolve()
        .expect("the fuzz trust arguments resolve")
    })
}

pub fn weights() -> &'static bingate::risk::Weights {
    static WEIGHTS: OnceLock<bingate::risk::Weights> = OnceLock::new();
    WEIGHTS.get_or_init(bingate::risk::Weights::default)
}

/// `struct module_signature` (12 bytes) for a PKCS#7 signature of `sig_len` bytes, then the
/// magic, as `scripts/sign-file` appends them (see src/elfsig/module.rs).
pub fn module_trailer(sig_len: u32) -> [u8; 40] {
    let mut t = [0u8; 40];
    t[2] = 2; // id_type = PKEY_ID_PKCS7
    t[8..12].copy_from_slice(&sig_len.to_be_bytes());
    t[12..].copy_from_slice(bingate::elfsig::module::MAGIC);
    t
}

/// The module-signature target's input: `[mode][u32 LE n][body]`. The file verified is `body`
/// followed by a trailer whose length field is `n` as given (mode odd: lengths past the body,
/// past the budget) or `n` folded into `0..=body.len()` (mode even: the CMS is a suffix of
/// `body`, so most inputs reach the CMS parser).
pub fn module_input(data: &[u8]) -> Option<Vec<u8>> {
    let (&mode, rest) = data.split_first()?;
    let n = u32::from_le_bytes(rest.get(..4)?.try_into().ok()?);
    let body = rest.get(4..)?;
    let sig_len = if mode & 1 == 1 {
        n
    } else {
        let room = u32::try_from(body.len()).ok()?.checked_add(1)?;
        n % room
    };
    let mut file = Vec::with_capacity(body.len().saturating_add(40));
    file.extend_from_slice(body);
    file.extend_from_slice(&module_trailer(sig_len));
    Some(file)
}

// ---- the targets ------------------------------------------------------------------------------

/// `pe_facts`: PE facts (headers, sections, load config, debug directory, imports, checksum).
pub fn pe_facts(data: &[u8]) {
    let _ = bingate::pe::analyze(data);
}

/// `elf_facts`: ELF facts (headers, segments, dynamic section, notes, symbols, FORTIFY).
pub fn elf_facts(data: &[u8]) {
    let _ = bingate::elf::analyze(data);
}

/// `authenticode`: the certificate table, its signatures and their verification against the
/// test root (lenient and strict), the content facts, and the whole `check` path with the risk
/// estimate (`scan::examine`, as the mutation harness runs it).
pub fn authenticode(data: &[u8]) {
    let _ = bingate::authenticode::verify::verify(data, &verify_env(false));
    let _ = bingate::authenticode::verify::verify(data, &verify_env(true));
    let _ = bingate::pe::content::read(data);
    // No Zone.Identifier sidecar exists beside this path.
    let path = std::path::Path::new("/nonexistent/bingate-fuzz/input.exe");
    let _ = bingate::scan::examine(data, path, Some(signing()), Some(weights()));
}

/// `cms_x509`: the Authenticode (PKCS#7 SignedData) parser with its lenient fallback, the
/// certificate bag, and a certificate's EKU and report view.
pub fn cms_x509(data: &[u8]) {
    use der::Decode;
    let _ = bingate::authenticode::signature::parse(data);
    if let Ok((signer, bag)) = bingate::authenticode::signature::certificates(data) {
        for cert in signer.iter().chain(bag.iter()) {
            let _ = bingate::pki::ext::eku(cert);
            let _ = bingate::cms::signer::signer_from_cert(cert);
        }
    }
    if let Ok(cert) = Certificate::from_der(data) {
        let _ = bingate::pki::ext::eku(&cert);
        let _ = bingate::cms::signer::signer_from_cert(&cert);
    }
}

/// `pe_resources`: the resource tree, VS_VERSION_INFO, the manifest's XML.
pub fn pe_resources(data: &[u8]) {
    let _ = bingate::pe::resources::read(data);
}

/// `elf_signature`: a `.bingate.sig` section or an appended module signature, verified against
/// the test root and the test leaves.
pub fn elf_signature(data: &[u8]) {
    let _ = bingate::elfsig::find(data);
    let _ = bingate::elfsig::verify(data, &verify_env(false), module_certs());
}

/// `module_signature`: appended module signatures behind a well-formed trailer; the input
/// controls the module, the CMS bytes and the trailer's length field ([`module_input`]).
pub fn module_signature(data: &[u8]) {
    let Some(file) = module_input(data) else {
        return;
    };
    let _ = bingate::elfsig::module::split(&file);
    let _ = bingate::elfsig::verify(&file, &verify_env(false), module_certs());
}

/// `policy`: policy files (TOML with positions, unknown keys, validation, `extends` of shipped
/// policies), the bytes read as UTF-8 (lossy).
pub fn policy(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let _ = bingate::policy::from_text(&text, "fuzz.toml");
}

// Containers: MSI, CAB

/// Walks a container of `kind`, reading every entry to its end, within small limits (so a
/// run explores structures, not decompression of huge entries).
fn walk_all(kind: bingate::container::Kind, data: &[u8]) {
    use std::io::Read;
    let limits = bingate::container::Limits {
        max_expanded: 64 << 20,
        ..bingate::container::Limits::default()
    };
    let budget = bingate::container::Budget::new(limits);
    let visit = |_: &bingate::container::EntryMeta, r: &mut dyn Read| {
        let _ = std::io::copy(r, &mut std::io::sink());
    };
    let _ = bingate::container::walk(kind, data, 0, &budget, &visit);
}

/// `container_msi`: the compound file reader (header, DIFAT, FAT, mini FAT, directory tree,
/// sector chains) and the MSI stream walk; the class-id check.
pub fn container_msi(data: &[u8]) {
    let _ = bingate::container::msi::is_installer(data);
    walk_all(bingate::container::Kind::Msi, data);
}

/// `container_cab`: the cabinet's tables (counts, reserves, spanning names) and its folders
/// decompressed (stored, MSZIP, LZX); the same bytes as a WiX Burn payload (cabinets end to end,
/// each split off by its own declared length).
pub fn container_cab(data: &[u8]) {
    walk_all(bingate::container::Kind::Cab, data);
    walk_all(bingate::container::Kind::Burn, data);
}

/// `msi_signature`: MSI and CAB Authenticode verification (the sorted stream digest, the
/// MsiDigitalSignatureEx pre-hash, the CAB reserved header), against the test root.
pub fn msi_signature(data: &[u8]) {
    let env = verify_env(false);
    if data.starts_with(b"MSCF") {
        let _ = bingate::authenticode::cab::verify_cab(data, &env);
    } else {
        let _ = bingate::authenticode::msi::verify_msi(data, &env);
    }
}

// Installers

/// `installer`: installer payloads recognised in a PE overlay (`container::installer::recognise`:
/// the NSIS first header, Inno Setup's offset table and setup data, the zip EOCD and central
/// directory, a `.wixburn` header), with the facts the scan reads from the PE headers taken from
/// the input: `[u32 LE image end][u32 LE table offset][u32 LE table size][u32 LE .wixburn
/// offset][file]`. The image end is folded into the file; a zero table size means unsigned; a
/// non-zero `.wixburn` offset names the section's 512 bytes in the file. A payload that leaves
/// the file or starts inside the image is a finding.
pub fn installer(data: &[u8]) {
    use bingate::container::installer::{Overlay, recognise};
    const BURN_SECTION_LEN: usize = 512;
    let Some((head, file)) = data.split_at_checked(16) else {
        return;
    };
    let word = |at: usize| {
        head.get(at..at + 4)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map_or(0, u32::from_le_bytes)
    };
    let len = file.len() as u64;
    let image_end = u64::from(word(0)) % (len + 1);
    let table = (u64::from(word(4)), u64::from(word(8)));
    let burn = word(12) as usize;
    let overlay = Overlay {
        image_end,
        certificate_table: (table.1 != 0).then_some(table),
        wixburn: (burn != 0)
            .then(|| file.get(burn..burn.saturating_add(BURN_SECTION_LEN)))
            .flatten(),
    };
    if let Some(i) = recognise(file, &overlay) {
        assert!(
            i.offset.checked_add(i.size).is_some_and(|end| end <= len) && i.offset >= image_end,
            "payload {i:?} leaves a file of {len} bytes or starts before the image's end {image_end}"
        );
    }
}

// Containers: zip, tar, deb, rpm

/// Bytes each container fuzz target reads of an entry (the scan reads binaries whole; a MiB
/// covers every header a sniff or a nested walk looks at).
const CONTAINER_ENTRY_READ: u64 = 1 << 20;

/// Limits small enough for a fuzzer's iteration: 64 MiB expanded, 10,000 entries.
fn container_limits() -> bingate::container::Limits {
    bingate::container::Limits {
        max_expanded: 64 << 20,
        max_entries: 10_000,
        ..bingate::container::Limits::default()
    }
}

/// Walks `data` as `kind` with a visitor that reads up to [`CONTAINER_ENTRY_READ`] bytes of
/// each entry.
fn container_walk(kind: bingate::container::Kind, data: &[u8]) {
    use std::io::Read;
    let budget = bingate::container::Budget::new(container_limits());
    let visit = |_: &bingate::container::EntryMeta, r: &mut dyn Read| {
        let mut sink = Vec::new();
        let _ = r.take(CONTAINER_ENTRY_READ).read_to_end(&mut sink);
        sink.len()
    };
    let _ = bingate::container::walk(kind, data, 0, &budget, &visit);
}

/// `container_zip`: a zip's central directory, local headers, overlap check, inflate.
pub fn container_zip(data: &[u8]) {
    container_walk(bingate::container::Kind::Zip, data);
}

/// `container_tar`: the first byte picks plain, gzip, xz, zstd or bzip2; the rest is the
/// archive (a compressed stream that is not a tar is one entry).
pub fn container_tar(data: &[u8]) {
    use bingate::container::{Codec, Kind};
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let kind = match pick % 5 {
        0 => Kind::Tar(None),
        1 => Kind::Compressed(Codec::Gzip),
        2 => Kind::Compressed(Codec::Xz),
        3 => Kind::Compressed(Codec::Zstd),
        _ => Kind::Compressed(Codec::Bzip2),
    };
    container_walk(kind, rest);
}

/// `container_deb`: the ar members and their control/data tar archives.
pub fn container_deb(data: &[u8]) {
    container_walk(bingate::container::Kind::Deb, data);
}

/// `container_rpm`: lead, signature and main headers, the payload's cpio.
pub fn container_rpm(data: &[u8]) {
    container_walk(bingate::container::Kind::Rpm, data);
}
