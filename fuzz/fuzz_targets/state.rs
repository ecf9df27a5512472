#![no_main]
//! See fuzz/src/state.rs for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| penguin_fuzz::state::run(data));
