//! Output files written atomically (a temporary file beside the destination, renamed over it at
//! the end), with every error naming the destination the user gave, never the temporary file.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The operating-system error inside `e`, without the temporary file's path that `tempfile`
/// appends ("… at path \"/dir/.bingate-report-x1y2\"").
fn bare(e: &io::Error) -> String {
    // tempfile keeps the OS error only inside its message (its PathError does not expose it).
    let text = e.to_string();
    match text.rfind(" at path \"") {
        Some(at) => text.get(..at).unwrap_or(&text).to_owned(),
        None => text,
    }
}

/// `dest: message`, for an error met while writing `dest`.
pub fn named(dest: &Path, e: &io::Error) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {}", dest.display(), bare(e)))
}

/// The directory a destination lives in (`.` for a bare file name).
pub fn parent_dir(dest: &Path) -> PathBuf {
    match dest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// A temporary file named `prefix*` in `dest`'s directory. `mode` (Unix) is the mode before the
/// umask, as `open(2)` takes it. The error names the directory, not the temporary file; the
/// caller puts `dest` in front (see [`named`]).
pub fn temporary_beside(
    dest: &Path,
    prefix: &str,
    mode: Option<u32>,
) -> io::Result<tempfile::NamedTempFile> {
    let dir = parent_dir(dest);
    let mut b = tempfile::Builder::new();
    b.prefix(prefix);
    #[cfg(unix)]
    if let Some(m) = mode {
        use std::os::unix::fs::PermissionsExt;
        b.permissions(fs::Permissions::from_mode(m));
    }
    #[cfg(not(unix))]
    let _ = mode;
    b.tempfile_in(&dir).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot create a file in {}: {}", dir.display(), bare(&e)),
        )
    })
}

/// A writer whose errors name `dest` (a full disk says which output it could not finish).
pub struct NamedWriter<W> {
    inner: W,
    dest: PathBuf,
}

impl<W: Write> NamedWriter<W> {
    pub fn new(inner: W, dest: &Path) -> Self {
        NamedWriter {
            inner,
            dest: dest.to_path_buf(),
        }
    }
}

impl<W: Write> Write for NamedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf).map_err(|e| named(&self.dest, &e))
    }
    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush().map_err(|e| named(&self.dest, &e))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_destination_not_the_temporary_file() {
        let dest = Path::new("/nonexistent-dir-for-bingate/report.json");
        let e = temporary_beside(dest, ".bingate-report-", None).unwrap_err();
        let e = named(dest, &e).to_string();
        assert!(
            e.starts_with(
                "/nonexistent-dir-for-bingate/report.json: cannot create a file in /nonexistent-dir-for-bingate: "
            ),
            "{e}"
        );
        assert!(!e.contains(".bingate-report-"), "{e}");
    }

    #[test]
    fn write_errors_name_the_destination() {
        struct Full;
        impl Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::from_raw_os_error(28))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut w = NamedWriter::new(Full, Path::new("out/report.sarif"));
        let e = w.write_all(b"x").unwrap_err().to_string();
        assert!(
            e.starts_with("out/report.sarif: No space left on device"),
            "{e}"
        );
    }
}
