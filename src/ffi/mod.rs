//! The C API: the only module with `extern "C"`. Pointer checks, the panic
//! boundary, error codes and the thread-local last error message live here; the
//! numerics live in the engine.
//!
//! Conventions (see the header): every fallible function returns a
//! `penguin_result_t` (`PENGUIN_OK` = 0); outputs (`*_out`) are written only on
//! success; a rejected call leaves every handle unchanged; the calling thread's
//! last error message is available through `penguin_last_error_message`.

#![allow(non_camel_case_types)]
// The exported functions are for C callers. Each checks its pointers for NULL; the
// rest of the contract (pointers come from this library, arrays have n elements)
// is stated in the header, as for any C library.
#![allow(clippy::not_unsafe_ptr_arg_deref)]

use crate::config::Config;
use crate::engine::{Engine, Observation, Status};
use crate::error::{Error, ErrorCode};
use crate::state;
use std::cell::RefCell;
use std::sync::Arc;

mod user_function;
use std::ffi::{CStr, c_char};
use std::panic::{AssertUnwindSafe, catch_unwind};
pub use user_function::{CallbackModel, penguin_jacobian_fn, penguin_model_fn};

/// Major version of this header.
pub const PENGUIN_VERSION_MAJOR: u32 = 0;
/// Minor version of this header.
pub const PENGUIN_VERSION_MINOR: u32 = 2;
/// Patch version of this header.
pub const PENGUIN_VERSION_PATCH: u32 = 0;
/// `MAJOR * 10000 + MINOR * 100 + PATCH`, as returned by `penguin_version_number()`.
pub const PENGUIN_VERSION_NUMBER: u32 =
    PENGUIN_VERSION_MAJOR * 10000 + PENGUIN_VERSION_MINOR * 100 + PENGUIN_VERSION_PATCH;

/// Most parameters reported in `penguin_nn_status_t.params`.
pub const PENGUIN_MAX_PARAMS: usize = 8;

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

/// Keep training.
pub const PENGUIN_CONTINUE: i32 = 0;
/// Stop training before `e_pred`; `prediction` is final: the predictions
/// converged, or an opt-in rule stopped the network (`select_top`,
/// `chance_patience`, `max_epoch`).
pub const PENGUIN_CONVERGED: i32 = 1;
/// Stop training: `e_pred` was reached; `prediction` holds the observed value.
pub const PENGUIN_REACHED_E_PRED: i32 = 2;

/// What Penguin says about one network. A plain struct, filled by Penguin.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct penguin_nn_status_t {
    /// `PENGUIN_CONTINUE`, `PENGUIN_CONVERGED` or `PENGUIN_REACHED_E_PRED`.
    pub state: i32,
    /// Number of observations of this network.
    pub observations: u32,
    /// Penguin's answer for the fitness at `e_pred`: the newest prediction while
    /// training continues (NaN while there is none), the final prediction once
    /// converged, the observed value once `e_pred` is reached.
    pub prediction: f64,
    /// The newest parametric prediction `fit_P` (NaN when the newest fit failed
    /// or there are too few points).
    pub fit_prediction: f64,
    /// Epoch of the newest observation.
    pub epoch: f64,
    /// Least-squares fits performed for this network.
    pub fits: u32,
    /// Number of valid entries in `params` (0 before the first successful fit).
    pub n_params: u32,
    /// Parameters of the newest successful fit (first `n_params` entries).
    pub params: [f64; PENGUIN_MAX_PARAMS],
    /// Prediction interval (config key `interval`, default 0.9) of the newest
    /// fit, by the delta method: the range in which a new observation at
    /// `e_pred` should fall with that probability if the function is right.
    /// Once `e_pred` is reached, both ends are the observed value; NaN while
    /// there is no prediction or when `interval = 0`. Added in 0.2.
    pub prediction_lo: f64,
    /// Upper end of the prediction interval (see `prediction_lo`).
    pub prediction_hi: f64,
}

impl From<&Status> for penguin_nn_status_t {
    fn from(s: &Status) -> Self {
        let mut params = [f64::NAN; PENGUIN_MAX_PARAMS];
        let k = s.params.len().min(PENGUIN_MAX_PARAMS);
        params[..k].copy_from_slice(&s.params[..k]);
        penguin_nn_status_t {
            state: s.state as i32,
            observations: s.observations,
            prediction: s.prediction,
            fit_prediction: s.fit_prediction,
            epoch: s.epoch,
            fits: s.fits,
            n_params: k as u32,
            params,
            prediction_lo: s.prediction_lo,
            prediction_hi: s.prediction_hi,
        }
    }
}

/// An engine: a configuration and the networks it tracks. Opaque.
pub struct penguin_t {
    engine: Engine,
}

/// A configuration under construction. Opaque.
pub struct penguin_config_t {
    config: Config,
}

thread_local! {
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

fn set_last_error(message: &str) {
    LAST_ERROR.with(|m| {
        let mut m = m.borrow_mut();
        m.clear();
        m.push_str(message);
    });
}

fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
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
fn boundary<F: FnOnce() -> Result<(), Error>>(function: &str, f: F) -> penguin_result_t {
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

fn null(name: &str) -> Error {
    Error::new(
        ErrorCode::NullArgument,
        format!("argument '{name}' is NULL"),
    )
}

/// Reads a C string argument.
///
/// # Safety
/// `p` is NULL or points to a NUL-terminated string.
unsafe fn c_str<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
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

/// Creates a configuration holding the paper's defaults (function `exp3`,
/// `E` = 0.5, `N` = 3, `t` = 0.5, `e_pred` = 20, valid range [0, 100], mean
/// agreement). Free it with `penguin_config_free`.
///
/// Returns `PENGUIN_OK`, or `PENGUIN_ERROR_NULL_ARGUMENT` when `config_out` is NULL.
/// Thread-safety: may be called from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_config_new(config_out: *mut *mut penguin_config_t) -> penguin_result_t {
    boundary("penguin_config_new", || {
        if config_out.is_null() {
            return Err(null("config_out"));
        }
        let c = Box::into_raw(Box::new(penguin_config_t {
            config: Config::default(),
        }));
        // SAFETY: config_out is non-NULL and points to writable storage (contract).
        unsafe { *config_out = c };
        Ok(())
    })
}

/// Sets one configuration key from its string value. Keys: `function`, `trend`,
/// `E`, `N`, `t`, `e_pred`, `valid_min`, `valid_max`, `min_points`, `x_shift`,
/// `agreement` (`mean` | `median`), `validity` (`newest` | `all`), `threshold`
/// (`absolute` | `relative`, t in percent of the centre), `direction`
/// (`maximize` | `minimize`), `p0` (`v1,v2,...` or `default`), `bounds`
/// (`lo1,lo2,...;hi1,hi2,...`, `inf` allowed, or `default`), `warmup`
/// (`epochs` | `predictions`), `failed_fit` (`breaks` | `skipped`),
/// `upper_bound_reject` (distance or `off`), `threads` (0 = all cores),
/// `interval` (level of `prediction_lo`/`prediction_hi`, default 0.9, 0 = none),
/// `select_top` (0 = off), `chance_level`, `chance_margin`, `loss_patience` and
/// `loss_min_delta` (the late-bloomer guard, see
/// `penguin_observe_batch_with_loss`), `chance_patience` (the never-learner
/// stop, same place), `alternatives`
/// (other functions fitted beside `function`) with `combine` (`aicc`: the
/// lowest AICc gives the prediction; `mean`: their mean), `fallback_width` (a network stopping on a prediction whose
/// interval is wider reports its newest observed value), `stop_width` (the
/// width gate: a network whose last N predictions agree stops only once its
/// prediction interval is at most this wide, and never on a prediction without
/// an interval; inf = off; a finite width needs `interval` > 0), `max_epoch`
/// (the training budget: a network still training at this epoch or later,
/// before `e_pred`, stops with `PENGUIN_CONVERGED`, answering its newest
/// prediction if that is a valid fitness, else its newest observed value with
/// no interval; inf = none) and the solver keys listed in the README.
///
/// The rules apply in this order to each observation, each to the decision
/// the one before left: Algorithm 2, the width gate, rank-aware stopping, the
/// late-bloomer guard, the training budget, `fallback_width`, the
/// never-learner stop (which only stops a network still training).
///
/// Rank-aware stopping, `select_top = X`: before each call the engine takes the
/// cohort's top-X cutoff, the X-th best score among the networks it tracks
/// (a stopped network's final answer, a training network's newest valid
/// prediction). A network whose prediction interval lies entirely on the wrong
/// side of the cutoff stops after the warm-up (it cannot make the cut; its
/// `prediction` is the newest fit), and a network that Algorithm 2 finds
/// converged keeps training while its interval straddles the cutoff; one whose
/// interval lies clearly on the right side stops as usual (subject to the
/// width gate, which comes before: a network it holds is not stopped for being
/// above the cutoff, but one below still stops). Without X scores or
/// an interval the paper's decision stands. It needs `interval` > 0 and costs a
/// pass over all networks per call.
///
/// Values are checked alone here; contradictions between keys are reported by
/// `penguin_new`.
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT`,
/// `PENGUIN_ERROR_UNKNOWN_CONFIG_KEY`, `PENGUIN_ERROR_INVALID_CONFIG_VALUE`,
/// `PENGUIN_ERROR_UNKNOWN_FUNCTION` or `PENGUIN_ERROR_INVALID_ARGUMENT` (not
/// UTF-8). On error the configuration is unchanged.
/// Thread-safety: not concurrently with other calls on the same configuration.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_config_set(
    config: *mut penguin_config_t,
    key: *const c_char,
    value: *const c_char,
) -> penguin_result_t {
    boundary("penguin_config_set", || {
        // SAFETY: a non-NULL config comes from penguin_config_new (contract).
        let config = unsafe { config.as_mut() }.ok_or_else(|| null("config"))?;
        // SAFETY: NUL-terminated strings by contract; NULL is checked.
        let (key, value) = unsafe { (c_str(key, "key")?, c_str(value, "value")?) };
        config.config.set(key, value)
    })
}

/// Reads `key = value` lines from a file (`#` starts a comment) into the
/// configuration. All lines apply or none; an error names the line.
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT`, `PENGUIN_ERROR_IO`, or the
/// codes of `penguin_config_set`.
/// Thread-safety: not concurrently with other calls on the same configuration.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_config_load(
    config: *mut penguin_config_t,
    path: *const c_char,
) -> penguin_result_t {
    boundary("penguin_config_load", || {
        // SAFETY: a non-NULL config comes from penguin_config_new (contract).
        let config = unsafe { config.as_mut() }.ok_or_else(|| null("config"))?;
        // SAFETY: NUL-terminated string by contract; NULL is checked.
        let path = unsafe { c_str(path, "path")? };
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::new(ErrorCode::Io, format!("cannot read '{path}': {e}")))?;
        config
            .config
            .load_str(&text)
            .map_err(|e| Error::new(e.code, format!("{path}: {}", e.message)))
    })
}

/// Registers a user-defined parametric function `name` with `n_params`
/// parameters and selects it (`function = name` selects it again later).
/// `value` evaluates it for an array of x; `jacobian` (NULL allowed: Penguin then
/// uses finite differences) fills the row-major n x n_params Jacobian. `p0`,
/// `lower` and `upper` (each NULL allowed, else `n_params` values; infinities
/// allowed in the bounds) are its default start and bounds. Its trend is the
/// `trend` key (`increasing` by default), as for built-in functions.
///
/// Callbacks: called only from the thread that calls into Penguin, or from the
/// engine's worker threads during `penguin_observe_batch`; they must be
/// thread-safe when the engine's `threads` is not 1, and must not call back into
/// the same engine. A callback that returns non-zero or writes NaN/inf makes that
/// fit fail (the network keeps training); it never corrupts the engine. A C++
/// exception thrown through a callback is undefined behaviour: catch it inside
/// (the C++ wrapper does). `user_data` is passed back untouched; it must stay
/// valid while any configuration or engine using the function exists.
///
/// Saving an engine stores the function's name and parameters, not its code: to
/// load such a state, register the same name in a configuration and use
/// `penguin_load_with_config` (plain `penguin_load` fails with
/// `PENGUIN_ERROR_UNKNOWN_FUNCTION`).
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT` (config, name or value
/// NULL), `PENGUIN_ERROR_INVALID_ARGUMENT` (a built-in name, an empty name or one
/// with spaces, `#` or `=`, n_params 0, non-finite p0, a lower bound above its
/// upper bound, p0 outside the bounds).
/// Thread-safety: not concurrently with other calls on the same configuration.
#[unsafe(no_mangle)]
#[allow(clippy::too_many_arguments)]
pub extern "C" fn penguin_config_set_function(
    config: *mut penguin_config_t,
    name: *const c_char,
    n_params: u32,
    value: penguin_model_fn,
    jacobian: penguin_jacobian_fn,
    user_data: *mut std::ffi::c_void,
    p0: *const f64,
    lower: *const f64,
    upper: *const f64,
) -> penguin_result_t {
    boundary("penguin_config_set_function", || {
        // SAFETY: a non-NULL config comes from penguin_config_new (contract).
        let config = unsafe { config.as_mut() }.ok_or_else(|| null("config"))?;
        // SAFETY: NUL-terminated string by contract; NULL is checked.
        let name = unsafe { c_str(name, "name")? };
        let value = value.ok_or_else(|| null("value"))?;
        let n = n_params as usize;
        let invalid = |m: String| Error::new(ErrorCode::InvalidArgument, m);
        if n == 0 {
            return Err(invalid(format!(
                "function '{name}': n_params must be at least 1"
            )));
        }
        // SAFETY: each non-NULL array holds n_params values (contract).
        let read = |p: *const f64| {
            (!p.is_null()).then(|| unsafe { std::slice::from_raw_parts(p, n) }.to_vec())
        };
        let p0 = read(p0);
        if p0
            .as_ref()
            .is_some_and(|p| p.iter().any(|v| !v.is_finite()))
        {
            return Err(invalid(format!("function '{name}': p0 must be finite")));
        }
        let lo = read(lower).unwrap_or_else(|| vec![f64::NEG_INFINITY; n]);
        let hi = read(upper).unwrap_or_else(|| vec![f64::INFINITY; n]);
        if lo
            .iter()
            .zip(&hi)
            .any(|(l, h)| l.is_nan() || h.is_nan() || l > h)
        {
            return Err(invalid(format!(
                "function '{name}': a lower bound exceeds its upper bound (or is NaN)"
            )));
        }
        if let Some(p) = &p0
            && p.iter()
                .zip(lo.iter().zip(&hi))
                .any(|(v, (l, h))| v < l || v > h)
        {
            return Err(invalid(format!(
                "function '{name}': p0 lies outside the bounds"
            )));
        }
        let bounded = lower.is_null() && upper.is_null();
        let model = CallbackModel {
            name: name.to_string(),
            n_params: n,
            value,
            jacobian,
            user_data,
            p0,
            bounds: (!bounded).then_some((lo, hi)),
        };
        config.config.register_function(Arc::new(model))
    })
}

/// Frees a configuration. NULL is allowed and does nothing. Engines created from
/// it keep their own copy.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_config_free(config: *mut penguin_config_t) {
    let _ = boundary("penguin_config_free", || {
        if !config.is_null() {
            // SAFETY: non-NULL pointers come from penguin_config_new and are freed once.
            drop(unsafe { Box::from_raw(config) });
        }
        Ok(())
    });
}

/// Creates an engine from a configuration (NULL = the paper's defaults). The
/// engine copies the configuration. Free it with `penguin_free`.
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT` (engine_out NULL) or
/// `PENGUIN_ERROR_INCONSISTENT_CONFIG` (e.g. bounds or p0 of the wrong length,
/// p0 outside the bounds, valid_min > valid_max, a direction that does not match
/// the function's trend).
/// Thread-safety: may be called from any thread.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_new(
    config: *const penguin_config_t,
    engine_out: *mut *mut penguin_t,
) -> penguin_result_t {
    boundary("penguin_new", || {
        if engine_out.is_null() {
            return Err(null("engine_out"));
        }
        // SAFETY: a non-NULL config comes from penguin_config_new (contract).
        let config = unsafe { config.as_ref() }
            .map(|c| c.config.clone())
            .unwrap_or_default();
        let engine = Engine::new(config)?;
        let e = Box::into_raw(Box::new(penguin_t { engine }));
        // SAFETY: engine_out is non-NULL and writable (contract).
        unsafe { *engine_out = e };
        Ok(())
    })
}

/// Frees an engine and everything it tracks. NULL is allowed and does nothing.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_free(engine: *mut penguin_t) {
    let _ = boundary("penguin_free", || {
        if !engine.is_null() {
            // SAFETY: non-NULL pointers come from penguin_new and are freed once.
            drop(unsafe { Box::from_raw(engine) });
        }
        Ok(())
    });
}

/// Reports the fitness of network `nn_id` at `epoch` (a new id starts a new
/// network) and returns its state in `*status_out` (which may be NULL).
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT` (engine NULL),
/// `PENGUIN_ERROR_INVALID_EPOCH` (NaN, infinite, <= 0),
/// `PENGUIN_ERROR_INVALID_FITNESS` (NaN, infinite),
/// `PENGUIN_ERROR_EPOCH_NOT_INCREASING` or `PENGUIN_ERROR_ALREADY_DECIDED`.
/// On error the engine is unchanged and `*status_out` is not written.
/// Thread-safety: not concurrently with any other call on the same engine;
/// different engines may be used from different threads at once.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_observe(
    engine: *mut penguin_t,
    nn_id: u64,
    epoch: f64,
    fitness: f64,
    status_out: *mut penguin_nn_status_t,
) -> penguin_result_t {
    boundary("penguin_observe", || {
        // SAFETY: forwarded under this function's contract.
        unsafe { observe_one(engine, nn_id, epoch, fitness, f64::NAN, status_out) }
    })
}

/// Reports `n` observations at once: entry i is network `nn_ids[i]` at
/// `epochs[i]` with `fitness[i]`. A network may appear several times, in epoch
/// order. Networks are fitted in parallel on the engine's own thread pool
/// (config key `threads`). The decisions are identical to `n` calls of
/// `penguin_observe` in the same order (with `select_top`, all entries are
/// judged against the cutoff at the start of the call, where single calls each
/// see the cutoff of their own start). `statuses_out` (NULL allowed) receives
/// the state after each entry.
///
/// All or nothing: if any entry is rejected, the call returns that entry's code
/// (the lowest rejected index; the message names it), the engine is unchanged
/// and `statuses_out` is not written. `n` = 0 does nothing and succeeds; the
/// arrays may then be NULL.
///
/// Returns the codes of `penguin_observe`; `PENGUIN_ERROR_NULL_ARGUMENT` when an
/// input array is NULL with `n` > 0.
/// Thread-safety: as `penguin_observe`.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_observe_batch(
    engine: *mut penguin_t,
    n: usize,
    nn_ids: *const u64,
    epochs: *const f64,
    fitness: *const f64,
    statuses_out: *mut penguin_nn_status_t,
) -> penguin_result_t {
    boundary("penguin_observe_batch", || {
        // SAFETY: forwarded under this function's contract.
        unsafe {
            observe_batch(
                engine,
                n,
                nn_ids,
                epochs,
                fitness,
                std::ptr::null(),
                statuses_out,
            )
        }
    })
}

/// `penguin_observe_batch` with each entry's validation loss beside its
/// fitness (`val_loss[i]`; NaN: not reported; the array may be NULL: none
/// reported), for the late-bloomer guard: with the config keys `chance_level` and
/// `loss_patience` = K, a network about to stop with a prediction no better
/// than `chance_level` + `chance_margin` (default 5; for `direction = minimize`,
/// no lower than `chance_level` - `chance_margin`) keeps training until its
/// validation loss has not improved for K observations (a network still
/// learning shows it in its loss first); with `loss_min_delta` = d, only a loss
/// below the best so far by more than d times it counts as an improvement.
/// With `chance_patience` = K (and `chance_level`), a network still training
/// whose last K values are all at chance in that sense and whose loss, if
/// reported, has not improved for K observations (or `loss_patience`, when
/// longer) stops at once as a never-learner: state converged, `prediction` the
/// mean of those K values, `prediction_lo`/`prediction_hi` NaN (no
/// extrapolation). It does not wait for the warm-up (K = 3 with E = 0.5 can
/// stop a network at epoch 1.5, so a later entry of the same network in the
/// same batch fails the batch with `PENGUIN_ERR_ALREADY_DECIDED`), and it comes
/// after rank-aware stopping, the width gate and `fallback_width`: it wins over
/// them. A network at or past `max_epoch` has stopped already.
/// Everything else as `penguin_observe_batch`.
///
/// Returns the codes of `penguin_observe_batch`.
/// Thread-safety: as `penguin_observe`.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_observe_batch_with_loss(
    engine: *mut penguin_t,
    n: usize,
    nn_ids: *const u64,
    epochs: *const f64,
    fitness: *const f64,
    val_loss: *const f64,
    statuses_out: *mut penguin_nn_status_t,
) -> penguin_result_t {
    boundary("penguin_observe_batch_with_loss", || {
        // SAFETY: forwarded under this function's contract.
        unsafe { observe_batch(engine, n, nn_ids, epochs, fitness, val_loss, statuses_out) }
    })
}

/// `penguin_observe` with the network's validation loss at that epoch (NaN: not
/// reported), for the late-bloomer guard (see
/// `penguin_observe_batch_with_loss`).
///
/// Returns the codes of `penguin_observe`.
/// Thread-safety: as `penguin_observe`.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_observe_with_loss(
    engine: *mut penguin_t,
    nn_id: u64,
    epoch: f64,
    fitness: f64,
    val_loss: f64,
    status_out: *mut penguin_nn_status_t,
) -> penguin_result_t {
    boundary("penguin_observe_with_loss", || {
        // SAFETY: forwarded under this function's contract.
        unsafe { observe_one(engine, nn_id, epoch, fitness, val_loss, status_out) }
    })
}

/// The single-observation calls' common body.
///
/// # Safety
/// As `penguin_observe`: a NULL or valid engine, a NULL or writable status.
unsafe fn observe_one(
    engine: *mut penguin_t,
    nn_id: u64,
    epoch: f64,
    fitness: f64,
    val_loss: f64,
    status_out: *mut penguin_nn_status_t,
) -> crate::Result<()> {
    // SAFETY: a non-NULL engine comes from penguin_new (contract).
    let engine = unsafe { engine.as_mut() }.ok_or_else(|| null("engine"))?;
    let s = engine
        .engine
        .observe_with_loss(nn_id, epoch, fitness, val_loss)?;
    if !status_out.is_null() {
        // SAFETY: non-NULL and writable by contract.
        unsafe { *status_out = (&s).into() };
    }
    Ok(())
}

/// The batch calls' common body; `val_loss` may be NULL.
///
/// # Safety
/// As `penguin_observe_batch_with_loss`: a NULL or valid engine, and arrays of
/// at least `n` elements where not NULL.
unsafe fn observe_batch(
    engine: *mut penguin_t,
    n: usize,
    nn_ids: *const u64,
    epochs: *const f64,
    fitness: *const f64,
    val_loss: *const f64,
    statuses_out: *mut penguin_nn_status_t,
) -> crate::Result<()> {
    // SAFETY: a non-NULL engine comes from penguin_new (contract).
    let engine = unsafe { engine.as_mut() }.ok_or_else(|| null("engine"))?;
    if n == 0 {
        return Ok(());
    }
    for (p, name) in [
        (nn_ids.is_null(), "nn_ids"),
        (epochs.is_null(), "epochs"),
        (fitness.is_null(), "fitness"),
    ] {
        if p {
            return Err(null(name));
        }
    }
    // SAFETY: non-NULL arrays of at least n elements (contract).
    let (ids, eps, fits) = unsafe {
        (
            std::slice::from_raw_parts(nn_ids, n),
            std::slice::from_raw_parts(epochs, n),
            std::slice::from_raw_parts(fitness, n),
        )
    };
    // SAFETY: NULL, or an array of at least n elements (contract).
    let losses = (!val_loss.is_null()).then(|| unsafe { std::slice::from_raw_parts(val_loss, n) });
    let batch: Vec<Observation> = (0..n)
        .map(|i| Observation {
            id: ids[i],
            epoch: eps[i],
            value: fits[i],
        })
        .collect();
    let statuses = engine.engine.observe_batch_with_loss(&batch, losses)?;
    if !statuses_out.is_null() {
        // SAFETY: non-NULL array of at least n writable elements (contract).
        let out = unsafe { std::slice::from_raw_parts_mut(statuses_out, n) };
        for (o, s) in out.iter_mut().zip(&statuses) {
            *o = s.into();
        }
    }
    Ok(())
}

/// Returns the state of network `nn_id` without new data.
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT` or
/// `PENGUIN_ERROR_UNKNOWN_NETWORK`.
/// Thread-safety: may run concurrently with other read-only calls
/// (`penguin_status`, `penguin_network_count`) on the same engine, not with
/// calls that change it.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_status(
    engine: *const penguin_t,
    nn_id: u64,
    status_out: *mut penguin_nn_status_t,
) -> penguin_result_t {
    boundary("penguin_status", || {
        // SAFETY: a non-NULL engine comes from penguin_new (contract).
        let engine = unsafe { engine.as_ref() }.ok_or_else(|| null("engine"))?;
        if status_out.is_null() {
            return Err(null("status_out"));
        }
        let s = engine.engine.status(nn_id)?;
        // SAFETY: non-NULL and writable by contract.
        unsafe { *status_out = (&s).into() };
        Ok(())
    })
}

/// Stops tracking network `nn_id` and frees its history.
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT` or
/// `PENGUIN_ERROR_UNKNOWN_NETWORK`.
/// Thread-safety: as `penguin_observe`.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_forget(engine: *mut penguin_t, nn_id: u64) -> penguin_result_t {
    boundary("penguin_forget", || {
        // SAFETY: a non-NULL engine comes from penguin_new (contract).
        let engine = unsafe { engine.as_mut() }.ok_or_else(|| null("engine"))?;
        engine.engine.forget(nn_id)
    })
}

/// Writes the number of tracked networks to `*count_out`.
///
/// Returns `PENGUIN_OK` or `PENGUIN_ERROR_NULL_ARGUMENT`.
/// Thread-safety: as `penguin_status`.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_network_count(
    engine: *const penguin_t,
    count_out: *mut usize,
) -> penguin_result_t {
    boundary("penguin_network_count", || {
        // SAFETY: a non-NULL engine comes from penguin_new (contract).
        let engine = unsafe { engine.as_ref() }.ok_or_else(|| null("engine"))?;
        if count_out.is_null() {
            return Err(null("count_out"));
        }
        // SAFETY: non-NULL and writable by contract.
        unsafe { *count_out = engine.engine.len() };
        Ok(())
    })
}

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
    use crate::engine::State;

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
