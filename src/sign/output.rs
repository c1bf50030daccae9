//! Writing a signed file atomically: a temporary file in the destination's directory, renamed
//! over the destination only when everything has been written. A failure at any point leaves
//! the destination as it was and no temporary file behind.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The signed file being written: a temporary file beside the destination.
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

/// Starts the output: an empty temporary file next to `dest`, removed if the run fails or is
/// interrupted. The caller streams the signed file into it ([`Pending::file`]) and then
/// [`Pending::finish`]es it.
pub fn begin(dest: &Path) -> io::Result<Pending> {
    check_dest(dest)?;
    let tmp = crate::outfile::temporary_beside(dest, ".bingate-sign-", None)?;
    let registered = crate::cleanup::Registered::new(tmp.path());
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
    /// The temporary file, positioned where the next bytes go.
    pub fn file(&mut self) -> &mut fs::File {
        self.tmp.as_file_mut()
    }

    /// Appends `tail` to what was streamed, gives the file `permissions`, and renames it over
    /// the destination.
    pub fn finish(mut self, tail: &[u8], permissions: Option<fs::Permissions>) -> io::Result<()> {
        let f = self.tmp.as_file_mut();
        f.write_all(tail)?;
        f.flush()?;
        if let Some(p) = permissions {
            f.set_permissions(p)?;
        }
        self.tmp.persist(&self.dest).map_err(|e| e.error)?;
        Ok(())
    }
}
