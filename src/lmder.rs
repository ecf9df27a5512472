//! MINPACK's Levenberg-Marquardt (`lmder`, with `qrfac`, `lmpar` and `qrsolv`)
//! for the small dense problems Penguin solves: a few parameters, tens of points.
//!
//! It follows the published algorithm (Moré, Garbow and Hillstrom, MINPACK-1,
//! 1980) step for step, as SciPy's `leastsq` / unbounded `curve_fit` runs it,
//! so that it stops where SciPy stops; it differs in two places:
//! - a residual vector that is not finite counts as an infinite norm, so the step
//!   is refused and the trust region shrinks (the original would loop);
//! - it remembers the lowest sum of squares it evaluated.
//!
//! All work arrays are allocated once per solve; an iteration allocates nothing.

/// A least-squares problem in `n` free variables with `m >= n` residuals.
pub trait Residuals {
    /// Writes the `m` residuals at `u`; false when they cannot be evaluated.
    fn residuals(&mut self, u: &[f64], r: &mut [f64]) -> bool;
    /// Writes the `m x n` Jacobian at `u`, column by column (`jac[j * m + i]`);
    /// false when it cannot be evaluated.
    fn jacobian(&mut self, u: &[f64], jac: &mut [f64]) -> bool;
}

/// Stopping rules (MINPACK's `ftol`, `xtol`, `gtol`, `maxfev`; `factor` = 100 and
/// `mode` = 1, the scaling from the Jacobian's column norms, as in SciPy).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings {
    /// Relative reduction of the sum of squares below which the solve has converged.
    pub ftol: f64,
    /// Relative trust-region size below which the solve has converged.
    pub xtol: f64,
    /// Cosine between residuals and Jacobian columns below which it has converged.
    pub gtol: f64,
    /// Budget of residual evaluations (Jacobians are not counted, as in `lmder`).
    pub max_evaluations: usize,
}

/// Why the solver stopped (MINPACK's `info`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Termination {
    /// 1: the sum of squares changes by less than `ftol`.
    Ftol,
    /// 2: the step is smaller than `xtol`.
    Xtol,
    /// 3: both.
    FtolAndXtol,
    /// 4: the residuals are orthogonal to the Jacobian's columns.
    Gtol,
    /// 5: the evaluation budget is spent.
    Budget,
    /// 6, 7, 8: a tolerance is below machine precision; no further progress.
    NoProgress,
    /// The Jacobian could not be evaluated.
    JacobianFailed,
}

impl Termination {
    /// SciPy's `curve_fit` returns for `info` 1 to 4 and raises otherwise.
    pub fn converged(self) -> bool {
        matches!(
            self,
            Termination::Ftol | Termination::Xtol | Termination::FtolAndXtol | Termination::Gtol
        )
    }
}

/// The outcome of a solve.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The free variables with the lowest sum of squares evaluated.
    pub u: Vec<f64>,
    /// That sum of squares.
    pub sse: f64,
    /// Residual evaluations spent.
    pub evaluations: usize,
    /// Why the solver stopped.
    pub termination: Termination,
}

fn enorm(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>().sqrt()
}

/// Minimises the sum of squared residuals from `u0`. `None` when the residuals
/// cannot be evaluated at `u0` or `m < n`.
pub fn solve<P: Residuals + ?Sized>(
    problem: &mut P,
    m: usize,
    u0: &[f64],
    settings: &Settings,
) -> Option<Outcome> {
    let n = u0.len();
    if n == 0 || m < n {
        return None;
    }
    // The work arrays of the previous solve on this thread are reused: a batch
    // runs thousands of small solves, and their allocations would cost about as
    // much as the arithmetic.
    let mut solver = SOLVER
        .with(|cell| cell.take())
        .unwrap_or_else(|| Solver::new(0, 0));
    solver.reset(m, n);
    let outcome = solver.run(problem, u0, settings);
    SOLVER.with(|cell| cell.set(Some(solver)));
    outcome
}

thread_local! {
    static SOLVER: std::cell::Cell<Option<Solver>> = const { std::cell::Cell::new(None) };
}

/// Work arrays of one solve.
struct Solver {
    m: usize,
    n: usize,
    x: Vec<f64>,
    fvec: Vec<f64>,
    /// The Jacobian, then its QR factors (column-major, `m x n`).
    fjac: Vec<f64>,
    diag: Vec<f64>,
    qtf: Vec<f64>,
    ipvt: Vec<usize>,
    rdiag: Vec<f64>,
    acnorm: Vec<f64>,
    sdiag: Vec<f64>,
    wa1: Vec<f64>,
    wa2: Vec<f64>,
    wa3: Vec<f64>,
    wa4: Vec<f64>,
    wb1: Vec<f64>,
    wb2: Vec<f64>,
}

impl Solver {
    fn new(m: usize, n: usize) -> Solver {
        let v = |k: usize| vec![0.0; k];
        Solver {
            m,
            n,
            x: v(n),
            fvec: v(m),
            fjac: v(m * n),
            diag: v(n),
            qtf: v(n),
            ipvt: (0..n).collect(),
            rdiag: v(n),
            acnorm: v(n),
            sdiag: v(n),
            wa1: v(n),
            wa2: v(n),
            wa3: v(n),
            wa4: v(m),
            wb1: v(n),
            wb2: v(n),
        }
    }

    /// Resizes the work arrays for an `m x n` problem (no allocation when they
    /// are large enough already).
    fn reset(&mut self, m: usize, n: usize) {
        self.m = m;
        self.n = n;
        for (v, k) in [
            (&mut self.x, n),
            (&mut self.fvec, m),
            (&mut self.fjac, m * n),
            (&mut self.diag, n),
            (&mut self.qtf, n),
            (&mut self.rdiag, n),
            (&mut self.acnorm, n),
            (&mut self.sdiag, n),
            (&mut self.wa1, n),
            (&mut self.wa2, n),
            (&mut self.wa3, n),
            (&mut self.wa4, m),
            (&mut self.wb1, n),
            (&mut self.wb2, n),
        ] {
            v.clear();
            v.resize(k, 0.0);
        }
        self.ipvt.clear();
        self.ipvt.extend(0..n);
    }

    fn run<P: Residuals + ?Sized>(
        &mut self,
        problem: &mut P,
        u0: &[f64],
        s: &Settings,
    ) -> Option<Outcome> {
        const FACTOR: f64 = 100.0;
        let eps = f64::EPSILON;
        let (m, n) = (self.m, self.n);
        self.x.copy_from_slice(u0);
        if !problem.residuals(&self.x, &mut self.fvec) {
            return None;
        }
        let mut fnorm = enorm(&self.fvec);
        if !fnorm.is_finite() {
            return None;
        }
        let mut evaluations = 1;
        let mut best_u = u0.to_vec();
        let mut best_fnorm = fnorm;
        let mut par = 0.0;
        let mut delta = 0.0;
        let mut xnorm = 0.0;
        let mut first = true;
        let termination = 'outer: loop {
            if !problem.jacobian(&self.x, &mut self.fjac)
                || !self.fjac.iter().all(|v| v.is_finite())
            {
                break Termination::JacobianFailed;
            }
            self.qrfac();
            if first {
                for j in 0..n {
                    self.diag[j] = if self.acnorm[j] == 0.0 {
                        1.0
                    } else {
                        self.acnorm[j]
                    };
                }
                xnorm = scaled_norm(&self.diag, &self.x);
                delta = FACTOR * xnorm;
                if delta == 0.0 {
                    delta = FACTOR;
                }
            }
            // Q^T fvec, and R's diagonal back in place.
            self.wa4.copy_from_slice(&self.fvec);
            for j in 0..n {
                let col = j * m;
                let ajj = self.fjac[col + j];
                if ajj != 0.0 {
                    let sum: f64 = (j..m).map(|i| self.fjac[col + i] * self.wa4[i]).sum();
                    let temp = -sum / ajj;
                    for i in j..m {
                        self.wa4[i] += self.fjac[col + i] * temp;
                    }
                }
                self.fjac[col + j] = self.rdiag[j];
                self.qtf[j] = self.wa4[j];
            }
            // The scaled gradient's largest component.
            let mut gnorm: f64 = 0.0;
            if fnorm != 0.0 {
                for j in 0..n {
                    let l = self.ipvt[j];
                    if self.acnorm[l] != 0.0 {
                        let sum: f64 = (0..=j)
                            .map(|i| self.fjac[j * m + i] * (self.qtf[i] / fnorm))
                            .sum();
                        gnorm = gnorm.max((sum / self.acnorm[l]).abs());
                    }
                }
            }
            if gnorm <= s.gtol {
                break Termination::Gtol;
            }
            for j in 0..n {
                self.diag[j] = self.diag[j].max(self.acnorm[j]);
            }
            loop {
                par = self.lmpar(delta, par);
                for j in 0..n {
                    self.wa1[j] = -self.wa1[j];
                    self.wa2[j] = self.x[j] + self.wa1[j];
                    self.wa3[j] = self.diag[j] * self.wa1[j];
                }
                let pnorm = enorm(&self.wa3);
                if first {
                    delta = delta.min(pnorm);
                }
                evaluations += 1;
                let fnorm1 = if problem.residuals(&self.wa2, &mut self.wa4) {
                    let v = enorm(&self.wa4);
                    if v.is_finite() { v } else { f64::INFINITY }
                } else {
                    f64::INFINITY
                };
                if fnorm1 < best_fnorm {
                    best_fnorm = fnorm1;
                    best_u.copy_from_slice(&self.wa2);
                }
                let actred = if 0.1 * fnorm1 < fnorm {
                    1.0 - (fnorm1 / fnorm).powi(2)
                } else {
                    -1.0
                };
                // Predicted reduction and directional derivative.
                for j in 0..n {
                    self.wa3[j] = 0.0;
                    let temp = self.wa1[self.ipvt[j]];
                    for i in 0..=j {
                        self.wa3[i] += self.fjac[j * m + i] * temp;
                    }
                }
                let temp1 = enorm(&self.wa3) / fnorm;
                let temp2 = par.sqrt() * pnorm / fnorm;
                let prered = temp1 * temp1 + temp2 * temp2 / 0.5;
                let dirder = -(temp1 * temp1 + temp2 * temp2);
                let ratio = if prered != 0.0 { actred / prered } else { 0.0 };
                if ratio <= 0.25 {
                    let mut temp = if actred >= 0.0 {
                        0.5
                    } else {
                        0.5 * dirder / (dirder + 0.5 * actred)
                    };
                    if 0.1 * fnorm1 >= fnorm || temp < 0.1 || !temp.is_finite() {
                        temp = 0.1;
                    }
                    delta = temp * delta.min(pnorm / 0.1);
                    par /= temp;
                } else if par == 0.0 || ratio >= 0.75 {
                    delta = pnorm / 0.5;
                    par *= 0.5;
                }
                if ratio >= 1e-4 {
                    self.x.copy_from_slice(&self.wa2);
                    std::mem::swap(&mut self.fvec, &mut self.wa4);
                    xnorm = scaled_norm(&self.diag, &self.x);
                    fnorm = fnorm1;
                    first = false;
                }
                let f_ok = actred.abs() <= s.ftol && prered <= s.ftol && 0.5 * ratio <= 1.0;
                let x_ok = delta <= s.xtol * xnorm;
                match (f_ok, x_ok) {
                    (true, true) => break 'outer Termination::FtolAndXtol,
                    (true, false) => break 'outer Termination::Ftol,
                    (false, true) => break 'outer Termination::Xtol,
                    _ => {}
                }
                if evaluations >= s.max_evaluations {
                    break 'outer Termination::Budget;
                }
                if (actred.abs() <= eps && prered <= eps && 0.5 * ratio <= 1.0)
                    || delta <= eps * xnorm
                    || gnorm <= eps
                    || !delta.is_finite()
                {
                    break 'outer Termination::NoProgress;
                }
                if ratio >= 1e-4 {
                    break;
                }
            }
        };
        Some(Outcome {
            u: best_u,
            sse: best_fnorm * best_fnorm,
            evaluations,
            termination,
        })
    }

    /// QR factorisation with column pivoting of `fjac` (Householder; MINPACK's
    /// `qrfac` with `pivot = true`): R's strict upper triangle and the Householder
    /// vectors in `fjac`, R's diagonal in `rdiag`, the column norms in `acnorm`.
    fn qrfac(&mut self) {
        let (m, n) = (self.m, self.n);
        let eps = f64::EPSILON;
        let a = &mut self.fjac;
        for j in 0..n {
            self.acnorm[j] = enorm(&a[j * m..(j + 1) * m]);
            self.rdiag[j] = self.acnorm[j];
            self.wb1[j] = self.rdiag[j];
            self.ipvt[j] = j;
        }
        for j in 0..m.min(n) {
            let mut kmax = j;
            for k in j..n {
                if self.rdiag[k] > self.rdiag[kmax] {
                    kmax = k;
                }
            }
            if kmax != j {
                let (head, tail) = a.split_at_mut(kmax * m);
                head[j * m..(j + 1) * m].swap_with_slice(&mut tail[..m]);
                self.rdiag[kmax] = self.rdiag[j];
                self.wb1[kmax] = self.wb1[j];
                self.ipvt.swap(j, kmax);
            }
            let (head, tail) = a.split_at_mut((j + 1) * m);
            let col_j = &mut head[j * m + j..];
            let mut ajnorm = enorm(col_j);
            if ajnorm != 0.0 {
                if col_j[0] < 0.0 {
                    ajnorm = -ajnorm;
                }
                for v in col_j.iter_mut() {
                    *v /= ajnorm;
                }
                col_j[0] += 1.0;
                let col_j = &*col_j;
                for (k, col_k) in (j + 1..n).zip(tail.chunks_exact_mut(m)) {
                    let col_k = &mut col_k[j..];
                    let sum: f64 = col_j.iter().zip(col_k.iter()).map(|(p, q)| p * q).sum();
                    let temp = sum / col_j[0];
                    for (q, p) in col_k.iter_mut().zip(col_j) {
                        *q -= temp * p;
                    }
                    if self.rdiag[k] != 0.0 {
                        let t = col_k[0] / self.rdiag[k];
                        self.rdiag[k] *= (1.0 - t * t).max(0.0).sqrt();
                        if 0.05 * (self.rdiag[k] / self.wb1[k]).powi(2) <= eps {
                            self.rdiag[k] = enorm(&col_k[1..]);
                            self.wb1[k] = self.rdiag[k];
                        }
                    }
                }
            }
            self.rdiag[j] = -ajnorm;
        }
    }

    /// The Levenberg-Marquardt parameter for trust region `delta` (MINPACK's
    /// `lmpar`): returns it and leaves the step in `wa1`.
    fn lmpar(&mut self, delta: f64, par_in: f64) -> f64 {
        let (m, n) = (self.m, self.n);
        let dwarf = f64::MIN_POSITIVE;
        let r = |s: &Solver, i: usize, j: usize| s.fjac[j * m + i];
        // Gauss-Newton direction (least squares if R is singular).
        let mut nsing = n;
        for j in 0..n {
            self.wb1[j] = self.qtf[j];
            if r(self, j, j) == 0.0 && nsing == n {
                nsing = j;
            }
            if nsing < n {
                self.wb1[j] = 0.0;
            }
        }
        for j in (0..nsing).rev() {
            self.wb1[j] /= r(self, j, j);
            let temp = self.wb1[j];
            for i in 0..j {
                self.wb1[i] -= r(self, i, j) * temp;
            }
        }
        for j in 0..n {
            self.wa1[self.ipvt[j]] = self.wb1[j];
        }
        for j in 0..n {
            self.wb2[j] = self.diag[j] * self.wa1[j];
        }
        let mut dxnorm = enorm(&self.wb2);
        let mut fp = dxnorm - delta;
        if fp <= 0.1 * delta {
            return 0.0;
        }
        // Lower bound of the parameter (zero when R is singular).
        let mut parl = 0.0;
        if nsing >= n {
            for j in 0..n {
                let l = self.ipvt[j];
                self.wb1[j] = self.diag[l] * (self.wb2[l] / dxnorm);
            }
            for j in 0..n {
                let sum: f64 = (0..j).map(|i| r(self, i, j) * self.wb1[i]).sum();
                self.wb1[j] = (self.wb1[j] - sum) / r(self, j, j);
            }
            let temp = enorm(&self.wb1);
            parl = ((fp / delta) / temp) / temp;
        }
        // Upper bound.
        for j in 0..n {
            let sum: f64 = (0..=j).map(|i| r(self, i, j) * self.qtf[i]).sum();
            self.wb1[j] = sum / self.diag[self.ipvt[j]];
        }
        let gnorm = enorm(&self.wb1);
        let mut paru = gnorm / delta;
        if paru == 0.0 {
            paru = dwarf / delta.min(0.1);
        }
        let mut par = par_in.max(parl).min(paru);
        if par == 0.0 {
            par = gnorm / dxnorm;
        }
        let mut iter = 0;
        loop {
            iter += 1;
            if par == 0.0 {
                par = dwarf.max(0.001 * paru);
            }
            let temp = par.sqrt();
            for j in 0..n {
                self.wb1[j] = temp * self.diag[j];
            }
            self.qrsolv();
            for j in 0..n {
                self.wb2[j] = self.diag[j] * self.wa1[j];
            }
            dxnorm = enorm(&self.wb2);
            let temp = fp;
            fp = dxnorm - delta;
            if fp.abs() <= 0.1 * delta
                || (parl == 0.0 && fp <= temp && temp < 0.0)
                || iter == 10
                || !fp.is_finite()
            {
                break;
            }
            // Newton correction.
            for j in 0..n {
                let l = self.ipvt[j];
                self.wb1[j] = self.diag[l] * (self.wb2[l] / dxnorm);
            }
            for j in 0..n {
                self.wb1[j] /= self.sdiag[j];
                let temp = self.wb1[j];
                for i in j + 1..n {
                    self.wb1[i] -= r(self, i, j) * temp;
                }
            }
            let temp = enorm(&self.wb1);
            let parc = ((fp / delta) / temp) / temp;
            if fp > 0.0 {
                parl = parl.max(par);
            }
            if fp < 0.0 {
                paru = paru.min(par);
            }
            par = parl.max(par + parc);
        }
        par
    }

    /// Solves `R z = Q^T b` augmented by the diagonal `wb1` in the least-squares
    /// sense (MINPACK's `qrsolv`): the solution in `wa1`, the diagonal of the
    /// augmented factor in `sdiag`, its strict lower triangle in `fjac`.
    fn qrsolv(&mut self) {
        let (m, n) = (self.m, self.n);
        let r = &mut self.fjac;
        // Copy R to the lower triangle; save its diagonal in wa3; Q^T b in wb2.
        for j in 0..n {
            for i in j..n {
                r[j * m + i] = r[i * m + j];
            }
            self.wa3[j] = r[j * m + j];
            self.wb2[j] = self.qtf[j];
        }
        for j in 0..n {
            let l = self.ipvt[j];
            if self.wb1[l] != 0.0 {
                for k in j..n {
                    self.sdiag[k] = 0.0;
                }
                self.sdiag[j] = self.wb1[l];
                let mut qtbpj = 0.0;
                for k in j..n {
                    if self.sdiag[k] == 0.0 {
                        continue;
                    }
                    let rkk = r[k * m + k];
                    let (sin, cos) = if rkk.abs() < self.sdiag[k].abs() {
                        let cotan = rkk / self.sdiag[k];
                        let sin = 0.5 / (0.25 + 0.25 * cotan * cotan).sqrt();
                        (sin, sin * cotan)
                    } else {
                        let tan = self.sdiag[k] / rkk;
                        let cos = 0.5 / (0.25 + 0.25 * tan * tan).sqrt();
                        (cos * tan, cos)
                    };
                    r[k * m + k] = cos * rkk + sin * self.sdiag[k];
                    let temp = cos * self.wb2[k] + sin * qtbpj;
                    qtbpj = -sin * self.wb2[k] + cos * qtbpj;
                    self.wb2[k] = temp;
                    for i in k + 1..n {
                        let rik = r[k * m + i];
                        let temp = cos * rik + sin * self.sdiag[i];
                        self.sdiag[i] = -sin * rik + cos * self.sdiag[i];
                        r[k * m + i] = temp;
                    }
                }
            }
            self.sdiag[j] = r[j * m + j];
            r[j * m + j] = self.wa3[j];
        }
        let mut nsing = n;
        for j in 0..n {
            if self.sdiag[j] == 0.0 && nsing == n {
                nsing = j;
            }
            if nsing < n {
                self.wb2[j] = 0.0;
            }
        }
        for j in (0..nsing).rev() {
            let sum: f64 = (j + 1..nsing).map(|i| r[j * m + i] * self.wb2[i]).sum();
            self.wb2[j] = (self.wb2[j] - sum) / self.sdiag[j];
        }
        for j in 0..n {
            self.wa1[self.ipvt[j]] = self.wb2[j];
        }
    }
}

fn scaled_norm(diag: &[f64], x: &[f64]) -> f64 {
    diag.iter()
        .zip(x)
        .map(|(d, v)| (d * v) * (d * v))
        .sum::<f64>()
        .sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// y = a exp(b x) sampled exactly.
    struct ExpFit {
        x: Vec<f64>,
        y: Vec<f64>,
    }

    impl Residuals for ExpFit {
        fn residuals(&mut self, u: &[f64], r: &mut [f64]) -> bool {
            for (i, (x, y)) in self.x.iter().zip(&self.y).enumerate() {
                r[i] = u[0] * (u[1] * x).exp() - y;
            }
            true
        }
        fn jacobian(&mut self, u: &[f64], jac: &mut [f64]) -> bool {
            let m = self.x.len();
            for (i, x) in self.x.iter().enumerate() {
                let e = (u[1] * x).exp();
                jac[i] = e;
                jac[m + i] = u[0] * x * e;
            }
            true
        }
    }

    fn settings() -> Settings {
        Settings {
            ftol: 1e-12,
            xtol: 1e-12,
            gtol: 0.0,
            max_evaluations: 3000,
        }
    }

    #[test]
    fn recovers_exact_parameters() {
        let x: Vec<f64> = (0..10).map(|i| i as f64 * 0.3).collect();
        let y = x.iter().map(|x| 2.5 * (-0.7 * x).exp()).collect();
        let mut p = ExpFit { x, y };
        let out = solve(&mut p, 10, &[1.0, 0.0], &settings()).unwrap();
        assert!(out.termination.converged(), "{out:?}");
        assert!((out.u[0] - 2.5).abs() < 1e-8 && (out.u[1] + 0.7).abs() < 1e-8);
        assert!(out.sse < 1e-20);
    }

    #[test]
    fn budget_stops_the_solver() {
        let x: Vec<f64> = (0..10).map(|i| i as f64).collect();
        let y = x.iter().map(|x| 1.0 + 0.01 * x).collect();
        let mut p = ExpFit { x, y };
        let s = Settings {
            max_evaluations: 9,
            ..settings()
        };
        let out = solve(&mut p, 10, &[100.0, 3.0], &s).unwrap();
        assert_eq!(out.termination, Termination::Budget);
        assert!(out.evaluations >= 9 && out.evaluations <= 12);
    }

    #[test]
    fn non_finite_start_is_refused_and_non_finite_steps_are_survived() {
        struct Wall;
        impl Residuals for Wall {
            fn residuals(&mut self, u: &[f64], r: &mut [f64]) -> bool {
                // Defined only for u < 1; minimum at u = 0.9 (the wall is close).
                if u[0] >= 1.0 {
                    return false;
                }
                r[0] = u[0] - 0.9;
                r[1] = 0.0;
                true
            }
            fn jacobian(&mut self, _u: &[f64], jac: &mut [f64]) -> bool {
                jac[0] = 1.0;
                jac[1] = 0.0;
                true
            }
        }
        assert!(solve(&mut Wall, 2, &[2.0], &settings()).is_none());
        let out = solve(&mut Wall, 2, &[-50.0], &settings()).unwrap();
        assert!(out.termination.converged(), "{out:?}");
        assert!((out.u[0] - 0.9).abs() < 1e-9);
    }
}
