//! Containment for third-party parser panics.
//!
//! goblin has known panics on hostile input (m4b/goblin#450: arithmetic overflow and slicing on
//! lying header fields). Every goblin call goes through [`contain`], which turns a panic into an
//! [`ErrorKind::ParserPanic`] for that file and keeps the default panic message off stderr while
//! it does so. A panic in bingate's own code is not contained here: it is a bug and must show.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

use crate::error::{Error, ErrorKind, Result};

thread_local! {
    static CONTAINING: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

fn install_quiet_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !CONTAINING.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// Runs a parser call, turning a panic inside it into an error about `what`.
pub fn contain<T>(what: &'static str, offset: Option<u64>, f: impl FnOnce() -> T) -> Result<T> {
    install_quiet_hook();
    let was = CONTAINING.with(|c| c.replace(true));
    let out = panic::catch_unwind(AssertUnwindSafe(f));
    CONTAINING.with(|c| c.set(was));
    out.map_err(|_| Error::new(ErrorKind::ParserPanic { what }, offset))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contained_panic_becomes_an_error() {
        let r: Result<u32> = contain("widget", Some(7), || panic!("boom"));
        let e = r.unwrap_err();
        assert_eq!(e.kind, ErrorKind::ParserPanic { what: "widget" });
        assert_eq!(e.offset, Some(7));
        assert_eq!(contain("widget", None, || 5).unwrap(), 5);
    }
}
