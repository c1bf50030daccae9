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

/// What kind of error a report entry carries: [`ErrorKind`]'s variant without its values, plus
/// the two ways a file can fail to be read that are not a finding about its bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum FileErrorKind {
    Truncated,
    BadValue,
    NotABinary,
    Budget,
    Parser,
    ParserPanic,
    /// The file (or a directory on the way to it) could not be read.
    Io,
    /// Named on the command line but a FIFO, socket or device: never opened.
    NotRegular,
}

impl FileErrorKind {
    /// A stable kebab-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            FileErrorKind::Truncated => "truncated",
            FileErrorKind::BadValue => "bad-value",
            FileErrorKind::NotABinary => "not-a-binary",
            FileErrorKind::Budget => "budget",
            FileErrorKind::Parser => "parser",
            FileErrorKind::ParserPanic => "parser-panic",
            FileErrorKind::Io => "io",
            FileErrorKind::NotRegular => "not-regular",
        }
    }
}

impl fmt::Display for FileErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl ErrorKind {
    /// This kind without its values.
    pub fn file_kind(&self) -> FileErrorKind {
        match self {
            ErrorKind::Truncated { .. } => FileErrorKind::Truncated,
            ErrorKind::BadValue { .. } => FileErrorKind::BadValue,
            ErrorKind::NotABinary { .. } => FileErrorKind::NotABinary,
            ErrorKind::Budget { .. } => FileErrorKind::Budget,
            ErrorKind::Parser { .. } => FileErrorKind::Parser,
            ErrorKind::ParserPanic { .. } => FileErrorKind::ParserPanic,
            ErrorKind::Io { .. } => FileErrorKind::Io,
        }
    }
}

/// Why a report entry has no facts: the kind and file offset of the [`Error`] (or I/O error)
/// that stopped it, and the message the report shows. Serialized as the message alone, so the
/// JSON report's `error` stays a string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    kind: FileErrorKind,
    offset: Option<u64>,
    message: String,
}

impl FileError {
    pub fn new(kind: FileErrorKind, offset: Option<u64>, message: impl Into<String>) -> Self {
        FileError {
            kind,
            offset,
            message: message.into(),
        }
    }

    /// An I/O error (no offset); `message` as the report shows it.
    pub fn io(message: impl Into<String>) -> Self {
        FileError::new(FileErrorKind::Io, None, message)
    }

    /// A FIFO, socket or device named on the command line.
    pub fn not_regular() -> Self {
        FileError::new(FileErrorKind::NotRegular, None, "not a regular file")
    }

    pub fn kind(&self) -> FileErrorKind {
        self.kind
    }

    /// The file offset at which the error was found, when known.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// The text the report shows.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl From<&Error> for FileError {
    fn from(e: &Error) -> Self {
        FileError::new(e.kind.file_kind(), e.offset, e.to_string())
    }
}

impl From<Error> for FileError {
    fn from(e: Error) -> Self {
        FileError::from(&e)
    }
}

impl From<&std::io::Error> for FileError {
    fn from(e: &std::io::Error) -> Self {
        FileError::from(Error::io(e))
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FileError {}

impl serde::Serialize for FileError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(&self.message)
    }
}
