//! The PostgreSQL store, shared by server replicas: an append locks the one head row
//! (`SELECT … FOR UPDATE`) and numbers its records head+1… in the same transaction, so
//! concurrent writers queue on that lock and form one chain. No SEQUENCE: a sequence leaves gaps
//! when a transaction rolls back. Plain TCP (no TLS) to the server.

use std::sync::{Mutex, MutexGuard};

use postgres::{Client, NoTls, Row};

use super::chain::{chain_hash, hash32};
use super::store::{
    Checkpoint, CheckpointContext, CheckpointMaker, Columns, Filter, Head, NewRecord, PAGE_ROWS,
    Store, StoredRecord, redact_url,
};
use super::{Appended, AuditError, GENESIS_PREV};

/// The advisory lock key that serialises schema creation between replicas starting together
/// (`CREATE TABLE IF NOT EXISTS` races otherwise). "bingate\0" as a number.
const SCHEMA_LOCK: i64 = 0x6269_6e67_6174_6500;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_records (
    seq BIGINT PRIMARY KEY,
    prev_hash BYTEA NOT NULL,
    hash BYTEA NOT NULL,
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
    id BIGSERIAL PRIMARY KEY,
    size BIGINT NOT NULL,
    hash BYTEA NOT NULL,
    time TEXT NOT NULL,
    note TEXT NOT NULL,
    signature BYTEA NOT NULL,
    spki BYTEA NOT NULL
);
";

const RECORD_COLUMNS: &str =
    "seq, prev_hash, hash, body, time, key, client, file_sha256, digest, signature_sha256, outcome";

/// An audit store in a PostgreSQL database.
pub struct PgStore {
    url: String,
    password: Option<String>,
    client: Mutex<Client>,
    description: String,
}

/// A PostgreSQL error's text with the password (if the server or driver quoted it) removed.
fn message(e: &postgres::Error, password: Option<&str>) -> String {
    let text = match e.as_db_error() {
        Some(db) => format!("{}: {}", db.code().code(), db.message()),
        None => e.to_string(),
    };
    match password {
        Some(p) if !p.is_empty() => text.replace(p, "***"),
        _ => text,
    }
}

impl PgStore {
    /// Connects to `url` and creates the schema if absent.
    pub fn open(url: &str) -> Result<PgStore, AuditError> {
        let description = redact_url(url);
        let config: postgres::Config =
            url.parse().map_err(|e: postgres::Error| AuditError::Open {
                store: description.clone(),
                message: format!("not a PostgreSQL URL: {}", message(&e, None)),
            })?;
        let password = config
            .get_password()
            .map(|p| String::from_utf8_lossy(p).into_owned());
        let mut client = Client::connect(url, NoTls).map_err(|e| AuditError::Open {
            store: description.clone(),
            message: message(&e, password.as_deref()),
        })?;
        let mut schema = || -> Result<(), postgres::Error> {
            let mut tx = client.transaction()?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&SCHEMA_LOCK])?;
            tx.batch_execute(SCHEMA)?;
            tx.execute(
                "INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, $1) ON CONFLICT (id) DO NOTHING",
                &[&GENESIS_PREV.as_slice()],
            )?;
            tx.commit()
        };
        schema().map_err(|e| AuditError::Open {
            store: description.clone(),
            message: format!("creating the schema: {}", message(&e, password.as_deref())),
        })?;
        Ok(PgStore {
            url: url.to_owned(),
            password,
            client: Mutex::new(client),
            description,
        })
    }

    /// The connection, reconnected first if the last one was lost.
    fn client(&self, what: &str) -> Result<MutexGuard<'_, Client>, AuditError> {
        let mut guard = self.client.lock().map_err(|_| AuditError::Internal {
            store: self.description.clone(),
            what: what.to_owned(),
        })?;
        if guard.is_closed() {
            *guard = Client::connect(&self.url, NoTls).map_err(|e| AuditError::Read {
                store: self.description.clone(),
                what: format!("a new connection ({what})"),
                message: self.message(&e),
            })?;
        }
        Ok(guard)
    }

    fn message(&self, e: &postgres::Error) -> String {
        message(e, self.password.as_deref())
    }

    fn read_err(&self, what: &str) -> impl Fn(postgres::Error) -> AuditError + '_ {
        let what = what.to_owned();
        move |e| AuditError::Read {
            store: self.description.clone(),
            what: what.clone(),
            message: self.message(&e),
        }
    }
}

/// Why an append transaction failed.
enum AppendFailure {
    Db(postgres::Error),
    Head,
    Audit(AuditError),
}

impl From<postgres::Error> for AppendFailure {
    fn from(e: postgres::Error) -> Self {
        AppendFailure::Db(e)
    }
}

fn append_tx(
    client: &mut Client,
    records: &[NewRecord],
    checkpoint: Option<CheckpointMaker<'_>>,
    after: &mut Option<u64>,
) -> Result<Vec<Appended>, AppendFailure> {
    let mut tx = client.transaction()?;
    let row = tx.query_one(
        "SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE",
        &[],
    )?;
    let size: i64 = row.try_get(0)?;
    let hash: Vec<u8> = row.try_get(1)?;
    let old_size = u64::try_from(size).map_err(|_| AppendFailure::Head)?;
    *after = Some(old_size);
    let mut prev = hash32(&hash).ok_or(AppendFailure::Head)?;
    let mut seq = old_size;
    let mut out = Vec::with_capacity(records.len());
    if !records.is_empty() {
        let insert = tx.prepare(
            "INSERT INTO audit_records (seq, prev_hash, hash, body, time, key, client, \
             file_sha256, digest, signature_sha256, outcome) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )?;
        for r in records {
            seq = seq.checked_add(1).ok_or(AppendFailure::Head)?;
            let h = chain_hash(seq, &prev, r.body.as_bytes());
            let c = &r.columns;
            let seq_i = i64::try_from(seq).map_err(|_| AppendFailure::Head)?;
            tx.execute(
                &insert,
                &[
                    &seq_i,
                    &prev.as_slice(),
                    &h.as_slice(),
                    &r.body,
                    &c.time,
                    &c.key,
                    &c.client,
                    &c.file_sha256,
                    &c.digest,
                    &c.signature_sha256,
                    &c.outcome,
                ],
            )?;
            out.push(Appended { seq, hash: h });
            prev = h;
        }
        let seq_i = i64::try_from(seq).map_err(|_| AppendFailure::Head)?;
        tx.execute(
            "UPDATE audit_head SET seq = $1, hash = $2 WHERE id = 1",
            &[&seq_i, &prev.as_slice()],
        )?;
    }
    if let Some(maker) = checkpoint {
        let last: i64 = tx
            .query_one("SELECT COALESCE(MAX(size), 0) FROM audit_checkpoints", &[])?
            .try_get(0)?;
        let ctx = CheckpointContext {
            old_size,
            head: Head {
                size: seq,
                hash: prev,
            },
            last_checkpoint: u64::try_from(last).unwrap_or(0),
        };
        if let Some(cp) = maker(&ctx).map_err(AppendFailure::Audit)? {
            let size_i = i64::try_from(cp.size).map_err(|_| AppendFailure::Head)?;
            tx.execute(
                "INSERT INTO audit_checkpoints (size, hash, time, note, signature, spki) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
                &[
                    &size_i,
                    &cp.hash.as_slice(),
                    &cp.time,
                    &cp.note,
                    &cp.signature,
                    &cp.spki,
                ],
            )?;
        }
    }
    tx.commit()?;
    Ok(out)
}

fn record_from_row(row: &Row) -> Result<(i64, StoredRecord), postgres::Error> {
    let seq: i64 = row.try_get(0)?;
    Ok((
        seq,
        StoredRecord {
            seq: u64::try_from(seq).unwrap_or(0),
            prev_hash: row.try_get(1)?,
            hash: row.try_get(2)?,
            body: row.try_get(3)?,
            columns: Columns {
                time: row.try_get(4)?,
                key: row.try_get(5)?,
                client: row.try_get(6)?,
                file_sha256: row.try_get(7)?,
                digest: row.try_get(8)?,
                signature_sha256: row.try_get(9)?,
                outcome: row.try_get(10)?,
            },
        },
    ))
}

impl Store for PgStore {
    fn append(
        &self,
        records: &[NewRecord],
        checkpoint: Option<CheckpointMaker<'_>>,
    ) -> Result<Vec<Appended>, AuditError> {
        let mut after = None;
        let fail = |f: AppendFailure, after: Option<u64>| match f {
            AppendFailure::Audit(e) => e,
            AppendFailure::Db(e) => AuditError::Append {
                store: self.description.clone(),
                after,
                records: records.len(),
                message: self.message(&e),
            },
            AppendFailure::Head => AuditError::Corrupt {
                store: self.description.clone(),
                what: "head row".to_owned(),
                message: "its seq or hash is not a chain head".to_owned(),
            },
        };
        let mut client = self.client("appending").map_err(|e| AuditError::Append {
            store: self.description.clone(),
            after: None,
            records: records.len(),
            message: e.to_string(),
        })?;
        append_tx(&mut client, records, checkpoint, &mut after).map_err(|f| fail(f, after))
    }

    fn head(&self) -> Result<Head, AuditError> {
        let mut client = self.client("reading the head")?;
        let row = client
            .query_one("SELECT seq, hash FROM audit_head WHERE id = 1", &[])
            .map_err(self.read_err("the head row"))?;
        let size: i64 = row.try_get(0).map_err(self.read_err("the head row"))?;
        let hash: Vec<u8> = row.try_get(1).map_err(self.read_err("the head row"))?;
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
        let mut sql = format!("SELECT {RECORD_COLUMNS} FROM audit_records WHERE seq > $1");
        let mut args: Vec<String> = Vec::new();
        let mut add = |sql: &mut String, clause: &str, value: &Option<String>| {
            if let Some(v) = value {
                args.push(v.clone());
                let n = args.len().saturating_add(1);
                sql.push_str(&clause.replace('?', &format!("${n}")));
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
                let mut client = self.client("reading records")?;
                let mut values: Vec<&(dyn postgres::types::ToSql + Sync)> = vec![&after];
                values.extend(
                    args.iter()
                        .map(|a| a as &(dyn postgres::types::ToSql + Sync)),
                );
                let rows = client
                    .query(&sql, &values)
                    .map_err(self.read_err("records"))?;
                rows.iter()
                    .map(record_from_row)
                    .collect::<Result<_, _>>()
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
        let mut client = self.client("reading a record")?;
        let what = format!("record {seq}");
        let row = client
            .query_opt(
                &format!("SELECT {RECORD_COLUMNS} FROM audit_records WHERE seq = $1"),
                &[&seq],
            )
            .map_err(self.read_err(&what))?;
        row.map(|r| record_from_row(&r).map(|(_, r)| r))
            .transpose()
            .map_err(self.read_err(&what))
    }

    fn checkpoints(
        &self,
        visit: &mut dyn FnMut(Checkpoint) -> Result<bool, AuditError>,
    ) -> Result<(), AuditError> {
        let mut after: i64 = 0;
        loop {
            let page: Vec<(i64, i64, Checkpoint)> = {
                let mut client = self.client("reading checkpoints")?;
                let rows = client
                    .query(
                        &format!(
                            "SELECT id, size, hash, time, note, signature, spki FROM \
                             audit_checkpoints WHERE id > $1 ORDER BY id LIMIT {PAGE_ROWS}"
                        ),
                        &[&after],
                    )
                    .map_err(self.read_err("checkpoints"))?;
                rows.iter()
                    .map(|r| -> Result<_, postgres::Error> {
                        let id: i64 = r.try_get(0)?;
                        let size: i64 = r.try_get(1)?;
                        Ok((
                            id,
                            size,
                            Checkpoint {
                                id: u64::try_from(id).unwrap_or(0),
                                size: u64::try_from(size).unwrap_or(0),
                                hash: r.try_get(2)?,
                                time: r.try_get(3)?,
                                note: r.try_get(4)?,
                                signature: r.try_get(5)?,
                                spki: r.try_get(6)?,
                            },
                        ))
                    })
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
        let mut client =
            self.client("checking the store")
                .map_err(|e| AuditError::NotWritable {
                    store: self.description.clone(),
                    message: e.to_string(),
                })?;
        let check = |client: &mut Client| -> Result<(), postgres::Error> {
            let mut tx = client.transaction()?;
            tx.query_one("SELECT seq FROM audit_head WHERE id = 1 FOR UPDATE", &[])?;
            tx.rollback()
        };
        check(&mut client).map_err(|e| AuditError::NotWritable {
            store: self.description.clone(),
            message: self.message(&e),
        })
    }

    fn describe(&self) -> String {
        self.description.clone()
    }
}
