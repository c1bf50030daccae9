//! (being written)

use super::{Budget, Kind, Summary, Visit, Walked};

pub fn walk<T: Send>(_data: &[u8], _budget: &Budget, _visit: &Visit<'_, T>) -> Walked<T> {
    Walked {
        items: Vec::new(),
        summary: Summary::new(Kind::Rpm),
        error: Some(crate::error::Error::parser(
            "container",
            "not read yet",
            None,
        )),
    }
}
