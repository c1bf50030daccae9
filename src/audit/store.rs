//! What a store keeps and the [`Store`] trait both backends implement; [`open_store`] picks the
//! backend from the URL.

use super::{Appended, AuditError, Record};

/// Rows read per query when records or checkpoints are streamed (keyset pages in `seq` order),
/// so that listing or verifying a log of any length holds one page in memory.
pub const PAGE_ROWS: u32 = 1000;

/// The columns copied from a record's body for `list` filters. `verify` checks that they still
/// equal the body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Columns {
    pub time: String,
    pub key: String,
    pub client: String,
    pub file_sha256: Option<String>,
    pub digest: Option<String>,
    pub signature_sha256: Option<String>,
    pub outcome: String,
}

impl Columns {
    /// The columns of `r`.
    pub fn of(r: &Record) -> Columns {
        Columns {
            time: r.time.clone(),
            key: r.key.clone(),
            client: r.client.clone(),
            file_sha256: r.file_sha256.clone(),
            digest: r.digest.clone(),
            signature_sha256: r.signature_sha256.clone(),
            outcome: r.outcome.clone(),
        }
    }

    /// The names of the columns that differ between `self` and `other`.
    pub fn differences(&self, other: &Columns) -> Vec<&'static str> {
        let mut d = Vec::new();
        if self.time != other.time {
            d.push("time");
        }
        if self.key != other.key {
            d.push("key");
        }
        if self.client != other.client {
            d.push("client");
        }
        if self.file_sha256 != other.file_sha256 {
            d.push("file_sha256");
        }
        if self.digest != other.digest {
            d.push("digest");
        }
        if self.signature_sha256 != other.signature_sha256 {
            d.push("signature_sha256");
        }
        if self.outcome != other.outcome {
            d.push("outcome");
        }
        d
    }
}

/// A record to append: its exact body (serde_json of a [`Record`]) and its columns.
#[derive(Clone, Debug, PartialEq)]
pub struct NewRecord {
    pub body: String,
    pub columns: Columns,
}

impl NewRecord {
    /// Serializes `r` (the bytes that are stored and hashed).
    pub fn of(r: &Record) -> Result<NewRecord, AuditError> {
        let body = serde_json::to_string(r).map_err(|e| AuditError::Serialize {
            request_id: r.request_id.clone(),
            message: e.to_string(),
        })?;
        Ok(NewRecord {
            body,
            columns: Columns::of(r),
        })
    }
}

/// A stored record as read back, unchecked.
#[derive(Clone, Debug, PartialEq)]
pub struct StoredRecord {
    pub seq: u64,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
    pub body: String,
    pub columns: Columns,
}

/// The head of the chain: how many records it has and the last one's hash ([`GENESIS_PREV`]
/// when empty).
///
/// [`GENESIS_PREV`]: super::GENESIS_PREV
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Head {
    pub size: u64,
    pub hash: [u8; 32],
}

/// What a checkpoint maker sees inside the append transaction (the head row locked).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CheckpointContext {
    /// The size before this transaction's records.
    pub old_size: u64,
    /// The head after them.
    pub head: Head,
    /// The size of the largest checkpoint stored (0 when none).
    pub last_checkpoint: u64,
}

/// A signed checkpoint to store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCheckpoint {
    pub size: u64,
    pub hash: [u8; 32],
    pub time: String,
    /// The signed note text (`checkpoint.rs`).
    pub note: String,
    /// The signature over SHA-256 of the note.
    pub signature: Vec<u8>,
    /// The signer's SubjectPublicKeyInfo, DER.
    pub spki: Vec<u8>,
}

/// A stored checkpoint as read back, unchecked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub id: u64,
    pub size: u64,
    pub hash: Vec<u8>,
    pub time: String,
    pub note: String,
    pub signature: Vec<u8>,
    pub spki: Vec<u8>,
}

/// Decides inside an append transaction whether to write a checkpoint of the new head.
pub type CheckpointMaker<'a> =
    &'a mut dyn FnMut(&CheckpointContext) -> Result<Option<NewCheckpoint>, AuditError>;

/// Which records `list` shows. Every set field must match; `since`/`until` compare the
/// normalized `YYYY-MM-DDTHH:MM:SSZ` text of the `time` column (inclusive).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filter {
    pub key: Option<String>,
    pub client: Option<String>,
    pub since: Option<String>,
    pub until: Option<String>,
    /// Matches `file_sha256`, `digest` or `signature_sha256` (lowercase hex).
    pub digest: Option<String>,
    pub outcome: Option<String>,
    /// Only records with `seq` greater than this (paging).
    pub after_seq: u64,
}

/// Where audit records live. Appends are serialised by the database (SQLite's single writer,
/// PostgreSQL's locked head row), so every process appending to one store extends one chain.
pub trait Store: Send + Sync {
    /// Appends `records` in one transaction after the current head, in order, and returns
    /// where each went. `checkpoint`, when given, is called inside the transaction with the new
    /// head; the checkpoint it returns is stored in the same transaction. With no records this
    /// only (maybe) writes a checkpoint. Nothing is stored when an error is returned.
    fn append(
        &self,
        records: &[NewRecord],
        checkpoint: Option<CheckpointMaker<'_>>,
    ) -> Result<Vec<Appended>, AuditError>;

    /// The head as the head row says.
    fn head(&self) -> Result<Head, AuditError>;

    /// Calls `visit` with every record matching `filter`, in `seq` order, one page at a time;
    /// stops when `visit` returns `Ok(false)`.
    fn records(
        &self,
        filter: &Filter,
        visit: &mut dyn FnMut(StoredRecord) -> Result<bool, AuditError>,
    ) -> Result<(), AuditError>;

    /// The record `seq`, if stored.
    fn record(&self, seq: u64) -> Result<Option<StoredRecord>, AuditError>;

    /// Calls `visit` with every checkpoint in the order they were written.
    fn checkpoints(
        &self,
        visit: &mut dyn FnMut(Checkpoint) -> Result<bool, AuditError>,
    ) -> Result<(), AuditError>;

    /// The store is reachable and this connection may write (the write lock is taken and
    /// released).
    fn ping(&self) -> Result<(), AuditError>;

    /// The store's URL without any password.
    fn describe(&self) -> String;
}

/// Opens `url`: `sqlite:PATH` or a plain path (SQLite), or `postgres://…`/`postgresql://…`.
/// Creates the schema if absent. SQLite runs in WAL mode with `synchronous=FULL`: a commit
/// survives kill -9 and power loss.
pub fn open_store(url: &str) -> Result<Box<dyn Store>, AuditError> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Box::new(super::postgres::PgStore::open(url)?));
    }
    let path = url.strip_prefix("sqlite:").unwrap_or(url);
    if path.is_empty() || url.contains("://") {
        return Err(AuditError::UnknownStore {
            url: redact_url(url),
        });
    }
    Ok(Box::new(super::sqlite::SqliteStore::open(path)?))
}

/// `url` with the password of its user info and any `password=` parameter replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let (authority, tail) = match rest.find(['/', '?']) {
        Some(at) => rest.split_at(at),
        None => (rest, ""),
    };
    let authority = match authority.rsplit_once('@') {
        Some((user, host)) => match user.split_once(':') {
            Some((name, _)) => format!("{name}:***@{host}"),
            None => format!("{user}@{host}"),
        },
        None => authority.to_owned(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|kv| match kv.split_once('=') {
                    Some((k, _)) if k.eq_ignore_ascii_case("password") => format!("{k}=***"),
                    _ => kv.to_owned(),
                })
                .collect();
            format!("{path}?{}", query.join("&"))
        }
        None => tail.to_owned(),
    };
    format!("{scheme}://{authority}{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_url_hides_passwords_and_keeps_the_rest() {
        assert_eq!(
            redact_url("postgres://bingate:s3cret@db.example:5432/audit?sslmode=disable"),
            "postgres://bingate:***@db.example:5432/audit?sslmode=disable"
        );
        assert_eq!(
            redact_url("postgresql://u@h/d?password=s3cret&x=1"),
            "postgresql://u@h/d?password=***&x=1"
        );
        assert_eq!(redact_url("postgres://u:p@ss@h/d"), "postgres://u:***@h/d");
        assert_eq!(redact_url("postgres://h/d"), "postgres://h/d");
    }

    #[test]
    fn unknown_store_urls_are_refused() {
        assert!(matches!(
            open_store("mysql://u:pw@h/d"),
            Err(AuditError::UnknownStore { url }) if url == "mysql://u:***@h/d"
        ));
        assert!(matches!(
            open_store("sqlite:"),
            Err(AuditError::UnknownStore { .. })
        ));
    }
}
