//! (being written: installer payloads recognised in PE files)

use crate::container::Installer;

pub(super) fn recognise(_data: &[u8], _headers: &crate::pe::PeHeaders) -> Option<Installer> {
    None
}
