//! Penguin: early termination of neural-network training for neural architecture
//! search, after the PENGUIN fitness prediction engine (TPDS 2022).
//!
//! Layers, from the bottom: [`functions`] (the catalogue of parametric learning
//! curves), [`fit`] (least squares), [`predict`] (Algorithm 1), [`analyzer`]
//! (Algorithm 2), [`config`], [`engine`] (many networks, stored in a
//! [`networks`] table), and `ffi` (the C API).

pub mod analyzer;
pub mod bench;
pub mod config;
pub mod curves;
pub mod engine;
pub mod error;
pub mod ffi;
pub mod fit;
pub mod functions;
pub mod interval;
#[cfg(feature = "lm-crate")]
mod lm_crate;
pub mod lmder;
pub mod networks;
pub mod predict;
pub mod profile;
pub mod replay;
pub mod state;
pub mod trf;

pub use config::Config;
pub use engine::{Engine, Observation, State, Status};
pub use error::{Error, ErrorCode, Result};
