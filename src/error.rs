//! Typed errors for everything that reads a file.
//!
//! An [`Error`] is a finding about one file, never a crash of the run: it names what could not be
//! read, where (a file offset when one is known) and the values involved, so a user can look at the
//! bytes themselves.

use std::fmt;

/// What went wrong while reading a file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A structure extends past the end of the file (or of its containing structure).
    Truncated {
        what: &'static str,
        needed: u64,
        available: u64,
    },
    /// A header number that, combined with others, overflows or lies.
    BadValue { what: &'static str, value: u64 },
    /// The file does not start with the magic of a format we read.
    NotABinary { magic: [u8; 4], len: usize },
    /// A budget protecting against hostile input was exceeded.
    Budget {
        what: &'static str,
        count: u64,
        limit: u64,
    },
    /// goblin rejected a structure.
    Parser { what: &'static str, message: String },
    /// goblin panicked on this input; the panic was contained.
    ParserPanic { what: &'static str },
    /// The file could not be read.
    Io { message: String },
}

/// An error with the file offset at which it was found, when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub kind: ErrorKind,
    pub offset: Option<u64>,
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn new(kind: ErrorKind, offset: Option<u64>) -> Self {
        Error { kind, offset }
    }

    pub fn at(kind: ErrorKind, offset: u64) -> Self {
        Error {
            kind,
            offset: Some(offset),
        }
    }

    pub fn truncated(what: &'static str, offset: u64, needed: u64, available: u64) -> Self {
        Error::at(
            ErrorKind::Truncated {
                what,
                needed,
                available,
            },
            offset,
        )
    }

    pub fn bad_value(what: &'static str, value: u64, offset: Option<u64>) -> Self {
        Error::new(ErrorKind::BadValue { what, value }, offset)
    }

    pub fn budget(what: &'static str, count: u64, limit: u64, offset: Option<u64>) -> Self {
        Error::new(ErrorKind::Budget { what, count, limit }, offset)
    }

    pub fn parser(what: &'static str, err: impl fmt::Display, offset: Option<u64>) -> Self {
        Error::new(
            ErrorKind::Parser {
                what,
                message: err.to_string(),
            },
            offset,
        )
    }

    pub fn io(err: &std::io::Error) -> Self {
        Error::new(
            ErrorKind::Io {
                message: err.to_string(),
            },
            None,
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            ErrorKind::Truncated {
                what,
                needed,
                available,
            } => write!(
                f,
                "truncated {what}: needs {needed} bytes, {available} available"
            )?,
            ErrorKind::BadValue { what, value } => write!(f, "invalid {what}: {value:#x}")?,
            ErrorKind::NotABinary { magic, len } => {
                let shown = magic.get(..(*len).min(4)).unwrap_or(magic);
                write!(f, "not a PE or ELF file (starts with")?;
                if shown.is_empty() {
                    write!(f, " nothing: empty file")?;
                }
                for b in shown {
                    write!(f, " {b:02x}")?;
                }
                write!(f, ")")?;
            }
            ErrorKind::Budget { what, count, limit } => {
                write!(f, "budget exceeded: {count} {what} (limit {limit})")?
            }
            ErrorKind::Parser { what, message } => write!(f, "malformed {what}: {message}")?,
            ErrorKind::ParserPanic { what } => write!(
                f,
                "malformed {what}: the parser rejected it (contained panic)"
            )?,
            ErrorKind::Io { message } => write!(f, "{message}")?,
        }
        if let Some(off) = self.offset {
            write!(f, " at offset {off:#x}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Error {}
