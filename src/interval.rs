//! Prediction intervals for `fit_P` by the delta method.
//!
//! From a least-squares fit of `n` parameters to `m` points: the residual
//! variance `s^2 = sse / (m - n)`, the parameters' covariance
//! `s^2 (J^T J)^+` (`J` the Jacobian at the fitted parameters; a
//! pseudo-inverse, so that a flat direction, as on a plateau, adds nothing), and
//! the gradient `g` of the function at the predicted x (the pseudo-inverse by
//! a small symmetric eigen-decomposition). The interval for a new
//! observation there is `f +- t_{m-n} s sqrt(1 + g^T (J^T J)^+ g)`, with the
//! Student t quantile of the requested level.
//!
//! It assumes the model is right and the noise independent, which learning
//! curves do not promise: the replay report measures how often the observed
//! value at `e_pred` falls inside.

use crate::functions::Model;

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
    // J^T J, then g^T (J^T J)^+ g through its eigen-decomposition.
    let mut jtj = vec![0.0; n * n];
    for row in jac.chunks_exact(n) {
        for a in 0..n {
            for b in 0..=a {
                jtj[a * n + b] += row[a] * row[b];
            }
        }
    }
    for a in 0..n {
        for b in 0..a {
            jtj[b * n + a] = jtj[a * n + b];
        }
    }
    let leverage = pseudo_inverse_form(&mut jtj, n, &grad)?.max(0.0);
    let dof = (m - n) as f64;
    let s2 = sse / dof;
    let half = cached_t_quantile(0.5 + level / 2.0, dof)? * (s2 * (1.0 + leverage)).sqrt();
    let (lo, hi) = (value[0] - half, value[0] + half);
    (lo.is_finite() && hi.is_finite()).then_some((lo, hi))
}

/// `g^T A^+ g` for the symmetric `n x n` matrix `a` (overwritten), by cyclic
/// Jacobi rotations: eigenvalues below `1e-12` of the largest count as zero.
fn pseudo_inverse_form(a: &mut [f64], n: usize, g: &[f64]) -> Option<f64> {
    let mut v = vec![0.0; n * n];
    for i in 0..n {
        v[i * n + i] = 1.0;
    }
    for _sweep in 0..60 {
        let off: f64 = (0..n)
            .flat_map(|p| (0..n).filter(move |&q| q != p).map(move |q| (p, q)))
            .map(|(p, q)| a[p * n + q] * a[p * n + q])
            .sum();
        let diag: f64 = (0..n).map(|i| a[i * n + i] * a[i * n + i]).sum();
        if off <= 1e-30 * diag || off == 0.0 {
            break;
        }
        for p in 0..n {
            for q in p + 1..n {
                let apq = a[p * n + q];
                if apq == 0.0 {
                    continue;
                }
                let theta = (a[q * n + q] - a[p * n + p]) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                for k in 0..n {
                    let (akp, akq) = (a[k * n + p], a[k * n + q]);
                    a[k * n + p] = c * akp - s * akq;
                    a[k * n + q] = s * akp + c * akq;
                }
                for k in 0..n {
                    let (apk, aqk) = (a[p * n + k], a[q * n + k]);
                    a[p * n + k] = c * apk - s * aqk;
                    a[q * n + k] = s * apk + c * aqk;
                }
                for k in 0..n {
                    let (vkp, vkq) = (v[k * n + p], v[k * n + q]);
                    v[k * n + p] = c * vkp - s * vkq;
                    v[k * n + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    let largest = (0..n).map(|i| a[i * n + i].abs()).fold(0.0, f64::max);
    if !largest.is_finite() {
        return None;
    }
    let mut form = 0.0;
    for i in 0..n {
        let lambda = a[i * n + i];
        if lambda > largest * 1e-12 {
            let proj: f64 = (0..n).map(|k| v[k * n + i] * g[k]).sum();
            form += proj * proj / lambda;
        }
    }
    form.is_finite().then_some(form)
}

/// [`student_t_quantile`], remembered per thread for the last levels and
/// degrees of freedom asked (a fit asks the same few again and again).
fn cached_t_quantile(p: f64, dof: f64) -> Option<f64> {
    thread_local! {
        static CACHE: std::cell::RefCell<Vec<(u64, u64, Option<f64>)>> =
            const { std::cell::RefCell::new(Vec::new()) };
    }
    let key = (p.to_bits(), dof.to_bits());
    CACHE.with(|c| {
        let mut c = c.borrow_mut();
        if let Some(hit) = c.iter().find(|e| (e.0, e.1) == key) {
            return hit.2;
        }
        let q = student_t_quantile(p, dof);
        if c.len() >= 256 {
            c.clear();
        }
        c.push((key.0, key.1, q));
        q
    })
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
    fn pseudo_inverse_form_matches_a_direct_solve() {
        // A = [[4, 1, 0], [1, 3, 1], [0, 1, 2]], g = (1, 2, 3): g^T A^-1 g.
        let mut a = vec![4.0, 1.0, 0.0, 1.0, 3.0, 1.0, 0.0, 1.0, 2.0];
        let g = [1.0, 2.0, 3.0];
        let form = pseudo_inverse_form(&mut a, 3, &g).unwrap();
        // Direct: solve A y = g by Cramer's rule.
        let m = [[4.0, 1.0, 0.0], [1.0, 3.0, 1.0], [0.0, 1.0, 2.0]];
        let det = |m: [[f64; 3]; 3]| {
            m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
                - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
                + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
        };
        let d = det(m);
        let y: Vec<f64> = (0..3)
            .map(|c| {
                let mut mc = m;
                for r in 0..3 {
                    mc[r][c] = g[r];
                }
                det(mc) / d
            })
            .collect();
        let direct: f64 = y.iter().zip(g).map(|(y, g)| y * g).sum();
        assert!((form - direct).abs() < 1e-12 * direct, "{form} {direct}");
        // A singular direction adds nothing: diag(2, 0), g = (1, 5).
        let mut s = vec![2.0, 0.0, 0.0, 0.0];
        assert!((pseudo_inverse_form(&mut s, 2, &[1.0, 5.0]).unwrap() - 0.5).abs() < 1e-15);
    }

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
