//! Status codes, the panic boundary every exported function runs inside, and
//! the calling thread's last error message.

use crate::error::{Error, ErrorCode};
use std::cell::RefCell;
use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// Status code of every fallible function: `PENGUIN_OK` (0) or one of the
/// `PENGUIN_ERROR_*` codes, whose numbers never change.
pub type penguin_result_t = i32;

/// Success.
pub const PENGUIN_OK: penguin_result_t = 0;
/// A required pointer argument is NULL (or an array is NULL with n > 0).
pub const PENGUIN_ERROR_NULL_ARGUMENT: penguin_result_t = 1;
/// The epoch is NaN, infinite, zero or negative.
pub const PENGUIN_ERROR_INVALID_EPOCH: penguin_result_t = 2;
/// The fitness is NaN or infinite.
pub const PENGUIN_ERROR_INVALID_FITNESS: penguin_result_t = 3;
/// The epoch is not greater than the network's previous epoch.
pub const PENGUIN_ERROR_EPOCH_NOT_INCREASING: penguin_result_t = 4;
/// No network with this id is tracked.
pub const PENGUIN_ERROR_UNKNOWN_NETWORK: penguin_result_t = 5;
/// The network already has a final decision and takes no more observations.
pub const PENGUIN_ERROR_ALREADY_DECIDED: penguin_result_t = 6;
/// Unknown configuration key.
pub const PENGUIN_ERROR_UNKNOWN_CONFIG_KEY: penguin_result_t = 7;
/// A configuration value cannot be parsed or is out of range.
pub const PENGUIN_ERROR_INVALID_CONFIG_VALUE: penguin_result_t = 8;
/// Configuration values contradict each other (found by `penguin_new`).
pub const PENGUIN_ERROR_INCONSISTENT_CONFIG: penguin_result_t = 9;
/// Unknown function name.
pub const PENGUIN_ERROR_UNKNOWN_FUNCTION: penguin_result_t = 10;
/// Reading or writing a file failed.
pub const PENGUIN_ERROR_IO: penguin_result_t = 11;
/// A saved state is truncated, corrupted or not a Penguin state.
pub const PENGUIN_ERROR_INVALID_STATE: penguin_result_t = 12;
/// A saved state has an unsupported format version.
pub const PENGUIN_ERROR_STATE_VERSION: penguin_result_t = 13;
/// An argument is invalid (e.g. a string that is not UTF-8).
pub const PENGUIN_ERROR_INVALID_ARGUMENT: penguin_result_t = 14;
/// Internal error: a panic was caught at the boundary. Please report it.
pub const PENGUIN_ERROR_INTERNAL: penguin_result_t = 15;
/// An output buffer is too small.
pub const PENGUIN_ERROR_BUFFER_TOO_SMALL: penguin_result_t = 16;

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

pub(super) fn set_last_error(message: &str) {
    LAST_ERROR.with(|m| {
        let mut m = m.borrow_mut();
        m.clear();
        m.push_str(message);
    });
}

pub(super) fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "unknown panic".to_string()
    }
}

/// Runs `f` inside the panic boundary and turns its outcome into a status code,
/// recording the message of a failure for `penguin_last_error_message`.
pub(super) fn boundary<F: FnOnce() -> Result<(), Error>>(function: &str, f: F) -> penguin_result_t {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            set_last_error("");
            PENGUIN_OK
        }
        Ok(Err(e)) => {
            set_last_error(&format!("{function}: {}", e.message));
            e.code as i32
        }
        Err(p) => {
            set_last_error(&format!(
                "{function}: internal error (caught panic: {}); please report it",
                panic_message(p.as_ref())
            ));
            PENGUIN_ERROR_INTERNAL
        }
    }
}

pub(super) fn null(name: &str) -> Error {
    Error::new(
        ErrorCode::NullArgument,
        format!("argument '{name}' is NULL"),
    )
}

/// Reads a C string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
pub(super) unsafe fn c_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(null(name));
    }
    // SAFETY: non-NULL and NUL-terminated by the caller's contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("argument '{name}' is not valid UTF-8"),
        )
    })
}

/// A static, NUL-terminated description of a status code ("unknown status code"
/// for numbers that are not codes). Never NULL; do not free.
/// Thread-safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_result_string(code: penguin_result_t) -> *const c_char {
    let s: &'static CStr = match ErrorCode::from_i32(code) {
        None if code == PENGUIN_OK => c"success",
        None => c"unknown status code",
        Some(ErrorCode::NullArgument) => c"a required pointer argument is NULL",
        Some(ErrorCode::InvalidEpoch) => c"the epoch is NaN, infinite, zero or negative",
        Some(ErrorCode::InvalidFitness) => c"the fitness value is NaN or infinite",
        Some(ErrorCode::EpochNotIncreasing) => {
            c"the epoch is not greater than the network's previous epoch"
        }
        Some(ErrorCode::UnknownNetwork) => c"no network with this id is tracked",
        Some(ErrorCode::AlreadyDecided) => c"the network already has a final decision",
        Some(ErrorCode::UnknownConfigKey) => c"unknown configuration key",
        Some(ErrorCode::InvalidConfigValue) => c"invalid configuration value",
        Some(ErrorCode::InconsistentConfig) => c"configuration values contradict each other",
        Some(ErrorCode::UnknownFunction) => c"unknown parametric function",
        Some(ErrorCode::Io) => c"input/output error",
        Some(ErrorCode::InvalidState) => c"not a valid Penguin state (truncated or corrupted)",
        Some(ErrorCode::StateVersion) => c"Penguin state written by an unsupported format version",
        Some(ErrorCode::InvalidArgument) => c"invalid argument",
        Some(ErrorCode::Internal) => c"internal error (caught panic); please report it",
        Some(ErrorCode::BufferTooSmall) => c"the output buffer is too small",
    };
    s.as_ptr()
}

/// Copies the calling thread's last error message (empty after a successful
/// call) into `buf` with snprintf semantics: at most `len - 1` bytes and a NUL
/// terminator are written (nothing when `len` is 0; `buf` may then be NULL), and
/// the full message length (without the NUL) is returned, so a return value
/// `len` or more means the message was truncated.
/// Thread-safety: any thread; messages are per thread.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_last_error_message(buf: *mut c_char, len: usize) -> usize {
    catch_unwind(|| {
        LAST_ERROR.with(|m| {
            let m = m.borrow();
            let bytes = m.as_bytes();
            if len > 0 && !buf.is_null() {
                let k = bytes.len().min(len - 1);
                // SAFETY: buf is non-NULL and has room for len bytes (contract); k < len.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), k);
                    *buf.add(k) = 0;
                }
            }
            bytes.len()
        })
    })
    .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::State;
    use crate::error::ErrorCode;
    use crate::ffi::engine::{PENGUIN_CONTINUE, PENGUIN_CONVERGED, PENGUIN_REACHED_E_PRED};
    use std::ffi::CStr;

    #[test]
    fn c_constants_equal_the_rust_codes() {
        let c = [
            PENGUIN_ERROR_NULL_ARGUMENT,
            PENGUIN_ERROR_INVALID_EPOCH,
            PENGUIN_ERROR_INVALID_FITNESS,
            PENGUIN_ERROR_EPOCH_NOT_INCREASING,
            PENGUIN_ERROR_UNKNOWN_NETWORK,
            PENGUIN_ERROR_ALREADY_DECIDED,
            PENGUIN_ERROR_UNKNOWN_CONFIG_KEY,
            PENGUIN_ERROR_INVALID_CONFIG_VALUE,
            PENGUIN_ERROR_INCONSISTENT_CONFIG,
            PENGUIN_ERROR_UNKNOWN_FUNCTION,
            PENGUIN_ERROR_IO,
            PENGUIN_ERROR_INVALID_STATE,
            PENGUIN_ERROR_STATE_VERSION,
            PENGUIN_ERROR_INVALID_ARGUMENT,
            PENGUIN_ERROR_INTERNAL,
            PENGUIN_ERROR_BUFFER_TOO_SMALL,
        ];
        let rust: Vec<i32> = ErrorCode::ALL.iter().map(|c| *c as i32).collect();
        assert_eq!(c.to_vec(), rust);
        assert_eq!(PENGUIN_CONTINUE, State::Continue as i32);
        assert_eq!(PENGUIN_CONVERGED, State::Converged as i32);
        assert_eq!(PENGUIN_REACHED_E_PRED, State::ReachedEPred as i32);
    }

    #[test]
    fn every_code_has_its_own_string() {
        let mut seen = std::collections::HashSet::new();
        for c in ErrorCode::ALL {
            // SAFETY: penguin_result_string returns a static NUL-terminated string.
            let s = unsafe { CStr::from_ptr(penguin_result_string(c as i32)) };
            assert!(seen.insert(s.to_owned()), "{c:?}");
            assert_eq!(s.to_str().unwrap(), c.description());
        }
    }
}
