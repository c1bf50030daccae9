//! Temporary files that must not outlive an interrupted run: the signed file being written
//! (`.bingate-sign-*`) and the report being written to `--output` (`.bingate-report-*`). Each is
//! registered while it exists; on SIGINT, SIGTERM or SIGHUP the handler removes every registered
//! file and exits with 130. SIGKILL cannot be caught: it can leave one behind, named as above.

use std::path::{Path, PathBuf};
use std::sync::{Mutex, Once};

static PENDING: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

/// Installs the handler (once per process; later calls do nothing). A failure to install it is
/// not an error: the files are still removed on every other exit path.
pub fn install() {
    INSTALL.call_once(|| {
        let _ = ctrlc::set_handler(|| {
            remove_all();
            std::process::exit(130);
        });
    });
}

fn remove_all() {
    let pending = match PENDING.lock() {
        Ok(p) => p.clone(),
        Err(poisoned) => poisoned.into_inner().clone(),
    };
    for p in pending {
        let _ = std::fs::remove_file(p);
    }
}

/// Registers a temporary file to remove if the run is interrupted.
pub fn register(path: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.push(path.to_path_buf());
    }
}

/// The file was renamed into place or removed: no longer ours to clean up.
pub fn unregister(path: &Path) {
    if let Ok(mut p) = PENDING.lock() {
        p.retain(|q| q != path);
    }
}

/// A registration that ends when it is dropped (after a rename or a removal).
pub struct Registered(PathBuf);

impl Registered {
    pub fn new(path: &Path) -> Registered {
        register(path);
        Registered(path.to_path_buf())
    }
}

impl Drop for Registered {
    fn drop(&mut self) {
        unregister(&self.0);
    }
}
