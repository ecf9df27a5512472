//! Fuzz target (a): random sequences of engine calls, checked against a simple
//! model of what the engine must hold.
//!
//! Input layout: byte 0 picks a configuration; then each call is a tag byte and
//! its arguments (see [`run`]). The model tracks, per network id, the accepted
//! epochs and whether the last decision was final, and predicts for every call
//! either success or the exact error code. Every rejected call must leave the
//! saved state byte for byte unchanged. A "fork" call restores a second engine
//! from the saved state; from then on every call goes to both and their answers
//! must agree bit for bit.
//!
//! Some configurations ([`robust_config`]) use the keys of `preset = robust`
//! (averaged curve families, `chance_wait`, the holds and shares of rank-aware
//! stopping, `select_hold_observed`, `select_halving`, `answer_floor`). Under
//! them a few rule invariants do not hold; [`check_status`] and
//! [`check_rank_aware`] say which checks follow those keys and which are
//! skipped, and why. Everything else (error codes, unchanged state after a
//! refusal, the restored copy's bit-for-bit agreement, both cutoffs) is
//! checked as for every configuration.
//!
//! Plain std + penguin, so tests/fuzz_regressions.rs includes this file as it is.

use crate::bytes::Bytes;
use penguin::config::{Direction, FailedFit, Warmup};
use penguin::functions::{CATALOGUE, Trend};
use penguin::state::{from_bytes, to_bytes};
use penguin::{Config, Engine, Error, ErrorCode, Observation, State, Status};
use std::collections::BTreeMap;

/// Calls per input.
const MAX_CALLS: usize = 64;
/// Observations (accepted or not) per input: each accepted one may cost a fit.
const MAX_OBSERVATIONS: usize = 96;
/// Network ids: a small space so that calls hit the same networks, plus the
/// extreme id.
const IDS: [u64; 4] = [0, 1, 2, u64::MAX];

/// The configuration chosen by the first input byte (its high bit adds
/// rank-aware stopping, see [`add_select_top`]; some values add the training
/// budget, see [`add_budget`]) and the second. Selectors whose low seven bits
/// are 112 or more choose the `preset = robust` family instead (see
/// [`robust_config`]); before it existed they repeated selectors 16-31 (the
/// rules of [`add_budget`] and [`add_select_top`] give s and s - 96 the same
/// configuration), so no configuration was lost to it.
pub fn config_for(selector: u8, extra: u8) -> Config {
    if selector & 0x7f >= ROBUST_FROM {
        return robust_config(selector, extra);
    }
    let mut c = config_without_select_top(selector, extra);
    add_select_top(&mut c, selector);
    add_budget(&mut c, selector);
    c
}

/// The first selector (low seven bits) of the `robust` family.
const ROBUST_FROM: u8 = 112;

/// The `robust` family, for selectors whose low seven bits s are 112-127
/// (r = s - 112): the keys of variant r % 6 ([`apply_variant`]) on top of
/// `preset = robust` (averaged exp3 and vap3 with `combine = mean_fitted`,
/// the never-learner stop and the late-bloomer guard with `chance_wait`,
/// `select_hold_reach`, `select_hold_until`, `answer_floor`,
/// `select_clear_observed`, `select_hold_observed`), with `select_top` = 1 +
/// (r / 6) % 2 of the four network ids, so that the cohort's cutoffs exist.
/// The selector's high bit adds successive halving (`select_halving` = 3, or
/// 2 where 3 leaves no rung after the warm-up: variant 5). The extra byte
/// keeps its bits 0 (threads), 1-6 (variant 4's function) and 7 (a loss per
/// observation); its bits 2-3 pick the mode:
///
/// - 0: the preset's keys, `select_hold_observed` = 1 + bit 4 (the preset's 8
///   never forms a shown cutoff among four networks);
/// - 1: the same with `select_stop_reach` = 0.75;
/// - 2: the same with the training budget (`max_epoch` 3) and the width gate
///   (`stop_width` 10);
/// - 3: no preset: the variant with its chance rules (as for the other
///   selectors) and `answer_floor` = on alone.
///
/// In modes 0-2 the chance level is always set (the preset's never-learner
/// stop needs it; 10, or 2 for a loss); bit 6 picks its margin.
fn robust_config(selector: u8, extra: u8) -> Config {
    let r = (selector & 0x7f) - ROBUST_FROM;
    let mode = (extra >> 2) & 3;
    let mut c = Config::default();
    if mode != 3 {
        c.set("preset", "robust").unwrap();
    }
    apply_variant(&mut c, r % 6, extra);
    let minimize = c.direction == Direction::Minimize;
    let set = |c: &mut Config, k: &str, v: &str| c.set(k, v).unwrap();
    if mode == 3 {
        set(&mut c, "answer_floor", "on");
    } else {
        if minimize {
            // vap3 rises; a loss curve's families fall.
            set(&mut c, "alternatives", "pow3d");
        }
        set(&mut c, "chance_level", if minimize { "2" } else { "10" });
        let margin = match (minimize, extra & 0x40 != 0) {
            (false, false) => "5",
            (false, true) => "1",
            (true, false) => "0.2",
            (true, true) => "1",
        };
        set(&mut c, "chance_margin", margin);
        let k = 1 + (extra >> 4) % 2;
        set(&mut c, "select_hold_observed", &k.to_string());
        if mode == 1 {
            set(&mut c, "select_stop_reach", "0.75");
        }
        if mode == 2 {
            set(&mut c, "max_epoch", "3");
            set(&mut c, "stop_width", "10");
        }
    }
    set(&mut c, "select_top", &(1 + (r / 6) % 2).to_string());
    if selector & 0x80 != 0 {
        set(&mut c, "select_halving", "3");
        if c.halving_rungs().is_empty() {
            set(&mut c, "select_halving", "2");
        }
    }
    if mode == 3 {
        add_chance_rules(&mut c, extra);
    }
    c
}

/// From the selector's low seven bits s (the variant is s % 6, select_top's
/// choice (s / 6) % 2): the training budget when (s / 12) is odd (`max_epoch`
/// 3, or 1, inside the warm-up, when (s / 48) is odd too), and the width gate
/// (`stop_width` 10) when (s / 24) is odd.
fn add_budget(c: &mut Config, selector: u8) {
    let s = selector & 0x7f;
    if (s / 12) % 2 == 1 {
        let epoch = if (s / 48) % 2 == 1 { "1" } else { "3" };
        c.set("max_epoch", epoch).unwrap();
    }
    if (s / 24) % 2 == 1 {
        c.set("stop_width", "10").unwrap();
    }
}

/// With the selector's high bit, rank-aware stopping: `select_top` = 1 or 2
/// of the four network ids (by the parity of the rest over 6, so that the
/// variant, the rest modulo 6, is free). A batch judges its entries against the cutoff at
/// its start, so with it batches are not compared with one-by-one calls (see
/// [`observe_batch`]) and hold each id at most once.
fn add_select_top(c: &mut Config, selector: u8) {
    if selector & 0x80 != 0 {
        let x = 1 + ((selector & 0x7f) / 6) % 2;
        c.set("select_top", &x.to_string()).unwrap();
    }
}

fn config_without_select_top(selector: u8, extra: u8) -> Config {
    let mut c = Config::default();
    apply_variant(&mut c, (selector & 0x7f) % 6, extra);
    add_chance_rules(&mut c, extra);
    c
}

/// The keys of variant 0-5 (0: the paper's defaults, untouched).
fn apply_variant(c: &mut Config, variant: u8, extra: u8) {
    let set = |c: &mut Config, k: &str, v: &str| c.set(k, v).unwrap();
    if variant == 0 {
        // The paper's defaults, untouched (threads = 0: all cores for batches).
        return;
    }
    // Cheaper fits: the same code paths, shorter solver runs.
    set(c, "fit_patience", "20");
    set(c, "fit_restarts", "0");
    set(c, "threads", if extra & 1 == 0 { "1" } else { "2" });
    match variant {
        1 => {}
        2 => {
            // Final decisions early: N = 1, warm-up by predictions, e_pred = 4.
            set(c, "N", "1");
            set(c, "warmup", "predictions");
            set(c, "e_pred", "4");
        }
        3 => {
            // The authors' variants of every rule, and SciPy's solver.
            set(c, "solver", "trf");
            set(c, "failed_fit", "skipped");
            set(c, "validity", "all");
            set(c, "agreement", "median");
            set(c, "threshold", "relative");
            set(c, "upper_bound_reject", "0.01");
            set(c, "t", "2");
        }
        4 => {
            // Any catalogue function, in its direction.
            let f = &CATALOGUE[usize::from(extra >> 1) % CATALOGUE.len()];
            set(c, "function", f.name);
            if f.trend == Trend::Decreasing {
                set(c, "direction", "minimize");
                set(c, "valid_max", "inf");
            }
            set(c, "N", "2");
            set(c, "t", "5");
        }
        _ => {
            set(c, "min_points", "1");
            set(c, "E", "1");
            set(c, "N", "2");
            set(c, "x_shift", "-1");
            set(c, "e_pred", "6");
            set(c, "warm_start", "off");
            set(c, "t", "3");
        }
    }
}

/// With the extra byte's high bit, the chance-level rules (then every
/// observation carries a loss): the late-bloomer guard and the never-learner
/// stop.
fn add_chance_rules(c: &mut Config, extra: u8) {
    if !uses_loss(extra) {
        return;
    }
    let minimize = c.direction == Direction::Minimize;
    let mut set = |k: &str, v: &str| c.set(k, v).unwrap();
    set("chance_level", if minimize { "2" } else { "10" });
    set("chance_margin", if extra & 0x40 != 0 { "1" } else { "5" });
    set("loss_patience", &((extra >> 4) & 3).to_string());
    set("chance_patience", &((extra >> 2) & 3).to_string());
    set("loss_min_delta", "0.001");
}

/// Whether inputs for this configuration carry a loss byte per observation.
fn uses_loss(extra: u8) -> bool {
    extra & 0x80 != 0
}

/// A validation loss from one input byte: 0 = not reported (NaN), 255 = an
/// infinite loss (ignored by the engine), else a loss between 0.3 and 2.3.
fn loss_from(b: u8) -> f64 {
    match b {
        0 => f64::NAN,
        255 => f64::INFINITY,
        b => 2.3 - f64::from(b) / 127.0,
    }
}

/// What the model knows of one network.
#[derive(Clone, Debug, Default)]
struct Net {
    epochs: Vec<f64>,
    /// The accepted values, in order.
    values: Vec<f64>,
    /// The lowest finite loss reported (None: none yet), and the
    /// observations with a loss since it last improved by `loss_min_delta`.
    best_loss: Option<f64>,
    since_best_loss: u32,
    final_: bool,
    /// Its last status is a select_top stop wholly below the cutoff.
    below_cutoff_stop: bool,
    /// Statuses in a row, up to the last, with a prediction (`fit_P` not
    /// NaN): each one went into the engine's window of predictions, which
    /// holds at least this many (up to N).
    predictions_in_a_row: usize,
    /// At most this many predictions are in the window: a missing one
    /// empties it with `failed_fit = breaks` (then it holds exactly
    /// `predictions_in_a_row`), and with `skipped` leaves it as it is unless
    /// the fit hit an upper bound (which empties it, unseen).
    window_at_most: usize,
    /// `chance_wait` held it once while the never-learner stop was otherwise
    /// due (its last K values at chance, its loss stalled).
    waited_at_chance: bool,
    /// The last status the engine returned for it.
    last: Option<Status>,
}

/// The x-th best of `values` in `direction` (NaN when there are fewer).
fn xth_best(values: &mut [f64], x: usize, direction: Direction) -> f64 {
    if values.len() < x {
        return f64::NAN;
    }
    values.sort_by(|a, b| match direction {
        Direction::Maximize => b.total_cmp(a),
        Direction::Minimize => a.total_cmp(b),
    });
    values[x - 1]
}

/// The model of the engine.
#[derive(Clone, Debug, Default)]
struct Model {
    nets: BTreeMap<u64, Net>,
    /// Accepted observations judged short of the cutoff only at
    /// `select_stop_reach` ([`RankCheck::on_share`]).
    share_judgements: usize,
}

impl Model {
    /// The code `observe` must return (None = success).
    fn expect(&self, id: u64, epoch: f64, value: f64) -> Option<ErrorCode> {
        if !epoch.is_finite() || epoch <= 0.0 {
            return Some(ErrorCode::InvalidEpoch);
        }
        if !value.is_finite() {
            return Some(ErrorCode::InvalidFitness);
        }
        let net = self.nets.get(&id)?;
        if net.final_ {
            return Some(ErrorCode::AlreadyDecided);
        }
        match net.epochs.last() {
            Some(&last) if epoch <= last => Some(ErrorCode::EpochNotIncreasing),
            _ => None,
        }
    }

    /// The engine's cutoff, from the statuses the model saw (none under
    /// `select_halving`, which judges on rungs instead).
    fn cutoff(&self, config: &Config) -> f64 {
        let x = config.select_top;
        if x == 0 || !config.takes_cutoff() || self.nets.len() < x {
            return f64::NAN;
        }
        let mut scores: Vec<f64> = self
            .nets
            .values()
            .filter_map(|n| {
                let s = n.last.as_ref()?;
                let v = if s.state == State::Continue {
                    s.fit_prediction
                } else {
                    s.prediction
                };
                (v >= config.valid_min && v <= config.valid_max).then_some(v)
            })
            .collect();
        xth_best(&mut scores, x, config.direction)
    }

    /// The engine's shown cutoff for `select_hold_observed` = K: the K-th
    /// best of what the networks show (the mean of each one's last N
    /// values), only while rank-aware stopping takes a cutoff.
    fn shown_cutoff(&self, config: &Config) -> f64 {
        let k = config.select_hold_observed;
        if k == 0 || !config.takes_cutoff() || self.nets.len() < k {
            return f64::NAN;
        }
        let mut shown: Vec<f64> = self
            .nets
            .values()
            .filter_map(|n| recent_mean(&n.values, config.n))
            .collect();
        xth_best(&mut shown, k, config.direction)
    }

    /// The cutoffs a call is judged by, as the engine must report them.
    fn cohort(&self, config: &Config, engine: &Engine) -> Cohort {
        let c = Cohort {
            cutoff: self.cutoff(config),
            shown: self.shown_cutoff(config),
        };
        assert_eq!(c.cutoff.to_bits(), engine.cutoff().to_bits(), "cutoff");
        assert_eq!(
            c.shown.to_bits(),
            engine.shown_cutoff().to_bits(),
            "shown cutoff"
        );
        c
    }

    fn last_epoch(&self, id: u64) -> f64 {
        self.nets
            .get(&id)
            .and_then(|n| n.epochs.last().copied())
            .unwrap_or(0.0)
    }
}

/// The cutoffs a call is judged by: the top-X cutoff of `select_top` and the
/// shown cutoff of `select_hold_observed` (NaN: none).
#[derive(Clone, Copy, Debug)]
struct Cohort {
    cutoff: f64,
    shown: f64,
}

impl Cohort {
    const NONE: Cohort = Cohort {
        cutoff: f64::NAN,
        shown: f64::NAN,
    };
}

/// What a network shows, as the engine computes it (`rules::recent_mean`):
/// the mean of its last `n` values (all when fewer), each divided first,
/// kept within their range; None without a value.
fn recent_mean(values: &[f64], n: usize) -> Option<f64> {
    let tail = &values[values.len().saturating_sub(n)..];
    if tail.is_empty() {
        return None;
    }
    let k = tail.len() as f64;
    let lo = tail.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = tail.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    Some(tail.iter().map(|v| v / k).sum::<f64>().clamp(lo, hi))
}

/// `answer` after the answer floor (`answer_floor`): the mean of the last N
/// values when that is a valid fitness and `answer` is worse; `answer` when
/// the floor is off.
fn floored(config: &Config, net: &Net, answer: f64) -> f64 {
    if !config.answer_floor || answer.is_nan() {
        return answer;
    }
    match recent_mean(&net.values, config.n) {
        Some(m) if config.is_valid_fitness(m) && short_of(config.direction, answer, m) => m,
        _ => answer,
    }
}

/// Whether `v` falls short of `cutoff` (below it when maximizing).
fn short_of(direction: Direction, v: f64, cutoff: f64) -> bool {
    match direction {
        Direction::Maximize => v < cutoff,
        Direction::Minimize => v > cutoff,
    }
}

/// Whether `chance_wait` still holds a network at chance at `epoch` (never
/// with its default 0).
fn waits(config: &Config, epoch: f64) -> bool {
    epoch < config.chance_wait * config.e_pred
}

/// Notes an accepted observation's loss as the engine does (NaN or infinite:
/// not reported).
fn note_loss(config: &Config, net: &mut Net, loss: f64) {
    if !loss.is_finite() {
        return;
    }
    match net.best_loss {
        Some(best) if loss >= best - config.loss_min_delta * best.abs() => {
            net.since_best_loss = net.since_best_loss.saturating_add(1);
        }
        _ => {
            net.best_loss = Some(loss);
            net.since_best_loss = 0;
        }
    }
}

/// The never-learner stop's loss condition: no loss reported, or none better
/// for max(chance_patience, loss_patience) observations.
fn loss_stalled(config: &Config, net: &Net) -> bool {
    let patience = config.chance_patience.max(config.loss_patience) as u32;
    net.best_loss.is_none() || net.since_best_loss >= patience
}

/// Whether a converged status has the never-learner stop's shape
/// (`chance_patience` = K): no interval, its last K values all at chance, and
/// its answer the mean of those values: within one ulp of their plain mean
/// (each divided by K, summed), or exactly the engine's mean
/// ([`recent_mean`], kept within the values: the sum of three equal values
/// divided by 3 each may round one ulp above them, and a sum of huge values
/// may overflow). The shape does not copy the engine's formula, so that the
/// checks of the exact mean and of its range can fail; such a stop must also
/// satisfy the rule's loss condition and wait for `chance_wait`. Other stops
/// may have the shape too: see [`is_never_learner`].
fn never_learner_stop(config: &Config, net: &Net, s: &Status) -> bool {
    let k = config.chance_patience;
    if k == 0 || net.values.len() < k || !s.prediction_lo.is_nan() || !s.prediction_hi.is_nan() {
        return false;
    }
    let last = &net.values[net.values.len() - k..];
    let plain: f64 = last.iter().map(|v| v / k as f64).sum();
    let mean = recent_mean(&net.values, k).expect("k > 0 values");
    last.iter().all(|&v| config.at_chance(v))
        && (s.prediction.to_bits() == mean.to_bits() || within_an_ulp(s.prediction, plain))
}

/// Whether a converged status (not at the budget) is a never-learner stop:
/// it has the shape ([`never_learner_stop`]), and unless it answers exactly
/// the engine's mean with the loss stalled, no other stop could answer the
/// same. Those answer their newest prediction, or the observed value (a
/// `select_halving` rung stop without a valid prediction), lifted by the
/// answer floor where it applies: on a flat curve at chance that can be the
/// values' mean within an ulp, or the floor's mean of the same values
/// (N = K). With `failed_fit = skipped` and no newest prediction, the
/// paper's rule answers an older one, unknown here.
fn is_never_learner(config: &Config, net: &Net, s: &Status) -> bool {
    if s.state != State::Converged || !never_learner_stop(config, net, s) {
        return false;
    }
    let fp = s.fit_prediction;
    let value = *net.values.last().unwrap();
    let unknown = config.failed_fit == FailedFit::Skipped && fp.is_nan();
    let paper = unknown || s.prediction.to_bits() == floored(config, net, fp).to_bits();
    let rung = config.select_halving > 0.0
        && !config.is_valid_fitness(fp)
        && reaches_a_rung(config, net)
        && s.prediction.to_bits() == floored(config, net, value).to_bits();
    let mean = recent_mean(&net.values, config.chance_patience).expect("k > 0 values");
    let exact = s.prediction.to_bits() == mean.to_bits();
    !(paper || rung) || (exact && loss_stalled(config, net))
}

/// Whether the network's newest observation reaches a `select_halving` rung
/// that its previous observation had not reached.
fn reaches_a_rung(config: &Config, net: &Net) -> bool {
    let n = net.epochs.len();
    let previous = n.checked_sub(2).map(|i| net.epochs[i]);
    let rungs = config.halving_rungs();
    !Config::rungs_reached(&rungs, |r| *r, previous, net.epochs[n - 1]).is_empty()
}

/// Whether `a` and `b` are finite and at most one ulp (of the larger in
/// magnitude) apart.
fn within_an_ulp(a: f64, b: f64) -> bool {
    let ulp = |x: f64| {
        let x = x.abs();
        f64::from_bits(x.to_bits() + 1) - x
    };
    a.is_finite() && b.is_finite() && (a - b).abs() <= ulp(a).max(ulp(b))
}

/// The never-learner stop's conditions but `chance_wait` (K =
/// `chance_patience` > 0): the last K values at chance and the loss stalled.
fn never_learner_conditions(config: &Config, net: &Net) -> bool {
    let k = config.chance_patience;
    let n = net.values.len();
    k > 0
        && n >= k
        && net.values[n - k..].iter().all(|&v| config.at_chance(v))
        && loss_stalled(config, net)
}

/// Whether a network observed at `epoch` is past its training budget
/// (`max_epoch`) but not at `e_pred`: then it has stopped, and no
/// never-learner stop (which only stops a network still training) applies.
fn over_budget(config: &Config, epoch: f64) -> bool {
    epoch >= config.max_epoch && epoch < config.e_pred
}

/// Everything a status must satisfy after an accepted observation.
///
/// The keys of the `robust` family ([`robust_config`]) change some answers,
/// and the checks follow them exactly where the model can, rather than
/// being skipped: `chance_wait` (no never-learner stop, and no other stop
/// answering at chance but the budget's, before its epoch), `answer_floor`
/// (a stop answers the mean of the last N values when its answer is worse:
/// [`floored`], bit for bit) and `select_halving` (a rung stop answers the
/// observed value when the newest prediction is no valid fitness, and that
/// value need not lie in the valid range, as for the budget). One check is
/// relaxed: with `answer_floor` and N = `chance_patience` (the preset's 3 =
/// variants 0, 1, 3) a floored stop of a network at chance without an
/// interval looks like a never-learner stop, so when the answer is the
/// floor's mean only the late-bloomer guard's loss condition (weaker) is
/// asserted. `alternatives`/`combine = mean_fitted`,
/// `select_clear_observed`, `select_hold_*` and `select_stop_reach` change
/// nothing checked here: fits, parameters (the main function's), warm-up and
/// `e_pred` hold as they are (see [`check_rank_aware`] for the cutoff).
fn check_status(config: &Config, net: &Net, value: f64, s: &Status) {
    let n = net.epochs.len();
    let epoch = *net.epochs.last().unwrap();
    let budget = over_budget(config, epoch);
    assert_eq!(s.observations as usize, n, "observation count");
    assert_eq!(s.epoch.to_bits(), epoch.to_bits(), "status epoch");
    let fits = (n + 1).saturating_sub(config.min_points());
    assert_eq!(
        s.fits as usize,
        fits,
        "fit count (min_points {})",
        config.min_points()
    );
    assert!(
        s.params.is_empty() || s.params.len() == config.n_params(),
        "params {:?}",
        s.params
    );
    assert!(
        s.fit_prediction.is_nan() || s.fit_prediction.is_finite(),
        "fit_prediction {}",
        s.fit_prediction
    );
    let warming = config.warmup == Warmup::Epochs && epoch <= config.n as f64 * config.e;
    // The engine gives a never-learner stop no interval. Other stops on a
    // flat curve can look the same (see is_never_learner); they are checked
    // as what they are, unless they answer as the never-learner stop would.
    let never_learner = !budget && is_never_learner(config, net, s);
    if warming && !never_learner && !budget {
        assert_eq!(
            s.state,
            State::Continue,
            "final during warm-up at epoch {epoch}"
        );
    } else if epoch >= config.e_pred {
        assert_eq!(s.state, State::ReachedEPred, "epoch {epoch} >= e_pred");
    }
    match s.state {
        State::Continue => {
            assert_eq!(
                s.prediction.to_bits(),
                s.fit_prediction.to_bits(),
                "prediction while training"
            );
            // The never-learner stop is applied last: when its conditions
            // hold (and chance_wait no longer holds it), the network must
            // have stopped.
            let due = never_learner_conditions(config, net) && !waits(config, epoch);
            assert!(!due, "never-learner stop missed at epoch {epoch}");
            assert!(!budget, "still training at {epoch} >= max_epoch");
        }
        State::ReachedEPred => {
            assert!(epoch >= config.e_pred, "reached e_pred at {epoch}");
            assert_eq!(
                s.prediction.to_bits(),
                value.to_bits(),
                "answer at e_pred is the observed value"
            );
        }
        State::Converged if never_learner => {
            assert!(
                epoch < config.e_pred,
                "never-learner stop at {epoch} >= e_pred"
            );
            assert!(
                !waits(config, epoch),
                "never-learner stop at {epoch} before chance_wait x e_pred = {}",
                config.chance_wait * config.e_pred
            );
            assert!(
                loss_stalled(config, net),
                "never-learner stop while the loss improved {} observations ago",
                net.since_best_loss
            );
            let k = config.chance_patience;
            let last = &net.values[n - k..];
            let (lo, hi) = last
                .iter()
                .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                    (a.min(v), b.max(v))
                });
            assert!(
                s.prediction.is_finite() && lo <= s.prediction && s.prediction <= hi,
                "never-learner answer {} outside its values [{lo}, {hi}]",
                s.prediction
            );
            let mean = recent_mean(&net.values, k).expect("k > 0 values");
            assert_eq!(
                s.prediction.to_bits(),
                mean.to_bits(),
                "never-learner answer {} is not the mean of its last {k} values, {mean}",
                s.prediction
            );
        }
        State::Converged if budget => {
            // The budget answers the newest prediction when it is a valid
            // fitness, the observed value otherwise (a stop of the paper's
            // rule at the same epoch answers the same).
            // With failed_fit = skipped, a failed fit leaves the window's
            // newest (older) prediction, on which the paper's rule may stop
            // (the width gate, when on, forbids that: no interval).
            let fp = s.fit_prediction;
            let valid = fp >= config.valid_min && fp <= config.valid_max;
            let expected = if valid { fp } else { value };
            let skipped = config.failed_fit == FailedFit::Skipped
                && fp.is_nan()
                && config.stop_width.is_infinite();
            let in_range = config.valid_min <= s.prediction && s.prediction <= config.valid_max;
            // The answer floor lifts it, bit for bit (floored() is the
            // answer itself when the floor is off or does not apply).
            let floor = floored(config, net, expected);
            assert!(
                s.prediction.to_bits() == floor.to_bits() || (skipped && in_range),
                "budget stop at {epoch} (answer {expected}, floored {floor}): {s:?}"
            );
            if s.prediction.to_bits() == value.to_bits() && !valid {
                assert!(
                    s.prediction_lo.is_nan() && s.prediction_hi.is_nan(),
                    "budget stop on the observed value with an interval: {s:?}"
                );
            }
        }
        State::Converged => {
            assert!(epoch < config.e_pred, "converged at {epoch} >= e_pred");
            // The width gate holds a converged network while its interval is
            // wider than stop_width; only rank-aware stopping (checked
            // against the cutoff elsewhere) stops one regardless.
            if config.stop_width.is_finite() && config.select_top == 0 {
                let width = s.prediction_hi - s.prediction_lo;
                assert!(
                    width <= config.stop_width,
                    "stopped with interval width {width} > {}",
                    config.stop_width
                );
            }
            // Algorithm 2 stops only on a window of N predictions; rank-aware
            // stopping stops a network below the cutoff after the warm-up,
            // whether or not N predictions agree (see check_rank_aware).
            assert!(
                net.window_at_most >= config.n || config.select_top > 0,
                "converged after {n} observations, at most {} predictions in the window, \
                 with N = {}",
                net.window_at_most,
                config.n
            );
            // On the newest prediction; with failed_fit = skipped a failed fit
            // stays out of the window, so the newest one there may be older.
            // A stop by select_halving answers the observed value when the
            // newest prediction is no valid fitness (only rungs stop then).
            // Either answer is lifted by the answer floor where it applies
            // (floored() is the answer itself elsewhere), bit for bit.
            let skipped = config.failed_fit == FailedFit::Skipped && s.fit_prediction.is_nan();
            let observed =
                config.select_halving > 0.0 && !config.is_valid_fitness(s.fit_prediction);
            let answer = if observed { value } else { s.fit_prediction };
            if !skipped {
                let floor = floored(config, net, answer);
                assert!(
                    s.prediction.to_bits() == floor.to_bits(),
                    "converged on the newest prediction (or observed value {value}), \
                     floored: {floor}: {s:?}"
                );
                // The late-bloomer guard keeps a network whose answer (before
                // the floor) is at chance training before chance_wait x e_pred,
                // and while its loss improved within loss_patience
                // observations; only the budget and the never-learner stop,
                // checked above, come after it.
                let at_chance = config.chance_level.is_finite() && config.at_chance(answer);
                assert!(
                    !(at_chance && waits(config, epoch)),
                    "stopped at chance ({answer}) at {epoch}, before chance_wait x e_pred = {}: \
                     {s:?}",
                    config.chance_wait * config.e_pred
                );
                let improving = config.loss_patience > 0
                    && net.best_loss.is_some()
                    && (net.since_best_loss as usize) < config.loss_patience;
                assert!(
                    !(at_chance && improving),
                    "stopped at chance ({answer}) at {epoch} while the loss improved {} \
                     observations ago (loss_patience {}): {s:?}",
                    net.since_best_loss,
                    config.loss_patience
                );
            }
            // The observed value of a halving stop, as the budget's, need
            // not be a valid fitness.
            if !observed {
                assert!(
                    s.prediction.is_finite()
                        && config.valid_min <= s.prediction
                        && s.prediction <= config.valid_max,
                    "converged prediction {} outside [{}, {}]",
                    s.prediction,
                    config.valid_min,
                    config.valid_max
                );
            }
        }
    }
}

/// Rank-aware stopping against the cutoffs the call was judged by, as
/// `rules::rank_aware` decides from what the status shows (its interval and
/// `fit_P`), the cutoffs and the network's values: a stop is Algorithm 2's,
/// on a full window of N predictions and not held (while holding: a sure
/// pick, its interval's worse end beyond the cutoff, or out of reach and not
/// among those that show the most), or rank-aware stopping's own, short of
/// the cutoff after the warm-up with a valid prediction; a network short of
/// the cutoff keeps training only while held or kept by the late-bloomer
/// guard. Returns what was judged ([`RankCheck`]).
///
/// Under the `robust` family's keys ([`robust_config`]):
/// - `select_halving`: there is no cutoff; a network stops only where its
///   observation reaches a rung (checked instead of the rest);
/// - `select_hold_until`: holding ends at its epoch; after it, Algorithm 2's
///   stop may straddle the cutoff;
/// - `select_hold_reach`, `select_stop_reach`: "out of reach" and "short"
///   use the prediction moved that share of the way toward its interval's
///   better end ([`reach`]); short at `select_stop_reach` < 1, a network
///   stops only on a full window, which the model knows for sure after N
///   statuses in a row with a prediction (only then is "keeps training"
///   checked) and rules out with fewer than N predictions since the window
///   last emptied (`failed_fit = breaks`);
/// - `select_clear_observed`: a sure pick's mean of its last N values must
///   be beyond the cutoff too;
/// - `select_hold_observed`: while holding, a network among the K that show
///   the most (the shown cutoff the engine reported) stops only as a sure
///   pick, and may keep training short of the cutoff;
/// - `chance_wait`: a network whose prediction is at chance may keep
///   training before `chance_wait` x `e_pred` (the late-bloomer guard);
/// - `answer_floor` and averaged families change no stop this checks (they
///   change answers, not intervals).
fn check_rank_aware(config: &Config, net: &Net, s: &Status, cohort: Cohort) -> RankCheck {
    let n = net.epochs.len();
    let epoch = *net.epochs.last().unwrap();
    let cutoff = cohort.cutoff;
    // The budget stops a network wherever its interval lies.
    let none = RankCheck::default();
    if config.select_top == 0 || s.state == State::ReachedEPred || over_budget(config, epoch) {
        return none;
    }
    let (lo, hi) = (s.prediction_lo, s.prediction_hi);
    if is_never_learner(config, net, s) {
        return none;
    }
    if config.select_halving > 0.0 {
        assert!(
            s.state != State::Converged || reaches_a_rung(config, net),
            "select_halving stop between rungs {:?} at {epoch} (previous {:?}): {s:?}",
            config.halving_rungs(),
            n.checked_sub(2).map(|i| net.epochs[i])
        );
        return none;
    }
    let judged = cutoff.is_finite() && lo.is_finite() && hi.is_finite();
    // Algorithm 2 may have found it converged only on a full window.
    let maybe_full = net.window_at_most >= config.n;
    if !judged {
        // Without a cutoff or an interval, rank-aware stopping changes
        // nothing: a stop is Algorithm 2's (or an opt-in rule's, checked by
        // check_status).
        assert!(
            s.state != State::Converged || maybe_full,
            "stopped at {epoch} with cutoff {cutoff}, at most {} predictions in the window: {s:?}",
            net.window_at_most
        );
        return none;
    }
    let direction = config.direction;
    let beyond = |v: f64| match direction {
        Direction::Maximize => v > cutoff,
        Direction::Minimize => v < cutoff,
    };
    // Wholly below the cutoff (its better end short of it), a sure pick by
    // its interval (its worse end beyond it).
    let worse = short_of(direction, reach(config, s, 1.0), cutoff);
    let better = beyond(match direction {
        Direction::Maximize => lo,
        Direction::Minimize => hi,
    });
    let shows = recent_mean(&net.values, config.n);
    let clears = better && (!config.select_clear_observed || shows.is_some_and(beyond));
    let out_of_reach = short_of(
        direction,
        reach(config, s, config.select_hold_reach),
        cutoff,
    );
    let cannot_make_it = short_of(
        direction,
        reach(config, s, config.select_stop_reach),
        cutoff,
    );
    let holding = epoch < config.select_hold_until * config.e_pred;
    let shown_top =
        cohort.shown.is_finite() && shows.is_some_and(|m| !short_of(direction, m, cohort.shown));
    let fp = s.fit_prediction;
    let valid = config.is_valid_fitness(fp);
    let late = epoch > config.n as f64 * config.e;
    // Short of the cutoff at select_stop_reach < 1 but not with its whole
    // interval, on a window known to be full: only the share stops it.
    let full = config.select_stop_reach >= 1.0 || net.predictions_in_a_row >= config.n;
    let on_share = cannot_make_it && !worse && valid && late && full && !(holding && shown_top);
    let below = match s.state {
        State::Converged => {
            if holding && shown_top {
                assert!(
                    clears,
                    "stopped at {epoch} among the {} that show the most (shown cutoff {}) \
                     without a sure pick over the cutoff {cutoff} (shows {shows:?}): {s:?}",
                    config.select_hold_observed, cohort.shown
                );
            }
            // Algorithm 2's stop (on a full window), not held: after the
            // hold, a sure pick, or out of reach and not among those that
            // show the most; or rank-aware stopping's own, short at
            // select_stop_reach (on a full window unless that is 1).
            let not_held = !holding || clears || (out_of_reach && !shown_top);
            let algorithm_2 = maybe_full && not_held;
            let rank_aware = cannot_make_it
                && !(holding && shown_top)
                && valid
                && late
                && (config.select_stop_reach >= 1.0 || maybe_full);
            assert!(
                algorithm_2 || rank_aware,
                "stopped at {epoch} with cutoff {cutoff} (at most {} predictions in the window; \
                 shows {shows:?}, shown cutoff {}): {s:?}",
                net.window_at_most,
                cohort.shown
            );
            worse
        }
        State::Continue => {
            // A network short of the cutoff stops, unless held as one of
            // those that show the most, or held as converged within reach
            // (only when select_hold_reach reaches further than
            // select_stop_reach), or kept by the late-bloomer guard.
            if cannot_make_it && valid && late && full && !(holding && shown_top) {
                let guard = config.loss_patience > 0
                    && config.chance_level.is_finite()
                    && net.best_loss.is_some()
                    && config.at_chance(fp)
                    && (net.since_best_loss as usize) < config.loss_patience;
                let wait =
                    config.chance_level.is_finite() && config.at_chance(fp) && waits(config, epoch);
                let held = holding && !out_of_reach;
                assert!(
                    guard || wait || held,
                    "not stopped at {epoch} short of the cutoff {cutoff} (shown cutoff {}): {s:?}",
                    cohort.shown
                );
            }
            false
        }
        State::ReachedEPred => false,
    };
    RankCheck { below, on_share }
}

/// What [`check_rank_aware`] judged of a status.
#[derive(Clone, Copy, Debug, Default)]
struct RankCheck {
    /// A stop wholly below the cutoff.
    below: bool,
    /// Short of the cutoff only at `select_stop_reach` < 1, not with its
    /// whole interval, on a full window and not held as one of those that
    /// show the most (it must stop unless held within reach or kept by the
    /// late-bloomer guard).
    on_share: bool,
}

/// How far a status's prediction reaches toward its interval's better end
/// with `share`, as `rules::rank_aware` computes it: `fit_P`, counted from
/// inside the interval, moved that share of the way; the better end itself
/// from a share of 1.
fn reach(config: &Config, s: &Status, share: f64) -> f64 {
    let (lo, hi) = (s.prediction_lo, s.prediction_hi);
    let centre = s.fit_prediction.clamp(lo.min(hi), hi.max(lo));
    match (config.direction, share >= 1.0) {
        (Direction::Maximize, true) => hi,
        (Direction::Minimize, true) => lo,
        (Direction::Maximize, false) => centre + share * (hi - centre),
        (Direction::Minimize, false) => centre - share * (centre - lo),
    }
}

/// A status as bits, for exact comparison (its interval too).
type StatusBits = (State, [u64; 5], u32, u32, Vec<u64>);

fn bits(s: &Status) -> StatusBits {
    (
        s.state,
        [
            s.prediction.to_bits(),
            s.fit_prediction.to_bits(),
            s.epoch.to_bits(),
            s.prediction_lo.to_bits(),
            s.prediction_hi.to_bits(),
        ],
        s.observations,
        s.fits,
        s.params.iter().map(|p| p.to_bits()).collect(),
    )
}

fn same<T: std::fmt::Debug>(
    a: &Result<T, Error>,
    b: &Result<T, Error>,
    eq: impl Fn(&T, &T) -> bool,
    what: &str,
) {
    let ok = match (a, b) {
        (Ok(x), Ok(y)) => eq(x, y),
        (Err(x), Err(y)) => x == y,
        _ => false,
    };
    assert!(ok, "{what}: restored engine differs: {a:?} vs {b:?}");
}

fn same_status(a: &Status, b: &Status) -> bool {
    bits(a) == bits(b)
}

fn same_statuses(a: &[Status], b: &[Status]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| same_status(x, y))
}

/// An epoch after `last` (0 when none): every kind of valid and invalid value.
fn epoch_from(sel: u8, last: f64, input: &mut Bytes) -> f64 {
    let step = 0.5 * f64::from(1 + (sel >> 4) % 4);
    match sel % 16 {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => 0.0,
        4 => -0.0,
        5 => -f64::from(1 + (sel >> 4)),
        6 => last,                                     // repeated
        7 => last - step,                              // decreasing
        8 => f64::from_bits(last.to_bits() + 1),       // the next float up
        9 => 1e300,                                    // far past e_pred
        10 => input.f64_bits().unwrap_or(last + step), // any bit pattern
        _ => last + step,                              // the usual case
    }
}

/// A fitness for `epoch`: mostly a noisy learning curve, sometimes anything.
fn value_from(sel: u8, epoch: f64, minimize: bool, input: &mut Bytes) -> f64 {
    let noise = f64::from(sel >> 4) * 0.3 - 2.0;
    let x = if epoch.is_finite() {
        epoch.clamp(0.0, 1e3)
    } else {
        1.0
    };
    match sel % 16 {
        0 => f64::NAN,
        1 => f64::INFINITY,
        2 => f64::NEG_INFINITY,
        3 => 1e308,
        4 => -1e308,
        5 => 0.0,
        6 => input.f64_bits().unwrap_or(50.0),
        7 => -0.0,
        _ if minimize => 0.2 + 2.0 * 0.7f64.powf(x) + noise / 50.0,
        _ => 90.0 - 80.0 * 0.7f64.powf(x) + noise,
    }
}

/// Both engines (the second exists after a fork).
struct Engines {
    main: Engine,
    fork: Option<Engine>,
}

impl Engines {
    /// The batch on the main engine and, after a fork, on the restored copy,
    /// which must answer the same bit for bit.
    fn observe_batch(
        &mut self,
        batch: &[Observation],
        losses: &[f64],
    ) -> Result<Vec<Status>, Error> {
        let got = self.main.observe_batch_with_loss(batch, Some(losses));
        if let Some(f) = &mut self.fork {
            same(
                &got,
                &f.observe_batch_with_loss(batch, Some(losses)),
                |a: &Vec<Status>, b: &Vec<Status>| same_statuses(a, b),
                "observe_batch",
            );
        }
        got
    }

    fn saved(&self) -> Vec<u8> {
        let b = to_bytes(&self.main);
        if let Some(f) = &self.fork {
            assert!(to_bytes(f) == b, "restored engine's state differs");
        }
        b
    }
}

/// What one input did (for tests that check their scripts do something).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Calls made.
    pub calls: usize,
    /// Calls that changed the engine.
    pub changes: usize,
    /// Networks that reached a final decision.
    pub finals: usize,
    /// Calls made while a restored copy ran alongside.
    pub forked_calls: usize,
    /// Networks whose final decision is a never-learner stop, at the end.
    pub never_learner_stops: usize,
    /// Networks whose final decision is a stop wholly below the select_top
    /// cutoff, at the end.
    pub below_cutoff_stops: usize,
    /// Networks whose final decision is a stop by the training budget that
    /// the paper's rule could not have made (too few observations, or an
    /// answer that is not the newest prediction), at the end.
    pub budget_stops: usize,
    /// Accepted observation calls (single or batch), judged with a shown
    /// cutoff (`select_hold_observed`); refused ones do not count.
    pub shown_cutoff_calls: usize,
    /// Networks whose final decision is a never-learner stop after
    /// `chance_wait` held them at chance (the stop was otherwise due
    /// earlier), at the end.
    pub waited_never_learner_stops: usize,
    /// Networks whose final decision is a `select_halving` stop at a rung, at
    /// the end.
    pub rung_stops: usize,
    /// Networks whose final answer is the answer floor's mean, not the
    /// newest prediction, at the end.
    pub floored_answers: usize,
    /// Accepted observations judged short of the cutoff at
    /// `select_stop_reach` < 1 but not with their whole interval, on a full
    /// window (only the share stops them).
    pub share_judgements: usize,
}

/// Runs one input. Panics when the engine disagrees with the model.
pub fn run(data: &[u8]) -> Summary {
    let mut summary = Summary::default();
    let mut input = Bytes::new(data);
    let (Some(selector), Some(extra)) = (input.u8(), input.u8()) else {
        return summary;
    };
    let config = config_for(selector, extra);
    let minimize = config.direction == Direction::Minimize;
    let mut engines = Engines {
        main: Engine::new(config.clone()).expect("fuzz configurations are valid"),
        fork: None,
    };
    let config = engines.main.config().clone();
    let mut model = Model::default();
    let mut observations = 0;

    for _ in 0..MAX_CALLS {
        let Some(tag) = input.u8() else { break };
        let before = engines.saved();
        let finals_before = finals(&model);
        let shown_before = engines.main.shown_cutoff();
        let changed = match tag % 8 {
            0..=2 => {
                if observations >= MAX_OBSERVATIONS {
                    break;
                }
                observations += 1;
                let (Some(i), Some(es), Some(vs)) = (input.u8(), input.u8(), input.u8()) else {
                    break;
                };
                let id = IDS[usize::from(i) % IDS.len()];
                let epoch = epoch_from(es, model.last_epoch(id), &mut input);
                let value = value_from(vs, epoch, minimize, &mut input);
                let loss = if uses_loss(extra) {
                    let Some(b) = input.u8() else { break };
                    loss_from(b)
                } else {
                    f64::NAN
                };
                observe(&config, &mut engines, &mut model, id, epoch, value, loss)
            }
            3 => {
                let Some(k) = input.u8() else { break };
                let mut batch = Vec::new();
                let mut losses = Vec::new();
                // Epochs continue from the model as if earlier entries were accepted.
                let mut scratch = model.clone();
                for _ in 0..k % 6 {
                    let (Some(i), Some(es), Some(vs)) = (input.u8(), input.u8(), input.u8()) else {
                        break;
                    };
                    let id = IDS[usize::from(i) % IDS.len()];
                    let epoch = epoch_from(es, scratch.last_epoch(id), &mut input);
                    let value = value_from(vs, epoch, minimize, &mut input);
                    let loss = if uses_loss(extra) {
                        input.u8().map_or(f64::NAN, loss_from)
                    } else {
                        f64::NAN
                    };
                    if config.select_top > 0 && batch.iter().any(|o: &Observation| o.id == id) {
                        continue;
                    }
                    if epoch.is_finite() && epoch > scratch.last_epoch(id) {
                        scratch.nets.entry(id).or_default().epochs.push(epoch);
                    }
                    batch.push(Observation { id, epoch, value });
                    losses.push(loss);
                }
                if observations + batch.len() > MAX_OBSERVATIONS {
                    break;
                }
                observations += batch.len();
                observe_batch(&config, &mut engines, &mut model, &batch, &losses)
            }
            4 => {
                let Some(i) = input.u8() else { break };
                let id = IDS[usize::from(i) % IDS.len()];
                let got = engines.main.status(id);
                if let Some(f) = &engines.fork {
                    same(&got, &f.status(id), same_status, "status");
                }
                match (model.nets.get(&id), got) {
                    (Some(net), Ok(s)) => {
                        let last = net.last.as_ref().expect("a tracked network has a status");
                        assert!(
                            same_status(last, &s),
                            "status changed without a call: {last:?} -> {s:?}"
                        );
                    }
                    (None, Err(e)) => assert_eq!(e.code, ErrorCode::UnknownNetwork, "{e:?}"),
                    (m, g) => panic!("status({id}): model {m:?}, engine {g:?}"),
                }
                false
            }
            5 => {
                let Some(i) = input.u8() else { break };
                let id = IDS[usize::from(i) % IDS.len()];
                let got = engines.main.forget(id);
                if let Some(f) = &mut engines.fork {
                    same(&got, &f.forget(id), |_, _| true, "forget");
                }
                match (model.nets.remove(&id), got) {
                    (Some(_), Ok(())) => true,
                    (None, Err(e)) => {
                        assert_eq!(e.code, ErrorCode::UnknownNetwork, "{e:?}");
                        false
                    }
                    (m, g) => panic!("forget({id}): model {m:?}, engine {g:?}"),
                }
            }
            6 => {
                // Save and restore; the restored engine must re-save identically
                // and from now on answer exactly as the original.
                let restored = from_bytes(&before).expect("a saved state loads");
                assert!(
                    to_bytes(&restored) == before,
                    "re-saving a restored engine changes the bytes"
                );
                assert_eq!(restored.len(), model.nets.len());
                engines.fork = if engines.fork.is_some() {
                    None
                } else {
                    Some(restored)
                };
                false
            }
            _ => {
                assert_eq!(engines.main.len(), model.nets.len(), "len()");
                assert_eq!(engines.main.is_empty(), model.nets.is_empty());
                if let Some(f) = &engines.fork {
                    assert_eq!(f.len(), model.nets.len(), "len() of the restored engine");
                }
                false
            }
        };
        summary.calls += 1;
        summary.changes += usize::from(changed);
        summary.finals += finals(&model).saturating_sub(finals_before);
        summary.forked_calls += usize::from(engines.fork.is_some());
        summary.shown_cutoff_calls +=
            usize::from(changed && tag % 8 <= 3 && shown_before.is_finite());
        let after = engines.saved();
        if !changed {
            assert!(
                before == after,
                "a call that changed nothing changed the saved state"
            );
        }
    }
    summary.never_learner_stops = model
        .nets
        .values()
        .filter(|n| {
            n.last
                .as_ref()
                .is_some_and(|s| is_never_learner(&config, n, s))
        })
        .count();
    summary.waited_never_learner_stops = model
        .nets
        .values()
        .filter(|n| {
            n.waited_at_chance
                && n.last
                    .as_ref()
                    .is_some_and(|s| is_never_learner(&config, n, s))
        })
        .count();
    summary.below_cutoff_stops = model.nets.values().filter(|n| n.below_cutoff_stop).count();
    summary.share_judgements = model.share_judgements;
    summary.budget_stops = model
        .nets
        .values()
        .filter(|n| {
            n.last.as_ref().is_some_and(|s| {
                let over = over_budget(&config, *n.epochs.last().unwrap());
                let unlike_paper = n.epochs.len() < config.n
                    || s.prediction.to_bits() != s.fit_prediction.to_bits();
                s.state == State::Converged && over && unlike_paper
            })
        })
        .count();
    fn stopped<'a>(config: &Config, n: &'a Net) -> Option<&'a Status> {
        n.last.as_ref().filter(|s| {
            s.state == State::Converged && !over_budget(config, *n.epochs.last().unwrap())
        })
    }
    summary.rung_stops = model
        .nets
        .values()
        .filter(|n| {
            stopped(&config, n)
                .is_some_and(|s| config.select_halving > 0.0 && !is_never_learner(&config, n, s))
        })
        .count();
    summary.floored_answers = model
        .nets
        .values()
        .filter(|n| {
            stopped(&config, n).is_some_and(|s| {
                config.answer_floor
                    && !is_never_learner(&config, n, s)
                    && s.prediction.to_bits() != s.fit_prediction.to_bits()
                    && recent_mean(&n.values, config.n)
                        .is_some_and(|m| m.to_bits() == s.prediction.to_bits())
            })
        })
        .count();
    summary
}

/// Notes an accepted observation `o` (with `loss`) and the status the engine
/// gave it in the model, after checking the status (against `cohort`, the
/// cutoffs the call was judged by, for `select_top`).
fn accept(
    config: &Config,
    model: &mut Model,
    o: Observation,
    loss: f64,
    s: Status,
    cohort: Cohort,
) {
    let net = model.nets.entry(o.id).or_default();
    net.epochs.push(o.epoch);
    net.values.push(o.value);
    note_loss(config, net, loss);
    if s.fit_prediction.is_nan() {
        net.predictions_in_a_row = 0;
        if config.failed_fit == FailedFit::Breaks {
            net.window_at_most = 0;
        }
    } else {
        net.predictions_in_a_row = net.predictions_in_a_row.saturating_add(1);
        net.window_at_most = net.window_at_most.saturating_add(1);
    }
    check_status(config, net, o.value, &s);
    net.waited_at_chance |= s.state == State::Continue
        && never_learner_conditions(config, net)
        && waits(config, o.epoch);
    let judged = check_rank_aware(config, net, &s, cohort);
    net.below_cutoff_stop = judged.below;
    model.share_judgements += usize::from(judged.on_share);
    net.final_ = s.state != State::Continue;
    net.last = Some(s);
}

/// A refused batch: the expected code, and a message naming entry `i`.
fn check_batch_error(i: usize, code: ErrorCode, e: &Error) {
    assert_eq!(e.code, code, "batch entry {i}: {}", e.message);
    assert!(
        e.message.starts_with(&format!("batch entry {i}:")),
        "the message names entry {i}: {}",
        e.message
    );
}

fn finals(model: &Model) -> usize {
    model.nets.values().filter(|n| n.final_).count()
}

/// One `observe` call checked against the model; whether it was accepted.
fn observe(
    config: &Config,
    engines: &mut Engines,
    model: &mut Model,
    id: u64,
    epoch: f64,
    value: f64,
    loss: f64,
) -> bool {
    let expected = model.expect(id, epoch, value);
    let cohort = model.cohort(config, &engines.main);
    let got = engines.main.observe_with_loss(id, epoch, value, loss);
    if let Some(f) = &mut engines.fork {
        let other = f.observe_with_loss(id, epoch, value, loss);
        same(&got, &other, same_status, "observe");
    }
    match (expected, got) {
        (None, Ok(s)) => {
            accept(
                config,
                model,
                Observation { id, epoch, value },
                loss,
                s,
                cohort,
            );
            true
        }
        (Some(code), Err(e)) => {
            assert_eq!(
                e.code, code,
                "observe({id}, {epoch}, {value}): {}",
                e.message
            );
            assert!(!e.message.is_empty());
            false
        }
        (x, g) => panic!("observe({id}, {epoch:e}, {value:e}): expected {x:?}, got {g:?}"),
    }
}

/// One `observe_batch` call checked against the model and against the same
/// observations made one by one on a copy of the engine; with `select_top`
/// (each id at most once per batch), against the model alone.
fn observe_batch(
    config: &Config,
    engines: &mut Engines,
    model: &mut Model,
    batch: &[Observation],
    losses: &[f64],
) -> bool {
    if config.select_top > 0 {
        return observe_batch_select_top(config, engines, model, batch, losses);
    }
    // What observing in order gives: the model predicts each entry's code, the
    // copy supplies the decisions (a final one makes the network's next entry
    // AlreadyDecided).
    let mut next = model.clone();
    let mut one_by_one = engines.main.clone();
    let mut expected = Ok(Vec::new());
    for (i, o) in batch.iter().enumerate() {
        let single = one_by_one.observe_with_loss(o.id, o.epoch, o.value, losses[i]);
        match (next.expect(o.id, o.epoch, o.value), single) {
            (None, Ok(s)) => {
                if let Ok(v) = &mut expected {
                    v.push(s.clone());
                }
                accept(config, &mut next, *o, losses[i], s, Cohort::NONE);
            }
            (Some(code), Err(e)) => {
                assert_eq!(e.code, code, "entry {i} one by one: {}", e.message);
                expected = Err((i, code));
                break;
            }
            (x, g) => panic!("batch entry {i} {o:?} one by one: expected {x:?}, got {g:?}"),
        }
    }
    let got = engines.observe_batch(batch, losses);
    match (expected, got) {
        (Ok(want), Ok(statuses)) => {
            assert_eq!(statuses.len(), batch.len(), "one status per entry");
            assert!(
                same_statuses(&want, &statuses),
                "batch {statuses:?} vs one by one {want:?}"
            );
            assert!(
                to_bytes(&one_by_one) == to_bytes(&engines.main),
                "batch and one-by-one states differ"
            );
            *model = next;
            !batch.is_empty()
        }
        (Err((i, code)), Err(e)) => {
            check_batch_error(i, code, &e);
            false
        }
        (want, got) => panic!("observe_batch({batch:?}): expected {want:?}, got {got:?}"),
    }
}

/// [`observe_batch`] with `select_top`: the entries' networks are distinct, so
/// the model alone predicts the first bad entry's code; on success every
/// status must satisfy [`check_status`]. The decisions may differ from
/// one-by-one calls (the batch's cutoff is the one at its start).
fn observe_batch_select_top(
    config: &Config,
    engines: &mut Engines,
    model: &mut Model,
    batch: &[Observation],
    losses: &[f64],
) -> bool {
    let expected = batch
        .iter()
        .enumerate()
        .find_map(|(i, o)| model.expect(o.id, o.epoch, o.value).map(|code| (i, code)));
    let cohort = model.cohort(config, &engines.main);
    let got = engines.observe_batch(batch, losses);
    match (expected, got) {
        (None, Ok(statuses)) => {
            assert_eq!(statuses.len(), batch.len(), "one status per entry");
            for ((o, s), &loss) in batch.iter().zip(statuses).zip(losses) {
                accept(config, model, *o, loss, s, cohort);
            }
            !batch.is_empty()
        }
        (Some((i, code)), Err(e)) => {
            check_batch_error(i, code, &e);
            false
        }
        (want, got) => panic!("observe_batch({batch:?}): expected {want:?}, got {got:?}"),
    }
}
