//! `cms_x509`: see `bingate_fuzz::cms_x509` (fuzz/src/lib.rs) for what it covers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bingate_fuzz::cms_x509(data));
