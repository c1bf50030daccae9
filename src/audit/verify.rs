//! `verify`: walks a store's records in `seq` order (one page in memory) and its checkpoints,
//! and reports every problem with where it is: an edited record, a broken link, missing
//! records, columns that no longer match their body, checkpoints the chain no longer matches
//! or that the log no longer reaches, and checkpoint signatures that fail or were made with a
//! key other than the one the caller trusts.

use std::fmt;
use std::io::Write;

use der::{Decode, Encode};
use spki::SubjectPublicKeyInfoOwned;

use super::chain::{chain_hash, hash32};
use super::checkpoint::parse_note;
use super::store::{Checkpoint, Columns, Filter, Store, StoredRecord};
use super::{AuditError, GENESIS_PREV, Record};
use crate::hash::DigestAlg;
use crate::read::hex;

/// Problems kept in a report; beyond this they are counted only (a log rewritten wholesale
/// would otherwise make the report as large as the log).
pub const MAX_REPORTED_PROBLEMS: usize = 1000;

/// One thing wrong with a log, with where it is.
#[non_exhaustive]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    /// The record's stored hash is not the hash of its contents (it was edited).
    HashMismatch {
        seq: u64,
        stored: String,
        computed: String,
    },
    /// The record's `prev_hash` is not the stored hash of the record before it.
    BrokenLink { seq: u64 },
    /// Records `from..=to` are missing.
    Gap { from: u64, to: u64 },
    /// Indexed columns differ from the body.
    ColumnMismatch {
        seq: u64,
        columns: Vec<&'static str>,
    },
    /// The body is not a record.
    BadBody { seq: u64, error: String },
    /// The head row disagrees with the records.
    HeadMismatch {
        head_size: u64,
        last_seq: u64,
        what: String,
    },
    /// A checkpoint whose head differs from the record at its size.
    CheckpointHeadMismatch { id: u64, size: u64, what: String },
    /// A checkpoint larger than the log: records were deleted from the end.
    CheckpointBeyondLog { id: u64, size: u64, last_seq: u64 },
    /// A checkpoint's note cannot be read, or its columns differ from it.
    CheckpointBadNote { id: u64, error: String },
    /// A checkpoint's signature does not verify.
    CheckpointBadSignature { id: u64, size: u64, error: String },
    /// A checkpoint signed by a key other than `--log-key`.
    CheckpointWrongKey { id: u64, size: u64 },
    /// A log key was given but no checkpoint it signed verifies: the chain is unanchored.
    NoTrustedCheckpoint { records: u64 },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::HashMismatch {
                seq,
                stored,
                computed,
            } => write!(
                f,
                "seq {seq}: record edited: stored hash {stored}, its contents hash to {computed}"
            ),
            Problem::BrokenLink { seq } => write!(
                f,
                "seq {seq}: broken link: prev_hash is not the hash of seq {}",
                seq.saturating_sub(1)
            ),
            Problem::Gap { from, to } if from == to => write!(f, "seq {from}: missing record"),
            Problem::Gap { from, to } => write!(f, "seq {from}..{to}: missing records"),
            Problem::ColumnMismatch { seq, columns } => write!(
                f,
                "seq {seq}: column(s) {} do not match the record body",
                columns.join(", ")
            ),
            Problem::BadBody { seq, error } => {
                write!(f, "seq {seq}: body is not an audit record: {error}")
            }
            Problem::HeadMismatch {
                head_size,
                last_seq,
                what,
            } => write!(
                f,
                "head row says {head_size} records, the log ends at seq {last_seq}: {what}"
            ),
            Problem::CheckpointHeadMismatch { id, size, what } => {
                write!(f, "checkpoint {id} (size {size}): {what}")
            }
            Problem::CheckpointBeyondLog { id, size, last_seq } => write!(
                f,
                "checkpoint {id} (size {size}): the log ends at seq {last_seq}: records \
                 {}..{size} were deleted from the end",
                last_seq.saturating_add(1)
            ),
            Problem::CheckpointBadNote { id, error } => {
                write!(f, "checkpoint {id}: {error}")
            }
            Problem::CheckpointBadSignature { id, size, error } => write!(
                f,
                "checkpoint {id} (size {size}): signature invalid: {error}"
            ),
            Problem::CheckpointWrongKey { id, size } => write!(
                f,
                "checkpoint {id} (size {size}): signed by a key other than --log-key"
            ),
            Problem::NoTrustedCheckpoint { records } => write!(
                f,
                "no checkpoint signed by --log-key verifies: the {records} records are not anchored"
            ),
        }
    }
}

/// What checkpoint signatures were checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchoring {
    /// No checkpoint: the chain is unanchored (a rewritten log cannot be told apart).
    NoCheckpoints,
    /// Checked against the key stored with each checkpoint only: not anchored to a key the
    /// verifier trusts.
    StoredKeys,
    /// Checked against the log key the caller gave.
    LogKey,
}

/// The outcome of [`verify`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifyReport {
    pub store: String,
    /// Records read.
    pub records: u64,
    /// The largest seq read (0 when empty).
    pub last_seq: u64,
    /// The head row's size.
    pub head_size: u64,
    pub checkpoints: u64,
    /// Checkpoints whose note, head and signature check out.
    pub checkpoints_valid: u64,
    /// The largest valid checkpoint's size (0 when none).
    pub anchored_size: u64,
    pub anchoring: Anchoring,
    /// Up to [`MAX_REPORTED_PROBLEMS`] problems, in the order found.
    pub problems: Vec<Problem>,
    /// Problems found beyond those kept.
    pub problems_omitted: u64,
}

impl VerifyReport {
    /// No problem was found.
    pub fn is_ok(&self) -> bool {
        self.problems.is_empty() && self.problems_omitted == 0
    }

    fn push(&mut self, p: Problem) {
        if self.problems.len() < MAX_REPORTED_PROBLEMS {
            self.problems.push(p);
        } else {
            self.problems_omitted = self.problems_omitted.saturating_add(1);
        }
    }

    /// The report for people: a summary, the problems one per line, and the verdict.
    pub fn render(&self, out: &mut impl Write) -> std::io::Result<()> {
        writeln!(out, "audit log {}", self.store)?;
        if self.records == 0 {
            writeln!(out, "  records: none")?;
        } else {
            writeln!(
                out,
                "  records: {} (seq 1..{}), head row at {}",
                self.records, self.last_seq, self.head_size
            )?;
        }
        writeln!(
            out,
            "  checkpoints: {} ({} valid)",
            self.checkpoints, self.checkpoints_valid
        )?;
        match self.anchoring {
            Anchoring::NoCheckpoints => writeln!(
                out,
                "  anchoring: none: no signed checkpoint, the chain is unanchored (a log \
                 rewritten from the start would not be noticed)"
            )?,
            Anchoring::StoredKeys => writeln!(
                out,
                "  anchoring: signatures checked against the key stored with each checkpoint \
                 only, not anchored (give --log-key)"
            )?,
            Anchoring::LogKey => writeln!(out, "  anchoring: checkpoints signed by --log-key")?,
        }
        if self.anchored_size > 0 && self.anchored_size < self.last_seq {
            writeln!(
                out,
                "  seq {}..{} are after the last valid checkpoint (chained, not yet checkpointed)",
                self.anchored_size.saturating_add(1),
                self.last_seq
            )?;
        }
        for p in &self.problems {
            writeln!(out, "  problem: {p}")?;
        }
        if self.problems_omitted > 0 {
            writeln!(out, "  … and {} more problems", self.problems_omitted)?;
        }
        let total = u64::try_from(self.problems.len())
            .unwrap_or(u64::MAX)
            .saturating_add(self.problems_omitted);
        if self.is_ok() {
            writeln!(out, "result: intact")
        } else {
            writeln!(out, "result: TAMPERED or damaged ({total} problems)")
        }
    }
}

/// Checks every record and checkpoint of `store`; checkpoint signatures are checked against
/// `log_key` when given (a checkpoint signed by another key is a problem), else against the
/// key stored with each. Linear in the number of records, one page of them in memory.
pub fn verify(
    store: &dyn Store,
    log_key: Option<&SubjectPublicKeyInfoOwned>,
) -> Result<VerifyReport, AuditError> {
    let description = store.describe();
    // The head first: appends that land while we read only extend the log past it.
    let head = store.head()?;
    let mut report = VerifyReport {
        store: description.clone(),
        records: 0,
        last_seq: 0,
        head_size: head.size,
        checkpoints: 0,
        checkpoints_valid: 0,
        anchored_size: 0,
        anchoring: Anchoring::NoCheckpoints,
        problems: Vec::new(),
        problems_omitted: 0,
    };
    let mut prev_stored: Option<Vec<u8>> = None;
    store.records(&Filter::default(), &mut |r| {
        check_record(&mut report, &mut prev_stored, &r);
        Ok(true)
    })?;

    match store.record(head.size)? {
        _ if head.size == 0 => {}
        Some(r) if r.hash.as_slice() != head.hash.as_slice() => {
            report.push(Problem::HeadMismatch {
                head_size: head.size,
                last_seq: report.last_seq,
                what: format!("the head hash differs from seq {}'s", head.size),
            })
        }
        Some(_) => {}
        None => report.push(Problem::HeadMismatch {
            head_size: head.size,
            last_seq: report.last_seq,
            what: if report.last_seq < head.size {
                format!(
                    "records {}..{} were deleted from the end",
                    report.last_seq.saturating_add(1),
                    head.size
                )
            } else {
                format!("record {} is missing", head.size)
            },
        }),
    }

    let log_key_der = match log_key {
        Some(k) => Some(k.to_der().map_err(|e| AuditError::Corrupt {
            store: description.clone(),
            what: "--log-key".to_owned(),
            message: e.to_string(),
        })?),
        None => None,
    };
    store.checkpoints(&mut |c| {
        check_checkpoint(store, &mut report, &c, log_key, log_key_der.as_deref())?;
        Ok(true)
    })?;

    report.anchoring = match (report.checkpoints, log_key) {
        (0, _) => Anchoring::NoCheckpoints,
        (_, Some(_)) => Anchoring::LogKey,
        (_, None) => Anchoring::StoredKeys,
    };
    if log_key.is_some() && report.records > 0 && report.checkpoints_valid == 0 {
        report.push(Problem::NoTrustedCheckpoint {
            records: report.records,
        });
    }
    Ok(report)
}

fn check_record(report: &mut VerifyReport, prev_stored: &mut Option<Vec<u8>>, r: &StoredRecord) {
    let expected = report.last_seq.saturating_add(1);
    if r.seq > expected {
        report.push(Problem::Gap {
            from: expected,
            to: r.seq.saturating_sub(1),
        });
        *prev_stored = None;
    }
    if r.seq == 1 {
        if r.prev_hash.as_slice() != GENESIS_PREV.as_slice() {
            report.push(Problem::BrokenLink { seq: 1 });
        }
    } else if prev_stored
        .as_ref()
        .is_some_and(|prev| prev != &r.prev_hash)
    {
        report.push(Problem::BrokenLink { seq: r.seq });
    }
    let computed = hash32(&r.prev_hash).map(|p| chain_hash(r.seq, &p, r.body.as_bytes()));
    if computed.as_ref().map(|c| c.as_slice()) != Some(r.hash.as_slice()) {
        report.push(Problem::HashMismatch {
            seq: r.seq,
            stored: hex(&r.hash),
            computed: computed.map_or_else(
                || format!("nothing (prev_hash has {} bytes)", r.prev_hash.len()),
                |c| hex(&c),
            ),
        });
    }
    match serde_json::from_str::<Record>(&r.body) {
        Ok(body) => {
            let columns = Columns::of(&body).differences(&r.columns);
            if !columns.is_empty() {
                report.push(Problem::ColumnMismatch {
                    seq: r.seq,
                    columns,
                });
            }
        }
        Err(e) => report.push(Problem::BadBody {
            seq: r.seq,
            error: e.to_string(),
        }),
    }
    report.records = report.records.saturating_add(1);
    report.last_seq = r.seq;
    *prev_stored = Some(r.hash.clone());
}

fn check_checkpoint(
    store: &dyn Store,
    report: &mut VerifyReport,
    c: &Checkpoint,
    log_key: Option<&SubjectPublicKeyInfoOwned>,
    log_key_der: Option<&[u8]>,
) -> Result<(), AuditError> {
    report.checkpoints = report.checkpoints.saturating_add(1);
    let note = match parse_note(&c.note) {
        Ok(n) => n,
        Err(error) => {
            report.push(Problem::CheckpointBadNote { id: c.id, error });
            return Ok(());
        }
    };
    let mut ok = true;
    if note.size != c.size || note.hash.as_slice() != c.hash.as_slice() {
        report.push(Problem::CheckpointBadNote {
            id: c.id,
            error: format!(
                "its size/hash columns ({}, {}) differ from its signed note ({}, {})",
                c.size,
                hex(&c.hash),
                note.size,
                hex(&note.hash)
            ),
        });
        ok = false;
    }
    // The signed note is what counts.
    let size = note.size;
    if size > report.last_seq {
        match store.record(size)? {
            // Appended while we were reading: compare it below.
            Some(_) => {}
            None => {
                report.push(Problem::CheckpointBeyondLog {
                    id: c.id,
                    size,
                    last_seq: report.last_seq,
                });
                ok = false;
            }
        }
    }
    if size == 0 {
        report.push(Problem::CheckpointBadNote {
            id: c.id,
            error: "size 0: checkpoints are written for a non-empty log".to_owned(),
        });
        ok = false;
    } else if size <= report.last_seq || ok {
        match store.record(size)? {
            Some(r) if r.hash.as_slice() == note.hash.as_slice() => {}
            Some(r) => {
                report.push(Problem::CheckpointHeadMismatch {
                    id: c.id,
                    size,
                    what: format!(
                        "signed head {} but record {size} has hash {}: the chain was rewritten",
                        hex(&note.hash),
                        hex(&r.hash)
                    ),
                });
                ok = false;
            }
            None if size <= report.last_seq => {
                report.push(Problem::CheckpointHeadMismatch {
                    id: c.id,
                    size,
                    what: format!("record {size} is missing"),
                });
                ok = false;
            }
            None => {}
        }
    }
    let digest = crate::hash::sha256(c.note.as_bytes());
    let verified = match (log_key, log_key_der) {
        (Some(key), Some(der)) => {
            if der != c.spki.as_slice() {
                report.push(Problem::CheckpointWrongKey { id: c.id, size });
                Err(())
            } else {
                crate::pki::keys::verify_prehashed(
                    key,
                    DigestAlg::Sha256,
                    &digest,
                    &c.signature,
                    false,
                )
                .map_err(|e| {
                    report.push(Problem::CheckpointBadSignature {
                        id: c.id,
                        size,
                        error: e.to_string(),
                    })
                })
            }
        }
        _ => match SubjectPublicKeyInfoOwned::from_der(&c.spki) {
            Ok(key) => crate::pki::keys::verify_prehashed(
                &key,
                DigestAlg::Sha256,
                &digest,
                &c.signature,
                false,
            )
            .map_err(|e| {
                report.push(Problem::CheckpointBadSignature {
                    id: c.id,
                    size,
                    error: e.to_string(),
                })
            }),
            Err(e) => {
                report.push(Problem::CheckpointBadSignature {
                    id: c.id,
                    size,
                    error: format!("stored public key unreadable: {e}"),
                });
                Err(())
            }
        },
    };
    if ok && verified.is_ok() {
        report.checkpoints_valid = report.checkpoints_valid.saturating_add(1);
        report.anchored_size = report.anchored_size.max(size);
    }
    Ok(())
}
