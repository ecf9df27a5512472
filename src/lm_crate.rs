//! The `levenberg-marquardt` crate (0.15, `minpack-compat`) behind the same
//! interface as [`crate::lmder::solve`], so that [`crate::fit`] can run either
//! solver on the same problem (feature `lm-crate`, off by default;
//! `benches/lm_crate.rs` compares the two).
//!
//! Only the solver differs: the problem (free variables of the change of
//! variables, residuals padded to `m >= n` rows, the Jacobian with its
//! finite-difference fallback) is fit.rs's own, handed over unchanged. The
//! settings map one to one: `ftol`, `xtol`, `gtol`, the evaluation budget
//! `patience * (n + 1)` (the crate counts evaluations as `lmder` does: the
//! start plus one per trial step), the initial step bound factor 100 and the
//! scaling from the Jacobian's column norms (MINPACK's `factor` and `mode = 1`,
//! which `lmder.rs` fixes).
//!
//! What `lmder.rs` does beyond MINPACK is done here around the crate:
//! - a step whose residuals cannot be evaluated or are not finite is a failed
//!   step: the crate is given a residual vector of norm `f64::MAX`, which it
//!   refuses like any step that increases the norm tenfold (the crate would
//!   stop on `None`, and with `minpack-compat` it does not check for NaN);
//!   at the start point the solve is refused (`None`), as `lmder::solve` does;
//! - a Jacobian that cannot be evaluated or is not finite stops the solve
//!   ([`Termination::JacobianFailed`]);
//! - the lowest sum of squares evaluated and its point are remembered (the
//!   crate returns its last accepted point).
//!
//! The parameter dimension is static (`nalgebra::Const<N>`) for 1 to 8
//! parameters (the catalogue has 2 to 5) and `Dyn` above; the number of
//! residuals is always `Dyn` (it grows with every observation).

use crate::lmder::{Outcome, Residuals, Settings, Termination};
use levenberg_marquardt::{LeastSquaresProblem, LevenbergMarquardt, TerminationReason};
use nalgebra::allocator::Allocator;
use nalgebra::storage::Owned;
use nalgebra::{Const, DefaultAllocator, Dim, Dyn, OMatrix, OVector};
use std::cell::{Cell, RefCell};

/// Minimises the sum of squared residuals from `u0` with the crate; the same
/// contract as [`crate::lmder::solve`].
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
        let mut r = OVector::<f64, Dyn>::zeros_generic(Dyn(self.rows), Const::<1>);
        let ok = self
            .problem
            .borrow_mut()
            .residuals(self.u.as_slice(), r.as_mut_slice());
        // The norm as lmder.rs computes it, so that both report the same sum
        // of squares for the same point.
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

    /// y = a exp(b x) sampled exactly (as lmder.rs's tests).
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
    fn agrees_with_lmder_on_an_exact_curve() {
        let x: Vec<f64> = (0..10).map(|i| i as f64 * 0.3).collect();
        let y: Vec<f64> = x.iter().map(|x| 2.5 * (-0.7 * x).exp()).collect();
        let mut p = ExpFit { x, y };
        let ours = crate::lmder::solve(&mut p, 10, &[1.0, 0.0], &settings()).unwrap();
        let out = solve(&mut p, 10, &[1.0, 0.0], &settings()).unwrap();
        assert!(out.termination.converged(), "{out:?}");
        assert!((out.u[0] - 2.5).abs() < 1e-8 && (out.u[1] + 0.7).abs() < 1e-8);
        assert!(out.sse < 1e-20);
        assert!(
            out.evaluations.abs_diff(ours.evaluations) <= 2,
            "{out:?} {ours:?}"
        );
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
