//! `penguin replay`: recorded learning curves replayed through Penguin as a NAS
//! would feed them, and the paper's case-study report (TPDS 2022, Section 6):
//! ranking quality of the predicted top-x (Tables 8 and 9), stop epochs and
//! epochs saved against three NAS codes' built-in termination (Tables 10 and
//! 11), decision counts and the error of the final predictions.
//!
//! The replay drives [`Engine::observe_batch`], the path the C API's
//! `penguin_observe_batch` takes, so its decisions are the ones a C caller gets:
//! the NAS advances all its networks epoch by epoch, one batch per epoch holding
//! the next observation of every network still training.
//!
//! Definitions (see [`metrics`]):
//! - ground truth: a network's observed fitness at its last observation at or
//!   before `e_pred`;
//! - Penguin's output: the converged prediction, or the observed value when
//!   `e_pred` is reached, or the last observed value when the curve ends before
//!   a decision (its stop epoch is then its last epoch);
//! - a network *learns* when its ground truth is more than `learn_margin` (5)
//!   points above chance.

pub mod data;
pub mod metrics;
pub mod plots;
pub mod report;

pub use data::{Dataset, Network, Point};
pub use metrics::Metrics;
use penguin::config::{Config, Direction};
use penguin::engine::{Engine, Observation, State};
use penguin::error::Result;

/// A NAS code's built-in termination, the paper's points of comparison.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Baseline {
    /// Short key used in JSON (`menndl`, `evocnn`, `nsganet`).
    pub key: &'static str,
    /// The NAS code's name.
    pub name: &'static str,
    /// Its fixed training length in epochs (Penguin's `e_pred` when compared).
    pub epochs: f64,
    /// Early stop when the minimum training loss has not decreased for this
    /// many epochs (MENNDL: 10).
    pub loss_patience: Option<f64>,
}

/// MENNDL: 20 epochs, or earlier when the minimum training loss has not
/// decreased for 10 epochs.
pub const MENNDL: Baseline = Baseline {
    key: "menndl",
    name: "MENNDL",
    epochs: 20.0,
    loss_patience: Some(10.0),
};
/// EvoCNN: 10 epochs.
pub const EVOCNN: Baseline = Baseline {
    key: "evocnn",
    name: "EvoCNN",
    epochs: 10.0,
    loss_patience: None,
};
/// NSGA-Net: 25 epochs.
pub const NSGANET: Baseline = Baseline {
    key: "nsganet",
    name: "NSGA-Net",
    epochs: 25.0,
    loss_patience: None,
};
/// The three baselines of the paper, in its order.
pub const BASELINES: [Baseline; 3] = [MENNDL, EVOCNN, NSGANET];

impl Baseline {
    /// The epoch at which this baseline stops a network: the first observation
    /// at or after its cap, or earlier by the training-loss rule (when
    /// `use_loss`: the first observation at least `loss_patience` epochs after
    /// the last new minimum of the training loss, or after epoch 0 when there is
    /// none yet; a missing or non-finite loss is no new minimum), or the
    /// network's last epoch when its curve ends first.
    pub fn stop_epoch(&self, points: &[Point], use_loss: bool) -> f64 {
        // The patience runs from the start of training (epoch 0): a loss that is
        // never a finite number (a diverged network) never decreases.
        let mut best = f64::INFINITY;
        let mut best_epoch = 0.0;
        for p in points {
            if use_loss && p.train_loss.is_finite() && p.train_loss < best {
                best = p.train_loss;
                best_epoch = p.epoch;
            }
            if p.epoch >= self.epochs {
                return p.epoch;
            }
            if use_loss
                && let Some(patience) = self.loss_patience
                && p.epoch - best_epoch >= patience
            {
                return p.epoch;
            }
        }
        points.last().map_or(f64::NAN, |p| p.epoch)
    }

    /// A one-line description of the rule.
    pub fn rule(&self) -> String {
        match self.loss_patience {
            Some(p) => format!(
                "{} epochs, or earlier when the minimum training loss has not decreased for {} epochs",
                self.epochs, p
            ),
            None => format!("{} epochs", self.epochs),
        }
    }
}

/// Why a network stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// Penguin's predictions converged.
    Converged,
    /// `e_pred` was reached.
    ReachedEPred,
    /// The curve ended before Penguin decided.
    Ended,
}

impl Stop {
    /// The spelling used in reports.
    pub fn as_str(self) -> &'static str {
        match self {
            Stop::Converged => "converged",
            Stop::ReachedEPred => "reached_e_pred",
            Stop::Ended => "ended",
        }
    }
}

/// What Penguin decided for one network in one replay.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// Why it stopped.
    pub stop: Stop,
    /// The epoch of its last observation given to Penguin.
    pub stop_epoch: f64,
    /// Penguin's answer for the fitness at `e_pred` (see the module docs).
    pub output: f64,
    /// The engine's newest `fit_P` at the stop (NaN when none).
    pub fit_prediction: f64,
    /// Parameters of the newest successful fit (empty when none).
    pub params: Vec<f64>,
    /// Observations given to Penguin.
    pub observations: u32,
    /// Least-squares fits performed.
    pub fits: u32,
    /// Prediction interval of `output` (config `interval`): the newest fit's
    /// when converged, the observed value at `e_pred`, NaN otherwise.
    pub interval: [f64; 2],
}

/// Replays one data set with one configuration, in NAS order: for each epoch
/// that occurs in the data, one `observe_batch` call with the observation at
/// that epoch of every network that is still training. `progress` is called with
/// the number of observations accounted for after each batch (a stopped
/// network's remaining observations up to `e_pred` count as done).
pub fn replay_dataset(
    dataset: &Dataset,
    config: &Config,
    progress: &mut dyn FnMut(u64),
) -> Result<Vec<Outcome>> {
    let mut engine = Engine::new(config.clone())?;
    let e_pred = engine.config().e_pred;
    let nets = &dataset.networks;
    let mut epochs: Vec<f64> = nets
        .iter()
        .flat_map(|n| n.points.iter().map(|p| p.epoch))
        .collect();
    epochs.sort_by(f64::total_cmp);
    epochs.dedup();
    let mut cursor = vec![0usize; nets.len()];
    let mut outcomes: Vec<Option<Outcome>> = vec![None; nets.len()];
    let mut members: Vec<usize> = Vec::with_capacity(nets.len());
    let mut batch: Vec<Observation> = Vec::with_capacity(nets.len());
    let mut losses: Vec<f64> = Vec::with_capacity(nets.len());
    for &epoch in &epochs {
        members.clear();
        batch.clear();
        losses.clear();
        for (i, n) in nets.iter().enumerate() {
            if outcomes[i].is_none()
                && let Some(p) = n.points.get(cursor[i])
                && p.epoch == epoch
            {
                members.push(i);
                batch.push(Observation {
                    id: i as u64,
                    epoch,
                    value: p.value,
                });
                losses.push(p.val_loss);
            }
        }
        if batch.is_empty() {
            continue;
        }
        let statuses = engine.observe_batch_with_loss(&batch, Some(&losses))?;
        let mut done = batch.len() as u64;
        for (&i, s) in members.iter().zip(&statuses) {
            cursor[i] += 1;
            let points = &nets[i].points;
            let ended = cursor[i] == points.len();
            let stop = match s.state {
                State::Converged => Stop::Converged,
                State::ReachedEPred => Stop::ReachedEPred,
                State::Continue if ended => Stop::Ended,
                State::Continue => continue,
            };
            done += remaining_budget(&points[cursor[i]..], e_pred);
            outcomes[i] = Some(Outcome {
                stop,
                stop_epoch: s.epoch,
                output: match stop {
                    Stop::Ended => points[cursor[i] - 1].value,
                    _ => s.prediction,
                },
                fit_prediction: s.fit_prediction,
                params: s.params.clone(),
                observations: s.observations,
                fits: s.fits,
                interval: match stop {
                    Stop::Ended => [f64::NAN; 2],
                    _ => [s.prediction_lo, s.prediction_hi],
                },
            });
        }
        progress(done);
    }
    Ok(outcomes
        .into_iter()
        .map(|o| {
            o.unwrap_or(Outcome {
                // A network without a single usable row.
                stop: Stop::Ended,
                stop_epoch: f64::NAN,
                output: f64::NAN,
                fit_prediction: f64::NAN,
                params: Vec::new(),
                observations: 0,
                fits: 0,
                interval: [f64::NAN; 2],
            })
        })
        .collect())
}

/// Observations a replay would give Penguin at most: up to and including the
/// first at or after `e_pred`.
fn remaining_budget(points: &[Point], e_pred: f64) -> u64 {
    match points.iter().position(|p| p.epoch >= e_pred) {
        Some(k) => k as u64 + 1,
        None => points.len() as u64,
    }
}

/// The ground truth of a network: its observed fitness at the last observation
/// at or before `e_pred` (NaN when it has none).
pub fn ground_truth(points: &[Point], e_pred: f64) -> f64 {
    points
        .iter()
        .take_while(|p| p.epoch <= e_pred)
        .last()
        .map_or(f64::NAN, |p| p.value)
}

/// What to replay and how to report it.
#[derive(Clone, Debug)]
pub struct Options {
    /// Penguin's configuration; its `e_pred` is the one of the main replay.
    pub config: Config,
    /// The x of the predicted top-x networks.
    pub top: Vec<usize>,
    /// Chance level in % by data set name; others get `100 / classes`.
    pub chance: Vec<(String, f64)>,
    /// Number of classes for the default chance level.
    pub classes: f64,
    /// A network learns when its ground truth exceeds chance by more than this.
    pub learn_margin: f64,
    /// The NAS codes compared with.
    pub baselines: Vec<Baseline>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            config: Config::default(),
            top: vec![10, 20, 50, 100, 150],
            chance: Vec::new(),
            classes: 10.0,
            learn_margin: 5.0,
            baselines: BASELINES.to_vec(),
        }
    }
}

impl Options {
    /// The chance level of a data set, in %.
    pub fn chance_of(&self, dataset: &str) -> f64 {
        self.chance
            .iter()
            .rev()
            .find(|(d, _)| d == dataset)
            .map_or(100.0 / self.classes, |(_, c)| *c)
    }
}

/// The replay against one baseline.
#[derive(Clone, Debug)]
pub struct BaselineRun {
    /// The baseline.
    pub baseline: Baseline,
    /// Whether the baseline was replayed: the data reach its epoch and the
    /// configuration holds there (otherwise its numbers are absent).
    pub available: bool,
    /// Whether its training-loss rule was applied (MENNDL with a loss column).
    pub loss_rule: bool,
    /// The baseline's stop epoch per network (empty when unavailable).
    pub baseline_epochs: Vec<f64>,
    /// Penguin's outcomes with `e_pred` = the baseline's epochs (empty when
    /// unavailable).
    pub penguin: Vec<Outcome>,
    /// Why the configuration does not hold with `e_pred` = the baseline's
    /// epochs, when that is why it is unavailable.
    pub refused: Option<String>,
}

/// Everything replayed for one data set.
#[derive(Clone, Debug)]
pub struct DatasetReport {
    /// The curves.
    pub dataset: Dataset,
    /// Chance level in %.
    pub chance: f64,
    /// Ground truth per network at the main `e_pred`.
    pub ground_truth: Vec<f64>,
    /// Whether each network learns (None when the direction is `minimize`: chance
    /// is an accuracy notion).
    pub learning: Option<Vec<bool>>,
    /// Penguin's outcomes with the configured `e_pred`.
    pub outcomes: Vec<Outcome>,
    /// One replay per baseline.
    pub baselines: Vec<BaselineRun>,
    /// Metrics over all networks.
    pub full: Metrics,
    /// Metrics over the learning networks only.
    pub learning_metrics: Option<Metrics>,
}

/// The whole report.
#[derive(Clone, Debug)]
pub struct Report {
    /// The options it was made with.
    pub options: Options,
    /// Where the curves came from.
    pub sources: Vec<String>,
    /// Whether they are the bundled curves.
    pub bundled: bool,
    /// The fitness column.
    pub metric: String,
    /// One entry per data set, in order of first appearance.
    pub datasets: Vec<DatasetReport>,
}

/// Why the configuration is not valid with `e_pred` = `epochs` (a
/// baseline's length), or None when it is. It may not be: `select_halving`
/// needs a rung between the warm-up and `e_pred`, which a shorter baseline
/// (EvoCNN's 10 epochs) may not leave.
fn refusal_at(config: &Config, epochs: f64) -> Option<String> {
    let mut c = config.clone();
    c.e_pred = epochs;
    c.validate().err().map(|e| e.message)
}

/// Replays every data set: once with the configured `e_pred`, and once per
/// baseline with `e_pred` = the baseline's epochs (the same replay is not run
/// twice; nor is it run when the data do not reach the baseline's epochs or
/// the configuration does not hold at them: that baseline is then reported
/// as not available). `progress(done, total)` reports observations.
pub fn replay(
    datasets: Vec<Dataset>,
    options: &Options,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<Vec<DatasetReport>> {
    options.config.validate()?;
    let main_e = options.config.e_pred;
    // Whether the configuration holds at each baseline's epochs does not
    // depend on the data: asked once.
    let refusals: Vec<Option<String>> = options
        .baselines
        .iter()
        .map(|b| refusal_at(&options.config, b.epochs))
        .collect();
    let mut plan: Vec<(usize, Vec<f64>)> = Vec::new();
    let mut total = 0u64;
    for (d, ds) in datasets.iter().enumerate() {
        let max = ds.max_epoch();
        let mut runs = vec![main_e];
        for (b, refused) in options.baselines.iter().zip(&refusals) {
            if max >= b.epochs && !runs.contains(&b.epochs) && refused.is_none() {
                runs.push(b.epochs);
            }
        }
        for &e in &runs {
            total += ds
                .networks
                .iter()
                .map(|n| remaining_budget(&n.points, e))
                .sum::<u64>();
        }
        plan.push((d, runs));
    }
    let mut done = 0u64;
    progress(done, total);
    let mut reports = Vec::with_capacity(datasets.len());
    for (ds, (_, runs)) in datasets.into_iter().zip(plan) {
        let mut results: Vec<(f64, Vec<Outcome>)> = Vec::new();
        for e in runs {
            let mut config = options.config.clone();
            config.e_pred = e;
            let outcomes = replay_dataset(&ds, &config, &mut |n| {
                done += n;
                progress(done, total);
            })?;
            results.push((e, outcomes));
        }
        let of = |e: f64| results.iter().find(|(x, _)| *x == e).map(|(_, o)| o);
        let outcomes = of(main_e).cloned().unwrap_or_default();
        let baselines = options
            .baselines
            .iter()
            .zip(&refusals)
            .map(|(b, refused)| {
                let loss_rule = b.loss_patience.is_some() && ds.train_loss;
                let reached = ds.max_epoch() >= b.epochs;
                match of(b.epochs).filter(|_| reached) {
                    Some(o) => BaselineRun {
                        baseline: *b,
                        available: true,
                        loss_rule,
                        baseline_epochs: ds
                            .networks
                            .iter()
                            .map(|n| b.stop_epoch(&n.points, loss_rule))
                            .collect(),
                        penguin: o.clone(),
                        refused: None,
                    },
                    None => BaselineRun {
                        baseline: *b,
                        available: false,
                        loss_rule,
                        baseline_epochs: Vec::new(),
                        penguin: Vec::new(),
                        refused: refused.clone().filter(|_| reached),
                    },
                }
            })
            .collect();
        let chance = options.chance_of(&ds.name);
        let ground_truth: Vec<f64> = ds
            .networks
            .iter()
            .map(|n| ground_truth(&n.points, main_e))
            .collect();
        let learning = match options.config.direction {
            Direction::Maximize => Some(
                ground_truth
                    .iter()
                    .map(|g| *g > chance + options.learn_margin)
                    .collect::<Vec<bool>>(),
            ),
            Direction::Minimize => None,
        };
        let mut report = DatasetReport {
            dataset: ds,
            chance,
            ground_truth,
            learning,
            outcomes,
            baselines,
            full: Metrics::default(),
            learning_metrics: None,
        };
        let all: Vec<usize> = (0..report.dataset.networks.len()).collect();
        report.full = metrics::compute(&report, &all, options);
        report.learning_metrics = report.learning.as_ref().map(|l| {
            let subset: Vec<usize> = all.iter().copied().filter(|&i| l[i]).collect();
            metrics::compute(&report, &subset, options)
        });
        reports.push(report);
    }
    Ok(reports)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn points(losses: &[f64]) -> Vec<Point> {
        losses
            .iter()
            .enumerate()
            .map(|(k, l)| Point {
                epoch: 0.5 * (k + 1) as f64,
                value: 50.0,
                train_loss: *l,
                val_loss: f64::NAN,
            })
            .collect()
    }

    #[test]
    fn menndl_stops_when_the_loss_stalls_for_ten_epochs() {
        // Falls until epoch 3, then flat: stop at 13.
        let mut l: Vec<f64> = (0..6).map(|k| 2.0 - 0.1 * k as f64).collect();
        l.extend(std::iter::repeat_n(1.5, 40));
        assert_eq!(MENNDL.stop_epoch(&points(&l), true), 13.0);
        // Without the loss rule: the 20-epoch cap.
        assert_eq!(MENNDL.stop_epoch(&points(&l), false), 20.0);
        // A loss that never is a number never decreases: stop at 10.
        assert_eq!(MENNDL.stop_epoch(&points(&[f64::NAN; 40]), true), 10.0);
        // Always falling: the cap.
        let falling: Vec<f64> = (0..40).map(|k| 3.0 - 0.01 * k as f64).collect();
        assert_eq!(MENNDL.stop_epoch(&points(&falling), true), 20.0);
        // A curve ending first stops at its end.
        assert_eq!(EVOCNN.stop_epoch(&points(&[1.0; 8]), false), 4.0);
        assert_eq!(NSGANET.stop_epoch(&points(&[1.0; 60]), false), 25.0);
    }

    #[test]
    fn ground_truth_is_the_last_observation_at_or_before_e_pred() {
        let p = points(&[1.0; 6]);
        assert_eq!(ground_truth(&p, 2.0), 50.0);
        assert!(ground_truth(&p, 0.25).is_nan());
    }

    #[test]
    fn top_x_counts_hits_and_true_negatives() {
        let idx: Vec<usize> = (0..5).collect();
        let output = [5.0, 4.0, 3.0, 2.0, 1.0];
        let truth = [5.0, 1.0, 4.0, 2.0, 3.0];
        // Predicted top 2 {0, 1}, true top 2 {0, 2}: 1 hit; outside both: {3, 4}.
        let (sens, spec) =
            metrics::top_x(&idx, |i| output[i], |i| truth[i], Direction::Maximize, 2).unwrap();
        assert_eq!((sens, spec), (0.5, 2.0 / 3.0));
        assert!(
            metrics::top_x(&idx, |i| output[i], |i| truth[i], Direction::Maximize, 5).is_none()
        );
    }
}
