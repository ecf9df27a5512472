//! Algorithm 1 (parametric modeling): fit the configured function to a network's
//! history and extrapolate it to `e_pred`.

use crate::config::{Config, Solver, UnconvergedFit};
use crate::fit::{Bounds, FitResult, FitSettings, fit, fit_best_of};
use crate::functions::Model;
use crate::trf::{TrfSettings, fit_trf};

/// One run of Algorithm 1 on a history.
#[derive(Clone, Debug, PartialEq)]
pub struct Prediction {
    /// `fit_P = f(x(e_pred))`; NaN when the fit failed or gave a non-finite value.
    pub value: f64,
    /// The fitted parameters (empty when the fit failed).
    pub params: Vec<f64>,
    /// Sum of squared residuals of the fit (NaN when it failed).
    pub sse: f64,
    /// A parameter ended within `upper_bound_reject` of a finite upper bound.
    pub at_upper_bound: bool,
    /// The fit converged (see [`FitResult::converged`]).
    pub converged: bool,
}

impl Prediction {
    /// No prediction (failed fit).
    pub fn none() -> Prediction {
        Prediction {
            value: f64::NAN,
            params: Vec::new(),
            sse: f64::NAN,
            at_upper_bound: false,
            converged: false,
        }
    }
}

/// The cold start points Penguin tries, best result kept: the configured `p0` if
/// any, the function's data-driven
/// start if it has one, and the catalogue's default start only when none of those
/// exists (it is a poor start for real data: exp3's (10, 1.001, 100) needs
/// thousands of evaluations).
pub fn start_points(model: &dyn Model, p0: Option<&[f64]>, x: &[f64], y: &[f64]) -> Vec<Vec<f64>> {
    let mut starts: Vec<Vec<f64>> = Vec::with_capacity(3);
    let n = model.n_params();
    let mut push = |s: Vec<f64>| {
        if s.len() == n && s.iter().all(|v| v.is_finite()) && !starts.contains(&s) {
            starts.push(s);
        }
    };
    if let Some(p) = p0 {
        push(p.to_vec());
    }
    if let Some(s) = model.data_start(x, y) {
        push(s);
    }
    if starts.is_empty()
        && let Some(p) = model.default_p0()
        && p.len() == n
    {
        starts.push(p);
    }
    starts
}

/// What a network remembers of its previous fit, to start the next one from.
#[derive(Clone, Copy, Debug)]
pub struct WarmStart<'a> {
    /// The previous fit's parameters.
    pub params: &'a [f64],
    /// Whether that fit converged.
    pub converged: bool,
}

/// Fits `model` to the points with Penguin's start strategy: a short run from
/// the warm start (the previous fit's parameters) when there is one, and the
/// cold [`start_points`]; the best result is kept, a converged one preferred.
///
/// Measured on the golden SciPy fits, a warm start alone ends in a worse local
/// minimum than SciPy's in about 7 % of prefixes (exp3's valleys), so the cold
/// starts always run too: the warm start can only improve the fit.
pub fn fit_curve(
    model: &dyn Model,
    x: &[f64],
    y: &[f64],
    p0: Option<&[f64]>,
    bounds: &Bounds,
    warm: Option<WarmStart>,
    settings: &FitSettings,
) -> Option<FitResult> {
    let warm_result = warm.and_then(|w| fit(model, x, y, w.params, bounds, &settings.warm()));
    let starts = start_points(model, p0, x, y);
    let cold = fit_best_of(model, x, y, &starts, bounds, settings);
    match (warm_result, cold) {
        (Some(w), Some(c)) => Some(better(w, c)),
        (w, c) => c.or(w),
    }
}

/// The better of two fits: a converged one over one that is not, then the lower
/// sum of squares.
fn better(a: FitResult, b: FitResult) -> FitResult {
    match (a.converged, b.converged) {
        (true, false) => a,
        (false, true) => b,
        _ if a.sse < b.sse => a,
        _ => b,
    }
}

/// SciPy's bounded `curve_fit` from one start: the configured `p0`, else the
/// function's data-driven start, else its default start. `None` where
/// `curve_fit` raises.
pub fn fit_like_scipy(
    model: &dyn Model,
    x: &[f64],
    y: &[f64],
    p0: Option<&[f64]>,
    bounds: &Bounds,
) -> Option<FitResult> {
    let start = start_points(model, p0, x, y).into_iter().next()?;
    fit_trf(model, x, y, &start, bounds, &TrfSettings::default()).ok()
}

/// Algorithm 1 on a history of `(epoch, value)` points: fit and extrapolate.
/// The caller decides whether there are enough points.
pub fn predict(
    config: &Config,
    epochs: &[f64],
    values: &[f64],
    warm: Option<WarmStart>,
) -> Prediction {
    let x: Vec<f64> = epochs.iter().map(|e| config.x_of(*e)).collect();
    let bounds = config.effective_bounds();
    let model = config.function.as_ref();
    let warm = warm.filter(|_| config.warm_start);
    let fitted = match config.solver {
        Solver::Lm => fit_curve(
            model,
            &x,
            values,
            config.p0.as_deref(),
            &bounds,
            warm,
            &config.fit,
        ),
        Solver::Trf => fit_like_scipy(model, &x, values, config.p0.as_deref(), &bounds),
    };
    let Some(fit) = fitted else {
        return Prediction::none();
    };
    if !fit.converged && config.unconverged_fit == UnconvergedFit::Fail {
        // As SciPy's curve_fit raises: no prediction, but the parameters still
        // serve as the next warm start.
        return Prediction {
            params: fit.params,
            sse: fit.sse,
            ..Prediction::none()
        };
    }
    let mut y = [f64::NAN];
    let ok = model.eval(&[config.x_of(config.e_pred)], &fit.params, &mut y);
    let at_upper_bound = config.upper_bound_reject.is_some_and(|tol| {
        fit.params
            .iter()
            .zip(&bounds.upper)
            .any(|(p, hi)| hi.is_finite() && (hi - p) <= tol)
    });
    Prediction {
        value: if ok && y[0].is_finite() {
            y[0]
        } else {
            f64::NAN
        },
        params: fit.params,
        sse: fit.sse,
        at_upper_bound,
        converged: fit.converged,
    }
}
