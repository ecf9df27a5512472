//! Algorithm 1 (parametric modeling): fit the configured function to a network's
//! history and extrapolate it to `e_pred`.

use crate::config::{Combine, Config, Solver, UnconvergedFit};
use crate::fit::{Bounds, FitResult, FitSettings, fit, fit_best_of, sum_of_squares};
use crate::functions::Model;
use crate::interval::prediction_interval;
use crate::profile::{Optimum, ProfileFit};
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
    /// Prediction interval at the configured level (NaN when none).
    pub lo: f64,
    /// Upper end of the prediction interval (NaN when none).
    pub hi: f64,
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
            lo: f64::NAN,
            hi: f64::NAN,
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
///
/// A function with a profile fit (exp3, see [`crate::profile`]) takes a faster
/// route first: [`fit_with_profile`].
pub fn fit_curve(
    model: &dyn Model,
    x: &[f64],
    y: &[f64],
    p0: Option<&[f64]>,
    bounds: &Bounds,
    warm: Option<WarmStart>,
    settings: &FitSettings,
) -> Option<FitResult> {
    if model.has_profile()
        && let Some(r) = fit_with_profile(model, x, y, p0, bounds, settings)
    {
        return Some(r);
    }
    let warm_result = warm.and_then(|w| fit(model, x, y, w.params, bounds, &settings.warm()));
    let starts = start_points(model, p0, x, y);
    let cold = fit_best_of(model, x, y, &starts, bounds, settings);
    match (warm_result, cold) {
        (Some(w), Some(c)) => Some(better(w, c)),
        (w, c) => c.or(w),
    }
}

/// The profile route of [`fit_curve`]: short solver runs from the cold starts
/// (`warm_patience` budget: where SciPy's `curve_fit` converges from the same
/// start, they end at the same local optimum), and where they do not settle,
/// the profile's answer instead of a long walk: its global optimum polished,
/// the plateau of a flat or jump-shaped curve, or, where the infimum is not
/// attained (a straight line) in an unbounded problem, an unconverged fit at
/// once. `None` where the profile's point lies outside the bounds or its polish
/// fails: the caller then runs the full search.
pub fn fit_with_profile(
    model: &dyn Model,
    x: &[f64],
    y: &[f64],
    p0: Option<&[f64]>,
    bounds: &Bounds,
    settings: &FitSettings,
) -> Option<FitResult> {
    let short = settings.warm();
    // The profile's point, when it lies within the bounds and can be evaluated.
    let usable = model
        .profile_fit(x, y)
        .filter(|p| bounds.contains(&p.params))
        .and_then(|p| {
            let sse = sum_of_squares(model, x, y, &p.params);
            sse.is_finite().then_some((p, sse))
        });
    // A short run from the profile's optimum settles almost always; where it
    // does not (a jump at the last point, b -> 0), the full budget from the
    // same point still converges in ~150 evaluations, to a lower sum of squares
    // than the full search from SciPy's starts reaches in its 3,200.
    let polish = |p: &ProfileFit| {
        fit(model, x, y, &p.params, bounds, &short)
            .filter(|r| r.converged)
            .or_else(|| fit(model, x, y, &p.params, bounds, settings).filter(|r| r.converged))
    };
    let at_profile = |p: &ProfileFit, sse: f64, converged: bool| FitResult {
        params: p.params.clone(),
        sse,
        evaluations: 1,
        converged,
    };
    // The common cases: a rising curve with an interior optimum (polishing the
    // profile's global optimum is the cheapest way to it), and a plateau.
    if let Some((p, sse)) = &usable {
        match p.kind {
            Optimum::Plateau => return Some(at_profile(p, *sse, true)),
            Optimum::Interior if p.rising => {
                if let Some(r) = polish(p) {
                    return Some(r);
                }
            }
            _ => {}
        }
    }
    // Otherwise, where the solver converges from SciPy's start, it ends where
    // SciPy's `curve_fit` ends (a local optimum, e.g. the flat line on a curve
    // that never learns): that is the answer Penguin's decisions are measured
    // against.
    let local = fit_best_of(model, x, y, &start_points(model, p0, x, y), bounds, &short);
    if local.as_ref().is_some_and(|l| l.converged) {
        return local;
    }
    let (p, sse) = usable?;
    match p.kind {
        Optimum::Unattained => {
            // The infimum lies at infinite parameters: where the valley
            // towards it stays inside the box, the bounded problem has no
            // optimum either, settled here.
            p.valley_within(&bounds.lower, &bounds.upper)
                .then(|| match local {
                    Some(l) if l.sse < sse => l,
                    _ => at_profile(&p, sse, false),
                })
        }
        // A falling curve's interior optimum (a rising one was polished above).
        Optimum::Interior if !p.rising => polish(&p),
        // Already answered above, or its polish failed.
        Optimum::Interior | Optimum::Plateau => None,
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
/// The caller decides whether there are enough points. With `alternatives`,
/// every listed function with fewer parameters than points is fitted too
/// (from its own starts and default bounds) and `combine` makes one prediction
/// of them: the lowest AICc's, or their mean. The parameters returned (the
/// next warm start) are always `function`'s own.
pub fn predict(
    config: &Config,
    epochs: &[f64],
    values: &[f64],
    warm: Option<WarmStart>,
) -> Prediction {
    let x: Vec<f64> = epochs.iter().map(|e| config.x_of(*e)).collect();
    let bounds = config.effective_bounds();
    let warm = warm.filter(|_| config.warm_start);
    let main = predict_with(
        config,
        config.function.as_ref(),
        &bounds,
        config.p0.as_deref(),
        warm,
        &x,
        values,
    );
    if config.alternatives.is_empty() {
        return main;
    }
    let m = x.len();
    let mut others = config
        .alternatives
        .iter()
        .filter(|model| model.n_params() < m)
        .map(|model| {
            let n = model.n_params();
            let alt_bounds = match model.default_bounds() {
                Some((lower, upper)) if lower.len() == n && upper.len() == n => {
                    Bounds { lower, upper }
                }
                _ => Bounds::unbounded(n),
            };
            predict_with(config, model.as_ref(), &alt_bounds, None, None, &x, values)
        });
    match config.combine {
        Combine::Aicc => {
            let score = |p: &Prediction| {
                if p.value.is_finite() && p.converged {
                    aicc(p.sse, m, p.params.len())
                } else {
                    f64::INFINITY
                }
            };
            // The main function's parameters stay the next warm start.
            let mut best = main;
            let mut best_score = score(&best);
            for p in others {
                let s = score(&p);
                if s < best_score {
                    best = Prediction {
                        params: std::mem::take(&mut best.params),
                        converged: best.converged,
                        ..p
                    };
                    best_score = s;
                }
            }
            best
        }
        Combine::Mean => {
            // predict_with has applied `unconverged_fit` already: a finite
            // value is a prediction, for every function alike.
            if !main.value.is_finite() {
                return main;
            }
            let (mut k, mut value, mut lo, mut hi) = (1.0, main.value, main.lo, main.hi);
            let mut at_upper_bound = main.at_upper_bound;
            for p in others.by_ref() {
                if !p.value.is_finite() {
                    return Prediction {
                        value: f64::NAN,
                        lo: f64::NAN,
                        hi: f64::NAN,
                        ..main
                    };
                }
                k += 1.0;
                value += p.value;
                lo += p.lo;
                hi += p.hi;
                at_upper_bound |= p.at_upper_bound;
            }
            Prediction {
                value: value / k,
                lo: lo / k,
                hi: hi / k,
                at_upper_bound,
                ..main
            }
        }
        Combine::MeanFitted => mean_of_fitted(main, others),
    }
}

/// `combine = mean_fitted`: the mean of the predictions that have a value
/// (`main`'s and the alternatives'), and the mean of the intervals among them
/// that have one; none only when no function gave a value. The parameters (the
/// next warm start) stay `main`'s.
fn mean_of_fitted(main: Prediction, others: impl Iterator<Item = Prediction>) -> Prediction {
    let mut out = Prediction {
        params: main.params.clone(),
        converged: main.converged,
        ..Prediction::none()
    };
    let fitted: Vec<Prediction> = std::iter::once(main)
        .chain(others)
        .filter(|p| p.value.is_finite())
        .collect();
    if fitted.is_empty() {
        return out;
    }
    let k = fitted.len() as f64;
    out.value = fitted.iter().map(|p| p.value).sum::<f64>() / k;
    out.at_upper_bound = fitted.iter().any(|p| p.at_upper_bound);
    let with_interval: Vec<&Prediction> = fitted
        .iter()
        .filter(|p| p.lo.is_finite() && p.hi.is_finite())
        .collect();
    if !with_interval.is_empty() {
        let j = with_interval.len() as f64;
        out.lo = with_interval.iter().map(|p| p.lo).sum::<f64>() / j;
        out.hi = with_interval.iter().map(|p| p.hi).sum::<f64>() / j;
    }
    out
}

/// Akaike's information criterion with the small-sample correction, for a
/// least-squares fit of `k` parameters to `m` points (lower is better).
pub fn aicc(sse: f64, m: usize, k: usize) -> f64 {
    if m <= k + 1 || !sse.is_finite() {
        return f64::INFINITY;
    }
    let (m, k) = (m as f64, k as f64);
    m * (sse.max(1e-300) / m).ln() + 2.0 * k + 2.0 * k * (k + 1.0) / (m - k - 1.0)
}

/// Algorithm 1 with one function, bounds and start.
fn predict_with(
    config: &Config,
    model: &dyn Model,
    bounds: &Bounds,
    p0: Option<&[f64]>,
    warm: Option<WarmStart>,
    x: &[f64],
    values: &[f64],
) -> Prediction {
    let fitted = match config.solver {
        Solver::Lm => fit_curve(model, x, values, p0, bounds, warm, &config.fit),
        Solver::Trf => fit_like_scipy(model, x, values, p0, bounds),
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
    let value = if ok && y[0].is_finite() {
        y[0]
    } else {
        f64::NAN
    };
    let (lo, hi) = if value.is_finite() && config.interval > 0.0 {
        prediction_interval(
            model,
            x,
            &fit.params,
            fit.sse,
            config.x_of(config.e_pred),
            config.interval,
        )
        .unwrap_or((f64::NAN, f64::NAN))
    } else {
        (f64::NAN, f64::NAN)
    };
    Prediction {
        value,
        params: fit.params,
        sse: fit.sse,
        at_upper_bound,
        converged: fit.converged,
        lo,
        hi,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(value: f64, lo: f64, hi: f64) -> Prediction {
        Prediction {
            value,
            lo,
            hi,
            params: vec![value],
            converged: true,
            sse: 0.0,
            at_upper_bound: false,
        }
    }

    #[test]
    fn mean_fitted_averages_the_functions_that_gave_a_value() {
        let nan = f64::NAN;
        // Main and one alternative fitted; one failed; one has no interval.
        let out = mean_of_fitted(
            p(80.0, 78.0, 82.0),
            vec![p(nan, nan, nan), p(84.0, 80.0, 88.0), p(86.0, nan, nan)].into_iter(),
        );
        assert_eq!(out.value, (80.0 + 84.0 + 86.0) / 3.0);
        assert_eq!((out.lo, out.hi), (79.0, 85.0));
        assert_eq!(
            out.params,
            vec![80.0],
            "main's parameters are the warm start"
        );
        // Main failed: the others still give a prediction.
        let out = mean_of_fitted(p(nan, nan, nan), vec![p(90.0, 88.0, 92.0)].into_iter());
        assert_eq!((out.value, out.lo, out.hi), (90.0, 88.0, 92.0));
        // Nothing fitted: no prediction.
        let out = mean_of_fitted(p(nan, nan, nan), vec![p(nan, nan, nan)].into_iter());
        assert!(out.value.is_nan() && out.lo.is_nan());
    }
}
