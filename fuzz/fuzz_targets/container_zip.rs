//! `container_zip`: see `bingate_fuzz::container_zip` (fuzz/src/lib.rs) for what it covers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bingate_fuzz::container_zip(data));
