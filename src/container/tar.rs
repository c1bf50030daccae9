//! (being written)

use super::{Budget, Codec, Kind, Summary, Visit, Walked};

pub fn walk<T: Send>(
    _data: &[u8],
    codec: Option<Codec>,
    _budget: &Budget,
    _visit: &Visit<'_, T>,
) -> Walked<T> {
    Walked {
        items: Vec::new(),
        summary: Summary::new(Kind::Tar(codec)),
        error: Some(crate::error::Error::parser(
            "container",
            "not read yet",
            None,
        )),
    }
}

pub fn walk_compressed<T: Send>(
    _data: &[u8],
    codec: Codec,
    _budget: &Budget,
    _visit: &Visit<'_, T>,
) -> Walked<T> {
    Walked {
        items: Vec::new(),
        summary: Summary::new(Kind::Compressed(codec)),
        error: Some(crate::error::Error::parser(
            "container",
            "not read yet",
            None,
        )),
    }
}
