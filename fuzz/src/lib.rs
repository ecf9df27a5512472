//! The checks behind Penguin's fuzz targets. Each module is plain std + penguin,
//! so the main crate's tests/fuzz_regressions.rs includes the same files with
//! #[path] and replays fuzz/regressions/ on stable, without libFuzzer.

pub mod api;
pub mod bytes;
pub mod config;
pub mod state;
