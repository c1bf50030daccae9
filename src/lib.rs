//! bingate: decide whether a Windows or Linux binary is fit to ship or to run.
//!
//! The library reads PE and ELF files into facts it owns ([`facts::BinaryFacts`]), and renders
//! reports to any `impl Write`. Every byte read from a file goes through `read::Bytes`; every
//! goblin call through [`guard::contain`]; every limit is in [`budget`].
//!
//! # Module graph
//!
//! Each line's modules may use the modules on the lines below it, never those above it or
//! beside it, so the graph has no cycles. `tests/module_graph.rs` checks this picture against
//! the code (every `crate::` path outside test code).
//!
//! ```text
//! cli                  arguments and dispatch; the only layer that prints
//! serve                the signing server (HTTP API, auth, the audit log's writer)
//! sign audit           sign files (key backends, TSA client; `scan`'s examination as the gate)
//!                      | the tamper-evident audit log of the signing server
//! scan                 examine files in parallel
//! report               FileReport and its renderers (human, JSON, SARIF, HTML, CSV)
//! config               a run's settings, Mode, and the View the renderers show
//! policy               rules, waivers and findings over a Subject (facts and verdicts)
//! risk                 the SmartScreen-risk estimate
//! authenticode elfsig  signature formats: PE Authenticode | ELF sections and kernel modules
//! cms                  CMS SignedData opened and built, SignerInfo, timestamps, the verdict
//! pki                  X.509: chains, trust stores, CRLs, public keys
//! pe elf container     each format's headers read into facts | archives, packages and
//!                      installers walked in memory
//! detect toolchain     what a file is | which toolchain built it
//! facts glob read      the facts bingate owns | path globs | the bounds-checked reader
//! guard input mapped   goblin panics contained | positioned reads | mmap with a SIGBUS guard
//! error budget time hash ids escape outfile cleanup   leaves: errors, limits, time, digests,
//!                      the id-enum macro, terminal escaping, atomic output files, cleanup
//!                      on signals
//! ```

// Every offset and length in a file is untrusted: no indexing that can panic, no arithmetic
// that can overflow, no unwrap, anywhere in the library (narrow allows say why).
#![deny(
    clippy::arithmetic_side_effects,
    clippy::indexing_slicing,
    clippy::unwrap_used
)]
// Renderers write to `impl Write`; only the CLI layer (`cli/`) may print (clippy.toml bans the
// print macros elsewhere).
#![warn(clippy::print_stdout, clippy::print_stderr)]

pub mod audit;
pub mod authenticode;
pub mod budget;
pub(crate) mod cleanup;
pub mod cli;
pub mod cms;
pub mod config;
pub mod container;
pub(crate) mod detect;
pub mod elf;
pub mod elfsig;
pub(crate) mod error;
pub(crate) mod escape;
pub mod facts;
pub(crate) mod glob;
pub mod guard;
pub mod hash;
pub(crate) mod ids;
pub(crate) mod input;
pub(crate) mod mapped;
pub(crate) mod outfile;
pub mod pe;
pub mod pki;
pub mod policy;
pub(crate) mod read;
pub mod report;
pub mod risk;
pub mod scan;
pub mod serve;
pub mod sign;
pub mod time;
pub(crate) mod toolchain;

pub use error::{Error, ErrorKind, FileError, FileErrorKind};
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
