//! Policies: rules over the facts, with controls, remediation per toolchain and waivers.
//!
//! A policy file is TOML (`docs/policies.md`); the shipped ones live in `policies/` and are
//! embedded in the binary. `parse` reads a file keeping positions and reports every problem at
//! once; `eval` judges one file's facts and returns a finding per rule, running the checks of
//! `checks` (one file per family: PE, ELF, signing, risk, facts).

mod builtin;
mod catalog;
mod checks;
mod diag;
mod eval;
mod load;
mod model;
mod parse;

pub use model::{
    Applies, Check, Comparison, Date, Finding, Level, NamedCheck, Policy, Remediation, Rule,
    Scalar, Status, Waiver, WaiverRef, WaiverTarget,
};

pub use diag::{Diagnostic, PolicyErrors, Sink, did_you_mean};
pub use eval::{Evaluator, LevelCounts, PARSE_ERROR_RULE, PolicySummary, Subject, WaiverNote};
pub use load::{from_text, load};
pub use parse::{type_name, unknown_keys};

/// The names of the shipped policies.
pub fn builtin_names() -> impl Iterator<Item = &'static str> + Clone {
    builtin::names()
}
