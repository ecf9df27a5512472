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

use crate::profile::ProfileFit;
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
    /// Default start values, when the function has them.
    fn default_p0(&self) -> Option<Vec<f64>> {
        None
    }
    /// Default lower and upper bounds (`None`: unbounded).
    fn default_bounds(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        None
    }
    /// The global least-squares fit by profiling out the parameters the function
    /// is linear in (see [`crate::profile`]), for functions that have one.
    fn profile_fit(&self, _x: &[f64], _y: &[f64]) -> Option<ProfileFit> {
        None
    }
    /// Whether [`Model::profile_fit`] can answer.
    fn has_profile(&self) -> bool {
        false
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
    /// Optional whole-array evaluation and Jacobian (hoisting per-call work out
    /// of the loop); must agree with `value` and `gradient`.
    pub fast: Option<FastFns>,
}

/// The global fit of a built-in function by profile least squares.
pub type ProfileFn = fn(x: &[f64], y: &[f64]) -> Option<ProfileFit>;

/// Whole-array evaluation and row-major Jacobian of a built-in function.
#[derive(Debug, Clone, Copy)]
pub struct FastFns {
    /// Fills `y_out[i] = f(x[i]; p)`.
    pub eval: fn(x: &[f64], p: &[f64], y_out: &mut [f64]),
    /// Fills the row-major `x.len() x n_params` Jacobian.
    pub jacobian: fn(x: &[f64], p: &[f64], jac_out: &mut [f64]),
    /// The global fit by profile least squares, where the function allows it.
    pub profile: Option<ProfileFn>,
}

impl Model for BuiltinFunction {
    fn name(&self) -> &str {
        self.name
    }
    fn n_params(&self) -> usize {
        self.p0.len()
    }
    fn eval(&self, x: &[f64], params: &[f64], y_out: &mut [f64]) -> bool {
        if let Some(f) = self.fast
            && params.len() == self.p0.len()
            && y_out.len() >= x.len()
        {
            (f.eval)(x, params, y_out);
            return true;
        }
        for (y, &xi) in y_out.iter_mut().zip(x) {
            *y = (self.value)(xi, params);
        }
        true
    }
    fn jacobian(&self, x: &[f64], params: &[f64], jac_out: &mut [f64]) -> bool {
        let n = self.p0.len();
        if let Some(f) = self.fast
            && params.len() == n
            && jac_out.len() >= x.len() * n
        {
            (f.jacobian)(x, params, jac_out);
            return true;
        }
        for (row, &xi) in jac_out.chunks_exact_mut(n).zip(x) {
            (self.gradient)(xi, params, row);
        }
        true
    }
    fn data_start(&self, x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
        self.start.and_then(|s| s(x, y))
    }
    fn default_p0(&self) -> Option<Vec<f64>> {
        Some(self.p0.to_vec())
    }
    fn default_bounds(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        Some((self.lower.to_vec(), self.upper.to_vec()))
    }
    fn profile_fit(&self, x: &[f64], y: &[f64]) -> Option<ProfileFit> {
        self.fast.and_then(|f| f.profile).and_then(|p| p(x, y))
    }
    fn has_profile(&self) -> bool {
        self.fast.is_some_and(|f| f.profile.is_some())
    }
}

const INF: f64 = f64::INFINITY;
const NINF: f64 = f64::NEG_INFINITY;

// ---------------------------------------------------------------------------
// exp3 = a - b^(c - x): the paper's case-study function.

fn exp3_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c] = p else { return NAN };
    a - b.powf(c - x)
}
fn exp3_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c] = p else {
        g.fill(NAN);
        return;
    };
    let pw = b.powf(c - x);
    put(g, a - pw, [1.0, -(c - x) * pw / b, -pw * b.ln()]);
}
/// exp3 over a whole array: b^(c - x) = exp((c - x) ln b) with ln b computed once.
fn exp3_eval_many(x: &[f64], p: &[f64], y: &mut [f64]) {
    let (a, b, c) = (p[0], p[1], p[2]);
    let lb = b.ln();
    for (yi, &xi) in y.iter_mut().zip(x) {
        *yi = if b > 0.0 {
            a - ((c - xi) * lb).exp()
        } else {
            exp3_value(xi, p)
        };
    }
}
fn exp3_jacobian_many(x: &[f64], p: &[f64], jac: &mut [f64]) {
    let (a, b, c) = (p[0], p[1], p[2]);
    if b.is_nan() || b <= 0.0 {
        for (row, &xi) in jac.chunks_exact_mut(3).zip(x) {
            exp3_gradient(xi, p, row);
        }
        return;
    }
    let lb = b.ln();
    for (row, &xi) in jac.chunks_exact_mut(3).zip(x) {
        let pw = ((c - xi) * lb).exp();
        put(row, a - pw, [1.0, -(c - xi) * pw / b, -pw * lb]);
    }
}
/// The SciPy peer's data-driven start: a above the best value, b = e^0.5, and c
/// such that the curve passes through the first point.
fn exp3_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let (&x0, &y0) = (x.first()?, y.first()?);
    let a = y.iter().cloned().fold(NINF, f64::max) + 1.0;
    let b = 0.5f64.exp();
    let gap = (a - y0).max(1e-3);
    finite(vec![a, b, x0 + gap.ln() / b.ln()])
}

// ---------------------------------------------------------------------------
// Shared helpers. Value and gradient functions destructure `p` with a slice
// pattern (a wrong length gives NaN, never a panic) and write gradients through
// `put`, which never indexes past the caller's row.

const NAN: f64 = f64::NAN;

/// Copies a computed gradient into the caller's row; where the value `y` is not
/// finite (outside the domain) the whole row is NaN instead.
fn put<const N: usize>(g: &mut [f64], y: f64, v: [f64; N]) {
    if y.is_finite() {
        for (o, v) in g.iter_mut().zip(v) {
            *o = v;
        }
    } else {
        g.fill(NAN);
    }
}

/// `Some(v)` when every entry is finite.
fn finite(v: Vec<f64>) -> Option<Vec<f64>> {
    v.iter().all(|p| p.is_finite()).then_some(v)
}

/// A straight line `t = icpt + slope * f` fitted by least squares with `slope >= 0`.
#[derive(Clone, Copy, Debug)]
struct Line {
    slope: f64,
    icpt: f64,
    sse: f64,
}

/// The finite `(feature, target)` pairs of the data under `map`.
fn pairs(x: &[f64], y: &[f64], map: impl Fn(f64, f64) -> (f64, f64)) -> Vec<(f64, f64)> {
    x.iter()
        .zip(y)
        .map(|(&x, &y)| map(x, y))
        .filter(|(f, t)| f.is_finite() && t.is_finite())
        .collect()
}

/// Least squares `t = icpt + slope * f` (with `icpt = 0` when `!intercept`), the
/// slope clamped at zero. `None` when there is nothing to fit or it overflows.
fn line_fit(pts: &[(f64, f64)], intercept: bool) -> Option<Line> {
    if pts.is_empty() {
        return None;
    }
    let n = pts.len() as f64;
    let (slope, icpt) = if intercept {
        let mf = pts.iter().map(|p| p.0).sum::<f64>() / n;
        let mt = pts.iter().map(|p| p.1).sum::<f64>() / n;
        let sff: f64 = pts.iter().map(|p| (p.0 - mf) * (p.0 - mf)).sum();
        let sft: f64 = pts.iter().map(|p| (p.0 - mf) * (p.1 - mt)).sum();
        let slope = if sff > 0.0 { sft / sff } else { 0.0 };
        if slope >= 0.0 {
            (slope, mt - slope * mf)
        } else {
            (0.0, mt)
        }
    } else {
        let sff: f64 = pts.iter().map(|p| p.0 * p.0).sum();
        let sft: f64 = pts.iter().map(|p| p.0 * p.1).sum();
        if sff.is_nan() || sff <= 0.0 {
            return None;
        }
        ((sft / sff).max(0.0), 0.0)
    };
    let sse = pts
        .iter()
        .map(|p| (p.1 - icpt - slope * p.0).powi(2))
        .sum::<f64>();
    (slope.is_finite() && icpt.is_finite() && sse.is_finite()).then_some(Line { slope, icpt, sse })
}

/// Tries every shape, fits the linear part by [`line_fit`], turns the result into
/// parameters with `make` and keeps the finite candidate of smallest SSE.
fn best_shape<S: Copy>(
    shapes: &[S],
    fit: impl Fn(S) -> Option<Line>,
    make: impl Fn(S, Line) -> Option<Vec<f64>>,
) -> Option<Vec<f64>> {
    let mut best: Option<(f64, Vec<f64>)> = None;
    for &s in shapes {
        let Some(line) = fit(s) else { continue };
        let Some(p) = make(s, line).and_then(finite) else {
            continue;
        };
        if best.as_ref().is_none_or(|(sse, _)| line.sse < *sse) {
            best = Some((line.sse, p));
        }
    }
    best.map(|(_, p)| p)
}

/// Candidate exponents of power laws.
const POWERS: &[f64] = &[0.05, 0.1, 0.2, 0.35, 0.5, 0.75, 1.0, 1.5, 2.0];
/// Candidate rates of exponential decays in the rescaled epoch.
const RATES: &[f64] = &[0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0];
/// Candidate (rate, exponent) pairs of stretched exponentials and MMF curves.
const RATE_POWERS: &[(f64, f64)] = &[
    (0.01, 0.5),
    (0.03, 0.5),
    (0.1, 0.5),
    (0.3, 0.5),
    (1.0, 0.5),
    (0.01, 1.0),
    (0.03, 1.0),
    (0.1, 1.0),
    (0.3, 1.0),
    (1.0, 1.0),
    (0.01, 2.0),
    (0.03, 2.0),
    (0.1, 2.0),
    (0.3, 2.0),
    (1.0, 2.0),
];

/// Largest finite value of `y` (`-inf` when there is none).
fn max_of(y: &[f64]) -> f64 {
    y.iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(NINF, f64::max)
}

/// Smallest finite value of `y` (`inf` when there is none).
fn min_of(y: &[f64]) -> f64 {
    y.iter()
        .copied()
        .filter(|v| v.is_finite())
        .fold(INF, f64::min)
}

// ---------------------------------------------------------------------------
// Table 2, increasing (accuracy-like).

// pow2 = a x^b
fn pow2_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b] = p else { return NAN };
    a * x.powf(b)
}
fn pow2_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b] = p else {
        g.fill(NAN);
        return;
    };
    let u = x.powf(b);
    put(g, a * u, [u, a * u * x.ln()]);
}
/// Regression of `ln y` on `ln x` (points with `y > 0`).
fn pow2_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let l = line_fit(&pairs(x, y, |x, y| (x.ln(), y.ln())), true)?;
    finite(vec![l.icpt.exp(), l.slope])
}

// pow3 = a x^b + c
fn pow3_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c] = p else { return NAN };
    a * x.powf(b) + c
}
fn pow3_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c] = p else {
        g.fill(NAN);
        return;
    };
    let u = x.powf(b);
    put(g, a * u + c, [u, a * u * x.ln(), 1.0]);
}
/// The SciPy peer's start: a = max(last - first, 1), b = 0.5, c = first value.
fn pow3_start(_x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let (&first, &last) = (y.first()?, y.last()?);
    finite(vec![(last - first).max(1.0), 0.5, first])
}

// log2 = a ln x + c
fn log2_value(x: f64, p: &[f64]) -> f64 {
    let &[a, c] = p else { return NAN };
    a * x.ln() + c
}
fn log2_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, c] = p else {
        g.fill(NAN);
        return;
    };
    let l = x.ln();
    put(g, a * l + c, [l, 1.0]);
}
/// Linear regression of `y` on `ln x` (slope clamped at 0).
fn log2_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let l = line_fit(&pairs(x, y, |x, y| (x.ln(), y)), true)?;
    finite(vec![l.slope, l.icpt])
}

// expb3 = a e^(b x) + c
fn expb3_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c] = p else { return NAN };
    a * (b * x).exp() + c
}
fn expb3_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c] = p else {
        g.fill(NAN);
        return;
    };
    let e = (b * x).exp();
    put(g, a * e + c, [e, a * x * e, 1.0]);
}
/// Grid over the rate b < 0, regression for a and c.
fn expb3_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    best_shape(
        RATES,
        |r| line_fit(&pairs(x, y, |x, y| (-(-r * x).exp(), y)), true),
        |r, l| Some(vec![-l.slope, -r, l.icpt]),
    )
}

// vap3 = exp(a + b/x + c ln x) (also Domhan's vapor pressure)
fn vap3_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c] = p else { return NAN };
    (a + b / x + c * x.ln()).exp()
}
fn vap3_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c] = p else {
        g.fill(NAN);
        return;
    };
    let l = x.ln();
    let y = (a + b / x + c * l).exp();
    put(g, y, [y, y / x, y * l]);
}
/// Grid over b <= 0, regression of `ln y - b/x` on `ln x` for a and c.
fn vap3_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    const BS: &[f64] = &[0.0, -0.1, -0.25, -0.5, -1.0, -2.0, -4.0];
    best_shape(
        BS,
        |b| line_fit(&pairs(x, y, |x, y| (x.ln(), y.ln() - b / x)), true),
        |b, l| Some(vec![l.icpt, b, l.slope]),
    )
}

// mmf4 = (a b + c x^d) / (b + x^d), evaluated as c - (c - a) b / (b + x^d)
fn mmf4_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c, d] = p else { return NAN };
    c - (c - a) * b / (b + x.powf(d))
}
fn mmf4_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c, d] = p else {
        g.fill(NAN);
        return;
    };
    let u = x.powf(d);
    let den = b + u;
    let den2 = den * den;
    put(
        g,
        c - (c - a) * b / den,
        [
            b / den,
            (a - c) * u / den2,
            u / den,
            (c - a) * b * u * x.ln() / den2,
        ],
    );
}
/// Grid over (b, d), regression for a and c.
fn mmf4_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    const BD: &[(f64, f64)] = &[
        (0.3, 0.5),
        (1.0, 0.5),
        (3.0, 0.5),
        (0.3, 1.0),
        (1.0, 1.0),
        (3.0, 1.0),
        (10.0, 1.0),
        (30.0, 1.0),
        (1.0, 2.0),
        (10.0, 2.0),
        (100.0, 2.0),
    ];
    best_shape(
        BD,
        |(b, d)| line_fit(&pairs(x, y, |x, y| (-b / (b + x.powf(d)), y)), true),
        |(b, d), l| Some(vec![l.icpt - l.slope, b, l.icpt, d]),
    )
}

// wbl4 = c - b e^(-a x^d)
fn wbl4_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c, d] = p else { return NAN };
    c - b * (-a * x.powf(d)).exp()
}
fn wbl4_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c, d] = p else {
        g.fill(NAN);
        return;
    };
    let u = x.powf(d);
    let e = (-a * u).exp();
    put(g, c - b * e, [b * u * e, -e, 1.0, a * b * u * e * x.ln()]);
}
/// Grid over (a, d), regression for b and c.
fn wbl4_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    best_shape(
        RATE_POWERS,
        |(a, d)| line_fit(&pairs(x, y, |x, y| (-(-a * x.powf(d)).exp(), y)), true),
        |(a, d), l| Some(vec![a, l.slope, l.icpt, d]),
    )
}

// exp4 = c - exp(-a x^d + b)
fn exp4_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c, d] = p else { return NAN };
    c - (b - a * x.powf(d)).exp()
}
fn exp4_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c, d] = p else {
        g.fill(NAN);
        return;
    };
    let u = x.powf(d);
    let e = (b - a * u).exp();
    put(g, c - e, [u * e, -e, 1.0, a * u * e * x.ln()]);
}
/// Grid over (a, d), regression for e^b and c (None on a flat curve).
fn exp4_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    best_shape(
        RATE_POWERS,
        |(a, d)| line_fit(&pairs(x, y, |x, y| (-(-a * x.powf(d)).exp(), y)), true),
        |(a, d), l| (l.slope > 0.0).then(|| vec![a, l.slope.ln(), l.icpt, d]),
    )
}

// expp3 = c - exp((x - b)^a)
fn expp3_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c] = p else { return NAN };
    c - (x - b).powf(a).exp()
}
fn expp3_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c] = p else {
        g.fill(NAN);
        return;
    };
    let u = x - b;
    let t = u.powf(a);
    let e = t.exp();
    put(g, c - e, [-e * t * u.ln(), e * a * t / u, 1.0]);
}
/// Grid over a < 0 and the gap between b and the first epoch (b < every x keeps
/// the curve defined); c by least squares.
fn expp3_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    const A: &[f64] = &[-0.25, -0.5, -1.0, -2.0, -3.0];
    const GAP: &[f64] = &[0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.0, 5.0];
    let pts = pairs(x, y, |x, y| (x, y));
    let x_min = pts.iter().map(|p| p.0).fold(INF, f64::min);
    let n = pts.len() as f64;
    let shapes: Vec<(f64, f64)> = A
        .iter()
        .flat_map(|&a| GAP.iter().map(move |&gap| (a, x_min - gap)))
        .collect();
    best_shape(
        &shapes,
        |(a, b)| {
            // y + exp((x - b)^a) = c: c is the mean, the SSE the spread.
            let e = |x: f64| (x - b).powf(a).exp();
            let icpt = pts.iter().map(|&(x, y)| y + e(x)).sum::<f64>() / n;
            let sse = pts
                .iter()
                .map(|&(x, y)| (y + e(x) - icpt).powi(2))
                .sum::<f64>();
            (icpt.is_finite() && sse.is_finite()).then_some(Line {
                slope: 1.0,
                icpt,
                sse,
            })
        },
        |(a, b), l| Some(vec![a, b, l.icpt]),
    )
}

// pow4 = c - (-a x + b)^(-d)
fn pow4_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c, d] = p else { return NAN };
    c - (b - a * x).powf(-d)
}
fn pow4_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c, d] = p else {
        g.fill(NAN);
        return;
    };
    let base = b - a * x;
    let pw = base.powf(-d);
    put(
        g,
        c - pw,
        [-d * x * pw / base, d * pw / base, 1.0, pw * base.ln()],
    );
}
/// b = 0 and a grid over d; regression of y on -x^(-d) gives c and |a|^(-d).
fn pow4_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    best_shape(
        POWERS,
        |d| line_fit(&pairs(x, y, |x, y| (-x.powf(-d), y)), true),
        |d, l| (l.slope > 0.0).then(|| vec![-l.slope.powf(-1.0 / d), 0.0, l.icpt, d]),
    )
}

// ilog2 = c - a / ln x
fn ilog2_value(x: f64, p: &[f64]) -> f64 {
    let &[a, c] = p else { return NAN };
    c - a / x.ln()
}
fn ilog2_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, c] = p else {
        g.fill(NAN);
        return;
    };
    let r = 1.0 / x.ln();
    put(g, c - a * r, [-r, 1.0]);
}
/// Linear regression of y on -1/ln x (points with x != 1).
fn ilog2_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let l = line_fit(&pairs(x, y, |x, y| (-1.0 / x.ln(), y)), true)?;
    finite(vec![l.slope, l.icpt])
}

// expd3 = c - (c - a) e^(-b x)
fn expd3_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c] = p else { return NAN };
    c - (c - a) * (-b * x).exp()
}
fn expd3_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c] = p else {
        g.fill(NAN);
        return;
    };
    let e = (-b * x).exp();
    put(g, c - (c - a) * e, [e, (c - a) * x * e, 1.0 - e]);
}
/// The SciPy peer's start: a = first value, b = 0.3, c = best value + 1.
fn expd3_start(_x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let &first = y.first()?;
    finite(vec![first, 0.3, max_of(y) + 1.0])
}

// ---------------------------------------------------------------------------
// Table 2, decreasing (loss-like).

// pow2d = a x^(-b)
fn pow2d_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b] = p else { return NAN };
    a * x.powf(-b)
}
fn pow2d_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b] = p else {
        g.fill(NAN);
        return;
    };
    let u = x.powf(-b);
    put(g, a * u, [u, -a * u * x.ln()]);
}
/// Regression of `ln y` on `-ln x` (points with `y > 0`).
fn pow2d_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let l = line_fit(&pairs(x, y, |x, y| (-x.ln(), y.ln())), true)?;
    finite(vec![l.icpt.exp(), l.slope])
}

// pow3d = a x^(-b) + c
fn pow3d_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c] = p else { return NAN };
    a * x.powf(-b) + c
}
fn pow3d_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c] = p else {
        g.fill(NAN);
        return;
    };
    let u = x.powf(-b);
    put(g, a * u + c, [u, -a * u * x.ln(), 1.0]);
}
/// Grid over b, regression of y on x^(-b) for a and c.
fn pow3d_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    best_shape(
        POWERS,
        |b| line_fit(&pairs(x, y, |x, y| (x.powf(-b), y)), true),
        |b, l| Some(vec![l.slope, b, l.icpt]),
    )
}

// log2d = -a ln x + c
fn log2d_value(x: f64, p: &[f64]) -> f64 {
    let &[a, c] = p else { return NAN };
    c - a * x.ln()
}
fn log2d_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, c] = p else {
        g.fill(NAN);
        return;
    };
    let l = x.ln();
    put(g, c - a * l, [-l, 1.0]);
}
/// Linear regression of y on -ln x (slope clamped at 0).
fn log2d_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let l = line_fit(&pairs(x, y, |x, y| (-x.ln(), y)), true)?;
    finite(vec![l.slope, l.icpt])
}

// lossexp3 = a e^(-b x) + c
fn lossexp3_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c] = p else { return NAN };
    a * (-b * x).exp() + c
}
fn lossexp3_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c] = p else {
        g.fill(NAN);
        return;
    };
    let e = (-b * x).exp();
    put(g, a * e + c, [e, -a * x * e, 1.0]);
}
/// The SciPy peer's start: a = max(first - last, 0.1), b = 0.3, c = lowest value.
fn lossexp3_start(_x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let (&first, &last) = (y.first()?, y.last()?);
    finite(vec![(first - last).max(0.1), 0.3, min_of(y)])
}

// exp2d = a e^(-b x)
fn exp2d_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b] = p else { return NAN };
    a * (-b * x).exp()
}
fn exp2d_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b] = p else {
        g.fill(NAN);
        return;
    };
    let e = (-b * x).exp();
    put(g, a * e, [e, -a * x * e]);
}
/// Regression of `ln y` on `-x` (points with `y > 0`).
fn exp2d_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let l = line_fit(&pairs(x, y, |x, y| (-x, y.ln())), true)?;
    finite(vec![l.icpt.exp(), l.slope])
}

// lin2d = -a x + b
fn lin2d_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b] = p else { return NAN };
    b - a * x
}
fn lin2d_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b] = p else {
        g.fill(NAN);
        return;
    };
    put(g, b - a * x, [-x, 1.0]);
}
/// Linear regression of y on -x (slope clamped at 0).
fn lin2d_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let l = line_fit(&pairs(x, y, |x, y| (-x, y)), true)?;
    finite(vec![l.slope, l.icpt])
}

// ---------------------------------------------------------------------------
// Domhan et al. (2015) families, as used by NNI and DeepHyper (increasing).

// pow3_domhan = c - a x^(-alpha), params (c, a, alpha)
fn pow3_domhan_value(x: f64, p: &[f64]) -> f64 {
    let &[c, a, alpha] = p else { return NAN };
    c - a * x.powf(-alpha)
}
fn pow3_domhan_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[c, a, alpha] = p else {
        g.fill(NAN);
        return;
    };
    let u = x.powf(-alpha);
    put(g, c - a * u, [1.0, -u, a * u * x.ln()]);
}
/// Grid over alpha, regression of y on -x^(-alpha) for c and a.
fn pow3_domhan_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    best_shape(
        POWERS,
        |al| line_fit(&pairs(x, y, |x, y| (-x.powf(-al), y)), true),
        |al, l| Some(vec![l.icpt, l.slope, al]),
    )
}

// pow4_domhan = c - (a x + b)^(-alpha), params (c, a, b, alpha)
fn pow4_domhan_value(x: f64, p: &[f64]) -> f64 {
    let &[c, a, b, alpha] = p else { return NAN };
    c - (a * x + b).powf(-alpha)
}
fn pow4_domhan_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[c, a, b, alpha] = p else {
        g.fill(NAN);
        return;
    };
    let base = a * x + b;
    let pw = base.powf(-alpha);
    put(
        g,
        c - pw,
        [
            1.0,
            alpha * x * pw / base,
            alpha * pw / base,
            pw * base.ln(),
        ],
    );
}
/// b = 0 and a grid over alpha; regression of y on -x^(-alpha) gives c and a^(-alpha).
fn pow4_domhan_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    best_shape(
        POWERS,
        |al| line_fit(&pairs(x, y, |x, y| (-x.powf(-al), y)), true),
        |al, l| (l.slope > 0.0).then(|| vec![l.icpt, l.slope.powf(-1.0 / al), 0.0, al]),
    )
}

// log_power = a / (1 + (x / e^b)^c), evaluated with (x / e^b)^c = exp(c (ln x - b))
fn log_power_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b, c] = p else { return NAN };
    a / (1.0 + (c * (x.ln() - b)).exp())
}
fn log_power_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b, c] = p else {
        g.fill(NAN);
        return;
    };
    let l = x.ln() - b;
    let w = (c * l).exp();
    let den = 1.0 + w;
    let den2 = den * den;
    put(g, a / den, [1.0 / den, a * c * w / den2, -a * l * w / den2]);
}
/// Grid over (b, c), regression through the origin for a.
fn log_power_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    const BC: &[(f64, f64)] = &[
        (0.0, -0.5),
        (1.0, -0.5),
        (2.0, -0.5),
        (3.0, -0.5),
        (0.0, -1.0),
        (1.0, -1.0),
        (2.0, -1.0),
        (3.0, -1.0),
        (0.0, -2.0),
        (1.0, -2.0),
        (2.0, -2.0),
        (0.0, -0.25),
        (2.0, -0.25),
        (4.0, -0.25),
    ];
    best_shape(
        BC,
        |(b, c)| {
            line_fit(
                &pairs(x, y, |x, y| (1.0 / (1.0 + (c * (x.ln() - b)).exp()), y)),
                false,
            )
        },
        |(b, c), l| Some(vec![l.slope, b, c]),
    )
}

// weibull = alpha - (alpha - beta) exp(-(kappa x)^delta)
fn weibull_value(x: f64, p: &[f64]) -> f64 {
    let &[alpha, beta, kappa, delta] = p else {
        return NAN;
    };
    alpha - (alpha - beta) * (-(kappa * x).powf(delta)).exp()
}
fn weibull_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[alpha, beta, kappa, delta] = p else {
        g.fill(NAN);
        return;
    };
    let kx = kappa * x;
    let v = kx.powf(delta);
    let e = (-v).exp();
    let s = (alpha - beta) * e; // dy/dv
    put(
        g,
        alpha - s,
        [
            1.0 - e,
            e,
            s * delta * x * kx.powf(delta - 1.0),
            s * v * kx.ln(),
        ],
    );
}
/// Grid over (kappa, delta), regression for alpha and beta.
fn weibull_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    best_shape(
        RATE_POWERS,
        |(k, d)| line_fit(&pairs(x, y, |x, y| (-(-(k * x).powf(d)).exp(), y)), true),
        |(k, d), l| Some(vec![l.icpt, l.icpt - l.slope, k, d]),
    )
}

// mmf = alpha - (alpha - beta) / (1 + (kappa x)^delta)
fn mmf_value(x: f64, p: &[f64]) -> f64 {
    let &[alpha, beta, kappa, delta] = p else {
        return NAN;
    };
    alpha - (alpha - beta) / (1.0 + (kappa * x).powf(delta))
}
fn mmf_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[alpha, beta, kappa, delta] = p else {
        g.fill(NAN);
        return;
    };
    let kx = kappa * x;
    let v = kx.powf(delta);
    let den = 1.0 + v;
    let s = (alpha - beta) / (den * den); // dy/dv
    put(
        g,
        alpha - (alpha - beta) / den,
        [
            1.0 - 1.0 / den,
            1.0 / den,
            s * delta * x * kx.powf(delta - 1.0),
            s * v * kx.ln(),
        ],
    );
}
/// Grid over (kappa, delta), regression for alpha and beta.
fn mmf_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    best_shape(
        RATE_POWERS,
        |(k, d)| {
            line_fit(
                &pairs(x, y, |x, y| (-1.0 / (1.0 + (k * x).powf(d)), y)),
                true,
            )
        },
        |(k, d), l| Some(vec![l.icpt, l.icpt - l.slope, k, d]),
    )
}

// janoschek = alpha - (alpha - beta) exp(-kappa x^delta)
fn janoschek_value(x: f64, p: &[f64]) -> f64 {
    let &[alpha, beta, kappa, delta] = p else {
        return NAN;
    };
    alpha - (alpha - beta) * (-kappa * x.powf(delta)).exp()
}
fn janoschek_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[alpha, beta, kappa, delta] = p else {
        g.fill(NAN);
        return;
    };
    let u = x.powf(delta);
    let e = (-kappa * u).exp();
    let s = (alpha - beta) * e;
    put(g, alpha - s, [1.0 - e, e, s * u, s * kappa * u * x.ln()]);
}
/// Grid over (kappa, delta), regression for alpha and beta.
fn janoschek_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    best_shape(
        RATE_POWERS,
        |(k, d)| line_fit(&pairs(x, y, |x, y| (-(-k * x.powf(d)).exp(), y)), true),
        |(k, d), l| Some(vec![l.icpt, l.icpt - l.slope, k, d]),
    )
}

// exp4_domhan = c - exp(-a x^alpha + b), params (c, a, b, alpha)
fn exp4_domhan_value(x: f64, p: &[f64]) -> f64 {
    let &[c, a, b, alpha] = p else { return NAN };
    c - (b - a * x.powf(alpha)).exp()
}
fn exp4_domhan_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[c, a, b, alpha] = p else {
        g.fill(NAN);
        return;
    };
    let u = x.powf(alpha);
    let e = (b - a * u).exp();
    put(g, c - e, [1.0, u * e, -e, a * u * e * x.ln()]);
}
/// Grid over (a, alpha), regression for c and e^b (None on a flat curve).
fn exp4_domhan_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    best_shape(
        RATE_POWERS,
        |(a, al)| line_fit(&pairs(x, y, |x, y| (-(-a * x.powf(al)).exp(), y)), true),
        |(a, al), l| (l.slope > 0.0).then(|| vec![l.icpt, a, l.slope.ln(), al]),
    )
}

// ilog2_domhan = c - a / ln(x + 1), params (c, a)
fn ilog2_domhan_value(x: f64, p: &[f64]) -> f64 {
    let &[c, a] = p else { return NAN };
    c - a / x.ln_1p()
}
fn ilog2_domhan_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[c, a] = p else {
        g.fill(NAN);
        return;
    };
    let r = 1.0 / x.ln_1p();
    put(g, c - a * r, [1.0, -r]);
}
/// Linear regression of y on -1/ln(x + 1).
fn ilog2_domhan_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let l = line_fit(&pairs(x, y, |x, y| (-1.0 / x.ln_1p(), y)), true)?;
    finite(vec![l.icpt, l.slope])
}

// hill = theta x^eta / (kappa^eta + x^eta), evaluated as theta / (1 + (kappa/x)^eta)
fn hill_value(x: f64, p: &[f64]) -> f64 {
    let &[theta, eta, kappa] = p else { return NAN };
    theta / (1.0 + (kappa / x).powf(eta))
}
fn hill_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[theta, eta, kappa] = p else {
        g.fill(NAN);
        return;
    };
    let r = kappa / x;
    let w = r.powf(eta);
    let den = 1.0 + w;
    let s = -theta / (den * den); // dy/dw
    put(
        g,
        theta / den,
        [1.0 / den, s * w * r.ln(), s * eta * r.powf(eta - 1.0) / x],
    );
}
/// Grid over (eta, kappa), regression through the origin for theta.
fn hill_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    const EK: &[(f64, f64)] = &[
        (0.5, 0.5),
        (0.5, 2.0),
        (0.5, 10.0),
        (1.0, 0.5),
        (1.0, 1.0),
        (1.0, 2.0),
        (1.0, 5.0),
        (1.0, 10.0),
        (1.0, 20.0),
        (2.0, 1.0),
        (2.0, 2.0),
        (2.0, 5.0),
        (2.0, 10.0),
    ];
    best_shape(
        EK,
        |(e, k)| {
            line_fit(
                &pairs(x, y, |x, y| (1.0 / (1.0 + (k / x).powf(e)), y)),
                false,
            )
        },
        |(e, k), l| Some(vec![l.slope, e, k]),
    )
}

// log_log_linear = ln(a ln x + b)
fn log_log_linear_value(x: f64, p: &[f64]) -> f64 {
    let &[a, b] = p else { return NAN };
    (a * x.ln() + b).ln()
}
fn log_log_linear_gradient(x: f64, p: &[f64], g: &mut [f64]) {
    let &[a, b] = p else {
        g.fill(NAN);
        return;
    };
    let l = x.ln();
    let s = a * l + b;
    put(g, s.ln(), [l / s, 1.0 / s]);
}
/// Linear regression of e^y on ln x (None when the intercept is not positive).
fn log_log_linear_start(x: &[f64], y: &[f64]) -> Option<Vec<f64>> {
    let l = line_fit(&pairs(x, y, |x, y| (x.ln(), y.exp())), true)?;
    (l.icpt > 0.0)
        .then(|| vec![l.slope, l.icpt])
        .and_then(finite)
}

/// Every built-in function, in catalogue order.
pub static CATALOGUE: &[BuiltinFunction] = &[
    BuiltinFunction {
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
        fast: Some(FastFns {
            eval: exp3_eval_many,
            jacobian: exp3_jacobian_many,
            profile: Some(crate::profile::fit_exp3),
        }),
    },
    // Table 2, increasing.
    BuiltinFunction {
        name: "pow2",
        formula: "a x^b",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[10.0, 0.5],
        lower: &[0.0, 0.0],
        upper: &[INF, INF],
        value: pow2_value,
        gradient: pow2_gradient,
        start: Some(pow2_start),
        fast: None,
    },
    BuiltinFunction {
        name: "pow3",
        formula: "a x^b + c",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[1.0, 0.5, 10.0],
        lower: &[0.0, 0.0, NINF],
        upper: &[INF, INF, INF],
        value: pow3_value,
        gradient: pow3_gradient,
        start: Some(pow3_start),
        fast: None,
    },
    BuiltinFunction {
        name: "log2",
        formula: "a log(x) + c",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[10.0, 20.0],
        lower: &[0.0, NINF],
        upper: &[INF, INF],
        value: log2_value,
        gradient: log2_gradient,
        start: Some(log2_start),
        fast: None,
    },
    BuiltinFunction {
        name: "expb3",
        formula: "a e^(b x) + c",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[-60.0, -0.1, 70.0],
        lower: &[NINF, NINF, NINF],
        upper: &[0.0, 0.0, INF],
        value: expb3_value,
        gradient: expb3_gradient,
        start: Some(expb3_start),
        fast: None,
    },
    BuiltinFunction {
        name: "vap3",
        formula: "exp(a + b/x + c log(x))",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[3.9, -0.9, 0.1],
        lower: &[NINF, NINF, 0.0],
        upper: &[INF, 0.0, INF],
        value: vap3_value,
        gradient: vap3_gradient,
        start: Some(vap3_start),
        fast: None,
    },
    BuiltinFunction {
        name: "mmf4",
        formula: "(a b + c x^d) / (b + x^d)",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[10.0, 10.0, 80.0, 1.0],
        lower: &[NINF, 0.0, NINF, 0.0],
        upper: &[INF, INF, INF, INF],
        value: mmf4_value,
        gradient: mmf4_gradient,
        start: Some(mmf4_start),
        fast: None,
    },
    BuiltinFunction {
        name: "wbl4",
        formula: "c - b e^(-a x^d)",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[0.1, 60.0, 70.0, 1.0],
        lower: &[0.0, 0.0, NINF, 0.0],
        upper: &[INF, INF, INF, INF],
        value: wbl4_value,
        gradient: wbl4_gradient,
        start: Some(wbl4_start),
        fast: None,
    },
    BuiltinFunction {
        name: "exp4",
        formula: "c - exp(-a x^d + b)",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[0.1, 4.1, 70.0, 1.0],
        lower: &[0.0, NINF, NINF, 0.0],
        upper: &[INF, INF, INF, INF],
        value: exp4_value,
        gradient: exp4_gradient,
        start: Some(exp4_start),
        fast: None,
    },
    BuiltinFunction {
        name: "expp3",
        formula: "c - exp((x - b)^a)",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[-1.0, 0.0, 70.0],
        lower: &[NINF, NINF, NINF],
        upper: &[0.0, INF, INF],
        value: expp3_value,
        gradient: expp3_gradient,
        start: Some(expp3_start),
        fast: None,
    },
    BuiltinFunction {
        name: "pow4",
        formula: "c - (-a x + b)^(-d)",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[-0.01, 0.01, 70.0, 1.0],
        lower: &[NINF, 0.0, NINF, 0.0],
        upper: &[0.0, INF, INF, INF],
        value: pow4_value,
        gradient: pow4_gradient,
        start: Some(pow4_start),
        fast: None,
    },
    BuiltinFunction {
        name: "ilog2",
        formula: "c - a / log(x)",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[20.0, 70.0],
        lower: &[0.0, NINF],
        upper: &[INF, INF],
        value: ilog2_value,
        gradient: ilog2_gradient,
        start: Some(ilog2_start),
        fast: None,
    },
    BuiltinFunction {
        name: "expd3",
        formula: "c - (c - a) e^(-b x)",
        source: "paper Table 2",
        trend: Trend::Increasing,
        p0: &[10.0, 0.3, 11.0],
        lower: &[NINF, 0.0, NINF],
        upper: &[INF, INF, INF],
        value: expd3_value,
        gradient: expd3_gradient,
        start: Some(expd3_start),
        fast: None,
    },
    // Table 2, decreasing.
    BuiltinFunction {
        name: "pow2d",
        formula: "a x^(-b)",
        source: "paper Table 2",
        trend: Trend::Decreasing,
        p0: &[2.3, 0.4],
        lower: &[0.0, 0.0],
        upper: &[INF, INF],
        value: pow2d_value,
        gradient: pow2d_gradient,
        start: Some(pow2d_start),
        fast: None,
    },
    BuiltinFunction {
        name: "pow3d",
        formula: "a x^(-b) + c",
        source: "paper Table 2",
        trend: Trend::Decreasing,
        p0: &[2.0, 0.5, 0.3],
        lower: &[0.0, 0.0, NINF],
        upper: &[INF, INF, INF],
        value: pow3d_value,
        gradient: pow3d_gradient,
        start: Some(pow3d_start),
        fast: None,
    },
    BuiltinFunction {
        name: "log2d",
        formula: "-a log(x) + c",
        source: "paper Table 2",
        trend: Trend::Decreasing,
        p0: &[0.5, 2.3],
        lower: &[0.0, NINF],
        upper: &[INF, INF],
        value: log2d_value,
        gradient: log2d_gradient,
        start: Some(log2d_start),
        fast: None,
    },
    BuiltinFunction {
        name: "lossexp3",
        formula: "a e^(-b x) + c",
        source: "paper Table 2",
        trend: Trend::Decreasing,
        p0: &[0.1, 0.3, 0.6],
        lower: &[0.0, 0.0, NINF],
        upper: &[INF, INF, INF],
        value: lossexp3_value,
        gradient: lossexp3_gradient,
        start: Some(lossexp3_start),
        fast: None,
    },
    BuiltinFunction {
        name: "exp2d",
        formula: "a e^(-b x)",
        source: "paper Table 2",
        trend: Trend::Decreasing,
        p0: &[2.5, 0.04],
        lower: &[0.0, 0.0],
        upper: &[INF, INF],
        value: exp2d_value,
        gradient: exp2d_gradient,
        start: Some(exp2d_start),
        fast: None,
    },
    BuiltinFunction {
        name: "lin2d",
        formula: "-a x + b",
        source: "paper Table 2",
        trend: Trend::Decreasing,
        p0: &[0.05, 2.35],
        lower: &[0.0, NINF],
        upper: &[INF, INF],
        value: lin2d_value,
        gradient: lin2d_gradient,
        start: Some(lin2d_start),
        fast: None,
    },
    // Domhan et al. 2015 (NNI, DeepHyper); default starts are for accuracy in [0, 1].
    BuiltinFunction {
        name: "pow3_domhan",
        formula: "c - a x^(-alpha)",
        source: "Domhan et al. 2015",
        trend: Trend::Increasing,
        p0: &[0.84, 0.52, 0.01],
        lower: &[NINF, 0.0, 0.0],
        upper: &[INF, INF, INF],
        value: pow3_domhan_value,
        gradient: pow3_domhan_gradient,
        start: Some(pow3_domhan_start),
        fast: None,
    },
    BuiltinFunction {
        name: "pow4_domhan",
        formula: "c - (a x + b)^(-alpha)",
        source: "Domhan et al. 2015",
        trend: Trend::Increasing,
        p0: &[0.8, 200.0, 0.0, 0.1],
        lower: &[NINF, 0.0, 0.0, 0.0],
        upper: &[INF, INF, INF, INF],
        value: pow4_domhan_value,
        gradient: pow4_domhan_gradient,
        start: Some(pow4_domhan_start),
        fast: None,
    },
    BuiltinFunction {
        name: "log_power",
        formula: "a / (1 + (x / e^b)^c)",
        source: "Domhan et al. 2015",
        trend: Trend::Increasing,
        p0: &[0.77, 2.98, -0.51],
        lower: &[0.0, NINF, NINF],
        upper: &[INF, INF, 0.0],
        value: log_power_value,
        gradient: log_power_gradient,
        start: Some(log_power_start),
        fast: None,
    },
    BuiltinFunction {
        name: "weibull",
        formula: "alpha - (alpha - beta) exp(-(kappa x)^delta)",
        source: "Domhan et al. 2015",
        trend: Trend::Increasing,
        p0: &[0.7, 0.1, 0.01, 1.0],
        lower: &[NINF, NINF, 0.0, 0.0],
        upper: &[INF, INF, INF, INF],
        value: weibull_value,
        gradient: weibull_gradient,
        start: Some(weibull_start),
        fast: None,
    },
    BuiltinFunction {
        name: "mmf",
        formula: "alpha - (alpha - beta) / (1 + (kappa x)^delta)",
        source: "Domhan et al. 2015",
        trend: Trend::Increasing,
        p0: &[0.7, 0.1, 0.01, 5.0],
        lower: &[NINF, NINF, 0.0, 0.0],
        upper: &[INF, INF, INF, INF],
        value: mmf_value,
        gradient: mmf_gradient,
        start: Some(mmf_start),
        fast: None,
    },
    BuiltinFunction {
        name: "janoschek",
        formula: "alpha - (alpha - beta) exp(-kappa x^delta)",
        source: "Domhan et al. 2015",
        trend: Trend::Increasing,
        p0: &[0.73, 0.07, 0.355, 0.46],
        lower: &[NINF, NINF, 0.0, 0.0],
        upper: &[INF, INF, INF, INF],
        value: janoschek_value,
        gradient: janoschek_gradient,
        start: Some(janoschek_start),
        fast: None,
    },
    BuiltinFunction {
        name: "exp4_domhan",
        formula: "c - exp(-a x^alpha + b)",
        source: "Domhan et al. 2015",
        trend: Trend::Increasing,
        p0: &[0.7, 0.8, -0.8, 0.3],
        lower: &[NINF, 0.0, NINF, 0.0],
        upper: &[INF, INF, INF, INF],
        value: exp4_domhan_value,
        gradient: exp4_domhan_gradient,
        start: Some(exp4_domhan_start),
        fast: None,
    },
    BuiltinFunction {
        name: "ilog2_domhan",
        formula: "c - a / log(x + 1)",
        source: "Domhan et al. 2015",
        trend: Trend::Increasing,
        p0: &[0.78, 0.43],
        lower: &[NINF, 0.0],
        upper: &[INF, INF],
        value: ilog2_domhan_value,
        gradient: ilog2_domhan_gradient,
        start: Some(ilog2_domhan_start),
        fast: None,
    },
    BuiltinFunction {
        name: "vapor_pressure",
        formula: "exp(a + b/x + c log(x))",
        source: "Domhan et al. 2015",
        trend: Trend::Increasing,
        p0: &[-0.622, -0.470, 0.0423],
        lower: &[NINF, NINF, 0.0],
        upper: &[INF, 0.0, INF],
        value: vap3_value,
        gradient: vap3_gradient,
        start: Some(vap3_start),
        fast: None,
    },
    BuiltinFunction {
        name: "hill",
        formula: "theta x^eta / (kappa^eta + x^eta)",
        source: "Domhan et al. 2015",
        trend: Trend::Increasing,
        p0: &[0.772, 0.586, 2.46],
        lower: &[0.0, 0.0, 0.0],
        upper: &[INF, INF, INF],
        value: hill_value,
        gradient: hill_gradient,
        start: Some(hill_start),
        fast: None,
    },
    BuiltinFunction {
        name: "log_log_linear",
        formula: "log(a log(x) + b)",
        source: "Domhan et al. 2015",
        trend: Trend::Increasing,
        p0: &[0.25, 1.5],
        lower: &[0.0, 0.0],
        upper: &[INF, INF],
        value: log_log_linear_value,
        gradient: log_log_linear_gradient,
        start: Some(log_log_linear_start),
        fast: None,
    },
];

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
    fn default_p0(&self) -> Option<Vec<f64>> {
        self.0.default_p0()
    }
    fn default_bounds(&self) -> Option<(Vec<f64>, Vec<f64>)> {
        self.0.default_bounds()
    }
    fn profile_fit(&self, x: &[f64], y: &[f64]) -> Option<ProfileFit> {
        self.0.profile_fit(x, y)
    }
    fn has_profile(&self) -> bool {
        self.0.has_profile()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    /// Starts copied from the SciPy peer (golden fits), kept for parity.
    const PEER_STARTS: &[&str] = &["exp3", "pow3", "expd3", "lossexp3"];

    /// A learning curve to try the starts on: name, x, y and its trend (if any).
    type Curve = (&'static str, Vec<f64>, Vec<f64>, Option<Trend>);

    /// The rescaled epochs at which gradients are checked.
    const XS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 40.0];

    /// Parameter points inside each function's domain (besides p0), chosen so that
    /// the function follows its trend for x in [1, 40].
    fn other_points(name: &str) -> Vec<Vec<f64>> {
        let v: &[&[f64]] = match name {
            "exp3" => &[&[20.0, 1.5, 3.0], &[90.0, 1.2, 10.0]],
            "pow2" => &[&[5.0, 0.3], &[20.0, 0.8]],
            "pow3" => &[&[22210.7, 0.000315, -22200.9], &[2.0, 0.7, 10.0]],
            "log2" => &[&[3.0, 10.0], &[0.5, 80.0]],
            "expb3" => &[&[-50.0, -0.2, 70.0], &[-5.0, -1.0, 20.0]],
            "vap3" => &[&[4.0, -2.0, 0.05], &[2.0, -0.1, 0.3]],
            "mmf4" => &[&[5.0, 3.0, 60.0, 1.5], &[20.0, 50.0, 80.0, 0.7]],
            "wbl4" => &[&[0.3, 50.0, 70.0, 0.8], &[0.05, 20.0, 30.0, 1.5]],
            "exp4" => &[&[0.2, 3.0, 60.0, 0.9], &[0.8, 2.0, 20.0, 0.5]],
            "expp3" => &[&[-0.5, 0.9, 70.0], &[-2.0, -1.0, 30.0]],
            "pow4" => &[&[-0.5, 1.0, 80.0, 0.5], &[-0.02, 0.5, 50.0, 2.0]],
            "ilog2" => &[&[10.0, 80.0], &[1.0, 0.5]],
            "expd3" => &[&[-1.81, 0.787, 19.28], &[20.0, 0.1, 70.0]],
            "pow2d" => &[&[3.0, 0.2], &[1.0, 1.0]],
            "pow3d" => &[&[2.0, 0.5, 0.3], &[1.5, 1.2, 1.0]],
            "log2d" => &[&[0.5, 3.0], &[0.1, 1.0]],
            "lossexp3" => &[&[1.3, 0.9, 3.37], &[0.5, 0.05, 0.2]],
            "exp2d" => &[&[3.0, 0.1], &[1.0, 0.01]],
            "lin2d" => &[&[0.05, 3.0], &[0.001, 0.5]],
            "pow3_domhan" => &[&[0.9, 0.6, 0.5], &[80.0, 60.0, 0.3]],
            "pow4_domhan" => &[&[0.9, 1.0, 1.0, 0.5], &[70.0, 0.05, 0.01, 1.0]],
            "log_power" => &[&[0.9, 1.0, -1.0], &[80.0, 2.0, -0.3]],
            "weibull" => &[&[0.9, 0.2, 0.1, 0.8], &[80.0, 10.0, 0.3, 1.5]],
            "mmf" => &[&[0.9, 0.2, 0.1, 2.0], &[80.0, 10.0, 0.5, 1.0]],
            "janoschek" => &[&[0.9, 0.1, 0.5, 0.3], &[80.0, 10.0, 0.05, 1.2]],
            "exp4_domhan" => &[&[0.9, 0.5, 0.0, 0.5], &[80.0, 0.2, 4.0, 1.0]],
            "ilog2_domhan" => &[&[0.9, 0.3], &[80.0, 30.0]],
            "vapor_pressure" => &[&[-0.1, -1.0, 0.01], &[4.0, -0.5, 0.1]],
            "hill" => &[&[0.9, 1.5, 3.0], &[80.0, 0.8, 10.0]],
            "log_log_linear" => &[&[0.3, 1.2], &[1.0, 2.0]],
            _ => panic!("no test points for {name}: add some"),
        };
        v.iter().map(|p| p.to_vec()).collect()
    }

    fn points(f: &BuiltinFunction) -> Vec<Vec<f64>> {
        let mut v = vec![f.p0.to_vec()];
        v.extend(other_points(f.name));
        v
    }

    fn sse(f: &BuiltinFunction, x: &[f64], y: &[f64], p: &[f64]) -> f64 {
        let s: f64 = x
            .iter()
            .zip(y)
            .map(|(&x, &y)| ((f.value)(x, p) - y).powi(2))
            .sum();
        if s.is_finite() { s } else { INF }
    }

    #[test]
    fn catalogue_entries_are_consistent() {
        let mut seen = HashSet::new();
        for f in CATALOGUE {
            assert!(seen.insert(f.name), "duplicate name {}", f.name);
            assert_eq!(
                f.name,
                f.name.to_ascii_lowercase(),
                "{} is not lower-case",
                f.name
            );
            assert!(!f.formula.is_empty() && !f.source.is_empty(), "{}", f.name);
            assert!(
                f.source.starts_with("paper Table 2") || f.source == "Domhan et al. 2015",
                "{}: source {}",
                f.name,
                f.source
            );
            let found = builtin(f.name).expect("builtin finds every name");
            assert!(std::ptr::eq(found, f), "{}", f.name);
            assert!(std::ptr::eq(builtin(&f.name.to_uppercase()).unwrap(), f));
            let n = f.p0.len();
            assert!(n >= 2, "{}", f.name);
            assert_eq!(f.lower.len(), n, "{}", f.name);
            assert_eq!(f.upper.len(), n, "{}", f.name);
            assert_eq!(f.n_params(), n);
            for j in 0..n {
                assert!(f.p0[j].is_finite(), "{} p0[{j}]", f.name);
                assert!(!f.lower[j].is_nan() && !f.upper[j].is_nan(), "{}", f.name);
                assert!(f.lower[j] < f.upper[j], "{} bounds[{j}]", f.name);
                assert!(
                    f.lower[j] <= f.p0[j] && f.p0[j] <= f.upper[j],
                    "{}: p0[{j}] = {} outside [{}, {}]",
                    f.name,
                    f.p0[j],
                    f.lower[j],
                    f.upper[j]
                );
            }
            for p in other_points(f.name) {
                assert_eq!(p.len(), n, "{} test point", f.name);
                for j in 0..n {
                    assert!(f.lower[j] <= p[j] && p[j] <= f.upper[j], "{} {p:?}", f.name);
                }
            }
        }
        assert!(builtin("no_such_function").is_none());
    }

    #[test]
    fn table2_has_13_increasing_and_6_decreasing() {
        let t2 = || {
            CATALOGUE
                .iter()
                .filter(|f| f.source.starts_with("paper Table 2"))
        };
        assert_eq!(t2().filter(|f| f.trend == Trend::Increasing).count(), 13);
        assert_eq!(t2().filter(|f| f.trend == Trend::Decreasing).count(), 6);
        let domhan = CATALOGUE
            .iter()
            .filter(|f| f.source == "Domhan et al. 2015")
            .count();
        assert_eq!(domhan, 11);
        let names: Vec<&str> = CATALOGUE.iter().map(|f| f.name).collect();
        for n in [
            "pow2",
            "pow3",
            "exp3",
            "log2",
            "expb3",
            "vap3",
            "mmf4",
            "wbl4",
            "exp4",
            "expp3",
            "pow4",
            "ilog2",
            "expd3",
            "pow2d",
            "pow3d",
            "log2d",
            "lossexp3",
            "exp2d",
            "lin2d",
            "pow3_domhan",
            "pow4_domhan",
            "log_power",
            "weibull",
            "mmf",
            "janoschek",
            "exp4_domhan",
            "ilog2_domhan",
            "vapor_pressure",
            "hill",
            "log_log_linear",
        ] {
            assert!(names.contains(&n), "{n} missing");
        }
        assert_eq!(names.len(), 30);
    }

    #[test]
    fn gradients_match_central_differences() {
        let mut checked = 0;
        for f in CATALOGUE {
            let n = f.p0.len();
            for p in points(f) {
                for &x in XS {
                    let y = (f.value)(x, &p);
                    if !y.is_finite() {
                        continue;
                    }
                    let mut g = vec![0.0; n];
                    (f.gradient)(x, &p, &mut g);
                    for j in 0..n {
                        let h = 1e-6 * p[j].abs().max(1.0);
                        let (mut pp, mut pm) = (p.clone(), p.clone());
                        pp[j] += h;
                        pm[j] -= h;
                        let (yp, ym) = ((f.value)(x, &pp), (f.value)(x, &pm));
                        assert!(yp.is_finite() && ym.is_finite(), "{} {p:?} x={x}", f.name);
                        let fd = (yp - ym) / (2.0 * h);
                        // Rounding noise of the difference quotient, from the largest
                        // of the three values involved.
                        let noise = 1e3 * f64::EPSILON * y.abs().max(yp.abs()).max(1.0) / h;
                        let tol = 1e-5 * g[j].abs().max(fd.abs()) + noise;
                        assert!(
                            (g[j] - fd).abs() <= tol,
                            "{}: d/dp[{j}] at p={p:?}, x={x}: analytic {} vs numeric {fd}",
                            f.name,
                            g[j]
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 1000, "only {checked} derivatives checked");
    }

    #[test]
    fn functions_follow_their_trend() {
        for f in CATALOGUE {
            for p in points(f) {
                let mut prev: Option<f64> = None;
                for i in 2..=80 {
                    let x = f64::from(i) * 0.5;
                    let y = (f.value)(x, &p);
                    if !y.is_finite() {
                        continue;
                    }
                    if let Some(q) = prev {
                        let slack = 1e-12 * q.abs().max(1.0);
                        match f.trend {
                            Trend::Increasing => assert!(y >= q - slack, "{} {p:?} x={x}", f.name),
                            Trend::Decreasing => assert!(y <= q + slack, "{} {p:?} x={x}", f.name),
                        }
                    }
                    prev = Some(y);
                }
                assert!(prev.is_some(), "{} has no finite value at {p:?}", f.name);
            }
        }
    }

    #[test]
    fn hostile_inputs_never_panic() {
        let hostile = [
            0.0,
            -0.0,
            -1.0,
            -2.5,
            1.0,
            1e-308,
            5e-324,
            1e308,
            -1e308,
            1e300,
            f64::NAN,
            INF,
            NINF,
        ];
        for f in CATALOGUE {
            let n = f.p0.len();
            let mut sets: Vec<Vec<f64>> = points(f);
            for &h in &hostile {
                sets.push(vec![h; n]);
                for j in 0..n {
                    let mut p = f.p0.to_vec();
                    p[j] = h;
                    sets.push(p);
                }
            }
            let mut g = vec![0.0; n];
            for p in &sets {
                for &x in hostile.iter().chain(XS) {
                    let y = (f.value)(x, p);
                    g.fill(0.0);
                    (f.gradient)(x, p, &mut g);
                    // Outside the domain the whole gradient row is non-finite.
                    if !y.is_finite() {
                        assert!(g.iter().all(|v| !v.is_finite()), "{} {p:?} x={x}", f.name);
                    }
                }
            }
            // Through the Model trait, including a short Jacobian buffer.
            let m = builtin_model(f);
            let x = [0.0, -1.0, 1e308, f64::NAN, 1.0];
            let mut y = [0.0; 5];
            let mut jac = vec![0.0; 5 * n];
            for p in &sets {
                m.eval(&x, p, &mut y);
                m.jacobian(&x, p, &mut jac);
                m.jacobian(&x, p, &mut jac[..n + 1]);
            }
            // A wrong number of parameters gives NaN, not a panic.
            for p in [&[][..], &[1.0][..], &[1.0; 7][..]] {
                assert!((f.value)(2.0, p).is_nan(), "{}", f.name);
                (f.gradient)(2.0, p, &mut g);
                assert!(g.iter().all(|v| v.is_nan()), "{}", f.name);
            }
        }
    }

    #[test]
    fn out_of_domain_values_are_non_finite() {
        let cases: &[(&str, f64, &[f64])] = &[
            ("ilog2", 1.0, &[20.0, 70.0]),
            ("ilog2_domhan", 0.0, &[0.78, 0.43]),
            ("log_log_linear", 2.0, &[1.0, -5.0]),
            ("expp3", 1.0, &[-0.5, 3.0, 10.0]),
            ("pow4", 2.0, &[1.0, 0.5, 10.0, 0.5]),
            ("pow4_domhan", 2.0, &[0.8, -1.0, 0.0, 0.5]),
            ("pow2", -1.0, &[10.0, 0.5]),
            ("vap3", -1.0, &[3.9, -0.9, 0.1]),
            ("hill", 2.0, &[1.0, 0.5, -2.0]),
            ("weibull", 2.0, &[0.7, 0.1, -0.01, 0.5]),
            ("mmf", 2.0, &[0.7, 0.1, -0.01, 0.5]),
            ("wbl4", -2.0, &[0.1, 60.0, 70.0, 0.5]),
        ];
        for &(name, x, p) in cases {
            let f = builtin(name).unwrap();
            assert!(!(f.value)(x, p).is_finite(), "{name} at x={x} {p:?}");
            let mut g = vec![0.0; p.len()];
            (f.gradient)(x, p, &mut g);
            assert!(g.iter().all(|v| !v.is_finite()), "{name} gradient {g:?}");
        }
    }

    /// Real-looking curves, and degenerate ones (flat, one or two points, empty).
    fn curves() -> Vec<Curve> {
        let x10: Vec<f64> = (1..=10).map(f64::from).collect();
        let acc: Vec<f64> = x10.iter().map(|&x| 90.0 - 80.0 * 0.8f64.powf(x)).collect();
        let acc01: Vec<f64> = x10.iter().map(|&x| 0.9 - 0.8 * 0.8f64.powf(x)).collect();
        let loss: Vec<f64> = x10.iter().map(|&x| 0.5 + 2.0 * 0.8f64.powf(x)).collect();
        // The first 12 half-epochs of a real CIFAR-100 network (tests/data).
        let cifar = vec![
            9.68, 14.91, 17.29, 19.5, 20.97, 22.67, 23.36, 24.2, 25.14, 24.96, 25.66, 26.02,
        ];
        let x12: Vec<f64> = (1..=12).map(f64::from).collect();
        vec![
            ("accuracy", x10.clone(), acc, Some(Trend::Increasing)),
            ("accuracy01", x10.clone(), acc01, Some(Trend::Increasing)),
            ("cifar", x12, cifar, Some(Trend::Increasing)),
            ("loss", x10.clone(), loss, Some(Trend::Decreasing)),
            ("flat", x10.clone(), vec![10.0; 10], None),
            ("flat_loss", x10, vec![2.3; 10], None),
            ("one", vec![1.0], vec![10.0], None),
            ("two", vec![1.0, 2.0], vec![10.0, 20.0], None),
            ("two_down", vec![1.0, 2.0], vec![2.3, 2.0], None),
            ("empty", vec![], vec![], None),
        ]
    }

    #[test]
    fn starts_are_finite_in_bounds_and_helpful() {
        for f in CATALOGUE {
            let Some(start) = f.start else { continue };
            for (curve, x, y, trend) in curves() {
                let Some(p) = start(&x, &y) else { continue };
                assert_eq!(p.len(), f.p0.len(), "{} on {curve}", f.name);
                assert!(
                    p.iter().all(|v| v.is_finite()),
                    "{} on {curve}: {p:?}",
                    f.name
                );
                for j in 0..p.len() {
                    assert!(
                        f.lower[j] <= p[j] && p[j] <= f.upper[j],
                        "{} on {curve}: start {p:?} outside bounds",
                        f.name
                    );
                }
                // On a curve of its own trend a start must fit no worse than p0
                // (the SciPy peer's starts are kept as they are, for parity).
                if trend == Some(f.trend) {
                    let (s, s0) = (sse(f, &x, &y, &p), sse(f, &x, &y, f.p0));
                    assert!(
                        s <= s0 || PEER_STARTS.contains(&f.name),
                        "{} on {curve}: start {p:?} sse {s} > p0 sse {s0}",
                        f.name
                    );
                }
            }
        }
    }

    #[test]
    fn required_starts_exist() {
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|&x| 90.0 - 80.0 * 0.8f64.powf(x)).collect();
        for name in ["pow3", "expd3", "lossexp3", "log2", "exp3"] {
            let f = builtin(name).unwrap();
            assert!(f.start.is_some(), "{name}");
            assert!(f.data_start(&x, &y).is_some(), "{name}");
        }
    }

    #[test]
    fn starts_never_panic_on_odd_data() {
        let odd: Vec<(Vec<f64>, Vec<f64>)> = vec![
            (vec![], vec![]),
            (vec![1.0], vec![]),
            (vec![], vec![1.0]),
            (vec![1.0, 2.0, 3.0], vec![5.0]),
            (vec![1.0], vec![5.0, 6.0, 7.0]),
            (vec![1.0, 1.0, 1.0], vec![5.0, 6.0, 7.0]),
            (vec![0.0, 0.0], vec![0.0, 0.0]),
            (vec![-1.0, -2.0], vec![-5.0, -6.0]),
            (vec![1.0, 2.0], vec![f64::NAN, 1.0]),
            (vec![f64::NAN, 2.0], vec![1.0, 2.0]),
            (vec![1.0, 2.0], vec![INF, NINF]),
            (vec![1.0, 2.0, 3.0], vec![1e308, -1e308, 1e308]),
            (vec![1e308, 2e307], vec![1.0, 2.0]),
            (vec![1e-308, 5e-324], vec![1.0, 2.0]),
            (vec![1.0, 2.0, 3.0], vec![800.0, 900.0, 1000.0]),
        ];
        for f in CATALOGUE {
            let Some(start) = f.start else { continue };
            for (x, y) in &odd {
                if let Some(p) = start(x, y) {
                    assert_eq!(p.len(), f.p0.len(), "{}", f.name);
                    assert!(p.iter().all(|v| v.is_finite()), "{} {x:?} {y:?}", f.name);
                }
            }
        }
    }

    #[test]
    fn scipy_peer_starts_match_golden_fits() {
        // Rows of tests/data/golden_fits.csv: (function, y, p0 used by SciPy).
        let cases: &[(&str, &[f64], &[f64])] = &[
            (
                "pow3",
                &[9.68, 14.91, 17.29],
                &[7.609999999999999, 0.5, 9.68],
            ),
            (
                "pow3",
                &[1.0245485899776832, 0.9839724081963888, 1.1361330898762427],
                &[1.0, 0.5, 1.0245485899776832],
            ),
            ("expd3", &[9.68, 14.91, 17.29], &[9.68, 0.3, 18.29]),
            (
                "expd3",
                &[
                    9.68, 14.91, 17.29, 19.5, 20.97, 22.67, 23.36, 24.2, 25.14, 24.96,
                ],
                &[9.68, 0.3, 26.14],
            ),
            (
                "lossexp3",
                &[3.8971090102730845, 3.5833423637095234, 3.4555959820450095],
                &[0.44151302822807503, 0.3, 3.4555959820450095],
            ),
            (
                "lossexp3",
                &[4.521019794322826, 4.520796493247703, 4.5206996070014105],
                &[0.1, 0.3, 4.5206996070014105],
            ),
        ];
        for &(name, y, want) in cases {
            let x: Vec<f64> = (1..=y.len()).map(|i| i as f64).collect();
            let got = builtin(name).unwrap().data_start(&x, y).unwrap();
            assert_eq!(got, want, "{name} on {y:?}");
        }
    }

    #[test]
    fn model_trait_matches_value_and_gradient() {
        let x = [1.0, 2.0, 5.0];
        for f in CATALOGUE {
            let n = f.p0.len();
            let m = builtin_model(f);
            assert_eq!(m.name(), f.name);
            assert_eq!(m.n_params(), n);
            let mut y = [0.0; 3];
            assert!(m.eval(&x, f.p0, &mut y));
            let mut jac = vec![0.0; 3 * n];
            assert!(m.jacobian(&x, f.p0, &mut jac));
            for (i, &xi) in x.iter().enumerate() {
                let v = (f.value)(xi, f.p0);
                assert!(v.to_bits() == y[i].to_bits(), "{}", f.name);
                let mut g = vec![0.0; n];
                (f.gradient)(xi, f.p0, &mut g);
                for j in 0..n {
                    assert!(g[j].to_bits() == jac[i * n + j].to_bits(), "{}", f.name);
                }
            }
        }
    }

    #[test]
    fn fast_paths_agree_with_the_pointwise_functions() {
        let x = [0.5, 1.0, 2.0, 7.5, 40.0];
        for f in CATALOGUE.iter().filter(|f| f.fast.is_some()) {
            let fast = f.fast.unwrap();
            let n = f.n_params();
            for p in [f.p0.to_vec(), vec![80.0, 1.7, 5.8], vec![10.0, 0.5, 3.0]] {
                if p.len() != n {
                    continue;
                }
                let mut y = [0.0; 5];
                (fast.eval)(&x, &p, &mut y);
                let mut jac = vec![0.0; 5 * n];
                (fast.jacobian)(&x, &p, &mut jac);
                let mut g = vec![0.0; n];
                for (i, &xi) in x.iter().enumerate() {
                    let v = (f.value)(xi, &p);
                    assert!(
                        (y[i] - v).abs() <= 1e-12 * v.abs().max(1.0)
                            || (y[i].is_nan() && v.is_nan()),
                        "{} {p:?} x={xi}",
                        f.name
                    );
                    (f.gradient)(xi, &p, &mut g);
                    for k in 0..n {
                        let a = jac[i * n + k];
                        assert!(
                            (a - g[k]).abs() <= 1e-10 * g[k].abs().max(1.0)
                                || (a.is_nan() && g[k].is_nan()),
                            "{} {p:?} x={xi} k={k}",
                            f.name
                        );
                    }
                }
            }
        }
    }
}
