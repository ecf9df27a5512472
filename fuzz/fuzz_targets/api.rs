#![no_main]
//! See fuzz/src/api.rs for what this target checks.

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    penguin_fuzz::api::run(data);
});
