//! [`Log`]: records appended with group commit (callers arriving while a batch commits go into
//! the next transaction together), checkpoints written inside append transactions every
//! `checkpoint_every` records, on an interval by a background thread, and on close.

use std::collections::{HashMap, VecDeque};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

use super::checkpoint;
use super::store::{CheckpointContext, NewCheckpoint, NewRecord, Store};
use super::{Appended, AuditError, Record};
use crate::cms::Signer;

/// Records per append transaction. A batch this size commits in a few milliseconds on
/// SQLite and PostgreSQL alike; a larger one only delays the callers at its front.
pub const MAX_BATCH_RECORDS: usize = 256;

/// Records waiting for a transaction before new callers are held back (each caller is one
/// request of the server, so this bounds the memory of a stalled store).
pub const MAX_QUEUED_RECORDS: usize = 4096;

/// How a [`Log`] names itself and when it checkpoints.
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// Names the log in checkpoints, e.g. `bingate audit log HOST` (one line).
    pub origin: String,
    /// Records between checkpoints (0 = only on interval/close).
    pub checkpoint_every: u64,
    /// Also checkpoint when this elapsed and the head moved (zero: no interval checkpoints).
    pub checkpoint_interval: Duration,
}

/// The group-commit queue.
#[derive(Default)]
struct Queue {
    next_ticket: u64,
    pending: VecDeque<(u64, NewRecord)>,
    results: HashMap<u64, Result<Appended, AuditError>>,
    committing: bool,
    closed: bool,
}

struct Inner {
    store: Box<dyn Store>,
    signer: Option<Box<dyn Signer>>,
    opts: LogOptions,
    queue: Mutex<Queue>,
    changed: Condvar,
    stop: Mutex<bool>,
    stop_changed: Condvar,
}

/// The audit log a server records to.
pub struct Log {
    inner: Arc<Inner>,
    ticker: Mutex<Option<JoinHandle<()>>>,
}

impl Inner {
    fn internal(&self, what: &str) -> AuditError {
        AuditError::Internal {
            store: self.store.describe(),
            what: what.to_owned(),
        }
    }

    fn lock(&self) -> Result<MutexGuard<'_, Queue>, AuditError> {
        self.queue
            .lock()
            .map_err(|_| self.internal("queueing a record"))
    }

    /// The checkpoint of `ctx.head` when `due` says so and a signer is configured.
    fn maybe_checkpoint(
        &self,
        ctx: &CheckpointContext,
        due: bool,
    ) -> Result<Option<NewCheckpoint>, AuditError> {
        match &self.signer {
            Some(s) if due && ctx.head.size > ctx.last_checkpoint => checkpoint::make(
                s.as_ref(),
                &self.opts.origin,
                ctx.head,
                &self.store.describe(),
            )
            .map(Some),
            _ => Ok(None),
        }
    }

    /// One transaction for `batch`, with a checkpoint when it crosses a multiple of
    /// `checkpoint_every` (decided on the head read inside the transaction, so replicas agree).
    fn commit(&self, batch: &[NewRecord]) -> Result<Vec<Appended>, AuditError> {
        let every = self.opts.checkpoint_every;
        if self.signer.is_none() || every == 0 {
            return self.store.append(batch, None);
        }
        let mut maker = |ctx: &CheckpointContext| {
            let due = ctx.head.size.checked_div(every) > ctx.old_size.checked_div(every);
            self.maybe_checkpoint(ctx, due)
        };
        self.store.append(batch, Some(&mut maker))
    }

    fn checkpoint(&self) -> Result<(), AuditError> {
        if self.signer.is_none() {
            return Ok(());
        }
        let mut maker = |ctx: &CheckpointContext| self.maybe_checkpoint(ctx, true);
        self.store.append(&[], Some(&mut maker)).map(|_| ())
    }

    /// Waits for `interval` or a stop; true when stopped.
    fn wait_stop(&self, interval: Duration) -> bool {
        let Ok(stop) = self.stop.lock() else {
            return true;
        };
        match self
            .stop_changed
            .wait_timeout_while(stop, interval, |stopped| !*stopped)
        {
            Ok((stop, _)) => *stop,
            Err(_) => true,
        }
    }
}

impl Log {
    /// A log over `store`; with a `signer`, checkpoints as `opts` says (a background thread for
    /// the interval).
    pub fn new(
        store: Box<dyn Store>,
        signer: Option<Box<dyn Signer>>,
        opts: LogOptions,
    ) -> Result<Log, AuditError> {
        if opts.origin.is_empty() || opts.origin.contains(['\n', '\r']) {
            return Err(AuditError::Options {
                message: format!("the origin {:?} must be one non-empty line", opts.origin),
            });
        }
        let interval = opts.checkpoint_interval;
        let has_signer = signer.is_some();
        let inner = Arc::new(Inner {
            store,
            signer,
            opts,
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
            stop: Mutex::new(false),
            stop_changed: Condvar::new(),
        });
        let ticker = if has_signer && !interval.is_zero() {
            let inner = Arc::clone(&inner);
            Some(
                std::thread::Builder::new()
                    .name("bingate-audit-checkpoint".to_owned())
                    .spawn(move || {
                        while !inner.wait_stop(interval) {
                            // A failed interval checkpoint is retried on the next tick; the
                            // appends themselves fail closed on their own errors.
                            let _ = inner.checkpoint();
                        }
                    })
                    .map_err(|e| AuditError::Options {
                        message: format!("cannot start the checkpoint thread: {e}"),
                    })?,
            )
        } else {
            None
        };
        Ok(Log {
            inner,
            ticker: Mutex::new(ticker),
        })
    }

    /// Blocks until the record is durably stored (committed); group commit: concurrent callers'
    /// records go into one transaction. Err => the caller must not sign / must fail the request.
    pub fn record(&self, r: &Record) -> Result<Appended, AuditError> {
        let new = NewRecord::of(r)?;
        let inner = &self.inner;
        let mut q = inner.lock()?;
        while q.pending.len() >= MAX_QUEUED_RECORDS && !q.closed {
            q = inner
                .changed
                .wait(q)
                .map_err(|_| inner.internal("waiting for the queue"))?;
        }
        if q.closed {
            return Err(AuditError::Closed {
                store: inner.store.describe(),
            });
        }
        let ticket = q.next_ticket;
        q.next_ticket = q.next_ticket.wrapping_add(1);
        q.pending.push_back((ticket, new));
        loop {
            if let Some(result) = q.results.remove(&ticket) {
                return result;
            }
            if q.committing {
                q = inner
                    .changed
                    .wait(q)
                    .map_err(|_| inner.internal("waiting for a commit"))?;
                continue;
            }
            // Lead the next batch: everything queued, up to the batch size.
            q.committing = true;
            let n = q.pending.len().min(MAX_BATCH_RECORDS);
            let (tickets, batch): (Vec<u64>, Vec<NewRecord>) = q.pending.drain(..n).unzip();
            drop(q);
            let outcome = catch_unwind(AssertUnwindSafe(|| inner.commit(&batch)))
                .unwrap_or_else(|_| Err(inner.internal("committing a batch (panic)")));
            let Ok(mut guard) = inner.queue.lock() else {
                return Err(inner.internal("publishing a batch"));
            };
            match outcome {
                Ok(appended) if appended.len() == tickets.len() => {
                    for (t, a) in tickets.into_iter().zip(appended) {
                        guard.results.insert(t, Ok(a));
                    }
                }
                Ok(appended) => {
                    let e = AuditError::Corrupt {
                        store: inner.store.describe(),
                        what: "append".to_owned(),
                        message: format!(
                            "{} records appended for a batch of {}",
                            appended.len(),
                            tickets.len()
                        ),
                    };
                    for t in tickets {
                        guard.results.insert(t, Err(e.clone()));
                    }
                }
                Err(e) => {
                    for t in tickets {
                        guard.results.insert(t, Err(e.clone()));
                    }
                }
            }
            guard.committing = false;
            inner.changed.notify_all();
            q = guard;
        }
    }

    /// The store is reachable and writable (for GET /readyz).
    pub fn ready(&self) -> Result<(), AuditError> {
        if self.inner.lock()?.closed {
            return Err(AuditError::Closed {
                store: self.inner.store.describe(),
            });
        }
        self.inner.store.ping()
    }

    /// Writes a signed checkpoint now if the head moved since the last one.
    pub fn checkpoint(&self) -> Result<(), AuditError> {
        self.inner.checkpoint()
    }

    /// Final checkpoint and stop the background thread (graceful shutdown). Records queued
    /// before are committed first; later ones get [`AuditError::Closed`].
    pub fn close(&self) -> Result<(), AuditError> {
        let inner = &self.inner;
        {
            let mut q = inner.lock()?;
            q.closed = true;
            inner.changed.notify_all();
            while q.committing || !q.pending.is_empty() {
                q = inner
                    .changed
                    .wait(q)
                    .map_err(|_| inner.internal("closing"))?;
            }
        }
        self.stop_ticker();
        inner.checkpoint()
    }

    fn stop_ticker(&self) {
        if let Ok(mut stop) = self.inner.stop.lock() {
            *stop = true;
            self.inner.stop_changed.notify_all();
        }
        let handle = self.ticker.lock().ok().and_then(|mut t| t.take());
        if let Some(h) = handle {
            let _ = h.join();
        }
    }

    pub fn store_description(&self) -> String {
        self.inner.store.describe()
    }
}

impl Drop for Log {
    fn drop(&mut self) {
        self.stop_ticker();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    use super::*;
    use crate::audit::store::{Checkpoint, Filter, Head, StoredRecord};
    use crate::audit::{CheckpointMaker, GENESIS_PREV, chain_hash};

    /// A store in memory that counts transactions, takes a while to commit, and can fail.
    struct Slow {
        records: Mutex<Vec<(u64, [u8; 32])>>,
        transactions: AtomicUsize,
        largest_batch: AtomicUsize,
        fail: AtomicBool,
    }

    impl Slow {
        fn new() -> Slow {
            Slow {
                records: Mutex::new(Vec::new()),
                transactions: AtomicUsize::new(0),
                largest_batch: AtomicUsize::new(0),
                fail: AtomicBool::new(false),
            }
        }
    }

    impl Store for Arc<Slow> {
        fn append(
            &self,
            records: &[NewRecord],
            _checkpoint: Option<CheckpointMaker<'_>>,
        ) -> Result<Vec<Appended>, AuditError> {
            std::thread::sleep(Duration::from_millis(20));
            self.transactions.fetch_add(1, Ordering::SeqCst);
            self.largest_batch
                .fetch_max(records.len(), Ordering::SeqCst);
            if self.fail.load(Ordering::SeqCst) {
                return Err(AuditError::Append {
                    store: "mem".into(),
                    after: None,
                    records: records.len(),
                    message: "disk full".into(),
                });
            }
            let mut all = self.records.lock().unwrap();
            let mut out = Vec::new();
            for r in records {
                let (seq, prev) = all
                    .last()
                    .map_or((1, GENESIS_PREV), |(s, h)| (s.saturating_add(1), *h));
                let hash = chain_hash(seq, &prev, r.body.as_bytes());
                all.push((seq, hash));
                out.push(Appended { seq, hash });
            }
            Ok(out)
        }
        fn head(&self) -> Result<Head, AuditError> {
            unimplemented!()
        }
        fn records(
            &self,
            _: &Filter,
            _: &mut dyn FnMut(StoredRecord) -> Result<bool, AuditError>,
        ) -> Result<(), AuditError> {
            unimplemented!()
        }
        fn record(&self, _: u64) -> Result<Option<StoredRecord>, AuditError> {
            unimplemented!()
        }
        fn checkpoints(
            &self,
            _: &mut dyn FnMut(Checkpoint) -> Result<bool, AuditError>,
        ) -> Result<(), AuditError> {
            unimplemented!()
        }
        fn ping(&self) -> Result<(), AuditError> {
            Ok(())
        }
        fn describe(&self) -> String {
            "mem".into()
        }
    }

    fn record(i: usize) -> Record {
        Record {
            time: "2026-12-06T02:00:00Z".into(),
            request_id: format!("req-{i}"),
            client: "token:a".into(),
            client_ip: None,
            replica: None,
            key: "k".into(),
            cert_sha256: "00".into(),
            format: "pe".into(),
            mode: "file".into(),
            file_name: None,
            file_sha256: None,
            digest_alg: None,
            digest: None,
            signature_sha256: None,
            timestamp_time: None,
            outcome: "signed".into(),
            policy: None,
        }
    }

    fn log(store: &Arc<Slow>) -> Arc<Log> {
        let opts = LogOptions {
            origin: "test".into(),
            checkpoint_every: 0,
            checkpoint_interval: Duration::ZERO,
        };
        Arc::new(Log::new(Box::new(Arc::clone(store)), None, opts).unwrap())
    }

    fn run(log: &Arc<Log>, threads: usize) -> Vec<Result<Appended, AuditError>> {
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let log = Arc::clone(log);
                std::thread::spawn(move || log.record(&record(i)))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    }

    #[test]
    fn concurrent_callers_share_transactions() {
        let store = Arc::new(Slow::new());
        let log = log(&store);
        let mut seqs: Vec<u64> = run(&log, 64).into_iter().map(|r| r.unwrap().seq).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=64).collect::<Vec<_>>());
        let transactions = store.transactions.load(Ordering::SeqCst);
        // 64 callers against a 20 ms commit: they queue behind the first and share.
        assert!(
            transactions < 64,
            "{transactions} transactions for 64 records"
        );
        assert!(store.largest_batch.load(Ordering::SeqCst) > 1);
        assert!(store.largest_batch.load(Ordering::SeqCst) <= MAX_BATCH_RECORDS);
    }

    #[test]
    fn a_failed_commit_fails_every_caller_in_it() {
        let store = Arc::new(Slow::new());
        store.fail.store(true, Ordering::SeqCst);
        let log = log(&store);
        let results = run(&log, 16);
        assert!(results.iter().all(|r| matches!(
            r,
            Err(AuditError::Append { message, .. }) if message == "disk full"
        )));
        store.fail.store(false, Ordering::SeqCst);
        assert_eq!(log.record(&record(99)).unwrap().seq, 1);
        log.close().unwrap();
        assert!(matches!(
            log.record(&record(100)),
            Err(AuditError::Closed { .. })
        ));
    }

    #[test]
    fn origins_must_be_one_line() {
        let store = Arc::new(Slow::new());
        let opts = LogOptions {
            origin: "two\nlines".into(),
            checkpoint_every: 0,
            checkpoint_interval: Duration::ZERO,
        };
        assert!(matches!(
            Log::new(Box::new(store), None, opts),
            Err(AuditError::Options { .. })
        ));
    }
}
