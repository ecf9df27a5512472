//! One network: its history, its recent predictions and its decision, and how
//! one observation updates them (Algorithm 1, then the stopping rules of
//! [`crate::rules`]). The engine's table ([`crate::networks`]) stores
//! networks and the engine ([`crate::engine`]) hands them observations, one
//! at a time or in batches on its thread pool.

use crate::analyzer::{Decision, push_prediction};
use crate::config::{Config, Direction};
use crate::error::{Error, ErrorCode, Result};
use crate::predict::{Prediction, WarmStart, predict};
use crate::rules::{self, Facts};

/// What the rest of the cohort says for one call: the top-X cutoff of
/// `select_top` (NaN: none), the shown cutoff of `select_hold_observed` (NaN:
/// none) and each `select_halving` rung's epoch and threshold (empty when
/// off; see `Engine::rungs`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Cohort<'a> {
    /// The cohort's top-X cutoff.
    pub cutoff: f64,
    /// The K-th best of what the cohort's networks show.
    pub shown_cutoff: f64,
    /// The rungs, as (epoch, threshold), ascending.
    pub rungs: &'a [(f64, f64)],
}

/// The threshold an observation at `epoch` (the network's previous one at
/// `previous`) must meet for `select_halving`: None when it reaches no rung;
/// when it reaches several at once, the strictest of their thresholds (NaN
/// when every one of them lets every network go on).
fn rungs_threshold(
    config: &Config,
    rungs: &[(f64, f64)],
    previous: Option<f64>,
    epoch: f64,
) -> Option<f64> {
    let reached = Config::rungs_reached(rungs, |r| r.0, previous, epoch);
    if reached.is_empty() {
        return None;
    }
    let stricter = |a: f64, b: f64| match config.direction {
        Direction::Maximize => a.max(b),
        Direction::Minimize => a.min(b),
    };
    // f64::max and min ignore a NaN beside a number.
    Some(rungs[reached].iter().map(|r| r.1).fold(f64::NAN, stricter))
}

/// A network's state as the NAS sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[repr(i32)]
pub enum State {
    /// Keep training.
    Continue = 0,
    /// Stop before `e_pred`: the predictions converged, or an opt-in rule
    /// (`select_top`, `select_halving`, `chance_patience`, `max_epoch`)
    /// stopped the network;
    /// the prediction is final.
    Converged = 1,
    /// Stop: `e_pred` was reached; the observed value is final.
    ReachedEPred = 2,
}

/// What the engine says about one network.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// Continue, converged or reached `e_pred`.
    pub state: State,
    /// Penguin's answer for the fitness at `e_pred`: the newest prediction while
    /// training continues (NaN while none), FIT_P once converged (or what an
    /// opt-in rule answers: the never-learner stop, the training budget, the
    /// answer floor), the observed value once `e_pred` is reached.
    pub prediction: f64,
    /// The newest Algorithm 1 prediction `fit_P` (NaN when the last fit failed or
    /// there were too few points).
    pub fit_prediction: f64,
    /// Epoch of the newest observation (NaN before the first).
    pub epoch: f64,
    /// Number of observations.
    pub observations: u32,
    /// Number of least-squares fits performed for this network.
    pub fits: u32,
    /// Parameters of the newest successful fit (empty before the first).
    pub params: Vec<f64>,
    /// Lower end of the prediction interval (config `interval`) of the newest
    /// fit while training continues or once converged; the observed value once
    /// `e_pred` is reached; NaN when there is none.
    pub prediction_lo: f64,
    /// Upper end of that interval.
    pub prediction_hi: f64,
}

impl Status {
    /// A status with nothing in it: Continue, NaN values, no observations
    /// (a placeholder, e.g. for a batch entry not yet worked on).
    pub const EMPTY: Status = Status {
        state: State::Continue,
        prediction: f64::NAN,
        fit_prediction: f64::NAN,
        epoch: f64::NAN,
        observations: 0,
        fits: 0,
        params: Vec::new(),
        prediction_lo: f64::NAN,
        prediction_hi: f64::NAN,
    };
}

/// Everything the engine keeps about one network: only what decisions need.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Network {
    /// Observed epochs, in order.
    pub epochs: Vec<f64>,
    /// Observed fitness values.
    pub values: Vec<f64>,
    /// The window of recent predictions (at most N, newest last; emptied by a
    /// missing prediction).
    pub window: Vec<f64>,
    /// Parameters of the newest fit (the next warm start).
    pub params: Vec<f64>,
    /// Whether the newest fit converged.
    pub params_converged: bool,
    /// The newest `fit_P` (NaN when none).
    pub last_prediction: f64,
    /// The prediction interval of the newest `fit_P` (NaN when none; after a
    /// never-learner stop, NaN: its answer is no extrapolation).
    pub last_interval: [f64; 2],
    /// The decision after the newest observation (None before the first).
    pub decision: Option<Decision>,
    /// Fits performed.
    pub fits: u32,
    /// Lowest validation loss reported (NaN while none).
    pub best_loss: f64,
    /// Observations with a loss since `best_loss` last improved.
    pub since_best_loss: u32,
}

impl Network {
    /// A network before its first observation.
    pub(crate) fn new() -> Network {
        Network {
            last_prediction: f64::NAN,
            last_interval: [f64::NAN; 2],
            best_loss: f64::NAN,
            ..Network::default()
        }
    }

    pub(crate) fn status(&self) -> Status {
        let decision = self.decision.unwrap_or(Decision::Continue);
        let (state, prediction, [lo, hi]) = match decision {
            Decision::Continue => (State::Continue, self.last_prediction, self.last_interval),
            Decision::Converged { prediction } => {
                (State::Converged, prediction, self.last_interval)
            }
            Decision::ReachedEPred { value } => (State::ReachedEPred, value, [value; 2]),
        };
        Status {
            state,
            prediction,
            fit_prediction: self.last_prediction,
            epoch: self.epochs.last().copied().unwrap_or(f64::NAN),
            observations: self.epochs.len() as u32,
            fits: self.fits,
            params: self.params.clone(),
            prediction_lo: lo,
            prediction_hi: hi,
        }
    }

    /// Checks an observation against the network without changing it.
    pub(crate) fn check(&self, id: u64, epoch: f64, value: f64) -> Result<()> {
        self.check_with(id, epoch, value, self.epochs.last().copied())
    }

    pub(crate) fn snapshot(&self) -> Snapshot {
        Snapshot {
            len: self.epochs.len(),
            window: self.window.clone(),
            params: self.params.clone(),
            params_converged: self.params_converged,
            last_prediction: self.last_prediction,
            last_interval: self.last_interval,
            best_loss: self.best_loss,
            since_best_loss: self.since_best_loss,
            decision: self.decision,
            fits: self.fits,
        }
    }

    pub(crate) fn restore(&mut self, s: Snapshot) {
        self.epochs.truncate(s.len);
        self.values.truncate(s.len);
        self.window = s.window;
        self.params = s.params;
        self.params_converged = s.params_converged;
        self.last_prediction = s.last_prediction;
        self.last_interval = s.last_interval;
        self.best_loss = s.best_loss;
        self.since_best_loss = s.since_best_loss;
        self.decision = s.decision;
        self.fits = s.fits;
    }

    /// Checks an observation given the epoch before it (`previous`).
    pub(crate) fn check_with(
        &self,
        id: u64,
        epoch: f64,
        value: f64,
        previous: Option<f64>,
    ) -> Result<()> {
        if !epoch.is_finite() || epoch <= 0.0 {
            return Err(Error::new(
                ErrorCode::InvalidEpoch,
                format!("network {id}: epoch {epoch} is not a finite number > 0"),
            ));
        }
        if !value.is_finite() {
            return Err(Error::new(
                ErrorCode::InvalidFitness,
                format!("network {id}: fitness {value} at epoch {epoch} is not finite"),
            ));
        }
        if self.decision.is_some_and(|d| d.is_final()) {
            return Err(Error::new(
                ErrorCode::AlreadyDecided,
                format!(
                    "network {id}: already stopped at epoch {}; no more observations",
                    self.epochs.last().copied().unwrap_or(f64::NAN)
                ),
            ));
        }
        if let Some(last) = previous
            && epoch <= last
        {
            return Err(Error::new(
                ErrorCode::EpochNotIncreasing,
                format!("network {id}: epoch {epoch} is not after the previous epoch {last}"),
            ));
        }
        Ok(())
    }

    /// Algorithms 1 and 2 for one new observation (already checked).
    fn apply(&mut self, config: &Config, epoch: f64, value: f64, cohort: Cohort, loss: f64) {
        let previous = self.epochs.last().copied();
        if loss.is_finite() {
            let needed = config.loss_min_delta * self.best_loss.abs();
            if self.best_loss.is_nan() || loss < self.best_loss - needed {
                self.best_loss = loss;
                self.since_best_loss = 0;
            } else {
                self.since_best_loss = self.since_best_loss.saturating_add(1);
            }
        }
        if self.epochs.capacity() == 0 {
            // Room for the points up to e_pred (or the budget) at once (at
            // most 64): growing the history by doubling would copy it four
            // or five times.
            let last = config.e_pred.min(config.max_epoch);
            let expected = ((last - epoch) / config.e).ceil() + 1.0;
            let k = if expected.is_finite() {
                expected.clamp(4.0, 64.0) as usize
            } else {
                4
            };
            self.epochs.reserve_exact(k);
            self.values.reserve_exact(k);
        }
        self.epochs.push(epoch);
        self.values.push(value);
        let prediction = if self.epochs.len() >= config.min_points() {
            self.fits = self.fits.saturating_add(1);
            let warm = (!self.params.is_empty()).then_some(WarmStart {
                params: &self.params,
                converged: self.params_converged,
            });
            predict(config, &self.epochs, &self.values, warm)
        } else {
            Prediction::none()
        };
        if !prediction.params.is_empty() {
            self.params = prediction.params;
            self.params_converged = prediction.converged;
        }
        let fit_p = if prediction.at_upper_bound {
            f64::NAN
        } else {
            prediction.value
        };
        self.last_prediction = fit_p;
        self.last_interval = if fit_p.is_nan() {
            [f64::NAN; 2]
        } else {
            [prediction.lo, prediction.hi]
        };
        push_prediction(config, &mut self.window, fit_p, prediction.at_upper_bound);
        let rung_threshold = rungs_threshold(config, cohort.rungs, previous, epoch);
        let verdict = rules::decide(&Facts {
            config,
            epoch,
            value,
            cutoff: cohort.cutoff,
            shown_cutoff: cohort.shown_cutoff,
            rung_threshold,
            window: &self.window,
            fit_p,
            interval: self.last_interval,
            values: &self.values,
            best_loss: self.best_loss,
            since_best_loss: self.since_best_loss,
        });
        self.last_interval = verdict.interval;
        self.decision = Some(verdict.decision);
    }

    /// Checks and applies one observation; unchanged on error.
    pub(crate) fn observe(
        &mut self,
        config: &Config,
        id: u64,
        epoch: f64,
        value: f64,
        cohort: Cohort,
        loss: f64,
    ) -> Result<()> {
        self.check(id, epoch, value)?;
        // Should the fit panic (a user-defined function's callback), the
        // network goes back to how it was before this observation: apply
        // changes only these before it fits, and nothing after.
        let before = (
            self.epochs.len(),
            self.fits,
            self.best_loss,
            self.since_best_loss,
        );
        let applied = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            self.apply(config, epoch, value, cohort, loss)
        }));
        if let Err(panic) = applied {
            let (len, fits, best_loss, since_best_loss) = before;
            self.epochs.truncate(len);
            self.values.truncate(len);
            self.fits = fits;
            self.best_loss = best_loss;
            self.since_best_loss = since_best_loss;
            std::panic::resume_unwind(panic);
        }
        Ok(())
    }

    /// What the network shows, for `select_hold_observed`: the mean of its
    /// last N observed values (None before the first).
    pub(crate) fn shown(&self, config: &Config) -> Option<f64> {
        rules::recent_mean(&self.values, config.n)
    }

    /// The network's standing for `select_top`: its final answer once stopped,
    /// its newest valid prediction while training (None without one).
    pub(crate) fn score(&self, config: &Config) -> Option<f64> {
        let v = match self.decision? {
            Decision::ReachedEPred { value } => value,
            Decision::Converged { prediction } => prediction,
            Decision::Continue => self.last_prediction,
        };
        config.is_valid_fitness(v).then_some(v)
    }
}

/// What undoes a batch's changes to a network: its history length and the
/// small fields (the history itself is only appended to).
#[derive(Debug)]
pub(crate) struct Snapshot {
    len: usize,
    window: Vec<f64>,
    params: Vec<f64>,
    params_converged: bool,
    last_prediction: f64,
    last_interval: [f64; 2],
    best_loss: f64,
    since_best_loss: u32,
    decision: Option<Decision>,
    fits: u32,
}
