//! Profile (variable-projection) least squares for the exponential saturation
//! curve `y = a - K e^(-beta x)`, which is exp3 (`a - b^(c - x)` with
//! `b = e^beta`, `K = b^c`).
//!
//! For a fixed rate `beta` the curve is linear in `a` and `K`, so the best `a`, `K`
//! and the remaining sum of squares `R(beta)` have a closed form. Minimising the
//! one-dimensional `R` over a grid of rates, then refining the best bracket,
//! finds the global least-squares optimum (where the data has one) in a few
//! hundred exponentials, and tells the curves whose infimum is not attained
//! (a straight line, `beta -> 0`; a single jump, `beta -> inf`): on those an
//! iterative solver only walks down an endless valley until its budget is spent.

/// What the profile found.
#[derive(Clone, Debug, PartialEq)]
pub struct ProfileFit {
    /// exp3 parameters `(a, b, c)` of the best point found.
    pub params: Vec<f64>,
    /// The sum of squares there.
    pub sse: f64,
    /// Where the optimum lies.
    pub kind: Optimum,
    /// The curve rises (`beta > 0`, `b > 1`), as a learning curve does.
    pub rising: bool,
}

impl ProfileFit {
    /// For an [`Optimum::Unattained`] fit: whether the valley towards the
    /// infimum stays inside the box `lower..upper` (then the bounded problem
    /// has no optimum either). Always in an unbounded box; for a rising
    /// straight line (`b -> 1+`, `a, c -> inf`) also in any box with `a` and
    /// `c` unbounded above and `b` allowed down to 1 (Penguin's default
    /// bounds, `b >= 1`).
    pub fn valley_within(&self, lower: &[f64], upper: &[f64]) -> bool {
        let unbounded = lower.iter().chain(upper).all(|b| b.is_infinite());
        let line_in_box = self.rising
            && lower.len() == 3
            && upper.len() == 3
            && upper[0] == f64::INFINITY
            && lower[1] <= 1.0
            && upper[2] == f64::INFINITY;
        unbounded || line_in_box
    }
}

/// Where the least-squares optimum of exp3 lies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Optimum {
    /// At a finite rate: an interior minimum of `R`, to be polished by the solver.
    Interior,
    /// In a limit that `params` represents to rounding: the flat line (`K -> 0`,
    /// the best exp3 when the data falls) or a jump at the first point followed
    /// by a plateau (`beta -> inf`). The prediction of the limit curve is finite
    /// (the plateau), and an iterative solver stops there too.
    Plateau,
    /// Not attained: the infimum is a limit whose prediction is not defined by
    /// the data (a straight line, `beta -> 0`; a jump at the last point,
    /// `beta -> -inf`). `params` is a point far along the valley.
    Unattained,
}

/// Grid of `|beta| * span` values, log-spaced.
const GRID_LO: f64 = 1e-3;
const GRID_HI: f64 = 60.0;
const GRID_POINTS: usize = 16;
/// Golden-section steps on the best bracket (the solver polishes after).
const REFINE_STEPS: usize = 18;
/// Where a not-attained infimum at rate zero is approached: `|beta| * span` this
/// small (smaller rates lose the parameters to rounding: `b = e^beta` near 1).
const FAR_SMALL: f64 = 1e-4;
/// An infinite rate is represented by `e^(-beta dx) = e^-JUMP` at the gap `dx`
/// next to the end point: the rest of the curve is flat to rounding.
const JUMP: f64 = 40.0;

/// The best exp3 fit to `(x, y)` by profiling out `a` and `K`; `None` when the
/// data cannot carry it (fewer than 3 points, no spread in x, non-finite input).
pub fn fit_exp3(x: &[f64], y: &[f64]) -> Option<ProfileFit> {
    let m = x.len();
    if m < 3 || y.len() != m || !x.iter().chain(y).all(|v| v.is_finite()) {
        return None;
    }
    let (lo, hi) = x
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), &v| {
            (l.min(v), h.max(v))
        });
    let span = hi - lo;
    if span <= 0.0 {
        return None;
    }
    let p = Profile::new(x, y, span);
    // R on both signs of the rate: index 0..G is beta < 0 (from -HI to -LO),
    // G..2G is beta > 0 (from LO to HI); R is continuous through 0.
    let step = (GRID_HI / GRID_LO).ln() / (GRID_POINTS - 1) as f64;
    let rate = |k: usize| -> f64 {
        if k < GRID_POINTS {
            -(GRID_LO.ln() + step * (GRID_POINTS - 1 - k) as f64).exp()
        } else {
            (GRID_LO.ln() + step * (k - GRID_POINTS) as f64).exp()
        }
    };
    let points: Vec<Point> = (0..2 * GRID_POINTS).map(|k| p.at(rate(k))).collect();
    let best = (0..points.len()).min_by(|&i, &j| points[i].sse.total_cmp(&points[j].sse))?;
    let best_sse = points[best].sse;
    if points[best].slope == 0.0 {
        // No rate gives K > 0: the best exp3 is the flat line.
        return Some(p.flat());
    }
    let edge_out = best == 0 || best == 2 * GRID_POINTS - 1;
    let edge_in = best == GRID_POINTS - 1 || best == GRID_POINTS;
    if edge_out {
        // Towards an infinite rate: a jump at the first point (beta > 0) or the
        // last (beta < 0).
        let positive = best > 0;
        let gap = end_gap(x, positive);
        let far = if positive { JUMP } else { -JUMP } * span / gap;
        let limit = p.at(far);
        if limit.sse < best_sse {
            let kind = if positive {
                Optimum::Plateau
            } else {
                Optimum::Unattained
            };
            return limit.to_fit(p.center, kind);
        }
    }
    if edge_in {
        // Towards rate zero: a straight line.
        let limit = p.at(rate(best).signum() * FAR_SMALL);
        if limit.sse < best_sse {
            return limit.to_fit(p.center, Optimum::Unattained);
        }
    }
    // Golden-section search on log|u| inside the bracket around the best point.
    let (mut a, mut b) = if edge_in {
        (FAR_SMALL.ln(), GRID_LO.ln() + step)
    } else {
        let centre = rate(best).abs().ln();
        (centre - step, centre + step)
    };
    let sign = rate(best).signum();
    let f = |t: f64| p.at(sign * t.exp());
    let g = 0.5 * (5f64.sqrt() - 1.0);
    let mut c = b - g * (b - a);
    let mut d = a + g * (b - a);
    let (mut fc, mut fd) = (f(c).sse, f(d).sse);
    for _ in 0..REFINE_STEPS {
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c).sse;
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d).sse;
        }
    }
    let refined = f(if fc < fd { c } else { d });
    let point = if refined.sse <= best_sse && refined.slope < 0.0 {
        refined
    } else {
        points[best]
    };
    point.to_fit(p.center, Optimum::Interior)
}

/// The gap between the first point and its neighbour in x (`first`), or the
/// last point and its neighbour.
fn end_gap(x: &[f64], first: bool) -> f64 {
    let mut v: Vec<f64> = x.to_vec();
    v.sort_by(f64::total_cmp);
    v.dedup();
    let gap = if first {
        v.get(1).map(|s| s - v[0])
    } else {
        v.len().checked_sub(2).map(|i| v[i + 1] - v[i])
    };
    gap.filter(|g| *g > 0.0).unwrap_or(1.0)
}

/// The data, centred, for evaluating `R(beta)`.
struct Profile<'a> {
    x: &'a [f64],
    y: &'a [f64],
    center: f64,
    span: f64,
    y_mean: f64,
    syy: f64,
}

/// The best `(a, L)` at one rate, in the centred basis
/// `y = alpha + L (e^(-beta (x - center)) - 1)`.
#[derive(Clone, Copy, Debug)]
struct Point {
    beta: f64,
    alpha: f64,
    slope: f64,
    sse: f64,
}

impl Profile<'_> {
    fn new<'a>(x: &'a [f64], y: &'a [f64], span: f64) -> Profile<'a> {
        let m = x.len() as f64;
        let center = x.iter().sum::<f64>() / m;
        let y_mean = y.iter().sum::<f64>() / m;
        let syy = y.iter().map(|v| (v - y_mean) * (v - y_mean)).sum();
        Profile {
            x,
            y,
            center,
            span,
            y_mean,
            syy,
        }
    }

    /// The flat line `y = mean` as exp3: `K` so small that `b^(c - x)` vanishes
    /// to rounding over the data and at any later x.
    fn flat(&self) -> ProfileFit {
        ProfileFit {
            params: vec![self.y_mean, std::f64::consts::E, -800.0],
            sse: self.syy,
            kind: Optimum::Plateau,
            rising: false,
        }
    }

    /// `R` and the linear parameters at rate `u / span`; a curve with `K <= 0`
    /// is not exp3, so there the best exp3 is the flat line (`K -> 0`).
    fn at(&self, u: f64) -> Point {
        let beta = u / self.span;
        let m = self.x.len() as f64;
        // x is centred, so g = e^(-beta (x - center)) - 1 has a mean near zero
        // against its spread and the raw sums lose nothing; since the y
        // deviations sum to zero, sgy needs no centring of g.
        let (mut g_sum, mut g_sq, mut sgy) = (0.0, 0.0, 0.0);
        for (&x, &y) in self.x.iter().zip(self.y) {
            let g = (-beta * (x - self.center)).exp_m1();
            g_sum += g;
            g_sq += g * g;
            sgy += g * (y - self.y_mean);
        }
        let g_mean = g_sum / m;
        let sgg = g_sq - g_sum * g_mean;
        let flat = Point {
            beta,
            alpha: self.y_mean,
            slope: 0.0,
            sse: self.syy,
        };
        if sgg.is_nan() || sgg <= 0.0 || !sgg.is_finite() || !sgy.is_finite() || sgy >= 0.0 {
            return flat;
        }
        let slope = sgy / sgg;
        Point {
            beta,
            alpha: self.y_mean - slope * g_mean,
            slope,
            sse: (self.syy - sgy * sgy / sgg).max(0.0),
        }
    }
}

impl Point {
    /// exp3's `(a, b, c)`: `a = alpha - L`, `K = -L e^(beta center)`,
    /// `b = e^beta`, `c = ln K / beta`.
    fn to_fit(self, center: f64, kind: Optimum) -> Option<ProfileFit> {
        if self.slope.is_nan() || self.slope >= 0.0 || self.beta == 0.0 {
            return None;
        }
        let a = self.alpha - self.slope;
        let ln_k = (-self.slope).ln() + self.beta * center;
        let params = vec![a, self.beta.exp(), ln_k / self.beta];
        params.iter().all(|v| v.is_finite()).then_some(ProfileFit {
            params,
            sse: self.sse,
            kind,
            rising: self.beta > 0.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exp3(x: f64, p: &[f64]) -> f64 {
        p[0] - p[1].powf(p[2] - x)
    }

    fn sse(x: &[f64], y: &[f64], p: &[f64]) -> f64 {
        x.iter()
            .zip(y)
            .map(|(x, y)| (exp3(*x, p) - y).powi(2))
            .sum()
    }

    #[test]
    fn recovers_an_exact_curve() {
        let truth = [85.0, 1.4, 9.0];
        let x: Vec<f64> = (1..=12).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|x| exp3(*x, &truth)).collect();
        let f = fit_exp3(&x, &y).unwrap();
        assert_eq!(f.kind, Optimum::Interior);
        assert!(f.sse < 1e-6, "{f:?}");
        for (p, t) in f.params.iter().zip(truth) {
            assert!((p - t).abs() < 1e-3 * t.abs(), "{f:?}");
        }
        assert!((sse(&x, &y, &f.params) - f.sse).abs() < 1e-6);
    }

    #[test]
    fn a_straight_line_has_no_finite_optimum() {
        let x: Vec<f64> = (1..=10).map(f64::from).collect();
        let y: Vec<f64> = x.iter().map(|x| 10.0 + 2.0 * x).collect();
        let f = fit_exp3(&x, &y).unwrap();
        assert_eq!(f.kind, Optimum::Unattained);
        assert!(f.sse < 1e-6, "{f:?}");
        assert!((sse(&x, &y, &f.params) - f.sse).abs() < 1e-4);
    }

    #[test]
    fn noisy_curve_sse_matches_parameters() {
        let x: Vec<f64> = (1..=15).map(f64::from).collect();
        let noise = [
            0.3, -0.2, 0.1, -0.4, 0.2, 0.0, -0.1, 0.3, -0.3, 0.1, 0.2, -0.2, 0.0, 0.1, -0.1,
        ];
        let y: Vec<f64> = x
            .iter()
            .zip(noise)
            .map(|(x, e)| exp3(*x, &[70.0, 1.3, 12.0]) + e)
            .collect();
        let f = fit_exp3(&x, &y).unwrap();
        assert_eq!(f.kind, Optimum::Interior);
        let direct = sse(&x, &y, &f.params);
        assert!(
            (direct - f.sse).abs() < 1e-6 * direct.max(1.0),
            "{direct} {f:?}"
        );
        assert!(f.sse < noise.iter().map(|e| e * e).sum::<f64>());
    }

    #[test]
    fn flat_and_falling_data_give_the_plateau() {
        let x: Vec<f64> = (1..=8).map(f64::from).collect();
        let flat = [10.0; 8];
        let f = fit_exp3(&x, &flat).unwrap();
        assert_eq!(f.kind, Optimum::Plateau, "{f:?}");
        let at_20 = exp3(20.0, &f.params);
        assert!((at_20 - 10.0).abs() < 0.1, "{f:?} {at_20}");
        assert!((sse(&x, &flat, &f.params) - f.sse).abs() < 1e-9 + 1e-9 * f.sse);
        // A jump after the first point, then a plateau.
        let jump = [2.0, 50.0, 50.0, 50.0, 50.0, 50.0];
        let f = fit_exp3(&x[..6], &jump).unwrap();
        assert_eq!(f.kind, Optimum::Plateau, "{f:?}");
        assert!((exp3(20.0, &f.params) - 50.0).abs() < 1e-6, "{f:?}");
        assert!(sse(&x[..6], &jump, &f.params) < 1e-9);
    }

    #[test]
    fn degenerate_inputs_give_none() {
        assert!(fit_exp3(&[1.0, 2.0], &[3.0, 4.0]).is_none());
        assert!(fit_exp3(&[1.0, 1.0, 1.0], &[3.0, 4.0, 5.0]).is_none());
        assert!(fit_exp3(&[1.0, 2.0, f64::NAN], &[3.0, 4.0, 5.0]).is_none());
    }
}
