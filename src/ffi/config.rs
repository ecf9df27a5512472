//! `penguin_config_t`: a configuration under construction, its keys and its
//! user-defined functions.

use super::errors::{boundary, c_str, null, penguin_result_t};
use super::user_function::{CallbackModel, penguin_jacobian_fn, penguin_model_fn};
use crate::config::Config;
use crate::error::{Error, ErrorCode};
use std::ffi::c_char;
use std::sync::Arc;

/// A configuration under construction. Opaque.
pub struct penguin_config_t {
    pub(super) config: Config,
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
/// stop, same place), `chance_wait` (the late-bloomer dial: no network at
/// chance stops before epoch `chance_wait` x `e_pred`), `alternatives`
/// (other functions fitted beside `function`) with `combine` (`aicc`: the
/// lowest AICc gives the prediction; `mean`: their mean; `mean_fitted`: the
/// mean of those that fitted), `fallback_width` (a network stopping on a prediction whose
/// interval is wider reports its newest observed value), `stop_width` (the
/// width gate: a network whose last N predictions agree stops only once its
/// prediction interval is at most this wide, and never on a prediction without
/// an interval; inf = off; a finite width needs `interval` > 0), `max_epoch`
/// (the training budget: a network still training at this epoch or later,
/// before `e_pred`, stops with `PENGUIN_CONVERGED`, answering its newest
/// prediction if that is a valid fitness, else its newest observed value with
/// no interval; inf = none), `answer_floor` (`on` | `off`, default off: a
/// network that stops before `e_pred` answers no worse than the mean of its
/// last N observed values; its interval is unchanged) and the solver keys
/// listed in docs/configuration.md.
///
/// `preset` (`paper`, `authors`, `a4nn`, `robust`) sets other keys where it
/// appears: every key back to the paper's default but the data's (`E`,
/// `e_pred`, `x_shift`, `direction`, `valid_min`, `valid_max`,
/// `chance_level`, `threads`), then the preset's own (docs/configuration.md);
/// keys set after it override it.
///
/// The rules apply in this order to each observation, each to the decision
/// the one before left: Algorithm 2, the width gate, rank-aware stopping,
/// successive halving, the late-bloomer guard (with the late-bloomer dial), the training budget,
/// `fallback_width`, the answer floor, the never-learner stop (which only
/// stops a network still training, and waits for the dial; its answer is not
/// floored).
///
/// Rank-aware stopping, `select_top = X`: before each call the engine takes the
/// cohort's top-X cutoff, the X-th best score among the networks it tracks
/// (a stopped network's final answer, a training network's newest valid
/// prediction). A network whose prediction interval lies entirely on the wrong
/// side of the cutoff stops after the warm-up (it cannot make the cut; its
/// `prediction` is the newest fit, or the answer floor's), and a
/// network that Algorithm 2 finds converged keeps training while its interval
/// straddles the cutoff; one whose interval lies clearly on the right side
/// stops as usual (subject to the width gate, which comes before: a network it
/// holds is not stopped for being above the cutoff, but one below still
/// stops). Without X scores or an interval the paper's decision stands. It
/// needs `interval` > 0 and costs a pass over all networks per batch (a
/// single observation keeps an index of the scores instead). Three
/// shares in [0, 1] (default 1) make it cheaper: `select_stop_reach` judges
/// "cannot make the cut" on the prediction moved only that share of the way
/// to its interval's better end (below 1, only once the network has a full
/// window of N predictions), `select_hold_reach` does the same for
/// holding a converged network, and no network is held from epoch
/// `select_hold_until` x `e_pred` on. With `select_clear_observed = on`
/// (default off), a converged network whose interval clears the cutoff stops
/// as a sure pick only when the mean of its last N observed values clears it
/// too; otherwise it is held like one whose interval straddles it. With
/// `select_hold_observed = K` (default 0: off), a network whose mean of its
/// last N observed values is at least the K-th best such mean in the cohort
/// (taken at the start of the call, as the cutoff is; stopped networks count
/// with theirs) is held too, whatever its prediction says, until
/// `select_hold_until` x `e_pred` (a pass over all networks per batch; an
/// index for single observations, as for the scores).
///
/// Successive halving, `select_halving = eta` (> 1; 0 = off): Penguin
/// allocates training as successive halving does and still answers a
/// prediction for every network. Its rungs lie at `e_pred / eta^k` (k = 1, 2,
/// ...) after the warm-up of N x E epochs. A network's first observation at
/// or after a rung is compared with those of every network that reached the
/// rung (the tracked ones and this call's): unless it is at least as good as
/// the max(X, ceil(m / eta))-th best of those m (X = `select_top`, at least
/// 1), the network stops there (`PENGUIN_CONVERGED`, answering its newest
/// prediction, or its observed value without a valid one). The others train
/// on to the next rung, the last ones to `e_pred` (`PENGUIN_REACHED_E_PRED`):
/// pick your top X among those first. Algorithm 2 and rank-aware stopping
/// stop no network then; the late-bloomer guard, the budget, `fallback_width`,
/// the answer floor and the never-learner stop still apply. A call's entries are judged together;
/// single observations, against the networks before them (as Optuna's
/// `SuccessiveHalvingPruner`). A batch costs a pass over all networks; a
/// single observation keeps an index of the values at the rungs instead.
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

/// Reads the value of configuration key `key` as text, as `penguin_config_set`
/// takes it and `penguin replay` prints it (e.g. `E` after `preset = a4nn`:
/// "1"). Copies it into `buf` with snprintf semantics: at most `len - 1`
/// bytes and a NUL terminator (nothing when `len` is 0; `buf` may then be
/// NULL), and writes the value's full length (without the NUL) to `*len_out`
/// (NULL allowed), so a length of `len` or more means it was truncated.
/// `preset` has no value of its own (its keys have).
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT` (config or key NULL, or
/// buf NULL with `len` > 0), `PENGUIN_ERROR_INVALID_ARGUMENT` (key not UTF-8)
/// or `PENGUIN_ERROR_UNKNOWN_CONFIG_KEY`. New since 0.2.0.
/// Thread-safety: not concurrently with calls changing the same configuration.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_config_get(
    config: *const penguin_config_t,
    key: *const c_char,
    buf: *mut c_char,
    len: usize,
    len_out: *mut usize,
) -> penguin_result_t {
    boundary("penguin_config_get", || {
        // SAFETY: a non-NULL config comes from penguin_config_new (contract).
        let config = unsafe { config.as_ref() }.ok_or_else(|| null("config"))?;
        // SAFETY: NUL-terminated string by contract; NULL is checked.
        let key = unsafe { c_str(key, "key")? };
        if buf.is_null() && len > 0 {
            return Err(null("buf"));
        }
        let value = config
            .config
            .pairs()
            .into_iter()
            .find(|(k, _)| *k == key.trim())
            .map(|(_, v)| v)
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::UnknownConfigKey,
                    format!(
                        "unknown configuration key '{key}' (or one without a value of its own)"
                    ),
                )
            })?;
        let bytes = value.as_bytes();
        if len > 0 {
            let k = bytes.len().min(len - 1);
            // SAFETY: buf is non-NULL with room for len bytes (contract); k < len.
            unsafe {
                std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), k);
                *buf.add(k) = 0;
            }
        }
        if !len_out.is_null() {
            // SAFETY: non-NULL and writable by contract.
            unsafe { *len_out = bytes.len() };
        }
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::errors::{PENGUIN_ERROR_UNKNOWN_CONFIG_KEY, PENGUIN_OK};

    #[test]
    fn config_get_reads_what_a_preset_set() {
        let mut cfg: *mut penguin_config_t = std::ptr::null_mut();
        assert_eq!(penguin_config_new(&mut cfg), PENGUIN_OK);
        assert_eq!(
            penguin_config_set(cfg, c"preset".as_ptr(), c"a4nn".as_ptr()),
            PENGUIN_OK
        );
        let mut buf = [0 as c_char; 8];
        let mut n = 0usize;
        assert_eq!(
            penguin_config_get(cfg, c"e_pred".as_ptr(), buf.as_mut_ptr(), buf.len(), &mut n),
            PENGUIN_OK
        );
        // SAFETY: penguin_config_get wrote a NUL-terminated string.
        let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        assert_eq!((text.to_str().unwrap(), n), ("26", 2));
        // The length alone, and a truncated copy.
        assert_eq!(
            penguin_config_get(cfg, c"bounds".as_ptr(), std::ptr::null_mut(), 0, &mut n),
            PENGUIN_OK
        );
        assert_eq!(n, "0.5,1,0;200,inf,inf".len());
        assert_eq!(
            penguin_config_get(cfg, c"bounds".as_ptr(), buf.as_mut_ptr(), buf.len(), &mut n),
            PENGUIN_OK
        );
        // SAFETY: as above.
        let text = unsafe { std::ffi::CStr::from_ptr(buf.as_ptr()) };
        assert_eq!(text.to_str().unwrap(), "0.5,1,0");
        for key in [c"preset", c"nope"] {
            assert_eq!(
                penguin_config_get(cfg, key.as_ptr(), buf.as_mut_ptr(), buf.len(), &mut n),
                PENGUIN_ERROR_UNKNOWN_CONFIG_KEY
            );
        }
        penguin_config_free(cfg);
    }
}
