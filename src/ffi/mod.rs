//! The C API: the only module with `extern "C"`. Pointer checks, the panic
//! boundary, error codes and the thread-local last error message live here; the
//! numerics live in the engine.
//!
//! Conventions (see the header): every fallible function returns a
//! `penguin_result_t` (`PENGUIN_OK` = 0); outputs (`*_out`) are written only on
//! success; a rejected call leaves every handle unchanged; the calling thread's
//! last error message is available through `penguin_last_error_message`.
//!
//! One file per handle type, as rustls-ffi does: [`errors`] (status codes, the
//! panic boundary, the last error message), [`config`] (`penguin_config_t`),
//! [`engine`] (`penguin_t` and `penguin_nn_status_t`: observations and
//! statuses), [`state`] (checkpoint and restart), [`user_function`]
//! (parametric functions given as C callbacks). This file holds the version.
//! cbindgen reads them in this order into `include/penguin.h`.

#![allow(non_camel_case_types)]
// The exported functions are for C callers. Each checks its pointers for NULL; the
// rest of the contract (pointers come from this library, arrays have n elements)
// is stated in the header, as for any C library.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

pub mod config;
pub mod engine;
pub mod errors;
pub mod state;
mod user_function;

pub use config::*;
pub use engine::*;
pub use errors::*;
pub use state::*;
pub use user_function::{CallbackModel, penguin_jacobian_fn, penguin_model_fn};

use std::ffi::c_char;

/// Major version of this header.
pub const PENGUIN_VERSION_MAJOR: u32 = 0;
/// Minor version of this header.
pub const PENGUIN_VERSION_MINOR: u32 = 2;
/// Patch version of this header.
pub const PENGUIN_VERSION_PATCH: u32 = 0;
/// `MAJOR * 10000 + MINOR * 100 + PATCH`, as returned by `penguin_version_number()`.
pub const PENGUIN_VERSION_NUMBER: u32 =
    PENGUIN_VERSION_MAJOR * 10000 + PENGUIN_VERSION_MINOR * 100 + PENGUIN_VERSION_PATCH;

/// The library's version as a static string, e.g. "0.2.0". Never NULL; do not free.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The library's version as `MAJOR * 10000 + MINOR * 100 + PATCH`; compare with
/// `PENGUIN_VERSION_NUMBER` to detect a header/library mismatch.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_version_number() -> u32 {
    PENGUIN_VERSION_NUMBER
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_constants_match_the_package() {
        let v: Vec<u32> = env!("CARGO_PKG_VERSION")
            .split('.')
            .map(|p| p.parse().unwrap())
            .collect();
        assert_eq!(
            v,
            vec![
                PENGUIN_VERSION_MAJOR,
                PENGUIN_VERSION_MINOR,
                PENGUIN_VERSION_PATCH
            ]
        );
        assert_eq!(penguin_version_number(), v[0] * 10000 + v[1] * 100 + v[2]);
    }
}
