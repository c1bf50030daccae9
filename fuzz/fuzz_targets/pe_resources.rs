//! `pe_resources`: see `bingate_fuzz::pe_resources` (fuzz/src/lib.rs) for what it covers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bingate_fuzz::pe_resources(data));
