//! PE/COFF images: headers through goblin, then the hardening facts bingate owns.

pub(crate) mod checksum;
pub mod content;
mod debug;
mod hardening;
mod headers;
mod imports;
mod load_config;
pub mod resources;
mod toolchain;

pub use checksum::{compute as compute_checksum, reference as reference_checksum};
pub use hardening::{Checksum, PeHardening, SafeSeh};
pub use headers::PeHeaders;

/// The parts of a PE image the Authenticode image hash needs (all file offsets).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SigningLayout {
    pub checksum_offset: u64,
    pub security_dir_offset: u64,
    pub size_of_headers: u64,
    /// The certificate table as the security directory declares it: (file offset, size).
    pub certificate_table: Option<(u64, u64)>,
    /// Each section's raw data: (PointerToRawData, SizeOfRawData), in section-table order.
    pub sections: Vec<(u64, u64)>,
}

/// Reads the layout the Authenticode image hash is computed over.
pub fn signing_layout(data: &[u8]) -> Result<SigningLayout> {
    PeHeaders::parse(data).map(|h| signing_layout_of(&h))
}

/// [`signing_layout`] from headers already parsed.
pub fn signing_layout_of(h: &PeHeaders) -> SigningLayout {
    let dir = h.dir(headers::DIR_SECURITY);
    SigningLayout {
        checksum_offset: h.checksum_offset,
        security_dir_offset: h.security_dir_offset,
        size_of_headers: u64::from(h.size_of_headers),
        certificate_table: (dir.address != 0 || dir.size != 0)
            .then_some((u64::from(dir.address), u64::from(dir.size))),
        sections: h
            .sections
            .iter()
            .map(|s| (u64::from(s.raw_offset), u64::from(s.raw_size)))
            .collect(),
    }
}

/// What the SmartScreen-risk estimate reads beyond the hardening facts, from headers already
/// parsed: the content facts and the resources (`None`: no resource directory); with `also`,
/// the file's SHA-256 and PE checksum from the same pass over the bytes (the entropy's byte
/// counts and the checksum's sum ride along with the hash: [`crate::hash::sha256_visiting`]).
pub fn content_resources_of(
    data: &[u8],
    h: &PeHeaders,
    also: content::Also,
) -> (
    (content::Content, Option<resources::Resources>),
    content::Pass,
) {
    let (content, pass) = content::derive(data, h, also);
    ((content, resources::from_headers(data, h)), pass)
}

/// Whether the headers at the start of a file declare a certificate table (a non-empty security
/// directory): `None` when `head` is not a readable PE header. Reads only the DOS header, the PE
/// signature, the optional header's magic and the data directory count, so a 4 KiB prefix is
/// enough for any image a linker produced.
pub fn declares_certificate_table(head: &[u8]) -> Option<bool> {
    let b = Bytes::new(head, true);
    if b.u16("MZ signature", 0).ok()? != 0x5a4d {
        return None;
    }
    let pe = u64::from(b.u32("e_lfanew", 0x3c).ok()?);
    if b.u32("PE signature", pe).ok()? != 0x0000_4550 {
        return None;
    }
    let opt = pe.checked_add(24)?;
    // (offset of NumberOfRvaAndSizes, offset of the data directories) in the optional header.
    let (count_at, dirs_at) = match b.u16("optional header magic", opt).ok()? {
        0x10b => (92u64, 96u64),
        0x20b => (108, 112),
        _ => return None,
    };
    let count = b
        .u32("NumberOfRvaAndSizes", opt.checked_add(count_at)?)
        .ok()?;
    if count <= headers::DIR_SECURITY as u32 {
        return Some(false);
    }
    let entry = opt
        .checked_add(dirs_at)?
        .checked_add(headers::SECURITY_DIR_BYTE_OFFSET)?;
    let address = b.u32("security directory", entry).ok()?;
    let size = b.u32("security directory", entry.checked_add(4)?).ok()?;
    Some(address != 0 && size != 0)
}

use crate::error::Result;
use crate::facts::{BinaryFacts, Format, Hardening, Kind};
use crate::read::Bytes;
use headers::{DIR_CLR, IMAGE_FILE_DLL};

/// Machine names for IMAGE_FILE_HEADER.Machine.
fn arch_name(machine: u16) -> String {
    match machine {
        0x014c => "x86".into(),
        0x8664 => "x86_64".into(),
        0xaa64 => "aarch64".into(),
        0xa641 => "arm64ec".into(),
        0x01c0 | 0x01c2 | 0x01c4 => "arm".into(),
        0x0200 => "ia64".into(),
        0x5064 => "riscv64".into(),
        0x5032 => "riscv32".into(),
        0x6264 => "loongarch64".into(),
        0x0ebc => "ebc".into(),
        other => format!("machine-{other:#06x}"),
    }
}

/// IMAGE_SUBSYSTEM_* names.
pub(crate) fn subsystem_name(subsystem: u16) -> String {
    match subsystem {
        0 => "unknown".into(),
        1 => "native".into(),
        2 => "windows-gui".into(),
        3 => "windows-cui".into(),
        5 => "os2-cui".into(),
        7 => "posix-cui".into(),
        8 => "native-windows".into(),
        9 => "windows-ce-gui".into(),
        10 => "efi-application".into(),
        11 => "efi-boot-service-driver".into(),
        12 => "efi-runtime-driver".into(),
        13 => "efi-rom".into(),
        14 => "xbox".into(),
        16 => "windows-boot-application".into(),
        other => format!("subsystem-{other}"),
    }
}

/// Kernel-mode images import from these modules. A native-subsystem image that imports ntdll.dll
/// and none of them is a user-mode native program (smss.exe, autochk.exe); any other
/// native-subsystem image is treated as a driver.
const KERNEL_MODULES: &[&str] = &[
    "ntoskrnl.exe",
    "hal.dll",
    "wdfldr.sys",
    "ndis.sys",
    "fltmgr.sys",
    "ksecdd.sys",
    "cng.sys",
    "wdmsec.sys",
    "storport.sys",
    "ks.sys",
    "portcls.sys",
];

/// What [`analyze_with`] computes beyond the headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// The PE checksum (one pass over the file): `checksum.computed`.
    pub checksum: bool,
}

impl Needs {
    /// Every fact.
    pub const ALL: Needs = Needs { checksum: true };
}

/// Reads a PE image and returns all its facts.
pub fn analyze(data: &[u8]) -> Result<BinaryFacts> {
    analyze_with(data, Needs::ALL)
}

/// Reads a PE image and returns its facts, computing the costly ones only as `needs` says.
pub fn analyze_with(data: &[u8], needs: Needs) -> Result<BinaryFacts> {
    analyze_headers(data, &PeHeaders::parse(data)?, needs)
}

/// [`analyze_with`] from headers already parsed (one parse shared by the facts, the signature
/// and the risk estimate: `scan::check`).
pub fn analyze_headers(data: &[u8], headers: &PeHeaders, needs: Needs) -> Result<BinaryFacts> {
    let bytes = Bytes::new(data, true);
    let mut warnings = headers.warnings.clone();

    let load_config = match load_config::LoadConfig::read(data, headers, &mut warnings) {
        Ok(lc) => lc,
        Err(e) => {
            warnings.push(format!("{e}; CFG, SafeSEH and GS facts read as absent"));
            None
        }
    };
    let ex_dll = debug::ex_dll_characteristics(bytes, headers).unwrap_or_else(|e| {
        warnings.push(format!("{e}; cet_compat read as absent"));
        None
    });
    let dotnet = headers.dir(DIR_CLR).present();

    let kind = match headers.subsystem {
        10 => Kind::EfiApplication,
        11 | 12 => Kind::EfiDriver,
        // A native-subsystem image with IMAGE_FILE_DLL is a DLL (kernel-mode export DLLs such as
        // kdcom.dll or bootvid.dll, and export drivers that set the flag): it is loaded for its
        // exports, not started at a DriverEntry or NtProcessStartup. Without the flag (.sys
        // drivers, smss.exe) the imports decide below.
        1 if headers.has_characteristic(IMAGE_FILE_DLL) => Kind::SharedLibrary,
        1 => match imports::module_names(bytes, headers) {
            Ok(modules)
                if modules.iter().any(|m| m == "ntdll.dll")
                    && !modules.iter().any(|m| KERNEL_MODULES.contains(&m.as_str())) =>
            {
                Kind::NativeExecutable
            }
            Ok(_) => Kind::Driver,
            Err(e) => {
                warnings.push(format!("{e}; kind decided by the native subsystem alone"));
                Kind::Driver
            }
        },
        _ if headers.has_characteristic(IMAGE_FILE_DLL) => Kind::SharedLibrary,
        _ => Kind::Executable,
    };

    let hardening = hardening::derive(
        data,
        headers,
        load_config.as_ref(),
        ex_dll,
        dotnet,
        needs.checksum,
    );
    let toolchain = toolchain::detect(data, headers, dotnet);
    Ok(BinaryFacts {
        format: Format::Pe,
        arch: arch_name(headers.machine),
        bits: if headers.is_64 { 64 } else { 32 },
        kind,
        toolchain,
        hardening: Hardening::Pe(hardening),
        warnings,
    })
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> Vec<u8> {
        crate::test_support::fixture("pe", name)
    }

    /// `data` with IMAGE_FILE_DLL set in the COFF header's Characteristics (e_lfanew + 22).
    fn with_dll_flag(mut data: Vec<u8>) -> Vec<u8> {
        let pe = u32::from_le_bytes(data[0x3c..0x40].try_into().unwrap()) as usize;
        let at = pe + 22;
        let c = u16::from_le_bytes(data[at..at + 2].try_into().unwrap()) | IMAGE_FILE_DLL;
        data[at..at + 2].copy_from_slice(&c.to_le_bytes());
        data
    }

    #[test]
    fn native_subsystem_dll_is_a_shared_library() {
        // x64-native.sys (a kernel driver importing ntoskrnl.exe) with the DLL flag set, as an
        // export DLL of the kernel (kdcom.dll, bootvid.dll) has it.
        let facts = analyze(&with_dll_flag(fixture("x64-native.sys"))).unwrap();
        assert_eq!(facts.kind, Kind::SharedLibrary);
        // The same for the user-mode native program (ntdll.dll imports only).
        let facts = analyze(&with_dll_flag(fixture("x64-native-user.exe"))).unwrap();
        assert_eq!(facts.kind, Kind::SharedLibrary);
    }

    #[test]
    fn native_subsystem_without_dll_flag_stays_driver_or_native_executable() {
        assert_eq!(
            analyze(&fixture("x64-native.sys")).unwrap().kind,
            Kind::Driver
        );
        assert_eq!(
            analyze(&fixture("x64-native-user.exe")).unwrap().kind,
            Kind::NativeExecutable
        );
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod needs_tests {
    use crate::facts::Hardening;

    fn checksum(needs: super::Needs) -> crate::pe::Checksum {
        let data = crate::test_support::fixture("pe", "x64-native.sys");
        match super::analyze_with(&data, needs).unwrap().hardening {
            Hardening::Pe(p) => p.checksum,
            Hardening::Elf(_) => unreachable!("a PE fixture"),
        }
    }

    #[test]
    fn the_checksum_is_computed_only_when_needed() {
        let full = checksum(super::Needs::ALL);
        assert_eq!(full.computed, Some(full.stored));
        assert_eq!(full.matches(), Some(true));
        let light = checksum(super::Needs { checksum: false });
        assert_eq!((light.stored, light.computed), (full.stored, None));
        assert_eq!(light.matches(), None);
    }
}
