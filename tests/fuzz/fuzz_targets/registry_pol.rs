#![no_main]
//! Fuzz target `registry_pol`: see tests/fuzz/targets.rs.

#[path = "../targets.rs"]
mod targets;

libfuzzer_sys::fuzz_target!(|data: &[u8]| targets::registry_pol(data));
