//! `msi_signature`: see `bingate_fuzz::msi_signature` (fuzz/src/lib.rs) for what it covers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bingate_fuzz::msi_signature(data));
