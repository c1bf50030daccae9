//! The SQLite store: one file, WAL journal, `synchronous=FULL` (a committed append survives
//! kill -9 and power loss), appends under `BEGIN IMMEDIATE` (SQLite's single writer serialises
//! them, across processes too).

use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

use super::chain::{chain_hash, hash32};
use super::store::{
    Checkpoint, CheckpointContext, CheckpointMaker, Columns, Filter, Head, NewRecord, PAGE_ROWS,
    Store, StoredRecord,
};
use super::{Appended, AuditError};

/// How long a writer waits for another process's write transaction before failing: appends
/// are small, so a lock held this long means a stuck writer, and the request fails closed.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash BLOB NOT NULL
);
INSERT OR IGNORE INTO audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));
CREATE TABLE IF NOT EXISTS audit_records (
    seq INTEGER PRIMARY KEY,
    prev_hash BLOB NOT NULL,
    hash BLOB NOT NULL,
    body TEXT NOT NULL,
    time TEXT NOT NULL,
    key TEXT NOT NULL,
    client TEXT NOT NULL,
    file_sha256 TEXT,
    digest TEXT,
    signature_sha256 TEXT,
    outcome TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_records_time ON audit_records (time);
CREATE INDEX IF NOT EXISTS audit_records_key ON audit_records (key);
CREATE INDEX IF NOT EXISTS audit_records_client ON audit_records (client);
CREATE INDEX IF NOT EXISTS audit_records_file_sha256 ON audit_records (file_sha256);
CREATE INDEX IF NOT EXISTS audit_records_digest ON audit_records (digest);
CREATE INDEX IF NOT EXISTS audit_records_signature_sha256 ON audit_records (signature_sha256);
CREATE TABLE IF NOT EXISTS audit_checkpoints (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    size INTEGER NOT NULL,
    hash BLOB NOT NULL,
    time TEXT NOT NULL,
    note TEXT NOT NULL,
    signature BLOB NOT NULL,
    spki BLOB NOT NULL
);
";

const RECORD_COLUMNS: &str =
    "seq, prev_hash, hash, body, time, key, client, file_sha256, digest, signature_sha256, outcome";

/// An audit store in one SQLite file.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    description: String,
}

impl SqliteStore {
    /// Opens (creating) the database at `path` and its schema.
    pub fn open(path: &str) -> Result<SqliteStore, AuditError> {
        let description = format!("sqlite:{path}");
        let open_err = |e: rusqlite::Error| AuditError::Open {
            store: description.clone(),
            message: e.to_string(),
        };
        let conn = Connection::open(path).map_err(open_err)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(open_err)?;
        let mode: String = conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))
            .map_err(open_err)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(AuditError::Open {
                store: description,
                message: format!("journal_mode is {mode}, WAL was asked for"),
            });
        }
        conn.execute_batch("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
            .map_err(open_err)?;
        conn.execute_batch(&format!("BEGIN IMMEDIATE; {SCHEMA} COMMIT;"))
            .map_err(open_err)?;
        Ok(SqliteStore {
            conn: Mutex::new(conn),
            description,
        })
    }

    fn lock(&self, what: &str) -> Result<MutexGuard<'_, Connection>, AuditError> {
        self.conn.lock().map_err(|_| AuditError::Internal {
            store: self.description.clone(),
            what: what.to_owned(),
        })
    }

    fn read_err(&self, what: &str) -> impl Fn(rusqlite::Error) -> AuditError + '_ {
        let what = what.to_owned();
        move |e| AuditError::Read {
            store: self.description.clone(),
            what: what.clone(),
            message: e.to_string(),
        }
    }

    fn append_locked(
        &self,
        conn: &mut Connection,
        records: &[NewRecord],
        checkpoint: Option<CheckpointMaker<'_>>,
        after: &mut Option<u64>,
    ) -> Result<Vec<Appended>, AppendFailure> {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let (size, hash): (i64, Vec<u8>) =
            tx.query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?;
        let old_size = u64::try_from(size).map_err(|_| AppendFailure::Head)?;
        *after = Some(old_size);
        let mut prev = hash32(&hash).ok_or(AppendFailure::Head)?;
        let mut seq = old_size;
        let mut out = Vec::with_capacity(records.len());
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO audit_records (seq, prev_hash, hash, body, time, key, client, \
                 file_sha256, digest, signature_sha256, outcome) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            )?;
            for r in records {
                seq = seq.checked_add(1).ok_or(AppendFailure::Head)?;
                let h = chain_hash(seq, &prev, r.body.as_bytes());
                let c = &r.columns;
                insert.execute(params![
                    i64::try_from(seq).map_err(|_| AppendFailure::Head)?,
                    prev.as_slice(),
                    h.as_slice(),
                    r.body,
                    c.time,
                    c.key,
                    c.client,
                    c.file_sha256,
                    c.digest,
                    c.signature_sha256,
                    c.outcome
                ])?;
                out.push(Appended { seq, hash: h });
                prev = h;
            }
        }
        if !records.is_empty() {
            tx.execute(
                "UPDATE audit_head SET seq = ?1, hash = ?2 WHERE id = 1",
                params![
                    i64::try_from(seq).map_err(|_| AppendFailure::Head)?,
                    prev.as_slice()
                ],
            )?;
        }
        if let Some(maker) = checkpoint {
            let last: i64 = tx.query_row(
                "SELECT COALESCE(MAX(size), 0) FROM audit_checkpoints",
                [],
                |r| r.get(0),
            )?;
            let ctx = CheckpointContext {
                old_size,
                head: Head {
                    size: seq,
                    hash: prev,
                },
                last_checkpoint: u64::try_from(last).unwrap_or(0),
            };
            if let Some(cp) = maker(&ctx).map_err(AppendFailure::Audit)? {
                tx.execute(
                    "INSERT INTO audit_checkpoints (size, hash, time, note, signature, spki) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        i64::try_from(cp.size).map_err(|_| AppendFailure::Head)?,
                        cp.hash.as_slice(),
                        cp.time,
                        cp.note,
                        cp.signature,
                        cp.spki
                    ],
                )?;
            }
        }
        tx.commit()?;
        Ok(out)
    }
}

/// Why an append transaction failed (turned into [`AuditError`] with the store's name).
enum AppendFailure {
    Db(rusqlite::Error),
    Head,
    Audit(AuditError),
}

impl From<rusqlite::Error> for AppendFailure {
    fn from(e: rusqlite::Error) -> Self {
        AppendFailure::Db(e)
    }
}

fn record_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<(i64, StoredRecord)> {
    let seq: i64 = r.get(0)?;
    Ok((
        seq,
        StoredRecord {
            seq: u64::try_from(seq).unwrap_or(0),
            prev_hash: r.get(1)?,
            hash: r.get(2)?,
            body: r.get(3)?,
            columns: Columns {
                time: r.get(4)?,
                key: r.get(5)?,
                client: r.get(6)?,
                file_sha256: r.get(7)?,
                digest: r.get(8)?,
                signature_sha256: r.get(9)?,
                outcome: r.get(10)?,
            },
        },
    ))
}

impl Store for SqliteStore {
    fn append(
        &self,
        records: &[NewRecord],
        checkpoint: Option<CheckpointMaker<'_>>,
    ) -> Result<Vec<Appended>, AuditError> {
        let mut conn = self.lock("appending")?;
        let mut after = None;
        self.append_locked(&mut conn, records, checkpoint, &mut after)
            .map_err(|f| match f {
                AppendFailure::Audit(e) => e,
                AppendFailure::Db(e) => AuditError::Append {
                    store: self.description.clone(),
                    after,
                    records: records.len(),
                    message: e.to_string(),
                },
                AppendFailure::Head => AuditError::Corrupt {
                    store: self.description.clone(),
                    what: "head row".to_owned(),
                    message: "its seq or hash is not a chain head".to_owned(),
                },
            })
    }

    fn head(&self) -> Result<Head, AuditError> {
        let conn = self.lock("reading the head")?;
        let (size, hash): (i64, Vec<u8>) = conn
            .query_row("SELECT seq, hash FROM audit_head WHERE id = 1", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .map_err(self.read_err("the head row"))?;
        match (u64::try_from(size), hash32(&hash)) {
            (Ok(size), Some(hash)) => Ok(Head { size, hash }),
            _ => Err(AuditError::Corrupt {
                store: self.description.clone(),
                what: "head row".to_owned(),
                message: format!("seq {size}, hash of {} bytes", hash.len()),
            }),
        }
    }

    fn records(
        &self,
        filter: &Filter,
        visit: &mut dyn FnMut(StoredRecord) -> Result<bool, AuditError>,
    ) -> Result<(), AuditError> {
        let mut sql = format!("SELECT {RECORD_COLUMNS} FROM audit_records WHERE seq > ?1");
        let mut args: Vec<String> = Vec::new();
        let mut add = |sql: &mut String, clause: &str, value: &Option<String>| {
            if let Some(v) = value {
                args.push(v.clone());
                let n = args.len().saturating_add(1);
                sql.push_str(&clause.replace('?', &format!("?{n}")));
            }
        };
        add(&mut sql, " AND key = ?", &filter.key);
        add(&mut sql, " AND client = ?", &filter.client);
        add(&mut sql, " AND time >= ?", &filter.since);
        add(&mut sql, " AND time <= ?", &filter.until);
        add(
            &mut sql,
            " AND (file_sha256 = ? OR digest = ? OR signature_sha256 = ?)",
            &filter.digest,
        );
        add(&mut sql, " AND outcome = ?", &filter.outcome);
        sql.push_str(&format!(" ORDER BY seq LIMIT {PAGE_ROWS}"));
        let mut after = i64::try_from(filter.after_seq).unwrap_or(i64::MAX);
        loop {
            let page: Vec<(i64, StoredRecord)> = {
                let conn = self.lock("reading records")?;
                let mut stmt = conn
                    .prepare_cached(&sql)
                    .map_err(self.read_err("records"))?;
                let mut values: Vec<&dyn rusqlite::ToSql> = vec![&after];
                values.extend(args.iter().map(|a| a as &dyn rusqlite::ToSql));
                let rows = stmt
                    .query_map(values.as_slice(), record_from_row)
                    .map_err(self.read_err("records"))?;
                rows.collect::<Result<_, _>>()
                    .map_err(self.read_err("records"))?
            };
            let full = page.len() >= usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX);
            for (seq, r) in page {
                after = seq;
                if !visit(r)? {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn record(&self, seq: u64) -> Result<Option<StoredRecord>, AuditError> {
        let Ok(seq) = i64::try_from(seq) else {
            return Ok(None);
        };
        let conn = self.lock("reading a record")?;
        conn.query_row(
            &format!("SELECT {RECORD_COLUMNS} FROM audit_records WHERE seq = ?1"),
            [seq],
            record_from_row,
        )
        .optional()
        .map(|r| r.map(|(_, r)| r))
        .map_err(self.read_err(&format!("record {seq}")))
    }

    fn checkpoints(
        &self,
        visit: &mut dyn FnMut(Checkpoint) -> Result<bool, AuditError>,
    ) -> Result<(), AuditError> {
        let mut after: i64 = 0;
        loop {
            let page: Vec<(i64, i64, Checkpoint)> = {
                let conn = self.lock("reading checkpoints")?;
                let mut stmt = conn
                    .prepare_cached(&format!(
                        "SELECT id, size, hash, time, note, signature, spki FROM \
                         audit_checkpoints WHERE id > ?1 ORDER BY id LIMIT {PAGE_ROWS}"
                    ))
                    .map_err(self.read_err("checkpoints"))?;
                stmt.query_map([after], |r| {
                    let id: i64 = r.get(0)?;
                    let size: i64 = r.get(1)?;
                    Ok((
                        id,
                        size,
                        Checkpoint {
                            id: u64::try_from(id).unwrap_or(0),
                            size: u64::try_from(size).unwrap_or(0),
                            hash: r.get(2)?,
                            time: r.get(3)?,
                            note: r.get(4)?,
                            signature: r.get(5)?,
                            spki: r.get(6)?,
                        },
                    ))
                })
                .map_err(self.read_err("checkpoints"))?
                .collect::<Result<_, _>>()
                .map_err(self.read_err("checkpoints"))?
            };
            let full = page.len() >= usize::try_from(PAGE_ROWS).unwrap_or(usize::MAX);
            for (id, size, c) in page {
                after = id;
                if size < 0 {
                    return Err(AuditError::Corrupt {
                        store: self.description.clone(),
                        what: format!("checkpoint {id}"),
                        message: format!("negative size {size}"),
                    });
                }
                if !visit(c)? {
                    return Ok(());
                }
            }
            if !full {
                return Ok(());
            }
        }
    }

    fn ping(&self) -> Result<(), AuditError> {
        let conn = self.lock("checking the store")?;
        let not_writable = |e: rusqlite::Error| AuditError::NotWritable {
            store: self.description.clone(),
            message: e.to_string(),
        };
        conn.execute_batch(
            "BEGIN IMMEDIATE; UPDATE audit_head SET seq = seq WHERE id = 1; ROLLBACK;",
        )
        .map_err(|e| {
            let _ = conn.execute_batch("ROLLBACK");
            not_writable(e)
        })
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::GENESIS_PREV;

    #[test]
    fn open_sets_wal_and_full_sync() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.db");
        let store = SqliteStore::open(path.to_str().expect("utf-8")).expect("open");
        let conn = store.conn.lock().expect("lock");
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .expect("sync");
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2, "synchronous=FULL is 2");
    }

    #[test]
    fn append_assigns_consecutive_seqs_and_moves_the_head() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("audit.db");
        let store = SqliteStore::open(path.to_str().expect("utf-8")).expect("open");
        let rec = |n: u8| NewRecord {
            body: format!("{{\"n\":{n}}}"),
            columns: Columns {
                time: "2026-12-06T02:00:00Z".into(),
                key: "k".into(),
                client: "token:a".into(),
                file_sha256: None,
                digest: None,
                signature_sha256: None,
                outcome: "signed".into(),
            },
        };
        let a = store.append(&[rec(1), rec(2)], None).expect("append");
        let b = store.append(&[rec(3)], None).expect("append");
        assert_eq!(a.iter().map(|x| x.seq).collect::<Vec<_>>(), [1, 2]);
        assert_eq!(b.first().map(|x| x.seq), Some(3));
        assert_eq!(
            b.first().map(|x| x.hash),
            Some(chain_hash(3, &a[1].hash, b"{\"n\":3}"))
        );
        assert_eq!(store.head().expect("head").size, 3);
        assert_eq!(
            a.first().map(|x| x.hash),
            Some(chain_hash(1, &GENESIS_PREV, b"{\"n\":1}"))
        );
    }
}
