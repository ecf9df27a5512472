//! Least-squares fitting of a [`Model`] to points with Levenberg-Marquardt
//! (the `levenberg-marquardt` crate, a port of MINPACK's `lmder`).
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
use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt};
use nalgebra::allocator::{Allocator, Reallocator};
use nalgebra::{
    DVector, DefaultAllocator, Dim, DimMax, DimMaximum, DimMin, DimName, Dyn, OMatrix, OVector,
    Owned, U1, U2, U3, U4, U5, U6, U7, U8,
};
use std::cell::{Cell, RefCell};

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
    /// Evaluation budget per solver run: `patience * (n_params + 1)` evaluations.
    pub patience: usize,
    /// How many times the solver is restarted from its best point while that
    /// still improves the fit.
    pub restarts: usize,
    /// Budget of a warm-started fit (`patience` for it; no restarts): it starts
    /// near the optimum, so it either converges quickly or falls back.
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
            warm_patience: 20,
        }
    }
}

/// The least-squares problem as the solver sees it (free variables `u`), with
/// the parameter dimension `N` known at compile time for small problems (which
/// lets nalgebra keep parameter vectors on the stack).
struct Problem<'a, N: Dim>
where
    DefaultAllocator: Allocator<N>,
{
    ndim: N,
    model: &'a dyn Model,
    x: &'a [f64],
    y: &'a [f64],
    transforms: &'a [Transform],
    fixed: &'a [Option<f64>],
    u: OVector<f64, N>,
    /// Rows of the residual vector: at least the number of parameters (zero rows
    /// pad an under-determined problem; they change nothing).
    rows: usize,
    scratch: RefCell<Scratch>,
    /// Lowest sum of squares seen, its parameters and free variables.
    best: RefCell<Best<N>>,
    evaluations: Cell<usize>,
}

struct Best<N: Dim>
where
    DefaultAllocator: Allocator<N>,
{
    sse: f64,
    params: Vec<f64>,
    u: Option<OVector<f64, N>>,
}

#[derive(Default)]
struct Scratch {
    params: Vec<f64>,
    slopes: Vec<f64>,
    y_hat: Vec<f64>,
    jac: Vec<f64>,
    base: Vec<f64>,
    moved: Vec<f64>,
}

impl<N: Dim> Problem<'_, N>
where
    DefaultAllocator: Allocator<N>,
{
    /// Fills `scratch.params` (and slopes) from the free variables.
    fn params_into(&self, s: &mut Scratch) {
        s.params.clear();
        s.slopes.clear();
        for (i, t) in self.transforms.iter().enumerate() {
            let (v, d) = match self.fixed[i] {
                Some(v) => (v, 0.0),
                None => t.to_param(self.u[i]),
            };
            s.params.push(v);
            s.slopes.push(d);
        }
    }
}

impl<N: Dim> LeastSquaresProblem<f64, Dyn, N> for Problem<'_, N>
where
    DefaultAllocator: Allocator<N> + Allocator<Dyn> + Allocator<Dyn, N>,
{
    type ResidualStorage = Owned<f64, Dyn>;
    type JacobianStorage = Owned<f64, Dyn, N>;
    type ParameterStorage = Owned<f64, N>;

    fn set_params(&mut self, u: &OVector<f64, N>) {
        self.u.copy_from(u);
    }

    fn params(&self) -> OVector<f64, N> {
        self.u.clone()
    }

    fn residuals(&self) -> Option<DVector<f64>> {
        let mut s = self.scratch.borrow_mut();
        let s = &mut *s;
        self.params_into(s);
        s.y_hat.resize(self.x.len(), 0.0);
        self.evaluations.set(self.evaluations.get() + 1);
        let ok = self.model.eval(self.x, &s.params, &mut s.y_hat);
        let mut r = DVector::<f64>::from_vec(vec![0.0; self.rows]);
        let mut sse = 0.0;
        for i in 0..self.x.len() {
            let d = s.y_hat[i] - self.y[i];
            r[i] = d;
            sse += d * d;
        }
        if !ok || !sse.is_finite() {
            // A failed step: the solver sees a non-finite norm and shrinks its
            // trust region.
            r.fill(f64::NAN);
            return Some(r);
        }
        let mut best = self.best.borrow_mut();
        if sse < best.sse || best.u.is_none() {
            best.sse = sse;
            best.params.clear();
            best.params.extend_from_slice(&s.params);
            best.u = Some(self.u.clone());
        }
        Some(r)
    }

    fn jacobian(&self) -> Option<OMatrix<f64, Dyn, N>> {
        let mut s = self.scratch.borrow_mut();
        let s = &mut *s;
        self.params_into(s);
        let n = s.params.len();
        let m = self.x.len();
        s.jac.resize(m * n, 0.0);
        let analytic = self.model.jacobian(self.x, &s.params, &mut s.jac)
            && s.jac.iter().all(|v| v.is_finite());
        if !analytic && !finite_difference_jacobian(self.model, self.x, s) {
            return None;
        }
        let mut j = OMatrix::<f64, Dyn, N>::zeros_generic(Dyn(self.rows), self.ndim);
        for i in 0..m {
            for k in 0..n {
                j[(i, k)] = s.jac[i * n + k] * s.slopes[k];
            }
        }
        Some(j)
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
    let job = Job {
        model,
        x,
        y,
        transforms: &transforms,
        fixed: &fixed,
        settings,
    };
    match n {
        1 => job.run::<U1>(&u),
        2 => job.run::<U2>(&u),
        3 => job.run::<U3>(&u),
        4 => job.run::<U4>(&u),
        5 => job.run::<U5>(&u),
        6 => job.run::<U6>(&u),
        7 => job.run::<U7>(&u),
        8 => job.run::<U8>(&u),
        _ => job.run_dyn(&u),
    }
}

/// One fit's inputs, shared by the dimension-specific solver runs.
struct Job<'a> {
    model: &'a dyn Model,
    x: &'a [f64],
    y: &'a [f64],
    transforms: &'a [Transform],
    fixed: &'a [Option<f64>],
    settings: &'a FitSettings,
}

impl Job<'_> {
    fn solver(&self) -> LevenbergMarquardt<f64> {
        LevenbergMarquardt::new()
            .with_ftol(self.settings.tolerance)
            .with_xtol(self.settings.tolerance)
            .with_gtol(0.0)
            .with_patience(self.settings.patience.max(1))
    }

    fn run<N: DimName>(&self, u0: &[f64]) -> Option<FitResult>
    where
        Dyn: DimMin<N> + DimMax<N>,
        DefaultAllocator: Allocator<N>
            + Allocator<Dyn>
            + Allocator<Dyn, N>
            + Reallocator<f64, Dyn, N, DimMaximum<Dyn, N>, N>,
    {
        self.run_with(OVector::<f64, N>::from_column_slice(u0), N::name())
    }

    /// More parameters than the static dispatch covers: a dynamic dimension.
    fn run_dyn(&self, u0: &[f64]) -> Option<FitResult> {
        self.run_with(DVector::from_column_slice(u0), Dyn(u0.len()))
    }

    fn run_with<N: Dim>(&self, mut u: OVector<f64, N>, ndim: N) -> Option<FitResult>
    where
        Dyn: DimMin<N> + DimMax<N>,
        DefaultAllocator: Allocator<N>
            + Allocator<Dyn>
            + Allocator<Dyn, N>
            + Reallocator<f64, Dyn, N, DimMaximum<Dyn, N>, N>,
    {
        let n = ndim.value();
        let solver = self.solver();
        let mut best: Option<(f64, Vec<f64>)> = None;
        let mut evaluations = 0;
        let mut converged = false;
        // Restarting from the best point resets the trust region, which lets the
        // solver creep further along the flat valleys of degenerate curves (b -> 1
        // in exp3).
        for _ in 0..=self.settings.restarts {
            let problem = Problem::<N> {
                ndim,
                model: self.model,
                x: self.x,
                y: self.y,
                transforms: self.transforms,
                fixed: self.fixed,
                u: u.clone(),
                rows: self.x.len().max(n),
                scratch: RefCell::new(Scratch::default()),
                best: RefCell::new(Best {
                    sse: f64::INFINITY,
                    params: Vec::with_capacity(n),
                    u: None,
                }),
                evaluations: Cell::new(0),
            };
            let (problem, report) = solver.minimize(problem);
            let ev = problem.evaluations.get();
            evaluations += ev;
            converged = report.termination.was_successful();
            let b = problem.best.into_inner();
            let Some(next) = b.u else {
                break;
            };
            let improved = best
                .as_ref()
                .is_none_or(|(s, _)| b.sse < *s * (1.0 - 1e-10) - 1e-300);
            if best.as_ref().is_none_or(|(s, _)| b.sse < *s) {
                best = Some((b.sse, b.params));
            }
            if !improved {
                break;
            }
            u = next;
        }
        best.map(|(sse, params)| FitResult {
            params,
            sse,
            evaluations,
            converged,
        })
    }
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
