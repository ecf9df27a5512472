//! User-defined parametric functions given as C callbacks.

use crate::functions::Model;
use std::ffi::{c_int, c_void};

/// Evaluates a user-defined function: fills `y_out[i] = f(x[i]; params)` for
/// `i < n` and returns 0, or non-zero when the evaluation failed. Which threads
/// call it, and why it must not throw: see `penguin_config_set_function`.
pub type penguin_model_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        n: usize,
        x: *const f64,
        params: *const f64,
        y_out: *mut f64,
    ) -> c_int,
>;

/// Fills the row-major `n x n_params` Jacobian `jac_out[i * n_params + j] =
/// d f(x[i]) / d params[j]` and returns 0, or non-zero when it failed. Threads
/// and exceptions: as for `penguin_model_fn`.
pub type penguin_jacobian_fn = Option<
    unsafe extern "C" fn(
        user_data: *mut c_void,
        n: usize,
        x: *const f64,
        params: *const f64,
        jac_out: *mut f64,
    ) -> c_int,
>;

/// A function implemented by the caller through callbacks.
#[derive(Debug)]
pub struct CallbackModel {
    pub(crate) name: String,
    pub(crate) n_params: usize,
    pub(crate) value:
        unsafe extern "C" fn(*mut c_void, usize, *const f64, *const f64, *mut f64) -> c_int,
    pub(crate) jacobian: penguin_jacobian_fn,
    pub(crate) user_data: *mut c_void,
    pub(crate) p0: Option<Vec<f64>>,
    pub(crate) bounds: Option<(Vec<f64>, Vec<f64>)>,
}

// SAFETY: the model only passes `user_data` back to the caller's callbacks. The
// header requires those callbacks to be thread-safe when the engine's `threads`
// is not 1 (batched fits then call them from the engine's worker threads), which
// is exactly what Send + Sync promise here.
unsafe impl Send for CallbackModel {}
// SAFETY: as for Send above.
unsafe impl Sync for CallbackModel {}

impl Model for CallbackModel {
    fn name(&self) -> &str {
        &self.name
    }
    fn n_params(&self) -> usize {
        self.n_params
    }
    fn eval(&self, x: &[f64], params: &[f64], y_out: &mut [f64]) -> bool {
        if params.len() != self.n_params || y_out.len() < x.len() {
            return false;
        }
        // SAFETY: the pointers come from live slices of the lengths the callback
        // is told (n points, n_params parameters, n outputs).
        let rc = unsafe {
            (self.value)(
                self.user_data,
                x.len(),
                x.as_ptr(),
                params.as_ptr(),
                y_out.as_mut_ptr(),
            )
        };
        rc == 0 && y_out[..x.len()].iter().all(|v| v.is_finite())
    }
    fn jacobian(&self, x: &[f64], params: &[f64], jac_out: &mut [f64]) -> bool {
        let Some(jac) = self.jacobian else {
            return false; // the fitter uses finite differences
        };
        if params.len() != self.n_params || jac_out.len() < x.len() * self.n_params {
            return false;
        }
        // SAFETY: as in eval; jac_out holds n * n_params values.
        let rc = unsafe {
            jac(
                self.user_data,
                x.len(),
                x.as_ptr(),
                params.as_ptr(),
                jac_out.as_mut_ptr(),
            )
        };
        rc == 0
    }
    fn default_p0(&self) -> Option<Vec<f64>> {
        self.p0.clone()
    }
    fn default_bounds(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        self.bounds.clone()
    }
}
