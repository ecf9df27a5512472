//! The catalogue of parametric learning-curve functions.
//!
//! Every function of the paper's Table 2 (after Viering & Loog 2021) and the
//! Domhan et al. (2015) families used by NNI and DeepHyper, each with a stable short
//! name, its number of parameters, its trend, default start values, default bounds
//! and an analytic Jacobian.
//!
//! Evaluation never panics: outside a function's domain (log of a negative number,
//! a negative base to a fractional power, overflow) it returns a non-finite value,
//! which the fitter treats as a failed step.

use std::fmt;
use std::sync::Arc;

/// Whether a function rises (accuracy-like) or falls (loss-like) with `x`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Trend {
    /// The curve increases with x (accuracy).
    Increasing,
    /// The curve decreases with x (loss).
    Decreasing,
}

impl Trend {
    /// The configuration spelling: `increasing` or `decreasing`.
    pub fn as_str(self) -> &'static str {
        match self {
            Trend::Increasing => "increasing",
            Trend::Decreasing => "decreasing",
        }
    }
}

/// A parametric function `y = f(x; p)` that Penguin can fit.
///
/// Implemented by the built-in catalogue ([`BuiltinFunction`]) and by user-defined
/// functions. Implementations must be thread-safe: batched fits call them from the
/// engine's worker threads.
pub trait Model: Send + Sync + fmt::Debug {
    /// The stable short name (e.g. `exp3`).
    fn name(&self) -> &str;
    /// Number of parameters.
    fn n_params(&self) -> usize;
    /// Evaluates `y_out[i] = f(x[i]; params)`. Returns false when the evaluation
    /// failed; non-finite outputs are also treated as failure by the fitter.
    fn eval(&self, x: &[f64], params: &[f64], y_out: &mut [f64]) -> bool;
    /// Fills the row-major `x.len() x n_params` Jacobian `d f(x[i]) / d p[j]`.
    /// Returns false when it cannot be computed (the fitter then uses finite
    /// differences).
    fn jacobian(&self, x: &[f64], params: &[f64], jac_out: &mut [f64]) -> bool;
    /// A start guess computed from the data, when the function has one.
    fn data_start(&self, _x: &[f64], _y: &[f64]) -> Option<Vec<f64>> {
        None
    }
}

/// Scalar value of a built-in function at one `x`.
pub type ValueFn = fn(x: f64, p: &[f64]) -> f64;
/// Gradient of a built-in function at one `x` with respect to the parameters.
pub type GradientFn = fn(x: f64, p: &[f64], grad_out: &mut [f64]);
/// Data-driven start guess of a built-in function.
pub type StartFn = fn(x: &[f64], y: &[f64]) -> Option<Vec<f64>>;

/// One entry of the built-in catalogue.
#[derive(Debug)]
pub struct BuiltinFunction {
    /// Stable short name used in configuration (`function = exp3`).
    pub name: &'static str,
    /// Human-readable formula.
    pub formula: &'static str,
    /// Where the function comes from (paper's Table 2 or Domhan et al.).
    pub source: &'static str,
    /// Increasing (accuracy) or decreasing (loss).
    pub trend: Trend,
    /// Default start values (length = number of parameters).
    pub p0: &'static [f64],
    /// Default lower bounds (`-inf` = unbounded).
    pub lower: &'static [f64],
    /// Default upper bounds (`inf` = unbounded).
    pub upper: &'static [f64],
    /// The value.
    pub value: ValueFn,
    /// The analytic gradient with respect to the parameters.
    pub gradient: GradientFn,
    /// Optional data-driven start guess, tried before `p0` when no start is configured.
    pub start: Option<StartFn>,
}

impl Model for BuiltinFunction {
    fn name(&self) -> &str {
        self.name
    }
    fn n_params(&self) -> usize {
        self.p0.len()
    }
    fn eval(&self, x: &[f64], params: &[f64], y_out: &mut [f64]) -> bool {
        for (y, &xi) in y_out.iter_mut().zip(x) {
            *y = (self.value)(xi, params);
        }
        true
    }
    fn jacobian(&self, x: &[f64], params: &[f64], jac_out: &mut [f64]) -> bool {
        let n = self.p0.len();
        for (row, &xi) in jac_out.chunks_exact_mut(n).zip(x) {
            (self.gradient)(xi, params, row);
        }
        true
    }
    fn data_start(&self, x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
        self.start.and_then(|s| s(x, y))
    }
}

const INF: f64 = f64::INFINITY;
const NINF: f64 = f64::NEG_INFINITY;

// ---------------------------------------------------------------------------
// exp3 = a - b^(c - x): the paper's case-study function.

fn exp3_value(x: f64, p: &[f64]) -> f64 {
    p[0] - p[1].powf(p[2] - x)
}
fn exp3_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let (b, c) = (p[1], p[2]);
    let pw = b.powf(c - x);
    g[0] = 1.0;
    g[1] = -(c - x) * pw / b;
    g[2] = -pw * b.ln();
}
/// The SciPy peer's data-driven start: a above the best value, b = e^0.5, and c
/// such that the curve passes through the first point.
fn exp3_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let (&x0, &y0) = (x.first()?, y.first()?);
    let a = y.iter().cloned().fold(NINF, f64::max) + 1.0;
    let b = 0.5f64.exp();
    let gap = (a - y0).max(1e-3);
    Some(vec![a, b, x0 + gap.ln() / b.ln()])
}

/// Every built-in function, in catalogue order.
pub static CATALOGUE: &[BuiltinFunction] = &[BuiltinFunction {
    name: "exp3",
    formula: "a - b^(c - x)",
    source: "paper Table 2 (case study)",
    trend: Trend::Increasing,
    p0: &[10.0, 1.001, 100.0],
    lower: &[NINF, 1.0, NINF],
    upper: &[INF, INF, INF],
    value: exp3_value,
    gradient: exp3_gradient,
    start: Some(exp3_start),
}];

/// Looks a built-in function up by its short name (case-insensitive).
pub fn builtin(name: &str) -> Option<&'static BuiltinFunction> {
    CATALOGUE.iter().find(|f| f.name.eq_ignore_ascii_case(name))
}

/// A shared handle to any model, built-in or user-defined.
pub type ModelRef = Arc<dyn Model>;

/// Wraps a built-in function as a [`ModelRef`].
pub fn builtin_model(f: &'static BuiltinFunction) -> ModelRef {
    Arc::new(BuiltinRef(f))
}

/// A `'static` built-in function behind the [`Model`] trait.
#[derive(Debug, Clone, Copy)]
pub struct BuiltinRef(pub &'static BuiltinFunction);

impl Model for BuiltinRef {
    fn name(&self) -> &str {
        self.0.name
    }
    fn n_params(&self) -> usize {
        self.0.n_params()
    }
    fn eval(&self, x: &[f64], params: &[f64], y_out: &mut [f64]) -> bool {
        self.0.eval(x, params, y_out)
    }
    fn jacobian(&self, x: &[f64], params: &[f64], jac_out: &mut [f64]) -> bool {
        self.0.jacobian(x, params, jac_out)
    }
    fn data_start(&self, x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
        self.0.data_start(x, y)
    }
}
