//! `elf_signature`: see `bingate_fuzz::elf_signature` (fuzz/src/lib.rs) for what it covers.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| bingate_fuzz::elf_signature(data));
