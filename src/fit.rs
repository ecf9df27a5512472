//! Least-squares fitting of a [`Model`] to points with Levenberg-Marquardt
//! ([`crate::lm`]: the `levenberg-marquardt` crate, MINPACK's `lmder` as SciPy
//! runs it, behind Penguin's problem adapter).
//!
//! Box bounds are handled by a change of variables (as MINUIT and lmfit do): a
//! parameter bounded on both sides is `lo + (hi - lo) (sin u + 1) / 2`, one bounded
//! below is `lo - 1 + sqrt(u^2 + 1)`, one bounded above `hi + 1 - sqrt(u^2 + 1)`. The
//! solver works on the free `u`; every parameter it produces lies within the bounds,
//! and a bound can be reached exactly.
//!
//! The fitter keeps the best point it evaluated, so a step that leaves the
//! function's domain (a non-finite value) is a failed step, and a solver that stops
//! for a numerical reason still returns the best parameters seen. It knows nothing
//! about epochs or NAS.

use crate::functions::Model;
use crate::lm::{self, Residuals};

/// The result of a fit.
#[derive(Clone, Debug, PartialEq)]
pub struct FitResult {
    /// Best parameters found (within the bounds).
    pub params: Vec<f64>,
    /// Sum of squared residuals at `params` (finite).
    pub sse: f64,
    /// Number of model evaluations the solver made.
    pub evaluations: usize,
    /// The solver stopped on its convergence tests (not on its evaluation budget
    /// or a numerical failure). SciPy's `curve_fit` raises when this is false.
    pub converged: bool,
}

/// Box bounds on the parameters; `-inf` / `inf` for none.
#[derive(Clone, Debug, PartialEq)]
pub struct Bounds {
    /// Lower bounds.
    pub lower: Vec<f64>,
    /// Upper bounds.
    pub upper: Vec<f64>,
}

impl Bounds {
    /// No bounds for `n` parameters.
    pub fn unbounded(n: usize) -> Bounds {
        Bounds {
            lower: vec![f64::NEG_INFINITY; n],
            upper: vec![f64::INFINITY; n],
        }
    }

    /// Whether `p` lies within the bounds.
    pub fn contains(&self, p: &[f64]) -> bool {
        p.len() == self.lower.len()
            && p.iter()
                .zip(self.lower.iter().zip(&self.upper))
                .all(|(v, (lo, hi))| *lo <= *v && *v <= *hi)
    }
}

/// How one parameter maps between the solver's free variable and its bounded value.
#[derive(Clone, Copy, Debug)]
enum Transform {
    Free,
    Both(f64, f64),
    Lower(f64),
    Upper(f64),
}

impl Transform {
    fn new(lo: f64, hi: f64) -> Transform {
        match (lo.is_finite(), hi.is_finite()) {
            (true, true) if hi > lo => Transform::Both(lo, hi),
            (true, true) => Transform::Free, // lo == hi handled by clamping below
            (true, false) => Transform::Lower(lo),
            (false, true) => Transform::Upper(hi),
            (false, false) => Transform::Free,
        }
    }

    /// Bounded value and its derivative with respect to u.
    fn to_param(self, u: f64) -> (f64, f64) {
        match self {
            Transform::Free => (u, 1.0),
            Transform::Both(lo, hi) => {
                let v = lo + (hi - lo) * (u.sin() + 1.0) * 0.5;
                (v.clamp(lo, hi), (hi - lo) * 0.5 * u.cos())
            }
            Transform::Lower(lo) => {
                let s = (u * u + 1.0).sqrt();
                (lo - 1.0 + s, u / s)
            }
            Transform::Upper(hi) => {
                let s = (u * u + 1.0).sqrt();
                (hi + 1.0 - s, -u / s)
            }
        }
    }

    /// Free variable for a start value, moved slightly inside when it sits on a
    /// bound (where the derivative of the transform vanishes).
    fn to_free(self, p: f64) -> f64 {
        const NUDGE: f64 = 1e-2;
        match self {
            Transform::Free => p,
            Transform::Both(lo, hi) => {
                let s = (2.0 * (p - lo) / (hi - lo) - 1.0).clamp(-1.0, 1.0);
                let u = s.asin();
                u.clamp(
                    -std::f64::consts::FRAC_PI_2 + NUDGE,
                    std::f64::consts::FRAC_PI_2 - NUDGE,
                )
            }
            Transform::Lower(lo) => {
                let d = (p - lo).max(0.0) + 1.0;
                (d * d - 1.0).sqrt().max(NUDGE)
            }
            Transform::Upper(hi) => {
                let d = (hi - p).max(0.0) + 1.0;
                (d * d - 1.0).sqrt().max(NUDGE)
            }
        }
    }
}

/// Settings of the solver.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FitSettings {
    /// Relative tolerance on the sum of squares and on the parameters.
    pub tolerance: f64,
    /// Evaluation budget per solver run: `patience * (n_params + 1)` residual
    /// evaluations (Jacobians not counted).
    pub patience: usize,
    /// How many times the solver is restarted from its best point while that
    /// still improves the fit.
    pub restarts: usize,
    /// Budget of a short run (`patience` for it; no restarts): a warm-started
    /// fit, which starts near the optimum, so it either converges quickly or
    /// falls back; and exp3's run from SciPy's start (see
    /// [`crate::predict::fit_with_profile`]).
    pub warm_patience: usize,
}

impl FitSettings {
    /// The settings of a warm-started run.
    pub fn warm(&self) -> FitSettings {
        FitSettings {
            patience: self.warm_patience.max(1),
            restarts: 0,
            ..*self
        }
    }
}

impl Default for FitSettings {
    fn default() -> Self {
        FitSettings {
            tolerance: 1e-12,
            patience: 200,
            restarts: 3,
            warm_patience: 8,
        }
    }
}

/// The least-squares problem as the solver sees it: free variables `u`, the
/// residuals `model(x) - y` padded with zero rows up to the number of parameters.
struct Problem<'a> {
    model: &'a dyn Model,
    x: &'a [f64],
    y: &'a [f64],
    transforms: &'a [Transform],
    fixed: &'a [Option<f64>],
    scratch: Scratch,
}

#[derive(Default)]
struct Scratch {
    params: Vec<f64>,
    slopes: Vec<f64>,
    jac: Vec<f64>,
    base: Vec<f64>,
    moved: Vec<f64>,
}

impl Problem<'_> {
    /// Fills `scratch.params` (and slopes) from the free variables.
    fn params_into(&mut self, u: &[f64]) {
        let s = &mut self.scratch;
        s.params.clear();
        s.slopes.clear();
        for (i, t) in self.transforms.iter().enumerate() {
            let (v, d) = match self.fixed[i] {
                Some(v) => (v, 0.0),
                None => t.to_param(u[i]),
            };
            s.params.push(v);
            s.slopes.push(d);
        }
    }
}

impl Residuals for Problem<'_> {
    fn residuals(&mut self, u: &[f64], r: &mut [f64]) -> bool {
        self.params_into(u);
        let m = self.x.len();
        let (fitted, pad) = r.split_at_mut(m);
        pad.fill(0.0);
        if !self.model.eval(self.x, &self.scratch.params, fitted) {
            return false;
        }
        for (ri, yi) in fitted.iter_mut().zip(self.y) {
            *ri -= yi;
        }
        true
    }

    fn jacobian(&mut self, u: &[f64], jac: &mut [f64]) -> bool {
        self.params_into(u);
        let s = &mut self.scratch;
        let n = s.params.len();
        let m = self.x.len();
        let rows = jac.len() / n.max(1);
        s.jac.resize(m * n, 0.0);
        let analytic = self.model.jacobian(self.x, &s.params, &mut s.jac)
            && s.jac.iter().all(|v| v.is_finite());
        if !analytic && !finite_difference_jacobian(self.model, self.x, s) {
            return false;
        }
        jac.fill(0.0);
        for k in 0..n {
            let col = &mut jac[k * rows..k * rows + m];
            for (i, c) in col.iter_mut().enumerate() {
                *c = s.jac[i * n + k] * s.slopes[k];
            }
        }
        true
    }
}

/// Forward-difference Jacobian into `s.jac`; false when it is not finite.
fn finite_difference_jacobian(model: &dyn Model, x: &[f64], s: &mut Scratch) -> bool {
    let n = s.params.len();
    let m = x.len();
    s.base.resize(m, 0.0);
    s.moved.resize(m, 0.0);
    if !model.eval(x, &s.params, &mut s.base) {
        return false;
    }
    for k in 0..n {
        let keep = s.params[k];
        let h = f64::EPSILON.sqrt() * keep.abs().max(1.0);
        s.params[k] = keep + h;
        let ok = model.eval(x, &s.params, &mut s.moved);
        s.params[k] = keep;
        if !ok {
            return false;
        }
        for i in 0..m {
            s.jac[i * n + k] = (s.moved[i] - s.base[i]) / h;
        }
    }
    s.jac.iter().all(|v| v.is_finite())
}

/// Sum of squared residuals of `model` with `params` on the points, or NaN when
/// the model cannot be evaluated there.
pub fn sum_of_squares(model: &dyn Model, x: &[f64], y: &[f64], params: &[f64]) -> f64 {
    let mut y_hat = vec![0.0; x.len()];
    if !model.eval(x, params, &mut y_hat) {
        return f64::NAN;
    }
    y_hat.iter().zip(y).map(|(a, b)| (a - b) * (a - b)).sum()
}

/// Fits `model` to the points `(x, y)` from `start`, within `bounds`.
///
/// Returns `None` when no point with a finite sum of squares was found (the start
/// itself cannot be evaluated, or the inputs have the wrong lengths).
pub fn fit(
    model: &dyn Model,
    x: &[f64],
    y: &[f64],
    start: &[f64],
    bounds: &Bounds,
    settings: &FitSettings,
) -> Option<FitResult> {
    let n = model.n_params();
    if n == 0
        || x.is_empty()
        || x.len() != y.len()
        || start.len() != n
        || bounds.lower.len() != n
        || bounds.upper.len() != n
        || start.iter().any(|v| !v.is_finite())
    {
        return None;
    }
    let transforms: Vec<Transform> = bounds
        .lower
        .iter()
        .zip(&bounds.upper)
        .map(|(&lo, &hi)| Transform::new(lo, hi))
        .collect();
    let fixed: Vec<Option<f64>> = bounds
        .lower
        .iter()
        .zip(&bounds.upper)
        .map(|(&lo, &hi)| (lo == hi).then_some(lo))
        .collect();
    let u: Vec<f64> = start
        .iter()
        .zip(bounds.lower.iter().zip(&bounds.upper))
        .zip(&transforms)
        .map(|((&p, (&lo, &hi)), t)| t.to_free(p.clamp(lo.min(hi), hi.max(lo))))
        .collect();
    let mut problem = Problem {
        model,
        x,
        y,
        transforms: &transforms,
        fixed: &fixed,
        scratch: Scratch {
            params: Vec::with_capacity(n),
            slopes: Vec::with_capacity(n),
            jac: Vec::with_capacity(x.len() * n),
            base: Vec::new(),
            moved: Vec::new(),
        },
    };
    let solver = lm::Settings {
        ftol: settings.tolerance,
        xtol: settings.tolerance,
        gtol: 0.0,
        max_evaluations: settings.patience.max(1) * (n + 1),
    };
    // Residual rows: at least the number of parameters (zero rows pad an
    // under-determined problem; they change nothing).
    let rows = x.len().max(n);
    let mut u = u;
    let mut best: Option<FitResult> = None;
    let mut evaluations = 0;
    // Restarting from the best point resets the trust region, which lets the
    // solver creep further along the flat valleys of degenerate curves (b -> 1
    // in exp3).
    for _ in 0..=settings.restarts {
        let Some(out) = lm::solve(&mut problem, rows, &u, &solver) else {
            break;
        };
        evaluations += out.evaluations;
        let improved = best
            .as_ref()
            .is_none_or(|b| out.sse < b.sse * (1.0 - 1e-10) - 1e-300);
        if best.as_ref().is_none_or(|b| out.sse < b.sse) {
            problem.params_into(&out.u);
            best = Some(FitResult {
                params: problem.scratch.params.clone(),
                sse: out.sse,
                evaluations: 0,
                converged: false,
            });
        }
        if let Some(b) = best.as_mut() {
            b.converged = out.termination.converged();
        }
        if !improved {
            break;
        }
        u = out.u;
    }
    best.map(|b| FitResult { evaluations, ..b })
}

/// Fits from each start in turn and keeps the best result (lowest sum of squares).
pub fn fit_best_of(
    model: &dyn Model,
    x: &[f64],
    y: &[f64],
    starts: &[Vec<f64>],
    bounds: &Bounds,
    settings: &FitSettings,
) -> Option<FitResult> {
    let mut best: Option<FitResult> = None;
    for s in starts {
        if let Some(r) = fit(model, x, y, s, bounds, settings)
            && best.as_ref().is_none_or(|b| r.sse < b.sse)
        {
            best = Some(r);
        }
    }
    best
}
