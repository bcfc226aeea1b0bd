#![no_main]
//! Fuzz target `ccmsetup`: see tests/fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::ccmsetup(data));
