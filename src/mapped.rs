//! Mapped files that may shrink underneath: a SIGBUS guard.
//!
//! Why map: `check` with human output reads a file's headers and the few ranges its facts need,
//! not every byte; a map costs only the pages touched, where reading copies the whole file first.
//! Measured on /usr/bin (814 files, 271 MB, 2 cores, alternated runs of `bingate check /usr/bin`):
//! mapped 0.24 s wall and 0.05 s system time, read with `pread` into memory 0.32 s wall and
//! 0.15 s system time (the copy out of the page cache).
//!
//! Why guard: a mapped file that another process truncates raises SIGBUS on the next access past
//! its new end, and SIGBUS kills the whole run. So every live map is registered in a fixed table
//! (address range and a `faulted` flag). A SIGBUS handler, installed once, looks the faulting
//! address up there; inside a registered map it replaces the pages from the faulting one to the
//! end of the map with anonymous zero pages (`mmap` with `MAP_FIXED`), sets the flag and returns,
//! so the interrupted read goes on and sees zeros. The caller asks [`Mapped::faulted`] (and
//! compares `fstat` before and after) once it is done, and reports the file as changed instead of
//! reporting facts read from zeros. A SIGBUS at any other address goes to the handler that was
//! there before (Rust's own guard-page handler, or the default action: the process dies as it
//! would have without this one).
//!
//! Signal safety: the handler only loads and stores atomics and calls `mmap(2)` and
//! `sigaction(2)`, plain system calls on Linux. Only Linux gets the guard; elsewhere
//! [`Mapped::new`] says no and the caller reads the file instead.

#![allow(unsafe_code)]

use std::fs::File;
use std::io;

/// The bytes of a mapped file, with the SIGBUS guard registered for as long as it lives.
pub struct Mapped {
    map: memmap2::Mmap,
    #[cfg(target_os = "linux")]
    slot: usize,
}

impl Mapped {
    /// Maps `file` read-only under the guard. `None` when no guard can be had (not Linux, the
    /// handler could not be installed, or all slots are in use): read the file instead.
    pub fn new(file: &File) -> Option<io::Result<Mapped>> {
        #[cfg(target_os = "linux")]
        {
            if !linux::install() {
                return None;
            }
            // SAFETY: a read-only map; a concurrent truncation no longer kills the process (the
            // guard below zero-fills and flags), and a concurrent rewrite is caught by the
            // caller's second fstat.
            let map = match unsafe { memmap2::Mmap::map(file) } {
                Ok(m) => m,
                Err(e) => return Some(Err(e)),
            };
            let slot = linux::register(map.as_ptr() as usize, map.len())?;
            Some(Ok(Mapped { map, slot }))
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = file;
            None
        }
    }

    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    /// Whether a read past the file's end was caught (it shrank while mapped): the bytes read
    /// are not the file's.
    pub fn faulted(&self) -> bool {
        #[cfg(target_os = "linux")]
        {
            linux::faulted(self.slot)
        }
        #[cfg(not(target_os = "linux"))]
        {
            false
        }
    }
}

impl Drop for Mapped {
    fn drop(&mut self) {
        // The slot is released before the map is unmapped (fields drop after this body), so the
        // handler never matches an address that a later map may reuse.
        #[cfg(target_os = "linux")]
        linux::release(self.slot);
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    /// Maps alive at once: one per file being examined (the number of jobs), with room to spare.
    /// When all are taken, the caller reads instead of mapping.
    const SLOTS: usize = 256;

    struct Slot {
        busy: AtomicBool,
        start: AtomicUsize,
        len: AtomicUsize,
        faulted: AtomicBool,
    }

    static TABLE: [Slot; SLOTS] = [const {
        Slot {
            busy: AtomicBool::new(false),
            start: AtomicUsize::new(0),
            len: AtomicUsize::new(0),
            faulted: AtomicBool::new(false),
        }
    }; SLOTS];

    static PAGE: AtomicUsize = AtomicUsize::new(4096);
    static INSTALLED: OnceLock<bool> = OnceLock::new();
    /// The action that was in place before ours (Rust's stack-overflow handler, or the default).
    static PREVIOUS: OnceLock<libc::sigaction> = OnceLock::new();

    pub fn install() -> bool {
        *INSTALLED.get_or_init(|| {
            // SAFETY: sysconf and sigaction with valid, fully initialised arguments.
            unsafe {
                let page = libc::sysconf(libc::_SC_PAGESIZE);
                if let Ok(p) = usize::try_from(page) {
                    if p.is_power_of_two() {
                        PAGE.store(p, Ordering::SeqCst);
                    }
                }
                let mut new: libc::sigaction = std::mem::zeroed();
                new.sa_sigaction = on_sigbus as *const () as usize;
                new.sa_flags = libc::SA_SIGINFO | libc::SA_ONSTACK;
                libc::sigemptyset(&mut new.sa_mask);
                let mut old: libc::sigaction = std::mem::zeroed();
                if libc::sigaction(libc::SIGBUS, &new, &mut old) != 0 {
                    return false;
                }
                let _ = PREVIOUS.set(old);
            }
            true
        })
    }

    pub fn register(start: usize, len: usize) -> Option<usize> {
        for (i, slot) in TABLE.iter().enumerate() {
            if slot
                .busy
                .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
                .is_ok()
            {
                slot.faulted.store(false, Ordering::SeqCst);
                slot.len.store(len, Ordering::SeqCst);
                slot.start.store(start, Ordering::SeqCst);
                return Some(i);
            }
        }
        None
    }

    pub fn faulted(i: usize) -> bool {
        TABLE
            .get(i)
            .is_some_and(|s| s.faulted.load(Ordering::SeqCst))
    }

    pub fn release(i: usize) {
        if let Some(slot) = TABLE.get(i) {
            slot.start.store(0, Ordering::SeqCst);
            slot.len.store(0, Ordering::SeqCst);
            slot.busy.store(false, Ordering::SeqCst);
        }
    }

    extern "C" fn on_sigbus(sig: libc::c_int, info: *mut libc::siginfo_t, ctx: *mut libc::c_void) {
        // SAFETY: the kernel passes a valid siginfo_t for a SA_SIGINFO handler.
        let addr = if info.is_null() {
            0
        } else {
            unsafe { (*info).si_addr() as usize }
        };
        let page = PAGE.load(Ordering::SeqCst);
        for slot in &TABLE {
            let start = slot.start.load(Ordering::SeqCst);
            let len = slot.len.load(Ordering::SeqCst);
            if start == 0 || addr < start || addr.wrapping_sub(start) >= len {
                continue;
            }
            let from = addr & !page.wrapping_sub(1);
            let end = start.saturating_add(len);
            // SAFETY: [from, end) lies inside a live map this process made and registered; it is
            // replaced by private zero pages, which every reader of the map may read.
            let r = unsafe {
                libc::mmap(
                    from as *mut libc::c_void,
                    end.saturating_sub(from),
                    libc::PROT_READ,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_FIXED,
                    -1,
                    0,
                )
            };
            if r != libc::MAP_FAILED {
                slot.faulted.store(true, Ordering::SeqCst);
                return;
            }
            break;
        }
        // Not a registered map: what would have happened without this handler.
        match PREVIOUS.get() {
            Some(old) if old.sa_sigaction > libc::SIG_IGN => {
                // SAFETY: the previous handler was installed with these flags, so it has the
                // matching signature.
                unsafe {
                    if old.sa_flags & libc::SA_SIGINFO != 0 {
                        let f: extern "C" fn(libc::c_int, *mut libc::siginfo_t, *mut libc::c_void) =
                            std::mem::transmute(old.sa_sigaction);
                        f(sig, info, ctx);
                    } else {
                        let f: extern "C" fn(libc::c_int) = std::mem::transmute(old.sa_sigaction);
                        f(sig);
                    }
                }
            }
            _ => {
                // SAFETY: restoring the default action; the faulting instruction runs again and
                // the process ends with SIGBUS, as it would have.
                unsafe {
                    let mut dfl: libc::sigaction = std::mem::zeroed();
                    dfl.sa_sigaction = libc::SIG_DFL;
                    libc::sigemptyset(&mut dfl.sa_mask);
                    libc::sigaction(libc::SIGBUS, &dfl, std::ptr::null_mut());
                }
            }
        }
    }
}

#[cfg(all(test, target_os = "linux"))]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// The slot table is process-wide: the test that fills it must not run beside the other.
    static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

    #[test]
    fn reading_past_a_new_end_is_flagged_not_fatal() {
        let _serial = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, vec![0xAB; 1 << 20]).unwrap();
        let file = File::open(&path).unwrap();
        let m = Mapped::new(&file).unwrap().unwrap();
        assert_eq!(m.bytes()[(1 << 20) - 1], 0xAB);
        assert!(!m.faulted());
        // Cut to one page: every later page of the map is past the end (SIGBUS without the guard).
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .unwrap()
            .set_len(4096)
            .unwrap();
        let sum: u64 = m.bytes().iter().map(|&b| u64::from(b)).sum();
        assert!(m.faulted());
        assert!(
            sum <= 4096 * 0xAB,
            "pages past the end read as zeros: {sum}"
        );
        drop(m);
        // The slot is free again, and a new map starts unflagged.
        let m = Mapped::new(&file).unwrap().unwrap();
        assert!(!m.faulted());
        assert_eq!(m.bytes().len(), 4096);
    }

    #[test]
    fn maps_beyond_the_slot_table_are_refused_not_unguarded() {
        let _serial = SERIAL
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        std::fs::write(&path, [1u8; 100]).unwrap();
        let file = File::open(&path).unwrap();
        let mut live = Vec::new();
        while let Some(m) = Mapped::new(&file) {
            live.push(m.unwrap());
            assert!(live.len() <= 256, "more maps than slots");
        }
        assert!(!live.is_empty());
    }
}
