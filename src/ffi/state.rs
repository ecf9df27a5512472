//! Checkpoint and restart: an engine's state to a file or a caller's buffer
//! and back.

use super::config::penguin_config_t;
use super::engine::penguin_t;
use super::errors::{boundary, c_str, null, penguin_result_t};
use crate::error::{Error, ErrorCode};
use crate::state;
use std::ffi::c_char;

/// Saves the engine (configuration, every network's history, predictions and
/// decision) to a file, atomically: a temporary file in the same directory is
/// written, flushed, fsynced and renamed over `path`, so a crash leaves the old
/// file or the new one. The file carries a magic number, a format version and a
/// checksum.
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT`,
/// `PENGUIN_ERROR_INVALID_ARGUMENT` (path not UTF-8) or `PENGUIN_ERROR_IO`.
/// Thread-safety: as `penguin_status` (reads the engine).
#[unsafe(no_mangle)]
pub extern "C" fn penguin_save(engine: *const penguin_t, path: *const c_char) -> penguin_result_t {
    boundary("penguin_save", || {
        // SAFETY: a non-NULL engine comes from penguin_new (contract).
        let engine = unsafe { engine.as_ref() }.ok_or_else(|| null("engine"))?;
        // SAFETY: NUL-terminated string by contract; NULL is checked.
        let path = unsafe { c_str(path, "path")? };
        state::save_file(&engine.engine, std::path::Path::new(path))
    })
}

/// Creates an engine from a state file written by `penguin_save`. It makes
/// exactly the decisions the saved engine would have made. A truncated,
/// corrupted, empty, other-version or non-Penguin file is refused and nothing is
/// created. Free the engine with `penguin_free`.
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT`, `PENGUIN_ERROR_IO`,
/// `PENGUIN_ERROR_INVALID_STATE`, `PENGUIN_ERROR_STATE_VERSION` (states of
/// Penguin 0.1 are format 1; 0.2 reads and writes format 2), or
/// `PENGUIN_ERROR_UNKNOWN_FUNCTION` when the state names a user-defined function
/// (use `penguin_load_with_config`).
/// Thread-safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_load(
    path: *const c_char,
    engine_out: *mut *mut penguin_t,
) -> penguin_result_t {
    boundary("penguin_load", || {
        // SAFETY: NUL-terminated string by contract; NULL is checked.
        let path = unsafe { c_str(path, "path")? };
        if engine_out.is_null() {
            return Err(null("engine_out"));
        }
        let engine = state::load_file(std::path::Path::new(path))?;
        let e = Box::into_raw(Box::new(penguin_t { engine }));
        // SAFETY: engine_out is non-NULL and writable (contract).
        unsafe { *engine_out = e };
        Ok(())
    })
}

/// As `penguin_load`, for a state saved with user-defined functions: the
/// functions registered in `functions` (with `penguin_config_set_function`) are
/// available by name. The rest of `functions` is ignored: the saved
/// configuration is restored.
///
/// Returns the codes of `penguin_load`, and `PENGUIN_ERROR_UNKNOWN_FUNCTION` when
/// the state names a function that is neither built in nor registered.
/// Thread-safety: any thread; not concurrently with calls changing `functions`.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_load_with_config(
    path: *const c_char,
    functions: *const penguin_config_t,
    engine_out: *mut *mut penguin_t,
) -> penguin_result_t {
    boundary("penguin_load_with_config", || {
        // SAFETY: NUL-terminated string by contract; NULL is checked.
        let path = unsafe { c_str(path, "path")? };
        // SAFETY: a non-NULL config comes from penguin_config_new (contract).
        let functions = unsafe { functions.as_ref() }.ok_or_else(|| null("functions"))?;
        if engine_out.is_null() {
            return Err(null("engine_out"));
        }
        let engine = state::load_file_with(std::path::Path::new(path), &functions.config)?;
        let e = Box::into_raw(Box::new(penguin_t { engine }));
        // SAFETY: engine_out is non-NULL and writable (contract).
        unsafe { *engine_out = e };
        Ok(())
    })
}

/// Writes the size in bytes of the engine's saved state to `*size_out`, for
/// `penguin_save_to_buffer` (so a NAS can embed Penguin's state in its own
/// checkpoint).
///
/// Returns `PENGUIN_OK` or `PENGUIN_ERROR_NULL_ARGUMENT`.
/// Thread-safety: as `penguin_status`.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_state_size(
    engine: *const penguin_t,
    size_out: *mut usize,
) -> penguin_result_t {
    boundary("penguin_state_size", || {
        // SAFETY: a non-NULL engine comes from penguin_new (contract).
        let engine = unsafe { engine.as_ref() }.ok_or_else(|| null("engine"))?;
        if size_out.is_null() {
            return Err(null("size_out"));
        }
        let n = state::to_bytes(&engine.engine).len();
        // SAFETY: non-NULL and writable by contract.
        unsafe { *size_out = n };
        Ok(())
    })
}

/// Saves the engine's state into the caller's buffer `buf` of `len` bytes and
/// writes the number of bytes used to `*written_out` (which may be NULL).
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT` or
/// `PENGUIN_ERROR_BUFFER_TOO_SMALL` (then nothing is written; see
/// `penguin_state_size`).
/// Thread-safety: as `penguin_status`.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_save_to_buffer(
    engine: *const penguin_t,
    buf: *mut u8,
    len: usize,
    written_out: *mut usize,
) -> penguin_result_t {
    boundary("penguin_save_to_buffer", || {
        // SAFETY: a non-NULL engine comes from penguin_new (contract).
        let engine = unsafe { engine.as_ref() }.ok_or_else(|| null("engine"))?;
        if buf.is_null() {
            return Err(null("buf"));
        }
        let bytes = state::to_bytes(&engine.engine);
        if bytes.len() > len {
            return Err(Error::new(
                ErrorCode::BufferTooSmall,
                format!(
                    "the state needs {} bytes; the buffer has {len}",
                    bytes.len()
                ),
            ));
        }
        // SAFETY: buf is non-NULL with room for len >= bytes.len() bytes (contract).
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf, bytes.len()) };
        if !written_out.is_null() {
            // SAFETY: non-NULL and writable by contract.
            unsafe { *written_out = bytes.len() };
        }
        Ok(())
    })
}

/// Creates an engine from `len` bytes written by `penguin_save_to_buffer`.
/// Refuses invalid bytes as `penguin_load` refuses invalid files.
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT`,
/// `PENGUIN_ERROR_INVALID_STATE`, `PENGUIN_ERROR_STATE_VERSION` or
/// `PENGUIN_ERROR_UNKNOWN_FUNCTION` (a user-defined function: use
/// `penguin_load_from_buffer_with_config`).
/// Thread-safety: any thread.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_load_from_buffer(
    buf: *const u8,
    len: usize,
    engine_out: *mut *mut penguin_t,
) -> penguin_result_t {
    penguin_load_from_buffer_with_config(buf, len, std::ptr::null(), engine_out)
}

/// As `penguin_load_from_buffer`, with the user-defined functions registered in
/// `functions` (NULL allowed: built-in functions only) available by name, as for
/// `penguin_load_with_config`.
///
/// Returns the codes of `penguin_load_from_buffer`, and
/// `PENGUIN_ERROR_UNKNOWN_FUNCTION` when the state names a function that is
/// neither built in nor registered.
/// Thread-safety: any thread; not concurrently with calls changing `functions`.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_load_from_buffer_with_config(
    buf: *const u8,
    len: usize,
    functions: *const penguin_config_t,
    engine_out: *mut *mut penguin_t,
) -> penguin_result_t {
    boundary("penguin_load_from_buffer", || {
        if engine_out.is_null() {
            return Err(null("engine_out"));
        }
        if buf.is_null() && len > 0 {
            return Err(null("buf"));
        }
        let bytes: &[u8] = if len == 0 {
            &[]
        } else {
            // SAFETY: non-NULL with len readable bytes (contract).
            unsafe { std::slice::from_raw_parts(buf, len) }
        };
        // SAFETY: a non-NULL config comes from penguin_config_new (contract).
        let engine = match unsafe { functions.as_ref() } {
            Some(f) => state::from_bytes_with(bytes, &f.config)?,
            None => state::from_bytes(bytes)?,
        };
        let e = Box::into_raw(Box::new(penguin_t { engine }));
        // SAFETY: engine_out is non-NULL and writable (contract).
        unsafe { *engine_out = e };
        Ok(())
    })
}
