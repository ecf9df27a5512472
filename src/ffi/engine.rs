//! `penguin_t`: an engine, its observations (one by one and in batches) and
//! the statuses it returns (`penguin_nn_status_t`).

use super::config::penguin_config_t;
use super::errors::{boundary, null, penguin_result_t};
use crate::engine::{Engine, Observation, Status};
use crate::error::{Error, ErrorCode};
use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU8, AtomicU32, Ordering};

/// Most parameters reported in `penguin_nn_status_t.params`.
pub const PENGUIN_MAX_PARAMS: usize = 8;

/// Keep training.
pub const PENGUIN_CONTINUE: i32 = 0;
/// Stop training before `e_pred`; `prediction` is final: the predictions
/// converged, or an opt-in rule stopped the network (`select_top`,
/// `select_halving`, `chance_patience`, `max_epoch`).
pub const PENGUIN_CONVERGED: i32 = 1;
/// Stop training: `e_pred` was reached; `prediction` holds the observed value.
pub const PENGUIN_REACHED_E_PRED: i32 = 2;

/// What Penguin says about one network. A plain struct, filled by Penguin.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct penguin_nn_status_t {
    /// `PENGUIN_CONTINUE`, `PENGUIN_CONVERGED` or `PENGUIN_REACHED_E_PRED`.
    pub state: i32,
    /// Number of observations of this network.
    pub observations: u32,
    /// Penguin's answer for the fitness at `e_pred`: the newest prediction while
    /// training continues (NaN while there is none), the final answer once
    /// converged (the prediction, or what an opt-in rule answers: the
    /// never-learner stop, the training budget, `fallback_width`, the answer
    /// floor), the observed value once `e_pred` is reached.
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
    /// Who is inside the engine right now (see [`Access`]).
    access: Access,
    /// The engine, reached only through [`penguin_t::write`] and
    /// [`penguin_t::read`], which take `access` first.
    engine: UnsafeCell<Engine>,
}

impl penguin_t {
    /// A handle for a new engine, to be boxed and given to the caller.
    pub(super) fn new(engine: Engine) -> penguin_t {
        penguin_t {
            access: Access::default(),
            engine: UnsafeCell::new(engine),
        }
    }

    /// Takes the engine for a call that changes it, or fails with
    /// `ErrorCode::Busy` (naming the call inside) when another thread is in it:
    /// never waits.
    #[inline]
    pub(super) fn write(&self, call: Call) -> Result<Writing<'_>, Error> {
        self.access.write(call)?;
        Ok(Writing { handle: self })
    }

    /// Takes the engine for a call that only reads it; other readers may be
    /// inside too, a writer may not (then `ErrorCode::Busy`).
    #[inline]
    pub(super) fn read(&self, call: Call) -> Result<Reading<'_>, Error> {
        self.access.read(call)?;
        Ok(Reading { handle: self })
    }
}

/// The engine taken by a call that changes it; released when dropped (also
/// when a panic unwinds through the call).
pub(super) struct Writing<'a> {
    handle: &'a penguin_t,
}

impl Writing<'_> {
    /// The engine, for changing.
    pub(super) fn engine(&mut self) -> &mut Engine {
        // SAFETY: this call holds the writer's access: no other call reaches
        // the engine until it is dropped, and the &mut borrows from self.
        unsafe { &mut *self.handle.engine.get() }
    }
}

impl Drop for Writing<'_> {
    fn drop(&mut self) {
        self.handle.access.state.store(0, Ordering::Release);
    }
}

/// The engine taken by a call that only reads it; released when dropped.
pub(super) struct Reading<'a> {
    handle: &'a penguin_t,
}

impl Reading<'_> {
    /// The engine, for reading.
    pub(super) fn engine(&self) -> &Engine {
        // SAFETY: readers only; no writer can take the engine while any
        // reader holds its access.
        unsafe { &*self.handle.engine.get() }
    }
}

impl Drop for Reading<'_> {
    fn drop(&mut self) {
        self.handle.access.state.fetch_sub(1, Ordering::Release);
    }
}

/// The calls that take an engine, by number (for the BUSY message).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(super) enum Call {
    Observe = 1,
    ObserveWithLoss,
    ObserveBatch,
    ObserveBatchWithLoss,
    Forget,
    Free,
    Status,
    NetworkCount,
    Save,
    StateSize,
    SaveToBuffer,
}

impl Call {
    const ALL: [Call; 11] = [
        Call::Observe,
        Call::ObserveWithLoss,
        Call::ObserveBatch,
        Call::ObserveBatchWithLoss,
        Call::Forget,
        Call::Free,
        Call::Status,
        Call::NetworkCount,
        Call::Save,
        Call::StateSize,
        Call::SaveToBuffer,
    ];

    /// The C function's name.
    fn name(self) -> &'static str {
        match self {
            Call::Observe => "penguin_observe",
            Call::ObserveWithLoss => "penguin_observe_with_loss",
            Call::ObserveBatch => "penguin_observe_batch",
            Call::ObserveBatchWithLoss => "penguin_observe_batch_with_loss",
            Call::Forget => "penguin_forget",
            Call::Free => "penguin_free",
            Call::Status => "penguin_status",
            Call::NetworkCount => "penguin_network_count",
            Call::Save => "penguin_save",
            Call::StateSize => "penguin_state_size",
            Call::SaveToBuffer => "penguin_save_to_buffer",
        }
    }

    fn from_u8(v: u8) -> Option<Call> {
        Call::ALL.into_iter().find(|c| *c as u8 == v)
    }
}

/// Concurrent-use detection, as SQLite and other C libraries do for the misuse
/// they can see cheaply: one atomic word says who is inside an engine, a
/// writer (its [`Call`] in the top byte) or readers (their count in the low 24
/// bits), never both. Taking it is one compare-and-swap and never waits: a
/// second caller gets `ErrorCode::Busy` and changes nothing.
#[derive(Debug, Default)]
struct Access {
    state: AtomicU32,
    /// The [`Call`] of the newest reader to enter, for the message a writer
    /// gets.
    reader: AtomicU8,
}

const WRITER_SHIFT: u32 = 24;
const READERS: u32 = (1 << WRITER_SHIFT) - 1;

impl Access {
    #[inline]
    fn write(&self, call: Call) -> Result<(), Error> {
        let mine = (call as u32) << WRITER_SHIFT;
        // On failure, Acquire: the readers' number seen was published by a
        // reader's AcqRel exchange, after its store of `reader`.
        match self
            .state
            .compare_exchange(0, mine, Ordering::Acquire, Ordering::Acquire)
        {
            Ok(_) => Ok(()),
            Err(now) if now >> WRITER_SHIFT != 0 => Err(busy(now >> WRITER_SHIFT)),
            Err(_) => Err(busy(u32::from(self.reader.load(Ordering::Relaxed)))),
        }
    }

    #[inline]
    fn read(&self, call: Call) -> Result<(), Error> {
        // Named before entering, so that a writer that sees this reader
        // inside can name it.
        self.reader.store(call as u8, Ordering::Relaxed);
        let mut now = self.state.load(Ordering::Relaxed);
        loop {
            if now >> WRITER_SHIFT != 0 || now & READERS == READERS {
                return Err(busy(now >> WRITER_SHIFT));
            }
            match self.state.compare_exchange_weak(
                now,
                now + 1,
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Ok(()),
                Err(actual) => now = actual,
            }
        }
    }
}

/// The error of a call that found `holder` (a [`Call`] number; 0: unknown)
/// inside the engine.
#[cold]
#[inline(never)]
fn busy(holder: u32) -> Error {
    let other = u8::try_from(holder)
        .ok()
        .and_then(Call::from_u8)
        .map_or("another call", Call::name);
    Error::new(
        ErrorCode::Busy,
        format!(
            "the engine is in use by {other} in another thread; one engine must not be \
             used by two threads at once (nothing was changed)"
        ),
    )
}

/// The handle behind a C engine pointer, or `NullArgument`.
///
/// # Safety
/// `engine` is NULL or comes from this library and is not freed.
pub(super) unsafe fn handle<'a>(engine: *const penguin_t) -> Result<&'a penguin_t, Error> {
    // SAFETY: a non-NULL engine comes from penguin_new or a load (contract).
    unsafe { engine.as_ref() }.ok_or_else(|| null("engine"))
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
        let e = Box::into_raw(Box::new(penguin_t::new(engine)));
        // SAFETY: engine_out is non-NULL and writable (contract).
        unsafe { *engine_out = e };
        Ok(())
    })
}

/// Frees an engine and everything it tracks. NULL is allowed and does nothing.
/// An engine that another thread is inside is not freed (freeing it would pull
/// the memory from under that call): it is left as it is, and
/// `penguin_last_error_message` says so (`PENGUIN_ERROR_BUSY`'s message).
#[unsafe(no_mangle)]
pub extern "C" fn penguin_free(engine: *mut penguin_t) {
    let _ = boundary("penguin_free", || {
        if engine.is_null() {
            return Ok(());
        }
        // SAFETY: non-NULL pointers come from penguin_new and are freed once.
        let handle = unsafe { handle(engine)? };
        drop(handle.write(Call::Free)?);
        // SAFETY: as above; no call was inside an instant ago, and a call that
        // starts now, after free, is the caller's use-after-free.
        drop(unsafe { Box::from_raw(engine) });
        Ok(())
    });
}

/// Reports the fitness of network `nn_id` at `epoch` (a new id starts a new
/// network) and returns its state in `*status_out` (which may be NULL).
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT` (engine NULL),
/// `PENGUIN_ERROR_INVALID_EPOCH` (NaN, infinite, <= 0),
/// `PENGUIN_ERROR_INVALID_FITNESS` (NaN, infinite),
/// `PENGUIN_ERROR_EPOCH_NOT_INCREASING`, `PENGUIN_ERROR_ALREADY_DECIDED` or
/// `PENGUIN_ERROR_BUSY`.
/// On error the engine is unchanged and `*status_out` is not written.
/// Thread-safety: not concurrently with any other call on the same engine (a
/// call that finds another thread inside the engine returns
/// `PENGUIN_ERROR_BUSY` at once, changing nothing); different engines may be
/// used from different threads at once.
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
        unsafe {
            observe_one(
                Call::Observe,
                engine,
                nn_id,
                epoch,
                fitness,
                f64::NAN,
                status_out,
            )
        }
    })
}

/// Reports `n` observations at once: entry i is network `nn_ids[i]` at
/// `epochs[i]` with `fitness[i]`. A network may appear several times, in epoch
/// order. Networks are fitted in parallel on the engine's own thread pool
/// (config key `threads`). The decisions are identical to `n` calls of
/// `penguin_observe` in the same order (with `select_top`, all entries are
/// judged against the cutoff at the start of the call, where single calls each
/// see the cutoff of their own start; with `select_halving`, the entries that
/// reach a rung are judged together, where single calls each see the values
/// there before them). `statuses_out` (NULL allowed) receives
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
                handle(engine)?.write(Call::ObserveBatch)?,
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
/// same batch fails the batch with `PENGUIN_ERROR_ALREADY_DECIDED`), and it comes
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
        unsafe {
            observe_batch(
                handle(engine)?.write(Call::ObserveBatchWithLoss)?,
                n,
                nn_ids,
                epochs,
                fitness,
                val_loss,
                statuses_out,
            )
        }
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
        unsafe {
            observe_one(
                Call::ObserveWithLoss,
                engine,
                nn_id,
                epoch,
                fitness,
                val_loss,
                status_out,
            )
        }
    })
}

/// The single-observation calls' common body.
///
/// # Safety
/// As `penguin_observe`: a NULL or valid engine, a NULL or writable status.
unsafe fn observe_one(
    call: Call,
    engine: *mut penguin_t,
    nn_id: u64,
    epoch: f64,
    fitness: f64,
    val_loss: f64,
    status_out: *mut penguin_nn_status_t,
) -> crate::Result<()> {
    // SAFETY: forwarded under this function's contract.
    let mut engine = unsafe { handle(engine)? }.write(call)?;
    let s = engine
        .engine()
        .observe_with_loss(nn_id, epoch, fitness, val_loss)?;
    if !status_out.is_null() {
        // SAFETY: non-NULL and writable by contract.
        unsafe { *status_out = (&s).into() };
    }
    Ok(())
}

/// The batch calls' common body, on the engine the call has taken;
/// `val_loss` may be NULL.
///
/// # Safety
/// As `penguin_observe_batch_with_loss`: arrays of at least `n` elements
/// where not NULL.
unsafe fn observe_batch(
    mut engine: Writing<'_>,
    n: usize,
    nn_ids: *const u64,
    epochs: *const f64,
    fitness: *const f64,
    val_loss: *const f64,
    statuses_out: *mut penguin_nn_status_t,
) -> crate::Result<()> {
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
    let statuses = engine.engine().observe_batch_with_loss(&batch, losses)?;
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
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT`,
/// `PENGUIN_ERROR_UNKNOWN_NETWORK` or `PENGUIN_ERROR_BUSY`.
/// Thread-safety: may run concurrently with other read-only calls
/// (`penguin_status`, `penguin_network_count`, `penguin_save`,
/// `penguin_state_size`, `penguin_save_to_buffer`) on the same engine, not
/// with calls that change it (detected: `PENGUIN_ERROR_BUSY`).
#[unsafe(no_mangle)]
pub extern "C" fn penguin_status(
    engine: *const penguin_t,
    nn_id: u64,
    status_out: *mut penguin_nn_status_t,
) -> penguin_result_t {
    boundary("penguin_status", || {
        // SAFETY: a non-NULL engine comes from penguin_new (contract).
        let engine = unsafe { handle(engine)? };
        if status_out.is_null() {
            return Err(null("status_out"));
        }
        let s = engine.read(Call::Status)?.engine().status(nn_id)?;
        // SAFETY: non-NULL and writable by contract.
        unsafe { *status_out = (&s).into() };
        Ok(())
    })
}

/// Stops tracking network `nn_id` and frees its history.
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT`,
/// `PENGUIN_ERROR_UNKNOWN_NETWORK` or `PENGUIN_ERROR_BUSY`.
/// Thread-safety: as `penguin_observe`.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_forget(engine: *mut penguin_t, nn_id: u64) -> penguin_result_t {
    boundary("penguin_forget", || {
        // SAFETY: a non-NULL engine comes from penguin_new (contract).
        let mut engine = unsafe { handle(engine)? }.write(Call::Forget)?;
        engine.engine().forget(nn_id)
    })
}

/// Writes the number of tracked networks to `*count_out`.
///
/// Returns `PENGUIN_OK`, `PENGUIN_ERROR_NULL_ARGUMENT` or `PENGUIN_ERROR_BUSY`.
/// Thread-safety: as `penguin_status`.
#[unsafe(no_mangle)]
pub extern "C" fn penguin_network_count(
    engine: *const penguin_t,
    count_out: *mut usize,
) -> penguin_result_t {
    boundary("penguin_network_count", || {
        // SAFETY: a non-NULL engine comes from penguin_new (contract).
        let engine = unsafe { handle(engine)? };
        if count_out.is_null() {
            return Err(null("count_out"));
        }
        let count = engine.read(Call::NetworkCount)?.engine().len();
        // SAFETY: non-NULL and writable by contract.
        unsafe { *count_out = count };
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Config;

    fn engine() -> penguin_t {
        penguin_t::new(Engine::new(Config::default()).unwrap())
    }

    #[test]
    fn a_second_writer_or_a_reader_beside_a_writer_is_busy() {
        let e = engine();
        let mut w = e.write(Call::ObserveBatch).unwrap();
        let err = e.write(Call::Observe).err().unwrap();
        assert_eq!(err.code, ErrorCode::Busy);
        assert!(err.message.contains("penguin_observe_batch"), "{err:?}");
        let err = e.read(Call::Status).err().unwrap();
        assert_eq!(err.code, ErrorCode::Busy);
        assert!(err.message.contains("penguin_observe_batch"), "{err:?}");
        w.engine().observe(1, 0.5, 10.0).unwrap();
        drop(w);
        // Released: both kinds enter again, and nothing was changed by the
        // refused calls.
        assert_eq!(e.read(Call::NetworkCount).unwrap().engine().len(), 1);
        drop(e.write(Call::Forget).unwrap());
    }

    #[test]
    fn readers_share_and_keep_writers_out() {
        let e = engine();
        let r1 = e.read(Call::Status).unwrap();
        let r2 = e.read(Call::Save).unwrap();
        assert_eq!(r1.engine().len(), r2.engine().len());
        let err = e.write(Call::Free).err().unwrap();
        assert_eq!(err.code, ErrorCode::Busy);
        assert!(err.message.contains("penguin_save"), "{err:?}");
        drop(r1);
        assert_eq!(e.write(Call::Forget).err().unwrap().code, ErrorCode::Busy);
        drop(r2);
        drop(e.write(Call::Forget).unwrap());
    }

    #[test]
    fn a_panic_inside_a_call_releases_the_engine() {
        let e = engine();
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _w = e.write(Call::Observe).unwrap();
            panic!("inside");
        }));
        assert!(r.is_err());
        drop(e.write(Call::Observe).unwrap());
    }

    #[test]
    fn every_call_has_its_own_name() {
        let names: std::collections::HashSet<_> = Call::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(names.len(), Call::ALL.len());
        for c in Call::ALL {
            assert_eq!(Call::from_u8(c as u8), Some(c));
        }
    }
}
