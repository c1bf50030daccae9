//! (being written)

use super::{Budget, Kind, Summary, Visit, Walked};

/// The compound file (OLE2) signature.
pub const CFB_MAGIC: &[u8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1";

/// Whether a compound file is a Windows Installer database (its root storage's class id).
pub fn is_installer(_data: &[u8]) -> bool {
    false
}

pub fn walk<T: Send>(_data: &[u8], _budget: &Budget, _visit: &Visit<'_, T>) -> Walked<T> {
    Walked {
        items: Vec::new(),
        summary: Summary::new(Kind::Msi),
        error: Some(crate::error::Error::parser(
            "container",
            "not read yet",
            None,
        )),
    }
}
