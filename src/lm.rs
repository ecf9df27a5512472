//! The Levenberg-Marquardt solver under [`crate::fit`]: the
//! `levenberg-marquardt` crate (0.15, feature `minpack-compat`: MINPACK's
//! `lmder` as SciPy's `leastsq` / unbounded `curve_fit` runs it) behind an
//! adapter that hands it Penguin's problem.
//!
//! The problem is fit.rs's own and reaches the crate unchanged through
//! [`Residuals`]: the free variables of the change of variables for bounds,
//! residuals padded to `m >= n` rows, the Jacobian with its finite-difference
//! fallback. The settings map one to one: `ftol`, `xtol`, `gtol`, the
//! evaluation budget `patience * (n + 1)` (the crate counts evaluations as
//! MINPACK does: the start plus one per trial step), the initial step bound
//! factor 100 and the scaling from the Jacobian's column norms (MINPACK's
//! `factor` and `mode = 1`, as in SciPy).
//!
//! What the adapter adds to the crate:
//! - a step whose residuals cannot be evaluated or are not finite is a failed
//!   step: the crate is given a residual vector of norm `f64::MAX`, which it
//!   refuses like any step that increases the norm tenfold, so the trust
//!   region shrinks (the crate would stop on `None`, and with `minpack-compat`
//!   it does not check for NaN); at the start point the solve is refused
//!   (`None`);
//! - a Jacobian that cannot be evaluated or is not finite stops the solve
//!   ([`Termination::JacobianFailed`]);
//! - a trial point that is not finite stops the solve
//!   ([`Termination::NoProgress`]): the crate's trust-region subproblem
//!   breaks down on Jacobian columns of norm near the underflow threshold,
//!   and would repeat NaN steps until the budget (and panic on a debug
//!   assertion in a debug build);
//! - the lowest sum of squares evaluated and its point are remembered and
//!   returned (the crate returns its last accepted point).
//!
//! The parameter dimension is static (`nalgebra::Const<N>`) for 1 to 8
//! parameters (the catalogue has 2 to 5) and `Dyn` above; the number of
//! residuals is always `Dyn` (it grows with every observation). The crate's
//! interface returns residuals and Jacobians by value, so every evaluation
//! allocates one.
//!
//! Until December 2026 Penguin ran its own port of MINPACK here (`src/lmder.rs`,
//! no allocation per iteration); docs/design.md has the measured comparison
//! that replaced it, and the commit where it can be rerun.

use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt, TerminationReason};
use nalgebra::allocator::Allocator;
use nalgebra::storage::Owned;
use nalgebra::{Const, DefaultAllocator, Dim, Dyn, OMatrix, OVector};
use std::cell::{Cell, RefCell};

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
    /// Budget of residual evaluations (Jacobians are not counted, as in MINPACK).
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
    match n {
        1 => run::<P, Const<1>>(problem, m, u0, settings),
        2 => run::<P, Const<2>>(problem, m, u0, settings),
        3 => run::<P, Const<3>>(problem, m, u0, settings),
        4 => run::<P, Const<4>>(problem, m, u0, settings),
        5 => run::<P, Const<5>>(problem, m, u0, settings),
        6 => run::<P, Const<6>>(problem, m, u0, settings),
        7 => run::<P, Const<7>>(problem, m, u0, settings),
        8 => run::<P, Const<8>>(problem, m, u0, settings),
        _ => run::<P, Dyn>(problem, m, u0, settings),
    }
}

/// fit.rs's problem as the crate sees it. The crate evaluates through `&self`,
/// hence the cells.
struct Adapter<'a, P: ?Sized, N: Dim>
where
    DefaultAllocator: Allocator<N>,
{
    problem: RefCell<&'a mut P>,
    rows: usize,
    u: OVector<f64, N>,
    evaluations: Cell<usize>,
    best_u: RefCell<OVector<f64, N>>,
    best_norm: Cell<f64>,
    /// A trial point was not finite.
    broke_down: Cell<bool>,
}

impl<P: Residuals + ?Sized, N: Dim> LeastSquaresProblem<f64, Dyn, N> for Adapter<'_, P, N>
where
    DefaultAllocator: Allocator<N> + Allocator<Dyn, N>,
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

    fn residuals(&self) -> Option<OVector<f64, Dyn>> {
        let first = self.evaluations.get() == 0;
        self.evaluations.set(self.evaluations.get() + 1);
        if !first && self.u.iter().any(|v| !v.is_finite()) {
            // The crate's trust-region subproblem broke down (a Jacobian
            // column of subnormal norm makes its step and its damping NaN).
            // Going on would only repeat NaN steps until the budget, and the
            // crate's debug assertions would panic on the NaN damping: stop.
            self.broke_down.set(true);
            return None;
        }
        let mut r = OVector::<f64, Dyn>::zeros_generic(Dyn(self.rows), Const::<1>);
        let ok = self
            .problem
            .borrow_mut()
            .residuals(self.u.as_slice(), r.as_mut_slice());
        // The plain Euclidean norm; the sum of squares reported is its square.
        let norm = if ok {
            r.iter().map(|v| v * v).sum::<f64>().sqrt()
        } else {
            f64::NAN
        };
        if !norm.is_finite() {
            if first {
                return None;
            }
            r.fill(0.0);
            r[0] = f64::MAX;
            return Some(r);
        }
        if norm < self.best_norm.get() {
            self.best_norm.set(norm);
            self.best_u.borrow_mut().copy_from(&self.u);
        }
        Some(r)
    }

    fn jacobian(&self) -> Option<OMatrix<f64, Dyn, N>> {
        let (n, _) = self.u.shape_generic();
        // Column-major, `jac[j * rows + i]`: the layout `Residuals` writes.
        let mut jac = OMatrix::<f64, Dyn, N>::zeros_generic(Dyn(self.rows), n);
        let ok = self
            .problem
            .borrow_mut()
            .jacobian(self.u.as_slice(), jac.as_mut_slice());
        (ok && jac.iter().all(|v| v.is_finite())).then_some(jac)
    }
}

fn run<P: Residuals + ?Sized, N: Dim>(
    problem: &mut P,
    m: usize,
    u0: &[f64],
    s: &Settings,
) -> Option<Outcome>
where
    DefaultAllocator: Allocator<N> + Allocator<Dyn, N>,
{
    let n = u0.len();
    let start = OVector::<f64, N>::from_column_slice_generic(N::from_usize(n), Const::<1>, u0);
    let adapter = Adapter {
        problem: RefCell::new(problem),
        rows: m,
        u: start.clone(),
        evaluations: Cell::new(0),
        best_u: RefCell::new(start),
        best_norm: Cell::new(f64::INFINITY),
        broke_down: Cell::new(false),
    };
    // fit.rs asks for `patience * (n + 1)` evaluations; the crate takes the
    // patience and multiplies by n + 1 itself.
    let patience = s.max_evaluations.div_ceil(n + 1).max(1);
    let solver = LevenbergMarquardt::new()
        .with_ftol(s.ftol)
        .with_xtol(s.xtol)
        .with_gtol(s.gtol)
        .with_stepbound(100.0)
        .with_patience(patience)
        .with_scale_diag(true);
    let (adapter, report) = solver.minimize(adapter);
    let termination = match report.termination {
        TerminationReason::Converged {
            ftol: true,
            xtol: true,
        } => Termination::FtolAndXtol,
        TerminationReason::Converged { ftol: true, .. } => Termination::Ftol,
        TerminationReason::Converged { .. } => Termination::Xtol,
        TerminationReason::Orthogonal => Termination::Gtol,
        // Not reached with `minpack-compat` (its zero-residual test is off).
        TerminationReason::ResidualsZero => Termination::Ftol,
        TerminationReason::LostPatience => Termination::Budget,
        TerminationReason::User("jacobian") => Termination::JacobianFailed,
        // A NaN trial point (see `Adapter::residuals`).
        TerminationReason::User(_) if adapter.broke_down.get() => Termination::NoProgress,
        // The start could not be evaluated.
        TerminationReason::User(_) => return None,
        TerminationReason::NoImprovementPossible(_) | TerminationReason::Numerical(_) => {
            Termination::NoProgress
        }
        TerminationReason::NoParameters
        | TerminationReason::NoResiduals
        | TerminationReason::WrongDimensions(_) => return None,
    };
    let norm = adapter.best_norm.get();
    if !norm.is_finite() {
        return None;
    }
    let u = adapter.best_u.into_inner().as_slice().to_vec();
    Some(Outcome {
        u,
        sse: norm * norm,
        evaluations: report.number_of_evaluations,
        termination,
    })
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
        let y: Vec<f64> = x.iter().map(|x| 2.5 * (-0.7 * x).exp()).collect();
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

    /// exp3 from a far start (as a refit in tests/batch.rs meets it): the
    /// Jacobian's b and c columns fall to norms of 1e-305 and 1e-313, the
    /// crate's subproblem returns a NaN step and NaN damping, and its debug
    /// assertions would panic on the next iteration. The adapter stops there
    /// with the best point.
    #[test]
    fn a_nan_step_stops_the_solve_with_the_best_point() {
        use crate::fit::{Bounds, FitSettings, fit};
        let exp3 = crate::functions::builtin("exp3").unwrap();
        let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0];
        let y = [10.0, 10.42, 9.54, 10.0, 10.42, 10.42, 9.62];
        let start = [3667.2171430087724, 1.0000200002000013, 410224.5667453394];
        let bounds = Bounds {
            lower: vec![f64::NEG_INFINITY, 1.0, f64::NEG_INFINITY],
            upper: vec![f64::INFINITY; 3],
        };
        let settings = FitSettings {
            patience: 8,
            restarts: 0,
            ..FitSettings::default()
        };
        let out = fit(exp3, &x, &y, &start, &bounds, &settings).unwrap();
        assert!(!out.converged, "{out:?}");
        assert!(out.sse.is_finite() && out.sse < 0.87, "{out:?}");
        // Stopped at the NaN step, not at the budget of 32 evaluations.
        assert!(out.evaluations < 32, "{out:?}");
    }

    #[test]
    fn more_than_eight_parameters_use_a_dynamic_dimension() {
        /// r_i = u_i - i, for 10 free variables.
        struct Shift;
        impl Residuals for Shift {
            fn residuals(&mut self, u: &[f64], r: &mut [f64]) -> bool {
                for (i, (ri, ui)) in r.iter_mut().zip(u).enumerate() {
                    *ri = ui - i as f64;
                }
                true
            }
            fn jacobian(&mut self, u: &[f64], jac: &mut [f64]) -> bool {
                let m = u.len();
                jac.fill(0.0);
                for j in 0..m {
                    jac[j * m + j] = 1.0;
                }
                true
            }
        }
        let out = solve(&mut Shift, 10, &[0.5; 10], &settings()).unwrap();
        assert!(out.sse < 1e-20, "{out:?}");
        assert!((out.u[9] - 9.0).abs() < 1e-9);
    }
}
