//! Prediction intervals for `fit_P` by the delta method.
//!
//! From a least-squares fit of `n` parameters to `m` points: the residual
//! variance `s^2 = sse / (m - n)`, the parameters' covariance
//! `s^2 (J^T J)^+` (`J` the Jacobian at the fitted parameters; a
//! pseudo-inverse, so that a flat direction, as on a plateau, adds nothing), and
//! the gradient `g` of the function at the predicted x. The interval for a new
//! observation there is `f +- t_{m-n} s sqrt(1 + g^T (J^T J)^+ g)`, with the
//! Student t quantile of the requested level.
//!
//! It assumes the model is right and the noise independent, which learning
//! curves do not promise: the replay report measures how often the observed
//! value at `e_pred` falls inside.

use crate::functions::Model;
use nalgebra::DMatrix;

/// The `(lo, hi)` interval at `level` (0..1) for a new observation at `x_pred`,
/// or `None` when it cannot be computed (no residual degrees of freedom, a
/// Jacobian that cannot be evaluated, a non-finite result).
pub fn prediction_interval(
    model: &dyn Model,
    x: &[f64],
    params: &[f64],
    sse: f64,
    x_pred: f64,
    level: f64,
) -> Option<(f64, f64)> {
    let (m, n) = (x.len(), params.len());
    if m <= n || n == 0 || !(level > 0.0 && level < 1.0) || !sse.is_finite() {
        return None;
    }
    let mut jac = vec![0.0; m * n];
    if !model.jacobian(x, params, &mut jac) || !jac.iter().all(|v| v.is_finite()) {
        return None;
    }
    let mut value = [0.0];
    let mut grad = vec![0.0; n];
    if !model.eval(&[x_pred], params, &mut value)
        || !model.jacobian(&[x_pred], params, &mut grad)
        || !value[0].is_finite()
        || !grad.iter().all(|v| v.is_finite())
    {
        return None;
    }
    let j = DMatrix::from_row_slice(m, n, &jac);
    let jtj = j.transpose() * &j;
    let scale = jtj.iter().fold(0.0f64, |a, v| a.max(v.abs()));
    let inverse = jtj.pseudo_inverse(scale * 1e-12).ok()?;
    let g = DMatrix::from_column_slice(n, 1, &grad);
    let leverage = (g.transpose() * inverse * &g)[(0, 0)].max(0.0);
    let dof = (m - n) as f64;
    let s2 = sse / dof;
    let half = student_t_quantile(0.5 + level / 2.0, dof)? * (s2 * (1.0 + leverage)).sqrt();
    let (lo, hi) = (value[0] - half, value[0] + half);
    (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
}

/// The `p` quantile (0.5 < p < 1) of Student's t distribution with `dof`
/// degrees of freedom, by bisection on its distribution function.
pub fn student_t_quantile(p: f64, dof: f64) -> Option<f64> {
    if !(p > 0.5 && p < 1.0 && dof > 0.0) {
        return None;
    }
    // P(T > t) = I_{dof / (dof + t^2)}(dof / 2, 1 / 2) / 2.
    let upper_tail =
        |t: f64| 0.5 * regularized_incomplete_beta(dof / (dof + t * t), dof / 2.0, 0.5);
    let target = 1.0 - p;
    let (mut lo, mut hi) = (0.0, 1.0);
    while upper_tail(hi) > target {
        hi *= 2.0;
        if hi > 1e12 {
            return None;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if upper_tail(mid) > target {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo <= 1e-12 * hi {
            break;
        }
    }
    Some(0.5 * (lo + hi))
}

/// `I_x(a, b)`, by its continued fraction (modified Lentz), on the side where
/// that converges fast.
fn regularized_incomplete_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let mut c = 1.0;
    let mut d = 1.0 - (a + b) * x / (a + 1.0);
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for k in 1..500 {
        let k = f64::from(k);
        let m2 = 2.0 * k;
        let even = k * (b - k) * x / ((a + m2 - 1.0) * (a + m2));
        for coefficient in [
            even,
            -(a + k) * (a + b + k) * x / ((a + m2) * (a + m2 + 1.0)),
        ] {
            d = 1.0 + coefficient * d;
            if d.abs() < TINY {
                d = TINY;
            }
            c = 1.0 + coefficient / c;
            if c.abs() < TINY {
                c = TINY;
            }
            d = 1.0 / d;
            h *= d * c;
        }
        if (d * c - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// `ln Gamma(x)` for `x > 0` (Lanczos, g = 7, n = 9).
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut sum = C[0];
    for (i, c) in C.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::functions::builtin;

    #[test]
    fn t_quantiles_match_tables() {
        // Two-sided 90 % and 95 % critical values.
        for (p, dof, t) in [
            (0.95, 1.0, 6.313_751_5),
            (0.95, 5.0, 2.015_048_4),
            (0.95, 30.0, 1.697_260_9),
            (0.975, 10.0, 2.228_138_9),
            (0.975, 1e6, 1.959_966_0),
        ] {
            let q = student_t_quantile(p, dof).unwrap();
            assert!((q - t).abs() < 1e-5, "p {p} dof {dof}: {q} vs {t}");
        }
        assert!(student_t_quantile(0.4, 3.0).is_none());
        assert!(student_t_quantile(0.9, 0.0).is_none());
    }

    #[test]
    fn interval_widens_with_noise_and_covers_the_fit() {
        let f = builtin("exp3").unwrap();
        let p = [80.0, 1.3, 10.0];
        let x: Vec<f64> = (1..=12).map(f64::from).collect();
        let mut at = [0.0];
        f.eval(&[40.0], &p, &mut at);
        let narrow = prediction_interval(f, &x, &p, 0.12, 40.0, 0.9).unwrap();
        let wide = prediction_interval(f, &x, &p, 12.0, 40.0, 0.9).unwrap();
        assert!(narrow.0 < at[0] && at[0] < narrow.1);
        assert!(wide.1 - wide.0 > narrow.1 - narrow.0);
        // No residual degrees of freedom, no interval.
        assert!(prediction_interval(f, &x[..3], &p, 0.1, 40.0, 0.9).is_none());
    }

    #[test]
    fn a_plateau_still_gets_an_interval() {
        let f = builtin("exp3").unwrap();
        let x: Vec<f64> = (1..=6).map(f64::from).collect();
        let (lo, hi) =
            prediction_interval(f, &x, &[10.0, std::f64::consts::E, -800.0], 0.5, 40.0, 0.9)
                .unwrap();
        assert!(lo < 10.0 && 10.0 < hi && hi - lo < 3.0, "{lo} {hi}");
    }
}
