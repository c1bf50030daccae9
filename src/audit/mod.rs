//! The tamper-evident audit log of the signing server: every signature and every refusal is
//! recorded, durably, before the server answers (no record, no signature).
//!
//! Records are JSON bodies ([`Record`]) in one hash chain (`chain.rs`): record `seq` stores
//! SHA-256 over a domain tag, its number, the previous record's hash and its body, so an edited,
//! removed or inserted record breaks the chain. Signed checkpoints (`checkpoint.rs`) pin the
//! head: a chain rebuilt after an edit, or cut short, no longer matches them. Stores
//! (`sqlite.rs`, `postgres.rs`) serialise appends in the database, so several server replicas
//! writing one PostgreSQL database form one chain. [`Log`] (`log.rs`) adds group commit and
//! the checkpoint schedule; [`verify()`] (`verify.rs`) walks a store and reports every problem
//! with the record or checkpoint it is at.

mod chain;
mod checkpoint;
mod log;
mod postgres;
mod sqlite;
mod store;
mod verify;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use chain::{GENESIS_PREV, chain_hash};
pub use checkpoint::{CheckpointNote, parse_note};
pub use log::{Log, LogOptions, MAX_BATCH_RECORDS, MAX_QUEUED_RECORDS};
pub use store::{
    Checkpoint, CheckpointContext, CheckpointMaker, Columns, Filter, Head, NewCheckpoint,
    NewRecord, PAGE_ROWS, Store, StoredRecord, open_store,
};
pub use verify::{Anchoring, MAX_REPORTED_PROBLEMS, Problem, VerifyReport, verify};

/// One audit record. Serialized with serde_json in this field order; the exact JSON bytes are
/// what is stored and hashed.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Record {
    /// RFC 3339 UTC, e.g. `2026-12-06T02:00:00Z` ([`crate::time::show`] writes it).
    pub time: String,
    pub request_id: String,
    /// `token:NAME` or `cert:SHA256HEX`.
    pub client: String,
    pub client_ip: Option<String>,
    /// Which server instance wrote it.
    pub replica: Option<String>,
    /// Key name from the server config.
    pub key: String,
    /// Signer certificate fingerprint (hex).
    pub cert_sha256: String,
    /// `pe` | `elf-section` | `elf-module`.
    pub format: String,
    /// `file` (whole file sent) | `digest` (digest-only).
    pub mode: String,
    pub file_name: Option<String>,
    /// Hex.
    pub file_sha256: Option<String>,
    /// `sha256` ...
    pub digest_alg: Option<String>,
    /// Authenticode image digest / ELF manifest or module digest (hex).
    pub digest: Option<String>,
    /// SHA-256 of the PKCS#7 DER returned; `None` when refused.
    pub signature_sha256: Option<String>,
    /// RFC 3339, when timestamped.
    pub timestamp_time: Option<String>,
    /// `signed` | `refused`.
    pub outcome: String,
    pub policy: Option<PolicyNote>,
}

/// The policy verdict a record carries.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct PolicyNote {
    /// Policy name.
    pub policy: String,
    /// `pass` | `fail`.
    pub verdict: String,
    /// `server-checked` | `client-supplied`.
    pub facts: String,
    /// `rule-id: message` of failing deny rules.
    pub failed: Vec<String>,
}

/// Where a record went: its number in the chain and its hash.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Appended {
    pub seq: u64,
    pub hash: [u8; 32],
}

/// Why the log could not do what was asked. Every variant names the store (its description,
/// never a password) and what was being done.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq)]
pub enum AuditError {
    /// The store URL is not one bingate knows.
    UnknownStore { url: String },
    /// The store could not be opened or its schema created.
    Open { store: String, message: String },
    /// A batch of `records` records could not be committed after head `after` (nothing of it
    /// was stored).
    Append {
        store: String,
        after: Option<u64>,
        records: usize,
        message: String,
    },
    /// Reading `what` failed.
    Read {
        store: String,
        what: String,
        message: String,
    },
    /// A stored value cannot be what bingate wrote (`what`, at record `seq` or checkpoint).
    Corrupt {
        store: String,
        what: String,
        message: String,
    },
    /// A record could not be serialized.
    Serialize { request_id: String, message: String },
    /// A checkpoint of `size` records could not be signed or written.
    Checkpoint {
        store: String,
        size: u64,
        message: String,
    },
    /// The store is not writable (readiness check).
    NotWritable { store: String, message: String },
    /// The log was closed; nothing more is recorded.
    Closed { store: String },
    /// The log options are unusable.
    Options { message: String },
    /// A thread of the log panicked or a lock was poisoned while `what`.
    Internal { store: String, what: String },
}

impl fmt::Display for AuditError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuditError::UnknownStore { url } => write!(
                f,
                "audit store {url:?}: not a store URL (sqlite:PATH, a path, or postgres://…)"
            ),
            AuditError::Open { store, message } => {
                write!(f, "audit store {store}: cannot open: {message}")
            }
            AuditError::Append {
                store,
                after,
                records,
                message,
            } => {
                write!(f, "audit store {store}: appending {records} record(s)")?;
                if let Some(after) = after {
                    write!(f, " after seq {after}")?;
                }
                write!(f, " failed, nothing was recorded: {message}")
            }
            AuditError::Read {
                store,
                what,
                message,
            } => write!(f, "audit store {store}: reading {what}: {message}"),
            AuditError::Corrupt {
                store,
                what,
                message,
            } => write!(f, "audit store {store}: {what}: {message}"),
            AuditError::Serialize {
                request_id,
                message,
            } => write!(
                f,
                "audit record of request {request_id:?}: cannot serialize: {message}"
            ),
            AuditError::Checkpoint {
                store,
                size,
                message,
            } => write!(
                f,
                "audit store {store}: checkpoint at size {size} failed: {message}"
            ),
            AuditError::NotWritable { store, message } => {
                write!(f, "audit store {store}: not writable: {message}")
            }
            AuditError::Closed { store } => {
                write!(f, "audit store {store}: the log is closed")
            }
            AuditError::Options { message } => write!(f, "audit log options: {message}"),
            AuditError::Internal { store, what } => {
                write!(f, "audit store {store}: internal failure while {what}")
            }
        }
    }
}

impl std::error::Error for AuditError {}
