//! `installer`: see `bingate_fuzz::installer` (fuzz/src/lib.rs) for what it covers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bingate_fuzz::installer(data));
