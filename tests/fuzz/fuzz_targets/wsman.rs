#![no_main]
//! Fuzz target `wsman`: see tests/fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::wsman(data));
