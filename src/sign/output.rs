//! Writing a signed file atomically: a temporary file in the destination's directory, renamed
//! over the destination only when everything has been written. A failure at any point leaves
//! the destination as it was and no temporary file behind.

use std::fs;
use std::io::{self, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use crate::elfsig::Signed;

/// A temporary copy of the input, being turned into the signed file.
pub struct Pending {
    /// Unregisters the temporary file from the signal handler when the output is done with,
    /// renamed into place or removed.
    _registered: crate::cleanup::Registered,
    tmp: tempfile::NamedTempFile,
    dest: PathBuf,
}

/// Refuses destinations that are not regular files (a device, a directory): renaming over them
/// would replace the node itself.
fn check_dest(dest: &Path) -> io::Result<()> {
    match fs::symlink_metadata(dest) {
        Ok(m) if !m.is_file() => Err(io::Error::other(format!(
            "{}: the output must be a regular file",
            dest.display()
        ))),
        _ => Ok(()),
    }
}

/// Starts the output: a temporary file next to `dest` holding `data`, the bytes of the input that
/// are being hashed and signed (written while the caller signs; the signed file keeps a prefix of
/// them). Writing from memory, not copying the input file again, means the output is exactly
/// what was signed even if the input changes meanwhile.
pub fn begin(dest: &Path, data: &[u8]) -> io::Result<Pending> {
    check_dest(dest)?;
    let mut tmp = crate::outfile::temporary_beside(dest, ".bingate-sign-", None)?;
    let registered = crate::cleanup::Registered::new(tmp.path());
    tmp.as_file_mut().write_all(data)?;
    Ok(Pending {
        _registered: registered,
        tmp,
        dest: dest.to_path_buf(),
    })
}

/// The input's permissions without setuid and setgid: signing must never create a privileged
/// file (a root signing a user's setuid file would otherwise hand out a root-owned setuid copy).
/// Every other bit is kept.
pub fn without_privileges(p: fs::Permissions) -> fs::Permissions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::Permissions::from_mode(p.mode() & !0o6000)
    }
    #[cfg(not(unix))]
    {
        p
    }
}

impl Pending {
    /// Makes the copy the signed file (prefix, header patch, tail), gives it `permissions`,
    /// and renames it over the destination.
    pub fn finish(
        mut self,
        signed: &Signed,
        permissions: Option<fs::Permissions>,
    ) -> io::Result<()> {
        let f = self.tmp.as_file_mut();
        f.set_len(signed.keep)?;
        if !signed.header.is_empty() {
            f.seek(SeekFrom::Start(0))?;
            f.write_all(&signed.header)?;
        }
        f.seek(SeekFrom::Start(signed.keep))?;
        f.write_all(&signed.tail)?;
        f.flush()?;
        if let Some(p) = permissions {
            f.set_permissions(p)?;
        }
        self.tmp.persist(&self.dest).map_err(|e| e.error)?;
        Ok(())
    }
}
