//! Helpers shared by every integration test: `mod common;` in a test file, then call what it
//! needs.
//!
//! - [`paths`]: the repository root, `corpus/`, the test PKI, temporary directories;
//! - [`run`]: the `bingate` binary, run from the repository root (in a directory, with
//!   environment variables, or with a time limit);
//! - [`interop`]: outside tools and the fetched public corpus, skipped when absent unless
//!   `BINGATE_REQUIRE_INTEROP=1`;
//! - [`golden`]: output compared with `tests/golden/<name>`, rewritten with `BINGATE_BLESS=1`;
//! - [`sarif`]: SARIF 2.1.0 schema validation;
//! - [`der`]: the length of a DER element;
//! - [`trust`]: verification settings built as the CLI builds them.

// Each test binary that includes this module uses only some of it.
#![allow(dead_code)]

pub mod der;
pub mod golden;
pub mod interop;
pub mod paths;
pub mod run;
pub mod sarif;
pub mod serve;
pub mod trust;
