//! Signed checkpoints: a small text note in the manner of C2SP's `tlog-checkpoint` (the log's
//! origin line, the size line, the base64 head hash line, and a `time` line), signed with the
//! log key over SHA-256 of the note's bytes. A checkpoint pins the chain's head at a size: a
//! chain edited and re-hashed afterwards, or cut short, no longer matches it.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use der::Encode;

use super::AuditError;
use super::store::{Head, NewCheckpoint};
use crate::cms::Signer;
use crate::hash::DigestAlg;

/// The largest note accepted when reading a checkpoint back: four short lines; an origin is
/// a host name and a few words.
pub const MAX_NOTE_LEN: usize = 4096;

/// A checkpoint note's contents.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CheckpointNote {
    pub origin: String,
    pub size: u64,
    pub hash: [u8; 32],
    pub time: String,
}

impl CheckpointNote {
    /// The note's text: `origin\nsize\nbase64(hash)\ntime T\n`.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\ntime {}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.hash),
            self.time
        )
    }
}

/// Reads a note written by [`CheckpointNote::text`]; the error says which line is wrong.
pub fn parse_note(text: &str) -> Result<CheckpointNote, String> {
    if text.len() > MAX_NOTE_LEN {
        return Err(format!(
            "note of {} bytes, more than {MAX_NOTE_LEN}",
            text.len()
        ));
    }
    let body = text
        .strip_suffix('\n')
        .ok_or("the note does not end with a newline")?;
    let lines: Vec<&str> = body.split('\n').collect();
    let [origin, size, hash, time] = lines.as_slice() else {
        return Err(format!("{} lines, a checkpoint has 4", lines.len()));
    };
    let size = size
        .parse::<u64>()
        .map_err(|_| format!("size line {size:?} is not a number"))?;
    let hash = STANDARD
        .decode(hash)
        .ok()
        .and_then(|h| <[u8; 32]>::try_from(h).ok())
        .ok_or_else(|| format!("hash line {hash:?} is not 32 bytes of base64"))?;
    let time = time
        .strip_prefix("time ")
        .ok_or_else(|| format!("time line {time:?} does not start with \"time \""))?;
    Ok(CheckpointNote {
        origin: (*origin).to_owned(),
        size,
        hash,
        time: time.to_owned(),
    })
}

/// The checkpoint of `head` signed by `signer`.
pub fn make(
    signer: &dyn Signer,
    origin: &str,
    head: Head,
    store: &str,
) -> Result<NewCheckpoint, AuditError> {
    let err = |message: String| AuditError::Checkpoint {
        store: store.to_owned(),
        size: head.size,
        message,
    };
    let time = crate::time::show(now());
    let note = CheckpointNote {
        origin: origin.to_owned(),
        size: head.size,
        hash: head.hash,
        time: time.clone(),
    }
    .text();
    let digest = crate::hash::sha256(note.as_bytes());
    let signature = signer
        .sign_digest(DigestAlg::Sha256, &digest)
        .map_err(|e| err(format!("signing: {e}")))?;
    let spki = signer
        .public_key()
        .to_der()
        .map_err(|e| err(format!("encoding the public key: {e}")))?;
    Ok(NewCheckpoint {
        size: head.size,
        hash: head.hash,
        time,
        note,
        signature,
        spki,
    })
}

/// Now, in Unix seconds (0 if the clock is before 1970).
pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notes_round_trip_and_bad_lines_are_named() {
        let note = CheckpointNote {
            origin: "bingate audit log test".into(),
            size: 42,
            hash: [7; 32],
            time: "2026-12-06T02:00:00Z".into(),
        };
        let text = note.text();
        assert_eq!(
            text,
            "bingate audit log test\n42\nBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\ntime 2026-12-06T02:00:00Z\n"
        );
        assert_eq!(parse_note(&text), Ok(note));
        let e = parse_note("o\nx\nAA==\ntime t\n").expect_err("bad size");
        assert!(e.contains("size line"), "{e}");
        let e = parse_note("o\n1\nAA==\ntime t\n").expect_err("bad hash");
        assert!(e.contains("hash line"), "{e}");
        assert!(parse_note("o\n1\n").is_err());
    }
}
