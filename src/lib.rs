//! bingate: decide whether a Windows or Linux binary is fit to ship or to run.
//!
//! The library reads PE and ELF files into facts it owns ([`facts::BinaryFacts`]), and renders
//! reports to any `impl Write`. Every byte read from a file goes through [`read::Bytes`]; every
//! goblin call through [`guard::contain`]; every limit is in [`budget`].

// Renderers write to `impl Write`; only the CLI layer (`cli/`) may print.
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod authenticode;
pub mod budget;
pub mod cleanup;
pub mod cli;
pub mod cms;
pub mod config;
pub mod detect;
pub mod elf;
pub mod elfsig;
pub mod error;
pub mod escape;
pub mod facts;
pub mod glob;
pub mod guard;
pub mod hash;
pub mod ids;
pub mod input;
pub mod mapped;
pub mod outfile;
pub mod pe;
pub mod pki;
pub mod policy;
pub mod read;
pub mod report;
pub mod risk;
pub mod scan;
pub mod sign;
pub mod time;
pub mod toolchain;

pub use error::{Error, ErrorKind};
pub use facts::BinaryFacts;

/// Reads one PE or ELF file from memory and returns its facts (no I/O).
pub fn analyze(data: &[u8]) -> Result<BinaryFacts, Error> {
    match detect::sniff_bytes(data) {
        detect::Sniffed::Binary(facts::Format::Pe) => pe::analyze(data),
        detect::Sniffed::Binary(facts::Format::Elf) => elf::analyze(data),
        detect::Sniffed::Other { magic, len } => {
            Err(Error::new(ErrorKind::NotABinary { magic, len }, None))
        }
    }
}

/// Helpers for the unit tests of several modules.
#[cfg(test)]
pub(crate) mod test_support {
    /// The bytes of `corpus/<dir>/<name>`.
    #[allow(clippy::panic)]
    pub fn fixture(dir: &str, name: &str) -> Vec<u8> {
        let path = format!("{}/corpus/{dir}/{name}", env!("CARGO_MANIFEST_DIR"));
        std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }
}
