//! The glue between a PE file's headers and installer recognition: where the image ends, the
//! certificate table's range and the `.wixburn` section, handed to
//! [`crate::container::installer::recognise`], which reads only bytes.

use crate::container::Installer;
use crate::container::installer::{self, Overlay};
use crate::pe::PeHeaders;

/// The name of the section a WiX Burn engine keeps its bundle header in.
const BURN_SECTION: &str = ".wixburn";

/// The installer payload `data` (a PE file whose headers are `headers`) carries, if one is
/// recognised; `examined` is false (the scan sets it after walking the payload).
pub(super) fn recognise(data: &[u8], headers: &PeHeaders) -> Option<Installer> {
    let layout = crate::pe::signing_layout_of(headers);
    let image_end = image_end(headers);
    let wixburn = headers
        .sections
        .iter()
        .find(|s| s.name == BURN_SECTION)
        .and_then(|s| {
            let start = usize::try_from(s.raw_offset).ok()?;
            let len = usize::try_from(s.raw_size).ok()?;
            data.get(start..start.checked_add(len)?)
        });
    installer::recognise(
        data,
        &Overlay {
            image_end,
            certificate_table: layout.certificate_table,
            wixburn,
        },
    )
}

/// The end of the last section's raw data (or of the headers, for an image without section
/// data): where an overlay starts.
fn image_end(headers: &PeHeaders) -> u64 {
    headers
        .sections
        .iter()
        .filter(|s| s.raw_size > 0)
        .map(|s| u64::from(s.raw_offset).saturating_add(u64::from(s.raw_size)))
        .fold(u64::from(headers.size_of_headers), u64::max)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::InstallerKind;

    fn fixture(name: &str) -> Vec<u8> {
        let path = format!("{}/corpus/installers/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).expect("fixture")
    }

    fn found(name: &str) -> Option<Installer> {
        let data = fixture(name);
        let headers = PeHeaders::parse(&data).expect("headers");
        recognise(&data, &headers)
    }

    /// The overlay starts where the last section's raw data ends (the stub is
    /// corpus/pe/x64-default.exe, 14,848 bytes, for the zip and Inno samples), and the Burn
    /// header is read from the `.wixburn` section.
    #[test]
    fn the_headers_place_each_payload() {
        let nsis = found("nsis-signed.exe").expect("NSIS");
        assert_eq!((nsis.kind, nsis.offset), (InstallerKind::Nsis, 96_768));
        assert_eq!(nsis.covered_by_signature, Some(true));
        let zip = found("zipsfx-unsigned.exe").expect("zip");
        assert_eq!(
            (zip.kind, zip.offset, zip.covered_by_signature),
            (InstallerKind::ZipSfx, 14_848, None)
        );
        let inno = found("inno-handmade.exe").expect("Inno");
        assert_eq!((inno.kind, inno.offset), (InstallerKind::InnoSetup, 14_848));
        let burn = found("burn-handmade.exe").expect("Burn");
        assert_eq!(
            (burn.kind, burn.covered_by_signature),
            (InstallerKind::WixBurn, Some(true))
        );
        assert!(!burn.examined);
    }

    #[test]
    fn a_plain_image_has_no_payload() {
        let path = format!("{}/corpus/pe/x64-default.exe", env!("CARGO_MANIFEST_DIR"));
        let data = std::fs::read(path).expect("fixture");
        let headers = PeHeaders::parse(&data).expect("headers");
        assert_eq!(image_end(&headers), data.len() as u64);
        assert_eq!(recognise(&data, &headers), None);
    }
}
