//! `container_tar`: see `bingate_fuzz::container_tar` (fuzz/src/lib.rs) for what it covers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bingate_fuzz::container_tar(data));
