//! Opening the files a user names, or that sit beside them: regular files only, never blocking
//! on a FIFO, never reading a device, and with a size limit for small inputs (policies, waivers,
//! keys, certificates, sidecars).
//!
//! The type is checked twice: with `metadata` before opening (a FIFO is never opened: opening one
//! for reading blocks until a writer appears), and with `fstat` on the descriptor after opening
//! with `O_NONBLOCK`, which closes the race of a path swapped for a FIFO or a device in between
//! (`O_NONBLOCK` makes that open return at once instead of blocking; on a regular file it changes
//! nothing).

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::Path;

/// What a path that is not a regular file is, in words.
fn kind(ft: fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "a device";
        }
    }
    if ft.is_dir() {
        "a directory"
    } else {
        "not a regular file"
    }
}

fn not_regular(path: &Path, ft: fs::FileType) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{}: {}, not a regular file: not opened",
            path.display(),
            kind(ft)
        ),
    )
}

/// Opens `path` (following symlinks) for reading if, and only if, it is a regular file.
pub fn open_regular(path: &Path) -> io::Result<File> {
    let meta = fs::metadata(path)?;
    if !meta.is_file() {
        return Err(not_regular(path, meta.file_type()));
    }
    let mut opts = fs::OpenOptions::new();
    opts.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.custom_flags(libc::O_NONBLOCK);
    }
    let file = opts.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(path, meta.file_type()));
    }
    Ok(file)
}

/// Reads a regular file of at most `max` bytes; a larger one is an error naming the limit
/// (`/dev/zero` given as a policy fails at once: it is not a regular file).
pub fn read_limited(path: &Path, max: u64) -> io::Result<Vec<u8>> {
    let file = open_regular(path)?;
    let mut bytes = Vec::new();
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: larger than {max} bytes", path.display()),
        ));
    }
    Ok(bytes)
}

/// [`read_limited`] as UTF-8 text.
pub fn read_text_limited(path: &Path, max: u64) -> io::Result<String> {
    String::from_utf8(read_limited(path, max)?).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not UTF-8 text", path.display()),
        )
    })
}

/// Takes a consistent copy of a regular file already open as `file`, whose `fstat` before any
/// read was `before`: every byte, read with positioned reads, and a second `fstat` afterwards.
///
/// A file that shrinks while it is read is an error naming the offset where it ended; one whose
/// size, modification or change time moved while it was read is an error too: a report is never
/// made from a mix of old and new bytes, and no empty report stands in for a file.
///
/// Used for small files, for sparse files, and where [`crate::mapped`] cannot guard a map
/// (src/scan/check.rs chooses).
///
/// Memory: the buffer is allocated zeroed (`vec![0; n]`, which the allocator takes from fresh
/// zero pages for large sizes) and only the file's data extents are read into it
/// (`SEEK_DATA`/`SEEK_HOLE`), so the holes of a sparse file are never touched and cost no
/// resident memory: a 4 GiB sparse file costs the size of its data, not 4 GiB.
pub fn read_snapshot(file: &File, before: &fs::Metadata) -> io::Result<Vec<u8>> {
    let size = before.len();
    let len = usize::try_from(size).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{size} bytes do not fit in this machine's address space"),
        )
    })?;
    let mut bytes = vec![0u8; len];
    let mut next = data_extent(file, 0, size)?;
    while let Some((start, end)) = next {
        read_extent(file, &mut bytes, start, end, size)?;
        next = data_extent(file, end, size)?;
    }
    unchanged(before, &file.metadata()?)?;
    Ok(bytes)
}

/// Whether a file has holes (a sparse file): its first data extent is not the whole file.
pub fn is_sparse(file: &File, size: u64) -> io::Result<bool> {
    Ok(size > 0 && data_extent(file, 0, size)? != Some((0, size)))
}

/// An error unless `after` (a second `fstat`) shows the same size, modification and change time
/// as `before`.
pub fn unchanged(before: &fs::Metadata, after: &fs::Metadata) -> io::Result<()> {
    if after.len() != before.len() {
        return Err(io::Error::other(format!(
            "file changed size while being read ({} bytes before, {} after)",
            before.len(),
            after.len()
        )));
    }
    if !same_times(before, after) {
        return Err(io::Error::other(
            "file was modified while being read (its modification time moved)",
        ));
    }
    Ok(())
}

fn read_extent(file: &File, buf: &mut [u8], start: u64, end: u64, size: u64) -> io::Result<()> {
    let shrank = |at: u64| {
        io::Error::new(
            io::ErrorKind::UnexpectedEof,
            format!("file shrank while being read: {size} bytes when opened, ends at offset {at}"),
        )
    };
    let mut at = start;
    while at < end {
        let (Ok(lo), Ok(hi)) = (usize::try_from(at), usize::try_from(end)) else {
            return Err(shrank(at));
        };
        let Some(dst) = buf.get_mut(lo..hi) else {
            return Err(shrank(at));
        };
        match read_at(file, dst, at) {
            Ok(0) => return Err(shrank(at)),
            Ok(n) => at = at.saturating_add(n as u64),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Fills `dst` from `file` at offset `at` (a positioned read: the file position is untouched).
pub fn read_exact_at(file: &File, dst: &mut [u8], at: u64) -> io::Result<()> {
    let mut done = 0usize;
    while let Some(rest) = dst.get_mut(done..).filter(|r| !r.is_empty()) {
        match read_at(file, rest, at.saturating_add(done as u64)) {
            Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
            Ok(n) => done = done.saturating_add(n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(unix)]
fn read_at(file: &File, dst: &mut [u8], at: u64) -> io::Result<usize> {
    use std::os::unix::fs::FileExt;
    file.read_at(dst, at)
}

#[cfg(not(unix))]
fn read_at(file: &File, dst: &mut [u8], at: u64) -> io::Result<usize> {
    use std::io::{Seek, SeekFrom};
    let mut f = file;
    f.seek(SeekFrom::Start(at))?;
    f.read(dst)
}

/// The first range at or after `off` of `[0, size)` that may hold data, or `None` if only holes
/// remain. On Linux the holes of a sparse file are skipped with `SEEK_DATA`/`SEEK_HOLE` (two
/// system calls per extent: linear in the file); where the file system cannot say, everything
/// from `off` is one extent.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn data_extent(file: &File, off: u64, size: u64) -> io::Result<Option<(u64, u64)>> {
    use rustix::fs::{SeekFrom, seek};
    if off >= size {
        return Ok(None);
    }
    let start = match seek(file, SeekFrom::Data(off)) {
        Ok(s) => s,
        // No data at or after `off`: the rest is a hole.
        Err(rustix::io::Errno::NXIO) => return Ok(None),
        Err(_) if off == 0 => return Ok(Some((0, size))),
        Err(e) => return Err(e.into()),
    };
    if start >= size {
        return Ok(None);
    }
    let end = match seek(file, SeekFrom::Hole(start)) {
        // A file system that reports no progress: read the rest as data.
        Ok(h) if h <= start => size,
        Ok(h) => h.min(size),
        Err(_) => size,
    };
    Ok(Some((start, end)))
}

#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn data_extent(_file: &File, off: u64, size: u64) -> io::Result<Option<(u64, u64)>> {
    Ok((off < size).then_some((off, size)))
}

fn same_times(a: &fs::Metadata, b: &fs::Metadata) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        (a.mtime(), a.mtime_nsec(), a.ctime(), a.ctime_nsec())
            == (b.mtime(), b.mtime_nsec(), b.ctime(), b.ctime_nsec())
    }
    #[cfg(not(unix))]
    {
        a.modified().ok() == b.modified().ok()
    }
}

#[cfg(all(test, unix))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn mkfifo(path: &Path) {
        let ok = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .unwrap();
        assert!(ok.success());
    }

    #[test]
    fn fifos_devices_and_directories_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("fifo");
        mkfifo(&fifo);
        let link = dir.path().join("link");
        std::os::unix::fs::symlink(&fifo, &link).unwrap();
        for p in [&fifo, &link] {
            let e = open_regular(p).unwrap_err().to_string();
            assert!(e.contains("a FIFO, not a regular file"), "{e}");
        }
        let e = read_limited(Path::new("/dev/zero"), 1 << 20)
            .unwrap_err()
            .to_string();
        assert!(e.contains("a device"), "{e}");
        assert!(read_limited(dir.path(), 10).is_err());
    }

    #[test]
    fn size_limit_is_enforced_and_named() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, b"0123456789").unwrap();
        assert_eq!(read_limited(&f, 10).unwrap().len(), 10);
        let e = read_limited(&f, 9).unwrap_err().to_string();
        assert!(e.contains("larger than 9 bytes"), "{e}");
        std::fs::write(&f, [0xff, 0xfe]).unwrap();
        assert!(read_text_limited(&f, 10).is_err());
    }

    #[test]
    fn snapshot_reads_every_byte_and_skips_holes() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sparse");
        let file = std::fs::File::create(&f).unwrap();
        use std::os::unix::fs::FileExt;
        file.write_all_at(b"head", 0).unwrap();
        file.write_all_at(b"middle", 3 << 20).unwrap();
        file.set_len(8 << 20).unwrap();
        file.write_all_at(b"tail", (8 << 20) - 4).unwrap();
        let file = open_regular(&f).unwrap();
        let bytes = read_snapshot(&file, &file.metadata().unwrap()).unwrap();
        assert_eq!(bytes.len(), 8 << 20);
        assert_eq!(&bytes[..4], b"head");
        assert_eq!(&bytes[3 << 20..(3 << 20) + 6], b"middle");
        assert_eq!(&bytes[(8 << 20) - 4..], b"tail");
        let zeros = bytes.iter().filter(|&&b| b == 0).count();
        assert_eq!(zeros, (8 << 20) - 14);
    }

    #[test]
    fn a_file_that_shrinks_or_changes_while_read_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("f");
        std::fs::write(&f, vec![7u8; 1 << 20]).unwrap();
        // Shrunk between the fstat that sized the buffer and the reads.
        let file = open_regular(&f).unwrap();
        let before = file.metadata().unwrap();
        std::fs::OpenOptions::new()
            .write(true)
            .open(&f)
            .unwrap()
            .set_len(1000)
            .unwrap();
        // (A short read names the offset; where SEEK_DATA already sees the new end, the second
        // fstat names the sizes.)
        let e = read_snapshot(&file, &before).unwrap_err().to_string();
        assert!(
            e.contains("shrank while being read: 1048576 bytes when opened, ends at offset 1000")
                || e.contains("changed size while being read (1048576 bytes before, 1000 after)"),
            "{e}"
        );
        // Same size, new bytes: the times moved.
        let file = open_regular(&f).unwrap();
        let before = file.metadata().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        std::fs::write(&f, vec![8u8; 1000]).unwrap();
        let e = read_snapshot(&file, &before).unwrap_err().to_string();
        assert!(e.contains("modified while being read"), "{e}");
        // Grown: the size moved.
        let file = open_regular(&f).unwrap();
        let before = file.metadata().unwrap();
        std::fs::write(&f, vec![8u8; 2000]).unwrap();
        let e = read_snapshot(&file, &before).unwrap_err().to_string();
        assert!(e.contains("changed size"), "{e}");
    }

    fn resident_kib() -> u64 {
        let status = std::fs::read_to_string("/proc/self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("VmRSS:")).unwrap();
        line.split_whitespace().nth(1).unwrap().parse().unwrap()
    }

    #[test]
    #[cfg(target_os = "linux")]
    fn the_holes_of_a_sparse_file_cost_no_resident_memory() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("sparse");
        let file = std::fs::File::create(&f).unwrap();
        use std::os::unix::fs::FileExt;
        file.write_all_at(b"\x7fELF", 0).unwrap();
        file.set_len(2 << 30).unwrap();
        let file = open_regular(&f).unwrap();
        let before = resident_kib();
        let bytes = read_snapshot(&file, &file.metadata().unwrap()).unwrap();
        let grown = resident_kib().saturating_sub(before);
        assert_eq!(bytes.len(), 2 << 30);
        assert_eq!(&bytes[..4], b"\x7fELF");
        // 2 GiB of holes: well under 1/8 of it resident (tests running beside this one allocate
        // a little too).
        assert!(grown < 256 * 1024, "resident memory grew by {grown} KiB");
    }
}
