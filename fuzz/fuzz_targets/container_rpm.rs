//! `container_rpm`: see `bingate_fuzz::container_rpm` (fuzz/src/lib.rs) for what it covers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bingate_fuzz::container_rpm(data));
