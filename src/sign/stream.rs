//! The one pass of signing: copy the streamed part of the output (the [`Piece`]s of a
//! [`crate::elfsig::Plan`]) from the input into the destination's temporary file, and hash it on
//! the way, in fixed-size chunks.
//!
//! Each chunk is read once into a buffer of a fixed pool, then handed to two hashing threads
//! (the digest of everything; the digests of the requested ranges, for the section format's
//! per-section digests) and written to the destination from that same buffer. So the output holds
//! exactly the bytes that were hashed, whatever happens to the input meanwhile, and memory is the
//! pool ([`POOL`] × [`CHUNK`]), whatever the input's size. With two cores the two digests run
//! side by side and the copy fits between them: the wall time approaches one digest pass.

use std::collections::HashMap;
use std::io::{self, Write};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

use crate::elfsig::{Hashed, Piece, hasher};
use crate::hash::DigestAlg;

/// Bytes read, hashed and written at a time. 1 MiB: large enough that the per-chunk hand-over
/// between threads is negligible (100 chunks for a 100 MB file), small enough that a chunk is
/// still in the cache when the second hasher reads it.
pub const CHUNK: usize = 1 << 20;

/// Chunks in flight at once (read, queued for a hasher, being written): the memory bound of the
/// pass. Enough for the reader to stay a few chunks ahead of the slower hasher.
pub const POOL: usize = 8;

/// Where the input's bytes come from: a file (positioned reads, so nothing else's file position
/// matters) or memory (tests, small inputs).
pub trait Source {
    /// Fills `dst` with the bytes at `offset`; an error (`UnexpectedEof`) if there are fewer.
    fn read_exact_at(&self, dst: &mut [u8], offset: u64) -> io::Result<()>;
}

impl Source for std::fs::File {
    fn read_exact_at(&self, dst: &mut [u8], offset: u64) -> io::Result<()> {
        crate::input::read_exact_at(self, dst, offset)
    }
}

impl Source for [u8] {
    fn read_exact_at(&self, dst: &mut [u8], offset: u64) -> io::Result<()> {
        let bytes = usize::try_from(offset)
            .ok()
            .and_then(|o| self.get(o..o.checked_add(dst.len())?))
            .ok_or(io::ErrorKind::UnexpectedEof)?;
        dst.copy_from_slice(bytes);
        Ok(())
    }
}

/// Why the pass failed: the caller names the input for a read error, the destination for a
/// write error.
#[derive(Debug)]
#[non_exhaustive]
pub enum StreamError {
    /// Reading the input failed, or it ended early (it shrank since it was planned).
    Read { offset: u64, error: io::Error },
    /// Writing the destination failed.
    Write(io::Error),
    /// The digest algorithm cannot be used (MD5), a range lies outside the streamed part, or a
    /// hashing thread stopped (a bug, not an input problem).
    Internal(String),
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamError::Read { offset, error } if error.kind() == io::ErrorKind::UnexpectedEof => {
                write!(
                    f,
                    "the file ends before offset {offset:#x}: it shrank while being signed"
                )
            }
            StreamError::Read { offset, error } => write!(f, "read at offset {offset:#x}: {error}"),
            StreamError::Write(e) => write!(f, "{e}"),
            StreamError::Internal(m) => write!(f, "{m}"),
        }
    }
}

impl std::error::Error for StreamError {}

/// One chunk of the output, shared by the writer and the hashers; its buffer goes back to the
/// pool when the last of them drops it.
struct Chunk {
    /// Offset of the chunk in the output.
    at: u64,
    buf: Vec<u8>,
    len: usize,
    back: SyncSender<Vec<u8>>,
}

impl Chunk {
    fn bytes(&self) -> &[u8] {
        self.buf.get(..self.len).unwrap_or_default()
    }
}

impl Drop for Chunk {
    fn drop(&mut self) {
        // The pool holds every buffer there is, so it is never full; once the pass is over
        // nobody listens and the buffer is freed.
        let _ = self.back.try_send(std::mem::take(&mut self.buf));
    }
}

/// The digests of a set of ranges of one stream, fed in order.
struct RangeHasher {
    alg: DigestAlg,
    /// Ranges (start, end) sorted by start; those before `next` have been started.
    ranges: Vec<(u64, u64)>,
    next: usize,
    active: Vec<(u64, u64, Box<dyn digest::DynDigest + Send>)>,
    done: HashMap<(u64, u64), Vec<u8>>,
}

impl RangeHasher {
    fn new(alg: DigestAlg, ranges: &[(u64, u64)]) -> Result<RangeHasher, String> {
        let mut sorted = Vec::with_capacity(ranges.len());
        for &(off, len) in ranges {
            let end = off
                .checked_add(len)
                .ok_or_else(|| format!("range {off:#x}+{len:#x} overflows"))?;
            if len > 0 {
                sorted.push((off, end));
            }
        }
        sorted.sort_unstable();
        sorted.dedup();
        Ok(RangeHasher {
            alg,
            ranges: sorted,
            next: 0,
            active: Vec::new(),
            done: HashMap::new(),
        })
    }

    /// Feeds the bytes at `at` of the stream (which continues where the previous call ended).
    fn feed(&mut self, at: u64, bytes: &[u8]) -> Result<(), String> {
        let stop = at.saturating_add(bytes.len() as u64);
        while let Some(&(start, end)) = self.ranges.get(self.next) {
            if start >= stop {
                break;
            }
            let h = hasher(self.alg).ok_or("digest algorithm cannot be used")?;
            self.active.push((start, end, h));
            self.next = self.next.saturating_add(1);
        }
        let mut still = Vec::with_capacity(self.active.len());
        for (start, end, mut h) in std::mem::take(&mut self.active) {
            let from = usize::try_from(start.max(at).saturating_sub(at)).unwrap_or(usize::MAX);
            let to = usize::try_from(end.min(stop).saturating_sub(at)).unwrap_or(usize::MAX);
            if let Some(part) = bytes.get(from..to) {
                h.update(part);
            }
            if end <= stop {
                let len = end.saturating_sub(start);
                self.done.insert((start, len), h.finalize().to_vec());
            } else {
                still.push((start, end, h));
            }
        }
        self.active = still;
        Ok(())
    }

    fn finish(self, streamed: u64) -> Result<HashMap<(u64, u64), Vec<u8>>, String> {
        match (self.active.first(), self.ranges.get(self.next)) {
            (None, None) => Ok(self.done),
            (Some((start, end, _)), _) | (None, Some((start, end))) => Err(format!(
                "range {start:#x}..{end:#x} is not inside the {streamed} bytes streamed"
            )),
        }
    }
}

/// Copies `pieces` from `src` to `dst` in one pass, `chunk` bytes at a time, hashing everything
/// with `alg` and each of `ranges` (offset, length in the output) on the way. Returns the digest
/// state of everything (to be continued with the tail) and the ranges' digests.
///
/// On an error nothing more is written and the hashing threads are stopped; the caller discards
/// the destination.
pub fn copy_and_hash<S: Source + ?Sized, W: Write + ?Sized>(
    src: &S,
    pieces: &[Piece],
    dst: &mut W,
    alg: DigestAlg,
    ranges: &[(u64, u64)],
    chunk: usize,
) -> Result<Hashed, StreamError> {
    let chunk = chunk.max(1);
    let whole = hasher(alg)
        .ok_or_else(|| StreamError::Internal(format!("{} cannot be used", alg.name())))?;
    let mut range_hasher = RangeHasher::new(alg, ranges).map_err(StreamError::Internal)?;
    let (pool_tx, pool_rx) = sync_channel::<Vec<u8>>(POOL);
    for _ in 0..POOL {
        // Zeroed allocations of this size come from fresh pages: untouched ones cost nothing.
        let _ = pool_tx.try_send(vec![0u8; chunk]);
    }
    std::thread::scope(|s| {
        let (whole_tx, whole_rx) = sync_channel::<Arc<Chunk>>(POOL);
        let whole_thread = s.spawn(move || {
            let mut h = whole;
            for c in whole_rx {
                h.update(c.bytes());
            }
            h
        });
        let (ranges_tx, ranges_thread) = if ranges.is_empty() {
            (None, None)
        } else {
            let (tx, rx) = sync_channel::<Arc<Chunk>>(POOL);
            let t = s.spawn(move || -> Result<_, String> {
                let mut streamed = 0u64;
                for c in rx {
                    range_hasher.feed(c.at, c.bytes())?;
                    streamed = c.at.saturating_add(c.len as u64);
                }
                range_hasher.finish(streamed)
            });
            (Some(tx), Some(t))
        };
        let pumped = pump(
            src,
            pieces,
            dst,
            chunk,
            &pool_rx,
            &pool_tx,
            &whole_tx,
            ranges_tx.as_ref(),
        );
        // Closing the channels ends the hashers once they have hashed what was sent.
        drop(whole_tx);
        drop(ranges_tx);
        let state = whole_thread
            .join()
            .map_err(|_| StreamError::Internal("the hashing thread stopped".into()));
        let ranges = match ranges_thread {
            None => Ok(Ok(HashMap::new())),
            Some(t) => t
                .join()
                .map_err(|_| StreamError::Internal("the hashing thread stopped".into())),
        };
        // A read or write error explains everything after it (a range hasher that saw the
        // stream end early); a stopped hasher is explained by its own error.
        if let Err(e @ (StreamError::Read { .. } | StreamError::Write(_))) = pumped {
            return Err(e);
        }
        let ranges = ranges?.map_err(StreamError::Internal)?;
        pumped?;
        Ok(Hashed {
            state: state?,
            ranges,
        })
    })
}

/// The reading and writing side of [`copy_and_hash`]: fills pool buffers from the pieces, hands
/// each to the hashers and writes it.
#[allow(clippy::too_many_arguments)]
fn pump<S: Source + ?Sized, W: Write + ?Sized>(
    src: &S,
    pieces: &[Piece],
    dst: &mut W,
    chunk: usize,
    pool: &Receiver<Vec<u8>>,
    back: &SyncSender<Vec<u8>>,
    whole: &SyncSender<Arc<Chunk>>,
    ranges: Option<&SyncSender<Arc<Chunk>>>,
) -> Result<(), StreamError> {
    let stopped = || StreamError::Internal("the hashing thread stopped".into());
    let mut at = 0u64;
    for piece in pieces {
        let mut done = 0u64;
        while done < piece.len() {
            let n = usize::try_from(piece.len().saturating_sub(done))
                .unwrap_or(usize::MAX)
                .min(chunk);
            let mut buf = pool.recv().map_err(|_| stopped())?;
            let dst_buf = buf
                .get_mut(..n)
                .ok_or_else(|| StreamError::Internal("chunk buffer too small".into()))?;
            match piece {
                Piece::Input { offset, .. } => {
                    let from = offset.saturating_add(done);
                    src.read_exact_at(dst_buf, from)
                        .map_err(|error| StreamError::Read {
                            offset: from.saturating_add(
                                if error.kind() == io::ErrorKind::UnexpectedEof {
                                    n as u64
                                } else {
                                    0
                                },
                            ),
                            error,
                        })?;
                }
                Piece::Bytes(b) => {
                    let from = usize::try_from(done).unwrap_or(usize::MAX);
                    let part = from
                        .checked_add(n)
                        .and_then(|to| b.get(from..to))
                        .ok_or_else(|| StreamError::Internal("piece out of range".into()))?;
                    dst_buf.copy_from_slice(part);
                }
            }
            let c = Arc::new(Chunk {
                at,
                buf,
                len: n,
                back: back.clone(),
            });
            whole.send(Arc::clone(&c)).map_err(|_| stopped())?;
            if let Some(r) = ranges {
                r.send(Arc::clone(&c)).map_err(|_| stopped())?;
            }
            dst.write_all(c.bytes()).map_err(StreamError::Write)?;
            at = at.saturating_add(n as u64);
            done = done.saturating_add(n as u64);
        }
    }
    Ok(())
}

/// Signs `data` in memory with the same plan, pass and finish as `bingate sign elf` (`module`:
/// the appended module format, else the section format): the signed file and how many times its
/// tail was laid out again ([`crate::elfsig::Finished::replans`]). For tests and callers that
/// already hold the file; the command streams from the file instead.
pub fn sign_in_memory(
    data: &[u8],
    module: bool,
    opts: &crate::elfsig::SignOptions<'_>,
) -> Result<(Vec<u8>, u32), String> {
    let plan = crate::elfsig::Plan::new(data, module, opts).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    let hashed = copy_and_hash(
        data,
        plan.pieces(),
        &mut out,
        opts.digest,
        plan.ranges(),
        CHUNK,
    )
    .map_err(|e| e.to_string())?;
    let finished = plan.finish(hashed, opts).map_err(|e| e.to_string())?;
    out.extend_from_slice(&finished.tail);
    Ok((out, finished.replans))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(alg: DigestAlg, b: &[u8]) -> Vec<u8> {
        crate::hash::digest(alg, b).unwrap()
    }

    /// A deterministic, non-repeating byte pattern.
    fn pattern(len: usize) -> Vec<u8> {
        let mut x = 0x2545_f491_4f6c_dd1du64;
        (0..len)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn streaming_hashes_and_writes_exactly_the_output_across_chunk_boundaries() {
        let input = pattern(100_003);
        let header = b"HEADER-REPLACED".to_vec();
        let pieces = vec![
            Piece::Bytes(header.clone()),
            Piece::Input {
                offset: header.len() as u64,
                len: 90_000 - header.len() as u64,
            },
            // A stretch copied from elsewhere in the input (as the name table copy is).
            Piece::Input {
                offset: 40_001,
                len: 7_777,
            },
            Piece::Bytes(b".bingate.sig\0".to_vec()),
            Piece::Input { offset: 0, len: 0 },
        ];
        let mut expected = header.clone();
        expected.extend_from_slice(&input[header.len()..90_000]);
        expected.extend_from_slice(&input[40_001..40_001 + 7_777]);
        expected.extend_from_slice(b".bingate.sig\0");
        let total = expected.len() as u64;
        // Ranges that start and end inside chunks, straddle one or several boundaries, cover the
        // replaced header, repeat, nest, and end exactly at the end of the stream.
        let ranges = vec![
            (0, 20),
            (5, 4096),
            (4095, 2),
            (4000, 30_000),
            (4096, 4096),
            (10_000, 1),
            (10_000, 1),
            (0, total),
            (89_990, 20),
            (total - 13, 13),
            (50_000, 40_000),
        ];
        for alg in [DigestAlg::Sha256, DigestAlg::Sha384, DigestAlg::Sha512] {
            for chunk in [1, 7, 4096, 65_536, CHUNK] {
                let mut out = Vec::new();
                let h = copy_and_hash(&input[..], &pieces, &mut out, alg, &ranges, chunk).unwrap();
                assert_eq!(out, expected, "chunk {chunk}: the output is the pieces");
                assert_eq!(h.state.finalize().to_vec(), digest(alg, &expected));
                assert_eq!(h.ranges.len(), ranges.len() - 1, "repeated ranges once");
                for &(off, len) in &ranges {
                    let want = digest(alg, &expected[off as usize..(off + len) as usize]);
                    assert_eq!(
                        h.ranges[&(off, len)],
                        want,
                        "chunk {chunk}: range {off}+{len}"
                    );
                }
            }
        }
    }

    #[test]
    fn streaming_from_a_file_equals_streaming_from_memory() {
        let input = pattern(3 * CHUNK + 12_345);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("input");
        std::fs::write(&path, &input).unwrap();
        let file = std::fs::File::open(&path).unwrap();
        let pieces = vec![
            Piece::Bytes(vec![7; 64]),
            Piece::Input {
                offset: 64,
                len: input.len() as u64 - 64,
            },
        ];
        let ranges = vec![
            (CHUNK as u64 - 10, CHUNK as u64 + 20),
            (64, 2 * CHUNK as u64),
        ];
        let mut from_file = Vec::new();
        let a = copy_and_hash(
            &file,
            &pieces,
            &mut from_file,
            DigestAlg::Sha256,
            &ranges,
            CHUNK,
        )
        .unwrap();
        let mut from_memory = Vec::new();
        let b = copy_and_hash(
            &input[..],
            &pieces,
            &mut from_memory,
            DigestAlg::Sha256,
            &ranges,
            CHUNK,
        )
        .unwrap();
        assert_eq!(from_file, from_memory);
        assert_eq!(a.state.finalize(), b.state.finalize());
        assert_eq!(a.ranges, b.ranges);
        let mut expected = vec![7; 64];
        expected.extend_from_slice(&input[64..]);
        assert_eq!(from_file, expected);
    }

    #[test]
    fn an_input_shorter_than_planned_is_an_error_naming_where_it_ends() {
        let input = pattern(10_000);
        let pieces = vec![Piece::Input {
            offset: 0,
            len: 20_000,
        }];
        let mut out = Vec::new();
        let e =
            copy_and_hash(&input[..], &pieces, &mut out, DigestAlg::Sha256, &[], 4096).unwrap_err();
        assert!(matches!(e, StreamError::Read { .. }), "{e:?}");
        assert!(e.to_string().contains("shrank"), "{e}");
        assert_eq!(out.len(), 8192, "nothing written past the last full chunk");
    }

    #[test]
    fn a_failing_destination_stops_the_pass() {
        /// Accepts `room` bytes, then fails like a full disk.
        struct Full {
            room: usize,
        }
        impl Write for Full {
            fn write(&mut self, b: &[u8]) -> io::Result<usize> {
                if self.room == 0 {
                    return Err(io::Error::from_raw_os_error(28));
                }
                let n = b.len().min(self.room);
                self.room -= n;
                Ok(n)
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let input = pattern(50 * 4096);
        let pieces = vec![Piece::Input {
            offset: 0,
            len: input.len() as u64,
        }];
        let e = copy_and_hash(
            &input[..],
            &pieces,
            &mut Full { room: 10_000 },
            DigestAlg::Sha256,
            &[(0, 100), (4000, 100_000)],
            4096,
        )
        .unwrap_err();
        assert!(matches!(e, StreamError::Write(_)), "{e:?}");
    }

    #[test]
    fn a_range_outside_the_stream_is_refused() {
        let input = pattern(1000);
        let pieces = vec![Piece::Input {
            offset: 0,
            len: 1000,
        }];
        let e = copy_and_hash(
            &input[..],
            &pieces,
            &mut Vec::new(),
            DigestAlg::Sha256,
            &[(900, 200)],
            256,
        )
        .unwrap_err();
        assert!(e.to_string().contains("not inside the 1000 bytes"), "{e}");
    }
}
