//! Penguin: early termination of neural-network training for neural architecture
//! search, after the PENGUIN fitness prediction engine (TPDS 2022).
//!
//! Layers, from the bottom: [`functions`] (the catalogue of parametric learning
//! curves), [`fit`] (least squares, on [`lm`] or [`trf`]), [`predict`]
//! (Algorithm 1), [`analyzer`] (Algorithm 2), [`rules`] (the stopping rules,
//! Algorithm 2 first, in the order they apply), [`config`], [`network`] (one
//! network and its update), [`engine`] (many networks in a [`networks`] table,
//! batches and threads, the cohort's cutoff kept by [`ranking`]), [`state`]
//! (checkpoints) and [`ffi`] (the C API).
//!
//! The `penguin` program (`src/bin/penguin/`: replay, bench) is a target of
//! its own behind the default `cli` feature; the C library is built with
//! `--no-default-features` and compiles none of its dependencies.

pub mod analyzer;
pub mod config;
pub mod curves;
pub mod engine;
pub mod error;
pub mod ffi;
pub mod fit;
pub mod functions;
pub mod interval;
pub mod lm;
pub mod network;
pub mod networks;
pub mod predict;
pub mod profile;
pub mod ranking;
pub mod rules;
pub mod state;
pub mod trf;

#[cfg(test)]
mod testing;

pub use config::Config;
pub use engine::{Engine, Observation, State, Status};
pub use error::{Error, ErrorCode, Result};
