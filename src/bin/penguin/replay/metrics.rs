//! The report's numbers, over a subset of a data set's networks (all of them, or
//! the learning ones).
//!
//! - sensitivity of the predicted top-x = |predicted top-x ∩ true top-x| / x, and
//!   specificity = true negatives / all true negatives = |outside both| / (n - x)
//!   (the paper's Tables 8 and 9), where the predicted top-x are the x networks
//!   with the best Penguin output (with `select_halving`, the networks halving
//!   trained furthest first: [`pick_key`]) and the true top-x the x with the best ground
//!   truth; ties are broken by order in the file. Both are absent when x >= n
//!   (every network would be in the top x);
//! - epochs saved against a baseline = 1 - (Penguin's epochs / the baseline's
//!   epochs), summed over the networks, Penguin replayed with `e_pred` = the
//!   baseline's epochs; throughput gain = 1 / (1 - saved) = how many more
//!   networks the same machine time trains;
//! - never-learners: networks whose ground truth is not above chance + margin;
//!   predicted never-learners: whose Penguin output is not; anomalies: predicted
//!   never-learners that do learn;
//! - MAE: mean |Penguin output - ground truth|;
//! - equal-budget truncation: every network trained to the observation epoch
//!   nearest Penguin's mean stop epoch and ranked by its observed fitness there
//!   (the last value, or the best so far); Penguin's skill = its sensitivity
//!   minus the better of the two, per x;
//! - one observation short: the same two rankings by each network's observation
//!   just before its ground truth (epoch 19.5 of 20 on the bundled curves);
//! - regret of a chosen top x, in fitness points: the mean ground truth of the
//!   true top x minus that of the chosen top x (for `minimize`, the chosen
//!   minus the true), so 0 is perfect and more is worse. Penguin chooses by its
//!   output; truncation by the last value seen at each observation epoch within
//!   half an epoch of Penguin's mean stop epoch (averaged over those epochs, since
//!   it jumps from one half epoch to the next); successive halving (the core of
//!   Hyperband and ASHA: every network trains to rung r0, the best max(x, m/eta)
//!   of the m at a rung by their value there go on to the next rung r0 eta, and
//!   so on; the last rung's survivors train to e_pred; each network is ranked by
//!   the last value seen) at the (r0, eta) whose mean epochs are closest to
//!   Penguin's; the noise floor by each network's observation one short of the
//!   ground truth;
//! - median absolute error and the share of networks within 2 points;
//! - late bloomers lost: networks stopped before e_pred with an answer at chance
//!   (at most chance + the learning margin) whose ground truth is more than 20
//!   points above chance; never-learners' mean stop epoch.

use super::{DatasetReport, Options, Outcome, Stop};
use penguin::config::{Config, Direction};

/// A number per x of the top x (None where not defined).
pub type PerX = Vec<(usize, Option<f64>)>;

/// Epochs saved against one baseline.
#[derive(Clone, Debug, PartialEq)]
pub struct Savings {
    /// The baseline's key (`menndl`, `evocnn`, `nsganet`).
    pub key: &'static str,
    /// Penguin's mean stop epoch with `e_pred` = the baseline's epochs.
    pub penguin_mean_epochs: Option<f64>,
    /// The baseline's mean stop epoch.
    pub baseline_mean_epochs: Option<f64>,
    /// Fraction of the baseline's training epochs saved, 0..1 (negative if
    /// Penguin trained longer).
    pub epochs_saved: Option<f64>,
    /// `1 / (1 - epochs_saved)`.
    pub throughput_gain: Option<f64>,
}

/// Equal-budget truncation: the honest baseline at Penguin's mean training cost.
#[derive(Clone, Debug, PartialEq)]
pub struct Truncation {
    /// The observation epoch nearest Penguin's mean stop epoch.
    pub epoch: f64,
    /// Sensitivity per x, ranking by the last observed value at `epoch`.
    pub sensitivity_last: PerX,
    /// Sensitivity per x, ranking by the best value observed up to `epoch`.
    pub sensitivity_best: PerX,
    /// The observation epochs within half an epoch of Penguin's mean stop
    /// epoch (at least the nearest one).
    pub regret_epochs: Vec<f64>,
    /// Regret per x ranking by the last value seen, the mean over
    /// `regret_epochs`.
    pub regret: PerX,
}

/// Successive halving at the schedule whose mean epochs are closest to
/// Penguin's, for one x.
#[derive(Clone, Debug, PartialEq)]
pub struct Halving {
    /// The x of the top x (the fewest networks promoted at each rung).
    pub x: usize,
    /// The first rung, an observation epoch.
    pub r0: f64,
    /// The reduction factor.
    pub eta: f64,
    /// Mean epochs trained per network.
    pub mean_epochs: f64,
    /// Regret of the top x by the last value seen.
    pub regret: f64,
}

/// The same ranking one observation short of the ground truth: every network
/// ranked by what it showed at its observation just before the one at `e_pred`
/// (its ground truth). How often that misses the true top x is a rough measure
/// of how noisy the final ranking is: a single observation half an epoch
/// earlier does not settle it.
#[derive(Clone, Debug, PartialEq)]
pub struct OneShort {
    /// Mean epoch of those observations (None when no network has two).
    pub mean_epoch: Option<f64>,
    /// Sensitivity per x, ranking by that observation.
    pub sensitivity_last: PerX,
    /// Sensitivity per x, ranking by the best value observed up to it.
    pub sensitivity_best: PerX,
    /// Regret per x ranking by that observation: the noise floor of a ranking.
    pub regret: PerX,
}

/// The numbers of one report column.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Metrics {
    /// Networks in the subset.
    pub networks: usize,
    /// Networks with a ground truth (an observation at or before `e_pred`): the
    /// ones ranked and in the MAE.
    pub ranked: usize,
    /// Mean stop epoch with the configured `e_pred`.
    pub mean_stop_epoch: Option<f64>,
    /// Sensitivity per x.
    pub sensitivity: PerX,
    /// Specificity per x.
    pub specificity: PerX,
    /// Epochs saved per baseline, in the options' order.
    pub savings: Vec<Savings>,
    /// Observed never-learners (None for `direction = minimize`).
    pub never_learn: Option<usize>,
    /// Networks whose Penguin output is at chance level.
    pub predicted_never_learn: Option<usize>,
    /// Predicted at chance level but learning by `e_pred`.
    pub anomalies: Option<usize>,
    /// Stopped because the predictions converged.
    pub converged: usize,
    /// Stopped at `e_pred`.
    pub reached_e_pred: usize,
    /// Curve ended before a decision.
    pub ended: usize,
    /// Mean absolute error of Penguin's output against the ground truth.
    pub mae: Option<f64>,
    /// Median absolute error.
    pub median_abs_error: Option<f64>,
    /// Share of the ranked networks whose absolute error is at most 2 points.
    pub within_2: Option<f64>,
    /// Regret of Penguin's chosen top x, per x.
    pub regret: PerX,
    /// Successive halving per x (None where x is not below the networks).
    pub halving: Vec<Option<Halving>>,
    /// Networks stopped before e_pred with an answer at chance whose ground
    /// truth is more than 20 points above chance (None for `minimize`).
    pub late_bloomers_lost: Option<usize>,
    /// Mean stop epoch of the observed never-learners (None without any).
    pub never_learners_mean_stop: Option<f64>,
    /// Equal-budget truncation (None without a mean stop epoch).
    pub truncation: Option<Truncation>,
    /// Penguin's sensitivity minus the better truncation sensitivity, per x.
    pub skill: PerX,
    /// Truncation one observation short of the ground truth.
    pub one_short: Option<OneShort>,
    /// Of the converged networks with a ground truth and an interval: how many,
    /// and the share whose interval holds the observed value at `e_pred`.
    pub interval_coverage: Option<(usize, f64)>,
}

fn mean(values: impl Iterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// The indices sorted best first by `key` (descending when maximizing), ties in
/// index order.
pub fn rank(indices: &[usize], key: impl Fn(usize) -> f64, direction: Direction) -> Vec<usize> {
    let mut v = indices.to_vec();
    v.sort_by(|&a, &b| {
        let o = key(a).total_cmp(&key(b));
        let o = match direction {
            Direction::Maximize => o.reverse(),
            Direction::Minimize => o,
        };
        o.then(a.cmp(&b))
    });
    v
}

/// Sensitivity and specificity of the predicted top-x among `indices` (all with
/// a ground truth), or None when x is 0 or not smaller than their number.
pub fn top_x(
    indices: &[usize],
    output: impl Fn(usize) -> f64,
    truth: impl Fn(usize) -> f64,
    direction: Direction,
    x: usize,
) -> Option<(f64, f64)> {
    let n = indices.len();
    if x == 0 || x >= n {
        return None;
    }
    let predicted = &rank(indices, output, direction)[..x];
    let actual = &rank(indices, truth, direction)[..x];
    let tp = predicted.iter().filter(|i| actual.contains(i)).count();
    let tn = n - (2 * x - tp);
    Some((tp as f64 / x as f64, tn as f64 / (n - x) as f64))
}

/// Regret of the top x chosen by `chosen` among `indices` (all with a ground
/// truth), in fitness points (see the module docs), or None when x is 0 or not
/// smaller than their number.
pub fn regret(
    indices: &[usize],
    chosen: impl Fn(usize) -> f64,
    truth: impl Fn(usize) -> f64,
    direction: Direction,
    x: usize,
) -> Option<f64> {
    if x == 0 || x >= indices.len() {
        return None;
    }
    let mean_truth = |v: &[usize]| v.iter().map(|&i| truth(i)).sum::<f64>() / x as f64;
    let picked = mean_truth(&rank(indices, chosen, direction)[..x]);
    let best = mean_truth(&rank(indices, &truth, direction)[..x]);
    Some(match direction {
        Direction::Maximize => best - picked,
        Direction::Minimize => picked - best,
    })
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    v.sort_by(f64::total_cmp);
    let k = v.len();
    match k {
        0 => None,
        _ if k % 2 == 1 => Some(v[k / 2]),
        _ => Some(0.5 * (v[k / 2 - 1] + v[k / 2])),
    }
}

/// The key Penguin's pick of a top x ranks networks by: their answers; with
/// `select_halving`, first how far halving trained them (the networks trained
/// to `e_pred`, its finalists, before all others; then those stopped at a
/// later rung before those stopped at an earlier one, counted as the rungs at
/// or before the stop epoch), each group by its answers, as successive halving
/// ranks. Each group lower down is moved past the one above by the span of all
/// answers, which keeps the order within it.
pub fn pick_key<'a>(out: &'a [Outcome], config: &Config) -> impl Fn(usize) -> f64 + 'a {
    let rungs = if config.select_halving > 0.0 {
        config.halving_rungs()
    } else {
        Vec::new()
    };
    let (lo, hi) = out
        .iter()
        .map(|o| o.output)
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
            (lo.min(v), hi.max(v))
        });
    let span = if !rungs.is_empty() && lo <= hi {
        hi - lo + 1.0
    } else {
        0.0
    };
    let behind = match config.direction {
        Direction::Maximize => -span,
        Direction::Minimize => span,
    };
    // A network's depth: the rungs at or before its stop epoch; the
    // finalists' is one more than any stopped network's.
    let top = rungs.len() + 1;
    move |i| {
        let o = &out[i];
        let depth = if o.stop == Stop::ReachedEPred {
            top
        } else {
            rungs.partition_point(|&r| r <= o.stop_epoch)
        };
        o.output + behind * (top - depth) as f64
    }
}

/// The metrics of `subset` (indices into the data set's networks).
pub fn compute(report: &DatasetReport, subset: &[usize], options: &Options) -> Metrics {
    let out: &[Outcome] = &report.outcomes;
    let truth = &report.ground_truth;
    let direction = options.config.direction;
    let ranked: Vec<usize> = subset
        .iter()
        .copied()
        .filter(|&i| truth[i].is_finite())
        .collect();
    let pick = pick_key(out, &options.config);
    let mut sensitivity = Vec::new();
    let mut specificity = Vec::new();
    for &x in &options.top {
        let r = top_x(&ranked, &pick, |i| truth[i], direction, x);
        sensitivity.push((x, r.map(|r| r.0)));
        specificity.push((x, r.map(|r| r.1)));
    }
    let savings = report
        .baselines
        .iter()
        .map(|run| {
            if !run.available || subset.is_empty() {
                return Savings {
                    key: run.baseline.key,
                    penguin_mean_epochs: None,
                    baseline_mean_epochs: None,
                    epochs_saved: None,
                    throughput_gain: None,
                };
            }
            let p: f64 = subset.iter().map(|&i| run.penguin[i].stop_epoch).sum();
            let b: f64 = subset.iter().map(|&i| run.baseline_epochs[i]).sum();
            let n = subset.len() as f64;
            Savings {
                key: run.baseline.key,
                penguin_mean_epochs: Some(p / n),
                baseline_mean_epochs: Some(b / n),
                epochs_saved: (b > 0.0).then(|| 1.0 - p / b),
                throughput_gain: (p > 0.0).then(|| b / p),
            }
        })
        .collect();
    let level = report.chance + options.learn_margin;
    let (never_learn, predicted_never_learn, anomalies) = match &report.learning {
        Some(learns) => {
            let predicted_never = |i: usize| out[i].output <= level;
            (
                Some(subset.iter().filter(|&&i| !learns[i]).count()),
                Some(subset.iter().filter(|&&i| predicted_never(i)).count()),
                Some(
                    subset
                        .iter()
                        .filter(|&&i| learns[i] && predicted_never(i))
                        .count(),
                ),
            )
        }
        None => (None, None, None),
    };
    let count = |s: Stop| subset.iter().filter(|&&i| out[i].stop == s).count();
    let mean_stop_epoch = mean(subset.iter().map(|&i| out[i].stop_epoch));
    let truncation = mean_stop_epoch.map(|m| truncation(report, &ranked, options, m));
    let skill = sensitivity
        .iter()
        .enumerate()
        .map(|(k, (x, s))| {
            let t = truncation.as_ref().and_then(|t| {
                match (t.sensitivity_last[k].1, t.sensitivity_best[k].1) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                }
            });
            (*x, s.zip(t).map(|(s, t)| s - t))
        })
        .collect();
    let errors: Vec<f64> = ranked
        .iter()
        .map(|&i| (out[i].output - truth[i]).abs())
        .collect();
    let regret_x = options
        .top
        .iter()
        .map(|&x| (x, regret(&ranked, &pick, |i| truth[i], direction, x)))
        .collect();
    let halving = options
        .top
        .iter()
        .map(|&x| mean_stop_epoch.and_then(|m| halving(report, &ranked, options, x, m)))
        .collect();
    let e_pred = options.config.e_pred;
    let late_bloomers_lost = report.learning.as_ref().map(|_| {
        ranked
            .iter()
            .filter(|&&i| {
                out[i].stop == Stop::Converged
                    && out[i].stop_epoch < e_pred
                    && out[i].output <= level
                    && truth[i] > report.chance + 20.0
            })
            .count()
    });
    let never_learners_mean_stop = report.learning.as_ref().and_then(|learns| {
        mean(
            subset
                .iter()
                .filter(|&&i| !learns[i])
                .map(|&i| out[i].stop_epoch),
        )
    });
    Metrics {
        networks: subset.len(),
        ranked: ranked.len(),
        mean_stop_epoch,
        sensitivity,
        specificity,
        savings,
        never_learn,
        predicted_never_learn,
        anomalies,
        converged: count(Stop::Converged),
        reached_e_pred: count(Stop::ReachedEPred),
        ended: count(Stop::Ended),
        mae: mean(errors.iter().copied()),
        median_abs_error: median(errors.clone()),
        within_2: (!errors.is_empty())
            .then(|| errors.iter().filter(|e| **e <= 2.0).count() as f64 / errors.len() as f64),
        regret: regret_x,
        halving,
        late_bloomers_lost,
        never_learners_mean_stop,
        truncation,
        skill,
        one_short: (!ranked.is_empty()).then(|| one_short(report, &ranked, options)),
        interval_coverage: coverage(out, truth, subset),
    }
}

/// Interval coverage of the converged networks (see [`Metrics::interval_coverage`]).
fn coverage(out: &[Outcome], truth: &[f64], subset: &[usize]) -> Option<(usize, f64)> {
    let judged: Vec<bool> = subset
        .iter()
        .filter(|&&i| {
            out[i].stop == Stop::Converged
                && truth[i].is_finite()
                && out[i].interval.iter().all(|v| v.is_finite())
        })
        .map(|&i| out[i].interval[0] <= truth[i] && truth[i] <= out[i].interval[1])
        .collect();
    (!judged.is_empty()).then(|| {
        let inside = judged.iter().filter(|b| **b).count();
        (judged.len(), inside as f64 / judged.len() as f64)
    })
}

/// Ranks `ranked` networks by what they showed at the observation epoch
/// nearest `mean_stop`, and by what they showed at each observation epoch
/// within half an epoch of it (for the regret).
fn truncation(
    report: &DatasetReport,
    ranked: &[usize],
    options: &Options,
    mean_stop: f64,
) -> Truncation {
    let nets = &report.dataset.networks;
    let mut epochs: Vec<f64> = ranked
        .iter()
        .flat_map(|&i| nets[i].points.iter().map(|p| p.epoch))
        .collect();
    epochs.sort_by(f64::total_cmp);
    epochs.dedup();
    let epoch = epochs
        .iter()
        .copied()
        .min_by(|a, b| {
            (a - mean_stop)
                .abs()
                .total_cmp(&(b - mean_stop).abs())
                .then(a.total_cmp(b))
        })
        .unwrap_or(mean_stop);
    let seen_at =
        |e: f64| move |i: usize| nets[i].points.iter().take_while(|p| p.epoch <= e).count();
    let (sensitivity_last, sensitivity_best) =
        ranked_by_what_was_seen(report, ranked, options, seen_at(epoch));
    let mut regret_epochs: Vec<f64> = epochs
        .iter()
        .copied()
        .filter(|e| (e - mean_stop).abs() <= 0.5)
        .collect();
    if regret_epochs.is_empty() {
        regret_epochs.push(epoch);
    }
    let per_epoch: Vec<PerX> = regret_epochs
        .iter()
        .map(|&e| regret_by_what_was_seen(report, ranked, options, seen_at(e)))
        .collect();
    let regret = options
        .top
        .iter()
        .enumerate()
        .map(|(k, &x)| {
            let values: Option<Vec<f64>> = per_epoch.iter().map(|r| r[k].1).collect();
            (x, values.and_then(|v| mean(v.into_iter())))
        })
        .collect();
    Truncation {
        epoch,
        sensitivity_last,
        sensitivity_best,
        regret_epochs,
        regret,
    }
}

/// Successive halving for the top `x` at the schedule (r0 an observation
/// epoch with r0 eta <= e_pred, eta 2, 3 or 4) whose mean epochs are closest to
/// `mean_stop` (ties: the smaller eta, then the smaller r0).
fn halving(
    report: &DatasetReport,
    ranked: &[usize],
    options: &Options,
    x: usize,
    mean_stop: f64,
) -> Option<Halving> {
    if x == 0 || x >= ranked.len() {
        return None;
    }
    let nets = &report.dataset.networks;
    let e_pred = options.config.e_pred;
    let mut epochs: Vec<f64> = ranked
        .iter()
        .flat_map(|&i| nets[i].points.iter().map(|p| p.epoch))
        .filter(|&e| e < e_pred)
        .collect();
    epochs.sort_by(f64::total_cmp);
    epochs.dedup();
    let mut best: Option<Halving> = None;
    for eta in [2.0, 3.0, 4.0] {
        for &r0 in epochs.iter().filter(|&&r| r * eta <= e_pred) {
            let h = halving_at(report, ranked, options, x, r0, eta);
            let gap = |h: &Halving| (h.mean_epochs - mean_stop).abs();
            if best.as_ref().is_none_or(|b| gap(&h) < gap(b)) {
                best = Some(h);
            }
        }
    }
    best
}

/// Successive halving for the top `x` with first rung `r0` and factor `eta`
/// (see the module docs).
fn halving_at(
    report: &DatasetReport,
    ranked: &[usize],
    options: &Options,
    x: usize,
    r0: f64,
    eta: f64,
) -> Halving {
    let nets = &report.dataset.networks;
    let direction = options.config.direction;
    let e_pred = options.config.e_pred;
    let truth = &report.ground_truth;
    // The last point at or before `epoch`: (its epoch, its value).
    let at = |i: usize, epoch: f64| {
        nets[i]
            .points
            .iter()
            .take_while(|p| p.epoch <= epoch)
            .last()
            .map(|p| (p.epoch, p.value))
    };
    let worst = match direction {
        Direction::Maximize => f64::NEG_INFINITY,
        Direction::Minimize => f64::INFINITY,
    };
    // Each network's epochs trained and last value seen.
    let mut trained = vec![0.0; nets.len()];
    let mut seen = vec![worst; nets.len()];
    let mut alive: Vec<usize> = ranked.to_vec();
    let mut rung = r0;
    while rung < e_pred && alive.len() > x {
        for &i in &alive {
            let (e, v) = at(i, rung).unwrap_or((0.0, worst));
            trained[i] = e;
            seen[i] = v;
        }
        let keep = x.max((alive.len() as f64 / eta).floor() as usize);
        let order = rank(&alive, |i| seen[i], direction);
        alive = order[..keep.min(order.len())].to_vec();
        alive.sort_unstable();
        rung *= eta;
    }
    for &i in &alive {
        let (e, v) = at(i, e_pred).unwrap_or((0.0, worst));
        trained[i] = e;
        seen[i] = v;
    }
    Halving {
        x,
        r0,
        eta,
        mean_epochs: mean(ranked.iter().map(|&i| trained[i])).unwrap_or(f64::NAN),
        regret: regret(ranked, |i| seen[i], |i| truth[i], direction, x).unwrap_or(f64::NAN),
    }
}

/// Ranks `ranked` networks by their observation just before the ground truth's
/// (see [`OneShort`]).
fn one_short(report: &DatasetReport, ranked: &[usize], options: &Options) -> OneShort {
    let nets = &report.dataset.networks;
    let e_pred = options.config.e_pred;
    let seen = |i: usize| {
        let upto_truth = nets[i]
            .points
            .iter()
            .take_while(|p| p.epoch <= e_pred)
            .count();
        upto_truth.saturating_sub(1)
    };
    let epochs: Vec<f64> = ranked
        .iter()
        .filter_map(|&i| seen(i).checked_sub(1).map(|k| nets[i].points[k].epoch))
        .collect();
    let (sensitivity_last, sensitivity_best) =
        ranked_by_what_was_seen(report, ranked, options, seen);
    OneShort {
        mean_epoch: mean(epochs.iter().copied()),
        sensitivity_last,
        sensitivity_best,
        regret: regret_by_what_was_seen(report, ranked, options, seen),
    }
}

/// Regret per x of the ranking of `ranked` networks by the last of the first
/// `seen(i)` points of each curve (the worst possible value where none).
fn regret_by_what_was_seen(
    report: &DatasetReport,
    ranked: &[usize],
    options: &Options,
    seen: impl Fn(usize) -> usize,
) -> PerX {
    let nets = &report.dataset.networks;
    let direction = options.config.direction;
    let worst = match direction {
        Direction::Maximize => f64::NEG_INFINITY,
        Direction::Minimize => f64::INFINITY,
    };
    let mut last = vec![worst; nets.len()];
    for &i in ranked {
        last[i] = nets[i].points[..seen(i)].last().map_or(worst, |p| p.value);
    }
    let truth = &report.ground_truth;
    options
        .top
        .iter()
        .map(|&x| (x, regret(ranked, |i| last[i], |i| truth[i], direction, x)))
        .collect()
}

/// Sensitivity per x of two rankings of `ranked` networks by the first
/// `seen(i)` points of each network's curve: by the last of them, and by the
/// best of them (the worst possible value, ranked last, where a network has
/// seen none).
fn ranked_by_what_was_seen(
    report: &DatasetReport,
    ranked: &[usize],
    options: &Options,
    seen: impl Fn(usize) -> usize,
) -> (PerX, PerX) {
    let nets = &report.dataset.networks;
    let direction = options.config.direction;
    let worst = match direction {
        Direction::Maximize => f64::NEG_INFINITY,
        Direction::Minimize => f64::INFINITY,
    };
    // Each network's last and best value, once (the ranking asks for them
    // at every comparison).
    let (mut last, mut best) = (vec![worst; nets.len()], vec![worst; nets.len()]);
    for &i in ranked {
        let values = nets[i].points[..seen(i)].iter().map(|p| p.value);
        last[i] = values.clone().next_back().unwrap_or(worst);
        best[i] = values.fold(worst, |b, v| match direction {
            Direction::Maximize => b.max(v),
            Direction::Minimize => b.min(v),
        });
    }
    let (last, best) = (|i: usize| last[i], |i: usize| best[i]);
    let truth = &report.ground_truth;
    let sens = |key: &dyn Fn(usize) -> f64| {
        options
            .top
            .iter()
            .map(|&x| {
                (
                    x,
                    top_x(ranked, key, |i| truth[i], direction, x).map(|r| r.0),
                )
            })
            .collect()
    };
    (sens(&last), sens(&best))
}
